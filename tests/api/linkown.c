/*
 * A program that links libdeltaglider next to its own copies of BearSSL,
 * liblzma and zlib (whole archives: every symbol of theirs is defined here). It links
 * only if the library exports nothing but its API, and works only if each
 * side uses its own copy. Used by tests/e2e/45-library.sh.
 *
 *   linkown DIR    round trip of two versions through file://DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>
#include <lzma.h>
#include <zlib.h>

#include "deltaglider.h"

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
	printf("own liblzma %s, own zlib %s, own BearSSL ok, libdeltaglider %s\n",
		lzma_version_string(), zlibVersion(), dg_version());

	dg_config_init(&cfg);
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
	if (dg_get_path(cl, url, back, &err) < 0) {
		fprintf(stderr, "linkown: get: %s\n", err.msg);
		return 1;
	}
	dg_client_close(cl);
	printf("round trip ok\n");
	return 0;
}
