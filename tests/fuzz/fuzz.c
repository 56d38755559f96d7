/*
 * libFuzzer targets for the parsers that read what others wrote: XML from
 * S3, HTTP responses, metadata (sidecars, AWS INI files), cache files and
 * VCDIFF deltas. One source; the target is chosen at compile time:
 *   -DFUZZ_XML -DFUZZ_HTTP -DFUZZ_META -DFUZZ_CACHE -DFUZZ_DELTA -DFUZZ_ARC
 */
#include "../../deltaglider.c"

static void b_ignore_pwrite(int fd, const void *p, size_t n, off_t off)
{
	if (pwrite(fd, p, n, off) < 0)
		abort();
}

static void b_ignore_truncate(int fd, off_t len)
{
	if (ftruncate(fd, len) < 0)
		abort();
}

static int fuzz_count(void *ctx, const sys_object *o, dg_error *e)
{
	(void)e;
	(*(size_t *)ctx) += strlen(o->key) + 1;
	return 0;
}

#ifdef FUZZ_XML
/* Walk every element and decode every text, as the S3 client would. */
static void fuzz_walk(const xml_node *n, int depth)
{
	xml_iter it;
	xml_node c;
	char text[256];

	xml_text(n, text, sizeof text);
	if (depth > 40)
		return;
	xml_iter_init(&it, n);
	while (xml_next(&it, &c) == 1)
		fuzz_walk(&c, depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	xml_node root;
	sys_object obj;
	char last[DG_MAX_KEY + 1] = "", last_key[DG_MAX_KEY + 1] = "";
	unsigned fresh = 0;
	size_t seen = 0;
	sys_buf json = { 0 };
	dg_error e;
	http_resp *r = calloc(1, sizeof *r);

	if (xml_root((const char *)data, size, &root) == 0) {
		fuzz_walk(&root, 0);
		s3_list_page(&root, "b", 1, 1, last, last_key, &fresh, &obj, fuzz_count, &seen, &e);
		s3_list_page(&root, "b", 0, 0, last, last_key, &fresh, &obj, fuzz_count, &seen, &e);
		s3_acl_json(&root, &json, &e);
	}
	sys_buf_free(&json);
	r->status = 500;
	s3_error_from(r, (const char *)data, size, &e);
	free(r);
	return 0;
}
#endif

#ifdef FUZZ_HTTP
/* A response already in the connection's buffer; the socket is closed. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static http_conn c;
	http_resp *r = calloc(1, sizeof *r);
	sys_buf body = { 0 };
	sys_sink sink = { sys_sink_buf_write, sys_sink_buf_reset, &body };
	int chunked, keep;
	dg_error e;

	if (size > sizeof c.rbuf)
		size = sizeof c.rbuf;
	memset(&c, 0, offsetof(http_conn, rbuf));
	c.fd = -1;
	c.timeout_ms = 1;
	memcpy(c.rbuf, data, size);
	c.rlen = size;
	if (http_read_head(&c, r, &chunked, &keep, &e) == 0) {
		http_resp_header(r, "etag");
		if (chunked)
			http_read_chunked(&c, &sink, &e);
		else if (r->content_length >= 0 && r->content_length < (1 << 20))
			http_read_body(&c, (uint64_t)r->content_length, &sink, &e);
	}
	sys_buf_free(&body);
	free(r);
	return 0;
}
#endif

#ifdef FUZZ_META
/* Sidecar JSON, DeltaGlider metadata checks, AWS INI lookups, mime.types. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fields[] = { "tool", "original-name", "file-sha256",
		"file-size", "created-at", "ref-key", "ref-sha256", "delta-size" };
	sys_meta m;
	sys_buf ini = { 0 };
	char v[256];
	dg_error e;
	time_t t;

	if (sys_json_meta((const char *)data, size, &m) == 0) {
		for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
			const char *s = dg_meta(&m, fields[i]);

			if (s)
				sys_time_parse(s, &t);
		}
		dg_check_delta_meta(&m, "k", &e);
	}
	{
		aws_creds c;
		time_t exp;

		aws_creds_json((const char *)data, size, "Token", &c, &exp, "fuzz", &e);
	}
	{
		/* /etc/mime.types, which may hold anything. */
		char *text = malloc(size + 1);
		dg_mime_table t;

		if (text) {
			memcpy(text, data, size);
			text[size] = 0;
			if (dg_mime_parse(text, size, &t) == 0)
				dg_mime_find(&t, "deb");
			free(t.e);
			free(text);
		}
	}
	{
		/* A metadata value as a server returns it (RFC 2047 words or not),
		 * decoded, then encoded again as we would send it: the same bytes. */
		char in[1024], out[SYS_META_SPACE], enc[S3_META_HDR_SPACE], back[SYS_META_SPACE];
		size_t n = size < sizeof in - 1 ? size : sizeof in - 1;

		memcpy(in, data, n);
		in[n] = 0;
		s3_rfc2047_decode(in, out, sizeof out);
		if (s3_rfc2047_encode(out, enc, sizeof enc) == 0) {
			s3_rfc2047_decode(enc, back, sizeof back);
			if (strcmp(out, back) != 0 && !strpbrk(out, "\r\n"))
				abort();
		}
	}
	{
		/* Lock object names, as a listing of a lock folder brings them:
		 * other holders' names are read, judged, and never trusted. */
		static dg_ctx g;
		sys_object o;
		dg_lock_view view = { &g, 1000, 0, 0 };

		dg_holder(&g);
		memset(&o, 0, sizeof o);
		memcpy(o.key, data, size < DG_MAX_KEY ? size : DG_MAX_KEY);
		dg_lock_seen(&view, &o, &e);
		dg_holder_dead(&g, o.key);
		sys_is_tmp_name(o.key);
		cli_rel_escapes(o.key);
	}
	sys_buf_add(&ini, data, size);
	aws_ini_get(&ini, "default", "aws_access_key_id", v, sizeof v);
	aws_ini_get(&ini, "profile dev", "s3.addressing_style", v, sizeof v);
	aws_ini_has_profile(&ini, 1, "dev");
	sys_buf_free(&ini);
	return 0;
}
#endif

