/*
 * Unit tests: they include deltaglider.c, so every static function is in
 * reach. Each check prints "ok - name" or "not ok - name: why"; the runner
 * counts them.
 */
#include "../deltaglider.c"

#include <sys/wait.h>

static int t_failed, t_passed;

/* For results the tests deliberately ignore. */
static void b_ignore(long v)
{
	(void)v;
}

#define CHECK(name, cond) t_check((name), (cond), #cond, __LINE__)

static void t_check(const char *name, int ok, const char *expr, int line)
{
	if (ok) {
		t_passed++;
		printf("ok - %s\n", name);
	} else {
		t_failed++;
		printf("not ok - %s: %s (line %d)\n", name, expr, line);
	}
}

static void t_streq(const char *name, const char *got, const char *want)
{
	int ok = got && strcmp(got, want) == 0;

	if (ok) {
		t_passed++;
		printf("ok - %s\n", name);
	} else {
		t_failed++;
		printf("not ok - %s: got \"%s\", want \"%s\"\n", name, got ? got : "(null)", want);
	}
}

/* ---- SigV4: the four examples of AWS's "Signature Calculations for the
 * Authorization Header: Transferring Payload in a Single Chunk". */

static const aws_creds t_example_creds = {
	"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", "test"
};

static void t_sig(const char *name, const char *method, const char *uri, const char *query,
	const http_hdr *h, size_t nh, const char *payload, const char *want_creq,
	const char *want_sts, const char *want_sig)
{
	aws_sigv4 s = { method, uri, query, h, nh, payload, "us-east-1", "s3", "20130524T000000Z" };
	sys_buf authz = { 0 }, creq = { 0 }, sts = { 0 };
	char label[128];
	const char *sig;

	CHECK(name, aws_sigv4_sign(&t_example_creds, &s, &authz, &creq, &sts) == 0);
	snprintf(label, sizeof label, "%s: canonical request", name);
	t_streq(label, creq.data, want_creq);
	snprintf(label, sizeof label, "%s: string to sign", name);
	t_streq(label, sts.data, want_sts);
	sig = authz.data ? strstr(authz.data, "Signature=") : NULL;
	snprintf(label, sizeof label, "%s: signature", name);
	t_streq(label, sig ? sig + 10 : NULL, want_sig);
	sys_buf_free(&authz);
	sys_buf_free(&creq);
	sys_buf_free(&sts);
}

