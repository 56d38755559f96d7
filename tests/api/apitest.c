/*
 * The library's calls the update agent does not make, each checked for
 * its outcome: put from a reader, get to a descriptor and to a writer,
 * copy, delete, bucket create/list/delete (force, on the client that
 * uploaded: its own leases must not get in the way), stats in the three
 * modes, and listings one key per page. Prints one "ok - " or
 * "not ok - " line per check; used by tests/e2e/45-library.sh.
 *
 *   apitest BUCKET-URL WORKDIR     s3://NEW-BUCKET or file:///NEW-DIR
 *
 * Configuration as the agent's: AGENT_ENDPOINT, AGENT_KEY, AGENT_SECRET
 * in a plain dg_config.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deltaglider.h"

#define L1 (256u << 10)          /* v2 and v3 are 100 and 200 bytes longer */

typedef struct buf {
	unsigned char *p;
	size_t len, off, cap;
} buf;

typedef struct listed {
	const char *strip;           /* the listed prefix's key: names are relative */
	char names[512];
	unsigned n, kinds[3];
	uint64_t sizes;
} listed;

static int failures;
static const char *where;        /* "s3" or "file", in every line */

static char got[512];            /* what a result was, for a failing check */

/* why: the call's error when it failed (rc < 0), else what it gave. */
static void check(const char *name, int ok, int rc, const dg_error *err)
{
	if (ok)
		printf("ok - api on %s: %s\n", where, name);
	else
		printf("not ok - api on %s: %s: %s\n", where, name,
			rc < 0 && err ? err->msg : got);
	failures += !ok;
	got[0] = 0;
}

static long read_buf(void *ctx, void *out, size_t n)
{
	buf *b = ctx;

	/* Small reads: the library must gather them. */
	if (n > 10000)
		n = 10000;
	if (n > b->len - b->off)
		n = b->len - b->off;
	memcpy(out, b->p + b->off, n);
	b->off += n;
	return (long)n;
}