#ifdef FUZZ_CACHE
/* Input: 4 bytes saying where to damage the file, then the content. The
 * entry is written properly, damaged, then read back in full. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64];
	static cache c;
	cache_writer w;
	cache_ref r;
	unsigned char d[32];
	char sha[65], path[DG_MAX_PATH];
	uint32_t at;
	dg_error e;
	int fd;

	if (size < 4)
		return 0;
	if (dir[0] == 0) {
		static sys_log quiet = { DG_LOG_ERROR + 1 };
		cache_cfg cfg = { 0, 0, dir, "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=", "/tmp" };

		snprintf(dir, sizeof dir, "/tmp/dg-fuzz-cache-%ld", (long)getpid());
		if (cache_open(&c, &cfg, &quiet, &e) < 0)
			abort();
	}
	at = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
	data += 4;
	size -= 4;
	crypto_sha256(data, size, d);
	crypto_hex(d, 32, sha);
	if (cache_put_begin(&c, sha, &w, &e) < 0)
		return 0;
	if (w.sink.write(w.sink.ctx, data, size, &e) < 0 || cache_put_commit(&w, &r, &e) < 0)
		abort();   /* writing what we were given must work */
	cache_release(&r);
	snprintf(path, sizeof path, "%s/%s.dgref", c.dir, sha);
	fd = open(path, O_RDWR);
	if (fd >= 0) {
		struct stat st;

		if (fstat(fd, &st) == 0 && st.st_size > 0) {
			unsigned char b;
			off_t off = (off_t)(at % (uint32_t)st.st_size);

			if (at & 0x80000000u) {
				b_ignore_truncate(fd, off);
			} else if (pread(fd, &b, 1, off) == 1) {
				b ^= (unsigned char)(at >> 16 | 1);
				b_ignore_pwrite(fd, &b, 1, off);
			}
		}
		close(fd);
	}
	if (cache_get(&c, sha, &r, &e) == 1) {
		/* Damage that survives authentication is a bug. */
		abort();
	}
	unlink(path);
	return 0;
}
#endif