static void test_sigv4(void)
{
	static const char empty[] = S3_EMPTY_SHA256;
	{
		http_hdr h[] = {
			{ "Host", "examplebucket.s3.amazonaws.com" }, { "Range", "bytes=0-9 " },
			{ "x-amz-content-sha256", empty }, { "x-amz-date", " 20130524T000000Z " },
		};
		t_sig("sigv4 GET object", "GET", "/test.txt", "", h, 4, empty,
			"GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
			"x-amz-content-sha256:" S3_EMPTY_SHA256 "\nx-amz-date:20130524T000000Z\n\n"
			"host;range;x-amz-content-sha256;x-amz-date\n" S3_EMPTY_SHA256,
			"AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
			"7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
			"f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	}
	{
		const char *ph = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
		sys_buf uri = { 0 };
		char body_hash[65];
		http_hdr h[] = {
			{ "Host", "examplebucket.s3.amazonaws.com" }, { "Date", "Fri, 24 May 2013 00:00:00 GMT" },
			{ "x-amz-date", "20130524T000000Z" }, { "x-amz-storage-class", "REDUCED_REDUNDANCY" },
			{ "x-amz-content-sha256", ph },
		};

		crypto_sha256_hex("Welcome to Amazon S3.", 21, body_hash);
		t_streq("sigv4 PUT payload hash", body_hash, ph);
		sys_buf_adds(&uri, "/");
		aws_uri_encode(&uri, "test$file.text", 1);
		t_sig("sigv4 PUT object", "PUT", uri.data, "", h, 5, ph,
			"PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\n"
			"host:examplebucket.s3.amazonaws.com\nx-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
			"x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
			"date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
			"44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
			"AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
			"9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
			"98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
		sys_buf_free(&uri);
	}
	{
		http_hdr h[] = {
			{ "Host", "examplebucket.s3.amazonaws.com" }, { "x-amz-date", "20130524T000000Z" },
			{ "x-amz-content-sha256", empty },
		};
		t_sig("sigv4 GET lifecycle", "GET", "/", "lifecycle=", h, 3, empty,
			"GET\n/\nlifecycle=\nhost:examplebucket.s3.amazonaws.com\n"
			"x-amz-content-sha256:" S3_EMPTY_SHA256 "\nx-amz-date:20130524T000000Z\n\n"
			"host;x-amz-content-sha256;x-amz-date\n" S3_EMPTY_SHA256,
			"AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
			"9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca",
			"fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
		t_sig("sigv4 list objects", "GET", "/", "max-keys=2&prefix=J", h, 3, empty,
			"GET\n/\nmax-keys=2&prefix=J\nhost:examplebucket.s3.amazonaws.com\n"
			"x-amz-content-sha256:" S3_EMPTY_SHA256 "\nx-amz-date:20130524T000000Z\n\n"
			"host;x-amz-content-sha256;x-amz-date\n" S3_EMPTY_SHA256,
			"AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
			"df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7",
			"34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
	}
	{
		/* The signing key of AWS's "derive a signing key" example. */
		unsigned char k[32];
		char hex[65];
		const char *secret = "AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

		crypto_hmac_sha256(secret, strlen(secret), "20120215", 8, k);
		crypto_hmac_sha256(k, 32, "us-east-1", 9, k);
		crypto_hmac_sha256(k, 32, "iam", 3, k);
		crypto_hmac_sha256(k, 32, "aws4_request", 12, k);
		crypto_hex(k, 32, hex);
		t_streq("sigv4 signing key", hex,
			"f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
	}
}

/* ---- Presigned URLs: AWS's "Authenticating Requests: Using Query
 * Parameters" example (GET examplebucket/test.txt, valid for a day). */
static void test_presign(void)
{
	sys_buf url = { 0 };
	aws_creds token = t_example_creds;
	http_hdr disp = { "response-content-disposition", "attachment; filename=\"a b.zip\"" };
	aws_presign_req p = { "GET", "https://examplebucket.s3.amazonaws.com",
		"examplebucket.s3.amazonaws.com", "/test.txt", NULL, 0, "us-east-1", 1369353600, 86400 };

	CHECK("presign: AWS example", aws_presign(&t_example_creds, &p, &url) == 0);
	t_streq("presign: AWS example URL", url.data,
		"https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
		"&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
		"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
		"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
	/* Extra parameters and a session token are signed, sorted, encoded. */
	snprintf(token.token, sizeof token.token, "TOKEN/+=");
	p.query = &disp;
	p.nquery = 1;
	CHECK("presign: token and parameters", aws_presign(&token, &p, &url) == 0 &&
		strstr(url.data, "&X-Amz-Security-Token=TOKEN%2F%2B%3D&") != NULL &&
		strstr(url.data, "&response-content-disposition=attachment%3B%20filename%3D%22a%20b.zip%22"
			"&X-Amz-Signature=") != NULL);
	sys_buf_free(&url);
}

/* aws s3api's ACL policy JSON becomes S3's AccessControlPolicy XML. */
static void test_acl_policy(void)
{
	sys_buf x = { 0 };
	dg_error e;

	CHECK("acl policy: JSON to XML", dg_acl_policy_xml("{\"Owner\": {\"ID\": \"o1\", "
		"\"DisplayName\": \"Me & co\"}, \"Grants\": [{\"Grantee\": {\"Type\": \"CanonicalUser\", "
		"\"ID\": \"o1\"}, \"Permission\": \"FULL_CONTROL\"}, {\"Grantee\": {\"Type\": \"Group\", "
		"\"URI\": \"http://acs.amazonaws.com/groups/global/AllUsers\"}, \"Permission\": "
		"\"READ\"}]}", &x, &e) == 0);
	t_streq("acl policy: the document", x.data,
		"<AccessControlPolicy xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID>o1</ID>"
		"<DisplayName>Me &amp; co</DisplayName></Owner><AccessControlList><Grant><Grantee "
		"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">"
		"<ID>o1</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant><Grant><Grantee "
		"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\">"
		"<URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee>"
		"<Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>");
	x.len = 0;
	CHECK("acl policy: a grant without a type is refused",
		dg_acl_policy_xml("{\"Grants\": [{\"Grantee\": {\"ID\": \"x\"}, \"Permission\": \"READ\"}]}",
			&x, &e) < 0 && e.code == DG_EUSAGE);
	x.len = 0;
	CHECK("acl policy: not JSON is refused", dg_acl_policy_xml("[1, 2", &x, &e) < 0);
	sys_buf_free(&x);
}

/* The hardware SHA-256 path against BearSSL's: every length 0-300 fed
 * whole, split at every point, and byte by byte across block edges; large
 * buffers in odd pieces; the FIPS 180-2 vector. */
/* The hasher's thread, following a file as it is written: sizes around
 * the inline limit, odd pieces, a reset half-way (a retried download that
 * truncates the file), and the digest asked twice. */
static void test_hasher(void)
{
	size_t sizes[] = { 0, 1, 1000, CRYPTO_HASHER_INLINE - 1, CRYPTO_HASHER_INLINE,
		CRYPTO_HASHER_INLINE + 1, 5 * CRYPTO_HASHER_INLINE + 12345 };
	unsigned char *buf = malloc(6 * CRYPTO_HASHER_INLINE), want[32], got[32], again[32];
	crypto_hasher h;
	size_t i, off, cut, bad = 0, threads = 0, half;
	char path[] = "/tmp/dg-unit-hasher.XXXXXX";
	int fd = mkstemp(path);

	unlink(path);
	for (i = 0; i < 6 * CRYPTO_HASHER_INLINE; i++)
		buf[i] = (unsigned char)(i * 2246822519u >> 11);
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		crypto_sha256(buf, sizes[i], want);
		crypto_hasher_init(&h, fd);
		half = sizes[i] / 2 + 77 < sizes[i] ? sizes[i] / 2 + 77 : sizes[i];
		bad += pwrite(fd, buf, half, 0) != (ssize_t)half;
		crypto_hasher_update(&h, buf, half);
		bad += ftruncate(fd, 0) != 0;
		crypto_hasher_reset(&h);
		for (off = 0; off < sizes[i]; off += cut) {
			cut = 1 + (off * 7919 + 13) % 300001;
			if (cut > sizes[i] - off)
				cut = sizes[i] - off;
			bad += pwrite(fd, buf + off, cut, (off_t)off) != (ssize_t)cut;
			crypto_hasher_update(&h, buf + off, cut);
		}
		threads += h.started;
		bad += crypto_hasher_out(&h, got) != 0 || crypto_hasher_out(&h, again) != 0;
		crypto_hasher_end(&h);
		bad += memcmp(want, got, 32) != 0 || memcmp(want, again, 32) != 0;
		bad += ftruncate(fd, 0) != 0;
	}
	CHECK("sha256 hasher: every size, reset half-way, matches one pass", bad == 0);
	CHECK("sha256 hasher: files above the inline limit hash on a thread", threads == 2);
	/* A file it cannot read back: an error, never a digest. */
	crypto_hasher_init(&h, fd);
	crypto_hasher_update(&h, buf, 2 * CRYPTO_HASHER_INLINE);   /* nothing written */
	CHECK("sha256 hasher: a file shorter than reported fails", crypto_hasher_out(&h, got) < 0);
	crypto_hasher_end(&h);
	close(fd);
	free(buf);
}

static void test_sha256(void)
{
	static unsigned char buf[(1 << 20) + 300];
	crypto_sha256_blocks_fn *fast = crypto_sha256_fast();
	unsigned char want[32], got[32];
	br_sha256_context a, b;
	size_t n, cut, bad = 0, i, off;
	char hex[65];

	printf("# sha256 fast path: %s\n", fast ? "hardware" : "none (BearSSL only)");
	/* Set by the runners where the CPU has the instructions: a detection
	 * that silently fell back would otherwise pass. */
	if (getenv("DG_EXPECT_SHA_FAST") && strcmp(getenv("DG_EXPECT_SHA_FAST"), "1") == 0)
		CHECK("sha256: the CPU's SHA-256 instructions are used", fast != NULL);
	for (i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 13);
	for (n = 0; n <= 300; n++) {
		br_sha256_init(&a);
		br_sha256_update(&a, buf + 1, n);
		br_sha256_out(&a, want);
		for (cut = 0; cut <= n; cut++) {
			br_sha256_init(&b);
			crypto_sha256_update(&b, buf + 1, cut);
			crypto_sha256_update(&b, buf + 1 + cut, n - cut);
			br_sha256_out(&b, got);
			bad += memcmp(want, got, 32) != 0;
		}
		crypto_sha256(buf + 1, n, got);
		bad += memcmp(want, got, 32) != 0;
	}
	CHECK("sha256: lengths 0-300, every split, match BearSSL", bad == 0);
	bad = 0;
	for (n = (1 << 20) - 7; n < sizeof buf; n += 97) {
		br_sha256_init(&a);
		br_sha256_update(&a, buf, n);
		br_sha256_out(&a, want);
		br_sha256_init(&b);
		for (off = 0; off < n; off += cut) {
			cut = 1 + (off * 7919 + 13) % 70001;
			if (cut > n - off)
				cut = n - off;
			crypto_sha256_update(&b, buf + off, cut);
		}
		br_sha256_out(&b, got);
		bad += memcmp(want, got, 32) != 0;
	}
	CHECK("sha256: 1 MiB buffers in odd pieces match BearSSL", bad == 0);
	test_hasher();
	crypto_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	CHECK("sha256: FIPS 180-2 two-block vector",
		strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0);
	if (fast) {
		uint32_t s1[8], s2[8];

		br_sha256_init(&a);
		memcpy(s1, a.val, sizeof s1);
		memcpy(s2, a.val, sizeof s2);
		fast(s1, buf, 1000);
		br_sha256_update(&a, buf, 64000);
		CHECK("sha256: the fast function alone, 1000 blocks", memcmp(s1, a.val, sizeof s1) == 0);
		fast(s2, buf, 0);
		br_sha256_init(&a);
		CHECK("sha256: zero blocks leave the state", memcmp(s2, a.val, sizeof s2) == 0);
	}
}

static void test_uri_encode(void)
{
	sys_buf b = { 0 };

	aws_uri_encode(&b, "a b/c~d_e-f.g+h&i=j%k\xc3\xa9", 1);
	t_streq("uri encode key", b.data, "a%20b/c~d_e-f.g%2Bh%26i%3Dj%25k%C3%A9");
	b.len = 0;
	aws_uri_encode(&b, "a/b", 0);
	t_streq("uri encode query value", b.data, "a%2Fb");
	sys_buf_free(&b);
}

/* ---- XML scanner */

static void test_xml(void)
{
	static const char list[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Name>b</Name><Prefix></Prefix><IsTruncated>false</IsTruncated>"
		"<Contents><Key>a &amp; b&#x20;&lt;c&gt;&#233;</Key><Size>12</Size>"
		"<LastModified>2025-09-21T12:00:00.000Z</LastModified><ETag>&quot;x&quot;</ETag></Contents>"
		"<!-- comment --><Contents><Key><![CDATA[raw <&> key]]></Key><Size>0</Size></Contents>"
		"<CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes>"
		"</ListBucketResult>";
	xml_node root, child;
	xml_iter it;
	char text[128];
	int n = 0, r;

	CHECK("xml root", xml_root(list, strlen(list), &root) == 0 && xml_is(&root, "ListBucketResult"));
	CHECK("xml child text", xml_child_text(&root, "IsTruncated", text, sizeof text) == 1 &&
		strcmp(text, "false") == 0);
	CHECK("xml empty element", xml_child_text(&root, "Prefix", text, sizeof text) == 1 && text[0] == 0);
	CHECK("xml absent child", xml_child_text(&root, "NextContinuationToken", text, sizeof text) == 0);
	xml_iter_init(&it, &root);
	while ((r = xml_next(&it, &child)) == 1) {
		if (!xml_is(&child, "Contents"))
			continue;
		if (n++ == 0) {
			CHECK("xml entities", xml_child_text(&child, "Key", text, sizeof text) == 1);
			t_streq("xml entity decoding", text, "a & b <c>\xc3\xa9");
			CHECK("xml quot", xml_child_text(&child, "ETag", text, sizeof text) == 1 &&
				strcmp(text, "\"x\"") == 0);
		} else {
			CHECK("xml cdata", xml_child_text(&child, "Key", text, sizeof text) == 1);
			t_streq("xml cdata text", text, "raw <&> key");
		}
	}
	CHECK("xml iteration", r == 0 && n == 2);
	CHECK("xml text too small", xml_child_text(&root, "Name", text, 1) == -1);

	{
		static const char *const bad[] = {
			"", "<a>", "<a></b>", "<a><b></a></b>", "<a>x</a><b/>", "text",
			"<a>&bogus;</a>", "<a x=\"1></a>", "<a><!-- x </a>", "<a><![CDATA[x</a>",
			"<a></a >junk", "<a/><a/>",
		};
		size_t i;
		int all = 1;

		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			xml_node rt, c;
			char t[32];
			int rr = xml_root(bad[i], strlen(bad[i]), &rt);

			if (rr == 0 && xml_text(&rt, t, sizeof t) == 0 && xml_child(&rt, "b", &c) >= 0) {
				printf("# accepted malformed xml: %s\n", bad[i]);
				all = 0;
			}
		}
		CHECK("xml rejects malformed documents", all);
	}
	{
		/* Nesting deeper than the limit is refused, not recursed into. */
		sys_buf deep = { 0 };
		xml_node rt;
		int i;

		for (i = 0; i < 100; i++)
			sys_buf_adds(&deep, "<a>");
		for (i = 0; i < 100; i++)
			sys_buf_adds(&deep, "</a>");
		CHECK("xml depth limit", xml_root(deep.data, deep.len, &rt) < 0);
		sys_buf_free(&deep);
	}
	{
		static const char err[] = "<Error><Code>NoSuchKey</Code><Message>The specified key "
			"does not exist.</Message><Key>k</Key></Error>";
		http_resp *r = calloc(1, sizeof *r);
		dg_error e;

		r->status = 404;
		s3_error_from(r, err, strlen(err), &e);
		t_streq("s3 error line", e.msg, "NoSuchKey: The specified key does not exist.");
		CHECK("s3 404 is not found", e.code == DG_ENOTFOUND && strcmp(e.s3code, "NoSuchKey") == 0);
		r->status = 403;
		s3_error_from(r, "", 0, &e);
		t_streq("s3 HEAD 403 line", e.msg, "Forbidden (HTTP 403)");
		free(r);
	}
	{
		sys_buf b = { 0 };

		xml_escape(&b, "a<b>&\"'\x01");
		t_streq("xml escape", b.data, "a&lt;b&gt;&amp;\"'&#1;");
		sys_buf_free(&b);
	}
}

/* ---- HTTP response parsing, over a socketpair fed with canned bytes. */

typedef struct t_peer {
	http_conn *c;
	int other;
} t_peer;

static void t_peer_open(t_peer *p, const char *bytes, size_t n)
{
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	p->c = calloc(1, sizeof *p->c);
	p->c->fd = sv[0];
	p->c->timeout_ms = 2000;
	snprintf(p->c->host, sizeof p->c->host, "peer");
	p->other = sv[1];
	if (n)
		write(sv[1], bytes, n);
	shutdown(sv[1], SHUT_WR);
}

static void t_peer_close(t_peer *p)
{
	close(p->c->fd);
	close(p->other);
	free(p->c);
}

static int t_parse(const char *bytes, http_resp *resp, sys_buf *body, dg_error *e)
{
	t_peer p;
	int chunked, keep, rc;
	sys_sink sink = { sys_sink_buf_write, sys_sink_buf_reset, body };

	t_peer_open(&p, bytes, strlen(bytes));
	rc = http_read_head(p.c, resp, &chunked, &keep, e);
	if (rc == 0) {
		if (chunked)
			rc = http_read_chunked(p.c, &sink, e);
		else if (resp->content_length >= 0)
			rc = http_read_body(p.c, (uint64_t)resp->content_length, &sink, e);
	}
	t_peer_close(&p);
	return rc;
}

static void test_http_parse(void)
{
	http_resp *r = calloc(1, sizeof *r);
	sys_buf body = { 0 };
	dg_error e;

	CHECK("http content-length", t_parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
		"ETag: \"abc\"\r\nX-Amz-Meta-Dg-Tool:  deltaglider/1 \r\n\r\nhello", r, &body, &e) == 0);
	CHECK("http status", r->status == 200);
	CHECK("http body", body.len == 5 && memcmp(body.data, "hello", 5) == 0);
	t_streq("http header lookup is case-insensitive", http_resp_header(r, "ETAG"), "\"abc\"");
	t_streq("http header value trimmed", http_resp_header(r, "x-amz-meta-dg-tool"), "deltaglider/1");

	body.len = 0;
	CHECK("http chunked", t_parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n", r, &body, &e) == 0);
	CHECK("http chunked body", body.len == 12 && memcmp(body.data, "hello, world", 12) == 0);

	body.len = 0;
	CHECK("http bare LF lines", t_parse("HTTP/1.0 404 Not Found\nContent-Length: 0\n\n", r,
		&body, &e) == 0 && r->status == 404);

	CHECK("http truncated body fails", t_parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
		"short", r, &body, &e) < 0 && strstr(e.msg, "truncated"));
	CHECK("http bad status line fails", t_parse("HTTP/2 200\r\n\r\n", r, &body, &e) < 0 &&
		strstr(e.msg, "bad status line"));
	CHECK("http garbage fails", t_parse("\x16\x03\x01 garbage\r\n\r\n", r, &body, &e) < 0 &&
		strstr(e.msg, "bad status line"));
	CHECK("http empty reply fails", t_parse("", r, &body, &e) < 0 &&
		strstr(e.msg, "closed before"));
	CHECK("http bad content-length fails", t_parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		r, &body, &e) < 0);
	CHECK("http bad chunk fails", t_parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"zz\r\n", r, &body, &e) < 0 && strstr(e.msg, "chunk"));
	CHECK("http header without colon fails", t_parse("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", r,
		&body, &e) < 0);
	CHECK("http conflicting content-lengths fail", t_parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
		"Content-Length: 6\r\n\r\nhello!", r, &body, &e) < 0 && strstr(e.msg, "conflicting"));
	body.len = 0;
	CHECK("http repeated equal content-lengths pass", t_parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
		"Content-Length: 5\r\n\r\nhello", r, &body, &e) == 0 && body.len == 5);
	body.len = 0;
	CHECK("http transfer-encoding overrides a length", t_parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
		"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", r, &body, &e) == 0 &&
		body.len == 5 && r->content_length == -1);
	{
		/* A document beyond SYS_DOC_MAX is refused, not held. */
		sys_buf doc = { 0 };
		unsigned char chunk[65536] = { 0 };
		size_t i;
		int rc = 0;

		for (i = 0; rc == 0 && i <= SYS_DOC_MAX / sizeof chunk; i++)
			rc = sys_sink_buf_write(&doc, chunk, sizeof chunk, &e);
		CHECK("http documents are capped", rc < 0 && doc.len == SYS_DOC_MAX &&
			strstr(e.msg, "larger than"));
		sys_buf_free(&doc);
	}
	sys_buf_free(&body);
	http_resp_free(r);
	free(r);
}

