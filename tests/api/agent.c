/*
 * An update agent on libdeltaglider: what a device links to publish and
 * fetch versions of an application. Used by tests/e2e/45-library.sh.
 *
 *   agent [-E] COMMAND ARGS...
 *     publish URL FILE          upload; prints the kind and sizes
 *     latest PREFIX-URL DEST    fetch the newest version under a prefix, verify it
 *                               (both print on stderr what progress reported)
 *     head URL                  what the object is
 *     presign URL SECONDS       a link that downloads the original bytes
 *     presign-put URL SECONDS   a link that uploads
 *     purge BUCKET-URL          remove expired rehydrated copies
 *     rm URL...                 delete objects of one store
 *     rm-r PREFIX-URL           delete everything under a prefix
 *     stats BUCKET-URL          quick bucket statistics
 *
 * Configuration: with -E, dg_config_from_env (what the CLI reads);
 * otherwise only AGENT_ENDPOINT, AGENT_REGION, AGENT_KEY and AGENT_SECRET,
 * read here and passed in a plain dg_config: the library itself then
 * reads no environment at all.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deltaglider.h"

typedef struct newest {
	char name[1100];
	time_t mtime;
	unsigned long count;
} newest;

static int pick_newest(void *ctx, const dg_entry *ent, dg_error *err)
{
	newest *n = ctx;

	(void)err;
	if (ent->kind == DG_ENTRY_PREFIX)
		return 0;
	n->count++;
	if (ent->mtime > n->mtime || (ent->mtime == n->mtime && strcmp(ent->name, n->name) > 0)) {
		snprintf(n->name, sizeof n->name, "%s", ent->name);
		n->mtime = ent->mtime;
	}
	return 0;
}

static int latest(dg_client *cl, const char *prefix_url, const char *dest, dg_error *err)
{
	char url[1200], bucket_end[1100];
	const char *slash;
	newest n = { "", 0, 0 };
	dg_verify_result v;

	if (dg_list_objects(cl, prefix_url, 0, pick_newest, &n, err) < 0)
		return -1;
	if (n.count == 0) {
		fprintf(stderr, "agent: no versions under %s\n", prefix_url);
		return -2;
	}
	/* Entry names are keys: rebuild the URL from the bucket part. */
	slash = strchr(prefix_url + 5, '/');
	snprintf(bucket_end, sizeof bucket_end, "%.*s", (int)(slash ? slash - prefix_url : 0),
		prefix_url);
	snprintf(url, sizeof url, "%s/%s", bucket_end, n.name);
	if (dg_get_path(cl, url, dest, err) < 0 || dg_verify_object(cl, url, &v, err) < 0)
		return -1;
	printf("%lu versions; fetched %s to %s (%s)\n", n.count, n.name, dest,
		v.ok ? "verified" : "NOT VERIFIED");
	return v.ok ? 0 : -2;
}

static void count_progress(void *ctx, uint64_t bytes)
{
	uint64_t *sum = ctx;

	sum[0] += bytes;
	sum[1]++;
}