static int write_buf(void *ctx, const void *p, size_t n)
{
	buf *b = ctx;

	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2;
		unsigned char *q = realloc(b->p, cap);

		if (q == NULL)
			return -1;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static int same(const buf *b, const unsigned char *want, size_t n)
{
	return b->len == n && memcmp(b->p, want, n) == 0;
}

static int list_one(void *ctx, const dg_entry *ent, dg_error *err)
{
	listed *l = ctx;
	size_t at = strlen(l->names), skip = strlen(l->strip);

	(void)err;
	if (strncmp(ent->name, l->strip, skip) == 0)
		snprintf(l->names + at, sizeof l->names - at, "%s%s", at ? " " : "", ent->name + skip);
	l->n++;
	l->kinds[ent->kind]++;
	l->sizes += ent->size;
	return 0;
}

static int bucket_seen(void *ctx, const char *name, time_t created, dg_error *err)
{
	(void)created;
	(void)err;
	if (strcmp(name, ctx) == 0)
		*(char *)ctx = 0;   /* found: the name is emptied */
	return 0;
}

/* Is the bucket of an s3:// URL in the account's list? */
static int bucket_listed(dg_client *cl, const char *url, dg_error *err)
{
	char name[256];

	snprintf(name, sizeof name, "%s", url + 5);
	if (dg_bucket_list(cl, bucket_seen, name, err) < 0)
		return -1;
	return name[0] == 0;
}

static int get_fd(dg_client *cl, const char *url, const char *work, buf *out, dg_error *err)
{
	char path[4096];
	unsigned char tmp[65536];
	ssize_t n;
	int fd, rc = -1;

	snprintf(path, sizeof path, "%s/getfd-XXXXXX", work);
	if ((fd = mkstemp(path)) < 0)
		return -1;
	unlink(path);
	if (dg_get_fd(cl, url, fd, err) == 0 && lseek(fd, 0, SEEK_SET) == 0) {
		while ((n = read(fd, tmp, sizeof tmp)) > 0)
			if (write_buf(out, tmp, (size_t)n) < 0)
				break;
		rc = n == 0 ? 0 : -1;
	}
	close(fd);
	return rc;
}

static int write_file(const char *path, const unsigned char *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		return -1;
	if (fwrite(p, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

static void config(dg_config *cfg)
{
	dg_config_init(cfg);
	cfg->endpoint_url = getenv("AGENT_ENDPOINT");
	cfg->access_key_id = getenv("AGENT_KEY");
	cfg->secret_access_key = getenv("AGENT_SECRET");
}

static void stats_got(const dg_stats *st)
{
	snprintf(got, sizeof got, "objects %llu, deltas %llu, references %llu, unknown %llu, "
		"total %llu, stored %llu", (unsigned long long)st->object_count,
		(unsigned long long)st->delta_objects, (unsigned long long)st->reference_objects,
		(unsigned long long)st->unknown_deltas, (unsigned long long)st->total_size,
		(unsigned long long)st->compressed_size);
}

static void put_got(const dg_put_result *r)
{
	snprintf(got, sizeof got, "kind %d, %llu -> %llu bytes", r->kind,
		(unsigned long long)r->size, (unsigned long long)r->stored);
}

static void list_got(const listed *l)
{
	snprintf(got, sizeof got, "%u entries (%s), sizes %llu", l->n, l->names,
		(unsigned long long)l->sizes);
}

static void stats(dg_client *cl, const char *root)
{
	dg_stats q, s, d;
	dg_error err;
	int rc;

	rc = dg_bucket_stats(cl, root, DG_STATS_QUICK, &q, &err);
	stats_got(&q);
	check("quick stats: 3 deltas of unknown size, 1 reference", rc == 0 &&
		q.object_count == 3 && q.delta_objects == 3 && q.reference_objects == 1 &&
		q.unknown_deltas == 3 && q.total_size == 0, rc, &err);
	rc = dg_bucket_stats(cl, root, DG_STATS_SAMPLED, &s, &err);
	stats_got(&s);
	check("sampled stats: the first delta's size stands for its siblings'", rc == 0 &&
		s.object_count == 3 && s.unknown_deltas == 0 && s.total_size == 3 * (uint64_t)L1, rc, &err);
	rc = dg_bucket_stats(cl, root, DG_STATS_DETAILED, &d, &err);
	stats_got(&d);
	check("detailed stats: every delta's original size", rc == 0 && d.object_count == 3 &&
		d.unknown_deltas == 0 && d.total_size == 3 * (uint64_t)L1 + 300 &&
		d.compressed_size > 0 && d.compressed_size < d.total_size, rc, &err);
}

int main(int argc, char **argv)
{
	static unsigned char v[3][L1 + 200];
	char url[3][4096], cp[4096], path[4096], appdir[4096], dir[4096];
	const char *root, *work, *top;
	uint32_t x = 2463534242u;
	dg_config cfg, paged;
	dg_put_result r = { 0 };
	dg_object_info info = { 0 };
	dg_error err = { 0 };
	dg_client *cl, *cl2;
	struct stat st;
	buf in, out = { 0 };
	listed l;
	size_t i;
	int rc;

	if (argc != 3)
		return 2;
	root = argv[1];
	work = argv[2];
	where = strncmp(root, "s3://", 5) == 0 ? "s3" : "file";
	for (i = 0; i < sizeof v[0]; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		v[0][i] = (unsigned char)x;
	}
	memcpy(v[1], v[0], sizeof v[0]);
	memcpy(v[2], v[0], sizeof v[0]);
	memcpy(v[1] + 1000, "version two", 11);
	memcpy(v[2] + 5000, "version three", 13);
	for (i = 0; i < 3; i++)
		snprintf(url[i], sizeof url[i], "%s/app/v%zu.tar", root, i + 1);
	snprintf(appdir, sizeof appdir, "%s/app/", root);
	config(&cfg);
	if ((cl = dg_client_open(&cfg, &err)) == NULL) {
		check("client", 0, -1, &err);
		return 1;
	}

	rc = dg_bucket_create(cl, root, &err);
	check("bucket create", rc == 0, rc, &err);
	if (strcmp(where, "s3") == 0) {
		rc = bucket_listed(cl, root, &err);
		check("bucket list names it", rc == 1, rc, &err);
	}

	for (i = 0; i < 2; i++) {
		in = (buf){ v[i], L1 + 100 * i, 0, 0 };
		rc = dg_put_reader(cl, url[i], read_buf, &in, &r, &err);
		put_got(&r);
		check(i ? "put from a reader: a delta" : "put from a reader: the reference",
			rc == 0 && r.kind == (i ? DG_PUT_DELTA : DG_PUT_REFERENCE) &&
			r.size == L1 + 100 * i && (i == 0 || r.stored < 10000), rc, &err);
	}
	snprintf(path, sizeof path, "%s/v3.tar", work);
	rc = write_file(path, v[2], L1 + 200) == 0 ? dg_put_path(cl, url[2], path, &r, &err) : -1;
	put_got(&r);
	check("put from a path: a delta", rc == 0 && r.kind == DG_PUT_DELTA, rc, &err);

	stats(cl, root);

	rc = dg_get_writer(cl, url[1], write_buf, &out, &err);
	check("get to a writer: v2's bytes", rc == 0 && same(&out, v[1], L1 + 100), rc, &err);
	out.len = 0;
	rc = get_fd(cl, url[2], work, &out, &err);
	check("get to a descriptor: v3's bytes", rc == 0 && same(&out, v[2], L1 + 200), rc, &err);

	snprintf(cp, sizeof cp, "%s/copy/v2.tar", root);
	rc = dg_copy_object(cl, url[1], cp, &r, &err);
	put_got(&r);
	check("copy into a new folder: its reference", rc == 0 && r.kind == DG_PUT_REFERENCE &&
		r.size == L1 + 100, rc, &err);
	out.len = 0;
	rc = dg_get_writer(cl, cp, write_buf, &out, &err);
	check("the copy has v2's bytes", rc == 0 && same(&out, v[1], L1 + 100), rc, &err);

	/* One key per page: the listing must follow the continuation. */
	paged = cfg;
	paged.page_size = 1;
	if ((cl2 = dg_client_open(&paged, &err)) == NULL) {
		check("client with page_size 1", 0, -1, &err);
		return 1;
	}
	/* Keys name the bucket's objects, or a file:// store's by their path. */
	top = strcmp(where, "s3") == 0 ? "" : root + 8;
	snprintf(dir, sizeof dir, "%s%s", top, *top ? "/" : "");
	memset(&l, 0, sizeof l);
	l.strip = dir;
	rc = dg_list_objects(cl2, appdir, 1, list_one, &l, &err);
	list_got(&l);
	check("list one key per page: three deltas, original sizes", rc == 0 && l.n == 3 &&
		l.kinds[DG_ENTRY_DELTA] == 3 && l.sizes == 3 * (uint64_t)L1 + 300 &&
		strcmp(l.names, "app/v1.tar app/v2.tar app/v3.tar") == 0, rc, &err);
	memset(&l, 0, sizeof l);
	l.strip = dir;
	snprintf(path, sizeof path, "%s/", root);
	rc = dg_list_objects(cl2, path, 0, list_one, &l, &err);
	list_got(&l);
	check("list the top one key per page: two folders", rc == 0 && l.n == 2 &&
		l.kinds[DG_ENTRY_PREFIX] == 2 && strcmp(l.names, "app/ copy/") == 0, rc, &err);
	dg_client_close(cl2);

	rc = dg_delete(cl, url[0], &err);
	check("delete v1", rc == 0, rc, &err);
	rc = dg_head(cl, url[0], &info, &err);
	snprintf(got, sizeof got, "head: %d, code %d", rc, err.code);
	check("v1 is gone", rc < 0 && err.code == DG_ENOTFOUND, 0, NULL);
	rc = dg_head(cl, url[1], &info, &err);
	snprintf(got, sizeof got, "kind %d", info.kind);
	check("v2 stays, a delta", rc == 0 && info.kind == DG_ENTRY_DELTA, rc, &err);

	rc = dg_bucket_delete(cl, root, 0, &err);
	snprintf(got, sizeof got, "it was deleted");
	check("bucket delete of a bucket with objects fails", rc < 0, 0, NULL);
	rc = dg_bucket_delete(cl, root, 1, &err);
	check("bucket delete --force on the client that uploaded", rc == 0, rc, &err);
	if (strcmp(where, "s3") == 0) {
		rc = bucket_listed(cl, root, &err);
		check("the bucket is no longer listed", rc == 0, rc, &err);
	} else {
		rc = stat(root + 7, &st) < 0 && errno == ENOENT;
		snprintf(got, sizeof got, "%s is still there", root + 7);
		check("the directory is gone", rc, 0, NULL);
	}
	dg_client_close(cl);
	free(out.p);
	return failures ? 1 : 0;
}