/* The request side: what http_send_body puts on the wire, chunked and not. */
static void test_http_send_body(void)
{
	char path[] = "/tmp/dg-unit-XXXXXX", wire[256];
	int fd = mkstemp(path);
	t_peer p;
	http_body b = { NULL, fd, 2, 0, 1 };
	dg_error e;
	ssize_t n;

	write(fd, "xxhello world", 13);
	t_peer_open(&p, NULL, 0);
	CHECK("chunked request body", http_send_body(p.c, NULL, &b, &e) == 0);
	shutdown(p.c->fd, SHUT_WR);
	n = read(p.other, wire, sizeof wire - 1);
	wire[n > 0 ? n : 0] = 0;
	t_streq("chunked request framing", wire, "b\r\nhello world\r\n0\r\n\r\n");
	t_peer_close(&p);

	t_peer_open(&p, NULL, 0);
	b = (http_body){ NULL, fd, 2, 5, 0 };
	CHECK("file range request body", http_send_body(p.c, NULL, &b, &e) == 0);
	shutdown(p.c->fd, SHUT_WR);
	n = read(p.other, wire, sizeof wire - 1);
	wire[n > 0 ? n : 0] = 0;
	t_streq("file range bytes", wire, "hello");
	t_peer_close(&p);
	close(fd);
	unlink(path);
}

/* ---- Configuration files and resolution */

static void t_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static void test_config(void)
{
	char dir[] = "/tmp/dg-unit-cfg-XXXXXX", creds[256], conf[256];
	aws_opts o = { .getenv = getenv };
	aws_config *cfg = calloc(1, sizeof *cfg);
	dg_error e;
	sys_buf ini = { 0 };
	char v[64];

	mkdtemp(dir);
	snprintf(creds, sizeof creds, "%s/credentials", dir);
	snprintf(conf, sizeof conf, "%s/config", dir);
	t_write(creds, "# comment\n[default]\naws_access_key_id = AKDEFAULT\n"
		"aws_secret_access_key=SECRETDEFAULT\n\n[dev]\naws_access_key_id = AKDEV\n"
		"aws_secret_access_key = SECRETDEV\naws_session_token = TOKENDEV\n");
	t_write(conf, "[default]\nregion = eu-west-1\ns3 =\n  addressing_style = path\n"
		"  multipart_threshold = 16MB\n\n[profile dev]\nregion=ap-south-1\n"
		"endpoint_url = https://minio.example:9000/base/\n"
		"[profile other]\naws_access_key_id = AKOTHER\naws_secret_access_key = SOTHER\n");
	setenv("AWS_SHARED_CREDENTIALS_FILE", creds, 1);
	setenv("AWS_CONFIG_FILE", conf, 1);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_S3");
	unsetenv("AWS_CA_BUNDLE");
	unsetenv("AWS_MAX_ATTEMPTS");

	sys_read_file(conf, 4096, &ini, &e);
	CHECK("ini nested key", aws_ini_get(&ini, "default", "s3.addressing_style", v, sizeof v) == 1 &&
		strcmp(v, "path") == 0);
	CHECK("ini key without spaces", aws_ini_get(&ini, "profile dev", "region", v, sizeof v) == 1 &&
		strcmp(v, "ap-south-1") == 0);
	CHECK("ini nested key is not top-level", aws_ini_get(&ini, "default", "addressing_style", v,
		sizeof v) == 0);
	sys_buf_free(&ini);

	CHECK("config default profile", aws_config_load(cfg, &o, &e) == 0);
	t_streq("config default key", cfg->creds.access_key, "AKDEFAULT");
	t_streq("config default region", cfg->region, "eu-west-1");
	CHECK("config path style", cfg->addressing == AWS_ADDR_PATH);
	CHECK("config multipart threshold", cfg->mp_threshold == 16u << 20);
	t_streq("config AWS endpoint", cfg->endpoint_host, "s3.eu-west-1.amazonaws.com");

	o.profile = "dev";
	CHECK("config --profile", aws_config_load(cfg, &o, &e) == 0);
	t_streq("config profile key", cfg->creds.access_key, "AKDEV");
	t_streq("config profile token", cfg->creds.token, "TOKENDEV");
	t_streq("config profile region", cfg->region, "ap-south-1");
	t_streq("config endpoint host", cfg->endpoint_host, "minio.example");
	CHECK("config endpoint port", cfg->endpoint_port == 9000 && cfg->endpoint_tls);
	t_streq("config endpoint path", cfg->endpoint_path, "/base");

	o.profile = "other";
	CHECK("config keys from config file", aws_config_load(cfg, &o, &e) == 0 &&
		strcmp(cfg->creds.access_key, "AKOTHER") == 0);

	setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SECRETENV", 1);
	setenv("AWS_REGION", "us-west-2", 1);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000", 1);
	o.profile = NULL;
	CHECK("config env", aws_config_load(cfg, &o, &e) == 0);
	t_streq("config env key wins", cfg->creds.access_key, "AKENV");
	t_streq("config env region", cfg->region, "us-west-2");
	CHECK("config env endpoint", cfg->endpoint_port == 9000 && !cfg->endpoint_tls);
	o.profile = "dev";
	o.region = "ca-central-1";
	CHECK("config --profile ignores env keys", aws_config_load(cfg, &o, &e) == 0 &&
		strcmp(cfg->creds.access_key, "AKDEV") == 0);
	t_streq("config --region wins", cfg->region, "ca-central-1");
	o.profile = "missing";
	CHECK("config unknown profile fails", aws_config_load(cfg, &o, &e) < 0 &&
		strstr(e.msg, "missing"));
	o.profile = NULL;
	o.endpoint = "ftp://x";
	CHECK("config bad endpoint fails", aws_config_load(cfg, &o, &e) < 0);
	o.endpoint = "https://[::1]:8443";
	CHECK("config IPv6 endpoint", aws_config_load(cfg, &o, &e) == 0 &&
		strcmp(cfg->endpoint_host, "::1") == 0 && cfg->endpoint_port == 8443);
	setenv("AWS_MAX_ATTEMPTS", "0", 1);
	CHECK("config bad max attempts fails", aws_config_load(cfg, &o, &e) < 0);
	unsetenv("AWS_MAX_ATTEMPTS");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_REGION");
	unsetenv("AWS_ENDPOINT_URL");
	unlink(creds);
	unlink(conf);
	rmdir(dir);
	free(cfg);
}

/* ---- Small utilities */

/* Files and keys that must never be taken for what they look like. */
static void test_names(void)
{
	CHECK("temp file names are recognised", sys_is_tmp_name(".app.zip.dg-Ab12Cd") &&
		sys_is_tmp_name(".x.dg-123456"));
	CHECK("other dot files are not", !sys_is_tmp_name(".hidden") && !sys_is_tmp_name("app.dg-Ab12Cd") &&
		!sys_is_tmp_name(".dg-Ab12Cd") && !sys_is_tmp_name(".a.dg-Ab12C"));
	CHECK("keys that climb out", cli_rel_escapes("..") && cli_rel_escapes("../x") &&
		cli_rel_escapes("a/../../x") && cli_rel_escapes("a/..") && cli_rel_escapes("a//../b"));
	CHECK("keys that stay in", !cli_rel_escapes("a/b") && !cli_rel_escapes("..a/b") &&
		!cli_rel_escapes("a/..b") && !cli_rel_escapes("/abs") && !cli_rel_escapes("./a") &&
		!cli_rel_escapes("a/.../b"));
}

static int t_file_is(const char *path, const char *text)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	return strcmp(buf, text) == 0;
}

/* Two writers judged one sidecar stale; the first took it away and linked
 * its own (with its data) before the second acts: the second must leave
 * the first's sidecar in place. And a winner of the data whose sidecar
 * was taken meanwhile puts its own back. */
static void test_file_unstale(const char *dir)
{
	char path[4200], side[4200], mine[4200];
	struct stat stale;
	dg_error e;
	struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };

	snprintf(path, sizeof path, "%s/q/ref", dir);
	snprintf(side, sizeof side, "%s/q/.ref.dgmeta", dir);
	snprintf(mine, sizeof mine, "%s/q/.ref.dgmeta.dg-mine00", dir);
	sys_mkdirs(path, 0777, &e);
	rmdir(path);
	t_write(side, "{\"dead\":\"writer\"}");
	utimensat(AT_FDCWD, side, old, 0);
	lstat(side, &stale);   /* the second writer's judgement */
	/* The first writer: takes the stale one, links its own and its data. */
	rename(side, mine);
	unlink(mine);
	t_write(side, "{\"first\":\"writer\"}");
	t_write(path, "data");
	store_file_unstale(side, &stale);
	CHECK("a sidecar taken as stale by a second writer is the first's, put back",
		t_file_is(side, "{\"first\":\"writer\"}"));
	store_file_unstale(side, &stale);
	CHECK("and again", t_file_is(side, "{\"first\":\"writer\"}"));
	unlink(path);
	/* The judged file itself goes. */
	t_write(side, "{}");
	utimensat(AT_FDCWD, side, old, 0);
	lstat(side, &stale);
	store_file_unstale(side, &stale);
	CHECK("a stale sidecar is taken away", access(side, F_OK) < 0 && errno == ENOENT);
	/* Our data went in while our sidecar was away, and a third writer's
	 * sidecar stands: ours replaces it. */
	t_write(mine, "{\"ours\":\"1\"}");
	t_write(side, "{\"third\":\"writer\"}");
	CHECK("the data's winner puts its sidecar back", store_file_own_side(side, mine, &e) == 0 &&
		t_file_is(side, "{\"ours\":\"1\"}"));
	t_write(mine, "{\"ours\":\"2\"}");
	unlink(side);
	CHECK("over no sidecar too", store_file_own_side(side, mine, &e) == 0 &&
		t_file_is(side, "{\"ours\":\"2\"}"));
	link(side, mine);
	CHECK("its own stays as it is", store_file_own_side(side, mine, &e) == 0 &&
		t_file_is(side, "{\"ours\":\"2\"}") && access(mine, F_OK) == 0);
	unlink(mine);
}