int main(int argc, char **argv)
{
	uint64_t progress[2] = { 0, 0 };   /* bytes, calls */
	static const char *const kinds[] = { "direct", "reference", "delta" };
	static char out[16384];
	dg_config cfg;
	dg_error err = { 0 };
	dg_client *cl;
	const char *cmd;
	int a = 1, rc = -1;

	if (argc > 1 && strcmp(argv[1], "-E") == 0) {
		a++;
		if (dg_config_from_env(&cfg, &err) < 0) {
			fprintf(stderr, "agent: %s\n", err.msg);
			return 2;
		}
	} else {
		dg_config_init(&cfg);
		cfg.endpoint_url = getenv("AGENT_ENDPOINT");
		cfg.region = getenv("AGENT_REGION");
		cfg.access_key_id = getenv("AGENT_KEY");
		cfg.secret_access_key = getenv("AGENT_SECRET");
	}
	if (argc < a + 2) {
		fprintf(stderr, "usage: agent [-E] COMMAND ARGS... (library %s)\n", dg_version());
		return 2;
	}
	cmd = argv[a];
	if ((cl = dg_client_open(&cfg, &err)) == NULL) {
		fprintf(stderr, "agent: %s\n", err.msg);
		return 2;
	}
	dg_client_progress(cl, count_progress, progress);
	if (strcmp(cmd, "publish") == 0 && argc == a + 3) {
		dg_put_result r;

		if ((rc = dg_put_path(cl, argv[a + 1], argv[a + 2], &r, &err)) == 0)
			printf("%s %llu -> %llu bytes (ratio %.3f)\n", kinds[r.kind],
				(unsigned long long)r.size, (unsigned long long)r.stored, r.ratio);
	} else if (strcmp(cmd, "latest") == 0 && argc == a + 3) {
		rc = latest(cl, argv[a + 1], argv[a + 2], &err);
	} else if (strcmp(cmd, "head") == 0 && argc == a + 2) {
		dg_object_info i;

		if ((rc = dg_head(cl, argv[a + 1], &i, &err)) == 0)
			printf("key=%s kind=%s size=%llu stored=%llu sha256=%s reference=%s\n", i.key,
				i.kind == DG_ENTRY_DELTA ? "delta" : "plain", (unsigned long long)i.size,
				(unsigned long long)i.stored, i.sha256, i.reference_key);
	} else if ((strcmp(cmd, "presign") == 0 || strcmp(cmd, "presign-put") == 0) &&
		argc == a + 3) {
		unsigned secs = (unsigned)strtoul(argv[a + 2], NULL, 10);

		rc = cmd[7] ? dg_presign(cl, argv[a + 1], "PUT", secs, out, sizeof out, &err) :
			dg_presign_download(cl, argv[a + 1], secs, out, sizeof out, &err);
		if (rc == 0)
			printf("%s\n", out);
	} else if (strcmp(cmd, "purge") == 0 && argc == a + 2) {
		dg_purge_result p;

		if ((rc = dg_purge_temp(cl, argv[a + 1], 0, &p, &err)) == 0)
			printf("purged %llu (%llu bytes), kept %llu\n", (unsigned long long)p.deleted,
				(unsigned long long)p.bytes, (unsigned long long)p.kept);
	} else if (strcmp(cmd, "rm") == 0 && argc > a + 1) {
		if ((rc = dg_delete_many(cl, (const char *const *)argv + a + 1, (size_t)(argc - a - 1),
				&err)) == 0)
			printf("deleted\n");
	} else if (strcmp(cmd, "rm-r") == 0 && argc == a + 2) {
		long n = dg_delete_recursive(cl, argv[a + 1], NULL, NULL, &err);

		if (n >= 0)
			printf("deleted %ld\n", n);
		rc = n < 0 ? -1 : 0;
	} else if (strcmp(cmd, "stats") == 0 && argc == a + 2) {
		dg_stats st;

		if ((rc = dg_bucket_stats(cl, argv[a + 1], DG_STATS_DETAILED, &st, &err)) == 0)
			printf("objects=%llu total=%llu stored=%llu deltas=%llu\n",
				(unsigned long long)st.object_count, (unsigned long long)st.total_size,
				(unsigned long long)st.compressed_size, (unsigned long long)st.delta_objects);
	} else {
		fprintf(stderr, "agent: bad command line\n");
		rc = -2;
	}
	if (rc == -1)
		fprintf(stderr, "agent: %s: %s (code %d)\n", cmd, err.msg, err.code);
	if (rc == 0 && (strcmp(cmd, "publish") == 0 || strcmp(cmd, "latest") == 0))
		fprintf(stderr, "progress %llu bytes in %llu calls\n", (unsigned long long)progress[0],
			(unsigned long long)progress[1]);
	dg_client_close(cl);
	return rc == 0 ? 0 : 1;
}