#if defined(FUZZ_DELTA) || defined(FUZZ_ARC)
static int fuzz_capped(void *ctx, const unsigned char *p, size_t n, dg_error *e)
{
	size_t *total = ctx;

	(void)p;
	*total += n;
	return *total > (64u << 20) ? sys_fail(e, DG_EIO, "too much output") : 0;
}

#endif

#ifdef FUZZ_DELTA
/* A delta against a fixed 1 MiB source; no gzip on PATH. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char *src;
	static int fd = -1, srcfd = -1;
	static delta_src ds;
	size_t total = 0;
	sys_sink sink = { fuzz_capped, NULL, &total };
	dg_error e;

	if (src == NULL) {
		char path[] = "/tmp/dg-fuzz-delta-XXXXXX";

		src = malloc(1u << 20);
		for (size_t i = 0; i < (1u << 20); i++)
			src[i] = (unsigned char)((i * 2654435761u) >> 11);
		srcfd = mkstemp(path);
		unlink(path);
		b_ignore_pwrite(srcfd, src, 1u << 20, 0);
		ds = (delta_src){ delta_fd_read, &srcfd, 1u << 20 };
		setenv("PATH", "/nonexistent", 1);
		memcpy(path, "/tmp/dg-fuzz-delta-XXXXXX", sizeof path);
		fd = mkstemp(path);
		unlink(path);
	}
	if (ftruncate(fd, 0) < 0)
		abort();
	b_ignore_pwrite(fd, data, size, 0);
	delta_decode(&ds, fd, &sink, "/tmp", NULL, &e);
	return 0;
}
#endif

#ifdef FUZZ_ARC
typedef struct fuzz_cmp {
	const uint8_t *want;
	size_t n, at;
} fuzz_cmp;

static int fuzz_cmp_write(void *ctx, const unsigned char *p, size_t n, dg_error *e)
{
	fuzz_cmp *c = ctx;

	if (c->at + n > c->n || memcmp(c->want + c->at, p, n) != 0)
		return sys_fail(e, DG_EINTEGRITY, "rebuilt bytes differ");
	c->at += n;
	return 0;
}

static int fuzz_mem_read(void *ctx, uint64_t off, void *buf, size_t n, size_t *got, dg_error *e)
{
	const fuzz_cmp *c = ctx;

	(void)e;
	*got = off >= c->n ? 0 : (c->n - off < n ? (size_t)(c->n - off) : n);
	memcpy(buf, c->want + off, *got);
	return 0;
}

/* The input taken as an archive (gzip members, zip entries, or anything):
 * its expanded form must rebuild it exactly. Then the input taken as an
 * expanded form: the rebuild sink refuses or rebuilds, never crashes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	fuzz_cmp c = { data, size, 0 };
	delta_src in = { fuzz_mem_read, &c, size };
	delta_arc_stats st;
	sys_sink cs = { fuzz_cmp_write, NULL, &c }, rs;
	size_t total = 0;
	sys_sink capped = { fuzz_capped, NULL, &total };
	delta_rebuild rb;
	unsigned char buf[65536];
	dg_error e;

	if (fd < 0) {
		char path[] = "/tmp/dg-fuzz-arc-XXXXXX";

		fd = mkstemp(path);
		unlink(path);
	}
	if (delta_arc_probe(&in, fd, &e) < 0)
		abort();
	b_ignore_truncate(fd, 0);
	if (lseek(fd, 0, SEEK_SET) != 0 || delta_expand(&in, fd, 1, NULL, &st, NULL, NULL, &e) < 0)
		abort();
	if (delta_rebuild_init(&rb, &cs, &rs, &e) < 0)
		abort();
	for (uint64_t off = 0; off < st.expanded; ) {
		ssize_t k = pread(fd, buf, sizeof buf, (off_t)off);

		if (k <= 0 || rs.write(rs.ctx, buf, (size_t)k, &e) < 0)
			abort();
		off += (uint64_t)k;
	}
	if (delta_rebuild_end(&rb, 1, &e) < 0 || c.at != size)
		abort();
	if (delta_rebuild_init(&rb, &capped, &rs, &e) < 0)
		abort();
	if (rs.write(rs.ctx, data, size, &e) == 0)
		delta_rebuild_end(&rb, 1, &e);
	else
		delta_rebuild_end(&rb, 0, &e);
	return 0;
}
#endif