/* file:// creates: link() never replaces, the loser sees DG_EEXIST and
 * changes nothing, a stale sidecar does not block forever. */
static void test_file_create(void)
{
	char dir[] = "/tmp/dg-unit-store-XXXXXX", side[4200], cmd[4200];
	sys_meta m, got;
	store s;
	dg_error e;
	struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };

	if (mkdtemp(dir) == NULL)
		return;
	store_open_file(&s, dir, 022);
	sys_meta_init(&m);
	sys_meta_set(&m, "dg-file-sha256", "first");
	CHECK("file create", s.ops->put_mem(&s, "p/ref", "one", 3, &m, STORE_IF_ABSENT, &e) == 0);
	sys_meta_set(&m, "dg-file-sha256", "second");
	CHECK("second create loses", s.ops->put_mem(&s, "p/ref", "two", 3, &m, STORE_IF_ABSENT, &e) < 0 &&
		e.code == DG_EEXIST);
	CHECK("the first stands", s.ops->head(&s, "p/ref", NULL, &got, &e) == 0 &&
		strcmp(sys_meta_get(&got, "dg-file-sha256"), "first") == 0);
	CHECK("a plain put replaces", s.ops->put_mem(&s, "p/ref", "two", 3, &m, 0, &e) == 0);
	CHECK("delete", s.ops->del(&s, "p/ref", &e) == 0);
	/* A sidecar whose data never came, long ago: a creator died. */
	snprintf(side, sizeof side, "%s/p/.ref.dgmeta", dir);
	{
		FILE *f = fopen(side, "w");

		if (f)
			fputs("{}", f), fclose(f);
	}
	CHECK("a fresh lone sidecar blocks a create", s.ops->put_mem(&s, "p/ref", "x", 1, &m,
		STORE_IF_ABSENT, &e) < 0 && e.code == DG_EEXIST);
	utimensat(AT_FDCWD, side, old, 0);
	CHECK("a stale one does not", s.ops->put_mem(&s, "p/ref", "x", 1, &m, STORE_IF_ABSENT, &e) == 0 &&
		s.ops->head(&s, "p/ref", NULL, &got, &e) == 0 &&
		strcmp(sys_meta_get(&got, "dg-file-sha256"), "second") == 0);
	test_file_unstale(dir);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	b_ignore(system(cmd));
}

static void test_utils(void)
{
	char out[64];
	time_t t;
	uint64_t v;
	unsigned char bin[32];
	size_t n;

	sys_human_size(0, out); t_streq("human 0", out, "0 Bytes");
	sys_human_size(1, out); t_streq("human 1", out, "1 Byte");
	sys_human_size(1023, out); t_streq("human 1023", out, "1023 Bytes");
	sys_human_size(1024, out); t_streq("human 1 KiB", out, "1.0 KiB");
	sys_human_size(1258291, out); t_streq("human 1.2 MiB", out, "1.2 MiB");
	sys_human_size(1048575, out); t_streq("human rounds up a unit", out, "1.0 MiB");
	CHECK("time iso Z", sys_time_parse("2025-09-21T12:00:00.123456Z", &t) == 0 && t == 1758456000);
	CHECK("time iso naive", sys_time_parse("2025-09-21T12:00:00.123456", &t) == 0 && t == 1758456000);
	CHECK("time iso no fraction", sys_time_parse("2025-09-21T12:00:00Z", &t) == 0 && t == 1758456000);
	CHECK("time rfc1123", sys_time_parse("Sun, 21 Sep 2025 12:00:00 GMT", &t) == 0 && t == 1758456000);
	CHECK("time garbage", sys_time_parse("yesterday", &t) < 0);
	CHECK("size 8MB", sys_parse_size("8MB", &v) == 0 && v == 8u << 20);
	CHECK("size 64 MiB", sys_parse_size("64 MiB", &v) == 0 && v == 64u << 20);
	CHECK("size plain", sys_parse_size("1048576", &v) == 0 && v == 1048576);
	CHECK("size bad", sys_parse_size("8XB", &v) < 0);
	CHECK("u64 overflow", sys_parse_u64("99999999999999999999", &v) < 0);
	crypto_b64_encode((const unsigned char *)"hello!?", 7, out);
	t_streq("base64", out, "aGVsbG8hPw==");
	(void)bin;
	(void)n;
}

/* ---- Metadata, names, JSON */

/* Non-ASCII metadata values go out as RFC 2047 words and come back
 * decoded, whether the server decoded them (AWS) or kept them (RGW). */
static void test_rfc2047(void)
{
	char big[400], out[SYS_META_SPACE], space[S3_META_HDR_SPACE], words[1024], *w, *save = NULL;
	http_hdr hdrs[SYS_META_MAX];
	sys_meta m;
	size_t n, i;
	int ok = 1;

	sys_meta_init(&m);
	sys_meta_set(&m, "dg-original-name", "app-1.zip");
	sys_meta_set(&m, "dg-ref-key", "caf\xc3\xa9/\xc3\xbcn\xc3\xaf/reference.bin");
	sys_meta_set(&m, "note", "=?UTF-8?B?looks encoded?=");
	n = s3_meta_headers(&m, hdrs, space, sizeof space);
	CHECK("rfc2047: every header is sent", n == 3);
	CHECK("rfc2047: ASCII goes as it is", strcmp(hdrs[0].value, "app-1.zip") == 0);
	CHECK("rfc2047: UTF-8 goes as a B word",
		strcmp(hdrs[1].value, "=?UTF-8?B?Y2Fmw6kvw7xuw68vcmVmZXJlbmNlLmJpbg==?=") == 0);
	s3_rfc2047_decode(hdrs[1].value, out, sizeof out);
	CHECK("rfc2047: and decodes back", strcmp(out, m.value[1]) == 0);
	s3_rfc2047_decode(hdrs[2].value, out, sizeof out);
	CHECK("rfc2047: a value that looks encoded is encoded, so it comes back as it was",
		strcmp(out, "=?UTF-8?B?looks encoded?=") == 0);
	for (i = 0; i < 60; i++)   /* characters of 1, 2 and 3 bytes */
		memcpy(big + 6 * i, "a\xc3\xa9\xe2\x82\xac", 6);
	big[6 * i] = 0;
	sys_meta_init(&m);
	sys_meta_set(&m, "dg-original-name", big);
	n = s3_meta_headers(&m, hdrs, space, sizeof space);
	s3_rfc2047_decode(hdrs[0].value, out, sizeof out);
	CHECK("rfc2047: a long value round-trips", n == 1 && strcmp(out, big) == 0);
	sys_strlcpy(words, hdrs[0].value, sizeof words);
	for (w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char one[128];
		size_t len = strlen(w), k;

		ok &= len <= 75;
		s3_rfc2047_decode(w, one, sizeof one);
		for (k = 0; one[k]; k++)   /* each word holds whole characters */
			if (((unsigned char)one[k] & 0xc0) == 0xc0) {
				size_t need = ((unsigned char)one[k] & 0xe0) == 0xc0 ? 1 : 2;

				for (size_t j = 1; j <= need; j++)
					ok &= ((unsigned char)one[k + j] & 0xc0) == 0x80;
			}
		ok &= ((unsigned char)one[0] & 0xc0) != 0x80;
	}
	CHECK("rfc2047: words of at most 75 columns, never splitting a character", ok);
	s3_rfc2047_decode("=?utf-8?Q?caf=C3=A9_cr=C3=A8me?=", out, sizeof out);
	CHECK("rfc2047: Q words, as AWS may return", strcmp(out, "caf\xc3\xa9 cr\xc3\xa8me") == 0);
	s3_rfc2047_decode("=?UTF-8?B?YQ==?= =?UTF-8?B?Yg==?=", out, sizeof out);
	CHECK("rfc2047: white space between words is dropped", strcmp(out, "ab") == 0);
	s3_rfc2047_decode("plain =?UTF-8?B?YQ==?=", out, sizeof out);
	CHECK("rfc2047: a value not wholly encoded stays as it came",
		strcmp(out, "plain =?UTF-8?B?YQ==?=") == 0);
	s3_rfc2047_decode("=?ISO-8859-1?Q?caf=E9?=", out, sizeof out);
	CHECK("rfc2047: other charsets stay as they came", strcmp(out, "=?ISO-8859-1?Q?caf=E9?=") == 0);
	s3_rfc2047_decode("=?UTF-8?B?YQ0KYg==?=", out, sizeof out);
	CHECK("rfc2047: a decoded line break is refused (kept encoded)",
		strcmp(out, "=?UTF-8?B?YQ0KYg==?=") == 0);
	s3_rfc2047_decode("=?UTF-8?B?!!!?=", out, sizeof out);
	CHECK("rfc2047: bad base64 stays as it came", strcmp(out, "=?UTF-8?B?!!!?=") == 0);
}

