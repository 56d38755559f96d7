/*
 * A program that links libdeltaglider next to its own copies of BearSSL,
 * liblzma and zlib (whole archives: every symbol of theirs is defined
 * here). It links only if the library exports nothing but its API, and
 * works only if each side uses its own copy: its zlib gzips two versions
 * that the library's zlib expands and regenerates (an archive-aware
 * delta). Used by tests/e2e/45-library.sh.
 *
 *   linkown DIR    round trips of two versions through file://DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>
#include <lzma.h>
#include <zlib.h>

#include "deltaglider.h"

/* gzip of version v's text, made with our zlib as gzip -6 would
 * (windowBits 31: the gzip wrapper). */
static int write_gz(const char *path, int v)
{
	static unsigned char text[300000], gz[400000];
	uint32_t x = 12345;
	size_t n = 0;
	z_stream z;
	FILE *f;
	int ok;

	for (unsigned line = 0; n + 64 < sizeof text; line++) {
		x = x * 1103515245u + 12345u;
		n += (size_t)sprintf((char *)text + n, "line %u: %08x%s\n", line, (unsigned)(x >> 8),
			line == 5000 && v == 2 ? " version two" : "");
	}
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	z.next_in = text;
	z.avail_in = (uInt)n;
	z.next_out = gz;
	z.avail_out = sizeof gz;
	ok = deflate(&z, Z_FINISH) == Z_STREAM_END;
	deflateEnd(&z);
	if (!ok || (f = fopen(path, "wb")) == NULL)
		return -1;
	ok = fwrite(gz, 1, z.total_out, f) == z.total_out;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Our zlib, called directly: deflate and inflate give back the bytes. */
static int own_zlib_round_trip(void)
{
	static const char text[] = "our own zlib, beside the library's; our own zlib";
	unsigned char packed[256], back[256];
	z_stream d, i;
	int ok;

	memset(&d, 0, sizeof d);
	memset(&i, 0, sizeof i);
	if (deflateInit(&d, 9) != Z_OK)
		return -1;
	d.next_in = (Bytef *)text;
	d.avail_in = sizeof text;
	d.next_out = packed;
	d.avail_out = sizeof packed;
	ok = deflate(&d, Z_FINISH) == Z_STREAM_END;
	deflateEnd(&d);
	if (!ok || inflateInit(&i) != Z_OK)
		return -1;
	i.next_in = packed;
	i.avail_in = (uInt)d.total_out;
	i.next_out = back;
	i.avail_out = sizeof back;
	ok = inflate(&i, Z_FINISH) == Z_STREAM_END && i.total_out == sizeof text &&
		memcmp(back, text, sizeof text) == 0;
	inflateEnd(&i);
	return ok ? 0 : -1;
}

static int same_files(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int ca, cb, same = fa && fb;

	while (same && ((ca = getc(fa)) != EOF) | ((cb = getc(fb)) != EOF))
		same = ca == cb;
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

static int write_file(const char *path, const char *text, int copies)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	for (int i = 0; i < copies; i++)
		fputs(text, f);
	return fclose(f);
}

int main(int argc, char **argv)
{
	br_sha256_context sha;
	unsigned char h[32];
	char url[4096], path[4096], back[4096];
	dg_config cfg;
	dg_error err;
	dg_client *cl;
	dg_put_result r;

	if (argc != 2)
		return 2;
	/* Our own BearSSL, liblzma and zlib, called directly. */
	br_sha256_init(&sha);
	br_sha256_update(&sha, "abc", 3);
	br_sha256_out(&sha, h);
	if (h[0] != 0xba || h[31] != 0xad) {
		fprintf(stderr, "linkown: own BearSSL gives a wrong SHA-256\n");
		return 1;
	}
	if (crc32(0, (const unsigned char *)"abc", 3) != 0x352441c2) {
		fprintf(stderr, "linkown: own zlib gives a wrong CRC-32\n");
		return 1;
	}
	if (own_zlib_round_trip() < 0) {
		fprintf(stderr, "linkown: own zlib does not round-trip\n");
		return 1;
	}
	printf("own zlib round trip ok\n");
	printf("own liblzma %s, own zlib %s, own BearSSL ok, libdeltaglider %s\n",
		lzma_version_string(), zlibVersion(), dg_version());

	dg_config_init(&cfg);
	cfg.archive_deltas = 1;
	if ((cl = dg_client_open(&cfg, &err)) == NULL)
		return 1;
	for (int v = 1; v <= 2; v++) {
		snprintf(path, sizeof path, "%s/app-%d.tar", argv[1], v);
		if (write_file(path, v == 1 ? "version one of the app\n" : "version two of the app\n",
				4000) < 0)
			return 1;
		snprintf(url, sizeof url, "file://%s/store/app/app-%d.tar", argv[1], v);
		if (dg_put_path(cl, url, path, &r, &err) < 0) {
			fprintf(stderr, "linkown: put: %s\n", err.msg);
			return 1;
		}
		printf("app-%d.tar: kind %d, %llu -> %llu bytes\n", v, r.kind,
			(unsigned long long)r.size, (unsigned long long)r.stored);
	}
	snprintf(back, sizeof back, "%s/back.tar", argv[1]);
	if (dg_get_path(cl, url, back, &err) < 0 || !same_files(path, back)) {
		fprintf(stderr, "linkown: get: %s\n", err.msg);
		return 1;
	}
	/* The library's zlib expands what ours made, and regenerates it. */
	for (int v = 1; v <= 2; v++) {
		snprintf(path, sizeof path, "%s/app-%d.tar.gz", argv[1], v);
		snprintf(url, sizeof url, "file://%s/store/gz/app-%d.tar.gz", argv[1], v);
		if (write_gz(path, v) < 0 || dg_put_path(cl, url, path, &r, &err) < 0) {
			fprintf(stderr, "linkown: put %s: %s\n", path, err.msg);
			return 1;
		}
	}
	if (r.kind != DG_PUT_DELTA || !r.archive) {
		fprintf(stderr, "linkown: app-2.tar.gz: kind %d, archive %d: not an archive delta\n",
			r.kind, r.archive);
		return 1;
	}
	printf("app-2.tar.gz: archive delta %llu -> %llu bytes\n", (unsigned long long)r.size,
		(unsigned long long)r.stored);
	snprintf(back, sizeof back, "%s/back.tar.gz", argv[1]);
	if (dg_get_path(cl, url, back, &err) < 0 || !same_files(path, back)) {
		fprintf(stderr, "linkown: get %s: %s\n", url, err.msg);
		return 1;
	}
	dg_client_close(cl);
	printf("round trip ok\n");
	return 0;
}