static void test_metadata(void)
{
	sys_meta m;
	const char *spell[][2] = {
		{ "dg-file-sha256", "a" }, { "dg_file_sha256", "b" }, { "file_sha256", "c" },
		{ "file-sha256", "d" },
	};
	size_t i;

	for (i = 0; i < 4; i++) {
		char name[64];

		sys_meta_init(&m);
		sys_meta_set(&m, spell[i][0], spell[i][1]);
		snprintf(name, sizeof name, "metadata spelling %s", spell[i][0]);
		t_streq(name, dg_meta(&m, "file-sha256"), spell[i][1]);
	}
	sys_meta_init(&m);
	sys_meta_set(&m, "file-sha256", "late");
	sys_meta_set(&m, "dg-file-sha256", "");
	sys_meta_set(&m, "dg_file_sha256", "first");
	t_streq("first non-empty spelling wins", dg_meta(&m, "file-sha256"), "first");
	sys_meta_init(&m);
	sys_meta_set(&m, "tool", "x");
	sys_meta_set(&m, "note", "y");
	/* One-word fields have one bare spelling. */
	CHECK("bare tool and note", strcmp(dg_meta(&m, "tool"), "x") == 0 && strcmp(dg_meta(&m, "note"), "y") == 0);
	sys_meta_set(&m, "Dg-Ref-Key", "p/reference.bin");
	t_streq("metadata names are case-insensitive", dg_meta(&m, "ref-key"), "p/reference.bin");
	CHECK("metadata rejects line breaks", sys_meta_set(&m, "k", "a\r\nb") < 0);

	CHECK("eligible .tar.gz", dg_delta_eligible("App-1.0.TAR.GZ"));
	CHECK("eligible .jar", dg_delta_eligible("lib.jar"));
	CHECK("eligible .deb", dg_delta_eligible("pkg_1.0_amd64.deb"));
	CHECK("not eligible .txt", !dg_delta_eligible("notes.txt"));
	CHECK("not eligible .zipx", !dg_delta_eligible("a.zipx"));

	{
		char prefix[64];
		const char *name;

		dg_split("releases/v1/app.zip", prefix, sizeof prefix, &name);
		CHECK("split key", strcmp(prefix, "releases/v1/") == 0 && strcmp(name, "app.zip") == 0);
		dg_split("app.zip", prefix, sizeof prefix, &name);
		CHECK("split root key", prefix[0] == 0 && strcmp(name, "app.zip") == 0);
	}
	{
		static const char js[] = "{\"k\":\"v\",\"k2\":\"v, 2\"}";
		dg_error e;

		sys_meta_init(&m);
		CHECK("--metadata as JSON", dg_user_meta(js, &m, &e) == 0 && m.n == 2 &&
			strcmp(sys_meta_get(&m, "k2"), "v, 2") == 0);
	}
}

/* /etc/mime.types as Python's mimetypes reads it, whatever it holds. */
static void test_mime(void)
{
	static const char file[] = "# comment\n"
		"application/x-a\ta  b # c\n"
		"#application/x-c c\n"
		"application/x-b b\r\n"
		"bad\x01type d\n"
		"application/x-e\te\x7f f\n"
		"application/x-g " "gggggggggggggggggggggggggggggggggggg g\n"
		"notype e\n"
		"application/x-h\v\fh";
	char *text = malloc(sizeof file);
	dg_mime_table t;

	memcpy(text, file, sizeof file);
	CHECK("mime.types parses", dg_mime_parse(text, sizeof file - 1, &t) == 0);
	t_streq("a type", dg_mime_find(&t, "a"), "application/x-a");
	t_streq("the last line on an extension wins", dg_mime_find(&t, "b"), "application/x-b");
	CHECK("a # word ends the line", dg_mime_find(&t, "c") == NULL);
	CHECK("a type with control bytes is dropped", dg_mime_find(&t, "d") == NULL);
	CHECK("so is an extension", dg_mime_find(&t, "e\x7f") == NULL);
	t_streq("not its line", dg_mime_find(&t, "f"), "application/x-e");
	CHECK("an overlong extension is dropped", dg_mime_find(&t, "gggggggggggggggggggggggggggggggggggg") == NULL);
	t_streq("not its line's others", dg_mime_find(&t, "g"), "application/x-g");
	CHECK("a type needs a slash", dg_mime_find(&t, "e") == NULL);
	t_streq("any blank separates, the last line needs no newline", dg_mime_find(&t, "H"),
		"application/x-h");
	free(t.e);
	free(t.text);
	{
		dg_mime_types m = { .lock = PTHREAD_MUTEX_INITIALIZER };

		t_streq(".tgz is .tar.gz", dg_mime_type(&m, "dir.x/a.tgz"), "application/x-tar");
		CHECK("a bare .gz has none", dg_mime_type(&m, "a.gz") == NULL);
		CHECK("a dotfile has no extension", dg_mime_type(&m, ".txt") == NULL);
		t_streq("an extension in any case", dg_mime_type(&m, "a.TXT"), "text/plain");
		dg_mime_free(&m);
	}
}

static void test_json(void)
{
	sys_buf b = { 0 };
	sys_meta m;
	const char *v;

	sys_json_escape(&b, "q\"b\\s\n\x01\xc3\xa9");
	t_streq("json escape", b.data, "\"q\\\"b\\\\s\\u000a\\u0001\xc3\xa9\"");
	sys_buf_free(&b);
	{
		static const char js[] = "{\"dg-original-name\":\"a\\u00e9\\ud83d\\ude00\\/\\\"x\\\"\","
			"\"dg-file-size\":\"12\"}";
		CHECK("sidecar parses", sys_json_meta(js, strlen(js), &m) == 0);
		v = sys_meta_get(&m, "dg-original-name");
		t_streq("json unescape", v, "a\xc3\xa9\xf0\x9f\x98\x80/\"x\"");
	}
	{
		static const char *const bad[] = { "", "[]", "{\"a\":1}", "{\"a\":\"b\"", "{\"a\"}",
			"{\"a\":\"\\q\"}", "{\"a\":\"\\u12\"}", "{\"a\":{\"b\":\"c\"}}", "\"x\"" };
		int all = 1;

		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
			if (sys_json_meta(bad[i], strlen(bad[i]), &m) == 0) {
				printf("# accepted bad sidecar: %s\n", bad[i]);
				all = 0;
			}
		CHECK("malformed sidecars are refused", all);
	}
}

/* ---- Delta engine: round trips through xdelta3 in memory */

typedef struct t_mem {
	const unsigned char *p;
	size_t n;
} t_mem;

static int t_mem_read(void *ctx, uint64_t off, void *buf, size_t n, size_t *got, dg_error *e)
{
	t_mem *m = ctx;

	(void)e;
	if (off >= m->n) {
		*got = 0;
		return 0;
	}
	if (n > m->n - off)
		n = m->n - (size_t)off;
	memcpy(buf, m->p + off, n);
	*got = n;
	return 0;
}

static int t_tmpfd(void)
{
	char path[] = "/tmp/dg-unit-XXXXXX";
	int fd = mkstemp(path);

	unlink(path);
	return fd;
}

static int t_buf_write_fd(int fd, const void *p, size_t n)
{
	return pwrite(fd, p, n, 0) == (ssize_t)n ? 0 : -1;
}

static void test_delta(void)
{
	size_t n = 3u << 20, i;
	unsigned char *src = malloc(n), *tgt = malloc(n + 100);
	t_mem sm = { src, n };
	delta_src ds = { t_mem_read, &sm, n };
	delta_opts o = { "t.bin", "reference.bin", 64u << 20, 1, DG_DEFAULT_LEVEL, 0,
		NULL, NULL };
	delta_result r;
	sys_buf out = { 0 };
	sys_sink sink = { sys_sink_buf_write, sys_sink_buf_reset, &out };
	unsigned char d[32];
	dg_error e;
	int tfd = t_tmpfd(), dfd = t_tmpfd();

	for (i = 0; i < n; i++)
		src[i] = (unsigned char)((i * 2654435761u) >> 13);
	memcpy(tgt, src, 1000000);
	memcpy(tgt + 1000000, "new bytes in the middle", 23);
	memcpy(tgt + 1000023, src + 1000000, n - 1000000);
	t_buf_write_fd(tfd, tgt, n + 23);

	CHECK("delta encode", delta_encode(&ds, tfd, dfd, &o, &r, &e) == 0);
	CHECK("delta is small", r.delta_size > 0 && r.delta_size < 2000);
	CHECK("target size counted", r.target_size == n + 23);
	crypto_sha256(tgt, n + 23, d);
	CHECK("target hashed in the same pass", memcmp(d, r.target_sha, 32) == 0);
	CHECK("delta decode", delta_decode(&ds, dfd, &sink, "/tmp", NULL, &e) == 0);
	CHECK("decode is byte-identical", out.len == n + 23 && memcmp(out.data, tgt, out.len) == 0);

	{
		/* Flip one byte in the middle of the delta: the decode must fail. */
		unsigned char b;
		off_t at = (off_t)r.delta_size / 2;

		pread(dfd, &b, 1, at);
		b ^= 0x55;
		pwrite(dfd, &b, 1, at);
		out.len = 0;
		CHECK("corrupt delta is refused", delta_decode(&ds, dfd, &sink, "/tmp", NULL, &e) < 0 ||
			out.len != n + 23 || memcmp(out.data, tgt, out.len) != 0);
	}
	{
		/* A truncated delta is refused. */
		int cut = t_tmpfd();
		unsigned char *all = malloc(r.delta_size);

		b_ignore(pread(dfd, all, r.delta_size, 0));
		pwrite(cut, all, r.delta_size - 10, 0);
		out.len = 0;
		CHECK("truncated delta is refused", delta_decode(&ds, cut, &sink, "/tmp", NULL, &e) < 0);
		free(all);
		close(cut);
	}
	{
		/* Empty target, and an empty input that is no VCDIFF at all. */
		int et = t_tmpfd(), ed = t_tmpfd(), junk = t_tmpfd();

		CHECK("empty target encodes", delta_encode(&ds, et, ed, &o, &r, &e) == 0);
		out.len = 0;
		CHECK("empty target decodes", delta_decode(&ds, ed, &sink, "/tmp", NULL, &e) == 0 && out.len == 0);
		CHECK("empty input is refused", delta_decode(&ds, junk, &sink, "/tmp", NULL, &e) < 0 &&
			strstr(e.msg, "no VCDIFF header"));
		t_buf_write_fd(junk, "not a delta at all", 18);
		CHECK("garbage is refused", delta_decode(&ds, junk, &sink, "/tmp", NULL, &e) < 0 &&
			strstr(e.msg, "corrupt delta"));
		close(et);
		close(ed);
		close(junk);
	}
	close(tfd);
	close(dfd);
	sys_buf_free(&out);
	free(src);
	free(tgt);
	/* gzip ("G" deltas) is looked for where the caller says, not on PATH. */
	{
		char sh[DG_MAX_PATH];

		CHECK("programs are looked for on the default path",
			delta_find_program(NULL, "sh", sh, sizeof sh) == 0 && sys_ends_with_ci(sh, "/sh"));
		CHECK("and on the caller's alone", delta_find_program("/nonexistent", "sh", sh,
			sizeof sh) < 0);
	}
}

/* ---- Archive-aware deltas: expanded forms and their rebuild */

/* Raw deflate of in with zlib at level and memLevel; a sync flush in the
 * middle (split) makes a stream no plain deflate call reproduces. */
static size_t t_deflate(const unsigned char *in, size_t n, int level, int mem, int split,
	unsigned char *out, size_t cap)
{
	z_stream z;

	memset(&z, 0, sizeof z);
	deflateInit2(&z, level, Z_DEFLATED, -15, mem, Z_DEFAULT_STRATEGY);
	z.next_out = out;
	z.avail_out = (uInt)cap;
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)(split ? n / 2 : n);
	if (split) {
		deflate(&z, Z_SYNC_FLUSH);
		z.avail_in = (uInt)(n - n / 2);
	}
	deflate(&z, Z_FINISH);
	deflateEnd(&z);
	return cap - z.avail_out;
}

static void t_le(unsigned char *p, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* A zip member: local header, name, data; flags 8 adds a descriptor. */
static size_t t_zip_member(unsigned char *p, const char *name, int method, int flags,
	const unsigned char *data, size_t csize, size_t usize)
{
	size_t nl = strlen(name), at = 30 + nl;

	memset(p, 0, 30);
	memcpy(p, "PK\3\4", 4);
	t_le(p + 4, 20, 2);
	t_le(p + 6, (uint32_t)flags, 2);
	t_le(p + 8, (uint32_t)method, 2);
	t_le(p + 18, flags & 8 ? 0 : (uint32_t)csize, 4);
	t_le(p + 22, flags & 8 ? 0 : (uint32_t)usize, 4);
	t_le(p + 26, (uint32_t)nl, 2);
	memcpy(p + 30, name, nl);
	memcpy(p + at, data, csize);
	at += csize;
	if (flags & 8) {
		memcpy(p + at, "PK\7\10", 4);
		t_le(p + at + 4, 0x12345678, 4);
		t_le(p + at + 8, (uint32_t)csize, 4);
		t_le(p + at + 12, (uint32_t)usize, 4);
		at += 16;
	}
	return at;
}

/* expand(file) then rebuild must give the file back, byte for byte. */
static int t_arc_roundtrip(const unsigned char *file, size_t n, delta_arc_stats *st)
{
	t_mem fm = { file, n };
	delta_src fs = { t_mem_read, &fm, n };
	sys_buf out = { 0 };
	sys_sink bs = { sys_sink_buf_write, sys_sink_buf_reset, &out }, rs;
	delta_rebuild rb;
	unsigned char *x;
	dg_error e;
	int fd = t_tmpfd(), ok = 0;
	struct stat sb;

	if (delta_expand(&fs, fd, 1, NULL, st, NULL, NULL, &e) < 0 || fstat(fd, &sb) < 0 ||
		(uint64_t)sb.st_size != st->expanded)
		goto done;
	x = malloc((size_t)sb.st_size);
	b_ignore(pread(fd, x, (size_t)sb.st_size, 0));
	delta_rebuild_init(&rb, &bs, &rs, &e);
	/* Fed in odd pieces, as a decoder's windows come. */
	for (size_t at = 0; at < (size_t)sb.st_size; at += 7777) {
		size_t k = (size_t)sb.st_size - at < 7777 ? (size_t)sb.st_size - at : 7777;

		if (rs.write(rs.ctx, x + at, k, &e) < 0)
			break;
	}
	ok = delta_rebuild_end(&rb, 1, &e) == 0 && out.len == n && memcmp(out.data, file, n) == 0;
	free(x);
done:
	close(fd);
	sys_buf_free(&out);
	return ok;
}

static void test_archive(void)
{
	size_t tn = 300000, cap = 2u << 20, n = 0, c;
	unsigned char *text = malloc(tn), *file = malloc(cap), *z = malloc(cap);
	uint32_t x = 7;
	delta_arc_stats st;
	int levels_ok = 1;

	for (size_t i = 0; i < tn; i++)
		text[i] = (unsigned char)"the quick brown fox jumps\n"[((x = x * 1103515245u + 12345u) >> 16) % 26];
	/* gzip members (multi-member, as Alpine's .apk) at every level with
	 * zlib's memLevel, and the likely levels with memLevel 9 (the search
	 * stops within its budget before the unlikely ones): each is found
	 * and regenerated. */
	for (int level = 1; level <= 9; level++)
		for (int mem = 8; mem <= 9; mem++) {
			if (mem == 9 && level != 1 && level != 6 && level != 9)
				continue;
			static const unsigned char gz[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };

			n = 0;
			memcpy(file, gz, 10);
			n += 10;
			c = t_deflate(text, tn, level, mem, 0, file + n, cap - n);
			n += c;
			memset(file + n, 0xab, 8);       /* CRC and size: raw bytes to us */
			n += 8;
			memcpy(file + n, gz, 10);
			n += 10;
			n += t_deflate(text + 1000, 5000, level, mem, 0, file + n, cap - n);
			memset(file + n, 0xcd, 8);
			n += 8;
			if (!t_arc_roundtrip(file, n, &st) || st.streams != 2 || st.exact != 2) {
				printf("# level %d memLevel %d: %d streams, %d regenerated\n", level, mem,
					(int)st.streams, (int)st.exact);
				levels_ok = 0;
			}
		}
	CHECK("archive: gzip members at levels 1-9 (memLevel 8), 1, 6, 9 (memLevel 9) regenerated",
		levels_ok);
	{
		/* The probe: a gzip zlib made passes, one it did not make fails
		 * (a sync flush inside: no plain deflate call emits it), and
		 * what is not a gzip is not judged. */
		static const unsigned char gz[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
		t_mem fm = { file, 0 };
		delta_src fs = { t_mem_read, &fm, 0 };
		dg_error e;
		int fd = t_tmpfd();

		memcpy(file, gz, 10);
		fm.n = fs.size = 10 + t_deflate(text, tn, 9, 8, 0, file + 10, cap - 10);
		CHECK("archive: the probe passes zlib's gzip", delta_arc_probe(&fs, fd, &e) == 1);
		fm.n = fs.size = 10 + t_deflate(text, tn, 6, 8, 1, file + 10, cap - 10);
		CHECK("archive: the probe fails another deflater's", delta_arc_probe(&fs, fd, &e) == 0);
		fm.p = text;
		fm.n = fs.size = tn;
		CHECK("archive: the probe does not judge what is no archive",
			delta_arc_probe(&fs, fd, &e) == 1 && lseek(fd, 0, SEEK_END) == 0);
		{
			/* A zip is judged by its first large entry: small ones come
			 * first (zlib's), then one of 256 KiB or more. */
			size_t bn = 700000, zn = 0, c2;
			unsigned char *big = malloc(bn), *zip = malloc(2 * bn), *zz = malloc(2 * bn);

			for (size_t i = 0; i < bn; i++)
				big[i] = (unsigned char)(33 + (((x = x * 1103515245u + 12345u) >> 16) & 63));
			c2 = t_deflate(text, 5000, 6, 8, 0, zz, 2 * bn);
			zn += t_zip_member(zip + zn, "small.txt", 8, 0, zz, c2, 5000);
			c2 = t_deflate(big, bn, 6, 8, 1, zz, 2 * bn);
			zn += t_zip_member(zip + zn, "big.bin", 8, 0, zz, c2, bn);
			fm.p = zip;
			fm.n = fs.size = zn;
			CHECK("archive: the probe fails a zip whose large entry is another deflater's",
				c2 >= (256u << 10) && delta_arc_probe(&fs, fd, &e) == 0);
			zn = t_zip_member(zip, "small.txt", 8, 0, zz, 0, 0);
			c2 = t_deflate(big, bn, 9, 8, 0, zz, 2 * bn);
			zn += t_zip_member(zip + zn, "big.bin", 8, 0, zz, c2, bn);
			fm.n = fs.size = zn;
			CHECK("archive: and passes one whose large entry is zlib's",
				delta_arc_probe(&fs, fd, &e) == 1);
			free(big);
			free(zip);
			free(zz);
		}
		fm.p = file;
		close(fd);
	}

	/* A zip: deflated members, a stored one, one with a data descriptor,
	 * one that no plain deflate call makes (a sync flush inside), and a
	 * central directory. */
	n = 0;
	c = t_deflate(text, 100000, 9, 8, 0, z, cap);
	n += t_zip_member(file + n, "a.txt", 8, 0, z, c, 100000);
	n += t_zip_member(file + n, "stored.txt", 0, 0, text, 5000, 5000);
	c = t_deflate(text + 7, 50000, 9, 8, 0, z, cap);
	n += t_zip_member(file + n, "desc.txt", 8, 8, z, c, 50000);
	c = t_deflate(text + 11, 80000, 6, 8, 1, z, cap);
	n += t_zip_member(file + n, "flushed.txt", 8, 0, z, c, 80000);
	c = t_deflate(text + 3, 0, 9, 8, 0, z, cap);
	n += t_zip_member(file + n, "empty.txt", 8, 0, z, c, 0);
	memcpy(file + n, "PK\1\2 central directory, as raw bytes", 37);
	n += 37;
	CHECK("archive: a zip is rebuilt byte for byte", t_arc_roundtrip(file, n, &st));
	CHECK("archive: its four deflated members inflated, three regenerated",
		st.streams == 4 && st.exact == 3);
	CHECK("archive: the expanded form holds the contents", st.expanded > 155000);

	/* As a reference (a delta's source): its bytes, then the contents of
	 * its streams, whose hashes a target then finds: unchanged streams
	 * stay as they are. */
	{
		t_mem fm = { file, n };
		delta_src fs = { t_mem_read, &fm, n };
		delta_arc_known known = { NULL, 0, 0 };
		delta_arc_stats rs;
		unsigned char *back = malloc(n);
		dg_error e;
		int fd = t_tmpfd(), tfd = t_tmpfd();
		struct stat sb;

		CHECK("archive: a reference expands",
			delta_expand(&fs, fd, 0, &known, &rs, NULL, NULL, &e) == 0 && fstat(fd, &sb) == 0);
		CHECK("archive: the source is the reference's bytes, then its contents",
			pread(fd, back, n, 0) == (ssize_t)n && memcmp(back, file, n) == 0 &&
			(uint64_t)sb.st_size == n + 100000 + 50000 + 80000 + 0 && rs.streams == 4);
		CHECK("archive: its four streams are known", known.n == 4);
		CHECK("archive: against itself, every stream is unchanged",
			delta_expand(&fs, tfd, 1, &known, &rs, NULL, NULL, &e) == 0 && rs.same == 4 &&
			rs.exact == 0);
		file[200] ^= 1;                      /* inside a.txt's deflate data */
		CHECK("archive: a changed stream is not",
			delta_expand(&fs, tfd, 1, &known, &rs, NULL, NULL, &e) == 0 && rs.same == 3);
		file[200] ^= 1;
		free(known.hash);
		free(back);
		close(fd);
		close(tfd);
	}

	/* Not archives at all, or cut short: all raw, still rebuilt. */
	CHECK("archive: text is one raw segment", t_arc_roundtrip(text, tn, &st) && st.streams == 0);
	CHECK("archive: a cut gzip stays raw", t_arc_roundtrip(file, 20000, &st));
	{
		static const unsigned char gz[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };

		memcpy(file, gz, 10);
		n = 10 + t_deflate(text, tn, 6, 8, 0, file + 10, cap - 10);
		file[10 + 40] ^= 0x10;           /* a flipped bit: not a stream, or another one */
		CHECK("archive: a gzip with a flipped bit round-trips", t_arc_roundtrip(file, n, &st));
	}

	/* A corrupt expanded form is refused, never turned into bytes silently. */
	{
		sys_buf out = { 0 };
		sys_sink bs = { sys_sink_buf_write, sys_sink_buf_reset, &out }, rs;
		delta_rebuild rb;
		unsigned char form[64] = "DGAX\0\0\0\1Z\12\10\17\0";
		dg_error e;

		delta_rebuild_init(&rb, &bs, &rs, &e);
		CHECK("archive: a level of 10 is refused",
			rs.write(rs.ctx, form, 8 + 13, &e) < 0 && strstr(e.msg, "bad segment header"));
		delta_rebuild_end(&rb, 0, &e);
		delta_rebuild_init(&rb, &bs, &rs, &e);
		CHECK("archive: no magic, refused",
			rs.write(rs.ctx, (const unsigned char *)"PK\3\4 not an expanded form", 20, &e) < 0);
		delta_rebuild_end(&rb, 0, &e);
		delta_rebuild_init(&rb, &bs, &rs, &e);
		memcpy(form + 8, "R\0\0\0\0\5\0\0\0\0\0\0\0hello", 18);
		CHECK("archive: cut short before its end, refused",
			rs.write(rs.ctx, form, 8 + 18, &e) == 0 && delta_rebuild_end(&rb, 1, &e) < 0 &&
			strstr(e.msg, "cut short"));
		delta_rebuild_init(&rb, &bs, &rs, &e);
		memcpy(form + 26, "E\0\0\0\0\0\0\0\0\0\0\0\0x", 14);
		CHECK("archive: bytes after the end, refused", rs.write(rs.ctx, form, 8 + 18 + 14, &e) < 0);
		delta_rebuild_end(&rb, 0, &e);
		sys_buf_free(&out);
	}
	free(text);
	free(file);
	free(z);
}

/* ---- Reference cache: encrypted round trip, tampering, memory LRU */

/* The pre-encode estimate: compressed data that matches little is
 * hopeless; the same data shifted and patched, or text, is not. */
static void test_hopeless(void)
{
	size_t n = 1u << 20, i;
	unsigned char *ref = malloc(n), *tgt = malloc(n + 4096);
	t_mem sm = { ref, n };
	delta_src ds = { t_mem_read, &sm, n };
	uint64_t limit = n / 2, est = 0;
	uint32_t x = 12345;
	dg_error e;
	int fd;

	for (i = 0; i < n; i++)
		ref[i] = (unsigned char)((x = x * 1103515245u + 12345u) >> 23);
	/* A new release: 3 KiB inserted near the start, patches every 100 KiB. */
	memcpy(tgt, ref, 5000);
	for (i = 0; i < 3072; i++)
		tgt[5000 + i] = (unsigned char)((x = x * 1103515245u + 12345u) >> 23);
	memcpy(tgt + 8072, ref + 5000, n - 5000);
	for (i = 100000; i < n; i += 100000)
		tgt[i] ^= 0x5a;
	fd = t_tmpfd();
	t_buf_write_fd(fd, tgt, n + 3072);
	CHECK("hopeless: a patched, shifted random file is worth encoding",
		delta_hopeless(&ds, fd, n + 3072, limit, &est, &e) == 0);
	close(fd);
	for (i = 0; i < n; i++)
		tgt[i] = (unsigned char)((x = x * 1103515245u + 12345u) >> 23);
	fd = t_tmpfd();
	t_buf_write_fd(fd, tgt, n);
	CHECK("hopeless: unrelated random data is not",
		delta_hopeless(&ds, fd, n, limit, &est, &e) == 1);
	CHECK("hopeless: and its delta is estimated at about the whole file",
		est > n - n / 20 && est <= n);
	CHECK("hopeless: unless the limit allows the whole file",
		delta_hopeless(&ds, fd, n, n + 1, &est, &e) == 0);
	close(fd);
	for (i = 0; i < n; i++)
		tgt[i] = (unsigned char)"etaoin shrdlu\n"[(x = x * 1103515245u + 12345u) >> 28 & 7];
	fd = t_tmpfd();
	t_buf_write_fd(fd, tgt, n);
	CHECK("hopeless: unrelated text is left to the encoder (it compresses)",
		delta_hopeless(&ds, fd, n, limit, &est, &e) == 0);
	close(fd);
	free(ref);
	free(tgt);
}

/* The memory budget of parallel work: a take waits while others hold
 * what it needs; a take above the total gets the total. */
static void *t_budget_holder(void *arg)
{
	dg_budget *b = arg;
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	dg_budget_give(b, 80);
	return NULL;
}

static void test_budget(void)
{
	dg_budget b = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 100, 0 };
	pthread_t t;
	int64_t start;
	uint64_t got;

	CHECK("budget: a take within the total", dg_budget_take(&b, 80) == 80 && b.used == 80);
	pthread_create(&t, NULL, t_budget_holder, &b);
	start = sys_now_ms();
	got = dg_budget_take(&b, 50);
	CHECK("budget: a take that does not fit waits for a give", got == 50 &&
		sys_now_ms() - start >= 90);
	pthread_join(t, NULL);
	dg_budget_give(&b, got);
	CHECK("budget: a take above the total gets the total", dg_budget_take(&b, 500) == 100);
	dg_budget_give(&b, 100);
	CHECK("budget: all given back", b.used == 0);
	CHECK("budget: none (sequential core) takes nothing", dg_budget_take(NULL, 5) == 0);
}

static void test_cache(void)
{
	char dir[] = "/tmp/dg-unit-cache-XXXXXX", sha[65], path[4200];
	unsigned char key[32], buf[200000], back[200000], d[32];
	char key_b64[64];
	cache c;
	cache_cfg cfg = { 0, 100, dir, key_b64, "/tmp" };
	cache_writer w;
	cache_ref r;
	sys_log lg = { DG_LOG_ERROR };
	dg_error e;
	size_t got, i;

	mkdtemp(dir);
	memset(key, 7, sizeof key);
	crypto_b64_encode(key, 32, key_b64);
	for (i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 31 + (i >> 8));
	crypto_sha256(buf, sizeof buf, d);
	crypto_hex(d, 32, sha);

	CHECK("cache opens", cache_open(&c, &cfg, &lg, &e) == 0);
	CHECK("cache miss", cache_get(&c, sha, &r, &e) == 0);
	CHECK("cache put", cache_put_begin(&c, sha, &w, &e) == 0 &&
		w.sink.write(w.sink.ctx, buf, 100000, &e) == 0 &&
		w.sink.write(w.sink.ctx, buf + 100000, sizeof buf - 100000, &e) == 0 &&
		cache_put_commit(&w, &r, &e) == 0);
	cache_release(&r);
	CHECK("cache hit", cache_get(&c, sha, &r, &e) == 1 && r.src.size == sizeof buf);
	CHECK("cache reads across chunks", r.src.read(r.src.ctx, 60000, back, 80000, &got, &e) == 0 &&
		got == 80000 && memcmp(back, buf + 60000, 80000) == 0);
	CHECK("cache reads to the end", r.src.read(r.src.ctx, sizeof buf - 10, back, 100, &got, &e) == 0 &&
		got == 10);
	cache_release(&r);
	snprintf(path, sizeof path, "%s/refs/%s.dgref", dir, sha);
	{
		int fd = open(path, O_RDONLY);
		unsigned char probe[64];

		CHECK("cache file is not plaintext", fd >= 0 && pread(fd, probe, 64, 64) == 64 &&
			memcmp(probe, buf, 64) != 0);
		close(fd);
	}
	{
		/* Flip a byte: the entry fails authentication and is deleted. */
		int fd = open(path, O_RDWR);
		unsigned char b;

		pread(fd, &b, 1, 70000);
		b ^= 1;
		pwrite(fd, &b, 1, 70000);
		close(fd);
		CHECK("tampered entry is a miss", cache_get(&c, sha, &r, &e) == 0);
		CHECK("tampered entry is deleted", access(path, F_OK) < 0);
	}
	{
		/* Content that does not hash to the announced SHA-256 is refused. */
		char wrong[65];

		memset(wrong, 'a', 64);
		wrong[64] = 0;
		CHECK("hash mismatch at commit", cache_put_begin(&c, wrong, &w, &e) == 0 &&
			w.sink.write(w.sink.ctx, buf, 1000, &e) == 0 && cache_put_commit(&w, &r, &e) < 0 &&
			e.code == DG_EINTEGRITY);
	}
	{
		/* A truncated entry (last chunk cut off) is refused. */
		CHECK("re-put", cache_put_begin(&c, sha, &w, &e) == 0 &&
			w.sink.write(w.sink.ctx, buf, sizeof buf, &e) == 0 && cache_put_commit(&w, &r, &e) == 0);
		cache_release(&r);
		CHECK("truncate", truncate(path, 64 + 65536 + 16) == 0);
		CHECK("truncated entry is a miss", cache_get(&c, sha, &r, &e) == 0);
	}
	CHECK("bad sha refused", cache_get(&c, "zz", &r, &e) < 0);
	cache_close(&c);

	/* Another key cannot read what this one wrote. */
	{
		cache c2;
		cache_cfg cfg2 = cfg;
		char other[64];

		memset(key, 9, sizeof key);
		crypto_b64_encode(key, 32, other);
		cfg2.key_b64 = key_b64;
		CHECK("cache reopens", cache_open(&c, &cfg, &lg, &e) == 0 &&
			cache_put_begin(&c, sha, &w, &e) == 0 &&
			w.sink.write(w.sink.ctx, buf, sizeof buf, &e) == 0 && cache_put_commit(&w, &r, &e) == 0);
		cache_release(&r);
		cache_close(&c);
		cfg2.key_b64 = other;
		CHECK("other key: miss", cache_open(&c2, &cfg2, &lg, &e) == 0 && cache_get(&c2, sha, &r, &e) == 0);
		cache_close(&c2);
	}

	/* Memory backend: LRU eviction by size. */
	{
		cache_cfg mc = { 1, 1, NULL, NULL, "/tmp" };   /* 1 MiB */
		unsigned char big[400000];
		char shas[3][65];

		CHECK("memory cache opens", cache_open(&c, &mc, &lg, &e) == 0);
		for (i = 0; i < 3; i++) {
			memset(big, (int)i + 1, sizeof big);
			crypto_sha256(big, sizeof big, d);
			crypto_hex(d, 32, shas[i]);
			CHECK("memory put", cache_put_begin(&c, shas[i], &w, &e) == 0 &&
				w.sink.write(w.sink.ctx, big, sizeof big, &e) == 0 &&
				cache_put_commit(&w, &r, &e) == 0);
			cache_release(&r);
			if (i == 1) {   /* touch the first: the second becomes least recent */
				CHECK("memory hit", cache_get(&c, shas[0], &r, &e) == 1);
				cache_release(&r);
			}
		}
		CHECK("memory LRU kept the recent", cache_get(&c, shas[0], &r, &e) == 1);
		cache_release(&r);
		CHECK("memory LRU evicted the least recent", cache_get(&c, shas[1], &r, &e) == 0);
		CHECK("memory LRU kept the newest", cache_get(&c, shas[2], &r, &e) == 1);
		cache_release(&r);
		CHECK("memory within its limit", c.mem_used <= c.mem_limit);
		cache_close(&c);
	}
	/* A directory that is not ours, or not a directory: bypassed, and the
	 * entries live in anonymous files, kept (LRU) up to CACHE_ANON_MAX. */
	{
		char link[4200], shas[CACHE_ANON_MAX + 2][65];
		cache_cfg bc = cfg;
		unsigned char v[3000];

		snprintf(link, sizeof link, "%s-link", dir);
		b_ignore(symlink("/tmp", link));
		bc.dir = link;
		CHECK("bypass: opens", cache_open(&c, &bc, &lg, &e) == 0);
		for (i = 0; i < CACHE_ANON_MAX + 2; i++) {
			memset(v, (int)i, sizeof v);
			crypto_sha256(v, sizeof v, d);
			crypto_hex(d, 32, shas[i]);
			CHECK("bypass: put", cache_put_begin(&c, shas[i], &w, &e) == 0 &&
				w.sink.write(w.sink.ctx, v, sizeof v, &e) == 0 &&
				cache_put_commit(&w, &r, &e) == 0 && r.src.size == sizeof v);
			cache_release(&r);
		}
		CHECK("bypass: the symlinked directory was refused", c.bypass && c.dir_fd < 0);
		CHECK("bypass: the newest is kept", cache_get(&c, shas[CACHE_ANON_MAX + 1], &r, &e) == 1 &&
			r.src.read(r.src.ctx, 0, back, sizeof v, &got, &e) == 0 && got == sizeof v &&
			back[0] == CACHE_ANON_MAX + 1);
		cache_release(&r);
		CHECK("bypass: the oldest was let go", cache_get(&c, shas[0], &r, &e) == 0);
		cache_close(&c);
		unlink(link);
	}
	snprintf(path, sizeof path, "rm -rf %s", dir);
	b_ignore(system(path));
}

/* ---- Proxies: URLs and NO_PROXY */

static void test_proxy(void)
{
	http_cfg cfg;
	http_proxy p;
	dg_error e;

	memset(&cfg, 0, sizeof cfg);
	CHECK("proxy with auth", http_proxy_parse("http://us%40er:p%3Ass@proxy.corp:3128/", &p, &e) == 0 &&
		strcmp(p.host, "proxy.corp") == 0 && p.port == 3128);
	t_streq("proxy basic auth", p.auth, "Basic dXNAZXI6cDpzcw==");   /* us@er:p:ss */
	CHECK("proxy without scheme", http_proxy_parse("10.0.0.1", &p, &e) == 0 && p.port == 80 &&
		p.auth[0] == 0);
	CHECK("proxy IPv6", http_proxy_parse("http://[::1]:8080", &p, &e) == 0 &&
		strcmp(p.host, "::1") == 0 && p.port == 8080);
	CHECK("TLS proxy refused", http_proxy_parse("https://p:1", &p, &e) < 0);
	CHECK("bad proxy port", http_proxy_parse("http://p:99999", &p, &e) < 0);

	http_proxy_parse("http://p:1", &cfg.https_proxy, &e);
	sys_strlcpy(cfg.no_proxy, "localhost, .internal.corp,10.0.0.0/8,s3.local:9000", sizeof cfg.no_proxy);
	CHECK("proxy used", http_route(&cfg, "s3.amazonaws.com", 1) == &cfg.https_proxy);
	CHECK("no http proxy set", http_route(&cfg, "s3.amazonaws.com", 0) == NULL);
	CHECK("NO_PROXY exact", http_route(&cfg, "localhost", 1) == NULL);
	CHECK("NO_PROXY subdomain", http_route(&cfg, "minio.internal.corp", 1) == NULL);
	CHECK("NO_PROXY domain itself", http_route(&cfg, "internal.corp", 1) == NULL);
	CHECK("NO_PROXY not a suffix match", http_route(&cfg, "xinternal.corp", 1) != NULL);
	CHECK("NO_PROXY CIDR", http_route(&cfg, "10.2.3.4", 1) == NULL);
	CHECK("NO_PROXY CIDR miss", http_route(&cfg, "11.2.3.4", 1) != NULL);
	CHECK("NO_PROXY host:port", http_route(&cfg, "s3.local", 1) == NULL);
	CHECK("metadata is direct", http_route(&cfg, "169.254.169.254", 1) == NULL);
	sys_strlcpy(cfg.no_proxy, "*", sizeof cfg.no_proxy);
	CHECK("NO_PROXY *", http_route(&cfg, "anything", 1) == NULL);
}

/* ---- Credential documents and URLs */

static void test_creds_json(void)
{
	aws_creds c;
	time_t exp;
	dg_error e;
	aws_url u;
	static const char ok_doc[] = "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAXYZ\",\"SecretAccessKey\":"
		"\"abc/def+ghi\",\"Token\":\"tok==\",\"Expiration\":\"2030-01-01T00:00:00Z\"}";

	CHECK("creds json", aws_creds_json(ok_doc, strlen(ok_doc), "Token", &c, &exp, "t", &e) == 0 &&
		strcmp(c.access_key, "ASIAXYZ") == 0 && strcmp(c.secret_key, "abc/def+ghi") == 0 &&
		strcmp(c.token, "tok==") == 0 && exp == 1893456000);
#define J(doc) doc, strlen(doc)
	CHECK("creds without a code are fine", aws_creds_json(J("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":"
		"\"B\"}"), "Token", &c, &exp, "t", &e) == 0 && exp == 0);
	CHECK("creds code must be Success", aws_creds_json(J("{\"Code\":\"Failed\",\"AccessKeyId\":\"A\","
		"\"SecretAccessKey\":\"B\"}"), "Token", &c, &exp, "t", &e) < 0 && strstr(e.msg, "Success"));
	CHECK("creds need a secret", aws_creds_json(J("{\"AccessKeyId\":\"A\"}"), "Token", &c, &exp, "t", &e) < 0);
	CHECK("creds version 1", aws_creds_json(J("{\"Version\":2,\"AccessKeyId\":\"A\",\"SecretAccessKey\":"
		"\"B\"}"), "SessionToken", &c, &exp, "t", &e) < 0 && strstr(e.msg, "Version"));
	CHECK("creds bad expiration", aws_creds_json(J("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"B\","
		"\"Expiration\":\"soon\"}"), "Token", &c, &exp, "t", &e) < 0 && strstr(e.msg, "Expiration"));
	CHECK("creds not JSON", aws_creds_json(J("nope"), "Token", &c, &exp, "t", &e) < 0);
#undef J
	CHECK("url parse", aws_parse_url("http://169.254.170.2/v2/creds?id=1", &u, &e) == 0 &&
		u.port == 80 && !u.tls && strcmp(u.path, "/v2/creds?id=1") == 0);
	CHECK("url without path", aws_parse_url("https://sts.eu-west-1.amazonaws.com", &u, &e) == 0 &&
		u.port == 443 && strcmp(u.path, "/") == 0);
	CHECK("url IPv6 with port", aws_parse_url("http://[fd00:ec2::254]:80/latest", &u, &e) == 0 &&
		strcmp(u.host, "fd00:ec2::254") == 0);
}

/* ---- Command line: usage errors exit 2 and name the problem. */

static int t_cli(const char *const *argv)
{
	char *args[16];
	int n = 0;

	while (argv[n]) {
		args[n] = (char *)argv[n];
		n++;
	}
	args[n] = NULL;
	return cli_main(n, args);
}

static void test_cli(void)
{
	static const char *const unknown_flag[] = { "deltaglider", "ls", "--bogus", NULL };
	static const char *const unknown_cmd[] = { "deltaglider", "frobnicate", NULL };
	static const char *const short_for_other[] = { "deltaglider", "cp", "-h", "a", "b", NULL };
	static const char *const missing_arg[] = { "deltaglider", "cp", "a", NULL };
	static const char *const bad_url[] = { "deltaglider", "ls", "ftp://x/y", NULL };
	static const char *const bad_timeout[] = { "deltaglider", "ls", "--cli-read-timeout", "x", NULL };
	static const char *const version[] = { "deltaglider", "--version", NULL };

	CHECK("cli unknown flag exits 2", t_cli(unknown_flag) == 2);
	CHECK("cli unknown command exits 2", t_cli(unknown_cmd) == 2);
	CHECK("cli -h is only ls's", t_cli(short_for_other) == 2);
	CHECK("cli missing argument exits 2", t_cli(missing_arg) == 2);
	CHECK("cli bad URL exits 2", t_cli(bad_url) == 2);
	CHECK("cli bad timeout exits 2", t_cli(bad_timeout) == 2);
	CHECK("cli --version exits 0", t_cli(version) == 0);
}

/* Lock holders: a dead one is seen at once on this host, a reused pid
 * included; a live one, or one elsewhere, never. */
static void test_holders(void)
{
	static dg_ctx g;
	char h[200];
	const char *me = dg_holder(&g);
	size_t pre = g.holder_host;
	unsigned long long start = dg_proc_start((long)getpid());
	int status = -1;
	pid_t child;

	/* What another process reads of us is what we read of ourselves (not
	 * so with /proc/self/stat under qemu-user). */
	if ((child = fork()) == 0)
		_exit(dg_proc_start((long)getppid()) == start ? 0 : 1);
	waitpid(child, &status, 0);
	CHECK("holder: our start time as others see it", start > 0 && status == 0);
	CHECK("holder: carries this process's start time", strstr(me, ".t") != NULL);
	snprintf(h, sizeof h, "%.*s%ld.cafe0001", (int)pre, me, (long)getppid());
	CHECK("holder: a live pid (no start time) is alive", !dg_holder_dead(&g, h));
	snprintf(h, sizeof h, "%.*s%ld.t%llu.cafe0001", (int)pre, me, (long)getppid(),
		dg_proc_start((long)getppid()));
	CHECK("holder: a live pid with its start time is alive", !dg_holder_dead(&g, h));
	snprintf(h, sizeof h, "%.*s%ld.t%llu.cafe0001", (int)pre, me, (long)getppid(), 1ULL);
	CHECK("holder: a live pid that started at another time was reused: dead",
		dg_holder_dead(&g, h));
	snprintf(h, sizeof h, "%.*s%ld.t1.cafe0001", (int)pre, me, (long)child);
	CHECK("holder: a pid no process has is dead", dg_holder_dead(&g, h));
	snprintf(h, sizeof h, "otherhost.1.%ld.t1.cafe0001", (long)child);
	CHECK("holder: elsewhere, never judged", !dg_holder_dead(&g, h));
	CHECK("holder: ourselves, alive", !dg_holder_dead(&g, me));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_sigv4();
	test_presign();
	test_acl_policy();
	test_sha256();
	test_uri_encode();
	test_xml();
	test_http_parse();
	test_http_send_body();
	test_config();
	test_utils();
	test_names();
	test_file_create();
	test_metadata();
	test_mime();
	test_rfc2047();
	test_json();
	test_delta();
	test_hopeless();
	test_archive();
	test_budget();
	test_holders();
	test_cache();
	test_proxy();
	test_creds_json();
	test_cli();
	printf("# unit: %d passed, %d failed\n", t_passed, t_failed);
	return t_failed ? 1 : 0;
}
