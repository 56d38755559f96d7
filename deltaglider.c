/*
 * deltaglider -- versioned files on S3 as one reference per prefix plus
 * small xdelta3 deltas, readable and writable by the Python DeltaGlider.
 *
 * Copyright (C) 2026 the deltaglider authors.
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * One file, in numbered sections. Search for "§N" to jump to a section.
 * Each section owns one prefix and talks to the others only through the
 * declarations in §0.
 *
 *   §0   Includes, limits, and the interfaces between sections
 *   §1   Platform and utilities ............................ sys_
 *   §2   Crypto glue (BearSSL) ............................. crypto_
 *   §3   Network and HTTP/1.1 over BearSSL ................. http_
 *   §4   AWS configuration, credentials and SigV4 .......... aws_
 *   §5   XML scanner ....................................... xml_
 *   §6   S3 client ......................................... s3_
 *   §7   Storage back-ends (s3://, file://) ................ store_
 *   §8   Delta engine (xdelta3; archive expansion, zlib) ... delta_
 *   §9   Reference cache ................................... cache_
 *   §10  DeltaGlider core, the client, the library API ...... dg_
 *   §11  Command line ...................................... cli_
 *   §12  main
 *
 * One source, two products (as Lua's onelua.c): compiled as it is, this
 * file is the deltaglider tool; with -DDG_LIBRARY it has no main and
 * exports the API declared between the deltaglider.h markers below
 * (make lib).
 *
 * Conventions. Functions that can fail return 0 on success and -1 on
 * failure, after filling a caller-provided dg_error with one line naming
 * the cause. Callers add the object name when they print it. Nothing here
 * keeps global mutable state (but the CPU's SHA features, detected once):
 * everything hangs off a dg_client (§10), which one thread uses at a
 * time; parallel work runs on worker clients, one per thread (see
 * "Parallel work" in §10).
 */

/* The library exports only what is marked DG_API; built as the tool,
 * those functions are internal like the rest. */
#ifdef DG_LIBRARY
#define DG_API __attribute__((visibility("default")))
#else
#define DG_API static __attribute__((unused))
#endif
/* What only the command line calls: the library, built without it, has
 * these unused (and the linker drops them). */
#define DG_CLI_ONLY __attribute__((unused))

/* ==== deltaglider.h begin ============================================ */
/*
 * libdeltaglider: the DeltaGlider core as a C library (make lib builds
 * build/libdeltaglider.a and extracts this block as build/deltaglider.h).
 *
 * Objects are named by URL: s3://bucket/key, or file:///dir/key for a
 * store in a local directory. The library stores versioned files as one
 * reference per prefix plus xdelta3 deltas, exactly as the Python
 * DeltaGlider does, and gives back the original bytes, SHA-256 checked.
 *
 *	dg_config cfg;
 *	dg_error err;
 *	dg_config_from_env(&cfg, &err);          (or dg_config_init and fields)
 *	dg_client *cl = dg_client_open(&cfg, &err);
 *	dg_put_path(cl, "s3://releases/app/app-1.2.zip", "app-1.2.zip", NULL, &err);
 *	dg_get_path(cl, "s3://releases/app/app-1.1.zip", "/tmp/app.zip", &err);
 *	dg_client_close(cl);
 *
 * Rules. Functions that can fail return 0 (or a count) on success and -1
 * on failure, after filling the caller's dg_error: a code and one line
 * naming the cause. A client is used by one thread at a time; open one
 * client per thread for parallel work (clients share nothing). A client
 * runs its own parallel work (the HEADs of a listing, the parts of a
 * multipart upload, the ranges of a large download) on up to
 * max_concurrency threads of its own; its callbacks still come one at a
 * time (list callbacks on the caller's thread; a get's write callback in
 * order, from whichever thread holds the next range; progress from any of
 * them, under a lock). Nothing
 * reads the environment or ~/.aws unless the config asks (getenv, which
 * dg_config_from_env sets). Warnings are written to stderr, as the
 * command line does, at cfg.log_level. Strings in dg_config are borrowed:
 * they must live as long as the client.
 */
#ifndef DELTAGLIDER_H
#define DELTAGLIDER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef DG_API
#define DG_API extern
#endif
#define DG_API_VERSION 1

enum dg_errcode {
	DG_OK = 0,
	DG_EUSAGE,      /* bad arguments: exit status 2 */
	DG_EIO,         /* local file system */
	DG_ENET,        /* DNS, connect, reset, timeout: retryable */
	DG_ETLS,        /* handshake or certificate */
	DG_EPROTO,      /* malformed HTTP or XML from the peer */
	DG_EHTTP,       /* the server answered with an error status */
	DG_ENOTFOUND,   /* no such object, bucket or file */
	DG_EINTEGRITY,  /* hash mismatch, corrupt delta */
	DG_ECONFIG,     /* credentials, region, endpoint */
	DG_ENOMEM,
	DG_EEXIST       /* a create-if-absent found the object there (HTTP 412) */
};

typedef struct dg_error {
	int code;            /* enum dg_errcode */
	int http_status;     /* for DG_EHTTP/DG_ENOTFOUND from a server */
	int retryable;       /* the operation may succeed if repeated */
	char s3code[64];     /* S3 error code ("NoSuchKey"), when the server sent one */
	char msg[768];
} dg_error;

enum { DG_LOG_DEBUG, DG_LOG_INFO, DG_LOG_WARNING, DG_LOG_ERROR, DG_LOG_NONE };

typedef struct dg_config {
	/* S3: NULL takes what the profile (or AWS's default) says. */
	const char *profile;
	const char *region;
	const char *endpoint_url;        /* http(s)://host[:port][/base] */
	const char *ca_bundle;           /* PEM trust anchors for https */
	int no_verify_ssl;
	const char *access_key_id;       /* explicit keys win over every other source */
	const char *secret_access_key;
	const char *session_token;
	int connect_timeout_s, read_timeout_s;   /* 0: 60 */
	/* Deltas */
	double max_ratio;                /* store whole above delta/size (0.5) */
	int no_delta;                    /* store every file whole */
	int archive_deltas;              /* deltas of .zip/.gz/... contents (not
	                                    readable by the Python tool) */
	unsigned window_mb;              /* encoder source window; 0: by free memory */
	const char *tmpdir;              /* NULL: /tmp */
	/* Reference cache (encrypted with AES-256-GCM) */
	int cache_memory;                /* in memory instead of files */
	unsigned cache_memory_mb;        /* 0: 100 */
	const char *cache_dir;           /* NULL: /tmp/deltaglider-UID */
	const char *cache_key_b64;       /* NULL: a key per client, files per process */
	int log_level;                   /* DG_LOG_*, to stderr */
	char *(*getenv)(const char *name);   /* NULL: read no environment (and look
	                                    for gzip, which deltas the xdelta3 command
	                                    line made of .gz files need, on
	                                    /usr/local/bin:/usr/bin:/bin, not PATH) */
	int compression_level;           /* 1-9 as xdelta3 -N picks its matcher; 0: 6 */
	unsigned max_concurrency;        /* parallel requests; 0: the profile's
	                                    s3.max_concurrent_requests, else 10 */
	int no_sign_request;             /* unsigned requests (public buckets); no
	                                    credentials looked up */
	unsigned page_size;              /* keys per listing request; 0: the server's
	                                    (1000 on S3) */
	/* What uploaded objects are written with, as aws s3 cp's options of
	 * the same names (S3 stores; NULL: none). A delta carries them as the
	 * original would; a reference.bin only the storage class and SSE. */
	const char *content_type;        /* NULL: guessed from the name (as aws) */
	int no_guess_mime_type;          /* no guess: S3's default type */
	const char *metadata;            /* user metadata: "k=v,k2=v2" or JSON
	                                    '{"k":"v"}' */
	const char *acl;                 /* canned: private, public-read, ... */
	const char *storage_class;       /* STANDARD, STANDARD_IA, GLACIER_IR, ... */
	const char *sse;                 /* AES256 or aws:kms */
	const char *sse_kms_key_id;
	const char *cache_control, *content_disposition, *content_encoding;
	const char *expires;             /* an HTTP date, or ISO 8601 in UTC */
	/* SSE-C: objects encrypted with the caller's AES-256 key, which every
	 * read and write of them then sends (S3 keeps only its MD5). */
	int sse_c;
	unsigned char sse_c_key[32];
	int sse_c_copy_source;           /* the source of copies has its own key */
	unsigned char sse_c_copy_source_key[32];
	int request_payer;               /* requester pays (x-amz-request-payer) */
	const char *source_region;       /* the region of the source bucket of copies */
} dg_config;

typedef struct dg_client dg_client;

/* Defaults, reading nothing. */
DG_API void dg_config_init(dg_config *cfg);
/* What the command line does: DG_* variables (DG_MAX_RATIO, DG_WINDOW_MB,
 * DG_CACHE_*, DG_LOG_LEVEL), TMPDIR, and AWS's variables and files. */
DG_API int dg_config_from_env(dg_config *cfg, dg_error *err);
/* Cheap: credentials and trust anchors load on the first S3 request. */
DG_API dg_client *dg_client_open(const dg_config *cfg, dg_error *err);
DG_API void dg_client_close(dg_client *cl);
/* Progress of uploads and downloads: bytes of the objects' content done
 * since the last call (sent of a file stored whole, read by the delta
 * encoder, written of a download; never deltas or references on the
 * wire). One object's reports add up to its size once it is done. */
typedef void (*dg_progress_fn)(void *ctx, uint64_t bytes);
DG_API void dg_client_progress(dg_client *cl, dg_progress_fn fn, void *ctx);
DG_API const char *dg_version(void);
/* It and the vendored libraries' versions, as deltaglider --version prints
 * them: "0.1.0 (xdelta3 3.0.11, ...)". */
DG_API void dg_versions(char *out, size_t cap);

/* ---- objects */

enum { DG_PUT_DIRECT, DG_PUT_REFERENCE, DG_PUT_DELTA };
typedef struct dg_put_result {
	int kind;                    /* DG_PUT_* */
	uint64_t size;               /* original bytes */
	uint64_t stored;             /* bytes the store holds for it */
	double ratio;                /* stored / size (0 for an empty file) */
	int archive;                 /* DG_PUT_DELTA of the contents (archive_deltas) */
	int over_ratio;              /* DG_PUT_DIRECT because a delta passed max_ratio */
	uint64_t over_delta;         /* its size, or an estimate; 0: not known */
} dg_put_result;

/* Bytes of a put: the count read, 0 at the end, -1 on an error. */
typedef long (*dg_read_fn)(void *ctx, void *buf, size_t n);
/* Bytes of a get: 0, or -1 to stop with an error. */
typedef int (*dg_write_fn)(void *ctx, const void *buf, size_t n);

/* res may be NULL. */
DG_API int dg_put_path(dg_client *cl, const char *url, const char *path, dg_put_result *res,
	dg_error *err);
DG_API int dg_put_reader(dg_client *cl, const char *url, dg_read_fn fn, void *ctx,
	dg_put_result *res, dg_error *err);
/* Into a temporary file renamed to path once its SHA-256 matched. */
DG_API int dg_get_path(dg_client *cl, const char *url, const char *path, dg_error *err);
/* Streamed (a pipe, a socket): the SHA-256 is checked at the end, when
 * the bytes are out; -1 then means they were wrong. */
DG_API int dg_get_fd(dg_client *cl, const char *url, int fd, dg_error *err);
DG_API int dg_get_writer(dg_client *cl, const char *url, dg_write_fn fn, void *ctx,
	dg_error *err);

enum { DG_ENTRY_PREFIX, DG_ENTRY_PLAIN, DG_ENTRY_DELTA };
typedef struct dg_entry {
	const char *name;            /* logical key */
	uint64_t size;               /* original size */
	uint64_t stored;             /* what the object itself takes */
	time_t mtime;
	int kind;                    /* DG_ENTRY_* */
} dg_entry;
/* Return 0 to go on, -1 (with err filled) to stop. */
typedef int (*dg_list_fn)(void *ctx, const dg_entry *ent, dg_error *err);

/* The logical view of a prefix: deltas under their original names,
 * references and .deltaglider/ hidden; recursive 0 groups sub-folders
 * into DG_ENTRY_PREFIX entries. */
DG_API int dg_list_objects(dg_client *cl, const char *url, int recursive, dg_list_fn fn,
	void *ctx, dg_error *err);

/* What the Python SDK's ObjectInfo says of a logical object. */
typedef struct dg_object_info {
	char key[1025];              /* the stored key (name.delta for a delta) */
	uint64_t size;               /* original size */
	uint64_t stored;             /* what the object takes */
	time_t mtime;
	int kind;                    /* DG_ENTRY_PLAIN or DG_ENTRY_DELTA */
	char sha256[65];             /* of the original; "" when not recorded */
	char reference_key[1025];    /* a delta's reference; "" otherwise */
	double ratio;                /* stored / size */
} dg_object_info;
DG_API int dg_head(dg_client *cl, const char *url, dg_object_info *info, dg_error *err);

/* A delete never removes a reference that deltas still need, and removes
 * the last delta's reference with it. */
DG_API int dg_delete(dg_client *cl, const char *url, dg_error *err);
/* Several objects of one store (the same bucket, or all file://): missing
 * ones are skipped, as S3's DeleteObjects does; the references the last of
 * their deltas leave go too. */
DG_API int dg_delete_many(dg_client *cl, const char *const *urls, size_t n, dg_error *err);
/* Everything under a prefix; fn (may be NULL) hears of each deletion.
 * Returns the number of objects removed. */
DG_API long dg_delete_recursive(dg_client *cl, const char *url, dg_list_fn fn, void *ctx,
	dg_error *err);
/* Into another key or store, re-encoded against the destination's reference. */
DG_API int dg_copy_object(dg_client *cl, const char *src_url, const char *dst_url,
	dg_put_result *res, dg_error *err);

typedef struct dg_verify_result {
	int ok;                      /* the reconstruction has the recorded SHA-256 */
	char expected[65], actual[65];
} dg_verify_result;
DG_API int dg_verify_object(dg_client *cl, const char *url, dg_verify_result *res,
	dg_error *err);

/* ---- presigned URLs (S3 only; expires_s from 1 to 604800) */

/* method "GET" or "PUT": anyone with the URL can do it until it expires. */
DG_API int dg_presign(dg_client *cl, const char *url, const char *method, unsigned expires_s,
	char *out, size_t cap, dg_error *err);
/* A GET link that gives the original bytes: a delta is first rebuilt into
 * .deltaglider/tmp/ (dg-expires-at; dg_purge_temp removes it later), as
 * the Python SDK's generate_presigned_url_with_rehydration does. */
DG_API int dg_presign_download(dg_client *cl, const char *url, unsigned expires_s,
	char *out, size_t cap, dg_error *err);

/* ---- buckets (s3://name, or file:///dir for a directory store; the
 * list is of the S3 account's buckets, ACLs are S3's only) */

typedef int (*dg_bucket_fn)(void *ctx, const char *name, time_t created, dg_error *err);
DG_API int dg_bucket_list(dg_client *cl, dg_bucket_fn fn, void *ctx, dg_error *err);
DG_API int dg_bucket_create(dg_client *cl, const char *url, dg_error *err);
/* force: delete the objects first, as rb --force does. */
DG_API int dg_bucket_delete(dg_client *cl, const char *url, int force, dg_error *err);

enum { DG_STATS_QUICK, DG_STATS_SAMPLED, DG_STATS_DETAILED };
typedef struct dg_stats {
	uint64_t object_count;       /* deltas and direct objects, as Python counts */
	uint64_t total_size;         /* original bytes (of what is known) */
	uint64_t compressed_size;    /* stored bytes, references included */
	uint64_t space_saved;
	double ratio;                /* space_saved / total_size */
	uint64_t delta_objects, direct_objects, reference_objects;
	uint64_t unknown_deltas;     /* deltas whose original size is not known */
	uint64_t list_count, list_bytes;   /* the raw listing: validates the cache */
	int from_cache;
} dg_stats;
/* mode DG_STATS_*; the result is cached in an S3 bucket, as Python does
 * (a directory store keeps no cache). */
DG_API int dg_bucket_stats(dg_client *cl, const char *url, int mode, dg_stats *st,
	dg_error *err);

typedef struct dg_purge_result {
	uint64_t deleted, bytes, kept;
} dg_purge_result;
/* Remove expired rehydrated copies (.deltaglider/tmp/, dg-expires-at). */
DG_API int dg_purge_temp(dg_client *cl, const char *url, int dry_run, dg_purge_result *res,
	dg_error *err);

/* Bucket ACLs: a canned ACL ("private", "public-read", ...) and/or grants
 * ("id=...", "uri=...", comma-separated), or a whole policy as the JSON
 * aws s3api takes ({"Owner": {...}, "Grants": [...]}). */
typedef struct dg_acl {
	const char *canned;
	const char *grant_full_control, *grant_read, *grant_read_acp, *grant_write,
		*grant_write_acp;
	const char *policy_json;
} dg_acl;
DG_API int dg_bucket_acl_put(dg_client *cl, const char *url, const dg_acl *acl, dg_error *err);
/* The ACL as JSON, as aws s3api get-bucket-acl prints it. */
DG_API int dg_bucket_acl_get(dg_client *cl, const char *url, char *json, size_t cap,
	dg_error *err);

#ifdef __cplusplus
}
#endif
#endif /* DELTAGLIDER_H */
/* ==== deltaglider.h end ============================================== */

/* ======================================================================
 * §0  Includes, limits, and the interfaces between sections
 * ====================================================================== */

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#include <sys/auxv.h>
#endif

#include <bearssl.h>
#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>
#include <lzma.h>
#include <zlib.h>
/* xdelta3.h defines these itself; glibc's features.h already did. */
#undef _POSIX_SOURCE
#undef _ISOC99_SOURCE
#include <xdelta3.h>

#ifndef DG_VERSION
#define DG_VERSION "0.0.0"
#endif
#define DG_TOOL "deltaglider/" DG_VERSION

#define DG_MAX_KEY     1024       /* S3 keys are at most 1024 bytes */
#define DG_MAX_URL     (DG_MAX_KEY + 512)
#define DG_MAX_PATH    4096
#define DG_MAX_WHY     96         /* why one key of a batch delete failed */
#define DG_MAX_CONCURRENCY 64     /* threads of parallel work, per client */

/* ---- §1 Platform and utilities ---------------------------------------- */

typedef struct sys_log {
	int level;
} sys_log;

/* Growable byte buffer, always NUL-terminated for convenience. */
typedef struct sys_buf {
	char *data;
	size_t len, cap;
} sys_buf;

static int sys_fail(dg_error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int sys_fail_errno(dg_error *e, int code, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void sys_err_prefix(dg_error *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sys_logf(const sys_log *lg, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int sys_buf_reserve(sys_buf *b, size_t extra);
static int sys_buf_add(sys_buf *b, const void *p, size_t n);
static int sys_buf_adds(sys_buf *b, const char *s);
static int sys_buf_printf(sys_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sys_buf_free(sys_buf *b);
static size_t sys_strlcpy(char *dst, const char *src, size_t n);
static int sys_ends_with_ci(const char *s, const char *suffix);
static int sys_parse_u64(const char *s, uint64_t *out);
static int sys_parse_size(const char *s, uint64_t *out);
static int64_t sys_now_ms(void);
static void sys_sleep_ms(int64_t ms);
static int sys_time_parse(const char *s, time_t *out);
static void sys_time_amz(time_t t, char out[17]);
static void sys_time_iso(time_t t, long usec, int with_z, char out[32]);
static void sys_time_http(time_t t, char out[32]);
static DG_CLI_ONLY void sys_time_local(time_t t, char out[20]);
static DG_CLI_ONLY void sys_human_size(uint64_t n, char out[32]);
static int sys_read_file(const char *path, size_t limit, sys_buf *out, dg_error *e);
static int sys_write_all(int fd, const void *p, size_t n, dg_error *e, const char *what);
static int sys_pread_all(int fd, void *p, size_t n, uint64_t off, size_t *got, dg_error *e);
static int sys_mkdirs(const char *path, mode_t mode, dg_error *e);
static int sys_tmp_open(const char *final_path, char *tmp_path, size_t n, dg_error *e);
static int sys_is_tmp_name(const char *name);
static int sys_tmpfile(const char *dir, dg_error *e);
static mode_t sys_umask(void);
static const char *sys_basename(const char *path);
static int sys_same_dir(const char *a, const char *b);
static int sys_url_decode(char *s, int plus_space);
static int sys_put_utf8(char *out, size_t cap, size_t *o, unsigned long cp);
static int sys_json_escape(sys_buf *out, const char *s);
static int sys_json_string(const char *js, const jsmntok_t *t, char *out, size_t cap);
static int sys_json_find(const char *js, const jsmntok_t *tok, int n, int obj, const char *key);
static int sys_json_u64(const char *js, const jsmntok_t *tok, int n, int obj, const char *key,
	uint64_t *out);

/* Where bytes go, in every layer (a response body, a decoded file);
 * reset() starts it over for a retry. */
typedef struct sys_sink {
	int (*write)(void *ctx, const unsigned char *p, size_t n, dg_error *e);
	int (*reset)(void *ctx, dg_error *e);
	void *ctx;
} sys_sink;

#define SYS_DOC_MAX (16u << 20)     /* largest document read into memory */

/* Headers an object is written with besides its metadata (Content-Type,
 * ACL, storage class, encryption), under their S3 names; values borrowed. */
#define SYS_HDRS_MAX 10
typedef struct sys_hdrs {
	size_t n;
	const char *name[SYS_HDRS_MAX];
	const char *value[SYS_HDRS_MAX];
} sys_hdrs;

/* Object metadata: user metadata, names without x-amz-meta-. */
#define SYS_META_MAX 32
#define SYS_META_SPACE 8192
typedef struct sys_meta {
	size_t n;
	const char *name[SYS_META_MAX];
	const char *value[SYS_META_MAX];
	char space[SYS_META_SPACE];
	size_t used;
	const sys_hdrs *hdrs;        /* written along (S3 only); NULL: none */
} sys_meta;

/* An object of any store, as listed or HEADed. */
typedef struct sys_object {
	char key[DG_MAX_KEY + 1];
	uint64_t size;
	time_t mtime;
	char etag[80];
	char content_type[96];       /* HEAD and GET only; "" when not known */
	/* HEAD and GET only, for copies to carry; "" when absent or too long */
	char cache_control[256], content_disposition[512], content_encoding[64], expires[64];
	int is_prefix;               /* a CommonPrefix from a delimited listing */
} sys_object;

typedef int (*sys_list_fn)(void *ctx, const sys_object *obj, dg_error *e);

static int sys_sink_buf_write(void *ctx, const unsigned char *p, size_t n, dg_error *e);
static int sys_sink_buf_reset(void *ctx, dg_error *e);
static int sys_sink_is_memory(const sys_sink *s);
static int sys_sink_copy_fd(int fd, const sys_sink *out, dg_error *e);
static void sys_meta_init(sys_meta *m);
static int sys_meta_set(sys_meta *m, const char *name, const char *value);
static const char *sys_meta_get(const sys_meta *m, const char *name);
static int sys_json_meta(const char *js, size_t len, sys_meta *meta);

/* ---- §2 Crypto glue ---------------------------------------------------- */

static void crypto_hex(const unsigned char *in, size_t n, char *out);
static void crypto_sha256(const void *p, size_t n, unsigned char out[32]);
static void crypto_sha256_update(br_sha256_context *c, const void *p, size_t n);
static int crypto_is_sha_hex(const char *s);
static void crypto_sha256_hex(const void *p, size_t n, char out[65]);
static void crypto_md5_b64(const void *p, size_t n, char out[25]);
static void crypto_hmac_sha256(const void *key, size_t klen, const void *p, size_t n,
	unsigned char out[32]);
static int crypto_random(void *p, size_t n);
static size_t crypto_b64_encode(const unsigned char *in, size_t n, char *out);
static int crypto_b64_decode(const char *in, unsigned char *out, size_t cap, size_t *outlen);
static int crypto_sha256_fd(int fd, char hex[65], uint64_t *size, dg_error *e);

/* SHA-256 of a file as it is written, on a thread that reads it back:
 * the producer (the decoder, a download) never waits for the hash. */
typedef struct crypto_hasher {
	br_sha256_context sha;
	int fd;                      /* the file followed; -1: hash inline */
	uint64_t written, hashed;
	int started, stop, failed;
	pthread_t id;
	pthread_mutex_t lock;
	pthread_cond_t cv;
} crypto_hasher;
static void crypto_hasher_init(crypto_hasher *h, int fd);
static void crypto_hasher_update(crypto_hasher *h, const void *p, size_t n);
static void crypto_hasher_reset(crypto_hasher *h);
static int crypto_hasher_out(crypto_hasher *h, unsigned char out[32]);
static void crypto_hasher_end(crypto_hasher *h);

typedef struct crypto_gcm {
	br_aes_gen_ctr_keys keys;
	br_gcm_context gcm;
} crypto_gcm;
static void crypto_gcm_init(crypto_gcm *g, const unsigned char key[32]);
static void crypto_gcm_seal(crypto_gcm *g, const unsigned char iv[12], const void *aad,
	size_t alen, void *data, size_t n, unsigned char tag[16]);
static int crypto_gcm_open(crypto_gcm *g, const unsigned char iv[12], const void *aad,
	size_t alen, void *data, size_t n, const unsigned char tag[16]);

/* ---- §3 Network and HTTP/1.1 ----------------------------------------- */

/* Trust configuration, loaded once in main and shared read-only. */
typedef struct http_tls {
	br_x509_trust_anchor *anchors;
	size_t n_anchors;
	int insecure;                 /* --no-verify-ssl */
	char ca_file[DG_MAX_PATH];    /* where the anchors came from */
	int loaded;
} http_tls;

/* An HTTP proxy from HTTP_PROXY / HTTPS_PROXY: http://[user:pass@]host:port */
typedef struct http_proxy {
	char host[256];
	int port;
	char auth[600];              /* "Basic <base64>", or empty */
} http_proxy;

typedef struct http_cfg {
	const http_tls *tls;
	const sys_log *log;
	int connect_timeout_ms;
	int read_timeout_ms;
	void (*meter)(void *ctx, uint64_t bytes);   /* request body bytes sent: progress */
	void *meter_ctx;
	http_proxy http_proxy;       /* for http:// targets; host empty: none */
	http_proxy https_proxy;      /* for https:// targets, through CONNECT */
	char no_proxy[2048];
} http_cfg;

typedef struct http_hdr {
	const char *name;
	const char *value;
} http_hdr;

/* A request body: memory, a range of a file, or a file read to its end
 * and sent chunked. Kept rewindable so a request can be retried. */
typedef struct http_body {
	const unsigned char *mem;
	int fd;                  /* -1 for a memory body */
	uint64_t off, len;
	int chunked;             /* send fd from off to EOF with chunked coding */
} http_body;

typedef struct http_req {
	const char *method;
	const char *host;            /* connect here */
	int port;
	int tls;
	const char *target;          /* path and query, already encoded */
	const http_hdr *hdrs;
	size_t nhdrs;
	const http_body *body;       /* NULL: no body */
	/* Time limits beyond the per-read timeout (see http_progress): every
	 * exchange must keep moving, and a bounded one (a document, not a
	 * file's bytes) must also be over within HTTP_DEADLINE_FACTOR read
	 * timeouts; one that may stall (the server sends keep-alive spaces
	 * while it works) is held to that deadline alone. */
	int bounded;
	int may_stall;
} http_req;

#define HTTP_HDR_SPACE 16384
#define HTTP_ERRBODY_MAX 65536
#define HTTP_MIN_RATE 1024           /* bytes/s an exchange must move (http_progress) */
#define HTTP_DEADLINE_FACTOR 15      /* deadline of a bounded exchange, in read timeouts */
enum { HTTP_SLOW_RATE = 1, HTTP_SLOW_DEADLINE };
typedef struct http_resp {
	int status;
	char hdrs[HTTP_HDR_SPACE];   /* "name\0value\0" pairs, names lower case */
	size_t hlen;
	int64_t content_length;      /* -1 when absent */
	sys_buf errbody;             /* body of a non-2xx answer, truncated */
} http_resp;

typedef struct http_conn http_conn;
typedef struct http_client {
	const http_cfg *cfg;
	http_conn *conn;             /* one persistent connection, on demand */
} http_client;

static int http_tls_load(http_tls *t, const char *pem_path, dg_error *e);
static int http_proxy_env(http_cfg *cfg, char *(*env)(const char *), dg_error *e);
static void http_tls_free(http_tls *t);
static void http_client_init(http_client *c, const http_cfg *cfg);
static void http_client_close(http_client *c);
static int http_do(http_client *c, const http_req *req, http_resp *resp,
	const sys_sink *sink, dg_error *e);
static const char *http_resp_header(const http_resp *r, const char *name);
static void http_resp_free(http_resp *r);

/* ---- §4 AWS configuration, credentials and SigV4 ---------------------- */

typedef struct aws_creds {
	char access_key[128];
	char secret_key[128];
	char token[4096];
	char source[48];             /* where they came from, for --debug */
} aws_creds;

enum { AWS_ADDR_AUTO, AWS_ADDR_PATH, AWS_ADDR_VIRTUAL };

typedef struct aws_config {
	char profile[128];
	int profile_explicit;        /* --profile given: env keys are ignored */
	char region[64];
	char endpoint[512];          /* empty: the AWS endpoint of region */
	char endpoint_host[256];
	int endpoint_port;
	int endpoint_tls;
	char endpoint_path[256];     /* base path of a custom endpoint, no trailing / */
	int addressing;
	char ca_bundle[DG_MAX_PATH];
	int verify_ssl;
	int max_attempts;
	unsigned max_concurrent;     /* s3.max_concurrent_requests */
	int archive_deltas;          /* deltaglider_archive_deltas = true */
	unsigned page_size;          /* keys per listing page (--page-size); 0: the server's */
	uint64_t mp_threshold;
	uint64_t mp_chunksize;
	aws_creds creds;
	int have_creds;
	int anonymous;               /* requests go unsigned (public buckets) */
	/* Credentials that come from elsewhere and expire are fetched, and
	 * fetched again shortly before they do. */
	int creds_kind;              /* AWS_CREDS_* */
	time_t expiration;           /* 0: they do not expire */
	char process[1024];          /* credential_process */
	char role_arn[256];          /* web identity */
	char token_file[DG_MAX_PATH];
	char session_name[128];
	int region_known;            /* from --region, the environment or the profile */
	int region_flag;             /* from --region */
	/* The bucket copies read from, in a region of its own (--source-region). */
	char source_bucket[64];
	char source_region[64];
	int request_payer;           /* x-amz-request-payer: requester on every request */
	/* SSE-C keys as sent: base64 of the key and of its MD5 (empty: none). */
	char ssec_key[48], ssec_md5[32];
	char ssec_src_key[48], ssec_src_md5[32];   /* a copy's source */
	int imds_off;                /* AWS_EC2_METADATA_DISABLED */
	int ec2_detection;           /* region from EC2 metadata (DG_DISABLE_EC2_DETECTION) */
	int imds_absent;             /* a probe found no metadata service: not again */
	char *(*getenv)(const char *name);   /* aws_opts.getenv */
} aws_config;

enum { AWS_CREDS_STATIC, AWS_CREDS_WEB_IDENTITY, AWS_CREDS_PROCESS, AWS_CREDS_CONTAINER,
	AWS_CREDS_IMDS };

typedef struct aws_url {
	int tls;
	char host[256];
	int port;
	char path[1024];             /* path and query, "/" at least */
} aws_url;

typedef struct aws_sigv4 {
	const char *method;
	const char *uri;             /* canonical (encoded) path */
	const char *query;           /* canonical query string */
	const http_hdr *hdrs;        /* headers to sign, any case/order */
	size_t nhdrs;
	const char *payload_hash;    /* hex SHA-256 or UNSIGNED-PAYLOAD */
	const char *region;
	const char *service;
	const char *amz_date;        /* YYYYMMDDTHHMMSSZ */
} aws_sigv4;

typedef struct aws_opts {        /* what the caller says; NULL: look it up */
	const char *profile;
	const char *region;
	const char *endpoint;
	const char *ca_bundle;
	int no_verify_ssl;
	const char *access_key, *secret_key, *token;   /* explicit keys win */
	char *(*getenv)(const char *name);   /* NULL: no environment, no ~/.aws */
	int anonymous;                   /* --no-sign-request */
} aws_opts;

static int aws_config_load(aws_config *cfg, const aws_opts *o, dg_error *e);
static int aws_resolve(aws_config *cfg, const http_cfg *hc, dg_error *e);
static int aws_ec2_place(aws_config *cfg, const http_cfg *hc, char region[64], char zone[64]);
static int aws_refresh_if_needed(aws_config *cfg, const http_cfg *hc, dg_error *e);
static int aws_uri_encode(sys_buf *out, const char *s, int keep_slash);
static int aws_sigv4_sign(const aws_creds *c, const aws_sigv4 *s, sys_buf *authz,
	sys_buf *canonical, sys_buf *to_sign);

/* A presigned URL: query-string SigV4, only the Host header signed. */
#define AWS_PRESIGN_MAX 604800       /* seconds: SigV4 allows a week at most */
typedef struct aws_presign_req {
	const char *method;
	const char *origin;          /* "https://host[:port]" */
	const char *host;            /* the Host header: host[:port] */
	const char *path;            /* canonical (encoded) path */
	const http_hdr *query;       /* more parameters, unencoded */
	size_t nquery;
	const char *region;
	time_t when;
	unsigned expires;            /* seconds, 1 to AWS_PRESIGN_MAX */
} aws_presign_req;
static int aws_presign(const aws_creds *c, const aws_presign_req *p, sys_buf *url);

/* ---- §5 XML scanner ---------------------------------------------------- */

typedef struct xml_node {
	const char *name;            /* local name (after any prefix) */
	size_t name_len;
	const char *body;            /* content between the tags */
	size_t body_len;
} xml_node;

typedef struct xml_iter {
	const char *p, *end;
} xml_iter;

static int xml_root(const char *doc, size_t len, xml_node *root);
static void xml_iter_init(xml_iter *it, const xml_node *parent);
static int xml_next(xml_iter *it, xml_node *child);
static int xml_child(const xml_node *parent, const char *name, xml_node *child);
static int xml_text(const xml_node *n, char *out, size_t cap);
static int xml_child_text(const xml_node *parent, const char *name, char *out, size_t cap);
static int xml_is(const xml_node *n, const char *name);
static int xml_escape(sys_buf *out, const char *s);

/* ---- §6 S3 client ------------------------------------------------------ */

/* Work spread over several S3 clients, each with its own connection: §10
 * runs job(jctx, client, i) for every i below n, in parallel, and returns
 * when all are done; jobs start in the order of i. The parts of a
 * multipart upload and the ranges of a large download go this way. */
typedef struct s3_client s3_client;
typedef void (*s3_job_fn)(void *jctx, s3_client *c, size_t i);
typedef struct s3_fanout {
	void (*run)(void *ctx, size_t n, s3_job_fn job, void *jctx);
	unsigned (*width)(void *ctx);    /* how many run would run at once now */
	void *ctx;
} s3_fanout;

struct s3_client {
	aws_config *cfg;             /* not const: temporary credentials are refreshed */
	const sys_log *log;
	http_client http;
	int64_t skew;                /* server clock minus ours, seconds (Date headers) */
	int clock_known;             /* a Date header was seen */
	const s3_fanout *fanout;     /* NULL: one request at a time */
};


/* A multipart upload in progress (ListMultipartUploads). */
typedef struct s3_upload {
	char key[DG_MAX_KEY + 1];
	char id[1024];
	time_t initiated;
} s3_upload;
typedef int (*s3_upload_fn)(void *ctx, const s3_upload *up, dg_error *e);

#define S3_IF_ABSENT 1           /* create only: If-None-Match: *, DG_EEXIST on 412 */

static void s3_client_init(s3_client *c, aws_config *cfg, const http_cfg *hc);
static void s3_client_close(s3_client *c);
static int s3_list_buckets(s3_client *c, sys_list_fn fn, void *ctx, dg_error *e);
static int s3_create_bucket(s3_client *c, const char *bucket, dg_error *e);
static int s3_delete_bucket(s3_client *c, const char *bucket, dg_error *e);
static int s3_list(s3_client *c, const char *bucket, const char *prefix,
	const char *delimiter, sys_list_fn fn, void *ctx, dg_error *e);
static int s3_head(s3_client *c, const char *bucket, const char *key,
	sys_object *obj, sys_meta *meta, dg_error *e);
static int s3_get(s3_client *c, const char *bucket, const char *key, const sys_sink *sink,
	sys_object *obj, sys_meta *meta, dg_error *e);
static int s3_put_file(s3_client *c, const char *bucket, const char *key, int fd,
	uint64_t size, const char *sha256_hex, const sys_meta *meta, int flags, dg_error *e);
static int s3_put_mem(s3_client *c, const char *bucket, const char *key,
	const void *p, size_t n, const sys_meta *meta, int flags, dg_error *e);
static int s3_copy(s3_client *c, const char *src_bucket, const char *src_key,
	const char *bucket, const char *key, const sys_meta *meta, dg_error *e);
static int s3_delete(s3_client *c, const char *bucket, const char *key, dg_error *e);
static int s3_delete_many(s3_client *c, const char *bucket, const char *const *keys,
	size_t n, char (*why)[DG_MAX_WHY], dg_error *e);
static int s3_list_uploads(s3_client *c, const char *bucket, const char *prefix,
	s3_upload_fn fn, void *ctx, dg_error *e);
static int s3_abort_upload(s3_client *c, const char *bucket, const char *key, const char *id,
	dg_error *e);
static time_t s3_server_time(const s3_client *c);
static int s3_presign(s3_client *c, const char *method, const char *bucket, const char *key,
	const http_hdr *query, size_t nquery, unsigned expires, sys_buf *url, dg_error *e);
static int s3_acl_get(s3_client *c, const char *bucket, sys_buf *json, dg_error *e);
static int s3_acl_put(s3_client *c, const char *bucket, const http_hdr *grants, size_t n,
	const char *policy, dg_error *e);

/* ---- §7 Storage back-ends -------------------------------------------- */

typedef struct store store;
#define STORE_IF_ABSENT S3_IF_ABSENT   /* put: create only; DG_EEXIST if there */
#define STORE_LOCKS ".deltaglider/locks/"  /* s3:// lock objects (see "Locks" in §10) */
#define STORE_FILE_LOCKS ".dglocks"         /* file:// : a hidden folder per DeltaSpace */
typedef struct store_ops {
	int (*list)(store *s, const char *prefix, const char *delimiter, sys_list_fn fn,
		void *ctx, dg_error *e);
	int (*head)(store *s, const char *key, sys_object *obj, sys_meta *meta, dg_error *e);
	int (*get)(store *s, const char *key, const sys_sink *sink, sys_object *obj,
		sys_meta *meta, dg_error *e);
	int (*put_file)(store *s, const char *key, int fd, uint64_t size,
		const char *sha256_hex, const sys_meta *meta, int flags, dg_error *e);
	int (*put_mem)(store *s, const char *key, const void *p, size_t n,
		const sys_meta *meta, int flags, dg_error *e);
	int (*del)(store *s, const char *key, dg_error *e);
	/* Every key is tried. why (NULL, or n entries, empty on entry) gets the
	 * reason each failed key was not deleted; e the first. */
	int (*del_many)(store *s, const char *const *keys, size_t n, char (*why)[DG_MAX_WHY],
		dg_error *e);
	/* Server-side copy from another store of the same kind, with new
	 * metadata; NULL where there is none (file://). */
	int (*copy)(store *s, const store *from, const char *from_key, const char *key,
		const sys_meta *meta, dg_error *e);
	/* 1 when a STORE_IF_ABSENT put of size bytes is atomic here, 0 when
	 * not, -1 when the store could not be asked. */
	int (*exclusive)(store *s, uint64_t size, dg_error *e);
	/* Now by the store's clock, which dates its objects; 0 when not known
	 * yet (an S3 server that has not answered). */
	time_t (*now)(store *s);
	/* Multipart uploads in progress, and abandoning one; NULL: none here. */
	int (*uploads)(store *s, const char *prefix, s3_upload_fn fn, void *ctx, dg_error *e);
	int (*abort_upload)(store *s, const char *key, const char *id, dg_error *e);
	/* Where the lock objects of the DeltaSpace space live (ends in /). */
	void (*lock_dir)(store *s, const char *space, char *out, size_t n);
} store_ops;

/* What a client's S3 stores learnt of their buckets' conditional writes.
 * Workers use copies of their parent's stores, so the answers live here,
 * with the parent: one probe and one warning per bucket per client. */
#define STORE_PROBES 8           /* buckets remembered; more are probed again */
typedef struct store_probes {
	pthread_mutex_t lock;        /* held across a probe: the others wait for it */
	struct store_probe {
		char bucket[64];
		int exclusive;       /* 1 honoured, -1 ignored */
	} b[STORE_PROBES];
	unsigned n;                  /* answers recorded, the oldest overwritten */
} store_probes;

struct store {
	const store_ops *ops;
	s3_client *s3;               /* s3:// */
	char bucket[64];
	char root[DG_MAX_PATH];      /* file:// : the directory keys are relative to */
	mode_t umask;                /* file:// : for the files it creates */
	int exclusive;               /* s3:// : probed? 1 honoured, -1 ignored, 0 not yet */
	store_probes *probes;        /* s3:// : the client's answers, shared; NULL: own only */
};

static void store_open_s3(store *s, s3_client *c, const char *bucket, store_probes *probes);
static void store_open_file(store *s, const char *root, mode_t umask_bits);

/* ---- §8 Delta engine -------------------------------------------------- */

/* Random-access bytes: a reference, from the cache or a local file. */
typedef struct delta_src {
	int (*read)(void *ctx, uint64_t off, void *buf, size_t n, size_t *got, dg_error *e);
	void *ctx;
	uint64_t size;
} delta_src;

typedef struct delta_opts {
	const char *target_name;     /* names for the VCDIFF application header */
	const char *source_name;
	uint64_t window_max;         /* the largest source window, bytes */
	int hash_target;             /* compute res->target_sha */
	int level;                   /* 1-9: the matcher xdelta3 -N would use */
	uint64_t max_delta;          /* stop once the delta exceeds this; 0: no limit */
	void (*progress)(void *ctx, uint64_t bytes);   /* target bytes encoded; may be NULL */
	void *progress_ctx;
} delta_opts;

typedef struct delta_result {
	uint64_t target_size;
	unsigned char target_sha[32];
	uint64_t delta_size;
	char delta_sha_hex[65];
	int over;                    /* stopped: the delta exceeded max_delta */
} delta_result;

static int delta_encode(const delta_src *src, int target_fd, int out_fd,
	const delta_opts *o, delta_result *res, dg_error *e);
static int delta_hopeless(const delta_src *src, int target_fd, uint64_t target_size,
	uint64_t max_delta, uint64_t *estimate, dg_error *e);
/* The memory an encode or a decode against a source of this size keeps
 * for the source, the measure of parallel work's budget. */
static uint64_t delta_encode_memory(uint64_t source_size, uint64_t window_max);
static uint64_t delta_decode_memory(uint64_t source_size);
/* path: where to look for gzip (PATH's form; NULL: DELTA_PATH). */
static int delta_decode(const delta_src *src, int delta_fd, const sys_sink *out,
	const char *tmpdir, const char *path, dg_error *e);
static int delta_fd_read(void *ctx, uint64_t off, void *buf, size_t n, size_t *got, dg_error *e);

/* Archive-aware deltas: a file's expanded form (its deflate streams
 * inflated) written to out_fd; a target keeps expanded only the streams
 * zlib regenerates exactly (exact), a reference every stream it can
 * inflate. A rebuild sink turns an expanded form back into the file. */
typedef struct delta_arc_stats {
	uint64_t streams;            /* deflate streams inflated */
	uint64_t exact;              /* of which zlib regenerates bit for bit */
	uint64_t same;               /* kept as they are: the reference has them */
	uint64_t expanded;           /* bytes of the expanded form */
} delta_arc_stats;

/* The reference's streams, by a hash of their compressed bytes: a
 * reference's expansion fills it, a target's skips what is in it. */
typedef struct delta_arc_known {
	uint64_t *hash;              /* sorted once filled */
	size_t n, cap;
} delta_arc_known;

static int delta_expand(const delta_src *in, int out_fd, int exact, delta_arc_known *known,
	delta_arc_stats *st, void (*progress)(void *ctx, uint64_t bytes), void *progress_ctx,
	dg_error *e);
static int delta_arc_probe(const delta_src *in, int scratch, dg_error *e);

typedef struct delta_rebuild {
	const sys_sink *out;
	unsigned char hdr[16];       /* the magic, then a segment header, gathered */
	size_t have;
	int stage;                   /* DELTA_RB_* */
	int tag;                     /* of the segment in hand */
	uint64_t left;               /* its bytes still to come */
	int zlevel, zmem, zwbits, zstrategy;   /* the deflater's parameters, if set up */
	int zready;
	z_stream z;
	unsigned char *buf;
} delta_rebuild;

static int delta_rebuild_init(delta_rebuild *r, const sys_sink *out, sys_sink *as, dg_error *e);
static int delta_rebuild_end(delta_rebuild *r, int ok, dg_error *e);

/* ---- §9 Reference cache ----------------------------------------------- */

enum { CACHE_FS, CACHE_MEMORY };

typedef struct cache_cfg {
	int memory;                  /* DG_CACHE_BACKEND=memory */
	uint64_t memory_mb;
	const char *dir;             /* DG_CACHE_DIR */
	const char *key_b64;         /* DG_CACHE_ENCRYPTION_KEY */
	const char *tmpdir;          /* anonymous entries: spills, and when bypassing */
} cache_cfg;

typedef struct cache {
	int backend;
	int ephemeral;               /* per-process key: per-process directory */
	int bypass;                  /* the directory is unusable: anonymous files only */
	char base[DG_MAX_PATH];
	char dir[DG_MAX_PATH];       /* where entries are; made on first use */
	int base_fd, dir_fd;         /* both opened without following symlinks */
	const char *tmpdir;
	unsigned char key[32];
	crypto_gcm gcm;
	struct cache_ent *ents;      /* in memory, or in anonymous files */
	uint64_t mem_used, mem_limit, tick;
	pthread_mutex_t lock;
	const sys_log *log;
} cache;

/* A cached reference being read. */
typedef struct cache_ref {
	delta_src src;
	cache *c;
	int fd;
	struct cache_ent *mem;
	unsigned char hdr[64];
	unsigned char *chunk;
	uint64_t chunk_index;
} cache_ref;

/* A reference being cached; sink takes its bytes. */
typedef struct cache_writer {
	cache *c;
	sys_sink sink;
	int fd;
	int anonymous;               /* fd is an unlinked file, not one in the directory */
	int local_error;             /* writing failed here, not in what fed it */
	char tmp[80];                /* its name in the directory while written */
	char sha_hex[65];
	unsigned char hdr[64];
	br_sha256_context sha;
	unsigned char *chunk;
	size_t fill;
	uint64_t size, index;
	int to_memory;
	sys_buf mem;
} cache_writer;

static int cache_open(cache *c, const cache_cfg *cfg, const sys_log *lg, dg_error *e);
static void cache_close(cache *c);
static int cache_get(cache *c, const char *sha, cache_ref *r, dg_error *e);
static void cache_release(cache_ref *r);
static int cache_put_begin(cache *c, const char *sha, cache_writer *w, dg_error *e);
static int cache_put_commit(cache_writer *w, cache_ref *r, dg_error *e);
static void cache_put_abort(cache_writer *w);
static void cache_bypass(cache *c, const char *why);

/* ---- §10 DeltaGlider core ------------------------------------------- */

/* Threads we start (workers, fetches): a main thread's stack, as
 * frames hold 64 KiB buffers. */
#define DG_THREAD_STACK (8u << 20)

/* Memory for delta windows, shared by a client and its workers (see
 * "Parallel work" in §10). */
typedef struct dg_budget {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	uint64_t total, used;
} dg_budget;

/* The object in hand, for the progress callback (see "Progress" in §10). */
typedef struct dg_progress {
	pthread_mutex_t lock;        /* parts go up on several threads */
	int active;                  /* an object is in hand */
	int sending;                 /* the request bodies sent now are its bytes */
	uint64_t size;               /* UINT64_MAX: not known yet (a download) */
	uint64_t step;               /* bytes the current step has done */
	uint64_t reported;           /* the furthest any step got: told so far */
} dg_progress;

typedef struct dg_ctx {
	const sys_log *log;
	mode_t umask;                /* for files we create */
	cache *cache;
	double max_ratio;            /* store directly when delta/size exceeds it */
	int no_delta;
	int archive_deltas;          /* see "Archive-aware deltas" in §10 */
	uint64_t window_max;         /* DG_WINDOW_MB */
	int level;                   /* DG_COMPRESSION_LEVEL: the encoder's, 1-9 */
	struct dg_client *client;    /* the client this core belongs to (parallel work) */
	const dg_config *cfg;        /* its configuration (object options) */
	/* The source of a copy in progress: the new object keeps its content
	 * type, Cache-Control, Content-Disposition, Content-Encoding, Expires
	 * and user metadata unless the options give others. */
	const sys_object *copy_obj;
	const sys_meta *copy_meta;
	struct dg_found *found;      /* filled by dg_fetch when set */
	struct dg_budget *budget;    /* memory for delta windows, shared by a client's workers */
	const char *tmpdir;
	const char *path;            /* PATH, for gzip (see delta_decode); NULL: the default */
	/* Lock objects (see "Locks" in §10): who we are, what we hold. */
	char holder[160];            /* host.pidns.pid.tSTART.random; empty until needed */
	size_t holder_host;          /* length of its "host.pidns." part; 0: pidns unknown */
	struct dg_lease *leases;     /* released by dg_close */
	int *locks_denied;           /* the store refused lock objects: warned once (a
	                                worker points at its parent's, atomic) */
	int locks_denied_own;
	struct dg_mime_types *mime;  /* the client's (a worker's: its parent's) */
	dg_progress prog;
} dg_ctx;


static void dg_close(dg_ctx *g);
static void dg_client_report(struct dg_client *cl, uint64_t bytes);
static uint64_t dg_budget_take(dg_budget *b, uint64_t want);
static void dg_budget_give(dg_budget *b, uint64_t n);
static int dg_put(dg_ctx *g, store *s, const char *key, const char *path,
	dg_put_result *res, dg_error *e);
static int dg_get(dg_ctx *g, store *s, const char *key, const char *path, dg_error *e);
static int dg_get_stream(dg_ctx *g, store *s, const char *key, int fd, const sys_sink *next,
	dg_error *e);
static int dg_info(store *s, const char *key, dg_object_info *info, dg_error *e);
static int dg_verify(dg_ctx *g, store *s, const char *key, char want[65], char got[65],
	dg_error *e);
static int dg_rm(dg_ctx *g, store *s, const char *key, dg_error *e);
static int dg_rm_many(dg_ctx *g, store *s, const dg_entry *ents, size_t n,
	char (*why)[DG_MAX_WHY], dg_error *e);
static int dg_put_fd(dg_ctx *g, store *s, const char *key, int fd, dg_put_result *res,
	dg_error *e);
static int dg_fetch_tmp(dg_ctx *g, store *s, const char *key, dg_error *e);
static int dg_copy(dg_ctx *g, store *src, const char *skey, store *dst, const char *dkey,
	dg_put_result *res, dg_error *e);
static int dg_list(dg_ctx *g, store *s, const char *prefix, const char *delimiter,
	dg_list_fn fn, void *ctx, dg_error *e);
static int dg_cleanup_reference(dg_ctx *g, store *s, const char *prefix, dg_error *e);
static int dg_cleanup_orphans(dg_ctx *g, store *s, const char *prefix, dg_error *e);
static int dg_fetch(dg_ctx *g, store *s, const char *key, const sys_sink *out,
	char want_sha[65], dg_error *e);

static int dg_stats_get(dg_ctx *g, store *s, const char *bucket, int mode, int use_cache,
	int refresh, dg_stats *st, dg_error *e);

static int dg_purge(dg_ctx *g, store *s, int dry_run, dg_purge_result *r, dg_list_fn fn,
	void *ctx, dg_error *e);

/* What gc found; fn hears of each, after it was dealt with. */
enum { DG_GC_ORPHAN, DG_GC_KEPT, DG_GC_NO_REFERENCE, DG_GC_UPLOAD, DG_GC_LOCK };
typedef struct dg_gc_item {
	int kind;
	const char *key;             /* the object, or an upload's key */
	const char *detail;          /* DG_GC_NO_REFERENCE: the reference; DG_GC_UPLOAD: its id */
	time_t when;                 /* DG_GC_UPLOAD: when it was started */
} dg_gc_item;
typedef int (*dg_gc_fn)(void *ctx, const dg_gc_item *it, dg_error *e);
static DG_CLI_ONLY int dg_gc(dg_ctx *g, store *s, const char *prefix, int dry_run,
	time_t max_age, dg_gc_fn fn, void *ctx, dg_error *e);

typedef struct dg_group {        /* one DeltaSpace in an analysis */
	char space[DG_MAX_KEY + 1];
	uint64_t files, bytes, est_stored, sampled;
	double ratio;                /* estimated stored/original of its deltas */
} dg_group;
typedef struct dg_analysis {
	uint64_t files, bytes, est_stored, groups;
} dg_analysis;
typedef int (*dg_group_fn)(void *ctx, const dg_group *grp, dg_error *e);
static DG_CLI_ONLY int dg_analyze(dg_ctx *g, store *s, const char *prefix, unsigned samples,
	dg_analysis *total, dg_group_fn fn, void *ctx, dg_error *e);

/* The client (the composition root) and the URLs it opens stores from. */
enum { DG_URL_LOCAL, DG_URL_S3, DG_URL_FILE };
typedef struct dg_url {
	int kind;
	char bucket[64];
	char key[DG_MAX_KEY + 1];    /* file:// : the path below /; local: the path */
	const char *text;            /* as written */
} dg_url;
static int dg_url_parse(const char *arg, dg_url *u, dg_error *e);
static DG_CLI_ONLY dg_ctx *dg_client_ctx(dg_client *cl);
static int dg_client_store(dg_client *cl, const dg_url *u, store *s, dg_error *e);
/* Parallel work: fn runs once per job i, on the client of a thread; slot
 * numbers the thread (0: the caller's, with cl itself). */
typedef void (*dg_job_fn)(void *ctx, dg_client *w, unsigned slot, size_t i);
static void dg_parallel(dg_client *cl, size_t n, dg_job_fn fn, void *ctx);
static void dg_worker_store(dg_client *w, const store *s, store *out);
static void dg_s3_fanout(void *ctx, size_t n, s3_job_fn job, void *jctx);
static unsigned dg_s3_fanout_width(void *ctx);
static int dg_parse_ratio(const char *v, double *out, dg_error *e);
static int dg_bucket_url(const char *url, dg_url *u, dg_error *e);
static int dg_bucket_remove(dg_client *cl, const dg_url *u, int force, sys_list_fn fn,
	void *ctx, dg_error *e);

/* ======================================================================
 * §1  Platform and utilities
 *
 * Errors, logging, growable buffers, time, and file helpers. Everything
 * else builds on these; nothing here knows about S3.
 * ====================================================================== */

static int sys_vfail(dg_error *e, int code, const char *fmt, va_list ap)
{
	e->code = code;
	e->http_status = 0;
	e->retryable = (code == DG_ENET);
	e->s3code[0] = 0;
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	return -1;
}

/* Standard or URL-safe alphabet, padding optional, whitespace refused. */
static int crypto_b64_decode(const char *in, unsigned char *out, size_t cap, size_t *outlen)
{
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0, pad = 0;

	for (; *in; in++) {
		int v;
		char c = *in;

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+' || c == '-')
			v = 62;
		else if (c == '/' || c == '_')
			v = 63;
		else if (c == '=') {
			pad++;
			continue;
		} else
			return -1;
		if (pad)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	if (pad > 2 || bits >= 6)
		return -1;
	*outlen = o;
	return 0;
}

static int sys_fail(dg_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sys_vfail(e, code, fmt, ap);
	va_end(ap);
	return -1;
}

/* Like sys_fail, with ": strerror(err)" appended. */
static int sys_fail_errno(dg_error *e, int code, int err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	sys_vfail(e, code, fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	snprintf(e->msg + n, sizeof e->msg - n, ": %s",
		err == ENOSPC ? "no space left on device" : strerror(err));
	return -1;
}

/* Put context in front of a message: "s3://b/k: " + "connection reset". */
static void sys_err_prefix(dg_error *e, const char *fmt, ...)
{
	char tmp[sizeof e->msg];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	n = (size_t)vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < sizeof tmp)
		sys_strlcpy(tmp + n, e->msg, sizeof tmp - n);
	memcpy(e->msg, tmp, sizeof e->msg);
}

static void sys_logf(const sys_log *lg, int level, const char *fmt, ...)
{
	static const char *const names[] = { "DEBUG", "INFO", "WARNING", "ERROR" };
	char line[2048];
	va_list ap;
	int n = snprintf(line, sizeof line, "%s: ", names[level]);

	if (lg == NULL || level < lg->level)
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	/* One write per line keeps lines whole when threads log at once
	 * (musl's dprintf writes each piece of its format on its own). */
	n = (int)strlen(line);
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;   /* nowhere else to say it */
}

static int sys_buf_reserve(sys_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX / 2 - b->len)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

static int sys_buf_add(sys_buf *b, const void *p, size_t n)
{
	if (sys_buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

static int sys_buf_adds(sys_buf *b, const char *s)
{
	return sys_buf_add(b, s, strlen(s));
}

static int sys_buf_printf(sys_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sys_buf_reserve(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

static void sys_buf_free(sys_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static size_t sys_strlcpy(char *dst, const char *src, size_t n)
{
	size_t len = strlen(src);

	if (n) {
		size_t c = len < n - 1 ? len : n - 1;
		memcpy(dst, src, c);
		dst[c] = 0;
	}
	return len;
}

static int sys_ends_with_ci(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

static int sys_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == 0)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* Sizes as the AWS CLI writes them in its config: "8MB", "64 MiB", "1048576".
 * Like the AWS CLI, KB/MB/GB are powers of 1024. */
static int sys_parse_size(const char *s, uint64_t *out)
{
	static const struct { const char *sfx; unsigned shift; } units[] = {
		{ "kib", 10 }, { "mib", 20 }, { "gib", 30 }, { "tib", 40 },
		{ "kb", 10 }, { "mb", 20 }, { "gb", 30 }, { "tb", 40 },
		{ "k", 10 }, { "m", 20 }, { "g", 30 }, { "t", 40 }, { "b", 0 },
	};
	char num[32];
	size_t i = 0, k;
	uint64_t v;

	while (*s == ' ')
		s++;
	while (s[i] >= '0' && s[i] <= '9' && i < sizeof num - 1) {
		num[i] = s[i];
		i++;
	}
	num[i] = 0;
	if (sys_parse_u64(num, &v) < 0)
		return -1;
	s += i;
	while (*s == ' ')
		s++;
	if (*s == 0) {
		*out = v;
		return 0;
	}
	for (k = 0; k < sizeof units / sizeof units[0]; k++) {
		if (strcasecmp(s, units[k].sfx) == 0) {
			if (v > (UINT64_MAX >> units[k].shift))
				return -1;
			*out = v << units[k].shift;
			return 0;
		}
	}
	return -1;
}

static int64_t sys_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sys_sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int sys_days_from_civil(int y, int m, int d, int64_t *days)
{
	/* Howard Hinnant's algorithm: proleptic Gregorian, no timezone state. */
	int64_t era, yoe, doy, doe;

	if (m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	*days = era * 146097 + doe - 719468;
	return 0;
}

/* Parse the timestamps S3 and DeltaGlider use, all UTC:
 *   2025-09-21T12:00:00.123456Z, 2025-09-21T12:00:00 (Python direct uploads),
 *   2025-09-21T12:00:00+00:00, and RFC 1123 "Sun, 21 Sep 2025 12:00:00 GMT". */
static int sys_time_parse(const char *s, time_t *out)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int y, mo, d, h, mi, sec, n = 0;
	char mon[4];
	int64_t days;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6) {
		const char *p = s + n;

		if (*p == '.')
			for (p++; *p >= '0' && *p <= '9'; p++)
				;
		if (*p == 'Z')
			p++;
		else if (strncmp(p, "+00:00", 6) == 0)
			p += 6;
		if (*p != 0)
			return -1;
	} else if (sscanf(s, "%*3s, %2d %3s %4d %2d:%2d:%2d GMT%n", &d, mon, &y, &h, &mi, &sec,
			&n) == 6 && s[n] == 0) {
		const char *m = strstr(months, mon);

		if (m == NULL || (m - months) % 3)
			return -1;
		mo = (int)(m - months) / 3 + 1;
	} else {
		return -1;
	}
	if (h > 23 || mi > 59 || sec > 60 || sys_days_from_civil(y, mo, d, &days) < 0)
		return -1;
	*out = (time_t)(days * 86400 + h * 3600 + mi * 60 + sec);
	return 0;
}

/* ISO 8601 with microseconds, as Python's datetime.isoformat() writes it. */
static void sys_time_iso(time_t t, long usec, int with_z, char out[32])
{
	struct tm tm;
	char base[24];

	gmtime_r(&t, &tm);
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%06u%s", base, (unsigned)(usec % 1000000), with_z ? "Z" : "");
}

/* An HTTP date (RFC 7231 IMF-fixdate), in English whatever the locale. */
static void sys_time_http(time_t t, char out[32])
{
	static const char days[] = "SunMonTueWedThuFriSat", months[] =
		"JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 32, "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT", days + 3 * tm.tm_wday,
		tm.tm_mday, months + 3 * tm.tm_mon, tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		tm.tm_sec);
}

static void sys_time_amz(time_t t, char out[17])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}


/* "YYYY-MM-DD HH:MM:SS" in local time, like aws s3 ls. */
static void sys_time_local(time_t t, char out[20])
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

/* The AWS CLI's human_readable_size(): "1 Byte", "12 Bytes", "1.2 MiB". */
static void sys_human_size(uint64_t n, char out[32])
{
	static const char *const sfx[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)n;
	unsigned i;

	if (n == 1) {
		snprintf(out, 32, "1 Byte");
		return;
	}
	if (n < 1024) {
		snprintf(out, 32, "%" PRIu64 " Bytes", n);
		return;
	}
	for (i = 0; i < 6; i++) {
		double unit = pow(1024.0, (double)(i + 1));

		/* Python's round() is half-to-even, as is nearbyint's default. */
		if (nearbyint(v / unit) < 1024.0 || i == 5) {
			snprintf(out, 32, "%.1f %s", v / unit, sfx[i]);
			return;
		}
	}
}

static int sys_read_file(const char *path, size_t limit, sys_buf *out, dg_error *e)
{
	char chunk[8192];
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sys_fail_errno(e, errno == ENOENT ? DG_ENOTFOUND : DG_EIO, errno,
			"cannot open %s", path);
	while ((r = read(fd, chunk, sizeof chunk)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			sys_fail_errno(e, DG_EIO, errno, "cannot read %s", path);
			goto fail;
		}
		if (out->len + (size_t)r > limit) {
			sys_fail(e, DG_EIO, "%s is larger than %zu bytes", path, limit);
			goto fail;
		}
		if (sys_buf_add(out, chunk, (size_t)r) < 0) {
			sys_fail(e, DG_ENOMEM, "out of memory reading %s", path);
			goto fail;
		}
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

static int sys_write_all(int fd, const void *p, size_t n, dg_error *e, const char *what)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return sys_fail_errno(e, DG_EIO, errno, "cannot write %s", what);
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read up to n bytes at off; *got < n only at end of file. */
static int sys_pread_all(int fd, void *p, size_t n, uint64_t off, size_t *got, dg_error *e)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pread(fd, (char *)p + done, n - done, (off_t)(off + done));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return sys_fail_errno(e, DG_EIO, errno, "read failed");
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	*got = done;
	return 0;
}

static int sys_mkdirs(const char *path, mode_t mode, dg_error *e)
{
	char tmp[DG_MAX_PATH];
	size_t i, n = sys_strlcpy(tmp, path, sizeof tmp);

	if (n >= sizeof tmp)
		return sys_fail(e, DG_EIO, "path too long: %s", path);
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != 0)
			continue;
		tmp[i] = 0;
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return sys_fail_errno(e, DG_EIO, errno, "cannot create directory %s", tmp);
		if (i < n)
			tmp[i] = '/';
	}
	return 0;
}

/* Open a fresh temp file next to final_path, so the final rename() stays on
 * one file system. The name is hidden and says who made it. */
static int sys_tmp_open(const char *final_path, char *tmp_path, size_t n, dg_error *e)
{
	const char *base = sys_basename(final_path);
	int dirlen = (int)(base - final_path), fd;

	if ((size_t)snprintf(tmp_path, n, "%.*s.%s.dg-XXXXXX", dirlen, final_path, base) >= n)
		return sys_fail(e, DG_EIO, "path too long: %s", final_path);
	fd = mkostemp(tmp_path, O_CLOEXEC);
	if (fd < 0)
		return sys_fail_errno(e, DG_EIO, errno, "cannot create a temporary file for %s",
			final_path);
	return fd;
}

/* Is name one of sys_tmp_open's files (".NAME.dg-XXXXXX")? A killed
 * download leaves one behind: it is never a file to upload or list. */
static int sys_is_tmp_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] == '.' && n >= 12 && memcmp(name + n - 10, ".dg-", 4) == 0;
}

/* An unlinked temp file in dir: nothing to clean up, whatever happens. */
static int sys_tmpfile(const char *dir, dg_error *e)
{
	char path[DG_MAX_PATH];
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	snprintf(path, sizeof path, "%s/.dg-tmp-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return sys_fail_errno(e, DG_EIO, errno, "cannot create a temporary file in %s", dir);
	unlink(path);
	return fd;
}

static const char *sys_basename(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Do two paths name files of one folder? */
static int sys_same_dir(const char *a, const char *b)
{
	size_t n = (size_t)(sys_basename(a) - a);

	return n == (size_t)(sys_basename(b) - b) && strncmp(a, b, n) == 0;
}

/* Append code point cp as UTF-8 to out (cap bytes, NUL kept free). */
static int sys_put_utf8(char *out, size_t cap, size_t *o, unsigned long cp)
{
	unsigned char b[4];
	size_t n, i;

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	if (cp < 0x80)
		b[0] = (unsigned char)cp, n = 1;
	else if (cp < 0x800)
		b[0] = (unsigned char)(0xc0 | cp >> 6), b[1] = (unsigned char)(0x80 | (cp & 63)), n = 2;
	else if (cp < 0x10000)
		b[0] = (unsigned char)(0xe0 | cp >> 12), b[1] = (unsigned char)(0x80 | ((cp >> 6) & 63)),
		b[2] = (unsigned char)(0x80 | (cp & 63)), n = 3;
	else
		b[0] = (unsigned char)(0xf0 | cp >> 18), b[1] = (unsigned char)(0x80 | ((cp >> 12) & 63)),
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 63)), b[3] = (unsigned char)(0x80 | (cp & 63)),
		n = 4;
	if (*o + n >= cap)
		return -1;
	for (i = 0; i < n; i++)
		out[(*o)++] = (char)b[i];
	return 0;
}

/* JSON strings, for metadata sidecars and credential documents. */
static int sys_json_escape(sys_buf *out, const char *s)
{
	if (sys_buf_adds(out, "\"") < 0)
		return -1;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };

			if (sys_buf_add(out, esc, 2) < 0)
				return -1;
		} else if (c < 0x20) {
			if (sys_buf_printf(out, "\\u%04x", c) < 0)
				return -1;
		} else if (sys_buf_add(out, s, 1) < 0) {
			return -1;
		}
	}
	return sys_buf_adds(out, "\"");
}

/* The value of a jsmn string token, unescaped into out. */
static int sys_json_string(const char *js, const jsmntok_t *t, char *out, size_t cap)
{
	const char *p = js + t->start, *end = js + t->end;
	size_t o = 0;

	if (t->type != JSMN_STRING || cap == 0)
		return -1;
	while (p < end) {
		unsigned long cp;

		if (*p != '\\') {
			if (o + 1 >= cap)
				return -1;
			out[o++] = *p++;
			continue;
		}
		if (++p >= end)
			return -1;
		switch (*p) {
		case '"': case '\\': case '/': cp = (unsigned char)*p; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u': {
			char hex[5];
			char *stop;

			if (end - p < 5)
				return -1;
			memcpy(hex, p + 1, 4);
			hex[4] = 0;
			cp = strtoul(hex, &stop, 16);
			if (*stop)
				return -1;
			p += 4;
			/* A surrogate pair spells one code point. */
			if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 7 && p[1] == '\\' && p[2] == 'u') {
				unsigned long lo;

				memcpy(hex, p + 3, 4);
				lo = strtoul(hex, &stop, 16);
				if (*stop || lo < 0xdc00 || lo > 0xdfff)
					return -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
			break;
		}
		default:
			return -1;
		}
		p++;
		if (sys_put_utf8(out, cap, &o, cp) < 0)
			return -1;
	}
	out[o] = 0;
	return 0;
}

/* Index of the token after the value at tok[i] (skipping nested values). */
static int sys_json_skip(const jsmntok_t *tok, int n, int i)
{
	int end = i + 1, k;

	if (i >= n)
		return n;
	if (tok[i].type == JSMN_OBJECT)
		for (k = 0, end = i + 1; k < tok[i].size; k++)
			end = sys_json_skip(tok, n, sys_json_skip(tok, n, end));
	else if (tok[i].type == JSMN_ARRAY)
		for (k = 0, end = i + 1; k < tok[i].size; k++)
			end = sys_json_skip(tok, n, end);
	return end;
}

/* The value token of key in the object at tok[obj], or -1. */
static int sys_json_find(const char *js, const jsmntok_t *tok, int n, int obj, const char *key)
{
	size_t klen = strlen(key);
	int i, k;

	if (obj < 0 || obj >= n || tok[obj].type != JSMN_OBJECT)
		return -1;
	for (k = 0, i = obj + 1; k < tok[obj].size && i + 1 < n; k++) {
		if (tok[i].type == JSMN_STRING && (size_t)(tok[i].end - tok[i].start) == klen &&
			memcmp(js + tok[i].start, key, klen) == 0)
			return i + 1;
		i = sys_json_skip(tok, n, i + 1);
	}
	return -1;
}

/* A non-negative integer value (a JSON number or a string of digits). */
static int sys_json_u64(const char *js, const jsmntok_t *tok, int n, int obj, const char *key,
	uint64_t *out)
{
	char num[32];
	int i = sys_json_find(js, tok, n, obj, key);
	int len;

	if (i < 0 || (tok[i].type != JSMN_PRIMITIVE && tok[i].type != JSMN_STRING))
		return -1;
	len = tok[i].end - tok[i].start;
	if (len <= 0 || len >= (int)sizeof num)
		return -1;
	memcpy(num, js + tok[i].start, (size_t)len);
	num[len] = 0;
	return sys_parse_u64(num, out);
}

/* A JSON object whose values are all strings, as metadata: the file
 * store's sidecars, --metadata '{"k":"v"}'. */
static int sys_json_meta(const char *js, size_t len, sys_meta *meta)
{
	jsmntok_t tok[2 * SYS_META_MAX + 1];
	char k[128], v[2048];
	jsmn_parser p;
	int n, i;

	sys_meta_init(meta);
	jsmn_init(&p);
	n = jsmn_parse(&p, js, len, tok, sizeof tok / sizeof tok[0]);
	if (n < 1 || tok[0].type != JSMN_OBJECT || n != 1 + 2 * tok[0].size)
		return -1;
	for (i = 1; i + 1 < n; i += 2)
		if (tok[i].type != JSMN_STRING || tok[i + 1].type != JSMN_STRING ||
			sys_json_string(js, &tok[i], k, sizeof k) < 0 ||
			sys_json_string(js, &tok[i + 1], v, sizeof v) < 0 || sys_meta_set(meta, k, v) < 0)
			return -1;
	return 0;
}

/* Percent-decoding in place; with plus_space, '+' is a space (S3's
 * url-encoded listings). -1 on a malformed escape. */
static int sys_url_decode(char *s, int plus_space)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '%') {
			char hex[3] = { s[1], s[2], 0 };

			if (!isxdigit((unsigned char)s[1]) || !isxdigit((unsigned char)s[2]))
				return -1;
			*o++ = (char)strtol(hex, NULL, 16);
			s += 2;
		} else {
			*o++ = plus_space && *s == '+' ? ' ' : *s;
		}
	}
	*o = 0;
	return 0;
}

/* The process's umask, read without changing it (umask(2) would, for a
 * moment, under any other thread). */
static mode_t sys_umask(void)
{
	char line[128];
	unsigned um;
	mode_t old;
	FILE *f = fopen("/proc/self/status", "r");

	if (f != NULL) {
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "Umask: %o", &um) == 1) {
				fclose(f);
				return (mode_t)um;
			}
		fclose(f);
	}
	old = umask(022);
	umask(old);
	return old;
}

/* ---- Sinks and metadata ------------------------------------------------ */

/* Documents read into memory (XML, JSON) are small; a larger one is a
 * server bug or an attack, not something to hold. */
static int sys_sink_buf_write(void *ctx, const unsigned char *p, size_t n, dg_error *e)
{
	sys_buf *b = ctx;

	if (n > SYS_DOC_MAX - b->len)
		return sys_fail(e, DG_EPROTO, "response document larger than %u MiB",
			SYS_DOC_MAX >> 20);
	if (sys_buf_add(b, p, n) < 0)
		return sys_fail(e, DG_ENOMEM, "out of memory for a response body");
	return 0;
}

/* Does the sink collect a document in memory (a sys_buf, capped)? */
static int sys_sink_is_memory(const sys_sink *s)
{
	return s->write == sys_sink_buf_write;
}

static int sys_sink_buf_reset(void *ctx, dg_error *e)
{
	(void)e;
	((sys_buf *)ctx)->len = 0;
	return 0;
}

/* Feed a whole file, from offset 0, into a sink. */
static int sys_sink_copy_fd(int fd, const sys_sink *out, dg_error *e)
{
	unsigned char buf[65536];
	uint64_t off = 0;
	size_t got;

	do {
		if (sys_pread_all(fd, buf, sizeof buf, off, &got, e) < 0 ||
			(got && out->write(out->ctx, buf, got, e) < 0))
			return -1;
		off += got;
	} while (got == sizeof buf);
	return 0;
}

static void sys_meta_init(sys_meta *m)
{
	m->n = 0;
	m->used = 0;
	m->hdrs = NULL;
}

static int sys_meta_set(sys_meta *m, const char *name, const char *value)
{
	size_t nl = strlen(name) + 1, vl = strlen(value) + 1, i;

	if (strpbrk(value, "\r\n") || strpbrk(name, "\r\n: "))
		return -1;
	for (i = 0; i < m->n; i++)
		if (strcasecmp(m->name[i], name) == 0)
			break;
	if (i == SYS_META_MAX || m->used + nl + vl > sizeof m->space)
		return -1;
	memcpy(m->space + m->used, name, nl);
	for (size_t k = 0; k < nl; k++)
		m->space[m->used + k] = (char)tolower((unsigned char)m->space[m->used + k]);
	memcpy(m->space + m->used + nl, value, vl);
	m->name[i] = m->space + m->used;
	m->value[i] = m->space + m->used + nl;
	m->used += nl + vl;
	if (i == m->n)
		m->n++;
	return 0;
}

static const char *sys_meta_get(const sys_meta *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcasecmp(m->name[i], name) == 0)
			return m->value[i];
	return NULL;
}

/* ======================================================================
 * §2  Crypto glue
 *
 * Thin wrappers over BearSSL: hashes, HMAC, hex and base64, and the
 * system random source. No cryptography is implemented here.
 * ====================================================================== */

static void crypto_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = 0;
}

/* 64 lower-case hex digits, as every SHA-256 in metadata and the cache. */
static int crypto_is_sha_hex(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < 64; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return 0;
	return s[64] == 0;
}

/*
 * SHA-256 with the CPU's SHA instructions where it has them (x86-64 SHA-NI,
 * ARMv8 SHA2), else BearSSL's portable code, about five times slower. Only
 * the compression of whole blocks is ours: the context, the buffering of a
 * partial block and the padding stay BearSSL's, so br_sha256_out finishes
 * a context crypto_sha256_update filled. The round constants are SHA-256's
 * (FIPS 180-4, 4.2.2).
 */
typedef void crypto_sha256_blocks_fn(uint32_t st[8], const unsigned char *p, size_t nblocks);

#if defined(__x86_64__) || defined(__aarch64__)
static const uint32_t crypto_sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};
#endif

#if defined(__x86_64__)
/* SHA-NI keeps the state as (A,B,E,F) and (C,D,G,H) and runs two rounds
 * per instruction; w[] holds the next 16 schedule words, four per vector,
 * and the unrolled loop leaves only registers. */
__attribute__((target("sha,sse4.1")))
static void crypto_sha256_blocks_x86(uint32_t st[8], const unsigned char *p, size_t nblocks)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)st), 0xb1);
	__m128i cdgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(st + 4)), 0x1b);
	__m128i abef = _mm_alignr_epi8(t, cdgh, 8);

	cdgh = _mm_blend_epi16(cdgh, t, 0xf0);
	for (; nblocks; nblocks--, p += 64) {
		__m128i abef0 = abef, cdgh0 = cdgh, w[4], m;
		int i;

#pragma GCC unroll 16
		for (i = 0; i < 16; i++) {
			if (i < 4)
				w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), bswap);
			m = _mm_add_epi32(w[i & 3], _mm_loadu_si128((const __m128i *)(crypto_sha256_k + 4 * i)));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m);
			if (i >= 3 && i <= 14)
				w[(i + 1) & 3] = _mm_sha256msg2_epu32(_mm_add_epi32(w[(i + 1) & 3],
					_mm_alignr_epi8(w[i & 3], w[(i - 1) & 3], 4)), w[i & 3]);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(m, 0x0e));
			if (i >= 1 && i <= 12)
				w[(i - 1) & 3] = _mm_sha256msg1_epu32(w[(i - 1) & 3], w[i & 3]);
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}
	t = _mm_shuffle_epi32(abef, 0x1b);
	cdgh = _mm_shuffle_epi32(cdgh, 0xb1);
	_mm_storeu_si128((__m128i *)st, _mm_blend_epi16(t, cdgh, 0xf0));
	_mm_storeu_si128((__m128i *)(st + 4), _mm_alignr_epi8(cdgh, t, 8));
}

static crypto_sha256_blocks_fn *crypto_sha256_detect(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3))
		return NULL;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & bit_SHA))
		return NULL;
	return crypto_sha256_blocks_x86;
}
#elif defined(__aarch64__)
__attribute__((target("+crypto")))
static void crypto_sha256_blocks_arm(uint32_t st[8], const unsigned char *p, size_t nblocks)
{
	uint32x4_t abcd = vld1q_u32(st), efgh = vld1q_u32(st + 4);

	for (; nblocks; nblocks--, p += 64) {
		uint32x4_t abcd0 = abcd, efgh0 = efgh, w[4], m, prev;
		int i;

		for (i = 0; i < 4; i++)
			w[i] = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 16 * i)));
#pragma GCC unroll 16
		for (i = 0; i < 16; i++) {
			m = vaddq_u32(w[i & 3], vld1q_u32(crypto_sha256_k + 4 * i));
			if (i < 12)
				w[i & 3] = vsha256su1q_u32(vsha256su0q_u32(w[i & 3], w[(i + 1) & 3]),
					w[(i + 2) & 3], w[(i + 3) & 3]);
			prev = abcd;
			abcd = vsha256hq_u32(abcd, efgh, m);
			efgh = vsha256h2q_u32(efgh, prev, m);
		}
		abcd = vaddq_u32(abcd, abcd0);
		efgh = vaddq_u32(efgh, efgh0);
	}
	vst1q_u32(st, abcd);
	vst1q_u32(st + 4, efgh);
}

#ifndef HWCAP_SHA2
#define HWCAP_SHA2 (1 << 6)
#endif
static crypto_sha256_blocks_fn *crypto_sha256_detect(void)
{
	return getauxval(AT_HWCAP) & HWCAP_SHA2 ? crypto_sha256_blocks_arm : NULL;
}
#else
static crypto_sha256_blocks_fn *crypto_sha256_detect(void)
{
	return NULL;
}
#endif

/* The CPU's fast path, or NULL. Detected once: the only process-wide
 * state in this file, a constant of the machine; threads that race the
 * first call store the same value. */
static crypto_sha256_blocks_fn *crypto_sha256_fast(void)
{
	static int known;
	static crypto_sha256_blocks_fn *fn;

	if (!__atomic_load_n(&known, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&fn, crypto_sha256_detect(), __ATOMIC_RELAXED);
		__atomic_store_n(&known, 1, __ATOMIC_RELEASE);
	}
	return __atomic_load_n(&fn, __ATOMIC_RELAXED);
}

/* br_sha256_update with the fast compression function. */
static void crypto_sha256_update(br_sha256_context *c, const void *data, size_t n)
{
	crypto_sha256_blocks_fn *fast = crypto_sha256_fast();
	const unsigned char *p = data;
	size_t used = (size_t)c->count & 63;

	if (fast == NULL || n < 64) {
		br_sha256_update(c, data, n);
		return;
	}
	c->count += n;
	if (used) {
		memcpy(c->buf + used, p, 64 - used);
		fast(c->val, c->buf, 1);
		p += 64 - used;
		n -= 64 - used;
	}
	fast(c->val, p, n / 64);
	memcpy(c->buf, p + (n & ~(size_t)63), n & 63);
}

static void crypto_sha256(const void *p, size_t n, unsigned char out[32])
{
	br_sha256_context c;

	br_sha256_init(&c);
	crypto_sha256_update(&c, p, n);
	br_sha256_out(&c, out);
}

/* Content-MD5, which S3 wants on some requests with a body (PutBucketAcl). */
static void crypto_md5_b64(const void *p, size_t n, char out[25])
{
	br_md5_context c;
	unsigned char d[16];

	br_md5_init(&c);
	br_md5_update(&c, p, n);
	br_md5_out(&c, d);
	crypto_b64_encode(d, sizeof d, out);
}

static void crypto_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char d[32];

	crypto_sha256(p, n, d);
	crypto_hex(d, 32, out);
}

static void crypto_hmac_sha256(const void *key, size_t klen, const void *p, size_t n,
	unsigned char out[32])
{
	br_hmac_key_context kc;
	br_hmac_context hc;

	br_hmac_key_init(&kc, &br_sha256_vtable, key, klen);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, p, n);
	br_hmac_out(&hc, out);
}

/* getrandom() needs no /dev/urandom, which FROM scratch images lack. */
static int crypto_random(void *p, size_t n)
{
	unsigned char *c = p;

	while (n) {
		ssize_t r = getrandom(c, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static size_t crypto_b64_encode(const unsigned char *in, size_t n, char *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = 0;
	return o;
}


/* SHA-256 of a whole file from offset 0, and its size. */
static int crypto_sha256_fd(int fd, char hex[65], uint64_t *size, dg_error *e)
{
	unsigned char buf[65536], d[32];
	br_sha256_context c;
	uint64_t off = 0;
	size_t got;

	br_sha256_init(&c);
	do {
		if (sys_pread_all(fd, buf, sizeof buf, off, &got, e) < 0)
			return -1;
		crypto_sha256_update(&c, buf, got);
		off += got;
	} while (got == sizeof buf);
	br_sha256_out(&c, d);
	crypto_hex(d, 32, hex);
	if (size)
		*size = off;
	return 0;
}


/* The hasher hashes inline until the file passes CRYPTO_HASHER_INLINE
 * bytes, then starts its thread, which reads back from the page cache
 * what the writer reports written: no copies, no buffers held, and the
 * writer never waits (a copy into a buffer of the thread's would make it
 * wait whenever one decoded window outgrew the buffers). fd must be a
 * regular file open for reading, written from offset 0. If the thread
 * cannot start, hashing goes on inline. */
#define CRYPTO_HASHER_INLINE (1u << 20)
#define CRYPTO_HASHER_READ (256u << 10)

static void crypto_hasher_init(crypto_hasher *h, int fd)
{
	memset(h, 0, sizeof *h);
	br_sha256_init(&h->sha);
	h->fd = fd;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cv, NULL);
}

static void *crypto_hasher_main(void *arg)
{
	crypto_hasher *h = arg;
	unsigned char *buf = malloc(CRYPTO_HASHER_READ);
	dg_error e;

	pthread_mutex_lock(&h->lock);
	h->failed = buf == NULL;
	for (;;) {
		uint64_t at = h->hashed, want = h->written - at;
		size_t got = 0;

		if (want == 0 || h->failed) {
			if (h->stop)
				break;
			pthread_cond_wait(&h->cv, &h->lock);
			continue;
		}
		pthread_mutex_unlock(&h->lock);
		if (want > CRYPTO_HASHER_READ)
			want = CRYPTO_HASHER_READ;
		if (sys_pread_all(h->fd, buf, (size_t)want, at, &got, &e) == 0 && got == want)
			crypto_sha256_update(&h->sha, buf, got);
		pthread_mutex_lock(&h->lock);
		if (got == want)
			h->hashed += got;
		else
			h->failed = 1;
		pthread_cond_broadcast(&h->cv);
	}
	pthread_mutex_unlock(&h->lock);
	free(buf);
	return NULL;
}

/* Wait until the thread has hashed all that was written (or failed). */
static void crypto_hasher_drain(crypto_hasher *h)
{
	pthread_mutex_lock(&h->lock);
	while (h->hashed < h->written && !h->failed)
		pthread_cond_wait(&h->cv, &h->lock);
	pthread_mutex_unlock(&h->lock);
}

static void crypto_hasher_update(crypto_hasher *h, const void *p, size_t n)
{
	if (!h->started && h->fd >= 0 && h->written + n > CRYPTO_HASHER_INLINE) {
		h->started = pthread_create(&h->id, NULL, crypto_hasher_main, h) == 0;
		if (!h->started)
			h->fd = -1;
	}
	if (!h->started) {
		crypto_sha256_update(&h->sha, p, n);
		h->written += n;
		h->hashed += n;
		return;
	}
	pthread_mutex_lock(&h->lock);
	h->written += n;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->lock);
}

/* Start over (a retried download truncated the file). */
static void crypto_hasher_reset(crypto_hasher *h)
{
	if (h->started)
		crypto_hasher_drain(h);
	pthread_mutex_lock(&h->lock);
	br_sha256_init(&h->sha);
	h->written = h->hashed = 0;
	h->failed = 0;
	pthread_mutex_unlock(&h->lock);
}

/* The digest of what was written so far; -1 if reading it back failed. */
static int crypto_hasher_out(crypto_hasher *h, unsigned char out[32])
{
	if (h->started)
		crypto_hasher_drain(h);
	if (h->failed)
		return -1;
	br_sha256_out(&h->sha, out);
	return 0;
}

/* Stop the thread; every init ends here. */
static void crypto_hasher_end(crypto_hasher *h)
{
	if (h->started) {
		pthread_mutex_lock(&h->lock);
		h->stop = 1;
		pthread_cond_broadcast(&h->cv);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->id, NULL);
		h->started = 0;
	}
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->lock);
}

/* AES-256-GCM with the fastest implementations this CPU offers. */
static void crypto_gcm_init(crypto_gcm *g, const unsigned char key[32])
{
	const br_block_ctr_class *ctr = br_aes_x86ni_ctr_get_vtable();
	br_ghash gh = br_ghash_pclmul_get();

	if (ctr == NULL)
		ctr = br_aes_pwr8_ctr_get_vtable();
	if (ctr == NULL)
		ctr = sizeof(void *) == 8 ? &br_aes_ct64_ctr_vtable : &br_aes_ct_ctr_vtable;
	if (gh == 0)
		gh = br_ghash_pwr8_get();
	if (gh == 0)
		gh = sizeof(void *) == 8 ? br_ghash_ctmul64 : br_ghash_ctmul32;
	ctr->init(&g->keys.vtable, key, 32);
	br_gcm_init(&g->gcm, &g->keys.vtable, gh);
}

static void crypto_gcm_seal(crypto_gcm *g, const unsigned char iv[12], const void *aad,
	size_t alen, void *data, size_t n, unsigned char tag[16])
{
	br_gcm_reset(&g->gcm, iv, 12);
	br_gcm_aad_inject(&g->gcm, aad, alen);
	br_gcm_flip(&g->gcm);
	br_gcm_run(&g->gcm, 1, data, n);
	br_gcm_get_tag(&g->gcm, tag);
}

/* Decrypt in place; 0 when the tag does not authenticate. */
static int crypto_gcm_open(crypto_gcm *g, const unsigned char iv[12], const void *aad,
	size_t alen, void *data, size_t n, const unsigned char tag[16])
{
	br_gcm_reset(&g->gcm, iv, 12);
	br_gcm_aad_inject(&g->gcm, aad, alen);
	br_gcm_flip(&g->gcm);
	br_gcm_run(&g->gcm, 0, data, n);
	return (int)br_gcm_check_tag(&g->gcm, tag);
}

/* ======================================================================
 * §3  Network and HTTP/1.1 over BearSSL
 *
 * A small HTTP/1.1 client: one persistent connection per http_client,
 * Content-Length and chunked bodies both ways, request bodies streamed
 * from files, response bodies streamed into sinks, Expect: 100-continue,
 * timeouts on every socket operation. TLS 1.2 through BearSSL with trust
 * anchors from a PEM bundle, and host checks for IP-address certificates,
 * which BearSSL's X.509 engine does not do itself.
 * ====================================================================== */

/* ---- Trust anchors from a PEM bundle ------------------------------------ */

static void http_dn_append(void *ctx, const void *p, size_t n)
{
	sys_buf_add(ctx, p, n);   /* a failed append shows up as a short DN */
}

static int http_ta_add(http_tls *t, const unsigned char *der, size_t n)
{
	br_x509_decoder_context dc;
	br_x509_trust_anchor *ta, *grown;
	const br_x509_pkey *pk;
	sys_buf dn = { 0 };

	br_x509_decoder_init(&dc, http_dn_append, &dn);
	br_x509_decoder_push(&dc, der, n);
	pk = br_x509_decoder_get_pkey(&dc);
	if (pk == NULL || dn.len == 0) {
		sys_buf_free(&dn);
		return 0;   /* undecodable certificates are skipped, like OpenSSL does */
	}
	grown = realloc(t->anchors, (t->n_anchors + 1) * sizeof *grown);
	if (grown == NULL)
		goto fail;
	t->anchors = grown;
	ta = &t->anchors[t->n_anchors];
	memset(ta, 0, sizeof *ta);
	ta->dn.data = (unsigned char *)dn.data;
	ta->dn.len = dn.len;
	ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		unsigned char *k = malloc(pk->key.rsa.nlen + pk->key.rsa.elen);

		if (k == NULL)
			goto fail;
		memcpy(k, pk->key.rsa.n, pk->key.rsa.nlen);
		memcpy(k + pk->key.rsa.nlen, pk->key.rsa.e, pk->key.rsa.elen);
		ta->pkey.key_type = BR_KEYTYPE_RSA;
		ta->pkey.key.rsa.n = k;
		ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta->pkey.key.rsa.e = k + pk->key.rsa.nlen;
		ta->pkey.key.rsa.elen = pk->key.rsa.elen;
	} else if (pk->key_type == BR_KEYTYPE_EC) {
		unsigned char *k = malloc(pk->key.ec.qlen);

		if (k == NULL)
			goto fail;
		memcpy(k, pk->key.ec.q, pk->key.ec.qlen);
		ta->pkey.key_type = BR_KEYTYPE_EC;
		ta->pkey.key.ec.curve = pk->key.ec.curve;
		ta->pkey.key.ec.q = k;
		ta->pkey.key.ec.qlen = pk->key.ec.qlen;
	} else {
		sys_buf_free(&dn);
		return 0;
	}
	t->n_anchors++;
	return 0;
fail:
	sys_buf_free(&dn);
	return -1;
}

static int http_tls_load(http_tls *t, const char *pem_path, dg_error *e)
{
	br_pem_decoder_context pc;
	sys_buf pem = { 0 }, der = { 0 };
	const char *p;
	size_t left;
	int in_cert = 0;

	sys_strlcpy(t->ca_file, pem_path, sizeof t->ca_file);
	if (sys_read_file(pem_path, 64u << 20, &pem, e) < 0) {
		sys_err_prefix(e, "CA bundle: ");
		e->code = DG_ECONFIG;
		return -1;
	}
	br_pem_decoder_init(&pc);
	p = pem.data;
	left = pem.len;
	while (left > 0) {
		size_t used = br_pem_decoder_push(&pc, p, left);

		p += used;
		left -= used;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			in_cert = strcmp(br_pem_decoder_name(&pc), "CERTIFICATE") == 0 ||
				strcmp(br_pem_decoder_name(&pc), "X509 CERTIFICATE") == 0 ||
				strcmp(br_pem_decoder_name(&pc), "TRUSTED CERTIFICATE") == 0;
			der.len = 0;
			br_pem_decoder_setdest(&pc, in_cert ? http_dn_append : NULL, &der);
			break;
		case BR_PEM_END_OBJ:
			if (in_cert && http_ta_add(t, (unsigned char *)der.data, der.len) < 0) {
				sys_fail(e, DG_ENOMEM, "out of memory loading %s", pem_path);
				goto fail;
			}
			in_cert = 0;
			break;
		case BR_PEM_ERROR:
			sys_fail(e, DG_ECONFIG, "CA bundle %s: malformed PEM", pem_path);
			goto fail;
		}
	}
	if (t->n_anchors == 0) {
		sys_fail(e, DG_ECONFIG, "CA bundle %s holds no usable certificate", pem_path);
		goto fail;
	}
	t->loaded = 1;
	sys_buf_free(&pem);
	sys_buf_free(&der);
	return 0;
fail:
	sys_buf_free(&pem);
	sys_buf_free(&der);
	return -1;
}

static void http_tls_free(http_tls *t)
{
	size_t i;

	for (i = 0; i < t->n_anchors; i++) {
		br_x509_trust_anchor *ta = &t->anchors[i];

		free(ta->dn.data);
		free(ta->pkey.key_type == BR_KEYTYPE_RSA ? ta->pkey.key.rsa.n : ta->pkey.key.ec.q);
	}
	free(t->anchors);
	t->anchors = NULL;
	t->n_anchors = 0;
	t->loaded = 0;
}

/* ---- Certificate checks BearSSL leaves to us ------------------------------
 *
 * http_x509 wraps the minimal X.509 engine. It keeps the end-entity
 * certificate to check its extendedKeyUsage, and for IP-address hosts (no
 * SNI, no DNS name to match) to match the address against its
 * subjectAltName iPAddress entries. With --no-verify-ssl it skips path
 * validation and only decodes the server key. */

#define HTTP_EE_MAX 32768
typedef struct http_x509 {
	const br_x509_class *vtable;
	br_x509_minimal_context minimal;
	br_x509_decoder_context decoder;
	int insecure;
	unsigned char ip[16];
	size_t ip_len;               /* 0: the host is a DNS name */
	unsigned cert_index;
	unsigned char ee[HTTP_EE_MAX];
	size_t ee_len;
	int ee_overflow;
} http_x509;

/* One DER element: tag and contents. Lengths up to 4 bytes. */
static int http_der_next(const unsigned char **p, const unsigned char *end,
	unsigned *tag, const unsigned char **val, size_t *len)
{
	const unsigned char *q = *p;
	size_t n;

	if (end - q < 2)
		return -1;
	*tag = *q++;
	n = *q++;
	if (n & 0x80) {
		unsigned k = n & 0x7f;

		if (k == 0 || k > 4 || (size_t)(end - q) < k)
			return -1;
		for (n = 0; k; k--)
			n = n << 8 | *q++;
	}
	if ((size_t)(end - q) < n)
		return -1;
	*val = q;
	*len = n;
	*p = q + n;
	return 0;
}

/* The contents of an extension's extnValue (OCTET STRING) in a DER
 * certificate: 1 found, 0 absent or undecodable. */
static int http_cert_ext(const unsigned char *der, size_t der_len, const unsigned char *oid,
	size_t oid_len, const unsigned char **val, size_t *val_len)
{
	const unsigned char *p = der, *end = der + der_len, *v;
	unsigned tag;
	size_t n;

	/* Certificate -> tbsCertificate -> its elements until [3] extensions. */
	if (http_der_next(&p, end, &tag, &v, &n) < 0 || tag != 0x30)
		return 0;
	p = v, end = v + n;
	if (http_der_next(&p, end, &tag, &v, &n) < 0 || tag != 0x30)
		return 0;
	p = v, end = v + n;
	while (p < end) {
		if (http_der_next(&p, end, &tag, &v, &n) < 0)
			return 0;
		if (tag == 0xa3)
			break;
	}
	if (tag != 0xa3)
		return 0;
	p = v, end = v + n;
	if (http_der_next(&p, end, &tag, &v, &n) < 0 || tag != 0x30)
		return 0;
	p = v, end = v + n;
	while (p < end) {
		const unsigned char *ext, *ext_end, *id;
		size_t id_len;

		if (http_der_next(&p, end, &tag, &ext, &n) < 0 || tag != 0x30)
			return 0;
		ext_end = ext + n;
		if (http_der_next(&ext, ext_end, &tag, &id, &id_len) < 0 || tag != 0x06)
			return 0;
		if (id_len != oid_len || memcmp(id, oid, oid_len) != 0)
			continue;
		if (http_der_next(&ext, ext_end, &tag, val, val_len) < 0)
			return 0;
		if (tag == 0x01 && http_der_next(&ext, ext_end, &tag, val, val_len) < 0)
			return 0;   /* skip the critical flag */
		return tag == 0x04;
	}
	return 0;
}

/* Does the extension oid, a SEQUENCE, list an element tag with this
 * value? 1 yes, 0 no (or malformed), -1 the certificate lacks it. */
static int http_cert_ext_lists(const unsigned char *der, size_t der_len,
	const unsigned char *oid, size_t oid_len, unsigned want_tag, const unsigned char *want,
	size_t want_len)
{
	const unsigned char *q, *el, *end, *v;
	unsigned tag;
	size_t qlen, n;

	if (!http_cert_ext(der, der_len, oid, oid_len, &q, &qlen))
		return -1;
	if (http_der_next(&q, q + qlen, &tag, &el, &n) < 0 || tag != 0x30)
		return 0;
	for (end = el + n; el < end;) {
		if (http_der_next(&el, end, &tag, &v, &n) < 0)
			return 0;
		if (tag == want_tag && n == want_len && memcmp(v, want, n) == 0)
			return 1;
	}
	return 0;
}

/* Does the certificate's subjectAltName list this IP address ([7])? */
static int http_cert_has_ip(const unsigned char *der, size_t der_len,
	const unsigned char *ip, size_t ip_len)
{
	static const unsigned char san[] = { 0x55, 0x1d, 0x11 };

	return http_cert_ext_lists(der, der_len, san, sizeof san, 0x87, ip, ip_len) == 1;
}

/* BearSSL does not read extendedKeyUsage. A certificate that has one must
 * name serverAuth (or anyExtendedKeyUsage) to serve TLS, as browsers and
 * OpenSSL require: a client certificate is not a server's. */
static int http_cert_serves_tls(const unsigned char *der, size_t der_len)
{
	static const unsigned char eku[] = { 0x55, 0x1d, 0x25 };
	static const unsigned char server_auth[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01 };
	static const unsigned char any_usage[] = { 0x55, 0x1d, 0x25, 0x00 };
	int r = http_cert_ext_lists(der, der_len, eku, sizeof eku, 0x06, server_auth,
		sizeof server_auth);

	return r != 0 || http_cert_ext_lists(der, der_len, eku, sizeof eku, 0x06, any_usage,
		sizeof any_usage) == 1;
}

static void http_x509_start_chain(const br_x509_class **ctx, const char *server_name)
{
	http_x509 *x = (http_x509 *)(void *)ctx;

	x->cert_index = 0;
	x->ee_len = 0;
	x->ee_overflow = 0;
	if (x->insecure)
		br_x509_decoder_init(&x->decoder, NULL, NULL);
	else
		x->minimal.vtable->start_chain(&x->minimal.vtable, server_name);
}

static void http_x509_start_cert(const br_x509_class **ctx, uint32_t length)
{
	http_x509 *x = (http_x509 *)(void *)ctx;

	if (!x->insecure)
		x->minimal.vtable->start_cert(&x->minimal.vtable, length);
}

static void http_x509_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	http_x509 *x = (http_x509 *)(void *)ctx;

	if (x->cert_index == 0) {
		if (x->insecure)
			br_x509_decoder_push(&x->decoder, buf, len);
		if (!x->insecure) {
			if (len > sizeof x->ee - x->ee_len)
				x->ee_overflow = 1;
			else
				memcpy(x->ee + x->ee_len, buf, len), x->ee_len += len;
		}
	}
	if (!x->insecure)
		x->minimal.vtable->append(&x->minimal.vtable, buf, len);
}

static void http_x509_end_cert(const br_x509_class **ctx)
{
	http_x509 *x = (http_x509 *)(void *)ctx;

	x->cert_index++;
	if (!x->insecure)
		x->minimal.vtable->end_cert(&x->minimal.vtable);
}

static unsigned http_x509_end_chain(const br_x509_class **ctx)
{
	http_x509 *x = (http_x509 *)(void *)ctx;
	unsigned r;

	if (x->insecure)
		return br_x509_decoder_get_pkey(&x->decoder) ? 0 : BR_ERR_X509_UNSUPPORTED;
	r = x->minimal.vtable->end_chain(&x->minimal.vtable);
	if (r != 0)
		return r;
	if (x->ee_overflow)
		return BR_ERR_X509_LIMIT_EXCEEDED;
	if (x->ip_len && !http_cert_has_ip(x->ee, x->ee_len, x->ip, x->ip_len))
		return BR_ERR_X509_BAD_SERVER_NAME;
	if (!http_cert_serves_tls(x->ee, x->ee_len))
		return BR_ERR_X509_FORBIDDEN_KEY_USAGE;
	return 0;
}

static const br_x509_pkey *http_x509_get_pkey(const br_x509_class *const *ctx,
	unsigned *usages)
{
	http_x509 *x = (http_x509 *)(void *)ctx;

	if (x->insecure) {
		if (usages)
			*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
		return br_x509_decoder_get_pkey(&x->decoder);
	}
	return x->minimal.vtable->get_pkey(&x->minimal.vtable, usages);
}

static const br_x509_class http_x509_vtable = {
	sizeof(http_x509),
	http_x509_start_chain,
	http_x509_start_cert,
	http_x509_append,
	http_x509_end_cert,
	http_x509_end_chain,
	http_x509_get_pkey,
};

static const char *http_tls_strerror(int err)
{
	switch (err) {
	case BR_ERR_X509_NOT_TRUSTED:
		return "certificate is not trusted (unknown CA or self-signed; see --ca-bundle)";
	case BR_ERR_X509_BAD_SERVER_NAME:
		return "certificate does not match the host name";
	case BR_ERR_X509_EXPIRED:
		return "certificate has expired or is not yet valid";
	case BR_ERR_X509_TIME_UNKNOWN:
		return "cannot check certificate dates: system clock unknown";
	case BR_ERR_X509_BAD_SIGNATURE:
		return "certificate signature is invalid";
	case BR_ERR_X509_NOT_CA:
		return "an intermediate certificate is not a CA";
	case BR_ERR_X509_FORBIDDEN_KEY_USAGE:
		return "certificate key usage forbids TLS server use";
	case BR_ERR_X509_WEAK_PUBLIC_KEY:
		return "certificate key is too weak";
	case BR_ERR_X509_LIMIT_EXCEEDED:
		return "certificate chain too large";
	case BR_ERR_X509_EMPTY_CHAIN:
		return "server sent no certificate";
	case BR_ERR_BAD_VERSION:
	case BR_ERR_UNSUPPORTED_VERSION:
		return "server does not answer in TLS 1.2 (plain HTTP port?)";
	case BR_ERR_BAD_CIPHER_SUITE:
		return "no cipher suite in common";
	case BR_ERR_BAD_MAC:
		return "record integrity check failed";
	case BR_ERR_NO_RANDOM:
		return "no entropy source";
	}
	if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT)
		return "server sent a fatal alert";
	if (err >= BR_ERR_SEND_FATAL_ALERT)
		return "handshake failed";
	if (err >= BR_ERR_X509_OK)
		return "invalid certificate";
	return "protocol error";
}

/* ---- Connections --------------------------------------------------------- */

struct http_conn {
	int fd;                      /* -1: closed */
	int tls;
	char host[256];
	int port;
	int timeout_ms;
	int io_errno;                /* set by the socket callbacks */
	int io_timeout;
	int io_eof;
	int io_slow;                 /* HTTP_SLOW_RATE or HTTP_SLOW_DEADLINE: see http_progress */
	int64_t deadline_ms;         /* 0, or when the exchange must be over */
	int64_t win_wait_ms;         /* time spent waiting on the peer in this window */
	uint64_t win_bytes;          /* bytes moved in this window */
	int min_rate;                /* bytes per second; 0: the deadline rules */
	int tls_ready;               /* sc holds a usable session for resumption */
	const http_proxy *proxy;     /* the route, when through a proxy */
	unsigned served;             /* responses read on this connection */
	size_t rpos, rlen;
	unsigned char rbuf[16384];
	br_ssl_client_context sc;
	http_x509 x509;
	br_sslio_context io;
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

/* Each wait is bounded by the read timeout, but a peer that sends one byte
 * just inside it could hold an exchange forever. So an exchange must also
 * move min_rate bytes per second of waiting, judged over windows of the
 * read timeout (time we spend ourselves, e.g. on a slow pipe, does not
 * count); or, when the server may legitimately stall (keep-alive spaces
 * while S3 assembles an object), be over by its deadline. */
static int http_progress(http_conn *c, size_t moved, int64_t waited_ms)
{
	c->win_bytes += moved;
	c->win_wait_ms += waited_ms;
	if (c->deadline_ms && sys_now_ms() >= c->deadline_ms) {
		c->io_slow = HTTP_SLOW_DEADLINE;
		return -1;
	}
	if (c->min_rate && c->win_wait_ms >= c->timeout_ms) {
		if (c->win_bytes < (uint64_t)c->min_rate * (uint64_t)c->win_wait_ms / 1000) {
			c->io_slow = HTTP_SLOW_RATE;
			return -1;
		}
		c->win_wait_ms = 0;
		c->win_bytes = 0;
	}
	return 0;
}

static int http_wait(http_conn *c, short events)
{
	struct pollfd pfd = { c->fd, events, 0 };
	int64_t start = sys_now_ms();
	int r, t = c->timeout_ms;

	if (c->deadline_ms && c->deadline_ms - start < t)
		t = c->deadline_ms > start ? (int)(c->deadline_ms - start) : 0;
	do
		r = poll(&pfd, 1, t);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		c->io_errno = errno;
		return -1;
	}
	if (r == 0 && !(c->deadline_ms && sys_now_ms() >= c->deadline_ms)) {
		c->io_timeout = 1;
		return -1;
	}
	return http_progress(c, 0, sys_now_ms() - start);
}

static int http_sock_read(void *ctx, unsigned char *buf, size_t len)
{
	http_conn *c = ctx;

	for (;;) {
		ssize_t r = recv(c->fd, buf, len, 0);

		if (r > 0)
			return http_progress(c, (size_t)r, 0) < 0 ? -1 : (int)r;
		if (r == 0) {
			c->io_eof = 1;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			c->io_errno = errno;
			return -1;
		}
		if (http_wait(c, POLLIN) < 0)
			return -1;
	}
}

static int http_sock_write(void *ctx, const unsigned char *buf, size_t len)
{
	http_conn *c = ctx;

	for (;;) {
		ssize_t r = send(c->fd, buf, len, MSG_NOSIGNAL);

		if (r >= 0)
			return http_progress(c, (size_t)r, 0) < 0 ? -1 : (int)r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			c->io_errno = errno;
			return -1;
		}
		if (http_wait(c, POLLOUT) < 0)
			return -1;
	}
}

/* One line describing why the last socket or TLS operation failed. */
static int http_io_fail(http_conn *c, dg_error *e, const char *doing)
{
	if (c->io_slow == HTTP_SLOW_DEADLINE)
		return sys_fail(e, DG_ENET, "%s %s:%d: the exchange took longer than its %d s "
			"deadline", doing, c->host, c->port, HTTP_DEADLINE_FACTOR * c->timeout_ms / 1000);
	if (c->io_slow)
		return sys_fail(e, DG_ENET, "%s %s:%d: less than %d bytes/s for %d s (stalled "
			"transfer)", doing, c->host, c->port, c->min_rate, c->timeout_ms / 1000);
	if (c->io_timeout)
		return sys_fail(e, DG_ENET, "%s %s:%d: timed out after %d ms", doing, c->host,
			c->port, c->timeout_ms);
	if (c->io_errno == ECONNRESET || c->io_errno == EPIPE)
		return sys_fail(e, DG_ENET, "%s %s:%d: connection reset by peer", doing,
			c->host, c->port);
	if (c->io_errno)
		return sys_fail_errno(e, DG_ENET, c->io_errno, "%s %s:%d", doing, c->host,
			c->port);
	if (c->tls) {
		int err = br_ssl_engine_last_error(&c->sc.eng);

		if (err != BR_ERR_OK && err != BR_ERR_IO) {
			sys_fail(e, DG_ETLS, "TLS with %s:%d: %s (BearSSL error %d)", c->host,
				c->port, http_tls_strerror(err), err);
			return -1;
		}
	}
	return sys_fail(e, DG_ENET, "%s %s:%d: connection closed by peer", doing, c->host,
		c->port);
}

static void http_conn_close(http_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->rpos = c->rlen = 0;
}

static int http_parse_ip(const char *host, unsigned char ip[16], size_t *len)
{
	if (inet_pton(AF_INET, host, ip) == 1) {
		*len = 4;
		return 1;
	}
	if (inet_pton(AF_INET6, host, ip) == 1) {
		*len = 16;
		return 1;
	}
	*len = 0;
	return 0;
}

static int http_connect_addr(http_conn *c, const struct addrinfo *ai, int timeout_ms)
{
	int fd, one = 1, soerr = 0;
	socklen_t sl = sizeof soerr;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		ai->ai_protocol);
	if (fd < 0) {
		c->io_errno = errno;
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			c->io_errno = errno;
			close(fd);
			return -1;
		}
		c->fd = fd;
		c->timeout_ms = timeout_ms;
		if (http_wait(c, POLLOUT) < 0 ||
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
			if (soerr)
				c->io_errno = soerr;
			close(fd);
			c->fd = -1;
			return -1;
		}
	}
	c->fd = fd;
	return 0;
}

static int http_send(http_conn *c, const void *p, size_t n, dg_error *e);
static int http_read_line(http_conn *c, char *line, size_t cap, dg_error *e);

/* ---- Proxies ---------------------------------------------------------------- */

/* "http://user:pass@host:port", "host:port" or "host". */
static int http_proxy_parse(const char *url, http_proxy *p, dg_error *e)
{
	char buf[1024], *h, *at, *colon;

	memset(p, 0, sizeof *p);
	if (strncasecmp(url, "https://", 8) == 0)
		return sys_fail(e, DG_ECONFIG, "proxy %s: TLS to the proxy is not supported "
			"(use http://; HTTPS traffic is tunnelled with CONNECT)", url);
	if (strncasecmp(url, "http://", 7) == 0)
		url += 7;
	if (sys_strlcpy(buf, url, sizeof buf) >= sizeof buf)
		return sys_fail(e, DG_ECONFIG, "proxy URL too long");
	h = buf;
	if ((colon = strchr(h, '/')) != NULL)
		*colon = 0;   /* a trailing path means nothing to a proxy */
	if ((at = strrchr(h, '@')) != NULL) {
		char cred[512], b64[700];

		*at = 0;
		if (sys_url_decode(h, 0) < 0)
			return sys_fail(e, DG_ECONFIG, "proxy URL: malformed %%-escape in its user name or password");
		snprintf(cred, sizeof cred, "%s", h);
		crypto_b64_encode((unsigned char *)cred, strlen(cred), b64);
		snprintf(p->auth, sizeof p->auth, "Basic %s", b64);
		explicit_bzero(cred, sizeof cred);
		h = at + 1;
	}
	p->port = 80;
	if (*h == '[') {
		char *close = strchr(h, ']');

		if (close == NULL)
			return sys_fail(e, DG_ECONFIG, "proxy %s: bad IPv6 address", url);
		*close = 0;
		colon = close[1] == ':' ? close + 1 : NULL;
		h++;
	} else {
		colon = strrchr(h, ':');
		if (colon)
			*colon = 0;
	}
	if (colon) {
		char *end;
		long port = strtol(colon + 1, &end, 10);

		if (*end || port <= 0 || port > 65535)
			return sys_fail(e, DG_ECONFIG, "proxy %s: bad port", url);
		p->port = (int)port;
	}
	if (*h == 0)
		return sys_fail(e, DG_ECONFIG, "proxy %s: no host", url);
	sys_strlcpy(p->host, h, sizeof p->host);
	return 0;
}

static const char *http_env2(char *(*env)(const char *), const char *lower, const char *upper)
{
	const char *v = env(lower);

	if (v == NULL || *v == 0)
		v = env(upper);
	return v && *v ? v : NULL;
}

/* Proxies from the environment (env: getenv or the caller's), as curl and
 * the AWS CLI read them. */
static int http_proxy_env(http_cfg *cfg, char *(*env)(const char *), dg_error *e)
{
	const char *v;

	memset(&cfg->http_proxy, 0, sizeof cfg->http_proxy);
	memset(&cfg->https_proxy, 0, sizeof cfg->https_proxy);
	cfg->no_proxy[0] = 0;
	if ((v = http_env2(env, "http_proxy", "HTTP_PROXY")) && http_proxy_parse(v, &cfg->http_proxy, e) < 0)
		return -1;
	if ((v = http_env2(env, "https_proxy", "HTTPS_PROXY")) && http_proxy_parse(v, &cfg->https_proxy, e) < 0)
		return -1;
	if ((v = http_env2(env, "no_proxy", "NO_PROXY")))
		sys_strlcpy(cfg->no_proxy, v, sizeof cfg->no_proxy);
	return 0;
}

/* Does a NO_PROXY entry cover host? Names match themselves and their
 * subdomains ("example.com", ".example.com"); addresses match exactly or
 * by IPv4 CIDR ("10.0.0.0/8"); "*" matches all. */
static int http_no_proxy_match(const char *entry, size_t n, const char *host)
{
	char pat[256], *slash, *p;
	size_t hl = strlen(host), pl;

	if (n == 0 || n >= sizeof pat)
		return 0;
	memcpy(pat, entry, n);
	pat[n] = 0;
	if (strcmp(pat, "*") == 0)
		return 1;
	if ((slash = strchr(pat, '/')) != NULL) {
		struct in_addr net, h;
		long bits = strtol(slash + 1, NULL, 10);
		uint32_t mask;

		*slash = 0;
		if (inet_pton(AF_INET, pat, &net) != 1 || inet_pton(AF_INET, host, &h) != 1 ||
			bits < 0 || bits > 32)
			return 0;
		mask = bits ? htonl(0xffffffffu << (32 - bits)) : 0;
		return (net.s_addr & mask) == (h.s_addr & mask);
	}
	p = pat;
	while (*p == '.')
		p++;
	pl = strlen(p);
	if (strcasecmp(p, host) == 0)
		return 1;
	return hl > pl && host[hl - pl - 1] == '.' && strcasecmp(host + hl - pl, p) == 0;
}

/* The proxy for a request to host, or NULL to go direct. Metadata
 * services are always direct. */
static const http_proxy *http_route(const http_cfg *cfg, const char *host, int tls)
{
	const http_proxy *p = tls ? &cfg->https_proxy : &cfg->http_proxy;
	const char *s = cfg->no_proxy;

	if (p->host[0] == 0 || strcmp(host, "169.254.169.254") == 0 ||
		strcmp(host, "169.254.170.2") == 0 || strcmp(host, "fd00:ec2::254") == 0)
		return NULL;
	while (*s) {
		size_t n = strcspn(s, ", "), len = n;
		const char *colon = memchr(s, ':', n);

		/* "host:port": matched by host alone. (An IPv6 address has more
		 * than one colon and is left whole.) */
		if (colon && memchr(colon + 1, ':', n - (size_t)(colon - s) - 1) == NULL)
			len = (size_t)(colon - s);
		if (http_no_proxy_match(s, len, host))
			return NULL;
		s += n;
		while (*s == ',' || *s == ' ')
			s++;
	}
	return p;
}

/* A TCP connection to host:port, with the connect timeout. */
static int http_tcp_connect(http_conn *c, const http_cfg *cfg, const char *host, int port,
	dg_error *e)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[8];
	int r;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof portstr, "%d", port);
	r = getaddrinfo(host, portstr, &hints, &res);
	if (r != 0) {
		sys_fail(e, DG_ENET, "cannot resolve host '%s': %s", host,
			r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		e->retryable = (r == EAI_AGAIN);
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next)
		if (http_connect_addr(c, ai, cfg->connect_timeout_ms) == 0)
			break;
	freeaddrinfo(res);
	if (c->fd < 0) {
		if (c->io_errno == ECONNREFUSED)
			return sys_fail(e, DG_ENET, "connection refused by %s:%d", host, port);
		return http_io_fail(c, e, "cannot connect to");
	}
	c->timeout_ms = cfg->read_timeout_ms;
	return 0;
}

/* Ask the proxy for a tunnel to the target (HTTP CONNECT). */
static int http_connect_tunnel(http_conn *c, const http_cfg *cfg, dg_error *e)
{
	char req[1024], line[1024];
	const http_proxy *p = c->proxy;
	int status;

	snprintf(req, sizeof req, "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n%s%s%sUser-Agent: %s"
		"\r\n\r\n", c->host, c->port, c->host, c->port, p->auth[0] ? "Proxy-Authorization: " : "",
		p->auth, p->auth[0] ? "\r\n" : "", DG_TOOL);
	c->tls = 0;   /* the tunnel is spoken in the clear */
	if (http_send(c, req, strlen(req), e) < 0 || http_read_line(c, line, sizeof line, e) < 0)
		goto fail;
	if (sscanf(line, "HTTP/1.%*d %d", &status) != 1) {
		sys_fail(e, DG_EPROTO, "proxy %s:%d: bad answer to CONNECT", p->host, p->port);
		goto fail;
	}
	do {
		if (http_read_line(c, line + 512, 512, e) < 0)
			goto fail;
	} while (line[512]);
	if (status != 200) {
		sys_fail(e, DG_ENET, "proxy %s:%d refused CONNECT to %s:%d: %s", p->host, p->port,
			c->host, c->port, line + 9);
		e->retryable = 0;
		goto fail;
	}
	if (c->rlen > c->rpos) {
		sys_fail(e, DG_EPROTO, "proxy %s:%d sent data before the tunnel opened", p->host, p->port);
		goto fail;
	}
	c->tls = 1;
	sys_logf(cfg->log, DG_LOG_DEBUG, "tunnel to %s:%d through proxy %s:%d", c->host, c->port,
		p->host, p->port);
	return 0;
fail:
	c->tls = 1;
	return -1;
}

static int http_conn_open(http_conn *c, const http_cfg *cfg, const char *host, int port,
	int tls, dg_error *e)
{
	unsigned char seed[32];
	const http_proxy *proxy = http_route(cfg, host, tls);
	int same = c->tls_ready && c->tls == tls && c->port == port && c->proxy == proxy &&
		strcmp(c->host, host) == 0;

	http_conn_close(c);
	sys_strlcpy(c->host, host, sizeof c->host);
	c->port = port;
	c->tls = tls;
	c->proxy = proxy;
	c->served = 0;
	c->io_errno = c->io_timeout = c->io_eof = 0;
	if (proxy ? http_tcp_connect(c, cfg, proxy->host, proxy->port, e) < 0 :
		http_tcp_connect(c, cfg, host, port, e) < 0)
		return -1;
	sys_logf(cfg->log, DG_LOG_DEBUG, "connected to %s:%d%s%s", proxy ? proxy->host : host,
		proxy ? proxy->port : port, proxy ? " (proxy)" : "", tls ? " (TLS)" : "");
	if (!tls)
		return 0;
	if (proxy && http_connect_tunnel(c, cfg, e) < 0) {
		http_conn_close(c);
		return -1;
	}

	if (!same) {
		const http_tls *t = cfg->tls;

		br_ssl_client_init_full(&c->sc, &c->x509.minimal, t->anchors, t->n_anchors);
		c->x509.vtable = &http_x509_vtable;
		c->x509.insecure = t->insecure;
		br_ssl_engine_set_x509(&c->sc.eng, &c->x509.vtable);
		br_ssl_engine_set_versions(&c->sc.eng, BR_TLS12, BR_TLS12);
		br_ssl_engine_set_buffer(&c->sc.eng, c->iobuf, sizeof c->iobuf, 1);
	}
	if (crypto_random(seed, sizeof seed) < 0) {
		http_conn_close(c);
		return sys_fail_errno(e, DG_ETLS, errno, "getrandom");
	}
	br_ssl_engine_inject_entropy(&c->sc.eng, seed, sizeof seed);
	/* An IP address is neither sent as SNI nor matched as a DNS name. */
	http_parse_ip(host, c->x509.ip, &c->x509.ip_len);
	if (!br_ssl_client_reset(&c->sc, c->x509.ip_len ? NULL : host, same)) {
		http_conn_close(c);
		return sys_fail(e, DG_ETLS, "TLS setup for %s failed (BearSSL error %d)", host,
			br_ssl_engine_last_error(&c->sc.eng));
	}
	br_sslio_init(&c->io, &c->sc.eng, http_sock_read, c, http_sock_write, c);
	/* Run the handshake now, so certificate problems are reported as such. */
	if (br_sslio_flush(&c->io) < 0 || br_ssl_engine_current_state(&c->sc.eng) == BR_SSL_CLOSED) {
		c->tls_ready = 0;
		http_io_fail(c, e, "TLS handshake with");
		http_conn_close(c);
		return -1;
	}
	c->tls_ready = 1;
	return 0;
}

static int http_send(http_conn *c, const void *p, size_t n, dg_error *e)
{
	const unsigned char *q = p;

	if (c->tls) {
		if (br_sslio_write_all(&c->io, p, n) < 0)
			return http_io_fail(c, e, "sending to");
		return 0;
	}
	while (n) {
		int w = http_sock_write(c, q, n);

		if (w < 0)
			return http_io_fail(c, e, "sending to");
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

static int http_flush(http_conn *c, dg_error *e)
{
	if (c->tls && br_sslio_flush(&c->io) < 0)
		return http_io_fail(c, e, "sending to");
	return 0;
}

/* Read more bytes into rbuf. Returns bytes read, 0 at end of stream. */
static int http_fill(http_conn *c, dg_error *e)
{
	int r;

	if (c->rpos == c->rlen)
		c->rpos = c->rlen = 0;
	if (c->rpos > 0 && c->rlen == sizeof c->rbuf) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
	if (c->rlen == sizeof c->rbuf)
		return sys_fail(e, DG_EPROTO, "response line from %s:%d too long", c->host,
			c->port);
	if (c->tls) {
		r = br_sslio_read(&c->io, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen);
		if (r < 0) {
			int err = br_ssl_engine_last_error(&c->sc.eng);

			/* close_notify, or a plain TCP close, ends the stream. */
			if ((err == BR_ERR_OK || (err == BR_ERR_IO && c->io_eof)) && !c->io_timeout)
				return 0;
			return http_io_fail(c, e, "reading from");
		}
	} else {
		r = http_sock_read(c, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen);
		if (r < 0) {
			if (c->io_eof)
				return 0;
			return http_io_fail(c, e, "reading from");
		}
	}
	c->rlen += (size_t)r;
	return r;
}

/* One CRLF- (or LF-) terminated line, without the terminator. */
static int http_read_line(http_conn *c, char *line, size_t cap, dg_error *e)
{
	for (;;) {
		unsigned char *nl = memchr(c->rbuf + c->rpos, '\n', c->rlen - c->rpos);
		int r;

		if (nl) {
			size_t n = (size_t)(nl - (c->rbuf + c->rpos));

			if (n > 0 && c->rbuf[c->rpos + n - 1] == '\r')
				n--;
			if (n >= cap)
				return sys_fail(e, DG_EPROTO, "response line from %s:%d too long",
					c->host, c->port);
			memcpy(line, c->rbuf + c->rpos, n);
			line[n] = 0;
			c->rpos = (size_t)(nl - c->rbuf) + 1;
			return 0;
		}
		r = http_fill(c, e);
		if (r < 0)
			return -1;
		if (r == 0) {
			c->io_eof = 1;
			return sys_fail(e, DG_ENET, "connection to %s:%d closed before the response "
				"was complete", c->host, c->port);
		}
	}
}

/* Deliver exactly n body bytes (or, with n == UINT64_MAX, all until EOF). */
static int http_read_body(http_conn *c, uint64_t n, const sys_sink *sink, dg_error *e)
{
	uint64_t got = 0;

	while (got < n) {
		size_t avail = c->rlen - c->rpos;
		int r;

		if (avail == 0) {
			r = http_fill(c, e);
			if (r < 0)
				return -1;
			if (r == 0) {
				if (n == UINT64_MAX)
					return 0;
				return sys_fail(e, DG_ENET, "connection to %s:%d closed after %" PRIu64
					" of %" PRIu64 " body bytes (truncated response)", c->host,
					c->port, got, n);
			}
			continue;
		}
		if ((uint64_t)avail > n - got)
			avail = (size_t)(n - got);
		if (sink->write(sink->ctx, c->rbuf + c->rpos, avail, e) < 0)
			return -1;
		c->rpos += avail;
		got += avail;
	}
	return 0;
}

static int http_read_chunked(http_conn *c, const sys_sink *sink, dg_error *e)
{
	char line[1024];

	for (;;) {
		char *end;
		unsigned long long n;

		if (http_read_line(c, line, sizeof line, e) < 0)
			return -1;
		errno = 0;
		n = strtoull(line, &end, 16);
		if (end == line || errno || (*end && *end != ';' && *end != ' '))
			return sys_fail(e, DG_EPROTO, "bad chunk header from %s:%d", c->host,
				c->port);
		if (n == 0)
			break;
		if (http_read_body(c, n, sink, e) < 0 ||
			http_read_line(c, line, sizeof line, e) < 0)
			return -1;
		if (line[0])
			return sys_fail(e, DG_EPROTO, "bad chunk trailer from %s:%d", c->host,
				c->port);
	}
	do {                        /* trailers, up to the empty line */
		if (http_read_line(c, line, sizeof line, e) < 0)
			return -1;
	} while (line[0]);
	return 0;
}

/* ---- Requests and responses ------------------------------------------ */

static const char *http_resp_header(const http_resp *r, const char *name)
{
	const char *p = r->hdrs, *end = r->hdrs + r->hlen;

	while (p < end) {
		const char *v = p + strlen(p) + 1;

		if (strcasecmp(p, name) == 0)
			return v;
		p = v + strlen(v) + 1;
	}
	return NULL;
}

static void http_resp_free(http_resp *r)
{
	sys_buf_free(&r->errbody);
}

static int http_errbody_write(void *ctx, const unsigned char *p, size_t n, dg_error *e)
{
	sys_buf *b = ctx;

	(void)e;
	if (b->len < HTTP_ERRBODY_MAX)
		sys_buf_add(b, p, n < HTTP_ERRBODY_MAX - b->len ? n : HTTP_ERRBODY_MAX - b->len);
	return 0;
}

/* Status line and headers. Sets *keep when the connection may be reused. */
static int http_read_head(http_conn *c, http_resp *resp, int *chunked, int *keep,
	dg_error *e)
{
	char line[8192];
	int minor, te;
	char *name = NULL;

	if (http_read_line(c, line, sizeof line, e) < 0)
		return -1;
	if (strncmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) ||
		line[8] != ' ' || !isdigit((unsigned char)line[9]) ||
		!isdigit((unsigned char)line[10]) || !isdigit((unsigned char)line[11]) ||
		(line[12] != ' ' && line[12] != 0)) {
		size_t i;

		for (i = 0; line[i] && i < 40; i++)
			if (!isprint((unsigned char)line[i]))
				line[i] = '?';
		line[i] = 0;
		return sys_fail(e, DG_EPROTO, "bad status line from %s:%d: \"%s\"", c->host,
			c->port, line);
	}
	minor = line[7] - '0';
	resp->status = atoi(line + 9);
	resp->hlen = 0;
	resp->content_length = -1;
	*chunked = 0;
	*keep = minor >= 1;
	te = 0;
	for (;;) {
		char *colon, *v;
		size_t nl, vl;

		if (http_read_line(c, line, sizeof line, e) < 0)
			return -1;
		if (line[0] == 0)
			break;
		if ((line[0] == ' ' || line[0] == '\t') && name)
			continue;   /* obsolete folding: the continuation is dropped */
		colon = strchr(line, ':');
		if (colon == NULL || colon == line)
			return sys_fail(e, DG_EPROTO, "malformed header line from %s:%d", c->host,
				c->port);
		*colon = 0;
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		vl = strlen(v);
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			v[--vl] = 0;
		nl = (size_t)(colon - line);
		if (resp->hlen + nl + vl + 2 > sizeof resp->hdrs)
			return sys_fail(e, DG_EPROTO, "response headers from %s:%d too large",
				c->host, c->port);
		name = resp->hdrs + resp->hlen;
		for (size_t i = 0; i < nl; i++)
			name[i] = (char)tolower((unsigned char)line[i]);
		name[nl] = 0;
		memcpy(name + nl + 1, v, vl + 1);
		resp->hlen += nl + vl + 2;
		if (strcmp(name, "content-length") == 0) {
			uint64_t n;

			/* Two lengths that disagree mean two readings of where this
			 * answer ends: refuse it rather than guess. */
			if (sys_parse_u64(v, &n) < 0 || n > INT64_MAX ||
				(resp->content_length >= 0 && (uint64_t)resp->content_length != n))
				return sys_fail(e, DG_EPROTO, "bad or conflicting Content-Length from %s:%d",
					c->host, c->port);
			resp->content_length = (int64_t)n;
		} else if (strcmp(name, "transfer-encoding") == 0) {
			*chunked = sys_ends_with_ci(v, "chunked");
			te = 1;
		} else if (strcmp(name, "connection") == 0) {
			if (strcasecmp(v, "close") == 0)
				*keep = 0;
			else if (strcasecmp(v, "keep-alive") == 0)
				*keep = 1;
		}
	}
	/* A Transfer-Encoding overrides any length (RFC 9112 6.3), and one
	 * that is not chunked runs to the close. When it came with a length,
	 * the answer's framing is in doubt: the connection is not reused. */
	if (te) {
		if (resp->content_length >= 0 || !*chunked)
			*keep = 0;
		resp->content_length = -1;
	}
	return 0;
}

/* Stream the request body: a memory block, a file range, or a file to EOF
 * in chunked coding. */
static int http_send_body(http_conn *c, const http_cfg *cfg, const http_body *b, dg_error *e)
{
	/* Room for a chunk header before the data and CRLF after it, so one
	 * send carries a whole chunk. */
	unsigned char buf[16 + 65536 + 2];
	uint64_t off = b->off, left = b->len;

	if (b->fd < 0)
		return http_send(c, b->mem, (size_t)b->len, e);
	for (;;) {
		size_t want = sizeof buf - 18, got = 0;

		if (!b->chunked && (uint64_t)want > left)
			want = (size_t)left;
		if (want == 0)
			break;
		if (sys_pread_all(b->fd, buf + 16, want, off, &got, e) < 0) {
			sys_err_prefix(e, "request body: ");
			return -1;
		}
		if (b->chunked) {
			char head[16];
			int hl = snprintf(head, sizeof head, "%zx\r\n", got);

			memcpy(buf + 16 - hl, head, (size_t)hl);
			memcpy(buf + 16 + got, "\r\n", 2);
			if (got && http_send(c, buf + 16 - hl, (size_t)hl + got + 2, e) < 0)
				return -1;
			if (cfg && cfg->meter)
				cfg->meter(cfg->meter_ctx, got);
			if (got < want)
				return http_send(c, "0\r\n\r\n", 5, e);
		} else {
			if (got < want)
				return sys_fail(e, DG_EIO, "request body: file shrank while sending");
			if (http_send(c, buf + 16, got, e) < 0)
				return -1;
			if (cfg && cfg->meter)
				cfg->meter(cfg->meter_ctx, got);
			left -= got;
		}
		off += got;
	}
	return 0;
}

static void http_client_init(http_client *c, const http_cfg *cfg)
{
	c->cfg = cfg;
	c->conn = NULL;
}

static void http_client_close(http_client *c)
{
	if (c->conn) {
		http_conn_close(c->conn);
		free(c->conn);
		c->conn = NULL;
	}
}

/* Bodies this large ask the server first, so a refusal (auth, redirect)
 * costs no upload. */
#define HTTP_EXPECT_MIN (1u << 20)

/* The request line and headers. *expect: the body waits for 100 Continue. */
static int http_send_head(http_conn *c, const http_req *req, int *expect, dg_error *e)
{
	const http_body *b = req->body;
	sys_buf head = { 0 };
	int has_host = 0, rc;
	size_t i;

	for (i = 0; i < req->nhdrs; i++)
		if (strcasecmp(req->hdrs[i].name, "host") == 0)
			has_host = 1;
	if (c->proxy && !c->tls) {
		/* Through a proxy, plain HTTP names the whole URL. */
		sys_buf_printf(&head, "%s http://%s%s%s:%d%s HTTP/1.1\r\n", req->method,
			strchr(req->host, ':') ? "[" : "", req->host, strchr(req->host, ':') ? "]" : "",
			req->port, req->target);
		if (c->proxy->auth[0])
			sys_buf_printf(&head, "Proxy-Authorization: %s\r\n", c->proxy->auth);
	} else {
		sys_buf_printf(&head, "%s %s HTTP/1.1\r\n", req->method, req->target);
	}
	if (!has_host)
		sys_buf_printf(&head, "Host: %s\r\n", req->host);
	for (i = 0; i < req->nhdrs; i++)
		sys_buf_printf(&head, "%s: %s\r\n", req->hdrs[i].name, req->hdrs[i].value);
	sys_buf_printf(&head, "User-Agent: %s\r\n", DG_TOOL);
	if (b && b->chunked)
		sys_buf_adds(&head, "Transfer-Encoding: chunked\r\n");
	else if (b || strcmp(req->method, "PUT") == 0 || strcmp(req->method, "POST") == 0)
		sys_buf_printf(&head, "Content-Length: %" PRIu64 "\r\n", b ? b->len : 0);
	*expect = b && (b->chunked || b->len >= HTTP_EXPECT_MIN);
	if (*expect)
		sys_buf_adds(&head, "Expect: 100-continue\r\n");
	if (sys_buf_adds(&head, "\r\n") < 0) {
		sys_buf_free(&head);
		return sys_fail(e, DG_ENOMEM, "out of memory building a request");
	}
	rc = http_send(c, head.data, head.len, e) < 0 || http_flush(c, e) < 0 ? -1 : 0;
	sys_buf_free(&head);
	return rc;
}

/* The body of an answer: a 2xx one into sink, any other into
 * resp->errbody. *keep drops when only the connection's end frames it. */
static int http_recv_body(http_conn *c, const http_req *req, http_resp *resp,
	const sys_sink *sink, int chunked, int *keep, dg_error *e)
{
	int is_2xx = resp->status >= 200 && resp->status < 300;
	sys_sink errsink = { http_errbody_write, NULL, &resp->errbody };
	const sys_sink *out = !is_2xx || !sink ? &errsink : sink;

	if (strcmp(req->method, "HEAD") == 0 || resp->status == 204 || resp->status == 304)
		return 0;
	if (chunked)
		return http_read_chunked(c, out, e);
	if (resp->content_length >= 0)
		return http_read_body(c, (uint64_t)resp->content_length, out, e);
	*keep = 0;
	return http_read_body(c, UINT64_MAX, out, e);
}

static int http_do_once(http_client *cl, const http_req *req, http_resp *resp,
	const sys_sink *sink, int *stale, dg_error *e)
{
	http_conn *c = cl->conn;
	const http_body *b = req->body;
	int chunked = 0, keep = 0, expect = 0, sent_body = 0;

	*stale = 0;
	if (http_send_head(c, req, &expect, e) < 0) {
		*stale = c->served > 0;
		return -1;
	}
	if (b && expect) {
		/* Wait up to a second for "100 Continue" or an early final answer. */
		struct pollfd pfd = { c->fd, POLLIN, 0 };
		int ready = c->rlen > c->rpos ||
			(c->tls && br_ssl_engine_current_state(&c->sc.eng) & BR_SSL_RECVAPP);

		if (!ready && poll(&pfd, 1, 1000) <= 0)
			expect = 0;   /* no answer: send the body anyway */
	}
	if (b && !expect) {
		if (http_send_body(c, cl->cfg, b, e) < 0 || http_flush(c, e) < 0)
			return -1;
		sent_body = 1;
	}
	for (;;) {
		if (http_read_head(c, resp, &chunked, &keep, e) < 0) {
			*stale = c->served > 0 && c->io_eof && c->rlen == 0;
			return -1;
		}
		if (resp->status >= 200)
			break;
		if (resp->status == 100 && b && !sent_body) {
			if (http_send_body(c, cl->cfg, b, e) < 0 || http_flush(c, e) < 0)
				return -1;
			sent_body = 1;
		}
	}
	if (b && !sent_body)
		keep = 0;   /* the server answered before taking the body */
	if (http_recv_body(c, req, resp, sink, chunked, &keep, e) < 0)
		return -1;
	c->served++;
	/* Bytes beyond the answer belong to no request of ours: the framing
	 * was wrong, and the connection must not carry another exchange. */
	if (c->rlen > c->rpos ||
		(c->tls && (br_ssl_engine_current_state(&c->sc.eng) & BR_SSL_RECVAPP)))
		keep = 0;
	if (!keep)
		http_conn_close(c);
	return 0;
}

/* One HTTP exchange. A keep-alive connection the server closed while idle
 * is reopened once, transparently; other failures are left to the caller's
 * retry policy. */
static int http_do(http_client *cl, const http_req *req, http_resp *resp,
	const sys_sink *sink, dg_error *e)
{
	http_conn *c;
	int attempt, stale = 0;

	if (cl->conn == NULL) {
		cl->conn = calloc(1, sizeof *cl->conn);
		if (cl->conn == NULL)
			return sys_fail(e, DG_ENOMEM, "out of memory for a connection");
		cl->conn->fd = -1;
	}
	c = cl->conn;
	if (req->tls && !cl->cfg->tls->loaded && !cl->cfg->tls->insecure)
		return sys_fail(e, DG_ECONFIG, "HTTPS needs a CA bundle (--ca-bundle)");
	for (attempt = 0; attempt < 2; attempt++) {
		c->io_errno = c->io_timeout = c->io_eof = c->io_slow = 0;
		c->win_wait_ms = 0;
		c->win_bytes = 0;
		c->min_rate = req->may_stall ? 0 : HTTP_MIN_RATE;
		c->deadline_ms = req->bounded || req->may_stall ?
			sys_now_ms() + (int64_t)HTTP_DEADLINE_FACTOR * cl->cfg->read_timeout_ms : 0;
		if (c->fd < 0 || c->tls != req->tls || c->port != req->port ||
			strcmp(c->host, req->host) != 0 || c->proxy != http_route(cl->cfg, req->host, req->tls)) {
			if (http_conn_open(c, cl->cfg, req->host, req->port, req->tls, e) < 0)
				return -1;
		}
		resp->errbody.len = 0;
		if (sink && sink->reset && sink->reset(sink->ctx, e) < 0)
			return -1;
		c->io_errno = c->io_timeout = c->io_eof = 0;
		if (http_do_once(cl, req, resp, sink, &stale, e) == 0)
			return 0;
		http_conn_close(c);
		if (!stale)
			return -1;
		sys_logf(cl->cfg->log, DG_LOG_DEBUG, "idle connection to %s:%d was closed; reconnecting",
			req->host, req->port);
	}
	return -1;
}

/* ======================================================================
 * §4  AWS configuration, credentials and SigV4
 *
 * Resolves profile, credentials, region, endpoint and transfer settings
 * the way the AWS CLI does (flags, then environment, then the shared
 * config and credentials files), and signs requests with Signature
 * Version 4.
 * ====================================================================== */

static void aws_trim(char **s)
{
	char *p = *s;
	size_t n;

	while (*p == ' ' || *p == '\t')
		p++;
	n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
		p[--n] = 0;
	*s = p;
}

/* Value of key in [section] of an AWS INI file. Nested blocks such as
 *   s3 =
 *     addressing_style = path
 * are addressed as "s3.addressing_style". Returns 1 when found. */
static int aws_ini_get(const sys_buf *ini, const char *section, const char *key,
	char *out, size_t cap)
{
	const char *p = ini->data, *end = ini->data + ini->len;
	char line[4096], parent[128] = "";
	int in_section = 0;

	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		int indented = n > 0 && (*p == ' ' || *p == '\t');
		char *s = line, *eq, *k, *v;

		if (n >= sizeof line)
			n = sizeof line - 1;
		memcpy(line, p, n);
		line[n] = 0;
		p = nl ? nl + 1 : end;
		aws_trim(&s);
		if (*s == 0 || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');

			if (close == NULL)
				continue;
			*close = 0;
			s++;
			aws_trim(&s);
			in_section = strcmp(s, section) == 0;
			parent[0] = 0;
			continue;
		}
		if (!in_section || (eq = strchr(s, '=')) == NULL)
			continue;
		*eq = 0;
		k = s;
		v = eq + 1;
		aws_trim(&k);
		aws_trim(&v);
		if (indented && parent[0]) {
			char full[300];

			snprintf(full, sizeof full, "%s.%s", parent, k);
			if (strcmp(full, key) == 0) {
				sys_strlcpy(out, v, cap);
				return 1;
			}
			continue;
		}
		if (*v == 0) {
			sys_strlcpy(parent, k, sizeof parent);
			continue;
		}
		parent[0] = 0;
		if (strcmp(k, key) == 0) {
			sys_strlcpy(out, v, cap);
			return 1;
		}
	}
	return 0;
}

/* A profile lives in [NAME] of the credentials file and in [profile NAME]
 * (or [default]) of the config file. */
static int aws_profile_get(const sys_buf *ini, int is_config, const char *profile,
	const char *key, char *out, size_t cap)
{
	char section[160];

	if (is_config && strcmp(profile, "default") != 0) {
		snprintf(section, sizeof section, "profile %s", profile);
		return aws_ini_get(ini, section, key, out, cap);
	}
	if (aws_ini_get(ini, profile, key, out, cap))
		return 1;
	return is_config && aws_ini_get(ini, "profile default", key, out, cap);
}

static int aws_ini_has_profile(const sys_buf *ini, int is_config, const char *profile)
{
	char want[160];
	const char *p;

	if (is_config && strcmp(profile, "default") != 0)
		snprintf(want, sizeof want, "[profile %s]", profile);
	else
		snprintf(want, sizeof want, "[%s]", profile);
	for (p = ini->data; p && (p = strstr(p, want)) != NULL; p++)
		if (p == ini->data || p[-1] == '\n')
			return 1;
	return 0;
}

/* The environment, if the caller gave us one. */
static const char *aws_env(const aws_config *cfg, const char *name)
{
	const char *v = cfg->getenv ? cfg->getenv(name) : NULL;

	return v && *v ? v : NULL;
}

static int aws_load_ini(const aws_config *cfg, const char *env, const char *rel, sys_buf *out,
	char *path, dg_error *e)
{
	const char *home = aws_env(cfg, "HOME");
	dg_error ignore;

	if (aws_env(cfg, env))
		sys_strlcpy(path, aws_env(cfg, env), DG_MAX_PATH);
	else if (home)
		snprintf(path, DG_MAX_PATH, "%s/%s", home, rel);
	else
		return 0;
	if (sys_read_file(path, 1u << 20, out, &ignore) < 0 && ignore.code != DG_ENOTFOUND) {
		*e = ignore;
		e->code = DG_ECONFIG;
		return -1;
	}
	return 0;
}

/* Split an http(s) URL into scheme, host, port, and path with query. */
static int aws_parse_url(const char *url, aws_url *u, dg_error *e)
{
	const char *p = url, *host, *host_end, *slash;
	size_t n;

	memset(u, 0, sizeof *u);
	if (strncasecmp(p, "https://", 8) == 0)
		u->tls = 1, p += 8;
	else if (strncasecmp(p, "http://", 7) == 0)
		u->tls = 0, p += 7;
	else
		return sys_fail(e, DG_EUSAGE, "URL '%s' must start with http:// or https://", url);
	u->port = u->tls ? 443 : 80;
	slash = p + strcspn(p, "/?");
	if (*p == '[') {
		host = p + 1;
		host_end = memchr(host, ']', (size_t)(slash - host));
		if (host_end == NULL)
			return sys_fail(e, DG_EUSAGE, "URL '%s': bad IPv6 address", url);
		p = host_end + 1;
	} else {
		host = p;
		host_end = memchr(p, ':', (size_t)(slash - p));
		if (host_end == NULL)
			host_end = slash;
		p = host_end;
	}
	n = (size_t)(host_end - host);
	if (n == 0 || n >= sizeof u->host)
		return sys_fail(e, DG_EUSAGE, "URL '%s' has no valid host", url);
	memcpy(u->host, host, n);
	u->host[n] = 0;
	if (*p == ':') {
		char *end;
		long port = strtol(p + 1, &end, 10);

		if (end != slash || port <= 0 || port > 65535)
			return sys_fail(e, DG_EUSAGE, "URL '%s' has a bad port", url);
		u->port = (int)port;
	} else if (p != slash) {
		return sys_fail(e, DG_EUSAGE, "URL '%s' is malformed", url);
	}
	if ((size_t)snprintf(u->path, sizeof u->path, "%s%s", *slash == '/' ? "" : "/", slash) >=
		sizeof u->path)
		return sys_fail(e, DG_EUSAGE, "URL '%s' has too long a path", url);
	return 0;
}

/* The S3 endpoint: host, port, scheme and a base path without its slash. */
static int aws_parse_endpoint(aws_config *cfg, const char *url, dg_error *e)
{
	aws_url u;
	size_t n;

	if (aws_parse_url(url, &u, e) < 0)
		return -1;
	cfg->endpoint_tls = u.tls;
	cfg->endpoint_port = u.port;
	sys_strlcpy(cfg->endpoint_host, u.host, sizeof cfg->endpoint_host);
	n = strlen(u.path);
	while (n && u.path[n - 1] == '/')
		n--;
	if (n >= sizeof cfg->endpoint_path)
		return sys_fail(e, DG_EUSAGE, "endpoint URL '%s' has too long a path", url);
	memcpy(cfg->endpoint_path, u.path, n);
	cfg->endpoint_path[n] = 0;
	return 0;
}

/* The two ini files of the profile's settings. */
typedef struct aws_files {
	sys_buf creds, conf;
	char creds_path[DG_MAX_PATH], conf_path[DG_MAX_PATH];
} aws_files;

/* Credentials, in the AWS CLI's order: explicit keys, environment (unless
 * --profile), web identity, credentials file, credential_process, config
 * file, container, EC2 instance metadata. The last four are fetched by
 * aws_resolve, once trust anchors are loaded. */
static void aws_load_creds(aws_config *cfg, const aws_opts *o, const aws_files *f)
{
	const char *s;

	cfg->imds_off = (s = aws_env(cfg, "AWS_EC2_METADATA_DISABLED")) && strcasecmp(s, "true") == 0;
	cfg->ec2_detection = !((s = aws_env(cfg, "DG_DISABLE_EC2_DETECTION")) &&
		(strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0));
	if ((s = aws_env(cfg, "AWS_ROLE_SESSION_NAME")) ||
		aws_profile_get(&f->conf, 1, cfg->profile, "role_session_name", cfg->session_name,
			sizeof cfg->session_name))
		sys_strlcpy(cfg->session_name, s ? s : cfg->session_name, sizeof cfg->session_name);
	else
		snprintf(cfg->session_name, sizeof cfg->session_name, "deltaglider-%ld", (long)time(NULL));
	if (o->access_key && o->secret_key) {
		sys_strlcpy(cfg->creds.access_key, o->access_key, sizeof cfg->creds.access_key);
		sys_strlcpy(cfg->creds.secret_key, o->secret_key, sizeof cfg->creds.secret_key);
		sys_strlcpy(cfg->creds.token, o->token ? o->token : "", sizeof cfg->creds.token);
		sys_strlcpy(cfg->creds.source, "configuration", sizeof cfg->creds.source);
		cfg->have_creds = 1;
	} else if (!cfg->profile_explicit && aws_env(cfg, "AWS_ACCESS_KEY_ID") &&
		aws_env(cfg, "AWS_SECRET_ACCESS_KEY")) {
		sys_strlcpy(cfg->creds.access_key, aws_env(cfg, "AWS_ACCESS_KEY_ID"),
			sizeof cfg->creds.access_key);
		sys_strlcpy(cfg->creds.secret_key, aws_env(cfg, "AWS_SECRET_ACCESS_KEY"),
			sizeof cfg->creds.secret_key);
		if ((s = aws_env(cfg, "AWS_SESSION_TOKEN")) || (s = aws_env(cfg, "AWS_SECURITY_TOKEN")))
			sys_strlcpy(cfg->creds.token, s, sizeof cfg->creds.token);
		sys_strlcpy(cfg->creds.source, "environment", sizeof cfg->creds.source);
		cfg->have_creds = 1;
	} else if (!cfg->profile_explicit && aws_env(cfg, "AWS_WEB_IDENTITY_TOKEN_FILE") &&
		aws_env(cfg, "AWS_ROLE_ARN")) {
		sys_strlcpy(cfg->token_file, aws_env(cfg, "AWS_WEB_IDENTITY_TOKEN_FILE"),
			sizeof cfg->token_file);
		sys_strlcpy(cfg->role_arn, aws_env(cfg, "AWS_ROLE_ARN"), sizeof cfg->role_arn);
		cfg->creds_kind = AWS_CREDS_WEB_IDENTITY;
	} else if (aws_profile_get(&f->conf, 1, cfg->profile, "web_identity_token_file",
			cfg->token_file, sizeof cfg->token_file) &&
		aws_profile_get(&f->conf, 1, cfg->profile, "role_arn", cfg->role_arn,
			sizeof cfg->role_arn)) {
		cfg->creds_kind = AWS_CREDS_WEB_IDENTITY;
	} else {
		const sys_buf *files[2] = { &f->creds, &f->conf };
		const char *names[2] = { "shared credentials file", "config file" };

		for (int i = 0; i < 2 && !cfg->have_creds && !cfg->creds_kind; i++) {
			if (aws_profile_get(files[i], i, cfg->profile, "aws_access_key_id",
					cfg->creds.access_key, sizeof cfg->creds.access_key) &&
				aws_profile_get(files[i], i, cfg->profile, "aws_secret_access_key",
					cfg->creds.secret_key, sizeof cfg->creds.secret_key)) {
				aws_profile_get(files[i], i, cfg->profile, "aws_session_token",
					cfg->creds.token, sizeof cfg->creds.token);
				sys_strlcpy(cfg->creds.source, names[i], sizeof cfg->creds.source);
				cfg->have_creds = 1;
			} else if (i == 0 && (aws_profile_get(&f->creds, 0, cfg->profile,
					"credential_process", cfg->process, sizeof cfg->process) ||
				aws_profile_get(&f->conf, 1, cfg->profile, "credential_process", cfg->process,
					sizeof cfg->process))) {
				cfg->creds_kind = AWS_CREDS_PROCESS;
			}
		}
		if (!cfg->have_creds && !cfg->creds_kind) {
			if (aws_env(cfg, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") ||
				aws_env(cfg, "AWS_CONTAINER_CREDENTIALS_FULL_URI"))
				cfg->creds_kind = AWS_CREDS_CONTAINER;
			else if (!cfg->imds_off)
				cfg->creds_kind = AWS_CREDS_IMDS;
		}
	}
}

/* Region, endpoint, addressing style and trust anchors. */
static int aws_load_endpoint(aws_config *cfg, const aws_opts *o, const aws_files *f, dg_error *e)
{
	const char *s;
	char v[64];

	cfg->region_known = 1;
	cfg->region_flag = o->region != NULL;
	if (o->region)
		sys_strlcpy(cfg->region, o->region, sizeof cfg->region);
	else if ((s = aws_env(cfg, "AWS_REGION")) || (s = aws_env(cfg, "AWS_DEFAULT_REGION")))
		sys_strlcpy(cfg->region, s, sizeof cfg->region);
	else if (!aws_profile_get(&f->conf, 1, cfg->profile, "region", cfg->region,
			sizeof cfg->region)) {
		sys_strlcpy(cfg->region, "us-east-1", sizeof cfg->region);
		cfg->region_known = 0;   /* EC2 metadata may know better */
	}

	if (o->endpoint)
		sys_strlcpy(cfg->endpoint, o->endpoint, sizeof cfg->endpoint);
	else if (!aws_env(cfg, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
		if ((s = aws_env(cfg, "AWS_ENDPOINT_URL_S3")) || (s = aws_env(cfg, "AWS_ENDPOINT_URL")))
			sys_strlcpy(cfg->endpoint, s, sizeof cfg->endpoint);
		else if (!aws_profile_get(&f->conf, 1, cfg->profile, "s3.endpoint_url", cfg->endpoint,
				sizeof cfg->endpoint))
			aws_profile_get(&f->conf, 1, cfg->profile, "endpoint_url", cfg->endpoint,
				sizeof cfg->endpoint);
	}
	if (cfg->endpoint[0]) {
		if (aws_parse_endpoint(cfg, cfg->endpoint, e) < 0)
			return -1;
	} else {
		snprintf(cfg->endpoint_host, sizeof cfg->endpoint_host, "s3.%s.amazonaws.com",
			cfg->region);
		cfg->endpoint_port = 443;
		cfg->endpoint_tls = 1;
	}

	cfg->addressing = AWS_ADDR_AUTO;
	if (aws_profile_get(&f->conf, 1, cfg->profile, "s3.addressing_style", v, sizeof v)) {
		if (strcmp(v, "path") == 0)
			cfg->addressing = AWS_ADDR_PATH;
		else if (strcmp(v, "virtual") == 0)
			cfg->addressing = AWS_ADDR_VIRTUAL;
	}

	if (o->ca_bundle)
		sys_strlcpy(cfg->ca_bundle, o->ca_bundle, sizeof cfg->ca_bundle);
	else if ((s = aws_env(cfg, "AWS_CA_BUNDLE")))
		sys_strlcpy(cfg->ca_bundle, s, sizeof cfg->ca_bundle);
	else if (!aws_profile_get(&f->conf, 1, cfg->profile, "ca_bundle", cfg->ca_bundle,
			sizeof cfg->ca_bundle)) {
		if ((s = aws_env(cfg, "SSL_CERT_FILE")))
			sys_strlcpy(cfg->ca_bundle, s, sizeof cfg->ca_bundle);
		else
			sys_strlcpy(cfg->ca_bundle, "/etc/ssl/certs/ca-certificates.crt",
				sizeof cfg->ca_bundle);
	}
	return 0;
}

/* Retries and multipart sizes. */
static int aws_load_limits(aws_config *cfg, const aws_files *f, dg_error *e)
{
	const char *s;
	char v[64];
	uint64_t n;

	cfg->max_attempts = 3;
	if ((s = aws_env(cfg, "AWS_MAX_ATTEMPTS")) ||
		(aws_profile_get(&f->conf, 1, cfg->profile, "max_attempts", v, sizeof v) && (s = v))) {
		if (sys_parse_u64(s, &n) < 0 || n < 1 || n > 20)
			return sys_fail(e, DG_ECONFIG, "max attempts must be between 1 and 20, not '%s'", s);
		cfg->max_attempts = (int)n;
	}
	cfg->max_concurrent = 10;
	if (aws_profile_get(&f->conf, 1, cfg->profile, "s3.max_concurrent_requests", v, sizeof v)) {
		if (sys_parse_u64(v, &n) < 0 || n < 1 || n > DG_MAX_CONCURRENCY)
			return sys_fail(e, DG_ECONFIG, "%s: s3.max_concurrent_requests must be between 1 "
				"and %d, not '%s'", f->conf_path, DG_MAX_CONCURRENCY, v);
		cfg->max_concurrent = (unsigned)n;
	}
	if (aws_profile_get(&f->conf, 1, cfg->profile, "deltaglider_archive_deltas", v, sizeof v))
		cfg->archive_deltas = strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0;
	cfg->mp_threshold = cfg->mp_chunksize = 8u << 20;
	if (aws_profile_get(&f->conf, 1, cfg->profile, "s3.multipart_threshold", v, sizeof v) &&
		sys_parse_size(v, &cfg->mp_threshold) < 0)
		return sys_fail(e, DG_ECONFIG, "%s: bad s3.multipart_threshold '%s'", f->conf_path, v);
	if (aws_profile_get(&f->conf, 1, cfg->profile, "s3.multipart_chunksize", v, sizeof v) &&
		(sys_parse_size(v, &cfg->mp_chunksize) < 0 || cfg->mp_chunksize < (5u << 20)))
		return sys_fail(e, DG_ECONFIG, "%s: s3.multipart_chunksize '%s' is not a size of at "
			"least 5MB", f->conf_path, v);
	return 0;
}

static int aws_config_load(aws_config *cfg, const aws_opts *o, dg_error *e)
{
	aws_files *f = calloc(1, sizeof *f);
	const char *s;
	int rc = -1;

	memset(cfg, 0, sizeof *cfg);
	if (f == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	cfg->getenv = o->getenv;
	cfg->anonymous = o->anonymous;
	cfg->verify_ssl = !o->no_verify_ssl;
	if (o->profile)
		sys_strlcpy(cfg->profile, o->profile, sizeof cfg->profile), cfg->profile_explicit = 1;
	else if ((s = aws_env(cfg, "AWS_PROFILE")) || (s = aws_env(cfg, "AWS_DEFAULT_PROFILE")))
		sys_strlcpy(cfg->profile, s, sizeof cfg->profile);
	else
		sys_strlcpy(cfg->profile, "default", sizeof cfg->profile);

	if (aws_load_ini(cfg, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials", &f->creds,
			f->creds_path, e) < 0 ||
		aws_load_ini(cfg, "AWS_CONFIG_FILE", ".aws/config", &f->conf, f->conf_path, e) < 0)
		goto done;
	if (strcmp(cfg->profile, "default") != 0 && !aws_ini_has_profile(&f->creds, 0, cfg->profile) &&
		!aws_ini_has_profile(&f->conf, 1, cfg->profile)) {
		sys_fail(e, DG_ECONFIG, "the config profile (%s) could not be found", cfg->profile);
		goto done;
	}
	aws_load_creds(cfg, o, f);
	if (aws_load_endpoint(cfg, o, f, e) < 0 || aws_load_limits(cfg, f, e) < 0)
		goto done;
	rc = 0;
done:
	sys_buf_free(&f->creds);
	sys_buf_free(&f->conf);
	free(f);
	return rc;
}

/* ---- Credentials from elsewhere: STS, credential_process, containers, EC2 --- */

/* One HTTP exchange for a credentials or metadata service; the body of
 * any answer lands in out. */
static int aws_fetch(const http_cfg *hc, const char *method, const aws_url *u,
	const http_hdr *hdrs, size_t nhdrs, const char *body, sys_buf *out, int *status,
	dg_error *e)
{
	http_client cl;
	http_resp *r = calloc(1, sizeof *r);
	http_body b = { (const unsigned char *)body, -1, 0, body ? strlen(body) : 0, 0 };
	sys_sink sink = { sys_sink_buf_write, sys_sink_buf_reset, out };
	http_req req = { method, u->host, u->port, u->tls, u->path, hdrs, nhdrs, body ? &b : NULL,
		1, 0 };
	int rc;

	if (r == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	http_client_init(&cl, hc);
	out->len = 0;
	rc = http_do(&cl, &req, r, &sink, e);
	if (rc == 0) {
		*status = r->status;
		if (r->status < 200 || r->status >= 300)
			sys_buf_add(out, r->errbody.data, r->errbody.len);
	}
	http_client_close(&cl);
	http_resp_free(r);
	free(r);
	return rc;
}

/* Keys from a JSON document (credential_process, containers, EC2): the
 * key names differ only for the session token. Every value is checked. */
static int aws_creds_json(const char *js, size_t len, const char *token_key, aws_creds *c,
	time_t *expires, const char *what, dg_error *e)
{
	jsmntok_t tok[64];
	jsmn_parser p;
	char v[64];
	int n, i;

	jsmn_init(&p);
	n = jsmn_parse(&p, js, len, tok, sizeof tok / sizeof tok[0]);
	if (n < 1 || tok[0].type != JSMN_OBJECT)
		return sys_fail(e, DG_ECONFIG, "%s: malformed JSON", what);
	if ((i = sys_json_find(js, tok, n, 0, "Code")) >= 0 &&
		(sys_json_string(js, &tok[i], v, sizeof v) < 0 || strcmp(v, "Success") != 0))
		return sys_fail(e, DG_ECONFIG, "%s: answer code is not Success", what);
	if ((i = sys_json_find(js, tok, n, 0, "Version")) >= 0 &&
		(len = (size_t)(tok[i].end - tok[i].start), len != 1 || js[tok[i].start] != '1'))
		return sys_fail(e, DG_ECONFIG, "%s: unsupported Version (want 1)", what);
	memset(c, 0, sizeof *c);
	if ((i = sys_json_find(js, tok, n, 0, "AccessKeyId")) < 0 ||
		sys_json_string(js, &tok[i], c->access_key, sizeof c->access_key) < 0 || !c->access_key[0] ||
		(i = sys_json_find(js, tok, n, 0, "SecretAccessKey")) < 0 ||
		sys_json_string(js, &tok[i], c->secret_key, sizeof c->secret_key) < 0 || !c->secret_key[0])
		return sys_fail(e, DG_ECONFIG, "%s: no valid AccessKeyId and SecretAccessKey", what);
	if ((i = sys_json_find(js, tok, n, 0, token_key)) >= 0 &&
		sys_json_string(js, &tok[i], c->token, sizeof c->token) < 0)
		return sys_fail(e, DG_ECONFIG, "%s: invalid %s", what, token_key);
	*expires = 0;
	if ((i = sys_json_find(js, tok, n, 0, "Expiration")) >= 0) {
		if (sys_json_string(js, &tok[i], v, sizeof v) < 0 || sys_time_parse(v, expires) < 0)
			return sys_fail(e, DG_ECONFIG, "%s: invalid Expiration", what);
	}
	for (const char *k = c->access_key; *k; k++)
		if (!isalnum((unsigned char)*k))
			return sys_fail(e, DG_ECONFIG, "%s: AccessKeyId is not alphanumeric", what);
	for (const char *k = c->secret_key; *k; k++)
		if (!isgraph((unsigned char)*k))
			return sys_fail(e, DG_ECONFIG, "%s: SecretAccessKey has invalid characters", what);
	for (const char *k = c->token; *k; k++)
		if (!isgraph((unsigned char)*k))
			return sys_fail(e, DG_ECONFIG, "%s: the session token has invalid characters", what);
	return 0;
}

/* credential_process: a command, split like a shell would (quotes, no
 * expansion) and run without one, whose stdout is the JSON. */
static int aws_creds_process(aws_config *cfg, dg_error *e)
{
	char buf[1024], *argv[64], *p = buf, *o;
	sys_buf out = { 0 };
	int pipefd[2], argc = 0, status, rc = -1;
	pid_t pid;

	sys_strlcpy(buf, cfg->process, sizeof buf);
	while (*p && argc < 63) {
		char q = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == 0)
			break;
		argv[argc++] = o = p;
		for (; *p && (q || (*p != ' ' && *p != '\t')); p++) {
			if (q ? *p == q : (*p == '"' || *p == '\'')) {
				q = q ? 0 : *p;
				continue;
			}
			*o++ = *p;
		}
		if (*p)
			p++;
		*o = 0;
	}
	argv[argc] = NULL;
	if (argc == 0)
		return sys_fail(e, DG_ECONFIG, "credential_process is empty");
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return sys_fail_errno(e, DG_ECONFIG, errno, "credential_process");
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return sys_fail_errno(e, DG_ECONFIG, errno, "credential_process");
	}
	if (pid == 0) {
		dup2(pipefd[1], 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		char chunk[4096];
		ssize_t r = read(pipefd[0], chunk, sizeof chunk);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || out.len + (size_t)r > 65536 || sys_buf_add(&out, chunk, (size_t)r) < 0)
			break;
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		sys_fail(e, DG_ECONFIG, "credential_process %s failed (exit status %d)", argv[0],
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		goto done;
	}
	if (aws_creds_json(out.data ? out.data : "", out.len, "SessionToken", &cfg->creds,
			&cfg->expiration, "credential_process", e) < 0)
		goto done;
	sys_strlcpy(cfg->creds.source, "credential_process", sizeof cfg->creds.source);
	rc = 0;
done:
	explicit_bzero(out.data ? out.data : buf, out.data ? out.cap : 0);
	sys_buf_free(&out);
	return rc;
}

/* AssumeRoleWithWebIdentity: a token file (EKS IRSA) exchanged at STS. */
static int aws_creds_web_identity(aws_config *cfg, const http_cfg *hc, dg_error *e)
{
	char url[512], exp[64];
	const char *v;
	sys_buf token = { 0 }, body = { 0 }, out = { 0 };
	http_hdr h = { "Content-Type", "application/x-www-form-urlencoded" };
	xml_node root, res, cr;
	aws_url u;
	int status, rc = -1;

	if (sys_read_file(cfg->token_file, 1u << 20, &token, e) < 0) {
		sys_err_prefix(e, "web identity token: ");
		e->code = DG_ECONFIG;
		goto done;
	}
	while (token.len && isspace((unsigned char)token.data[token.len - 1]))
		token.data[--token.len] = 0;
	if ((v = aws_env(cfg, "AWS_ENDPOINT_URL_STS")) || (v = aws_env(cfg, "AWS_ENDPOINT_URL")))
		sys_strlcpy(url, v, sizeof url);
	else
		snprintf(url, sizeof url, "https://sts.%s.amazonaws.com/", cfg->region);
	if (aws_parse_url(url, &u, e) < 0)
		goto done;
	sys_buf_adds(&body, "Action=AssumeRoleWithWebIdentity&RoleArn=");
	aws_uri_encode(&body, cfg->role_arn, 0);
	sys_buf_adds(&body, "&RoleSessionName=");
	aws_uri_encode(&body, cfg->session_name, 0);
	sys_buf_adds(&body, "&Version=2011-06-15&WebIdentityToken=");
	if (aws_uri_encode(&body, token.data ? token.data : "", 0) < 0) {
		sys_fail(e, DG_ENOMEM, "out of memory");
		goto done;
	}
	if (aws_fetch(hc, "POST", &u, &h, 1, body.data, &out, &status, e) < 0) {
		sys_err_prefix(e, "STS: ");
		goto done;
	}
	if (out.len == 0 || xml_root(out.data, out.len, &root) < 0) {
		sys_fail(e, DG_ECONFIG, "STS AssumeRoleWithWebIdentity: HTTP %d, no XML answer", status);
		goto done;
	}
	if (status != 200) {
		char code[64] = "", msg[256] = "";
		xml_node err;

		if (xml_child(&root, "Error", &err) == 1) {
			xml_child_text(&err, "Code", code, sizeof code);
			xml_child_text(&err, "Message", msg, sizeof msg);
		}
		sys_fail(e, DG_ECONFIG, "STS AssumeRoleWithWebIdentity for %s: %s: %s", cfg->role_arn,
			code[0] ? code : "error", msg);
		goto done;
	}
	memset(&cfg->creds, 0, sizeof cfg->creds);
	if (xml_child(&root, "AssumeRoleWithWebIdentityResult", &res) != 1 ||
		xml_child(&res, "Credentials", &cr) != 1 ||
		xml_child_text(&cr, "AccessKeyId", cfg->creds.access_key, sizeof cfg->creds.access_key) != 1 ||
		xml_child_text(&cr, "SecretAccessKey", cfg->creds.secret_key, sizeof cfg->creds.secret_key) != 1 ||
		xml_child_text(&cr, "SessionToken", cfg->creds.token, sizeof cfg->creds.token) != 1 ||
		xml_child_text(&cr, "Expiration", exp, sizeof exp) != 1 ||
		sys_time_parse(exp, &cfg->expiration) < 0 || !cfg->creds.access_key[0] ||
		!cfg->creds.secret_key[0] || !cfg->creds.token[0]) {
		sys_fail(e, DG_ECONFIG, "STS AssumeRoleWithWebIdentity: incomplete credentials");
		goto done;
	}
	sys_strlcpy(cfg->creds.source, "web identity (STS)", sizeof cfg->creds.source);
	rc = 0;
done:
	explicit_bzero(out.data ? out.data : url, out.data ? out.cap : 0);
	sys_buf_free(&token);
	sys_buf_free(&body);
	sys_buf_free(&out);
	return rc;
}

/* ECS task roles and EKS Pod Identity: a local HTTP endpoint. */
static int aws_creds_container(aws_config *cfg, const http_cfg *hc, dg_error *e)
{
	char url[1024], auth[4096] = "";
	const char *v;
	sys_buf out = { 0 }, tok = { 0 };
	http_hdr h = { "Authorization", auth };
	aws_url u;
	int status, rc = -1;

	if ((v = aws_env(cfg, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")))
		snprintf(url, sizeof url, "http://169.254.170.2%s", v);
	else
		sys_strlcpy(url, aws_env(cfg, "AWS_CONTAINER_CREDENTIALS_FULL_URI"), sizeof url);
	if (aws_parse_url(url, &u, e) < 0)
		goto done;
	/* Plain HTTP only to the container agent's addresses or loopback. */
	if (!u.tls && strcmp(u.host, "169.254.170.2") != 0 && strcmp(u.host, "169.254.170.23") != 0 &&
		strcmp(u.host, "fd00:ec2::23") != 0 && strcmp(u.host, "localhost") != 0 &&
		strncmp(u.host, "127.", 4) != 0 && strcmp(u.host, "::1") != 0) {
		sys_fail(e, DG_ECONFIG, "container credentials URI %s: plain HTTP only to loopback or "
			"the container agent", url);
		goto done;
	}
	if ((v = aws_env(cfg, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"))) {
		if (sys_read_file(v, sizeof auth - 1, &tok, e) < 0) {
			e->code = DG_ECONFIG;
			goto done;
		}
		snprintf(auth, sizeof auth, "%.*s", (int)strcspn(tok.data ? tok.data : "", "\r\n"),
			tok.data ? tok.data : "");
	} else if ((v = aws_env(cfg, "AWS_CONTAINER_AUTHORIZATION_TOKEN"))) {
		sys_strlcpy(auth, v, sizeof auth);
	}
	if (aws_fetch(hc, "GET", &u, &h, auth[0] ? 1 : 0, NULL, &out, &status, e) < 0) {
		sys_err_prefix(e, "container credentials: ");
		e->code = DG_ECONFIG;
		goto done;
	}
	if (status != 200) {
		sys_fail(e, DG_ECONFIG, "container credentials %s: HTTP %d", url, status);
		goto done;
	}
	if (aws_creds_json(out.data ? out.data : "", out.len, "Token", &cfg->creds, &cfg->expiration,
			"container credentials", e) < 0)
		goto done;
	sys_strlcpy(cfg->creds.source, "container", sizeof cfg->creds.source);
	rc = 0;
done:
	explicit_bzero(auth, sizeof auth);
	sys_buf_free(&tok);
	sys_buf_free(&out);
	return rc;
}

/* IMDSv2: a session token first, then the path asked for. A metadata
 * service that does not answer within a second is absent, and asked no
 * more in this process. */
static int aws_imds_get(aws_config *cfg, const http_cfg *hc, const char *path, sys_buf *out,
	dg_error *e)
{
	char base[256], token[256];
	const char *v;
	http_cfg quick = *hc;
	http_hdr h;
	aws_url u;
	int status;
	uint64_t secs = 1;

	if (cfg->imds_absent)
		return sys_fail(e, DG_ENOTFOUND, "no EC2 instance metadata service");
	if ((v = aws_env(cfg, "AWS_METADATA_SERVICE_TIMEOUT")))
		sys_parse_u64(v, &secs);
	quick.connect_timeout_ms = quick.read_timeout_ms = (int)(secs ? secs : 1) * 1000;
	if ((v = aws_env(cfg, "AWS_EC2_METADATA_SERVICE_ENDPOINT")))
		sys_strlcpy(base, v, sizeof base);
	else if ((v = aws_env(cfg, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")) && strcasecmp(v, "IPv6") == 0)
		sys_strlcpy(base, "http://[fd00:ec2::254]", sizeof base);
	else
		sys_strlcpy(base, "http://169.254.169.254", sizeof base);
	while (strlen(base) && base[strlen(base) - 1] == '/')
		base[strlen(base) - 1] = 0;

	snprintf(token, sizeof token, "%s/latest/api/token", base);
	if (aws_parse_url(token, &u, e) < 0)
		return -1;
	h = (http_hdr){ "X-aws-ec2-metadata-token-ttl-seconds", "21600" };
	if (aws_fetch(&quick, "PUT", &u, &h, 1, "", out, &status, e) < 0 || status != 200 ||
		out->len == 0 || out->len >= sizeof token) {
		sys_logf(hc->log, DG_LOG_DEBUG, "no EC2 instance metadata at %s", base);
		cfg->imds_absent = 1;
		return sys_fail(e, DG_ENOTFOUND, "no EC2 instance metadata service at %s", base);
	}
	memcpy(token, out->data, out->len);
	token[out->len] = 0;
	snprintf(base + strlen(base), sizeof base - strlen(base), "%s", path);
	if (aws_parse_url(base, &u, e) < 0)
		return -1;
	h = (http_hdr){ "X-aws-ec2-metadata-token", token };
	if (aws_fetch(&quick, "GET", &u, &h, 1, NULL, out, &status, e) < 0)
		return -1;
	explicit_bzero(token, sizeof token);
	if (status != 200)
		return sys_fail(e, status == 404 ? DG_ENOTFOUND : DG_ECONFIG,
			"EC2 instance metadata %s: HTTP %d", path, status);
	return 0;
}

static int aws_creds_imds(aws_config *cfg, const http_cfg *hc, dg_error *e)
{
	char path[256];
	sys_buf out = { 0 };
	int rc = -1;
	size_t n;

	if (aws_imds_get(cfg, hc, "/latest/meta-data/iam/security-credentials/", &out, e) < 0)
		goto done;
	n = strcspn(out.data ? out.data : "", "\r\n");
	if (n == 0 || n > 128) {
		sys_fail(e, DG_ECONFIG, "EC2 instance metadata: no IAM role attached");
		goto done;
	}
	snprintf(path, sizeof path, "/latest/meta-data/iam/security-credentials/%.*s", (int)n,
		out.data);
	if (strchr(path + 43, '/') || aws_imds_get(cfg, hc, path, &out, e) < 0)
		goto done;
	if (aws_creds_json(out.data ? out.data : "", out.len, "Token", &cfg->creds, &cfg->expiration,
			"EC2 instance metadata credentials", e) < 0)
		goto done;
	sys_strlcpy(cfg->creds.source, "EC2 instance metadata", sizeof cfg->creds.source);
	rc = 0;
done:
	explicit_bzero(out.data ? out.data : path, out.data ? out.cap : 0);
	sys_buf_free(&out);
	return rc;
}

static int aws_creds_fetch(aws_config *cfg, const http_cfg *hc, dg_error *e)
{
	switch (cfg->creds_kind) {
	case AWS_CREDS_WEB_IDENTITY: return aws_creds_web_identity(cfg, hc, e);
	case AWS_CREDS_PROCESS: return aws_creds_process(cfg, e);
	case AWS_CREDS_CONTAINER: return aws_creds_container(cfg, hc, e);
	case AWS_CREDS_IMDS: return aws_creds_imds(cfg, hc, e);
	}
	return 0;
}

/* What needs the network or a subprocess: credentials from services, and
 * the region from EC2 metadata when nothing else named one and the
 * endpoint is AWS's (a custom endpoint does not care about EC2 regions). */
static int aws_resolve(aws_config *cfg, const http_cfg *hc, dg_error *e)
{
	sys_buf out = { 0 };

	if (!cfg->have_creds && !cfg->anonymous && cfg->creds_kind != AWS_CREDS_STATIC) {
		if (aws_creds_fetch(cfg, hc, e) == 0)
			cfg->have_creds = 1;
		else if (cfg->creds_kind != AWS_CREDS_IMDS || e->code != DG_ENOTFOUND)
			return -1;   /* an absent EC2 service just means no credentials */
	}
	if (!cfg->region_known && !cfg->endpoint[0] && cfg->ec2_detection && !cfg->imds_off &&
		aws_imds_get(cfg, hc, "/latest/meta-data/placement/region", &out, e) == 0) {
		size_t n = strcspn(out.data ? out.data : "", "\r\n");

		if (n > 0 && n < sizeof cfg->region) {
			snprintf(cfg->region, sizeof cfg->region, "%.*s", (int)n, out.data);
			snprintf(cfg->endpoint_host, sizeof cfg->endpoint_host, "s3.%s.amazonaws.com",
				cfg->region);
			sys_logf(hc->log, DG_LOG_DEBUG, "region %s from EC2 instance metadata", cfg->region);
		}
	}
	sys_buf_free(&out);
	sys_logf(hc->log, DG_LOG_DEBUG, "profile %s, region %s, endpoint %s://%s:%d%s, credentials "
		"from %s", cfg->profile, cfg->region, cfg->endpoint_tls ? "https" : "http",
		cfg->endpoint_host, cfg->endpoint_port, cfg->endpoint_path,
		cfg->have_creds ? cfg->creds.source : "nowhere");
	return 0;
}

/* Where this EC2 instance runs (its region and availability zone): 1 when
 * on EC2 and talking to AWS's endpoints, else 0, having asked nothing when
 * the endpoint is another's or detection is off. */
static int aws_ec2_place(aws_config *cfg, const http_cfg *hc, char region[64], char zone[64])
{
	sys_buf out = { 0 };
	dg_error ignore;
	int on = 0;

	if (cfg->endpoint[0] || !cfg->ec2_detection || cfg->imds_off)
		return 0;
	if (aws_imds_get(cfg, hc, "/latest/meta-data/placement/region", &out, &ignore) == 0) {
		size_t n = strcspn(out.data ? out.data : "", "\r\n");

		on = n > 0 && n < 64;
		snprintf(region, 64, "%.*s", (int)n, out.data ? out.data : "");
		zone[0] = 0;
		if (on && aws_imds_get(cfg, hc, "/latest/meta-data/placement/availability-zone", &out,
				&ignore) == 0)
			snprintf(zone, 64, "%.*s", (int)strcspn(out.data ? out.data : "", "\r\n"),
				out.data ? out.data : "");
	}
	sys_buf_free(&out);
	return on;
}

/* Temporary credentials are fetched again five minutes before they expire. */
static int aws_refresh_if_needed(aws_config *cfg, const http_cfg *hc, dg_error *e)
{
	if (cfg->expiration == 0 || time(NULL) < cfg->expiration - 300)
		return 0;
	sys_logf(hc->log, DG_LOG_DEBUG, "refreshing credentials from %s", cfg->creds.source);
	return aws_creds_fetch(cfg, hc, e);
}

/* SigV4 UriEncode: everything but A-Z a-z 0-9 - _ . ~ as %XX, and '/'
 * kept in object key paths. */
static int aws_uri_encode(sys_buf *out, const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
			(c == '/' && keep_slash)) {
			if (sys_buf_add(out, s, 1) < 0)
				return -1;
		} else {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };

			if (sys_buf_add(out, esc, 3) < 0)
				return -1;
		}
	}
	return 0;
}

static int aws_hdr_cmp(const void *a, const void *b)
{
	return strcasecmp(((const http_hdr *)a)->name, ((const http_hdr *)b)->name);
}

/* Authorization header value for a request, per SigV4. canonical and
 * to_sign, when given, receive the intermediate strings (for tests and
 * --debug of signature mismatches). */
static int aws_sigv4_sign(const aws_creds *c, const aws_sigv4 *s, sys_buf *authz,
	sys_buf *canonical, sys_buf *to_sign)
{
	http_hdr sorted[48];
	sys_buf creq = { 0 }, sts = { 0 }, signed_names = { 0 };
	unsigned char k[32], sig[32];
	char hash[65], sighex[65], date[9], secret[140];
	size_t i, j;
	int rc = -1;

	if (s->nhdrs > sizeof sorted / sizeof sorted[0])
		return -1;
	memcpy(sorted, s->hdrs, s->nhdrs * sizeof *sorted);
	qsort(sorted, s->nhdrs, sizeof *sorted, aws_hdr_cmp);

	sys_buf_printf(&creq, "%s\n%s\n%s\n", s->method, s->uri, s->query);
	for (i = 0; i < s->nhdrs; i++) {
		const char *v = sorted[i].value;
		int space = 0;

		for (j = 0; sorted[i].name[j]; j++) {
			char lc = (char)tolower((unsigned char)sorted[i].name[j]);

			sys_buf_add(&creq, &lc, 1);
			sys_buf_add(&signed_names, &lc, 1);
		}
		sys_buf_adds(&creq, ":");
		if (i + 1 < s->nhdrs)
			sys_buf_adds(&signed_names, ";");
		/* Trim, and collapse runs of spaces to one. */
		while (*v == ' ' || *v == '\t')
			v++;
		for (; *v; v++) {
			if (*v == ' ' || *v == '\t') {
				space = 1;
				continue;
			}
			if (space)
				sys_buf_adds(&creq, " ");
			space = 0;
			sys_buf_add(&creq, v, 1);
		}
		sys_buf_adds(&creq, "\n");
	}
	sys_buf_printf(&creq, "\n%s\n%s", signed_names.data ? signed_names.data : "",
		s->payload_hash);
	if (creq.data == NULL)
		goto done;

	memcpy(date, s->amz_date, 8);
	date[8] = 0;
	crypto_sha256_hex(creq.data, creq.len, hash);
	sys_buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", s->amz_date,
		date, s->region, s->service, hash);

	snprintf(secret, sizeof secret, "AWS4%s", c->secret_key);
	crypto_hmac_sha256(secret, strlen(secret), date, 8, k);
	crypto_hmac_sha256(k, 32, s->region, strlen(s->region), k);
	crypto_hmac_sha256(k, 32, s->service, strlen(s->service), k);
	crypto_hmac_sha256(k, 32, "aws4_request", 12, k);
	crypto_hmac_sha256(k, 32, sts.data, sts.len, sig);
	crypto_hex(sig, 32, sighex);
	explicit_bzero(secret, sizeof secret);
	explicit_bzero(k, sizeof k);

	authz->len = 0;
	if (sys_buf_printf(authz, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
			"SignedHeaders=%s, Signature=%s", c->access_key, date, s->region, s->service,
			signed_names.data, sighex) < 0)
		goto done;
	if (canonical)
		canonical->len = 0, sys_buf_add(canonical, creq.data, creq.len);
	if (to_sign)
		to_sign->len = 0, sys_buf_add(to_sign, sts.data, sts.len);
	rc = 0;
done:
	sys_buf_free(&creq);
	sys_buf_free(&sts);
	sys_buf_free(&signed_names);
	return rc;
}

static int aws_param_cmp(const void *a, const void *b)
{
	return strcmp(((const http_hdr *)a)->name, ((const http_hdr *)b)->name);
}

/* The X-Amz-* parameters join the caller's; all are sorted and encoded
 * into the canonical query, which is signed like a request whose payload
 * is UNSIGNED-PAYLOAD, and the signature is appended. */
static int aws_presign(const aws_creds *c, const aws_presign_req *p, sys_buf *url)
{
	http_hdr params[24], host = { "host", p->host };
	sys_buf query = { 0 }, authz = { 0 };
	char amz_date[17], cred[400], expires[16];
	const char *sig;
	size_t n = 0, i;
	aws_sigv4 s;
	int rc = -1;

	if (p->nquery > sizeof params / sizeof params[0] - 6)
		return -1;
	sys_time_amz(p->when, amz_date);
	snprintf(cred, sizeof cred, "%s/%.8s/%s/s3/aws4_request", c->access_key, amz_date,
		p->region);
	snprintf(expires, sizeof expires, "%u", p->expires);
	params[n++] = (http_hdr){ "X-Amz-Algorithm", "AWS4-HMAC-SHA256" };
	params[n++] = (http_hdr){ "X-Amz-Credential", cred };
	params[n++] = (http_hdr){ "X-Amz-Date", amz_date };
	params[n++] = (http_hdr){ "X-Amz-Expires", expires };
	params[n++] = (http_hdr){ "X-Amz-SignedHeaders", "host" };
	if (c->token[0])
		params[n++] = (http_hdr){ "X-Amz-Security-Token", c->token };
	for (i = 0; i < p->nquery; i++)
		params[n++] = p->query[i];
	qsort(params, n, sizeof *params, aws_param_cmp);
	for (i = 0; i < n; i++) {
		sys_buf_adds(&query, i ? "&" : "");
		aws_uri_encode(&query, params[i].name, 0);
		sys_buf_adds(&query, "=");
		aws_uri_encode(&query, params[i].value, 0);
	}
	if (query.data == NULL)
		goto done;
	s = (aws_sigv4){ p->method, p->path, query.data, &host, 1, "UNSIGNED-PAYLOAD", p->region,
		"s3", amz_date };
	if (aws_sigv4_sign(c, &s, &authz, NULL, NULL) < 0 ||
		(sig = strstr(authz.data, "Signature=")) == NULL)
		goto done;
	url->len = 0;
	if (sys_buf_printf(url, "%s%s?%s&X-Amz-Signature=%s", p->origin, p->path, query.data,
			sig + 10) < 0)
		goto done;
	rc = 0;
done:
	sys_buf_free(&query);
	sys_buf_free(&authz);
	return rc;
}

/* ======================================================================
 * §5  XML scanner
 *
 * Just enough XML for S3 responses: elements, attributes (skipped),
 * text with the five named entities and numeric character references,
 * CDATA, comments and processing instructions. Nodes point into the
 * document; nothing is allocated. Every element is checked to close with
 * its own name, and nesting is bounded.
 * ====================================================================== */

#define XML_MAX_DEPTH 32

static const char *xml_skip_past(const char *p, const char *end, const char *marker)
{
	size_t m = strlen(marker);

	for (; p + m <= end; p++)
		if (memcmp(p, marker, m) == 0)
			return p + m;
	return NULL;
}

static int xml_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' || c == ':' ||
		(unsigned char)c >= 0x80;
}

/* Comments, CDATA and processing instructions at p ('<' seen). Returns the
 * position after them, p itself when p starts none, NULL when unterminated. */
static const char *xml_skip_misc(const char *p, const char *end, int allow_cdata)
{
	if (end - p >= 4 && memcmp(p, "<!--", 4) == 0)
		return xml_skip_past(p + 4, end, "-->");
	if (end - p >= 2 && memcmp(p, "<?", 2) == 0)
		return xml_skip_past(p + 2, end, "?>");
	if (allow_cdata && end - p >= 9 && memcmp(p, "<![CDATA[", 9) == 0)
		return xml_skip_past(p + 9, end, "]]>");
	return p;
}

/* Parse the element whose start tag begins at *pp, up to its matching end
 * tag. On success *pp points just past the element. */
static int xml_element(const char **pp, const char *end, xml_node *node, int depth)
{
	const char *p = *pp + 1, *qname = p, *q;
	size_t qlen;

	if (depth > XML_MAX_DEPTH)
		return -1;
	while (p < end && xml_name_char(*p))
		p++;
	qlen = (size_t)(p - qname);
	if (qlen == 0 || p >= end)
		return -1;
	q = memchr(qname, ':', qlen);
	node->name = q ? q + 1 : qname;
	node->name_len = qlen - (size_t)(node->name - qname);
	/* Attributes: skip, minding quotes. */
	while (p < end && *p != '>' && *p != '/') {
		if (*p == '"' || *p == '\'') {
			const char *close = memchr(p + 1, *p, (size_t)(end - p - 1));

			if (close == NULL)
				return -1;
			p = close;
		}
		p++;
	}
	if (p >= end)
		return -1;
	if (*p == '/') {
		if (p + 1 >= end || p[1] != '>')
			return -1;
		node->body = p;
		node->body_len = 0;
		*pp = p + 2;
		return 0;
	}
	node->body = ++p;
	for (;;) {
		const char *lt = memchr(p, '<', (size_t)(end - p)), *skip;

		if (lt == NULL)
			return -1;
		if (lt + 1 < end && lt[1] == '/') {
			const char *n = lt + 2;

			if ((size_t)(end - n) < qlen || memcmp(n, qname, qlen) != 0)
				return -1;
			n += qlen;
			while (n < end && isspace((unsigned char)*n))
				n++;
			if (n >= end || *n != '>')
				return -1;
			node->body_len = (size_t)(lt - node->body);
			*pp = n + 1;
			return 0;
		}
		skip = xml_skip_misc(lt, end, 1);
		if (skip == NULL)
			return -1;
		if (skip != lt) {
			p = skip;
			continue;
		}
		if (lt + 1 < end && lt[1] == '!')
			return -1;
		{
			xml_node child;

			p = lt;
			if (xml_element(&p, end, &child, depth + 1) < 0)
				return -1;
		}
	}
}

static int xml_root(const char *doc, size_t len, xml_node *root)
{
	const char *p = doc, *end = doc + len;
	int found = 0;

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		const char *skip;

		if (isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		if (*p != '<')
			return -1;
		skip = xml_skip_misc(p, end, 0);
		if (skip == NULL)
			return -1;
		if (skip != p) {
			p = skip;
			continue;
		}
		if (end - p >= 9 && memcmp(p, "<!DOCTYPE", 9) == 0) {
			const char *gt = memchr(p, '>', (size_t)(end - p));

			if (gt == NULL || found)
				return -1;
			p = gt + 1;
			continue;
		}
		if (found || xml_element(&p, end, root, 0) < 0)
			return -1;
		found = 1;
	}
	return found ? 0 : -1;
}

static void xml_iter_init(xml_iter *it, const xml_node *parent)
{
	it->p = parent->body;
	it->end = parent->body + parent->body_len;
}

/* Next child element: 1, or 0 at the end, or -1 on malformed input. */
static int xml_next(xml_iter *it, xml_node *child)
{
	while (it->p < it->end) {
		const char *lt = memchr(it->p, '<', (size_t)(it->end - it->p)), *skip;

		if (lt == NULL) {
			it->p = it->end;
			return 0;
		}
		skip = xml_skip_misc(lt, it->end, 1);
		if (skip == NULL)
			return -1;
		if (skip != lt) {
			it->p = skip;
			continue;
		}
		it->p = lt;
		return xml_element(&it->p, it->end, child, 1) < 0 ? -1 : 1;
	}
	return 0;
}

static int xml_is(const xml_node *n, const char *name)
{
	return strlen(name) == n->name_len && memcmp(n->name, name, n->name_len) == 0;
}

static int xml_child(const xml_node *parent, const char *name, xml_node *child)
{
	xml_iter it;
	int r;

	xml_iter_init(&it, parent);
	while ((r = xml_next(&it, child)) == 1)
		if (xml_is(child, name))
			return 1;
	return r;
}

/* Text content of a leaf element, entities decoded. -1 when malformed,
 * when the element has child elements, or when out is too small. */
static int xml_text(const xml_node *n, char *out, size_t cap)
{
	const char *p = n->body, *end = n->body + n->body_len;
	size_t o = 0;

	if (cap == 0)
		return -1;
	while (p < end) {
		if (*p == '<') {
			if (end - p >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
				const char *close = xml_skip_past(p + 9, end, "]]>");
				size_t len;

				if (close == NULL)
					return -1;
				len = (size_t)(close - 3 - (p + 9));
				if (o + len >= cap)
					return -1;
				memcpy(out + o, p + 9, len);
				o += len;
				p = close;
				continue;
			} else {
				const char *skip = xml_skip_misc(p, end, 0);

				if (skip == NULL || skip == p)
					return -1;
				p = skip;
				continue;
			}
		}
		if (*p == '&') {
			const char *semi = memchr(p, ';', (size_t)(end - p) < 12 ? (size_t)(end - p) : 12);
			size_t len;

			if (semi == NULL)
				return -1;
			len = (size_t)(semi - p - 1);
			if (len >= 2 && p[1] == '#') {
				char num[12], *stop;
				int base = (p[2] == 'x' || p[2] == 'X') ? 16 : 10;
				const char *digits = p + (base == 16 ? 3 : 2);
				unsigned long cp;

				memcpy(num, digits, (size_t)(semi - digits));
				num[semi - digits] = 0;
				cp = strtoul(num, &stop, base);
				if (*num == 0 || *stop || sys_put_utf8(out, cap, &o, cp) < 0)
					return -1;
			} else {
				static const struct { const char *name; char c; } ents[] = {
					{ "lt", '<' }, { "gt", '>' }, { "amp", '&' }, { "quot", '"' },
					{ "apos", '\'' },
				};
				size_t k;

				for (k = 0; k < 5; k++)
					if (strlen(ents[k].name) == len && memcmp(p + 1, ents[k].name, len) == 0)
						break;
				if (k == 5 || o + 1 >= cap)
					return -1;
				out[o++] = ents[k].c;
			}
			p = semi + 1;
			continue;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = *p++;
	}
	out[o] = 0;
	return 0;
}

/* Text of the first child named name: 1 found, 0 absent, -1 malformed. */
static int xml_child_text(const xml_node *parent, const char *name, char *out, size_t cap)
{
	xml_node c;
	int r = xml_child(parent, name, &c);

	if (r <= 0)
		return r;
	return xml_text(&c, out, cap) < 0 ? -1 : 1;
}

/* Escape text content. Quotes stay as they are: some servers' parsers
 * do not decode &quot; inside an ETag. */
static int xml_escape(sys_buf *out, const char *s)
{
	for (; *s; s++) {
		const char *rep = NULL;
		char num[8];

		switch (*s) {
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '&': rep = "&amp;"; break;
		default:
			if ((unsigned char)*s < 0x20) {
				snprintf(num, sizeof num, "&#%d;", *s);
				rep = num;
			}
		}
		if (rep ? sys_buf_adds(out, rep) < 0 : sys_buf_add(out, s, 1) < 0)
			return -1;
	}
	return 0;
}

/* ======================================================================
 * §6  S3 client
 *
 * The S3 REST operations deltaglider uses, signed with SigV4 and retried
 * with exponential backoff and jitter on connection errors, 5xx, 429 and
 * throttling. Path-style addressing for custom endpoints, virtual-hosted
 * for AWS. Listings are delivered one object at a time through a
 * callback, a page in memory at most.
 * ====================================================================== */

#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* Over TLS, file bodies are sent unsigned, as the AWS CLI sends them: the
 * channel protects them, and hashing would cost a pass over the file. */
#define S3_UNSIGNED "UNSIGNED-PAYLOAD"
#define S3_MAX_PARTS 10000
#define S3_PUT_MAX (5ull << 30)      /* the largest single PutObject */


static void s3_client_init(s3_client *c, aws_config *cfg, const http_cfg *hc)
{
	memset(c, 0, sizeof *c);
	c->cfg = cfg;
	c->log = hc->log;
	http_client_init(&c->http, hc);
}

static void s3_client_close(s3_client *c)
{
	http_client_close(&c->http);
}

/* Now, by the server's clock (as of its last Date header): what leases and
 * uploads it dates are compared with. 0 until the server has answered. */
static time_t s3_server_time(const s3_client *c)
{
	return c->clock_known ? (time_t)((int64_t)time(NULL) + c->skew) : 0;
}

/* Virtual-hosted addressing needs a bucket name that is a DNS label set
 * (and, over TLS, without dots, or the wildcard certificate won't match). */
static int s3_virtual_ok(const aws_config *cfg, const char *bucket)
{
	size_t i, n = strlen(bucket);

	if (cfg->addressing == AWS_ADDR_PATH || (cfg->addressing == AWS_ADDR_AUTO && cfg->endpoint[0]))
		return 0;
	if (n < 3 || n > 63 || !isalnum((unsigned char)bucket[0]) ||
		!isalnum((unsigned char)bucket[n - 1]))
		return 0;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)bucket[i]) || isdigit((unsigned char)bucket[i]) ||
			bucket[i] == '-' || (bucket[i] == '.' && !cfg->endpoint_tls)))
			return 0;
	return 1;
}

static int s3_query_cmp(const void *a, const void *b)
{
	const http_hdr *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	return r ? r : strcmp(x->value, y->value);
}

typedef struct s3_call {
	const char *method;
	const char *bucket;          /* NULL: the service (ListBuckets) */
	const char *key;             /* NULL: the bucket itself */
	const http_hdr *query;       /* unencoded; a NULL value is a bare subresource */
	size_t nquery;
	const http_hdr *hdrs;        /* extra headers, all signed */
	size_t nhdrs;
	const http_body *body;
	const char *payload_hash;    /* NULL: the empty payload */
	int may_stall;               /* CopyObject, CompleteMultipartUpload: see http_req */
	/* Called before each attempt is signed; may change hdrs and nhdrs. */
	int (*before)(void *ctx, dg_error *e);
	void *before_ctx;
} s3_call;

/* Where a call goes: chost is where we connect; host, with any port, is
 * the Host header; path and query are canonical (encoded, the query
 * sorted), target is the two joined. */
typedef struct s3_addr {
	sys_buf host, chost, path, query, target;
} s3_addr;

static void s3_addr_free(s3_addr *a)
{
	sys_buf_free(&a->host);
	sys_buf_free(&a->chost);
	sys_buf_free(&a->path);
	sys_buf_free(&a->query);
	sys_buf_free(&a->target);
}

/* The region a call is signed for: the source bucket of copies may have
 * its own (--source-region). */
static int s3_from_source(const aws_config *cfg, const s3_call *call)
{
	return call->bucket && cfg->source_bucket[0] && strcmp(call->bucket, cfg->source_bucket) == 0;
}

static const char *s3_region_of(const aws_config *cfg, const s3_call *call)
{
	return s3_from_source(cfg, call) && cfg->source_region[0] ? cfg->source_region : cfg->region;
}

static int s3_address(const aws_config *cfg, const s3_call *call, s3_addr *a, dg_error *e)
{
	http_hdr sorted[16];
	char aws_host[96];
	const char *host = cfg->endpoint_host, *region = s3_region_of(cfg, call);
	size_t i;
	int virt = call->bucket && s3_virtual_ok(cfg, call->bucket);

	if (call->nquery > sizeof sorted / sizeof sorted[0])
		return sys_fail(e, DG_EUSAGE, "internal error: request too large");
	if (!cfg->endpoint[0] && region != cfg->region) {
		snprintf(aws_host, sizeof aws_host, "s3.%s.amazonaws.com", region);
		host = aws_host;
	}
	if (virt)
		sys_buf_printf(&a->chost, "%s.%s", call->bucket, host);
	else
		sys_buf_adds(&a->chost, host);
	if (strchr(host, ':'))
		sys_buf_printf(&a->host, "[%s]", host);
	else
		sys_buf_adds(&a->host, a->chost.data);
	if (cfg->endpoint_port != (cfg->endpoint_tls ? 443 : 80))
		sys_buf_printf(&a->host, ":%d", cfg->endpoint_port);

	sys_buf_adds(&a->path, cfg->endpoint_path);
	sys_buf_adds(&a->path, "/");
	if (call->bucket && !virt) {
		aws_uri_encode(&a->path, call->bucket, 0);
		if (call->key)
			sys_buf_adds(&a->path, "/");
	}
	if (call->key)
		aws_uri_encode(&a->path, call->key, 1);

	if (call->nquery) {
		memcpy(sorted, call->query, call->nquery * sizeof *sorted);
		qsort(sorted, call->nquery, sizeof *sorted, s3_query_cmp);
	}
	for (i = 0; i < call->nquery; i++) {
		if (i)
			sys_buf_adds(&a->query, "&");
		aws_uri_encode(&a->query, sorted[i].name, 0);
		sys_buf_adds(&a->query, "=");
		if (sorted[i].value)
			aws_uri_encode(&a->query, sorted[i].value, 0);
	}
	sys_buf_printf(&a->target, "%s%s%s", a->path.data, a->query.len ? "?" : "",
		a->query.len ? a->query.data : "");
	if (a->host.data == NULL || a->chost.data == NULL || a->target.data == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory building a request");
	return 0;
}

static int s3_is_retryable(const http_resp *r, const dg_error *e)
{
	static const char *const codes[] = { "SlowDown", "Throttling", "ThrottlingException",
		"RequestTimeout", "InternalError", "ServiceUnavailable", "RequestLimitExceeded",
		"ConditionalRequestConflict" };
	size_t i;

	if (e->code != DG_EHTTP && e->code != DG_ENOTFOUND)
		return e->retryable;
	if (r->status == 429 || r->status == 500 || r->status == 502 || r->status == 503 ||
		r->status == 504)
		return 1;
	for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (strcmp(e->s3code, codes[i]) == 0)
			return 1;
	return 0;
}

static const char *s3_status_text(int status)
{
	switch (status) {
	case 301: return "Moved Permanently (wrong region or endpoint?)";
	case 307: return "Temporary Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 407: return "Proxy Authentication Required";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 416: return "Requested Range Not Satisfiable";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	}
	return "error";
}

/* Turn an error response (or an <Error> inside a 200) into one line. */
static int s3_error_from(const http_resp *r, const char *body, size_t len, dg_error *e)
{
	xml_node root;
	char code[64] = "", msg[512] = "";
	int status = r->status;

	if (len && xml_root(body, len, &root) == 0 && xml_is(&root, "Error")) {
		xml_child_text(&root, "Code", code, sizeof code);
		xml_child_text(&root, "Message", msg, sizeof msg);
	}
	if (code[0] == 0) {
		/* HEAD errors have no body; name them as the AWS CLI does. */
		snprintf(code, sizeof code, "%s", status == 404 ? "NotFound" :
			status == 403 ? "Forbidden" : status == 400 ? "BadRequest" : "");
	}
	if (code[0] && msg[0])
		sys_fail(e, DG_EHTTP, "%s: %s", code, msg);
	else if (code[0])
		sys_fail(e, DG_EHTTP, "%s (HTTP %d)", code, status);
	else
		sys_fail(e, DG_EHTTP, "HTTP %d %s", status, s3_status_text(status));
	/* A bucket in another region: say which (S3 sends it in a header). */
	if ((status == 301 || status == 400) && http_resp_header(r, "x-amz-bucket-region")) {
		size_t n = strlen(e->msg);

		snprintf(e->msg + n, sizeof e->msg - n, " (the bucket is in %s: use --region %s)",
			http_resp_header(r, "x-amz-bucket-region"), http_resp_header(r, "x-amz-bucket-region"));
	}
	e->http_status = status;
	sys_strlcpy(e->s3code, code, sizeof e->s3code);
	if (status == 404)
		e->code = DG_ENOTFOUND;
	return -1;
}

/* SSE-C: the key goes with every request that reads or writes an
 * object's data or metadata (PUT, GET, HEAD, a multipart upload's start
 * and parts): the copy source's key in the source bucket of copies, the
 * other key elsewhere; and the copy source's key with a CopyObject. */
static size_t s3_ssec_headers(const aws_config *cfg, const s3_call *call, http_hdr *out)
{
	size_t n = 0, i;
	int data = call->key && strcmp(call->method, "DELETE") != 0, copy = 0;
	int src = s3_from_source(cfg, call);
	const char *key = src ? cfg->ssec_src_key : cfg->ssec_key;
	const char *md5 = src ? cfg->ssec_src_md5 : cfg->ssec_md5;

	for (i = 0; i < call->nquery; i++)
		if (strcmp(call->query[i].name, "uploadId") == 0 && strcmp(call->method, "POST") == 0)
			data = 0;   /* CompleteMultipartUpload */
	for (i = 0; i < call->nhdrs; i++)
		if (strcasecmp(call->hdrs[i].name, "x-amz-copy-source") == 0)
			copy = 1;
	if (key[0] && data) {
		out[n++] = (http_hdr){ "x-amz-server-side-encryption-customer-algorithm", "AES256" };
		out[n++] = (http_hdr){ "x-amz-server-side-encryption-customer-key", key };
		out[n++] = (http_hdr){ "x-amz-server-side-encryption-customer-key-MD5", md5 };
	}
	if (cfg->ssec_src_key[0] && copy) {
		out[n++] = (http_hdr){ "x-amz-copy-source-server-side-encryption-customer-algorithm",
			"AES256" };
		out[n++] = (http_hdr){ "x-amz-copy-source-server-side-encryption-customer-key",
			cfg->ssec_src_key };
		out[n++] = (http_hdr){ "x-amz-copy-source-server-side-encryption-customer-key-MD5",
			cfg->ssec_src_md5 };
	}
	return n;
}

/* Sign and send one S3 request, retrying what is worth retrying. A 2xx body
 * goes to sink (or is dropped when sink is NULL). */
static int s3_request(s3_client *c, const s3_call *call, http_resp *resp,
	const sys_sink *sink, dg_error *e)
{
	aws_config *cfg = c->cfg;
	http_hdr hdrs[48];
	s3_addr a = { 0 };
	sys_buf authz = { 0 };
	char amz_date[17];
	size_t i, nh;
	int attempt, rc = -1;
	int64_t backoff_ms = 250, started;

	/* An empty key would address the bucket itself (DELETE /b/ removes it). */
	if (call->key && call->key[0] == 0)
		return sys_fail(e, DG_EUSAGE, "empty object key");
	if (call->nhdrs > sizeof hdrs / sizeof hdrs[0] - 12)
		return sys_fail(e, DG_EUSAGE, "internal error: request too large");
	if (!cfg->have_creds && !cfg->anonymous)
		return sys_fail(e, DG_ECONFIG, "unable to locate credentials: set "
			"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure a profile "
			"(--no-sign-request for a public bucket)");

	if (s3_address(cfg, call, &a, e) < 0)
		goto done;

	for (attempt = 1;; attempt++) {
		aws_sigv4 sig;
		http_req req;
		int64_t wait;
		unsigned char rnd[2];

		if ((!cfg->anonymous && aws_refresh_if_needed(cfg, c->http.cfg, e) < 0) ||
			(call->before && call->before(call->before_ctx, e) < 0))
			goto done;
		sys_time_amz(time(NULL), amz_date);
		nh = 0;
		hdrs[nh++] = (http_hdr){ "Host", a.host.data };
		hdrs[nh++] = (http_hdr){ "x-amz-date", amz_date };
		hdrs[nh++] = (http_hdr){ "x-amz-content-sha256",
			call->payload_hash ? call->payload_hash : S3_EMPTY_SHA256 };
		if (cfg->creds.token[0] && !cfg->anonymous)
			hdrs[nh++] = (http_hdr){ "x-amz-security-token", cfg->creds.token };
		if (cfg->request_payer)
			hdrs[nh++] = (http_hdr){ "x-amz-request-payer", "requester" };
		for (i = 0; i < call->nhdrs; i++)
			hdrs[nh++] = call->hdrs[i];
		nh += s3_ssec_headers(cfg, call, hdrs + nh);
		sig = (aws_sigv4){ call->method, a.path.data, a.query.len ? a.query.data : "", hdrs, nh,
			hdrs[2].value, s3_region_of(cfg, call), "s3", amz_date };
		if (!cfg->anonymous) {
			if (aws_sigv4_sign(&cfg->creds, &sig, &authz, NULL, NULL) < 0) {
				sys_fail(e, DG_ENOMEM, "cannot sign the request");
				goto done;
			}
			hdrs[nh++] = (http_hdr){ "Authorization", authz.data };
		}

		/* A file's bytes, up or down, are not bounded in time, only in rate. */
		req = (http_req){ call->method, a.chost.data, cfg->endpoint_port, cfg->endpoint_tls,
			a.target.data, hdrs, nh, call->body, !(call->body && call->body->fd >= 0) &&
			(sink == NULL || sys_sink_is_memory(sink)), call->may_stall };
		sys_logf(c->log, DG_LOG_DEBUG, "%s %s://%s%s (attempt %d)", call->method,
			cfg->endpoint_tls ? "https" : "http", a.host.data, a.target.data, attempt);
		started = sys_now_ms();
		rc = http_do(&c->http, &req, resp, sink, e);
		if (rc == 0) {
			const char *date = http_resp_header(resp, "date");
			time_t t;

			sys_logf(c->log, DG_LOG_DEBUG, "-> HTTP %d in %" PRId64 " ms", resp->status,
				sys_now_ms() - started);
			if (date && sys_time_parse(date, &t) == 0) {
				c->skew = (int64_t)t - (int64_t)time(NULL);
				c->clock_known = 1;
			}
			if (resp->status >= 200 && resp->status < 300)
				break;
			rc = s3_error_from(resp, resp->errbody.data, resp->errbody.len, e);
		}
		if (attempt >= cfg->max_attempts || !s3_is_retryable(resp, e))
			break;
		/* Full jitter: a random wait in [0, 250 ms * 2^(attempt-1)], at most 20 s. */
		crypto_random(rnd, sizeof rnd);
		wait = backoff_ms * ((rnd[0] << 8 | rnd[1]) + 1) / 65536;
		sys_logf(c->log, DG_LOG_DEBUG, "retrying in %" PRId64 " ms after: %s", wait, e->msg);
		sys_sleep_ms(wait);
		if (backoff_ms < 20000)
			backoff_ms *= 2;
	}
done:
	s3_addr_free(&a);
	sys_buf_free(&authz);
	return rc;
}

/* A call whose answer matters only by its status. */
static int s3_call_plain(s3_client *c, const s3_call *call, dg_error *e)
{
	http_resp *resp = calloc(1, sizeof *resp);
	int rc;

	if (resp == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	rc = s3_request(c, call, resp, NULL, e);
	http_resp_free(resp);
	free(resp);
	return rc;
}

/* Run a request whose 2xx answer is an XML document; parse its root. */
static int s3_request_xml(s3_client *c, const s3_call *call, http_resp *resp, sys_buf *doc,
	xml_node *root, const char *want_root, dg_error *e)
{
	sys_sink sink = { sys_sink_buf_write, sys_sink_buf_reset, doc };

	if (s3_request(c, call, resp, &sink, e) < 0)
		return -1;
	if (xml_root(doc->data, doc->len, root) < 0)
		return sys_fail(e, DG_EPROTO, "malformed XML in the %s response", want_root);
	if (xml_is(root, "Error"))   /* CompleteMultipartUpload and CopyObject may do this */
		return s3_error_from(resp, doc->data, doc->len, e);
	if (!xml_is(root, want_root))
		return sys_fail(e, DG_EPROTO, "unexpected <%.*s> instead of <%s> in the response",
			(int)root->name_len, root->name, want_root);
	return 0;
}

/* ---- Metadata values: RFC 2047 ----
 *
 * S3 takes header values in ASCII. AWS stores a value sent as RFC 2047
 * encoded-words decoded, and returns a non-ASCII value encoded ("=?UTF-8?B?
 * ...?="); MinIO and Ceph RGW keep what they are sent. So a value with
 * other bytes (an original name in Unicode, a dg-ref-key under such a
 * folder) goes out as UTF-8 "B" words, and values that come back encoded
 * are decoded: a name round-trips on every server. A word carries at most
 * 45 bytes, cut between characters, so it stays within RFC 2047's 75
 * columns. */
#define S3_RFC2047_CHUNK 45

static int s3_meta_plain(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || (unsigned char)*v > 0x7e)
			return 0;
	return 1;
}

/* Encode v into out (cap bytes); -1 if it does not fit. */
static int s3_rfc2047_encode(const char *v, char *out, size_t cap)
{
	size_t len = strlen(v), at = 0, o = 0;

	if (cap == 0)
		return -1;
	out[0] = 0;
	while (at < len) {
		size_t take = len - at < S3_RFC2047_CHUNK ? len - at : S3_RFC2047_CHUNK;

		while (at + take < len && take > 1 && ((unsigned char)v[at + take] & 0xc0) == 0x80)
			take--;   /* never split a UTF-8 sequence */
		if (o + 13 + (take + 2) / 3 * 4 + 1 > cap)
			return -1;
		o += (size_t)sprintf(out + o, "%s=?UTF-8?B?", o ? " " : "");
		o += crypto_b64_encode((const unsigned char *)v + at, take, out + o);
		memcpy(out + o, "?=", 3);
		o += 2;
		at += take;
	}
	return 0;
}

/* Decode one encoded-word at p ("=?charset?B|Q?text?="), appending its
 * bytes to out; returns the length of the word, 0 if p starts none. */
static size_t s3_rfc2047_word(const char *p, char *out, size_t cap, size_t *o)
{
	const char *cs = p + 2, *enc, *text, *end;
	char tmp[256];
	size_t n, got;

	if (strncmp(p, "=?", 2) != 0 || (enc = strchr(cs, '?')) == NULL || enc[1] == 0 ||
		enc[2] != '?' || (end = strstr(text = enc + 3, "?=")) == NULL ||
		(size_t)(enc - cs) != 5 || strncasecmp(cs, "UTF-8", 5) != 0 ||
		(n = (size_t)(end - text)) >= sizeof tmp)
		return 0;
	memcpy(tmp, text, n);
	tmp[n] = 0;
	if (enc[1] == 'B' || enc[1] == 'b') {
		if (crypto_b64_decode(tmp, (unsigned char *)out + *o, cap - 1 - *o, &got) < 0)
			return 0;
		*o += got;
	} else if (enc[1] == 'Q' || enc[1] == 'q') {
		for (size_t i = 0; i < n; i++) {
			unsigned hi;

			if (*o + 1 >= cap)
				return 0;
			if (tmp[i] == '_')
				out[(*o)++] = ' ';
			else if (tmp[i] == '=' && i + 2 < n && isxdigit((unsigned char)tmp[i + 1]) &&
				isxdigit((unsigned char)tmp[i + 2]) && sscanf(tmp + i + 1, "%2x", &hi) == 1)
				out[(*o)++] = (char)hi, i += 2;
			else
				out[(*o)++] = tmp[i];
		}
	} else {
		return 0;
	}
	return (size_t)(end + 2 - p);
}

/* v as it was meant: encoded-words (and the white space between them)
 * decoded; a value that is not entirely encoded-words stays as it came. */
static void s3_rfc2047_decode(const char *v, char *out, size_t cap)
{
	const char *p = v;
	size_t o = 0, w;

	while (*p) {
		if ((w = s3_rfc2047_word(p, out, cap, &o)) == 0)
			goto verbatim;
		p += w;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	if (memchr(out, 0, o) == NULL && memchr(out, '\r', o) == NULL && memchr(out, '\n', o) == NULL) {
		out[o] = 0;
		return;
	}
verbatim:
	sys_strlcpy(out, v, cap);
}

static void s3_meta_from_headers(const http_resp *r, sys_meta *meta)
{
	const char *p = r->hdrs, *end = r->hdrs + r->hlen;

	sys_meta_init(meta);
	while (p < end) {
		const char *v = p + strlen(p) + 1;

		if (strncmp(p, "x-amz-meta-", 11) == 0) {
			char plain[SYS_META_SPACE];

			s3_rfc2047_decode(v, plain, sizeof plain);
			sys_meta_set(meta, p + 11, plain);
		}
		p = v + strlen(v) + 1;
	}
}

/* A response header into a field of sys_object: a value that does not fit
 * is left out rather than cut, as a copy must not carry a changed one. */
static void s3_header_field(const http_resp *r, const char *name, char *out, size_t cap)
{
	const char *v = http_resp_header(r, name);

	if (v == NULL || sys_strlcpy(out, v, cap) >= cap)
		out[0] = 0;
}

static void s3_object_from_headers(const http_resp *r, const char *key, sys_object *obj)
{
	const char *v;

	memset(obj, 0, sizeof *obj);
	sys_strlcpy(obj->key, key, sizeof obj->key);
	if ((v = http_resp_header(r, "content-range")) && (v = strchr(v, '/')))
		sys_parse_u64(v + 1, &obj->size);
	else if (r->content_length >= 0)
		obj->size = (uint64_t)r->content_length;
	if ((v = http_resp_header(r, "last-modified")))
		sys_time_parse(v, &obj->mtime);
	if ((v = http_resp_header(r, "etag")))
		sys_strlcpy(obj->etag, v, sizeof obj->etag);
	s3_header_field(r, "content-type", obj->content_type, sizeof obj->content_type);
	s3_header_field(r, "cache-control", obj->cache_control, sizeof obj->cache_control);
	s3_header_field(r, "content-disposition", obj->content_disposition,
		sizeof obj->content_disposition);
	s3_header_field(r, "content-encoding", obj->content_encoding,
		sizeof obj->content_encoding);
	s3_header_field(r, "expires", obj->expires, sizeof obj->expires);
}

static int s3_head(s3_client *c, const char *bucket, const char *key, sys_object *obj,
	sys_meta *meta, dg_error *e)
{
	s3_call call = { .method = "HEAD", .bucket = bucket, .key = key };
	http_resp *resp = calloc(1, sizeof *resp);
	int rc = -1;

	if (resp == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	if (s3_request(c, &call, resp, NULL, e) == 0) {
		if (obj)
			s3_object_from_headers(resp, key, obj);
		if (meta)
			s3_meta_from_headers(resp, meta);
		rc = 0;
	}
	http_resp_free(resp);
	free(resp);
	return rc;
}

/* One GET of bytes [from, from + len) of an object (len 0: to its end).
 * A sink that cannot start over (a pipe) resumes instead of restarting:
 * each retry asks for the rest with a Range, and If-Match the ETag of the
 * first answer, so a changed object fails rather than mixing two versions.
 * An etag given beforehand binds every attempt to that version. */
typedef struct s3_range {
	uint64_t from, len;
	uint64_t got;                /* bytes delivered to the sink */
	int whole;                   /* a range was asked, the whole object came (200) */
	char etag[80];               /* If-Match when set; else the first answer's */
} s3_range;

typedef struct s3_get_state {
	s3_call call;
	const sys_sink *out;
	http_resp *resp;
	s3_range *rg;
	int bound;                   /* rg->etag was given by the caller */
	int checked;                 /* this attempt's answer was checked */
	char range[64];
	http_hdr hdrs[2];
} s3_get_state;

static int s3_get_before(void *ctx, dg_error *e)
{
	s3_get_state *g = ctx;
	s3_range *rg = g->rg;
	uint64_t at;

	(void)e;
	if (g->out->reset) {         /* the sink starts over: so does the range */
		rg->got = 0;
		if (!g->bound)
			rg->etag[0] = 0;
	}
	at = rg->from + rg->got;
	g->checked = 0;
	g->call.nhdrs = 0;
	if (at > 0 || rg->len) {
		if (rg->len)
			snprintf(g->range, sizeof g->range, "bytes=%" PRIu64 "-%" PRIu64, at,
				rg->from + rg->len - 1);
		else
			snprintf(g->range, sizeof g->range, "bytes=%" PRIu64 "-", at);
		g->hdrs[g->call.nhdrs++] = (http_hdr){ "Range", g->range };
	}
	if (rg->etag[0])
		g->hdrs[g->call.nhdrs++] = (http_hdr){ "If-Match", rg->etag };
	return 0;
}

static int s3_get_write(void *ctx, const unsigned char *p, size_t n, dg_error *e)
{
	s3_get_state *g = ctx;
	s3_range *rg = g->rg;

	if (!g->checked) {
		const char *cr = http_resp_header(g->resp, "content-range"), *etag;
		uint64_t at = rg->from + rg->got, start;

		/* A server without ranges answers a first request whole (200). */
		rg->whole = at == 0 && rg->len && g->resp->status == 200;
		if ((at > 0 || rg->len) && !rg->whole && (g->resp->status != 206 || cr == NULL ||
				sscanf(cr, "bytes %" SCNu64, &start) != 1 || start != at))
			return sys_fail(e, DG_EPROTO, "the server did not %s the download at byte %"
				PRIu64, rg->got ? "resume" : "start", at);
		if (rg->etag[0] == 0 && (etag = http_resp_header(g->resp, "etag")))
			sys_strlcpy(rg->etag, etag, sizeof rg->etag);
		g->checked = 1;
	}
	if (g->out->write(g->out->ctx, p, n, e) < 0)
		return -1;
	rg->got += n;
	return 0;
}

static int s3_get_reset(void *ctx, dg_error *e)
{
	s3_get_state *g = ctx;

	return g->out->reset(g->out->ctx, e);
}

static int s3_get_range(s3_client *c, const char *bucket, const char *key, s3_range *rg,
	const sys_sink *sink, sys_object *obj, sys_meta *meta, dg_error *e)
{
	s3_get_state *g = calloc(1, sizeof *g);
	http_resp *resp = calloc(1, sizeof *resp);
	sys_sink through = { s3_get_write, sink->reset ? s3_get_reset : NULL, g };
	int rc = -1;

	if (g == NULL || resp == NULL) {
		sys_fail(e, DG_ENOMEM, "out of memory");
		goto done;
	}
	g->call = (s3_call){ .method = "GET", .bucket = bucket, .key = key, .hdrs = g->hdrs,
		.before = s3_get_before, .before_ctx = g };
	g->out = sink;
	g->resp = resp;
	g->rg = rg;
	g->bound = rg->etag[0] != 0;
	if (s3_request(c, &g->call, resp, &through, e) < 0) {
		if (e->http_status == 412 && rg->etag[0])
			sys_fail(e, DG_EINTEGRITY, "the object changed during the download");
		goto done;
	}
	if (obj)
		s3_object_from_headers(resp, key, obj);
	if (meta)
		s3_meta_from_headers(resp, meta);
	rc = 0;
done:
	if (resp)
		http_resp_free(resp);
	free(resp);
	free(g);
	return rc;
}

/* The ranges after the first of a large download, fetched in parallel,
 * each into a buffer of its own, and handed to the sink in order by the
 * job that holds the next one: the sink sees one stream (a pipe, the
 * cache, a hashing file writer) and memory stays one part per connection.
 * Jobs start in order, so the next range is always held by a running job. */
typedef struct s3_ranges {
	const char *bucket, *key;
	const sys_sink *out;
	uint64_t size, part;
	const char *etag;
	pthread_mutex_t lock;
	pthread_cond_t turn;
	size_t next;                 /* the range the sink takes next */
	int failed;
	dg_error err;                /* the first range that failed */
} s3_ranges;

typedef struct s3_part_buf {
	unsigned char *p;
	size_t n, cap;
} s3_part_buf;

static int s3_part_buf_write(void *ctx, const unsigned char *p, size_t n, dg_error *e)
{
	s3_part_buf *b = ctx;

	if (n > b->cap - b->n)
		return sys_fail(e, DG_EPROTO, "the server sent more than the range asked for");
	memcpy(b->p + b->n, p, n);
	b->n += n;
	return 0;
}

static int s3_part_buf_reset(void *ctx, dg_error *e)
{
	(void)e;
	((s3_part_buf *)ctx)->n = 0;
	return 0;
}

static void s3_range_job(void *ctx, s3_client *c, size_t i)
{
	s3_ranges *r = ctx;
	uint64_t off = (uint64_t)(i + 1) * r->part;
	s3_range rg = { off, r->size - off < r->part ? r->size - off : r->part, 0, 0, "" };
	s3_part_buf buf = { malloc((size_t)rg.len), 0, (size_t)rg.len };
	sys_sink sink = { s3_part_buf_write, s3_part_buf_reset, &buf };
	int failed, rc = -1;
	dg_error e;

	sys_strlcpy(rg.etag, r->etag, sizeof rg.etag);
	pthread_mutex_lock(&r->lock);
	failed = r->failed;
	pthread_mutex_unlock(&r->lock);
	if (failed)
		goto done;
	if (buf.p == NULL)
		sys_fail(&e, DG_ENOMEM, "out of memory for a part of %" PRIu64 " bytes", rg.len);
	else if (s3_get_range(c, r->bucket, r->key, &rg, &sink, NULL, NULL, &e) == 0)
		rc = buf.n != rg.len ? sys_fail(&e, DG_EPROTO, "got %zu bytes of the "
			"%" PRIu64 " asked for at byte %" PRIu64 " (truncated answer)", buf.n, rg.len,
			off) : 0;
	pthread_mutex_lock(&r->lock);
	while (rc == 0 && r->next != i && !r->failed)
		pthread_cond_wait(&r->turn, &r->lock);
	if (rc == 0 && !r->failed) {
		pthread_mutex_unlock(&r->lock);
		rc = r->out->write(r->out->ctx, buf.p, buf.n, &e);
		pthread_mutex_lock(&r->lock);
		r->next = i + 1;
	}
	if (rc < 0 && !r->failed++)
		r->err = e;
	pthread_cond_broadcast(&r->turn);
	pthread_mutex_unlock(&r->lock);
done:
	free(buf.p);
}

/* A whole object. Where the client has a fan-out free, the first GET asks
 * for one part's worth (multipart_chunksize) and streams it; an object
 * larger than that is fetched in ranges bound to the first answer's ETag.
 * Memory: one part per connection, whatever the object's size. */
static int s3_get(s3_client *c, const char *bucket, const char *key, const sys_sink *sink,
	sys_object *obj, sys_meta *meta, dg_error *e)
{
	uint64_t part = c->cfg->mp_chunksize;
	s3_range rg = { 0, 0, 0, 0, "" };
	s3_ranges r;
	sys_object first;
	size_t n;

	if (c->fanout == NULL || c->fanout->width(c->fanout->ctx) < 2 || part == 0)
		return s3_get_range(c, bucket, key, &rg, sink, obj, meta, e);
	rg.len = part;
	if (s3_get_range(c, bucket, key, &rg, sink, &first, meta, e) < 0) {
		if (e->http_status != 416)
			return -1;
		rg = (s3_range){ 0, 0, 0, 0, "" };   /* an empty object has no byte 0 */
		return s3_get_range(c, bucket, key, &rg, sink, obj, meta, e);
	}
	if (obj)
		*obj = first;
	if (rg.whole || first.size <= part)
		return 0;
	if (rg.got != part || rg.etag[0] == 0)
		return sys_fail(e, DG_EPROTO, "got %" PRIu64 " bytes of the first %" PRIu64
			"%s", rg.got, part, rg.etag[0] ? " (truncated answer)" : ", without an ETag");
	r = (s3_ranges){ bucket, key, sink, first.size, part, rg.etag, PTHREAD_MUTEX_INITIALIZER,
		PTHREAD_COND_INITIALIZER, 0, 0, { 0 } };
	n = (size_t)((first.size - 1) / part);
	c->fanout->run(c->fanout->ctx, n, s3_range_job, &r);
	pthread_cond_destroy(&r.turn);
	pthread_mutex_destroy(&r.lock);
	if (r.failed)
		*e = r.err;
	return r.failed ? -1 : 0;
}

/* Room for the x-amz-meta-* headers of any metadata: names, and values
 * grown by their encoding (at most 73 columns per 45 bytes). */
#define S3_META_HDR_SPACE (SYS_META_MAX * 96 + 2 * SYS_META_SPACE)

/* x-amz-meta-* request headers for meta, then the headers it carries
 * (meta->hdrs); names and encoded values live in space. */
static size_t s3_meta_headers(const sys_meta *meta, http_hdr *out, char *space, size_t cap)
{
	size_t i, n = 0, used = 0;

	for (i = 0; meta && i < meta->n; i++) {
		int w = snprintf(space + used, cap - used, "x-amz-meta-%s", meta->name[i]);
		const char *value = meta->value[i];

		if (w < 0 || (size_t)w >= cap - used)
			break;
		out[n].name = space + used;
		used += (size_t)w + 1;
		if (!s3_meta_plain(value) || strncmp(value, "=?", 2) == 0) {
			if (s3_rfc2047_encode(meta->value[i], space + used, cap - used) < 0)
				break;
			value = space + used;
			used += strlen(value) + 1;
		}
		out[n++].value = value;
	}
	for (i = 0; meta && meta->hdrs && i < meta->hdrs->n; i++)
		out[n++] = (http_hdr){ meta->hdrs->name[i], meta->hdrs->value[i] };
	return n;
}

/* A create-if-absent that lost: S3 answers 412 PreconditionFailed. */
static int s3_conditional_result(int rc, int flags, dg_error *e)
{
	if (rc < 0 && (flags & S3_IF_ABSENT) && e->http_status == 412)
		e->code = DG_EEXIST;
	return rc;
}

static int s3_put_body(s3_client *c, const char *bucket, const char *key,
	const http_body *body, const char *hash, const sys_meta *meta, int flags, dg_error *e)
{
	http_hdr hdrs[SYS_META_MAX + SYS_HDRS_MAX + 1];
	char space[S3_META_HDR_SPACE];
	s3_call call = { .method = "PUT", .bucket = bucket, .key = key, .hdrs = hdrs, .body = body,
		.payload_hash = hash };
	http_resp *resp = calloc(1, sizeof *resp);
	int rc;

	if (resp == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	call.nhdrs = s3_meta_headers(meta, hdrs, space, sizeof space);
	if (flags & S3_IF_ABSENT)
		hdrs[call.nhdrs++] = (http_hdr){ "If-None-Match", "*" };
	rc = s3_conditional_result(s3_request(c, &call, resp, NULL, e), flags, e);
	http_resp_free(resp);
	free(resp);
	return rc;
}

static int s3_put_mem(s3_client *c, const char *bucket, const char *key, const void *p,
	size_t n, const sys_meta *meta, int flags, dg_error *e)
{
	http_body body = { p, -1, 0, n, 0 };
	char hash[65];

	crypto_sha256_hex(p, n, hash);
	return s3_put_body(c, bucket, key, &body, hash, meta, flags, e);
}

/* SHA-256 of a file range: each part of a multipart upload is signed. */
static int s3_hash_range(int fd, uint64_t off, uint64_t len, char hex[65], dg_error *e)
{
	unsigned char buf[65536], d[32];
	br_sha256_context h;
	size_t got;

	br_sha256_init(&h);
	while (len) {
		size_t want = len < sizeof buf ? (size_t)len : sizeof buf;

		if (sys_pread_all(fd, buf, want, off, &got, e) < 0)
			return -1;
		if (got < want)
			return sys_fail(e, DG_EIO, "file shrank during upload");
		crypto_sha256_update(&h, buf, got);
		off += got;
		len -= got;
	}
	br_sha256_out(&h, d);
	crypto_hex(d, 32, hex);
	return 0;
}

/* The parts of one multipart upload, sent in parallel where the client
 * has a fan-out: each part is a job, on whichever client runs it. */
typedef struct s3_parts {
	const char *bucket, *key, *upload_id;
	int fd;
	uint64_t size, part;
	char (*etag)[128];           /* per part, as the server returned it */
	pthread_mutex_t lock;
	int failed;
	dg_error err;                /* the first part that failed */
} s3_parts;

static void s3_part_job(void *ctx, s3_client *c, size_t i)
{
	s3_parts *p = ctx;
	uint64_t off = (uint64_t)i * p->part, len = p->size - off < p->part ? p->size - off : p->part;
	http_body body = { NULL, p->fd, off, len, 0 };
	http_hdr q[2];
	char partno[16], hash[65];
	s3_call call = { .method = "PUT", .bucket = p->bucket, .key = p->key, .query = q, .nquery = 2,
		.body = &body, .payload_hash = hash };
	http_resp *resp = calloc(1, sizeof *resp);
	const char *etag;
	dg_error e;

	snprintf(partno, sizeof partno, "%zu", i + 1);
	q[0] = (http_hdr){ "partNumber", partno };
	q[1] = (http_hdr){ "uploadId", p->upload_id };
	if (c->cfg->endpoint_tls)
		sys_strlcpy(hash, S3_UNSIGNED, sizeof hash);
	if (resp == NULL) {
		sys_fail(&e, DG_ENOMEM, "out of memory");
		goto fail;
	}
	if ((!c->cfg->endpoint_tls && s3_hash_range(p->fd, off, len, hash, &e) < 0) ||
		s3_request(c, &call, resp, NULL, &e) < 0)
		goto fail;
	etag = http_resp_header(resp, "etag");
	if (etag == NULL || strlen(etag) >= sizeof p->etag[i]) {
		sys_fail(&e, DG_EPROTO, "the server returned %s ETag", etag ? "an overlong" : "no");
		goto fail;
	}
	sys_strlcpy(p->etag[i], etag, sizeof p->etag[i]);
	http_resp_free(resp);
	free(resp);
	return;
fail:
	sys_err_prefix(&e, "part %zu: ", i + 1);
	pthread_mutex_lock(&p->lock);
	if (!p->failed++)
		p->err = e;
	pthread_mutex_unlock(&p->lock);
	if (resp)
		http_resp_free(resp);
	free(resp);
}

static int s3_multipart(s3_client *c, const char *bucket, const char *key, int fd,
	uint64_t size, const sys_meta *meta, int flags, dg_error *e)
{
	http_hdr hdrs[SYS_META_MAX + SYS_HDRS_MAX], q[2], cond = { "If-None-Match", "*" };
	char space[S3_META_HDR_SPACE], upload_id[1024], hash[65];
	sys_buf doc = { 0 }, done_xml = { 0 };
	http_resp *resp = calloc(1, sizeof *resp);
	s3_parts parts = { bucket, key, upload_id, fd, size, c->cfg->mp_chunksize, NULL,
		PTHREAD_MUTEX_INITIALIZER, 0, { 0 } };
	xml_node root;
	uint64_t part = c->cfg->mp_chunksize;
	size_t n, i;
	int rc = -1, started = 0;

	if (resp == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	/* At most 10000 parts: grow the part size, in whole MiB, for huge files. */
	if ((size + part - 1) / part > S3_MAX_PARTS)
		part = ((size + S3_MAX_PARTS - 1) / S3_MAX_PARTS + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);

	q[0] = (http_hdr){ "uploads", NULL };
	{
		s3_call call = { .method = "POST", .bucket = bucket, .key = key, .query = q, .nquery = 1,
			.hdrs = hdrs };

		call.nhdrs = s3_meta_headers(meta, hdrs, space, sizeof space);
		if (s3_request_xml(c, &call, resp, &doc, &root, "InitiateMultipartUploadResult", e) < 0)
			goto done;
	}
	if (xml_child_text(&root, "UploadId", upload_id, sizeof upload_id) != 1) {
		sys_fail(e, DG_EPROTO, "CreateMultipartUpload answer has no UploadId");
		goto done;
	}
	started = 1;
	/* Parts in parallel: memory stays a few buffers per connection, as
	 * each part streams from the file. */
	n = (size_t)((size + part - 1) / part);
	parts.part = part;
	if ((parts.etag = calloc(n, sizeof *parts.etag)) == NULL) {
		sys_fail(e, DG_ENOMEM, "out of memory");
		goto done;
	}
	if (c->fanout)
		c->fanout->run(c->fanout->ctx, n, s3_part_job, &parts);
	else
		for (i = 0; i < n && !parts.failed; i++)
			s3_part_job(&parts, c, i);
	if (parts.failed) {
		*e = parts.err;
		goto done;
	}
	sys_buf_adds(&done_xml, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (i = 0; i < n; i++) {
		sys_buf_printf(&done_xml, "<Part><PartNumber>%zu</PartNumber><ETag>", i + 1);
		xml_escape(&done_xml, parts.etag[i]);
		sys_buf_adds(&done_xml, "</ETag></Part>");
	}
	q[1] = (http_hdr){ "uploadId", upload_id };
	if (sys_buf_adds(&done_xml, "</CompleteMultipartUpload>") < 0) {
		sys_fail(e, DG_ENOMEM, "out of memory");
		goto done;
	}
	{
		http_body body = { (unsigned char *)done_xml.data, -1, 0, done_xml.len, 0 };
		s3_call call = { .method = "POST", .bucket = bucket, .key = key, .query = q + 1,
			.nquery = 1, .hdrs = &cond, .nhdrs = (flags & S3_IF_ABSENT) ? 1 : 0,
			.body = &body, .payload_hash = hash, .may_stall = 1 };

		crypto_sha256_hex(done_xml.data, done_xml.len, hash);
		doc.len = 0;
		if (s3_conditional_result(s3_request_xml(c, &call, resp, &doc, &root,
				"CompleteMultipartUploadResult", e), flags, e) < 0)
			goto done;
	}
	rc = 0;
done:
	if (rc < 0 && started) {
		/* Best effort: don't leave parts behind that the user pays for
		 * (gc aborts what is left). */
		dg_error ignore;

		if (s3_abort_upload(c, bucket, key, upload_id, &ignore) < 0)
			sys_logf(c->log, DG_LOG_WARNING, "could not abort multipart upload %s of %s: %s",
				upload_id, key, ignore.msg);
	}
	sys_buf_free(&doc);
	sys_buf_free(&done_xml);
	free(parts.etag);
	pthread_mutex_destroy(&parts.lock);
	http_resp_free(resp);
	free(resp);
	return rc;
}

/* Upload a whole file; multipart above the configured threshold. A create
 * (S3_IF_ABSENT) goes in one PUT while S3 allows one (5 GiB), since not
 * every server honours If-None-Match on CompleteMultipartUpload. */
static int s3_put_file(s3_client *c, const char *bucket, const char *key, int fd,
	uint64_t size, const char *sha256_hex, const sys_meta *meta, int flags, dg_error *e)
{
	uint64_t multipart_from = (flags & S3_IF_ABSENT) ? S3_PUT_MAX + 1 : c->cfg->mp_threshold;
	http_body body = { NULL, fd, 0, size, 0 };
	char hash[65];

	/* One part would be three requests for what one PUT does. */
	if (size > 0 && size >= multipart_from && size > c->cfg->mp_chunksize)
		return s3_multipart(c, bucket, key, fd, size, meta, flags, e);
	if (sha256_hex == NULL && c->cfg->endpoint_tls)
		sha256_hex = S3_UNSIGNED;   /* as the AWS CLI does: TLS protects the body */
	if (sha256_hex == NULL) {
		if (s3_hash_range(fd, 0, size, hash, e) < 0)
			return -1;
		sha256_hex = hash;
	}
	return s3_put_body(c, bucket, key, &body, sha256_hex, meta, flags, e);
}

static int s3_copy(s3_client *c, const char *src_bucket, const char *src_key,
	const char *bucket, const char *key, const sys_meta *meta, dg_error *e)
{
	http_hdr hdrs[SYS_META_MAX + SYS_HDRS_MAX + 2];
	char space[S3_META_HDR_SPACE];
	sys_buf src = { 0 }, doc = { 0 };
	s3_call call = { .method = "PUT", .bucket = bucket, .key = key, .hdrs = hdrs, .may_stall = 1 };
	http_resp *resp = calloc(1, sizeof *resp);
	xml_node root;
	int rc = -1;

	if (resp == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	sys_buf_adds(&src, "/");
	aws_uri_encode(&src, src_bucket, 0);
	sys_buf_adds(&src, "/");
	aws_uri_encode(&src, src_key, 1);
	call.nhdrs = s3_meta_headers(meta, hdrs, space, sizeof space);
	hdrs[call.nhdrs++] = (http_hdr){ "x-amz-copy-source", src.data };
	hdrs[call.nhdrs++] = (http_hdr){ "x-amz-metadata-directive", meta ? "REPLACE" : "COPY" };
	rc = s3_request_xml(c, &call, resp, &doc, &root, "CopyObjectResult", e);
	sys_buf_free(&src);
	sys_buf_free(&doc);
	http_resp_free(resp);
	free(resp);
	return rc;
}

static int s3_delete(s3_client *c, const char *bucket, const char *key, dg_error *e)
{
	s3_call call = { .method = "DELETE", .bucket = bucket, .key = key };

	return s3_call_plain(c, &call, e);
}

/* The key of a batch a DeleteObjects <Error> names. */
static size_t s3_batch_index(const char *const *keys, size_t at, size_t batch, const char *key)
{
	size_t i;

	for (i = at; i < at + batch && strcmp(keys[i], key) != 0; i++)
		;
	return i;
}

/* DeleteObjects, 1000 keys a request (the S3 limit). A key the server
 * refuses is reported (in why, and the first in e); the others still go. */
static int s3_delete_many(s3_client *c, const char *bucket, const char *const *keys, size_t n,
	char (*why)[DG_MAX_WHY], dg_error *e)
{
	sys_buf body = { 0 }, doc = { 0 };
	http_resp *resp = calloc(1, sizeof *resp);
	size_t at = 0, i, refused = 0;
	int rc = -1;

	if (resp == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	while (at < n) {
		size_t batch = n - at < 1000 ? n - at : 1000;
		unsigned char md5[16];
		char md5b64[32], hash[65];
		br_md5_context mc;
		http_hdr q = { "delete", NULL }, h = { "Content-MD5", md5b64 };
		http_body hb;
		s3_call call = { .method = "POST", .bucket = bucket, .query = &q, .nquery = 1,
			.hdrs = &h, .nhdrs = 1, .body = &hb, .payload_hash = hash };
		xml_node root, child;
		xml_iter it;
		int r;

		body.len = 0;
		sys_buf_adds(&body, "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>");
		for (i = at; i < at + batch; i++) {
			sys_buf_adds(&body, "<Object><Key>");
			xml_escape(&body, keys[i]);
			sys_buf_adds(&body, "</Key></Object>");
		}
		if (sys_buf_adds(&body, "</Delete>") < 0) {
			sys_fail(e, DG_ENOMEM, "out of memory");
			goto done;
		}
		/* DeleteObjects requires Content-MD5. */
		br_md5_init(&mc);
		br_md5_update(&mc, body.data, body.len);
		br_md5_out(&mc, md5);
		crypto_b64_encode(md5, 16, md5b64);
		crypto_sha256_hex(body.data, body.len, hash);
		hb = (http_body){ (unsigned char *)body.data, -1, 0, body.len, 0 };
		doc.len = 0;
		if (s3_request_xml(c, &call, resp, &doc, &root, "DeleteResult", e) < 0)
			goto done;
		xml_iter_init(&it, &root);
		while ((r = xml_next(&it, &child)) == 1) {
			char key[DG_MAX_KEY + 1] = "", code[64] = "", msg[256] = "";

			if (!xml_is(&child, "Error"))
				continue;
			xml_child_text(&child, "Key", key, sizeof key);
			xml_child_text(&child, "Code", code, sizeof code);
			xml_child_text(&child, "Message", msg, sizeof msg);
			if (refused++ == 0) {
				sys_fail(e, DG_EHTTP, "cannot delete s3://%s/%s: %s: %s", bucket, key, code,
					msg);
				sys_strlcpy(e->s3code, code, sizeof e->s3code);
			}
			if (why && (i = s3_batch_index(keys, at, batch, key)) < at + batch)
				snprintf(why[i], DG_MAX_WHY, "%s: %s", code, msg);
		}
		if (r < 0) {
			sys_fail(e, DG_EPROTO, "malformed DeleteResult");
			goto done;
		}
		at += batch;
	}
	rc = refused ? -1 : 0;
done:
	sys_buf_free(&body);
	sys_buf_free(&doc);
	http_resp_free(resp);
	free(resp);
	return rc;
}

/* ListMultipartUploads over every page: the uploads gc aborts. */
static int s3_list_uploads(s3_client *c, const char *bucket, const char *prefix,
	s3_upload_fn fn, void *ctx, dg_error *e)
{
	char key_marker[DG_MAX_KEY + 1] = "", id_marker[1024] = "";
	http_hdr q[5];
	sys_buf doc = { 0 };
	http_resp *resp = calloc(1, sizeof *resp);
	s3_upload *up = calloc(1, sizeof *up);
	int rc = -1;

	if (resp == NULL || up == NULL) {
		sys_fail(e, DG_ENOMEM, "out of memory");
		goto done;
	}
	for (;;) {
		s3_call call = { .method = "GET", .bucket = bucket, .query = q };
		xml_node root, child;
		xml_iter it;
		char truncated[8] = "", date[64];
		int r;

		q[call.nquery++] = (http_hdr){ "uploads", NULL };
		if (prefix && *prefix)
			q[call.nquery++] = (http_hdr){ "prefix", prefix };
		if (key_marker[0])
			q[call.nquery++] = (http_hdr){ "key-marker", key_marker };
		if (id_marker[0])
			q[call.nquery++] = (http_hdr){ "upload-id-marker", id_marker };
		doc.len = 0;
		if (s3_request_xml(c, &call, resp, &doc, &root, "ListMultipartUploadsResult", e) < 0)
			goto done;
		xml_iter_init(&it, &root);
		while ((r = xml_next(&it, &child)) == 1) {
			if (!xml_is(&child, "Upload"))
				continue;
			memset(up, 0, sizeof *up);
			if (xml_child_text(&child, "Key", up->key, sizeof up->key) != 1 ||
				xml_child_text(&child, "UploadId", up->id, sizeof up->id) != 1) {
				sys_fail(e, DG_EPROTO, "malformed upload in the uploads of s3://%s", bucket);
				goto done;
			}
			if (xml_child_text(&child, "Initiated", date, sizeof date) == 1)
				sys_time_parse(date, &up->initiated);
			if (fn(ctx, up, e) < 0)
				goto done;
		}
		if (r < 0) {
			sys_fail(e, DG_EPROTO, "malformed ListMultipartUploadsResult for s3://%s", bucket);
			goto done;
		}
		xml_child_text(&root, "IsTruncated", truncated, sizeof truncated);
		if (strcmp(truncated, "true") != 0)
			break;
		{
			char nk[DG_MAX_KEY + 1] = "", ni[1024] = "";

			xml_child_text(&root, "NextKeyMarker", nk, sizeof nk);
			xml_child_text(&root, "NextUploadIdMarker", ni, sizeof ni);
			if ((nk[0] == 0 && ni[0] == 0) ||
				(strcmp(nk, key_marker) == 0 && strcmp(ni, id_marker) == 0)) {
				sys_fail(e, DG_EPROTO, "the uploads listing of s3://%s does not advance", bucket);
				goto done;
			}
			memcpy(key_marker, nk, sizeof key_marker);
			memcpy(id_marker, ni, sizeof id_marker);
		}
	}
	rc = 0;
done:
	sys_buf_free(&doc);
	if (resp)
		http_resp_free(resp);
	free(resp);
	free(up);
	return rc;
}

static int s3_abort_upload(s3_client *c, const char *bucket, const char *key, const char *id,
	dg_error *e)
{
	http_hdr q = { "uploadId", id };
	s3_call call = { .method = "DELETE", .bucket = bucket, .key = key, .query = &q, .nquery = 1 };

	return s3_call_plain(c, &call, e);
}

static int s3_list_buckets(s3_client *c, sys_list_fn fn, void *ctx, dg_error *e)
{
	s3_call call = { .method = "GET" };
	http_resp *resp = calloc(1, sizeof *resp);
	sys_buf doc = { 0 };
	xml_node root, buckets, b;
	xml_iter it;
	sys_object obj;
	int r, rc = -1;

	if (resp == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	if (s3_request_xml(c, &call, resp, &doc, &root, "ListAllMyBucketsResult", e) < 0)
		goto done;
	if (xml_child(&root, "Buckets", &buckets) == 1) {
		xml_iter_init(&it, &buckets);
		while ((r = xml_next(&it, &b)) == 1) {
			char date[64] = "";

			memset(&obj, 0, sizeof obj);
			if (!xml_is(&b, "Bucket") ||
				xml_child_text(&b, "Name", obj.key, sizeof obj.key) != 1)
				continue;
			if (xml_child_text(&b, "CreationDate", date, sizeof date) == 1)
				sys_time_parse(date, &obj.mtime);
			if (fn(ctx, &obj, e) < 0)
				goto done;
		}
		if (r < 0) {
			sys_fail(e, DG_EPROTO, "malformed ListAllMyBucketsResult");
			goto done;
		}
	}
	rc = 0;
done:
	sys_buf_free(&doc);
	http_resp_free(resp);
	free(resp);
	return rc;
}

static int s3_create_bucket(s3_client *c, const char *bucket, dg_error *e)
{
	sys_buf body = { 0 };
	http_body hb;
	char hash[65];
	s3_call call = { .method = "PUT", .bucket = bucket };
	int rc;

	/* us-east-1 is the default location and must not be named. */
	if (strcmp(c->cfg->region, "us-east-1") != 0) {
		sys_buf_printf(&body, "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
			"2006-03-01/\"><LocationConstraint>%s</LocationConstraint>"
			"</CreateBucketConfiguration>", c->cfg->region);
		hb = (http_body){ (unsigned char *)body.data, -1, 0, body.len, 0 };
		crypto_sha256_hex(body.data, body.len, hash);
		call.body = &hb;
		call.payload_hash = hash;
	}
	rc = s3_call_plain(c, &call, e);
	sys_buf_free(&body);
	return rc;
}

static int s3_delete_bucket(s3_client *c, const char *bucket, dg_error *e)
{
	s3_call call = { .method = "DELETE", .bucket = bucket };

	return s3_call_plain(c, &call, e);
}

/* Deliver one kind of entry of a ListObjectsV2 page: common prefixes
 * (want_prefixes) or objects. Prefixes arrive sorted; one not after
 * last_prefix was delivered by an earlier page (some servers repeat them)
 * and is skipped. *fresh counts entries past last_prefix / last_key: what
 * shows the listing moves on. */
/* ---- Presigned URLs and bucket ACLs ---------------------------------------- */

static int s3_presign(s3_client *c, const char *method, const char *bucket, const char *key,
	const http_hdr *query, size_t nquery, unsigned expires, sys_buf *url, dg_error *e)
{
	aws_config *cfg = c->cfg;
	s3_call call = { .method = method, .bucket = bucket, .key = key };
	s3_addr a = { 0 };
	sys_buf origin = { 0 };
	aws_presign_req p;
	/* The server's clock judges expiry: sign by it when it is known. */
	time_t now = s3_server_time(c);
	int rc = -1;

	if (now == 0)
		now = time(NULL);
	if (expires < 1 || expires > AWS_PRESIGN_MAX)
		return sys_fail(e, DG_EUSAGE, "a presigned URL expires in 1 to %d seconds, not %u",
			AWS_PRESIGN_MAX, expires);
	if (aws_refresh_if_needed(cfg, c->http.cfg, e) < 0)
		return -1;
	if (!cfg->have_creds)
		return sys_fail(e, DG_ECONFIG, "unable to locate credentials to sign with");
	/* Temporary credentials sign for as long as they last, at most. */
	if (cfg->expiration && now + (time_t)expires > cfg->expiration)
		sys_logf(c->log, DG_LOG_WARNING, "the URL outlives the credentials that sign it "
			"(they expire in %ld s)", (long)(cfg->expiration - now));
	if (s3_address(cfg, &call, &a, e) < 0)
		goto done;
	sys_buf_printf(&origin, "%s://%s", cfg->endpoint_tls ? "https" : "http", a.host.data);
	p = (aws_presign_req){ method, origin.data, a.host.data, a.path.data, query, nquery,
		cfg->region, now, expires };
	if (origin.data == NULL || aws_presign(&cfg->creds, &p, url) < 0) {
		sys_fail(e, DG_ENOMEM, "cannot sign the URL");
		goto done;
	}
	rc = 0;
done:
	s3_addr_free(&a);
	sys_buf_free(&origin);
	return rc;
}

/* One grantee as aws s3api prints it; its type follows from what names it
 * (the scanner skips the xsi:type attribute). */
static void s3_acl_grantee(const xml_node *g, sys_buf *out, const char *indent)
{
	static const char *const fields[][2] = { { "DisplayName", "DisplayName" },
		{ "EmailAddress", "EmailAddress" }, { "ID", "ID" }, { "URI", "URI" } };
	char v[1024];
	const char *type = "CanonicalUser";
	size_t i;

	sys_buf_adds(out, "{\n");
	for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		if (xml_child_text(g, fields[i][0], v, sizeof v) != 1)
			continue;
		if (strcmp(fields[i][0], "URI") == 0)
			type = "Group";
		else if (strcmp(fields[i][0], "EmailAddress") == 0)
			type = "AmazonCustomerByEmail";
		sys_buf_printf(out, "%s    \"%s\": ", indent, fields[i][1]);
		sys_json_escape(out, v);
		sys_buf_adds(out, ",\n");
	}
	sys_buf_printf(out, "%s    \"Type\": \"%s\"\n%s}", indent, type, indent);
}

/* An AccessControlPolicy document as the JSON aws s3api get-bucket-acl
 * prints. */
static int s3_acl_json(const xml_node *root, sys_buf *json, dg_error *e)
{
	xml_node owner, acl, grant, grantee;
	xml_iter it;
	char perm[64];
	int r, n = 0;

	sys_buf_adds(json, "{\n");
	if (xml_child(root, "Owner", &owner) == 1) {
		sys_buf_adds(json, "    \"Owner\": ");
		s3_acl_grantee(&owner, json, "    ");
		sys_buf_adds(json, ",\n");
	}
	sys_buf_adds(json, "    \"Grants\": [");
	if (xml_child(root, "AccessControlList", &acl) == 1) {
		xml_iter_init(&it, &acl);
		while ((r = xml_next(&it, &grant)) == 1) {
			if (!xml_is(&grant, "Grant") || xml_child(&grant, "Grantee", &grantee) != 1 ||
				xml_child_text(&grant, "Permission", perm, sizeof perm) != 1)
				continue;
			sys_buf_adds(json, n++ ? ",\n        {\n" : "\n        {\n");
			sys_buf_adds(json, "            \"Grantee\": ");
			s3_acl_grantee(&grantee, json, "            ");
			sys_buf_adds(json, ",\n            \"Permission\": ");
			sys_json_escape(json, perm);
			sys_buf_adds(json, "\n        }");
		}
		if (r < 0)
			return sys_fail(e, DG_EPROTO, "malformed AccessControlPolicy");
	}
	if (sys_buf_adds(json, n ? "\n    ]\n}\n" : "]\n}\n") < 0)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	return 0;
}

/* GetBucketAcl, as JSON (s3_acl_json). */
static int s3_acl_get(s3_client *c, const char *bucket, sys_buf *json, dg_error *e)
{
	http_hdr q = { "acl", NULL };
	s3_call call = { .method = "GET", .bucket = bucket, .query = &q, .nquery = 1 };
	http_resp *resp = calloc(1, sizeof *resp);
	sys_buf doc = { 0 };
	xml_node root;
	int rc = -1;

	if (resp == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	if (s3_request_xml(c, &call, resp, &doc, &root, "AccessControlPolicy", e) == 0)
		rc = s3_acl_json(&root, json, e);
	sys_buf_free(&doc);
	http_resp_free(resp);
	free(resp);
	return rc;
}

/* PutBucketAcl from headers (x-amz-acl, x-amz-grant-*) or from an
 * AccessControlPolicy document (policy, XML; S3 wants its Content-MD5). */
static int s3_acl_put(s3_client *c, const char *bucket, const http_hdr *grants, size_t n,
	const char *policy, dg_error *e)
{
	http_hdr q = { "acl", NULL }, md5 = { "Content-MD5", NULL };
	s3_call call = { .method = "PUT", .bucket = bucket, .query = &q, .nquery = 1,
		.hdrs = grants, .nhdrs = n };
	http_body body;
	char hash[65], sum[25];

	if (policy) {
		body = (http_body){ (const unsigned char *)policy, -1, 0, strlen(policy), 0 };
		crypto_sha256_hex(policy, body.len, hash);
		crypto_md5_b64(policy, body.len, sum);
		md5.value = sum;
		call = (s3_call){ .method = "PUT", .bucket = bucket, .query = &q, .nquery = 1,
			.hdrs = &md5, .nhdrs = 1, .body = &body, .payload_hash = hash };
	}
	return s3_call_plain(c, &call, e);
}

static int s3_list_page(const xml_node *root, const char *bucket, int url, int want_prefixes,
	char *last_prefix, char *last_key, unsigned *fresh, sys_object *obj, sys_list_fn fn,
	void *ctx, dg_error *e)
{
	const char *elem = want_prefixes ? "CommonPrefixes" : "Contents";
	xml_node child;
	xml_iter it;
	char sz[32], date[64];
	int r;

	xml_iter_init(&it, root);
	while ((r = xml_next(&it, &child)) == 1) {
		if (!xml_is(&child, elem))
			continue;
		memset(obj, 0, sizeof *obj);
		obj->is_prefix = want_prefixes;
		if (xml_child_text(&child, want_prefixes ? "Prefix" : "Key", obj->key,
				sizeof obj->key) != 1 || (url && sys_url_decode(obj->key, 1) < 0))
			return sys_fail(e, DG_EPROTO, "malformed entry in the listing of s3://%s", bucket);
		if (want_prefixes) {
			if (strcmp(obj->key, last_prefix) <= 0)
				continue;
			memcpy(last_prefix, obj->key, sizeof obj->key);
			(*fresh)++;
		} else {
			if (strcmp(obj->key, last_key) > 0) {
				memcpy(last_key, obj->key, sizeof obj->key);
				(*fresh)++;
			}
			if (xml_child_text(&child, "Size", sz, sizeof sz) != 1 ||
				sys_parse_u64(sz, &obj->size) < 0)
				return sys_fail(e, DG_EPROTO, "bad Size for %s in the listing", obj->key);
			if (xml_child_text(&child, "LastModified", date, sizeof date) == 1)
				sys_time_parse(date, &obj->mtime);
			xml_child_text(&child, "ETag", obj->etag, sizeof obj->etag);
		}
		if (fn(ctx, obj, e) < 0)
			return -1;
	}
	if (r < 0)
		return sys_fail(e, DG_EPROTO, "malformed ListBucketResult for s3://%s", bucket);
	return 0;
}

/* Truncated pages in a row that bring nothing new before a listing is
 * judged to go round in circles. */
#define S3_LIST_STALL 100

/* ListObjectsV2 over every page. With a delimiter, common prefixes come
 * through fn too, with is_prefix set, ahead of each page's objects as
 * aws s3 ls prints them. A server that sends a continuation token again
 * (compared with the last one, and by Brent's cycle detection with one
 * checkpoint), or pages that bring nothing new, ends the listing with an
 * error: an endless listing must not run, nor pass for a complete one. */
static int s3_list(s3_client *c, const char *bucket, const char *prefix, const char *delimiter,
	sys_list_fn fn, void *ctx, dg_error *e)
{
	http_hdr q[6];
	char token[2048] = "", prev[2048] = "", mark[2048] = "", page[16];
	char last_prefix[DG_MAX_KEY + 1] = "", last_key[DG_MAX_KEY + 1] = "";
	unsigned long steps = 0, power = 1, stalled = 0;
	sys_buf doc = { 0 };
	http_resp *resp = calloc(1, sizeof *resp);
	sys_object *obj = calloc(1, sizeof *obj);
	int rc = -1;

	if (resp == NULL || obj == NULL) {
		sys_fail(e, DG_ENOMEM, "out of memory");
		goto done;
	}
	for (;;) {
		s3_call call = { .method = "GET", .bucket = bucket, .query = q };
		xml_node root;
		char truncated[8] = "", enc[16] = "";
		unsigned fresh = 0;
		int url;

		q[call.nquery++] = (http_hdr){ "list-type", "2" };
		q[call.nquery++] = (http_hdr){ "encoding-type", "url" };
		if (prefix && *prefix)
			q[call.nquery++] = (http_hdr){ "prefix", prefix };
		if (delimiter)
			q[call.nquery++] = (http_hdr){ "delimiter", delimiter };
		if (token[0])
			q[call.nquery++] = (http_hdr){ "continuation-token", token };
		if (c->cfg->page_size) {
			snprintf(page, sizeof page, "%u", c->cfg->page_size);
			q[call.nquery++] = (http_hdr){ "max-keys", page };
		}
		doc.len = 0;
		if (s3_request_xml(c, &call, resp, &doc, &root, "ListBucketResult", e) < 0)
			goto done;
		/* Keys are URL-encoded only if the server says it applied encoding-type. */
		url = xml_child_text(&root, "EncodingType", enc, sizeof enc) == 1 &&
			strcasecmp(enc, "url") == 0;
		if (s3_list_page(&root, bucket, url, 1, last_prefix, last_key, &fresh, obj, fn, ctx,
				e) < 0 ||
			s3_list_page(&root, bucket, url, 0, last_prefix, last_key, &fresh, obj, fn, ctx,
				e) < 0)
			goto done;
		xml_child_text(&root, "IsTruncated", truncated, sizeof truncated);
		if (strcmp(truncated, "true") != 0)
			break;
		if (xml_child_text(&root, "NextContinuationToken", token, sizeof token) != 1 || !token[0]) {
			sys_fail(e, DG_EPROTO, "truncated listing of s3://%s without a continuation token",
				bucket);
			goto done;
		}
		if (strcmp(token, prev) == 0 || strcmp(token, mark) == 0) {
			sys_fail(e, DG_EPROTO, "the listing of s3://%s repeats a continuation token",
				bucket);
			goto done;
		}
		if (++steps == power) {
			memcpy(mark, token, sizeof mark);
			power *= 2;
			steps = 0;
		}
		memcpy(prev, token, sizeof prev);
		stalled = fresh ? 0 : stalled + 1;
		if (stalled >= S3_LIST_STALL) {
			sys_fail(e, DG_EPROTO, "the listing of s3://%s brings nothing new in %d pages",
				bucket, S3_LIST_STALL);
			goto done;
		}
	}
	rc = 0;
done:
	sys_buf_free(&doc);
	if (resp)
		http_resp_free(resp);
	free(resp);
	free(obj);
	return rc;
}

/* ======================================================================
 * §7  Storage back-ends
 *
 * The DeltaGlider core sees a store: a flat key space with user metadata
 * per object, bound to one S3 bucket or to one local directory tree. Two
 * implementations: s3:// (§6) and file:// (plain files plus a JSON
 * metadata sidecar per object, written atomically).
 * ====================================================================== */

static int store_s3_list(store *s, const char *prefix, const char *delimiter,
	sys_list_fn fn, void *ctx, dg_error *e)
{
	return s3_list(s->s3, s->bucket, prefix, delimiter, fn, ctx, e);
}

static int store_s3_head(store *s, const char *key, sys_object *obj, sys_meta *meta, dg_error *e)
{
	return s3_head(s->s3, s->bucket, key, obj, meta, e);
}

static int store_s3_get(store *s, const char *key, const sys_sink *sink, sys_object *obj,
	sys_meta *meta, dg_error *e)
{
	return s3_get(s->s3, s->bucket, key, sink, obj, meta, e);
}

static int store_s3_put_file(store *s, const char *key, int fd, uint64_t size,
	const char *sha256_hex, const sys_meta *meta, int flags, dg_error *e)
{
	return s3_put_file(s->s3, s->bucket, key, fd, size, sha256_hex, meta, flags, e);
}

static int store_s3_put_mem(store *s, const char *key, const void *p, size_t n,
	const sys_meta *meta, int flags, dg_error *e)
{
	return s3_put_mem(s->s3, s->bucket, key, p, n, meta, flags, e);
}

static int store_s3_del(store *s, const char *key, dg_error *e)
{
	return s3_delete(s->s3, s->bucket, key, e);
}

static int store_s3_del_many(store *s, const char *const *keys, size_t n,
	char (*why)[DG_MAX_WHY], dg_error *e)
{
	return s3_delete_many(s->s3, s->bucket, keys, n, why, e);
}

static int store_s3_copy(store *s, const store *from, const char *from_key, const char *key,
	const sys_meta *meta, dg_error *e)
{
	return s3_copy(s->s3, from->bucket, from_key, s->bucket, key, meta, e);
}

/* Does the server honour If-None-Match: * on PutObject? AWS, MinIO, R2 and
 * Ceph RGW do; s3rver, Garage and older servers answer 200 and overwrite.
 * Asked by writing a probe object twice: 1 honoured, -1 ignored (said
 * once at WARNING), 0 when the server could not be asked. */
static int store_s3_probe(store *s, dg_error *e)
{
	char key[64], hex[17];
	unsigned char rnd[8];
	dg_error pe, ignore;
	int r, exclusive = -1;

	crypto_random(rnd, sizeof rnd);
	crypto_hex(rnd, sizeof rnd, hex);
	snprintf(key, sizeof key, ".deltaglider/probe-%s", hex);
	r = s3_put_mem(s->s3, s->bucket, key, "probe", 5, NULL, S3_IF_ABSENT, &pe);
	if (r < 0 && pe.retryable) {
		*e = pe;
		sys_err_prefix(e, "probing s3://%s: ", s->bucket);
		return 0;
	}
	if (r == 0) {
		r = s3_put_mem(s->s3, s->bucket, key, "probe", 5, NULL, S3_IF_ABSENT, &pe);
		exclusive = r < 0 && pe.code == DG_EEXIST ? 1 : -1;
		if (r == 0)
			sys_strlcpy(pe.msg, "a second create of one key succeeded", sizeof pe.msg);
		if (s3_delete(s->s3, s->bucket, key, &ignore) < 0)
			sys_logf(s->s3->log, DG_LOG_WARNING, "could not delete probe object s3://%s/%s: %s",
				s->bucket, key, ignore.msg);
	}
	if (exclusive < 0)
		sys_logf(s->s3->log, DG_LOG_WARNING, "s3://%s does not honour conditional writes (%s): "
			"first uploads into a folder are serialised with lock objects instead; "
			"see the README on concurrency", s->bucket, pe.msg);
	return exclusive;
}

/* The probe's answer for s's bucket, asked once per client (p) and kept
 * in s too, so later calls take no lock. */
static int store_s3_probed(store *s, store_probes *p, dg_error *e)
{
	unsigned i;
	int r = 0;

	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->n && i < STORE_PROBES && !r; i++)
		if (strcmp(p->b[i].bucket, s->bucket) == 0)
			r = p->b[i].exclusive;
	if (!r && (r = store_s3_probe(s, e)) != 0) {
		i = p->n++ % STORE_PROBES;
		sys_strlcpy(p->b[i].bucket, s->bucket, sizeof p->b[i].bucket);
		p->b[i].exclusive = r;
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

/* Creates larger than one PUT take a multipart upload, whose completion
 * not every server conditions (Ceph RGW 16 does not): those count as not
 * atomic. */
static int store_s3_exclusive(store *s, uint64_t size, dg_error *e)
{
	if (size > S3_PUT_MAX)
		return 0;
	if (!s->exclusive)
		s->exclusive = s->probes ? store_s3_probed(s, s->probes, e) : store_s3_probe(s, e);
	if (!s->exclusive)
		return -1;
	return s->exclusive > 0;
}

static time_t store_s3_now(store *s)
{
	return s3_server_time(s->s3);
}

static int store_s3_uploads(store *s, const char *prefix, s3_upload_fn fn, void *ctx, dg_error *e)
{
	return s3_list_uploads(s->s3, s->bucket, prefix, fn, ctx, e);
}

static int store_s3_abort_upload(store *s, const char *key, const char *id, dg_error *e)
{
	return s3_abort_upload(s->s3, s->bucket, key, id, e);
}

/* .deltaglider/locks/<first 128 bits of SHA-256(space), hex>/: hidden from
 * both tools' listings, and short whatever the space's name. */
static void store_s3_lock_dir(store *s, const char *space, char *out, size_t n)
{
	char hex[65];

	(void)s;
	crypto_sha256_hex(space, strlen(space), hex);
	snprintf(out, n, STORE_LOCKS "%.32s/", hex);
}

static const store_ops store_s3_ops = {
	store_s3_list, store_s3_head, store_s3_get, store_s3_put_file, store_s3_put_mem,
	store_s3_del, store_s3_del_many, store_s3_copy, store_s3_exclusive, store_s3_now,
	store_s3_uploads, store_s3_abort_upload, store_s3_lock_dir,
};

static void store_open_s3(store *s, s3_client *c, const char *bucket, store_probes *probes)
{
	memset(s, 0, sizeof *s);
	s->ops = &store_s3_ops;
	s->s3 = c;
	s->probes = probes;
	sys_strlcpy(s->bucket, bucket, sizeof s->bucket);
}

/* ---- file:// ---------------------------------------------------------------
 *
 * Keys are paths below the store's root. An object is a plain file; its
 * metadata, if any, is a JSON object of strings in a hidden sidecar next
 * to it: dir/.NAME.dgmeta. Data and sidecar are each written to a temp
 * file and renamed into place, so readers see old or new, never half.
 * A reader that catches the moment between the two renames sees a hash
 * mismatch, which fails safe. */

#define STORE_SIDECAR ".dgmeta"

static int store_file_path(const store *s, const char *key, char *path, size_t n, dg_error *e)
{
	const char *p = key;

	/* No ".." components: a key never names something outside the root. */
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return sys_fail(e, DG_EUSAGE, "invalid key '%s': '..' is not allowed", key);
		p += len + (slash != NULL);
	}
	if ((size_t)snprintf(path, n, "%s/%s", strcmp(s->root, "/") ? s->root : "", key) >= n)
		return sys_fail(e, DG_EUSAGE, "path too long for key '%s'", key);
	return 0;
}

static void store_sidecar_path(const char *path, char *out, size_t n)
{
	const char *base = sys_basename(path);

	snprintf(out, n, "%.*s.%s" STORE_SIDECAR, (int)(base - path), path, base);
}

/* Is path a file in a lock folder (.../.dglocks/NAME)? */
static int store_file_in_locks(const char *path)
{
	const char *base = sys_basename(path);
	size_t n = sizeof STORE_FILE_LOCKS;   /* the name and its slash */

	return (size_t)(base - path) >= n + 1 && base[-n - 1] == '/' &&
		memcmp(base - n, STORE_FILE_LOCKS "/", n) == 0;
}

/* Names the store keeps for itself: sidecars, temp files, lock folders. */
static int store_file_hidden(const char *name)
{
	return name[0] == '.' && (sys_ends_with_ci(name, STORE_SIDECAR) || sys_is_tmp_name(name) ||
		strcmp(name, STORE_FILE_LOCKS) == 0);
}

static int store_file_read_meta(const char *path, sys_meta *meta, dg_error *e)
{
	char side[DG_MAX_PATH];
	sys_buf js = { 0 };
	dg_error ignore;
	int rc = 0;

	sys_meta_init(meta);
	store_sidecar_path(path, side, sizeof side);
	if (sys_read_file(side, 1u << 16, &js, &ignore) < 0) {
		if (ignore.code == DG_ENOTFOUND)
			return 0;   /* a plain file: no metadata */
		*e = ignore;
		return -1;
	}
	if (sys_json_meta(js.data, js.len, meta) < 0)
		rc = sys_fail(e, DG_EPROTO, "malformed metadata sidecar %s", side);
	sys_buf_free(&js);
	return rc;
}

static int store_file_head(store *s, const char *key, sys_object *obj, sys_meta *meta, dg_error *e)
{
	char path[DG_MAX_PATH];
	struct stat st;

	if (store_file_path(s, key, path, sizeof path, e) < 0)
		return -1;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return sys_fail(e, DG_ENOTFOUND, "NotFound: %s does not exist", path);
		return sys_fail_errno(e, DG_EIO, errno, "cannot stat %s", path);
	}
	if (!S_ISREG(st.st_mode))
		return sys_fail(e, DG_ENOTFOUND, "NotFound: %s is not a file", path);
	if (obj) {
		memset(obj, 0, sizeof *obj);
		sys_strlcpy(obj->key, key, sizeof obj->key);
		obj->size = (uint64_t)st.st_size;
		obj->mtime = st.st_mtime;
	}
	return meta ? store_file_read_meta(path, meta, e) : 0;
}

static int store_file_get(store *s, const char *key, const sys_sink *sink, sys_object *obj,
	sys_meta *meta, dg_error *e)
{
	char path[DG_MAX_PATH];
	int fd, rc;

	if (store_file_head(s, key, obj, meta, e) < 0 ||
		store_file_path(s, key, path, sizeof path, e) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sys_fail_errno(e, DG_EIO, errno, "cannot open %s", path);
	rc = (sink->reset && sink->reset(sink->ctx, e) < 0) ? -1 : sys_sink_copy_fd(fd, sink, e);
	close(fd);
	return rc;
}

/* Write content into a fresh temp file next to path, named in tmp. */
static int store_file_stage(const store *s, const char *path, int src_fd, const void *mem,
	uint64_t size, char *tmp, size_t n, dg_error *e)
{
	unsigned char buf[65536];
	uint64_t off = 0;
	int fd, rc = -1;

	fd = sys_tmp_open(path, tmp, n, e);
	if (fd < 0)
		return -1;
	if (mem) {
		if (sys_write_all(fd, mem, (size_t)size, e, path) < 0)
			goto done;
	} else {
		while (off < size) {
			size_t want = size - off < sizeof buf ? (size_t)(size - off) : sizeof buf, got;

			if (sys_pread_all(src_fd, buf, want, off, &got, e) < 0 ||
				sys_write_all(fd, buf, got, e, path) < 0)
				goto done;
			if (got < want) {
				sys_fail(e, DG_EIO, "source file shrank while copying to %s", path);
				goto done;
			}
			off += got;
		}
	}
	if (fchmod(fd, 0666 & ~s->umask) < 0 || fsync(fd) < 0) {
		sys_fail_errno(e, DG_EIO, errno, "cannot write %s", path);
		goto done;
	}
	rc = 0;
done:
	close(fd);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* Write one file atomically: staged, then renamed over the old one. */
static int store_file_write(const store *s, const char *path, int src_fd, const void *mem,
	uint64_t size, dg_error *e)
{
	char tmp[DG_MAX_PATH];

	if (store_file_stage(s, path, src_fd, mem, size, tmp, sizeof tmp, e) < 0)
		return -1;
	if (rename(tmp, path) < 0) {
		sys_fail_errno(e, DG_EIO, errno, "cannot rename into %s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* A sidecar whose data never came: its creator died between two link()s. */
#define STORE_STALE_S 60

/* Takes away side, which st (an lstat) found old and without its data.
 * Two writers that both judged it stale used to unlink(side) each: the
 * second could remove the sidecar the first had just linked in its place,
 * leaving the first's data without metadata. Now each renames side to a
 * name of its own, so exactly one takes the stale file; a later one takes
 * whatever stands there by then, sees it is not the file it judged, and
 * puts it back with link(), which never replaces a newer one. */
static void store_file_unstale(const char *side, const struct stat *st)
{
	char grave[DG_MAX_PATH];
	struct stat took;
	dg_error ignore;
	int fd = sys_tmp_open(side, grave, sizeof grave, &ignore);

	if (fd < 0)
		return;
	close(fd);
	if (rename(side, grave) == 0 && lstat(grave, &took) == 0 &&
		(took.st_ino != st->st_ino || took.st_dev != st->st_dev ||
		took.st_mtime != st->st_mtime))   /* an inode number may be reused */
		link(grave, side);   /* EEXIST: see store_file_own_side */
	unlink(grave);
}

/* After winning path: the sidecar standing must be side_tmp's. It is not
 * when our data went in while store_file_unstale had ours away, or its
 * put-back lost to a third writer's link() (whose data link then fails):
 * ours replaces it. Left open: a put-back lost after the owner returned
 * (three writers within microseconds of a stale sidecar); a reader then
 * finds the metadata does not match and fails. */
static int store_file_own_side(const char *side, const char *side_tmp, dg_error *e)
{
	struct stat a, b;

	if (lstat(side, &a) == 0 && lstat(side_tmp, &b) == 0 && a.st_ino == b.st_ino &&
		a.st_dev == b.st_dev)
		return 0;
	if (rename(side_tmp, side) < 0)
		return sys_fail_errno(e, DG_EIO, errno, "cannot rename into %s", side);
	return 0;
}

/* Create path only if nothing is there (STORE_IF_ABSENT): link() never
 * replaces a name. The sidecar goes first and is the lock, the data second,
 * so a reader sees the object only once both are in place; the loser of a
 * race gets DG_EEXIST. It never removes side then: the sidecar standing
 * may be the winner's (a stale one taken away by another writer, then
 * replaced by the winner's). */
static int store_file_create(const store *s, const char *path, const char *side, int fd,
	const void *mem, uint64_t size, const sys_buf *js, dg_error *e)
{
	char tmp[DG_MAX_PATH], side_tmp[DG_MAX_PATH] = "";
	int rc = -1, tries;
	struct stat st;

	if (store_file_stage(s, path, fd, mem, size, tmp, sizeof tmp, e) < 0)
		return -1;
	if (js->len && store_file_stage(s, side, -1, js->data, js->len, side_tmp, sizeof side_tmp,
			e) < 0)
		goto done;
	for (tries = 0; side_tmp[0] && link(side_tmp, side) < 0; tries++) {
		if (errno != EEXIST) {
			sys_fail_errno(e, DG_EIO, errno, "cannot create %s", side);
			goto done;
		}
		if (tries > 0 || lstat(path, &st) == 0 || lstat(side, &st) < 0 ||
			time(NULL) - st.st_mtime < STORE_STALE_S) {
			sys_fail(e, DG_EEXIST, "%s exists", path);
			goto done;
		}
		store_file_unstale(side, &st);   /* its creator died before linking the data */
	}
	if (link(tmp, path) < 0) {
		if (errno == EEXIST)
			sys_fail(e, DG_EEXIST, "%s exists", path);
		else
			sys_fail_errno(e, DG_EIO, errno, "cannot create %s", path);
		goto done;
	}
	rc = side_tmp[0] ? store_file_own_side(side, side_tmp, e) : 0;
done:
	unlink(tmp);
	if (side_tmp[0])
		unlink(side_tmp);
	return rc;
}

static int store_file_put(store *s, const char *key, int fd, const void *mem, uint64_t size,
	const sys_meta *meta, int flags, dg_error *e)
{
	char path[DG_MAX_PATH], side[DG_MAX_PATH], dir[DG_MAX_PATH];
	sys_buf js = { 0 };
	size_t i;
	int rc = -1, tries;

	if (store_file_path(s, key, path, sizeof path, e) < 0)
		return -1;
	snprintf(dir, sizeof dir, "%.*s", (int)(sys_basename(path) - path), path);
	store_sidecar_path(path, side, sizeof side);
	if (meta && meta->n) {
		sys_buf_adds(&js, "{");
		for (i = 0; i < meta->n; i++) {
			if (i)
				sys_buf_adds(&js, ",");
			sys_json_escape(&js, meta->name[i]);
			sys_buf_adds(&js, ":");
			sys_json_escape(&js, meta->value[i]);
		}
		if (sys_buf_adds(&js, "}\n") < 0) {
			sys_fail(e, DG_ENOMEM, "out of memory");
			goto done;
		}
	}
	/* A delete of the last lock removes its folder; a put caught by it
	 * finds its folder gone, and makes it again. */
	for (tries = 0; tries < 3; tries++) {
		struct stat st;

		if (dir[0] && sys_mkdirs(dir, 0777, e) < 0)
			goto done;
		if (flags & STORE_IF_ABSENT)
			rc = store_file_create(s, path, side, fd, mem, size, &js, e);
		else if (js.len && store_file_write(s, side, -1, js.data, js.len, e) < 0)
			rc = -1;
		else if (!js.len && unlink(side) < 0 && errno != ENOENT)
			rc = sys_fail_errno(e, DG_EIO, errno, "cannot remove %s", side);
		else
			rc = store_file_write(s, path, fd, mem, size, e);
		if (rc == 0 || !dir[0] || stat(dir, &st) == 0)
			break;
	}
done:
	sys_buf_free(&js);
	return rc;
}

static int store_file_put_file(store *s, const char *key, int fd, uint64_t size,
	const char *sha256_hex, const sys_meta *meta, int flags, dg_error *e)
{
	(void)sha256_hex;
	return store_file_put(s, key, fd, NULL, size, meta, flags, e);
}

static int store_file_put_mem(store *s, const char *key, const void *p, size_t n,
	const sys_meta *meta, int flags, dg_error *e)
{
	return store_file_put(s, key, -1, p, n, meta, flags, e);
}

static int store_file_del(store *s, const char *key, dg_error *e)
{
	char path[DG_MAX_PATH], side[DG_MAX_PATH];

	if (store_file_path(s, key, path, sizeof path, e) < 0)
		return -1;
	store_sidecar_path(path, side, sizeof side);
	/* Like S3, deleting what is not there succeeds. */
	if ((unlink(path) < 0 && errno != ENOENT) || (unlink(side) < 0 && errno != ENOENT))
		return sys_fail_errno(e, DG_EIO, errno, "cannot delete %s", path);
	/* A lock folder goes with its last lock (a put racing this makes it
	 * again: see store_file_put). */
	if (store_file_in_locks(path)) {
		char dir[DG_MAX_PATH];

		snprintf(dir, sizeof dir, "%.*s", (int)(sys_basename(path) - path - 1), path);
		rmdir(dir);
	}
	return 0;
}

static int store_file_del_many(store *s, const char *const *keys, size_t n,
	char (*why)[DG_MAX_WHY], dg_error *e)
{
	size_t i, refused = 0;
	dg_error one;

	for (i = 0; i < n; i++) {
		if (store_file_del(s, keys[i], &one) == 0)
			continue;
		if (refused++ == 0)
			*e = one;
		if (why)
			sys_strlcpy(why[i], one.msg, DG_MAX_WHY);
	}
	return refused ? -1 : 0;
}

typedef struct store_dirent {
	char *name;
	int is_dir;
	uint64_t size;
	time_t mtime;
} store_dirent;

/* S3 order: byte order of the full key, so a directory sorts as "name/". */
static int store_dirent_cmp(const void *a, const void *b)
{
	const store_dirent *x = a, *y = b;
	const unsigned char *p = (const unsigned char *)x->name, *q = (const unsigned char *)y->name;

	while (*p && *p == *q)
		p++, q++;
	return (int)(*p ? *p : x->is_dir ? '/' : 0) - (int)(*q ? *q : y->is_dir ? '/' : 0);
}

/* List the directory that holds keys starting with dirkey (ends in / or is
 * empty), entries starting with name_prefix. */
static int store_file_walk(store *s, const char *dirkey, const char *name_prefix,
	const char *delimiter, sys_object *obj, sys_list_fn fn, void *ctx, dg_error *e)
{
	char path[DG_MAX_PATH], child[DG_MAX_PATH];
	store_dirent *ents = NULL;
	size_t n = 0, cap = 0, i, plen = strlen(name_prefix);
	struct dirent *de;
	DIR *d;
	int rc = -1;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", strcmp(s->root, "/") ? s->root : "",
			dirkey) >= sizeof path)
		return sys_fail(e, DG_EIO, "path too long: %s", dirkey);
	d = opendir(path);
	if (d == NULL)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
			sys_fail_errno(e, DG_EIO, errno, "cannot list %s", path);
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
			strncmp(de->d_name, name_prefix, plen) != 0 || store_file_hidden(de->d_name))
			continue;
		snprintf(child, sizeof child, "%s%s", path, de->d_name);
		if (stat(child, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
			continue;
		if (n == cap) {
			store_dirent *grown = realloc(ents, (cap = cap ? 2 * cap : 64) * sizeof *ents);

			if (grown == NULL) {
				sys_fail(e, DG_ENOMEM, "out of memory listing %s", path);
				goto done;
			}
			ents = grown;
		}
		ents[n].name = strdup(de->d_name);
		if (ents[n].name == NULL) {
			sys_fail(e, DG_ENOMEM, "out of memory listing %s", path);
			goto done;
		}
		ents[n].is_dir = S_ISDIR(st.st_mode);
		ents[n].size = (uint64_t)st.st_size;
		ents[n].mtime = st.st_mtime;
		n++;
	}
	if (n)
		qsort(ents, n, sizeof *ents, store_dirent_cmp);
	for (i = 0; i < n; i++) {
		char key[DG_MAX_KEY + 2];

		if ((size_t)snprintf(key, sizeof key, "%s%s%s", dirkey, ents[i].name,
				ents[i].is_dir ? "/" : "") > DG_MAX_KEY)
			continue;
		if (ents[i].is_dir) {
			if (delimiter) {
				memset(obj, 0, sizeof *obj);
				sys_strlcpy(obj->key, key, sizeof obj->key);
				obj->is_prefix = 1;
				if (fn(ctx, obj, e) < 0)
					goto done;
			} else if (store_file_walk(s, key, "", NULL, obj, fn, ctx, e) < 0) {
				goto done;
			}
			continue;
		}
		memset(obj, 0, sizeof *obj);
		sys_strlcpy(obj->key, key, sizeof obj->key);
		obj->size = ents[i].size;
		obj->mtime = ents[i].mtime;
		if (fn(ctx, obj, e) < 0)
			goto done;
	}
	rc = 0;
done:
	closedir(d);
	for (i = 0; i < n; i++)
		free(ents[i].name);
	free(ents);
	return rc;
}

static int store_file_list(store *s, const char *prefix, const char *delimiter,
	sys_list_fn fn, void *ctx, dg_error *e)
{
	char dirkey[DG_MAX_KEY + 1];
	const char *name = sys_basename(prefix ? prefix : "");
	sys_object *obj = calloc(1, sizeof *obj);
	int rc;

	if (obj == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	if (delimiter && strcmp(delimiter, "/") != 0) {
		free(obj);
		return sys_fail(e, DG_EUSAGE, "file:// listings support only the / delimiter");
	}
	snprintf(dirkey, sizeof dirkey, "%.*s", (int)(name - (prefix ? prefix : "")), prefix ? prefix : "");
	rc = store_file_walk(s, dirkey, name, delimiter, obj, fn, ctx, e);
	free(obj);
	return rc;
}

/* Writes in progress: the temp files (.NAME.dg-XXXXXX) puts rename into
 * place, and a metadata sidecar (.NAME.dgmeta) whose object is not there
 * (yet), as S3 has multipart uploads. A killed writer leaves them; like an
 * S3 upload, listings hide them, rm -r leaves them (their writer may be
 * alive) and gc removes them once old enough. The id is the file's name,
 * the key the object it was to become. */

/* The length of NAME in ".NAME.dg-XXXXXX" or ".NAME.dgmeta"; 0: neither. */
static size_t store_file_pending_name(const char *id)
{
	size_t n = strlen(id), s = strlen(STORE_SIDECAR);

	if (sys_is_tmp_name(id))
		return n - 11;
	return id[0] == '.' && n > s + 1 && strcmp(id + n - s, STORE_SIDECAR) == 0 ? n - s - 1 : 0;
}

/* Is the sidecar id of an object that is not there? */
static int store_file_orphan_sidecar(const char *dirpath, const char *id)
{
	char data[DG_MAX_PATH + 256];
	struct stat st;
	size_t n = store_file_pending_name(id);

	if (sys_is_tmp_name(id) || n == 0)
		return 0;
	snprintf(data, sizeof data, "%s%.*s", dirpath, (int)n, id + 1);
	return lstat(data, &st) < 0 && errno == ENOENT;
}

static int store_file_temps(store *s, const char *dirkey, const char *prefix, s3_upload *up,
	s3_upload_fn fn, void *ctx, dg_error *e)
{
	char path[DG_MAX_PATH], child[DG_MAX_PATH + 256];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = 0;

	if (store_file_path(s, dirkey, path, sizeof path, e) < 0)
		return -1;
	if ((d = opendir(path)) == NULL)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
			sys_fail_errno(e, DG_EIO, errno, "cannot list %s", path);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		size_t n;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(child, sizeof child, "%s%s", path, de->d_name);
		if (lstat(child, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			char sub[DG_MAX_KEY + 2];

			if ((size_t)snprintf(sub, sizeof sub, "%s%s/", dirkey, de->d_name) < sizeof sub)
				rc = store_file_temps(s, sub, prefix, up, fn, ctx, e);
		} else if (S_ISREG(st.st_mode) && (n = store_file_pending_name(de->d_name)) &&
			(sys_is_tmp_name(de->d_name) || store_file_orphan_sidecar(path, de->d_name)) &&
			(size_t)snprintf(up->key, sizeof up->key, "%s%.*s", dirkey, (int)n,
				de->d_name + 1) < sizeof up->key &&
			strncmp(up->key, prefix, strlen(prefix)) == 0) {
			sys_strlcpy(up->id, de->d_name, sizeof up->id);
			up->initiated = st.st_mtime;
			rc = fn(ctx, up, e);
		}
	}
	closedir(d);
	return rc;
}

static int store_file_uploads(store *s, const char *prefix, s3_upload_fn fn, void *ctx,
	dg_error *e)
{
	s3_upload *up = malloc(sizeof *up);
	const char *base = sys_basename(prefix);
	char dirkey[DG_MAX_KEY + 1];
	int rc;

	if (up == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	snprintf(dirkey, sizeof dirkey, "%.*s", (int)(base - prefix), prefix);
	rc = store_file_temps(s, dirkey, prefix, up, fn, ctx, e);
	free(up);
	return rc;
}

/* Remove the unfinished write id of key: only a temp file of that key, or
 * its sidecar while the object is not there. */
static int store_file_abort_upload(store *s, const char *key, const char *id, dg_error *e)
{
	const char *base = sys_basename(key);
	size_t n = store_file_pending_name(id);
	char tmpkey[DG_MAX_KEY + 300], path[DG_MAX_PATH], dir[DG_MAX_PATH];

	if (strchr(id, '/') || n == 0 || n != strlen(base) || memcmp(id + 1, base, n) != 0)
		return sys_fail(e, DG_EUSAGE, "%s is not an unfinished write of %s", id, key);
	snprintf(tmpkey, sizeof tmpkey, "%.*s%s", (int)(base - key), key, id);
	if (store_file_path(s, tmpkey, path, sizeof path, e) < 0)
		return -1;
	snprintf(dir, sizeof dir, "%.*s", (int)(sys_basename(path) - path), path);
	if (!sys_is_tmp_name(id) && !store_file_orphan_sidecar(dir, id))
		return 0;   /* its object arrived meanwhile: the sidecar is its metadata */
	if (unlink(path) < 0 && errno != ENOENT)
		return sys_fail_errno(e, DG_EIO, errno, "cannot delete %s", path);
	return 0;
}

/* link() makes creates atomic on a local file system. */
static int store_file_exclusive(store *s, uint64_t size, dg_error *e)
{
	(void)s;
	(void)size;
	(void)e;
	return 1;
}

static time_t store_file_now(store *s)
{
	(void)s;
	return time(NULL);
}

/* A file:// store has no bucket root to share: its locks sit beside the
 * DeltaSpace, in a folder listings hide. */
static void store_file_lock_dir(store *s, const char *space, char *out, size_t n)
{
	(void)s;
	snprintf(out, n, "%s" STORE_FILE_LOCKS "/", space);
}

static const store_ops store_file_ops = {
	store_file_list, store_file_head, store_file_get, store_file_put_file, store_file_put_mem,
	store_file_del, store_file_del_many, NULL, store_file_exclusive, store_file_now,
	store_file_uploads, store_file_abort_upload, store_file_lock_dir,
};

static void store_open_file(store *s, const char *root, mode_t umask_bits)
{
	memset(s, 0, sizeof *s);
	s->ops = &store_file_ops;
	sys_strlcpy(s->root, root, sizeof s->root);
	s->umask = umask_bits;
}

/* ======================================================================
 * §8  Delta engine
 *
 * VCDIFF through the embedded xdelta3, with its non-blocking interface:
 * the target streams in, the delta streams out, and the source is read
 * block by block into a cache of DELTA_BLKSIZE blocks over a random-access
 * reader, least recently used first out: the encoder's covers the whole
 * reference up to the window (DG_WINDOW_MB; by default a quarter of the
 * memory available), the decoder's DELTA_DECODE_SLOTS blocks. Memory is
 * bounded by those, never by the size of a file. Encoding matches `xdelta3 -e -N`
 * at the chosen level (6 unless asked), with LZMA secondary compression, as
 * Debian's xdelta3 writes by default.
 * Deltas whose application header asks for external gzip (the xdelta3
 * CLI's "G") are decoded as the CLI does, with a gzip program. Archives'
 * expanded forms, for archive-aware deltas, are made and rebuilt with
 * zlib (see "Archive-aware deltas" below).
 * ====================================================================== */

#define DELTA_BLKSIZE     (1u << 20)  /* source block: a power of two */
#define DELTA_DECODE_SLOTS 64         /* source blocks a decoder keeps */
#define DELTA_WINSIZE     XD3_DEFAULT_WINSIZE   /* 8 MiB target windows */
/* xdelta3 -9 indexes its 64 MiB source window every 2 bytes (a 128 MiB
 * hash). Larger windows keep that table size and index more sparsely. */
#define DELTA_CLI_WINDOW  (64u << 20)
#define DELTA_ZERO_DIFF_WINDOW (16u << 20)
#define DELTA_HASH_SLOTS  (32u << 20)

/* Source blocks in memory, direct-mapped: block n lives in slot n % nslots.
 * The encoder checks hash candidates anywhere in its source window, so it
 * gets a slot per block of the window (as the xdelta3 CLI buffers its whole
 * window) and never evicts inside it; a decoder follows copy addresses and
 * does with fewer. Blocks are allocated when first used. */
typedef struct delta_block {
	uint64_t blkno;
	size_t len;
	unsigned char *data;
} delta_block;

typedef struct delta_blocks {
	const delta_src *src;
	delta_block *slot;
	size_t nslots;
} delta_blocks;

static int delta_blocks_init(delta_blocks *b, const delta_src *src, uint64_t bytes, dg_error *e)
{
	size_t i;

	b->src = src;
	b->nslots = (size_t)((bytes + DELTA_BLKSIZE - 1) / DELTA_BLKSIZE);
	if (b->nslots == 0)
		b->nslots = 1;
	b->slot = calloc(b->nslots, sizeof *b->slot);
	if (b->slot == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory for source blocks");
	for (i = 0; i < b->nslots; i++)
		b->slot[i].blkno = UINT64_MAX;
	return 0;
}

static void delta_blocks_free(delta_blocks *b)
{
	size_t i;

	for (i = 0; b->slot && i < b->nslots; i++)
		free(b->slot[i].data);
	free(b->slot);
	b->slot = NULL;
}

/* Answer xdelta3's XD3_GETSRCBLK: point the source at block getblkno. */
static int delta_blocks_serve(delta_blocks *b, xd3_source *s, dg_error *e)
{
	uint64_t blkno = s->getblkno;
	delta_block *d = &b->slot[blkno % b->nslots];
	size_t got;

	if (d->blkno != blkno) {
		if (d->data == NULL && (d->data = malloc(DELTA_BLKSIZE)) == NULL)
			return sys_fail(e, DG_ENOMEM, "out of memory for source blocks");
		d->blkno = UINT64_MAX;
		if (b->src->read(b->src->ctx, blkno * DELTA_BLKSIZE, d->data, DELTA_BLKSIZE, &got, e) < 0)
			return -1;
		d->blkno = blkno;
		d->len = got;
	}
	s->curblkno = blkno;
	s->curblk = d->data;
	s->onblk = (usize_t)d->len;
	return 0;
}

static const char *delta_xd3_error(xd3_stream *s, int ret)
{
	if (s->msg)
		return s->msg;
	return xd3_strerror(ret);
}

/* What the encoder's source window should span: the whole reference, and
 * for one under 64 MiB room to spare, since xdelta3 sizes its hash table
 * by the window and a table four times the source halves the matcher's
 * collisions (typescript .zip: 1.20 s -> 0.81 s, as fast as the CLI's
 * 64 MiB default). */
static uint64_t delta_hash_span(uint64_t source_size)
{
	if (source_size >= DELTA_CLI_WINDOW)
		return source_size;
	return source_size < DELTA_CLI_WINDOW / 4 ? source_size * 4 : DELTA_CLI_WINDOW;
}

/* The source window: the whole reference, up to DG_WINDOW_MB. */
static uint64_t delta_window(uint64_t source_size, uint64_t window_max)
{
	uint64_t w = DELTA_BLKSIZE;

	while (w < source_size && w < window_max)
		w <<= 1;
	return w;
}

/* The application header is "target/C/source/C", C naming an external
 * compression. On decode, the xdelta3 CLI (which the Python tool runs
 * without -D) gunzips, bunzips or unxzs a source with such magic numbers
 * unless C names a compression; naming one it does not know makes it read
 * the source as the raw bytes we diffed against (it warns, and goes on). */
#define DELTA_RAW_ID "raw"

static uint64_t delta_encode_memory(uint64_t source_size, uint64_t window_max)
{
	return delta_window(delta_hash_span(source_size), window_max);
}

static uint64_t delta_decode_memory(uint64_t source_size)
{
	uint64_t most = (uint64_t)DELTA_DECODE_SLOTS * DELTA_BLKSIZE;

	return source_size < most ? source_size : most;
}

static int delta_compressed_magic(const delta_src *src)
{
	static const struct { const char *magic; size_t n; } m[] = {
		{ "BZh", 3 }, { "\037\213", 2 }, { "\037\235", 2 }, { "\xfd\x37\x7a\x58\x5a\x00", 6 },
	};
	unsigned char head[6];
	size_t got, i;
	dg_error ignore;

	if (src->read(src->ctx, 0, head, sizeof head, &got, &ignore) < 0)
		return 0;
	for (i = 0; i < sizeof m / sizeof m[0]; i++)
		if (got >= m[i].n && memcmp(head, m[i].magic, m[i].n) == 0)
			return 1;
	return 0;
}

/*
 * Can a delta not pay off? Encoding a compressed archive (.zip, .tgz)
 * against its previous release costs seconds and mostly yields a delta
 * about as big as the file, then thrown away. A quick rsync-style pass
 * says so first: the reference's aligned 64-byte blocks go into a bitmap
 * of their rolling hashes, the target is scanned at every offset, and
 * what matches no block (checked against the full 32-bit hashes, since a
 * false hit skips a whole block) is counted with the entropy of its
 * bytes. A target whose sampled bytes are not near-random is not looked
 * at further. Only when those bytes are incompressible (at least 7.5 bits
 * each: data compressed already) is the unmatched count a floor for the
 * delta, which
 * xdelta3 finds little more in; then a floor 10% over the limit means the
 * encode can be skipped. Hash collisions only add matches, so errors lean
 * towards encoding. Sizes over 64 MiB are left to the encoder, which
 * stops on its own once its output passes the limit. 1: hopeless.
 */
#define DELTA_EST_BLOCK 64u
#define DELTA_EST_MAX   (64u << 20)
#define DELTA_EST_BITS  24
#define DELTA_EST_MUL   0x01000193u   /* the FNV prime: any odd multiplier rolls */

/* Order-0 entropy of a byte histogram, bits per byte. */
static double delta_entropy(const uint64_t hist[256])
{
	uint64_t total = 0;
	double bits = 0.0;
	int i;

	for (i = 0; i < 256; i++)
		total += hist[i];
	for (i = 0; i < 256 && total; i++)
		if (hist[i])
			bits -= (double)hist[i] / (double)total * log2((double)hist[i] / (double)total);
	return bits;
}

/* Sixteen 16 KiB samples spread over the target: near-random bytes? */
static int delta_looks_compressed(int fd, uint64_t size, unsigned char *buf, dg_error *e)
{
	uint64_t hist[256] = { 0 };
	size_t got, i;
	int k;

	for (k = 0; k < 16; k++) {
		if (sys_pread_all(fd, buf, 16384, size / 16 * (uint64_t)k, &got, e) < 0)
			return -1;
		for (i = 0; i < got; i++)
			hist[buf[i]]++;
	}
	return delta_entropy(hist) >= 7.5;
}

/* The set of the reference's block hashes: open addressing, 0 free. */
static int delta_est_has(const uint32_t *set, size_t mask, uint32_t h)
{
	size_t i;

	h |= 1;
	for (i = h & mask; set[i]; i = (i + 1) & mask)
		if (set[i] == h)
			return 1;
	return 0;
}

static uint32_t delta_est_hash(const unsigned char *p)
{
	uint32_t h = 0;
	unsigned i;

	for (i = 0; i < DELTA_EST_BLOCK; i++)
		h = h * DELTA_EST_MUL + p[i];
	return h;
}

static int delta_hopeless(const delta_src *src, int target_fd, uint64_t target_size,
	uint64_t max_delta, uint64_t *estimate, dg_error *e)
{
	enum { CHUNK = 1u << 20 };
	unsigned char *bits = NULL, *buf = NULL;
	uint32_t *set = NULL, out_mul = 1, h = 0, k;
	uint64_t hist[256] = { 0 }, unmatched = 0, off, base, n, pos;
	size_t got, i, mask;
	int valid = 0, rc = -1;

	if (src->size > DELTA_EST_MAX || target_size > DELTA_EST_MAX ||
		target_size < 4 * DELTA_EST_BLOCK)
		return 0;
	for (mask = 1; mask < 2 * (src->size / DELTA_EST_BLOCK) + 2; mask <<= 1)
		;
	buf = malloc(CHUNK + DELTA_EST_BLOCK);
	if (buf == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	if ((rc = delta_looks_compressed(target_fd, target_size, buf, e)) <= 0)
		goto done;
	rc = -1;
	bits = calloc(1, (size_t)1 << (DELTA_EST_BITS - 3));
	set = calloc(mask--, sizeof *set);
	if (bits == NULL || set == NULL) {
		sys_fail(e, DG_ENOMEM, "out of memory");
		goto done;
	}
	for (off = 0; off + DELTA_EST_BLOCK <= src->size; off += got) {
		if (src->read(src->ctx, off, buf, CHUNK, &got, e) < 0)
			goto done;
		got -= got % DELTA_EST_BLOCK;
		if (got == 0)
			break;
		for (i = 0; i < got; i += DELTA_EST_BLOCK) {
			size_t j;

			h = delta_est_hash(buf + i);
			k = h >> (32 - DELTA_EST_BITS);
			bits[k >> 3] |= (unsigned char)(1u << (k & 7));
			for (j = (h | 1) & mask; set[j] && set[j] != (h | 1); j = (j + 1) & mask)
				;
			set[j] = h | 1;
		}
	}
	for (i = 1; i < DELTA_EST_BLOCK; i++)
		out_mul *= DELTA_EST_MUL;
	/* buf holds the target's bytes from base, n of them; h is the rolling
	 * hash of the block at pos when valid. */
	for (base = n = pos = 0; pos + DELTA_EST_BLOCK <= target_size; ) {
		const unsigned char *p;

		if (pos + DELTA_EST_BLOCK > base + n) {
			size_t keep = (size_t)(base + n - pos);

			memmove(buf, buf + (pos - base), keep);
			base = pos;
			n = keep;
			if (sys_pread_all(target_fd, buf + n, CHUNK, base + n, &got, e) < 0)
				goto done;
			if (got == 0)
				break;
			n += got;
			valid = 0;
			continue;
		}
		p = buf + (pos - base);
		if (!valid)
			h = delta_est_hash(p), valid = 1;
		k = h >> (32 - DELTA_EST_BITS);
		if ((bits[k >> 3] & (1u << (k & 7))) && delta_est_has(set, mask, h)) {
			pos += DELTA_EST_BLOCK;
			valid = 0;
			continue;
		}
		hist[p[0]]++;
		unmatched++;
		if (pos + DELTA_EST_BLOCK < base + n)
			h = (h - p[0] * out_mul) * DELTA_EST_MUL + p[DELTA_EST_BLOCK];
		else
			valid = 0;
		pos++;
	}
	unmatched += target_size - pos;
	rc = delta_entropy(hist) >= 7.5 && (double)unmatched > 1.1 * (double)max_delta;
	if (rc)
		*estimate = unmatched;
done:
	free(set);
	free(bits);
	free(buf);
	return rc;
}

static int delta_encode(const delta_src *src, int target_fd, int out_fd,
	const delta_opts *o, delta_result *res, dg_error *e)
{
	xd3_stream stream;
	xd3_config config;
	xd3_source source;
	delta_blocks blocks;
	crypto_hasher tsha;          /* the target's, on a thread of its own */
	br_sha256_context dsha;
	unsigned char *in = NULL, d[32];
	uint64_t window = delta_window(delta_hash_span(src->size), o->window_max), shown = 0;
	char apphead[512];
	int ret, rc = -1, eof = 0;

	memset(&stream, 0, sizeof stream);
	memset(&source, 0, sizeof source);
	memset(res, 0, sizeof *res);
	if (delta_blocks_init(&blocks, src, window, e) < 0)
		return -1;
	crypto_hasher_init(&tsha, target_fd);
	in = malloc(DELTA_WINSIZE);
	if (in == NULL) {
		sys_fail(e, DG_ENOMEM, "out of memory for the delta window");
		goto done;
	}
	br_sha256_init(&dsha);

	/* What `xdelta3 -e -N` sets: the matcher of level N, Adler-32
	 * checksums in the windows, LZMA secondary compression (at preset 0:
	 * the CLI leaves the level bits of the flags clear, and so do we). */
	xd3_init_config(&config, XD3_ADLER32 | XD3_SEC_LZMA);
	config.winsize = DELTA_WINSIZE;
	if (window <= DELTA_CLI_WINDOW) {
		config.smatch_cfg = o->level <= 1 ? XD3_SMATCH_FASTEST : o->level == 2 ?
			XD3_SMATCH_FASTER : o->level <= 5 ? XD3_SMATCH_FAST : o->level == 6 ?
			XD3_SMATCH_DEFAULT : XD3_SMATCH_SLOW;
	} else {
		config.smatch_cfg = XD3_SMATCH_SOFT;
		config.smatcher_soft = (xd3_smatcher){ .large_look = 9,
			.large_step = (usize_t)(window / DELTA_HASH_SLOTS), .small_look = 4,
			.small_chain = 44, .small_lchain = 13, .max_lazy = 90, .long_enough = 70 };
	}
	ret = xd3_config_stream(&stream, &config);
	if (ret) {
		sys_fail(e, DG_EINTEGRITY, "xdelta3 setup: %s", delta_xd3_error(&stream, ret));
		goto done;
	}
	source.blksize = DELTA_BLKSIZE;
	source.name = o->source_name;
	source.max_winsize = window;
	source.curblkno = (xoff_t)-1;
	ret = xd3_set_source_and_size(&stream, &source, src->size);
	if (ret) {
		sys_fail(e, DG_EINTEGRITY, "xdelta3 source: %s", delta_xd3_error(&stream, ret));
		goto done;
	}
	snprintf(apphead, sizeof apphead, "%s//%s/%s", o->target_name, o->source_name,
		delta_compressed_magic(src) ? DELTA_RAW_ID : "");
	xd3_set_appheader(&stream, (const uint8_t *)apphead, (usize_t)strlen(apphead));

	for (;;) {
		ret = xd3_encode_input(&stream);
		switch (ret) {
		case XD3_INPUT: {
			size_t got;

			if (eof)
				goto finished;
			if (sys_pread_all(target_fd, in, DELTA_WINSIZE, res->target_size, &got, e) < 0)
				goto done;
			if (o->hash_target)
				crypto_hasher_update(&tsha, in, got);
			res->target_size += got;
			if (got < DELTA_WINSIZE) {
				eof = 1;
				xd3_set_flags(&stream, XD3_FLUSH | stream.flags);
			}
			xd3_avail_input(&stream, in, (usize_t)got);
			continue;
		}
		case XD3_OUTPUT:
			if (sys_write_all(out_fd, stream.next_out, stream.avail_out, e, "the delta") < 0)
				goto done;
			crypto_sha256_update(&dsha, stream.next_out, stream.avail_out);
			res->delta_size += stream.avail_out;
			xd3_consume_output(&stream);
			/* The delta only grows: past the limit it cannot pay off. */
			if (o->max_delta && res->delta_size > o->max_delta) {
				res->over = 1;
				rc = 0;
				goto done;
			}
			continue;
		case XD3_GETSRCBLK:
			if (delta_blocks_serve(&blocks, &source, e) < 0)
				goto done;
			continue;
		case XD3_WINFINISH:
			/* The input goes in whole windows: all of it is encoded. */
			if (o->progress && res->target_size > shown) {
				o->progress(o->progress_ctx, res->target_size - shown);
				shown = res->target_size;
			}
			continue;
		case XD3_GOTHEADER:
		case XD3_WINSTART:
			continue;
		default:
			sys_fail(e, DG_EINTEGRITY, "xdelta3 encode: %s", delta_xd3_error(&stream, ret));
			goto done;
		}
	}
finished:
	ret = xd3_close_stream(&stream);
	if (ret) {
		sys_fail(e, DG_EINTEGRITY, "xdelta3 encode: %s", delta_xd3_error(&stream, ret));
		goto done;
	}
	if (o->hash_target && crypto_hasher_out(&tsha, res->target_sha) < 0) {
		sys_fail(e, DG_EIO, "cannot read the file back to hash it");
		goto done;
	}
	br_sha256_out(&dsha, d);
	crypto_hex(d, 32, res->delta_sha_hex);
	rc = 0;
done:
	crypto_hasher_end(&tsha);
	xd3_free_stream(&stream);
	delta_blocks_free(&blocks);
	free(in);
	return rc;
}

/* ---- gzip, for deltas made by the xdelta3 CLI from gzip files --------- */

/* Where programs are looked for when the caller gives no PATH: the
 * library reads no environment unless its config asks. */
#define DELTA_PATH "/usr/local/bin:/usr/bin:/bin"

static int delta_find_program(const char *search, const char *name, char *path, size_t n)
{
	const char *p = search && *search ? search : DELTA_PATH;

	while (*p) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);

		if (len && (size_t)snprintf(path, n, "%.*s/%s", (int)len, p, name) < n &&
			access(path, X_OK) == 0)
			return 0;
		p += len + (colon != NULL);
	}
	return -1;
}

/* Run `gzip ARG` (found on search) with stdin from in_fd and stdout to out_fd. */
static int delta_gzip(const char *search, const char *arg, int in_fd, int out_fd, dg_error *e)
{
	char gzip[DG_MAX_PATH];
	pid_t pid;
	int status;

	if (delta_find_program(search, "gzip", gzip, sizeof gzip) < 0)
		return sys_fail(e, DG_EINTEGRITY, "this delta was made by the xdelta3 command line "
			"from gzip data (external compression \"G\"); decoding it needs a gzip "
			"program on PATH");
	pid = fork();
	if (pid < 0)
		return sys_fail_errno(e, DG_EIO, errno, "cannot start gzip");
	if (pid == 0) {
		if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0)
			_exit(127);
		execl(gzip, "gzip", arg, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return sys_fail_errno(e, DG_EIO, errno, "waiting for gzip");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return sys_fail(e, DG_EINTEGRITY, "gzip %s failed (exit status %d)", arg,
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}

/* A reader over a plain local file, for sources made here. */
static int delta_fd_read(void *ctx, uint64_t off, void *buf, size_t n, size_t *got, dg_error *e)
{
	return sys_pread_all(*(int *)ctx, buf, n, off, got, e);
}

/* Copy a reader's bytes into fd. */
static int delta_src_to_fd(const delta_src *src, int fd, dg_error *e)
{
	unsigned char buf[65536];
	uint64_t off = 0;
	size_t got;

	while (off < src->size) {
		if (src->read(src->ctx, off, buf, sizeof buf, &got, e) < 0 ||
			sys_write_all(fd, buf, got, e, "a temporary file") < 0)
			return -1;
		if (got == 0)
			return sys_fail(e, DG_EIO, "source ended early");
		off += got;
	}
	return 0;
}

/* The application header "target/C/source/C", split as the CLI splits
 * it (at the first three slashes): which sides did it gzip? */
static void delta_apphead_gzip(xd3_stream *s, int *target_gz, int *source_gz)
{
	uint8_t *h;
	usize_t n;
	char buf[1024], *part[4] = { 0 }, *p = buf;
	int k = 0;

	*target_gz = *source_gz = 0;
	if (xd3_get_appheader(s, &h, &n) != 0 || n == 0 || n >= sizeof buf)
		return;
	memcpy(buf, h, n);
	buf[n] = 0;
	for (;;) {
		char *slash = k < 3 ? strchr(p, '/') : NULL;

		part[k++] = p;
		if (slash == NULL)
			break;
		*slash = 0;
		p = slash + 1;
	}
	if (k == 2 || k == 4)
		*target_gz = strcmp(part[1], "G") == 0;
	if (k == 4)
		*source_gz = strcmp(part[3], "G") == 0;
}

/* xdelta3 sizes some decoder buffers from numbers in the delta itself; a
 * hostile delta must not make us allocate gigabytes. Target windows are at
 * most XD3_HARDMAXWINSIZE (16 MiB): four times that is plenty. */
#define DELTA_DEC_ALLOC_MAX ((size_t)XD3_HARDMAXWINSIZE * 4)

static void *delta_dec_alloc(void *opaque, size_t items, usize_t size)
{
	(void)opaque;
	if (size && items > DELTA_DEC_ALLOC_MAX / size)
		return NULL;
	return malloc((size_t)items * size);
}

static void delta_dec_free(void *opaque, void *p)
{
	(void)opaque;
	free(p);
}

/* A decode in progress. Deltas the xdelta3 CLI made from gzip files name
 * "G" in their application header: their source was diffed gunzipped
 * (plain_fd holds it so), and their output is gzipped again (it collects
 * in tmp_out first). */
typedef struct delta_dec {
	xd3_stream stream;
	xd3_source source;
	delta_blocks blocks;
	delta_src gunzipped;
	const char *tmpdir;
	const char *path;            /* where gzip is looked for */
	int plain_fd, tmp_out;
	int have_source;
} delta_dec;

/* The header is in: set the source up, as the application header asks. */
static int delta_dec_header(delta_dec *d, const delta_src *src, dg_error *e)
{
	const delta_src *use = src;
	int target_gz = 0, source_gz = 0, raw, ret;

	delta_apphead_gzip(&d->stream, &target_gz, &source_gz);
	if (source_gz) {
		/* The CLI diffed the gunzipped source: make the same. */
		if ((raw = sys_tmpfile(d->tmpdir, e)) < 0)
			return -1;
		d->plain_fd = sys_tmpfile(d->tmpdir, e);
		if (d->plain_fd < 0 || delta_src_to_fd(src, raw, e) < 0 || lseek(raw, 0, SEEK_SET) < 0 ||
			delta_gzip(d->path, "-dc", raw, d->plain_fd, e) < 0) {
			close(raw);
			return -1;
		}
		close(raw);
		d->gunzipped = (delta_src){ delta_fd_read, &d->plain_fd,
			(uint64_t)lseek(d->plain_fd, 0, SEEK_END) };
		use = &d->gunzipped;
	}
	if (target_gz && (d->tmp_out = sys_tmpfile(d->tmpdir, e)) < 0)
		return -1;
	if (delta_blocks_init(&d->blocks, use, (uint64_t)DELTA_DECODE_SLOTS * DELTA_BLKSIZE, e) < 0)
		return -1;
	d->source.blksize = DELTA_BLKSIZE;
	d->source.name = "reference";
	d->source.max_winsize = delta_window(use->size, UINT64_MAX);
	d->source.curblkno = (xoff_t)-1;
	ret = xd3_set_source_and_size(&d->stream, &d->source, use->size);
	if (ret)
		return sys_fail(e, DG_EINTEGRITY, "xdelta3 source: %s", delta_xd3_error(&d->stream, ret));
	d->have_source = 1;
	return 0;
}

/* The CLI re-gzips "G" output by piping it through `gzip -c`. Our stdin
 * is a file, whose mtime gzip would record: -n keeps the header as a pipe
 * leaves it. */
static int delta_dec_regzip(delta_dec *d, const sys_sink *out, dg_error *e)
{
	int gz = sys_tmpfile(d->tmpdir, e), rc = -1;

	if (gz < 0)
		return -1;
	if (lseek(d->tmp_out, 0, SEEK_SET) >= 0 &&
		delta_gzip(d->path, "-cn", d->tmp_out, gz, e) == 0 && sys_sink_copy_fd(gz, out, e) == 0)
		rc = 0;
	close(gz);
	return rc;
}

/* Feed xdelta3 the delta 64 KiB at a time, answering what it asks for. */
static int delta_dec_run(delta_dec *d, const delta_src *src, int delta_fd, unsigned char *in,
	const sys_sink *out, dg_error *e)
{
	uint64_t in_off = 0;
	size_t got;
	int ret, eof = 0;

	for (;;) {
		switch (ret = xd3_decode_input(&d->stream)) {
		case XD3_INPUT:
			if (eof)
				return 0;
			if (sys_pread_all(delta_fd, in, 65536, in_off, &got, e) < 0)
				return -1;
			in_off += got;
			if (got < 65536) {
				eof = 1;
				xd3_set_flags(&d->stream, XD3_FLUSH | d->stream.flags);
			}
			xd3_avail_input(&d->stream, in, (usize_t)got);
			continue;
		case XD3_GOTHEADER:
			if (delta_dec_header(d, src, e) < 0)
				return -1;
			continue;
		case XD3_OUTPUT:
			if (d->tmp_out >= 0) {
				if (sys_write_all(d->tmp_out, d->stream.next_out, d->stream.avail_out, e,
						"a temporary file") < 0)
					return -1;
			} else if (out->write(out->ctx, d->stream.next_out, d->stream.avail_out, e) < 0) {
				return -1;
			}
			xd3_consume_output(&d->stream);
			continue;
		case XD3_GETSRCBLK:
			if (!d->have_source)
				return sys_fail(e, DG_EINTEGRITY, "corrupt delta: source read before the header");
			if (delta_blocks_serve(&d->blocks, &d->source, e) < 0)
				return -1;
			continue;
		case XD3_WINSTART:
		case XD3_WINFINISH:
			continue;
		default:
			return sys_fail(e, DG_EINTEGRITY, "corrupt delta: %s",
				delta_xd3_error(&d->stream, ret));
		}
	}
}

static int delta_decode(const delta_src *src, int delta_fd, const sys_sink *out,
	const char *tmpdir, const char *path, dg_error *e)
{
	delta_dec *d = calloc(1, sizeof *d);
	xd3_config config;
	unsigned char *in = malloc(65536);
	int ret, rc = -1;

	if (d == NULL || in == NULL) {
		free(d);
		free(in);
		return sys_fail(e, DG_ENOMEM, "out of memory");
	}
	d->tmpdir = tmpdir;
	d->path = path;
	d->plain_fd = d->tmp_out = -1;
	xd3_init_config(&config, 0);
	config.winsize = DELTA_WINSIZE;
	config.alloc = delta_dec_alloc;
	config.freef = delta_dec_free;
	if ((ret = xd3_config_stream(&d->stream, &config)) != 0) {
		sys_fail(e, DG_EINTEGRITY, "xdelta3 setup: %s", delta_xd3_error(&d->stream, ret));
		goto done;
	}
	if (delta_dec_run(d, src, delta_fd, in, out, e) < 0)
		goto done;
	if ((ret = xd3_close_stream(&d->stream)) != 0) {
		sys_fail(e, DG_EINTEGRITY, "corrupt delta: %s", delta_xd3_error(&d->stream, ret));
		goto done;
	}
	if (!d->have_source) {
		sys_fail(e, DG_EINTEGRITY, "corrupt delta: no VCDIFF header");
		goto done;
	}
	if (d->tmp_out >= 0 && delta_dec_regzip(d, out, e) < 0)
		goto done;
	rc = 0;
done:
	xd3_free_stream(&d->stream);
	delta_blocks_free(&d->blocks);
	if (d->plain_fd >= 0)
		close(d->plain_fd);
	if (d->tmp_out >= 0)
		close(d->tmp_out);
	free(d);
	free(in);
	return rc;
}

/* ---- Archive-aware deltas (zlib) --------------------------------------------
 *
 * A one-line change re-encodes a whole deflate stream, so compressed
 * containers (.gz, .tgz, .zip, .jar, .whl, .apk) defeat byte deltas. An
 * archive-aware delta is taken between *expanded forms* instead: each
 * deflate stream inflated, the other bytes as they are. zlib is
 * deterministic for a given level, memLevel, window and strategy, so the
 * stream of a file that zlib made is regenerated bit for bit by deflating
 * its contents again with those parameters (that this holds however the
 * input is cut, the upload checks: it rebuilds the file from the delta
 * before storing it). delta_expand finds them by deflating the contents and
 * comparing with the original as it goes (the parameters that matched
 * last first, the others within a budget); a stream it cannot regenerate
 * stays as it is.
 *
 * The expanded form: an 8-byte magic, then segments, each a 13-byte
 * header (a tag, four parameter bytes, a 64-bit little-endian length)
 * and its bytes:
 *   'R' 0 0 0 0                     len bytes of the file as they are
 *   'Z' level mem wbits strategy    len bytes whose raw deflate is the
 *                                   file's next bytes
 *   'E' 0 0 0 0  0                  the end
 * A reference is only the delta's source, so it is expanded otherwise:
 * its bytes as they are, then the contents of every stream it can
 * inflate, one after the other, with no segments. Runs of a target's
 * streams that did not change stay as they are (they are in the
 * reference, byte for byte: one copy covers them), and those that did
 * find their old contents. That expansion depends on nothing but the
 * reference's bytes: a download must build the same source again. */

#define DELTA_ARC_MAGIC  "DGAX\0\0\0\1"
#define DELTA_ARC_HDR    13
#define DELTA_ARC_BUF    65536
/* A stream is inflated only while the expanded form stays within this
 * multiple of the file (plus a floor): a deflate bomb stays as it is. */
#define DELTA_ARC_GROWTH 32
#define DELTA_ARC_FLOOR  (64u << 20)
/* Failed tries may deflate half as much as was inflated (plus a floor):
 * a zlib archive needs one or two, one made by another deflater (Info-ZIP,
 * Node's zlib, 7-Zip) fails them all. Past that only the parameters that
 * matched last are tried. */
#define DELTA_ARC_TRY_SHARE 2
#define DELTA_ARC_TRY_FLOOR (1u << 20)
#define DELTA_ARC_PROBE  (1u << 20)     /* contents a probe deflates */
#define DELTA_ARC_PROBE_ENTRY (256u << 10) /* the smallest zip entry it judges */

enum { DELTA_RB_MAGIC, DELTA_RB_HEADER, DELTA_RB_BODY, DELTA_RB_ENDED };

typedef struct delta_zparams {
	unsigned char level, mem, wbits, strategy;
} delta_zparams;

/* What zlib users pick, most likely first: the default level 6, then 9
 * (gzip -9, "best"), then the rest; memLevel 8 is zlib's default. */
static const delta_zparams delta_zcands[] = {
	{ 6, 8, 15, 0 }, { 9, 8, 15, 0 }, { 1, 8, 15, 0 }, { 5, 8, 15, 0 }, { 4, 8, 15, 0 },
	{ 3, 8, 15, 0 }, { 2, 8, 15, 0 }, { 7, 8, 15, 0 }, { 8, 8, 15, 0 }, { 6, 9, 15, 0 },
	{ 9, 9, 15, 0 }, { 1, 9, 15, 0 }, { 5, 9, 15, 0 }, { 4, 9, 15, 0 }, { 3, 9, 15, 0 },
	{ 2, 9, 15, 0 }, { 7, 9, 15, 0 }, { 8, 9, 15, 0 },
};

typedef struct delta_arc {
	const delta_src *in;
	int out;
	int exact;
	uint64_t out_size;           /* the expanded form so far */
	uint64_t cap;                /* its limit */
	int probe;                   /* at the cap, keep what was inflated (a prefix) */
	uint64_t raw_from;           /* the first byte of the file not yet written out */
	delta_zparams hint;          /* the parameters that matched last */
	uint64_t inflated, spent;    /* bytes inflated; bytes deflated by failed tries */
	delta_arc_stats *st;
	delta_arc_known *known;      /* NULL: none */
	unsigned char *ibuf, *obuf, *cbuf;
	void (*progress)(void *ctx, uint64_t bytes);   /* the file's bytes gone through */
	void *progress_ctx;
	uint64_t reported;
} delta_arc;

static void delta_arc_progress(delta_arc *a, uint64_t at)
{
	if (a->progress && at > a->reported) {
		a->progress(a->progress_ctx, at - a->reported);
		a->reported = at;
	}
}

static void delta_arc_put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t delta_arc_get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int delta_arc_write(delta_arc *a, const void *p, size_t n, dg_error *e)
{
	if (sys_write_all(a->out, p, n, e, "a temporary file") < 0)
		return -1;
	a->out_size += n;
	return 0;
}

static int delta_arc_header(delta_arc *a, int tag, const delta_zparams *zp, uint64_t len,
	dg_error *e)
{
	unsigned char h[DELTA_ARC_HDR] = { (unsigned char)tag };

	if (!a->exact)
		return 0;          /* a source has no segments */
	if (zp) {
		h[1] = zp->level;
		h[2] = zp->mem;
		h[3] = zp->wbits;
		h[4] = zp->strategy;
	}
	delta_arc_put64(h + 5, len);
	return delta_arc_write(a, h, sizeof h, e);
}

/* The file's bytes from raw_from up to end, as an 'R' segment. */
static int delta_arc_raw(delta_arc *a, uint64_t end, dg_error *e)
{
	uint64_t off = a->raw_from;
	size_t got;

	if (end <= off || !a->exact) {
		a->raw_from = end > off ? end : off;   /* a source has them all already */
		return 0;
	}
	if (delta_arc_header(a, 'R', NULL, end - off, e) < 0)
		return -1;
	while (off < end) {
		size_t want = end - off < DELTA_ARC_BUF ? (size_t)(end - off) : DELTA_ARC_BUF;

		if (a->in->read(a->in->ctx, off, a->ibuf, want, &got, e) < 0 ||
			delta_arc_write(a, a->ibuf, got, e) < 0)
			return -1;
		if (got == 0)
			return sys_fail(e, DG_EIO, "the file ended early");
		off += got;
	}
	a->raw_from = end;
	return 0;
}

/* Inflate the raw deflate stream at start onto the end of the expanded
 * form: 1 with its end and size, 0 if it is no stream (corrupt, cut
 * short, or bigger than the cap allows; the caller takes back what was
 * written), 2 for a probe's prefix (its size set), -1 on an error. */
static int delta_arc_inflate(delta_arc *a, uint64_t start, uint64_t *end, uint64_t *ulen,
	dg_error *e)
{
	z_stream z;
	uint64_t off = start, made = 0;
	int ret, rc = -1;

	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, -15) != Z_OK)
		return sys_fail(e, DG_ENOMEM, "out of memory for zlib");
	for (;;) {
		size_t got, n;

		if (z.avail_in == 0) {
			if (a->in->read(a->in->ctx, off, a->ibuf, DELTA_ARC_BUF, &got, e) < 0)
				goto done;
			if (got == 0) {
				rc = 0;          /* cut short */
				goto done;
			}
			z.next_in = a->ibuf;
			z.avail_in = (uInt)got;
			off += got;
		}
		z.next_out = a->obuf;
		z.avail_out = DELTA_ARC_BUF;
		ret = inflate(&z, Z_NO_FLUSH);
		if (ret == Z_MEM_ERROR) {
			sys_fail(e, DG_ENOMEM, "out of memory for zlib");
			goto done;
		}
		if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
			rc = 0;
			goto done;
		}
		n = DELTA_ARC_BUF - z.avail_out;
		if (a->out_size + n > a->cap) {
			/* A probe keeps the contents up to the cap: a prefix (2). */
			size_t k = (size_t)(a->cap - a->out_size);

			rc = 0;
			if (a->probe) {
				rc = delta_arc_write(a, a->obuf, k, e) < 0 ? -1 : 2;
				*ulen = made + k;
			}
			goto done;
		}
		if (delta_arc_write(a, a->obuf, n, e) < 0)
			goto done;
		made += n;
		delta_arc_progress(a, off - z.avail_in);
		if (ret == Z_STREAM_END) {
			*end = off - z.avail_in;
			*ulen = made;
			rc = 1;
			goto done;
		}
	}
done:
	inflateEnd(&z);
	return rc;
}

/* Does deflate with zp turn the ulen expanded bytes at uoff into the
 * file's clen bytes at cstart? 1 yes, 0 no (used: the input it took to
 * tell), -1 on an error. A prefix (not finish) passes when what deflate
 * emits for it starts the stream. */
static int delta_arc_try(delta_arc *a, const delta_zparams *zp, uint64_t cstart, uint64_t clen,
	uint64_t uoff, uint64_t ulen, int finish, uint64_t *used, dg_error *e)
{
	z_stream z;
	uint64_t fed = 0, matched = 0;
	int ret, rc = -1;

	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, zp->level, Z_DEFLATED, -(int)zp->wbits, zp->mem, zp->strategy) != Z_OK)
		return sys_fail(e, DG_ENOMEM, "out of memory for zlib");
	for (;;) {
		size_t got, n;

		if (z.avail_in == 0 && fed < ulen) {
			size_t want = ulen - fed < DELTA_ARC_BUF ? (size_t)(ulen - fed) : DELTA_ARC_BUF;

			if (sys_pread_all(a->out, a->ibuf, want, uoff + fed, &got, e) < 0)
				goto done;
			if (got != want) {
				sys_fail(e, DG_EIO, "a temporary file ended early");
				goto done;
			}
			z.next_in = a->ibuf;
			z.avail_in = (uInt)got;
			fed += got;
		}
		z.next_out = a->obuf;
		z.avail_out = DELTA_ARC_BUF;
		ret = deflate(&z, fed == ulen && finish ? Z_FINISH : Z_NO_FLUSH);
		if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
			sys_fail(e, DG_EIO, "zlib deflate failed (%d)", ret);
			goto done;
		}
		n = DELTA_ARC_BUF - z.avail_out;
		if (n) {
			if (matched + n > clen) {
				rc = 0;
				goto done;
			}
			if (a->in->read(a->in->ctx, cstart + matched, a->cbuf, n, &got, e) < 0)
				goto done;
			if (got != n || memcmp(a->cbuf, a->obuf, n) != 0) {
				rc = 0;
				goto done;
			}
			matched += n;
		}
		if (ret == Z_STREAM_END) {
			rc = matched == clen;
			goto done;
		}
		if (!finish && fed == ulen && z.avail_in == 0 && z.avail_out != 0) {
			rc = 1;            /* no byte differed (maybe none came yet) */
			goto done;
		}
	}
done:
	*used = fed - z.avail_in;
	deflateEnd(&z);
	return rc;
}

/* A hash of the file's bytes [start, end). */
static int delta_arc_hash(delta_arc *a, uint64_t start, uint64_t end, uint64_t *h, dg_error *e)
{
	br_sha256_context c;
	unsigned char d[32];
	size_t got;

	br_sha256_init(&c);
	while (start < end) {
		size_t want = end - start < DELTA_ARC_BUF ? (size_t)(end - start) : DELTA_ARC_BUF;

		if (a->in->read(a->in->ctx, start, a->cbuf, want, &got, e) < 0)
			return -1;
		if (got == 0)
			return sys_fail(e, DG_EIO, "the file ended early");
		crypto_sha256_update(&c, a->cbuf, got);
		start += got;
	}
	br_sha256_out(&c, d);
	memcpy(h, d, sizeof *h);
	return 0;
}

static int delta_arc_cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* A reference's stream goes into known; is a target's there? 1 yes. */
static int delta_arc_known_stream(delta_arc *a, uint64_t start, uint64_t end, dg_error *e)
{
	delta_arc_known *k = a->known;
	uint64_t h = 0;   /* set by delta_arc_hash: gcc 12 loses track in glibc's inline bsearch */

	if (k == NULL)
		return 0;
	if (delta_arc_hash(a, start, end, &h, e) < 0)
		return -1;
	if (a->exact)
		return k->n && bsearch(&h, k->hash, k->n, sizeof h, delta_arc_cmp_u64) != NULL;
	if (k->n == k->cap) {
		/* A million streams is plenty: past that, targets just expand more. */
		size_t cap = k->cap ? 2 * k->cap : 1024;
		uint64_t *grown = cap <= (1u << 20) ? realloc(k->hash, cap * sizeof *grown) : NULL;

		if (grown == NULL)
			return 0;
		k->hash = grown;
		k->cap = cap;
	}
	k->hash[k->n++] = h;
	return 0;
}

/* The deflate stream at start: expanded (its end set, 1), or not a
 * stream (0), or -1 on an error. A target's stream zlib cannot
 * regenerate, or that the reference holds as it is, goes back to being
 * raw bytes, its end still set (unknown: the caller found it is not the
 * reference's). */
static int delta_arc_stream(delta_arc *a, uint64_t start, uint64_t *end, int unknown,
	dg_error *e)
{
	uint64_t hdr_at, ulen = 0, used = 0;
	const delta_zparams *zp = NULL;
	int r;
	size_t i;

	if (delta_arc_raw(a, start, e) < 0)
		return -1;
	hdr_at = a->out_size;
	if (delta_arc_header(a, 'Z', NULL, 0, e) < 0 ||
		(r = delta_arc_inflate(a, start, end, &ulen, e)) < 0)
		return -1;
	if (r == 1) {
		a->st->streams++;
		a->inflated += ulen;
		if ((r = unknown ? 0 : delta_arc_known_stream(a, start, *end, e)) < 0)
			return -1;
		if (!a->exact) {
			zp = &a->hint;
		} else if (r == 1) {
			a->st->same++;     /* the reference has it: it stays as it is */
		} else {
			/* The last parameters that matched, then the others while
			 * the budget lasts. */
			for (i = 0; !zp && i <= sizeof delta_zcands / sizeof delta_zcands[0]; i++) {
				const delta_zparams *c = i == 0 ? &a->hint : &delta_zcands[i - 1];

				if (i > 0 && (memcmp(c, &a->hint, sizeof *c) == 0 ||
					a->spent > a->inflated / DELTA_ARC_TRY_SHARE + DELTA_ARC_TRY_FLOOR))
					continue;
				if ((r = delta_arc_try(a, c, start, *end - start, hdr_at + DELTA_ARC_HDR,
					ulen, 1, &used, e)) < 0)
					return -1;
				if (r == 1)
					zp = c;
				else
					a->spent += used;
			}
		}
		r = 1;
	}
	if (zp && !a->exact)
		return 1;          /* a source keeps the contents */
	if (zp) {
		unsigned char h[DELTA_ARC_HDR] = { 'Z', zp->level, zp->mem, zp->wbits, zp->strategy };

		delta_arc_put64(h + 5, ulen);
		if (pwrite(a->out, h, sizeof h, (off_t)hdr_at) != (ssize_t)sizeof h)
			return sys_fail_errno(e, DG_EIO, errno, "cannot write a temporary file");
		a->hint = *zp;
		a->st->exact++;
		a->raw_from = *end;
		return 1;
	}
	/* Take back what was written: the stream stays in the raw bytes. */
	if (ftruncate(a->out, (off_t)hdr_at) < 0 || lseek(a->out, (off_t)hdr_at, SEEK_SET) < 0)
		return sys_fail_errno(e, DG_EIO, errno, "cannot truncate a temporary file");
	a->out_size = hdr_at;
	return r;
}

/* The length of the gzip member header in p[0..n), 0 if there is none. */
static size_t delta_gzip_header(const unsigned char *p, size_t n)
{
	size_t at = 10;
	int flg;

	if (n < 10 || p[0] != 0x1f || p[1] != 0x8b || p[2] != 8 || (p[3] & 0xe0))
		return 0;
	flg = p[3];
	if (flg & 4) {
		if (at + 2 > n)
			return 0;
		at += 2 + (size_t)(p[at] | p[at + 1] << 8);
	}
	for (int bit = 8; bit <= 16; bit <<= 1) {   /* FNAME, FCOMMENT: zero-terminated */
		if (!(flg & bit))
			continue;
		while (at < n && p[at])
			at++;
		if (at++ >= n)
			return 0;
	}
	if (flg & 2)
		at += 2;
	return at <= n ? at : 0;
}

static uint32_t delta_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* After a zip member's data: the data descriptor (optional signature,
 * CRC-32, sizes of 4 or, for Zip64, 8 bytes) when its flags say so. */
static uint64_t delta_zip_descriptor(const unsigned char *p, size_t n)
{
	size_t at = n >= 4 && memcmp(p, "PK\7\10", 4) == 0 ? 4 : 0;

	if (at + 20 + 4 <= n && memcmp(p + at + 12, "PK", 2) != 0 && memcmp(p + at + 20, "PK", 2) == 0)
		return at + 20;
	return at + 12;
}

/* One step of the scan at pos: the next position, or 0 when nothing more
 * is recognised (the rest is raw); -1 on an error. */
static int delta_arc_step(delta_arc *a, uint64_t *pos, dg_error *e)
{
	unsigned char head[1024];
	uint64_t end, start;
	size_t n, h;
	int r;

	if (a->in->read(a->in->ctx, *pos, head, sizeof head, &n, e) < 0)
		return -1;
	if ((h = delta_gzip_header(head, n)) != 0) {
		if ((r = delta_arc_stream(a, *pos + h, &end, 0, e)) <= 0)
			return r;
		*pos = end + 8 <= a->in->size ? end + 8 : a->in->size;   /* CRC-32, ISIZE */
		return 1;
	}
	if (n >= 30 && memcmp(head, "PK\3\4", 4) == 0) {
		unsigned flags = head[6] | head[7] << 8, method = head[8] | head[9] << 8;
		uint64_t csize = delta_le32(head + 18);

		start = *pos + 30 + (head[26] | head[27] << 8) + (head[28] | head[29] << 8);
		if (start > a->in->size)
			return 0;
		if (method == 8 && a->exact && !(flags & 8) && csize != 0xffffffffu &&
			start + csize <= a->in->size && (r = delta_arc_known_stream(a, start,
			start + csize, e)) != 0) {
			if (r < 0)
				return -1;
			/* The reference's, byte for byte: no need to inflate it. */
			a->st->streams++;
			a->st->same++;
			*pos = start + csize;
		} else if (method == 8) {
			if ((r = delta_arc_stream(a, start, &end, a->exact && !(flags & 8) &&
				csize != 0xffffffffu, e)) < 0)
				return -1;
			if (r == 0 && ((flags & 8) || csize == 0xffffffffu))
				return 0;
			*pos = r ? end : start + csize;
		} else if (!(flags & 8) && csize != 0xffffffffu) {
			*pos = start + csize;
		} else {
			return 0;
		}
		if (flags & 8) {
			if (a->in->read(a->in->ctx, *pos, head, 32, &n, e) < 0)
				return -1;
			*pos += delta_zip_descriptor(head, n);
		}
		return *pos <= a->in->size;
	}
	return 0;
}

/* The scan's three buffers (input, inflated, regenerated), bounded. */
static int delta_arc_buffers(delta_arc *a, dg_error *e)
{
	a->ibuf = malloc(DELTA_ARC_BUF);
	a->obuf = malloc(DELTA_ARC_BUF);
	a->cbuf = malloc(DELTA_ARC_BUF);
	if (a->ibuf == NULL || a->obuf == NULL || a->cbuf == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	return 0;
}

static void delta_arc_buffers_free(delta_arc *a)
{
	free(a->ibuf);
	free(a->obuf);
	free(a->cbuf);
}

static int delta_expand(const delta_src *in, int out_fd, int exact, delta_arc_known *known,
	delta_arc_stats *st, void (*progress)(void *ctx, uint64_t bytes), void *progress_ctx,
	dg_error *e)
{
	delta_arc a = { .in = in, .out = out_fd, .exact = exact, .hint = { 6, 8, 15, 0 }, .st = st,
		.known = known, .progress = progress, .progress_ctx = progress_ctx };
	delta_src copy = { delta_fd_read, &out_fd, in->size };
	uint64_t pos = 0;
	int r = 1, rc = -1;

	memset(st, 0, sizeof *st);
	a.cap = in->size * DELTA_ARC_GROWTH + DELTA_ARC_FLOOR;
	if (delta_arc_buffers(&a, e) < 0)
		goto done;
	/* A source starts with the file's own bytes, and its scan reads that
	 * copy: the reference may be slow to read (the encrypted cache). */
	if (exact ? delta_arc_write(&a, DELTA_ARC_MAGIC, 8, e) < 0 :
		delta_src_to_fd(in, out_fd, e) < 0)
		goto done;
	if (!exact) {
		a.out_size = in->size;
		a.in = &copy;
	}
	while (r == 1 && pos < in->size) {
		if ((r = delta_arc_step(&a, &pos, e)) < 0)
			goto done;
		delta_arc_progress(&a, pos);
	}
	if (delta_arc_raw(&a, in->size, e) < 0 || delta_arc_header(&a, 'E', NULL, 0, e) < 0)
		goto done;
	delta_arc_progress(&a, in->size);
	st->expanded = a.out_size;
	if (known && !exact && known->n)
		qsort(known->hash, known->n, sizeof *known->hash, delta_arc_cmp_u64);
	rc = 0;
done:
	delta_arc_buffers_free(&a);
	return rc;
}

/* The stream a probe judges: a gzip's first, or a zip's first entry of
 * DELTA_ARC_PROBE_ENTRY compressed bytes or more (Info-ZIP's small
 * entries are zlib's, its large ones not), found by walking the local
 * headers while their sizes are known. 1 found (*start), 0 none. */
static int delta_arc_probe_start(const delta_src *in, uint64_t *start, dg_error *e)
{
	unsigned char head[1024];
	uint64_t pos = 0;
	size_t n;

	if (in->read(in->ctx, 0, head, sizeof head, &n, e) < 0)
		return -1;
	if ((*start = delta_gzip_header(head, n)) != 0)
		return 1;
	for (int k = 0; k < 4096; k++) {
		uint64_t csize;
		unsigned flags;

		if (in->read(in->ctx, pos, head, 30, &n, e) < 0)
			return -1;
		if (n < 30 || memcmp(head, "PK\3\4", 4) != 0)
			return 0;
		flags = head[6] | head[7] << 8;
		csize = delta_le32(head + 18);
		if ((flags & 8) || csize == 0xffffffffu)
			return 0;      /* no size to walk on by */
		*start = pos + 30 + (head[26] | head[27] << 8) + (head[28] | head[29] << 8);
		if ((head[8] | head[9] << 8) == 8 && csize >= DELTA_ARC_PROBE_ENTRY)
			return *start + csize <= in->size;
		pos = *start + csize;
	}
	return 0;
}

/* Is in a gzip or zip whose first big stream no parameters regenerate?
 * Tried on the first DELTA_ARC_PROBE bytes of its contents: what deflate
 * emits for them must start the stream (data so repetitive that no block
 * comes out of them passes). GNU gzip's, Node's and Info-ZIP's fail at
 * the first block, zlib's pass. 1: worth expanding (or nothing to judge
 * by), 0: not, -1 on an error. scratch: a temp file, left empty. */
static int delta_arc_probe(const delta_src *in, int scratch, dg_error *e)
{
	delta_arc_stats st;
	delta_arc a = { .in = in, .out = scratch, .exact = 1, .cap = DELTA_ARC_PROBE, .probe = 1,
		.st = &st };
	uint64_t h, end = 0, ulen = 0, used;
	size_t i;
	int r, rc = -1;

	if ((r = delta_arc_probe_start(in, &h, e)) <= 0)
		return r < 0 ? -1 : 1;
	if (delta_arc_buffers(&a, e) < 0)
		goto done;
	if ((r = delta_arc_inflate(&a, h, &end, &ulen, e)) < 0)
		goto done;
	rc = r != 0;               /* not a stream: nothing to expand */
	for (i = 0; r != 0 && i < sizeof delta_zcands / sizeof delta_zcands[0]; i++) {
		/* A whole stream (1) is judged whole; a prefix (2) as such. */
		if ((rc = delta_arc_try(&a, &delta_zcands[i], h, r == 1 ? end - h : in->size - h, 0,
			ulen, r == 1, &used, e)) != 0)
			break;
	}
done:
	if (ftruncate(scratch, 0) < 0 || lseek(scratch, 0, SEEK_SET) < 0)
		rc = sys_fail_errno(e, DG_EIO, errno, "cannot truncate a temporary file");
	delta_arc_buffers_free(&a);
	return rc;
}

/* The rebuild sink: an expanded form in, the file out. */

static int delta_rebuild_deflate(delta_rebuild *r, const unsigned char *p, size_t n, int finish,
	dg_error *e)
{
	int ret;

	r->z.next_in = (unsigned char *)(uintptr_t)p;
	r->z.avail_in = (uInt)n;
	do {
		r->z.next_out = r->buf;
		r->z.avail_out = DELTA_ARC_BUF;
		ret = deflate(&r->z, finish ? Z_FINISH : Z_NO_FLUSH);
		if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR)
			return sys_fail(e, DG_EIO, "zlib deflate failed (%d)", ret);
		if (r->z.avail_out < DELTA_ARC_BUF &&
			r->out->write(r->out->ctx, r->buf, DELTA_ARC_BUF - r->z.avail_out, e) < 0)
			return -1;
	} while (r->z.avail_in > 0 || (finish && ret != Z_STREAM_END) || r->z.avail_out == 0);
	return 0;
}

/* A segment header is in: check it, and set up for its bytes. */
static int delta_rebuild_segment(delta_rebuild *r, dg_error *e)
{
	const unsigned char *h = r->hdr;

	r->tag = h[0];
	r->left = delta_arc_get64(h + 5);
	r->stage = DELTA_RB_BODY;
	if (r->tag == 'E' || r->tag == 'R') {
		if (h[1] || h[2] || h[3] || h[4] || (r->tag == 'E' && r->left))
			return sys_fail(e, DG_EINTEGRITY, "corrupt archive delta: bad segment header");
		if (r->tag == 'E')
			r->stage = DELTA_RB_ENDED;
		return 0;
	}
	if (r->tag != 'Z' || h[1] < 1 || h[1] > 9 || h[2] < 1 || h[2] > 9 || h[3] < 9 || h[3] > 15 ||
		h[4] > Z_FIXED)
		return sys_fail(e, DG_EINTEGRITY, "corrupt archive delta: bad segment header");
	if (r->zready && (r->zlevel != h[1] || r->zmem != h[2] || r->zwbits != h[3] ||
		r->zstrategy != h[4])) {
		deflateEnd(&r->z);
		r->zready = 0;
	}
	if (r->zready ? deflateReset(&r->z) != Z_OK :
		deflateInit2(&r->z, h[1], Z_DEFLATED, -(int)h[3], h[2], h[4]) != Z_OK)
		return sys_fail(e, DG_ENOMEM, "out of memory for zlib");
	r->zready = 1;
	r->zlevel = h[1];
	r->zmem = h[2];
	r->zwbits = h[3];
	r->zstrategy = h[4];
	if (r->left == 0) {
		r->stage = DELTA_RB_HEADER;
		return delta_rebuild_deflate(r, NULL, 0, 1, e);
	}
	return 0;
}

static int delta_rebuild_write(void *ctx, const unsigned char *p, size_t n, dg_error *e)
{
	delta_rebuild *r = ctx;

	while (n > 0) {
		size_t want, take;

		switch (r->stage) {
		case DELTA_RB_ENDED:
			return sys_fail(e, DG_EINTEGRITY, "corrupt archive delta: bytes after its end");
		case DELTA_RB_MAGIC:
		case DELTA_RB_HEADER:
			want = r->stage == DELTA_RB_MAGIC ? 8 : DELTA_ARC_HDR;
			take = want - r->have < n ? want - r->have : n;
			memcpy(r->hdr + r->have, p, take);
			r->have += take;
			p += take;
			n -= take;
			if (r->have < want)
				break;
			r->have = 0;
			if (r->stage == DELTA_RB_MAGIC) {
				if (memcmp(r->hdr, DELTA_ARC_MAGIC, 8) != 0)
					return sys_fail(e, DG_EINTEGRITY, "corrupt archive delta: no expanded "
						"form inside");
				r->stage = DELTA_RB_HEADER;
			} else if (delta_rebuild_segment(r, e) < 0) {
				return -1;
			}
			break;
		case DELTA_RB_BODY:
			take = r->left < n ? (size_t)r->left : n;
			r->left -= take;
			if (r->tag == 'R' ? r->out->write(r->out->ctx, p, take, e) < 0 :
				delta_rebuild_deflate(r, p, take, r->left == 0, e) < 0)
				return -1;
			p += take;
			n -= take;
			if (r->left == 0)
				r->stage = DELTA_RB_HEADER;
			break;
		}
	}
	return 0;
}

static int delta_rebuild_reset(void *ctx, dg_error *e)
{
	delta_rebuild *r = ctx;

	r->stage = DELTA_RB_MAGIC;
	r->have = 0;
	return r->out->reset(r->out->ctx, e);
}

static int delta_rebuild_init(delta_rebuild *r, const sys_sink *out, sys_sink *as, dg_error *e)
{
	memset(r, 0, sizeof *r);
	r->out = out;
	r->stage = DELTA_RB_MAGIC;
	if ((r->buf = malloc(DELTA_ARC_BUF)) == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	as->write = delta_rebuild_write;
	as->reset = delta_rebuild_reset;
	as->ctx = r;
	return 0;
}

/* Done (ok: the decode went well, and the expanded form must be whole). */
static int delta_rebuild_end(delta_rebuild *r, int ok, dg_error *e)
{
	if (r->zready)
		deflateEnd(&r->z);
	free(r->buf);
	r->zready = 0;
	r->buf = NULL;
	if (ok && r->stage != DELTA_RB_ENDED)
		return sys_fail(e, DG_EINTEGRITY, "corrupt archive delta: its expanded form is cut short");
	return 0;
}

/* ======================================================================
 * §9  Reference cache
 *
 * References are fetched once and kept locally, keyed by their SHA-256,
 * always encrypted: on disk as AES-256-GCM in 64 KiB chunks (each chunk
 * authenticated on its own, so the delta engine can read any range), or
 * in memory with LRU eviction. The key is per process unless
 * DG_CACHE_ENCRYPTION_KEY is set; with a per-process key the files live
 * in a per-process directory removed at exit, as the Python tool does.
 * An entry that fails authentication or its hash is deleted and fetched
 * again.
 *
 * File format (ours; Python keeps its own cache):
 *   header, 64 bytes: "DGREF001" | u32 chunk size | u32 0 | u64 size |
 *                     sha256[32] | salt[8]
 *   then per chunk: ciphertext | 16-byte tag
 *   nonce = salt | be32(chunk index); AAD = header bytes 0..15 and 24..63
 *   (everything but the size) | be64(index) | last-chunk flag. The flag
 *   makes truncation at a chunk boundary fail, and the size must agree
 *   with the file length.
 * ====================================================================== */

#define CACHE_CHUNK 65536u
#define CACHE_HDR   64u
#define CACHE_TAG   16u
#define CACHE_MAGIC "DGREF001"

#define CACHE_ANON_MAX 16    /* anonymous entries kept open (file descriptors) */

/* An entry kept by this process: in memory (data), or in an anonymous
 * encrypted file (fd >= 0) when spilled or when the directory is bypassed. */
struct cache_ent {
	struct cache_ent *next;
	char sha[65];
	unsigned char *data;
	int fd;
	unsigned char hdr[CACHE_HDR];
	uint64_t size;
	uint64_t last_use;
	int refs;                /* readers of data */
};

static void cache_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static void cache_be64(unsigned char *p, uint64_t v)
{
	cache_be32(p, (uint32_t)(v >> 32));
	cache_be32(p + 4, (uint32_t)v);
}

static uint64_t cache_get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Nonce and AAD of chunk index of a file with header hdr. */
#define CACHE_AAD 65
static void cache_chunk_params(const unsigned char *hdr, uint64_t index, int last,
	unsigned char iv[12], unsigned char aad[CACHE_AAD])
{
	memcpy(iv, hdr + 56, 8);
	cache_be32(iv + 8, (uint32_t)index);
	memcpy(aad, hdr, 16);             /* magic, chunk size, reserved */
	memcpy(aad + 16, hdr + 24, 40);   /* sha256, salt: not the size */
	cache_be64(aad + 56, index);
	aad[64] = (unsigned char)last;
}

/* ---- The directory ---------------------------------------------------------
 *
 * The default base, /tmp/deltaglider-UID when there is no home, lives in a
 * directory everyone can write: another user could have made it first, or
 * made it a symlink. So every directory is opened without following
 * symlinks and used only when it belongs to us and no one else can write
 * it; everything inside is reached relative to it (openat, unlinkat, which
 * never follow a final symlink) and opened non-blocking, so a FIFO cannot
 * hang us. A directory that fails these checks, or a cache that fills up,
 * is bypassed with a warning: the run goes on with anonymous files. */

/* Open a directory of ours: no symlink, our uid, writable only by us. */
static int cache_open_dir(int at, const char *name, const char *shown, dg_error *e)
{
	struct stat st;
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return sys_fail_errno(e, DG_EIO, errno, "cannot open cache directory %s", shown);
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		sys_fail(e, DG_EIO, "cache directory %s %s", shown, st.st_uid != geteuid() ?
			"belongs to another user" : "is writable by others (chmod go-w it)");
		close(fd);
		return -1;
	}
	return fd;
}

/* Delete the entries of directory name in at, then it; nothing followed. */
static void cache_remove_dir(int at, const char *name)
{
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (fd < 0) {
		unlinkat(at, name, 0);   /* a symlink, or a file, in its place: only it goes */
		return;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(fd, de->d_name, 0);
	closedir(d);
	unlinkat(at, name, AT_REMOVEDIR);
}

/* Per-process directories of processes that died without cleaning up. */
static void cache_reap_stale(cache *c)
{
	struct dirent *de;
	int fd = dup(c->base_fd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		long pid;

		if (sscanf(de->d_name, "proc-%ld-", &pid) != 1 || pid <= 0 || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		cache_remove_dir(c->base_fd, de->d_name);
	}
	closedir(d);
}

/* Directories are made on first write: a run that needs no reference
 * touches nothing. -1 (with the reason in e) when there is none to use. */
static int cache_ensure_dir(cache *c, dg_error *e)
{
	char name[64], parent[DG_MAX_PATH];
	size_t n;

	if (c->dir_fd >= 0)
		return 0;
	if (c->bypass)
		return sys_fail(e, DG_EIO, "the cache directory is bypassed");
	n = (size_t)(sys_basename(c->base) - c->base);
	snprintf(parent, sizeof parent, "%.*s", (int)(n > 1 ? n - 1 : n), c->base);
	if ((n > 1 && sys_mkdirs(parent, 0700, e) < 0) ||
		(mkdir(c->base, 0700) < 0 && errno != EEXIST &&
			sys_fail_errno(e, DG_EIO, errno, "cannot create cache directory %s", c->base)))
		return -1;
	if (c->base_fd < 0 && (c->base_fd = cache_open_dir(AT_FDCWD, c->base, c->base, e)) < 0)
		return -1;
	if (c->ephemeral) {
		unsigned char rnd[6];
		char hex[13];

		cache_reap_stale(c);
		crypto_random(rnd, sizeof rnd);
		crypto_hex(rnd, sizeof rnd, hex);
		snprintf(name, sizeof name, "proc-%ld-%s", (long)getpid(), hex);
		if (mkdirat(c->base_fd, name, 0700) < 0)
			return sys_fail_errno(e, DG_EIO, errno, "cannot create a cache directory in %s",
				c->base);
	} else {
		snprintf(name, sizeof name, "refs");
		if (mkdirat(c->base_fd, name, 0700) < 0 && errno != EEXIST)
			return sys_fail_errno(e, DG_EIO, errno, "cannot create %s/refs", c->base);
	}
	snprintf(c->dir, sizeof c->dir, "%s/%s", c->base, name);
	c->dir_fd = cache_open_dir(c->base_fd, name, c->dir, e);
	if (c->dir_fd < 0) {
		c->dir[0] = 0;
		return -1;
	}
	return 0;
}

/* From now on, entries go to anonymous files in TMPDIR. Said once. */
static void cache_bypass(cache *c, const char *why)
{
	if (!c->bypass)
		sys_logf(c->log, DG_LOG_WARNING, "reference cache bypassed: %s; references are kept in "
			"temporary files for this run", why);
	c->bypass = 1;
}

static int cache_open(cache *c, const cache_cfg *cfg, const sys_log *lg, dg_error *e)
{
	char base[DG_MAX_PATH];

	memset(c, 0, sizeof *c);
	c->log = lg;
	c->base_fd = c->dir_fd = -1;
	c->tmpdir = cfg->tmpdir && *cfg->tmpdir ? cfg->tmpdir : "/tmp";
	c->backend = cfg->memory ? CACHE_MEMORY : CACHE_FS;
	c->mem_limit = cfg->memory_mb << 20;
	pthread_mutex_init(&c->lock, NULL);
	if (cfg->key_b64 && *cfg->key_b64) {
		size_t n;

		if (crypto_b64_decode(cfg->key_b64, c->key, sizeof c->key, &n) < 0 || n != 32)
			return sys_fail(e, DG_ECONFIG, "DG_CACHE_ENCRYPTION_KEY must be 32 bytes in base64");
	} else {
		if (crypto_random(c->key, sizeof c->key) < 0)
			return sys_fail_errno(e, DG_ECONFIG, errno, "getrandom");
		c->ephemeral = 1;
	}
	crypto_gcm_init(&c->gcm, c->key);

	if (cfg->dir && *cfg->dir)
		sys_strlcpy(base, cfg->dir, sizeof base);
	else
		snprintf(base, sizeof base, "/tmp/deltaglider-%ld", (long)getuid());
	sys_strlcpy(c->base, base, sizeof c->base);
	return 0;
}

static void cache_ent_free(struct cache_ent *m)
{
	free(m->data);
	if (m->fd >= 0)
		close(m->fd);
	free(m);
}

static void cache_close(cache *c)
{
	struct cache_ent *m = c->ents, *next;

	for (; m; m = next) {
		next = m->next;
		cache_ent_free(m);
	}
	c->ents = NULL;
	if (c->dir_fd >= 0) {
		close(c->dir_fd);
		if (c->ephemeral)
			cache_remove_dir(c->base_fd, sys_basename(c->dir));
	}
	if (c->base_fd >= 0)
		close(c->base_fd);
	c->dir_fd = c->base_fd = -1;
	explicit_bzero(c->key, sizeof c->key);
	explicit_bzero(&c->gcm, sizeof c->gcm);
	pthread_mutex_destroy(&c->lock);
}

/* ---- Reading -------------------------------------------------------------- */

static int cache_mem_read(void *ctx, uint64_t off, void *buf, size_t n, size_t *got, dg_error *e)
{
	cache_ref *r = ctx;

	(void)e;
	if (off >= r->src.size) {
		*got = 0;
		return 0;
	}
	if (n > r->src.size - off)
		n = (size_t)(r->src.size - off);
	memcpy(buf, r->mem->data + off, n);
	*got = n;
	return 0;
}

/* Decrypt chunk index of r's file into r->chunk. */
static int cache_load_chunk(cache_ref *r, uint64_t index, dg_error *e)
{
	uint64_t nchunks = r->src.size ? (r->src.size + CACHE_CHUNK - 1) / CACHE_CHUNK : 1;
	size_t len = index + 1 < nchunks ? CACHE_CHUNK : (size_t)(r->src.size - index * CACHE_CHUNK);
	unsigned char iv[12], aad[CACHE_AAD], tag[CACHE_TAG];
	uint64_t at = CACHE_HDR + index * (CACHE_CHUNK + CACHE_TAG);
	size_t got;
	int ok;

	if (sys_pread_all(r->fd, r->chunk, len, at, &got, e) < 0 ||
		(got == len && sys_pread_all(r->fd, tag, CACHE_TAG, at + len, &got, e) < 0))
		return -1;
	if (got != (got == len ? len : CACHE_TAG) && got != CACHE_TAG)
		return sys_fail(e, DG_EINTEGRITY, "cached reference is truncated");
	cache_chunk_params(r->hdr, index, index + 1 == nchunks, iv, aad);
	pthread_mutex_lock(&r->c->lock);
	ok = crypto_gcm_open(&r->c->gcm, iv, aad, sizeof aad, r->chunk, len, tag);
	pthread_mutex_unlock(&r->c->lock);
	if (!ok) {
		r->chunk_index = UINT64_MAX;
		return sys_fail(e, DG_EINTEGRITY, "cached reference failed authentication");
	}
	r->chunk_index = index;
	return 0;
}

static int cache_file_read(void *ctx, uint64_t off, void *buf, size_t n, size_t *got, dg_error *e)
{
	cache_ref *r = ctx;
	unsigned char *out = buf;
	size_t done = 0;

	while (done < n && off < r->src.size) {
		uint64_t index = off / CACHE_CHUNK;
		size_t in_chunk = (size_t)(off % CACHE_CHUNK), take;

		if (r->chunk_index != index && cache_load_chunk(r, index, e) < 0)
			return -1;
		take = CACHE_CHUNK - in_chunk;
		if (take > n - done)
			take = n - done;
		if (take > r->src.size - off)
			take = (size_t)(r->src.size - off);
		memcpy(out + done, r->chunk + in_chunk, take);
		done += take;
		off += take;
	}
	*got = done;
	return 0;
}

static void cache_release(cache_ref *r)
{
	if (r->mem) {
		pthread_mutex_lock(&r->c->lock);
		r->mem->refs--;
		pthread_mutex_unlock(&r->c->lock);
	}
	if (r->fd >= 0)
		close(r->fd);
	free(r->chunk);
	memset(r, 0, sizeof *r);
	r->fd = -1;
}

static void cache_name(const char *sha, char *name, size_t n)
{
	snprintf(name, n, "%s.dgref", sha);
}

/* Make r read the encrypted file on fd (taken over), checking its header
 * against sha and its length; verify = also authenticate every chunk.
 * 1 ok, 0 bad (r released). */
static int cache_open_fd(cache *c, int fd, const char *sha, int verify, cache_ref *r, dg_error *e)
{
	unsigned char want[32];
	struct stat st;
	uint64_t nchunks;

	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->c = c;
	r->chunk_index = UINT64_MAX;
	r->chunk = malloc(CACHE_CHUNK);
	if (r->chunk == NULL) {
		cache_release(r);
		return sys_fail(e, DG_ENOMEM, "out of memory");
	}
	for (int i = 0; i < 32; i++)
		sscanf(sha + 2 * i, "%2hhx", &want[i]);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
		pread(fd, r->hdr, CACHE_HDR, 0) != CACHE_HDR || memcmp(r->hdr, CACHE_MAGIC, 8) != 0 || cache_get64(r->hdr + 8) >> 32 != CACHE_CHUNK ||
		memcmp(r->hdr + 24, want, 32) != 0)
		goto bad;
	r->src.size = cache_get64(r->hdr + 16);
	nchunks = r->src.size ? (r->src.size + CACHE_CHUNK - 1) / CACHE_CHUNK : 1;
	if ((uint64_t)st.st_size != CACHE_HDR + r->src.size + nchunks * CACHE_TAG)
		goto bad;
	r->src.read = cache_file_read;
	r->src.ctx = r;
	/* Authenticating every chunk checks the content against the SHA-256
	 * in the header (it is in each chunk's AAD, and was checked when the
	 * entry was written) without hashing it again. */
	for (uint64_t i = 0; verify && i < nchunks; i++) {
		dg_error ignore;

		if (cache_load_chunk(r, i, &ignore) < 0)
			goto bad;
	}
	return 1;
bad:
	cache_release(r);
	return 0;
}

/* Open the entry for sha in the directory. 1 ok, 0 missing or bad (a bad
 * one is deleted). */
static int cache_open_file(cache *c, const char *sha, int verify, cache_ref *r, dg_error *e)
{
	char name[80];
	int fd, ok;

	cache_name(sha, name, sizeof name);
	fd = openat(c->dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		memset(r, 0, sizeof *r);
		r->fd = -1;
		if (errno == ENOENT)
			return 0;
	} else if ((ok = cache_open_fd(c, fd, sha, verify, r, e)) != 0) {
		return ok;
	}
	sys_logf(c->log, DG_LOG_WARNING, "cached reference %s is damaged or from another key; "
		"fetching it again", sha);
	unlinkat(c->dir_fd, name, 0);
	return 0;
}

/* An entry kept in the list, for a reader: shared memory, or its own
 * descriptor of the anonymous file. Called with the lock held. */
static int cache_ent_ref(cache *c, struct cache_ent *m, cache_ref *r, dg_error *e)
{
	memset(r, 0, sizeof *r);
	r->fd = -1;
	r->c = c;
	m->last_use = ++c->tick;
	if (m->fd < 0) {
		r->mem = m;
		m->refs++;
		r->src = (delta_src){ cache_mem_read, r, m->size };
		return 1;
	}
	r->fd = fcntl(m->fd, F_DUPFD_CLOEXEC, 0);
	r->chunk = malloc(CACHE_CHUNK);
	if (r->fd < 0 || r->chunk == NULL) {
		if (r->fd >= 0)
			close(r->fd);
		free(r->chunk);
		r->fd = -1;
		r->chunk = NULL;
		return sys_fail(e, DG_ENOMEM, "out of memory or descriptors");
	}
	memcpy(r->hdr, m->hdr, CACHE_HDR);
	r->chunk_index = UINT64_MAX;
	r->src = (delta_src){ cache_file_read, r, m->size };
	return 1;
}

/* A verified reference with this SHA-256: 1 found, 0 not cached. */
static int cache_get(cache *c, const char *sha, cache_ref *r, dg_error *e)
{
	struct cache_ent *m;
	dg_error why;
	int rc = 0;

	if (!crypto_is_sha_hex(sha))
		return sys_fail(e, DG_EINTEGRITY, "bad SHA-256 '%s' in metadata", sha);
	pthread_mutex_lock(&c->lock);
	for (m = c->ents; m; m = m->next)
		if (strcmp(m->sha, sha) == 0)
			break;
	if (m)
		rc = cache_ent_ref(c, m, r, e);
	pthread_mutex_unlock(&c->lock);
	if (m || c->backend == CACHE_MEMORY || c->bypass)
		return rc;
	if (c->dir_fd < 0 && c->ephemeral)
		return 0;   /* nothing written yet */
	if (cache_ensure_dir(c, &why) < 0) {
		cache_bypass(c, why.msg);
		return 0;
	}
	return cache_open_file(c, sha, 1, r, e);
}

/* ---- Writing ---------------------------------------------------------------- */

static int cache_w_flush(cache_writer *w, int last, dg_error *e)
{
	unsigned char iv[12], aad[CACHE_AAD], tag[CACHE_TAG];

	cache_chunk_params(w->hdr, w->index, last, iv, aad);
	pthread_mutex_lock(&w->c->lock);
	crypto_gcm_seal(&w->c->gcm, iv, aad, sizeof aad, w->chunk, w->fill, tag);
	pthread_mutex_unlock(&w->c->lock);
	if (sys_write_all(w->fd, w->chunk, w->fill, e, "the cache") < 0 ||
		sys_write_all(w->fd, tag, CACHE_TAG, e, "the cache") < 0) {
		w->local_error = 1;
		return -1;
	}
	w->index++;
	w->fill = 0;
	return 0;
}

/* The entry's encrypted file: in the directory, or anonymous (memory
 * spills, bypass, or a directory we cannot use). */
static int cache_w_start_file(cache_writer *w, dg_error *e)
{
	cache *c = w->c;
	dg_error why;

	if (c->backend == CACHE_FS && !c->bypass && cache_ensure_dir(c, &why) < 0)
		cache_bypass(c, why.msg);
	if (c->backend == CACHE_FS && !c->bypass) {
		unsigned char rnd[6];
		char hex[13];

		crypto_random(rnd, sizeof rnd);
		crypto_hex(rnd, sizeof rnd, hex);
		snprintf(w->tmp, sizeof w->tmp, ".%.16s.%s", w->sha_hex, hex);
		w->fd = openat(c->dir_fd, w->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (w->fd < 0) {
			w->tmp[0] = 0;
			cache_bypass(c, strerror(errno));
		}
	}
	if (w->fd < 0) {
		w->anonymous = 1;
		w->fd = sys_tmpfile(c->tmpdir, e);
		if (w->fd < 0) {
			w->local_error = 1;
			return -1;
		}
	}
	if (sys_write_all(w->fd, w->hdr, CACHE_HDR, e, "the cache") < 0) {
		w->local_error = 1;
		return -1;
	}
	return 0;
}

static int cache_w_write(void *ctx, const unsigned char *p, size_t n, dg_error *e)
{
	cache_writer *w = ctx;

	crypto_sha256_update(&w->sha, p, n);
	w->size += n;
	if (w->to_memory) {
		if (w->size <= w->c->mem_limit)
			return sys_buf_add(&w->mem, p, n) < 0 ? sys_fail(e, DG_ENOMEM, "out of memory") : 0;
		/* Too big for the memory cache: spill into an encrypted file. */
		sys_buf held = w->mem;

		w->to_memory = 0;
		w->size = 0;
		w->mem = (sys_buf){ 0 };
		br_sha256_init(&w->sha);
		if ((w->fd < 0 && cache_w_start_file(w, e) < 0) ||
			cache_w_write(w, (unsigned char *)held.data, held.len, e) < 0) {
			sys_buf_free(&held);
			return -1;
		}
		sys_buf_free(&held);
		return cache_w_write(w, p, n, e);
	}
	while (n) {
		size_t take;

		/* A full chunk is written only once more data shows it is not the last. */
		if (w->fill == CACHE_CHUNK && cache_w_flush(w, 0, e) < 0)
			return -1;
		take = CACHE_CHUNK - w->fill < n ? CACHE_CHUNK - w->fill : n;
		memcpy(w->chunk + w->fill, p, take);
		w->fill += take;
		p += take;
		n -= take;
	}
	return 0;
}

static int cache_w_reset(void *ctx, dg_error *e)
{
	cache_writer *w = ctx;

	br_sha256_init(&w->sha);
	w->size = 0;
	w->fill = 0;
	w->index = 0;
	w->mem.len = 0;
	w->to_memory = w->c->backend == CACHE_MEMORY;
	if (w->fd >= 0) {
		if (ftruncate(w->fd, CACHE_HDR) < 0 || lseek(w->fd, CACHE_HDR, SEEK_SET) < 0) {
			w->local_error = 1;
			return sys_fail_errno(e, DG_EIO, errno, "cannot rewind the cache file");
		}
	}
	return 0;
}

/* Start caching a reference whose SHA-256 must come out as sha. The
 * writer is also an sys_sink, for a GET to stream into. */
static int cache_put_begin(cache *c, const char *sha, cache_writer *w, dg_error *e)
{
	memset(w, 0, sizeof *w);
	w->c = c;
	w->fd = -1;
	if (!crypto_is_sha_hex(sha))
		return sys_fail(e, DG_EINTEGRITY, "bad SHA-256 '%s' in metadata", sha);
	sys_strlcpy(w->sha_hex, sha, sizeof w->sha_hex);
	w->chunk = malloc(CACHE_CHUNK);
	if (w->chunk == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	memcpy(w->hdr, CACHE_MAGIC, 8);
	cache_be32(w->hdr + 8, CACHE_CHUNK);
	for (int i = 0; i < 32; i++)
		sscanf(sha + 2 * i, "%2hhx", &w->hdr[24 + i]);
	if (crypto_random(w->hdr + 56, 8) < 0) {
		cache_put_abort(w);
		return sys_fail_errno(e, DG_EIO, errno, "getrandom");
	}
	w->sink = (sys_sink){ cache_w_write, cache_w_reset, w };
	cache_w_reset(w, e);
	if (!w->to_memory && cache_w_start_file(w, e) < 0) {
		cache_put_abort(w);
		return -1;
	}
	return 0;
}

/* Drop what the writer holds; safe to call twice. local_error stays, for
 * the caller to see why it failed. */
static void cache_put_abort(cache_writer *w)
{
	int local_error = w->local_error;

	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp[0])
		unlinkat(w->c->dir_fd, w->tmp, 0);
	free(w->chunk);
	sys_buf_free(&w->mem);
	memset(w, 0, sizeof *w);
	w->fd = -1;
	w->local_error = local_error;
}

/* Keep a finished entry in the list (memory, or an anonymous file), making
 * room: memory entries by size, anonymous ones by count, least recently
 * used first, never one being read. */
static void cache_keep(cache *c, struct cache_ent *m)
{
	struct cache_ent **pp;

	pthread_mutex_lock(&c->lock);
	m->last_use = ++c->tick;
	for (;;) {
		struct cache_ent **victim = NULL, *v;
		unsigned files = 0;

		for (pp = &c->ents; *pp; pp = &(*pp)->next)
			files += (*pp)->fd >= 0;
		if (m->fd < 0 ? c->mem_used + m->size <= c->mem_limit : files < CACHE_ANON_MAX)
			break;
		for (pp = &c->ents; *pp; pp = &(*pp)->next)
			if ((*pp)->refs == 0 && ((*pp)->fd >= 0) == (m->fd >= 0) &&
				(victim == NULL || (*pp)->last_use < (*victim)->last_use))
				victim = pp;
		if (victim == NULL)
			break;
		v = *victim;
		*victim = v->next;
		if (v->fd < 0)
			c->mem_used -= v->size;
		cache_ent_free(v);
	}
	m->next = c->ents;
	c->ents = m;
	if (m->fd < 0)
		c->mem_used += m->size;
	pthread_mutex_unlock(&c->lock);
}

/* Finish: the content must hash to the expected SHA-256 (else the entry is
 * dropped and DG_EINTEGRITY returned); then r reads it. */
static int cache_put_commit(cache_writer *w, cache_ref *r, dg_error *e)
{
	cache *c = w->c;
	struct cache_ent *m = NULL;
	unsigned char d[32];
	char got[65], name[80];
	int rc;

	br_sha256_out(&w->sha, d);
	crypto_hex(d, 32, got);
	if (strcmp(got, w->sha_hex) != 0) {
		sys_fail(e, DG_EINTEGRITY, "reference SHA-256 mismatch: metadata says %s, "
			"content is %s", w->sha_hex, got);
		goto fail;
	}
	if (!w->to_memory) {
		if (cache_w_flush(w, 1, e) < 0)
			goto fail;
		cache_be64(w->hdr + 16, w->size);
		if (pwrite(w->fd, w->hdr, CACHE_HDR, 0) != CACHE_HDR) {
			w->local_error = 1;
			sys_fail_errno(e, DG_EIO, errno, "cannot write the cache");
			goto fail;
		}
	}
	if (!w->to_memory && !w->anonymous) {
		cache_name(w->sha_hex, name, sizeof name);
		if (renameat(c->dir_fd, w->tmp, c->dir_fd, name) < 0) {
			w->local_error = 1;
			sys_fail_errno(e, DG_EIO, errno, "cannot store %s in the cache", w->sha_hex);
			goto fail;
		}
		w->tmp[0] = 0;
		cache_put_abort(w);
		if (cache_open_file(c, got, 0, r, e) != 1)
			return sys_fail(e, DG_EIO, "cannot reopen cached reference %s", got);
		return 0;
	}
	m = calloc(1, sizeof *m);
	if (m == NULL) {
		sys_fail(e, DG_ENOMEM, "out of memory");
		goto fail;
	}
	sys_strlcpy(m->sha, w->sha_hex, sizeof m->sha);
	m->size = w->size;
	m->fd = -1;
	if (w->to_memory) {
		m->data = (unsigned char *)w->mem.data;
		w->mem.data = NULL;
	} else {
		m->fd = w->fd;
		w->fd = -1;
		memcpy(m->hdr, w->hdr, CACHE_HDR);
	}
	cache_put_abort(w);
	cache_keep(c, m);
	pthread_mutex_lock(&c->lock);
	rc = cache_ent_ref(c, m, r, e);
	pthread_mutex_unlock(&c->lock);
	return rc < 0 ? -1 : 0;
fail:
	cache_put_abort(w);
	return -1;
}

/* ======================================================================
 * §10  DeltaGlider core
 *
 * Logical objects on a store, as the Python DeltaGlider lays them out
 * (FORMAT.md): one reference.bin per prefix (DeltaSpace),
 * NAME.delta for archives, NAME as is for the rest, metadata under every
 * legacy spelling. Uploads never leave a delta without its reference,
 * downloads are written to a temp file and renamed only once the SHA-256
 * matches, and a reference goes only with the last delta that needs it.
 * ====================================================================== */

#define DG_REFERENCE "reference.bin"
#define DG_DELTA_SFX ".delta"
#define DG_ARC_FORMAT   "archive-v1"   /* dg-delta-format of archive-aware deltas */
/* An upload stored whole because its delta passed max_ratio says what
 * --max-ratio 0.9 would have saved, from the size or estimate it has. */
#define DG_REPORT_RATIO 0.9
/* The encoder's default level. Measured on real release families
 * (tests/bench/levels.sh: typescript 5.4.2-5.5.2 as .tar and .zip,
 * @swc/core-linux-x64-gnu 1.4.0-1.4.5 as .tar): level 6 with LZMA
 * stores 0.81x, 1.00x and 1.00x the bytes of -9 in 0.74x, 0.98x and
 * 0.53x its CPU time; levels 1-3 cost 10-83% more bytes on the
 * binaries. -9 stays one flag away (--compression-level 9). */
#define DG_DEFAULT_LEVEL 6

/* ---- Progress ---------------------------------------------------------------
 *
 * The client's callback hears of the object in hand as its own bytes go
 * by: bytes sent of a file stored whole (or as the reference), bytes of
 * the file the encoder has been through, bytes written of a download.
 * Deltas and references on the wire are not the object's bytes and do
 * not count. A step that starts over (an encode given up for a direct
 * upload, a retried download) tells only what passes the furthest point
 * reached, so an object's reports never go back, never pass its size,
 * and add up to it once it is done. */

static void dg_progress_begin(dg_ctx *g, uint64_t size)
{
	pthread_mutex_lock(&g->prog.lock);
	g->prog.active = 1;
	g->prog.sending = 0;
	g->prog.size = size;
	g->prog.step = g->prog.reported = 0;
	pthread_mutex_unlock(&g->prog.lock);
}

/* A step starts from its first byte; sending: its bytes are the request
 * bodies sent (the HTTP meter's, see dg_progress_sent). */
static void dg_progress_step(dg_ctx *g, int sending)
{
	pthread_mutex_lock(&g->prog.lock);
	g->prog.step = 0;
	g->prog.sending = sending;
	pthread_mutex_unlock(&g->prog.lock);
}

static void dg_progress_add(void *ctx, uint64_t n)
{
	dg_ctx *g = ctx;
	uint64_t told = 0;

	pthread_mutex_lock(&g->prog.lock);
	if (g->prog.active) {
		uint64_t at = g->prog.step += n;

		if (at > g->prog.size)
			at = g->prog.size;
		if (at > g->prog.reported) {
			told = at - g->prog.reported;
			g->prog.reported = at;
		}
	}
	pthread_mutex_unlock(&g->prog.lock);
	if (told)
		dg_client_report(g->client, told);
}

/* Request body bytes sent: 1 if g has an object in hand (whether they
 * count or not), 0 if g is a worker sending its parent's parts. */
static int dg_progress_sent(dg_ctx *g, uint64_t n)
{
	int active, sending;

	pthread_mutex_lock(&g->prog.lock);
	active = g->prog.active;
	sending = g->prog.sending;
	pthread_mutex_unlock(&g->prog.lock);
	if (sending)
		dg_progress_add(g, n);
	return active;
}

/* done: the object is complete, whatever its steps told. */
static void dg_progress_end(dg_ctx *g, int done)
{
	uint64_t told = 0;

	pthread_mutex_lock(&g->prog.lock);
	if (g->prog.active && done && g->prog.size != UINT64_MAX && g->prog.size > g->prog.reported)
		told = g->prog.size - g->prog.reported;
	g->prog.active = g->prog.sending = 0;
	pthread_mutex_unlock(&g->prog.lock);
	if (told)
		dg_client_report(g->client, told);
}

/* A response sink that writes into a file and hashes what it writes, the
 * hash on a thread of its own for large files. Every init ends with
 * dg_file_sink_end. */
typedef struct dg_file_sink {
	int fd;                      /* -1: none */
	const sys_sink *next;        /* and/or on to here; NULL: none */
	const char *path;
	uint64_t written;
	crypto_hasher hash;
	dg_ctx *progress;            /* a download: what it writes is progress */
} dg_file_sink;

static int dg_file_sink_write(void *ctx, const unsigned char *p, size_t n, dg_error *e)
{
	dg_file_sink *f = ctx;

	if ((f->fd >= 0 && sys_write_all(f->fd, p, n, e, f->path) < 0) ||
		(f->next && f->next->write(f->next->ctx, p, n, e) < 0))
		return -1;
	crypto_hasher_update(&f->hash, p, n);
	f->written += n;
	if (f->progress)
		dg_progress_add(f->progress, n);
	return 0;
}

static int dg_file_sink_reset(void *ctx, dg_error *e)
{
	dg_file_sink *f = ctx;

	if (f->fd >= 0 && (ftruncate(f->fd, 0) < 0 || lseek(f->fd, 0, SEEK_SET) < 0))
		return sys_fail_errno(e, DG_EIO, errno, "cannot rewind %s", f->path);
	f->written = 0;
	crypto_hasher_reset(&f->hash);
	if (f->progress)
		dg_progress_step(f->progress, 0);
	return 0;
}

/* fd < 0: hash only (verify). A file we can read back from its start (a
 * temp file) is hashed on the hasher's thread; others (a pipe) inline. */
static void dg_file_sink_init(dg_file_sink *f, int fd, const char *path, sys_sink *sink)
{
	struct stat st;
	int fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
	int follow = fl >= 0 && (fl & O_ACCMODE) == O_RDWR && fstat(fd, &st) == 0 &&
		S_ISREG(st.st_mode) && lseek(fd, 0, SEEK_CUR) == 0;

	f->fd = fd;
	f->next = NULL;
	f->path = path;
	f->written = 0;
	f->progress = NULL;
	crypto_hasher_init(&f->hash, follow ? fd : -1);
	*sink = (sys_sink){ dg_file_sink_write, dg_file_sink_reset, f };
}

/* A file that could not be read back gets a "hash" that matches nothing. */
static void dg_file_sink_hex(dg_file_sink *f, char hex[65])
{
	unsigned char d[32];

	if (crypto_hasher_out(&f->hash, d) == 0)
		crypto_hex(d, 32, hex);
	else
		sys_strlcpy(hex, "(unreadable: the file could not be read back)", 65);
}

static void dg_file_sink_end(dg_file_sink *f)
{
	crypto_hasher_end(&f->hash);
}

/* ---- Metadata ---------------------------------------------------------- */

/* A field under any of its spellings: dg-file-sha256, dg_file_sha256,
 * file_sha256, file-sha256. (FORMAT.md excludes the bare dashed spelling
 * for tool, note and compression: one word, it is the underscored one.) */
static const char *dg_meta(const sys_meta *m, const char *field)
{
	char name[64], under[48];
	const char *v;
	size_t i;

	for (i = 0; field[i] && i < sizeof under - 1; i++)
		under[i] = field[i] == '-' ? '_' : field[i];
	under[i] = 0;
	snprintf(name, sizeof name, "dg-%s", field);
	if ((v = sys_meta_get(m, name)) && *v)
		return v;
	snprintf(name, sizeof name, "dg_%s", under);
	if ((v = sys_meta_get(m, name)) && *v)
		return v;
	if ((v = sys_meta_get(m, under)) && *v)
		return v;
	return (v = sys_meta_get(m, field)) && *v ? v : NULL;
}

static int dg_meta_set(sys_meta *m, const char *field, const char *value, dg_error *e)
{
	char name[64];

	snprintf(name, sizeof name, "dg-%s", field);
	if (sys_meta_set(m, name, value) < 0)
		return sys_fail(e, DG_EUSAGE, "metadata value for %s is too long or has a line break",
			name);
	return 0;
}

static void dg_now(char out[32], int with_z)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	sys_time_iso(ts.tv_sec, ts.tv_nsec / 1000, with_z, out);
}

/* What FORMAT.md sends down the delta path. */
static int dg_delta_eligible(const char *name)
{
	static const char *const sfx[] = { ".tar.gz", ".tar.bz2", ".tar.xz", ".zip", ".tar", ".gz",
		".tgz", ".bz2", ".xz", ".7z", ".rar", ".dmg", ".iso", ".pkg", ".deb", ".rpm", ".apk",
		".jar", ".war", ".ear" };
	size_t i;

	for (i = 0; i < sizeof sfx / sizeof sfx[0]; i++)
		if (sys_ends_with_ci(name, sfx[i]))
			return 1;
	return 0;
}

/* "releases/v1/app.zip" -> prefix "releases/v1/", name "app.zip". */
static void dg_split(const char *key, char *prefix, size_t n, const char **name)
{
	*name = sys_basename(key);
	snprintf(prefix, n, "%.*s", (int)(*name - key), key);
}

/* ---- References -------------------------------------------------------- */

/* The reference with this SHA-256, from the cache or fetched into it. A
 * cache that fails us (full disk, unusable directory) is bypassed and the
 * fetch made once more, into a temporary file. */
static int dg_reference(dg_ctx *g, store *s, const char *ref_key, const char *sha,
	cache_ref *ref, dg_error *e)
{
	cache_writer w;
	int r = cache_get(g->cache, sha, ref, e), attempt;

	if (r != 0)
		return r < 0 ? -1 : 0;
	for (attempt = 0;; attempt++) {
		if (cache_put_begin(g->cache, sha, &w, e) < 0)
			return -1;
		sys_logf(g->log, DG_LOG_INFO, "fetching reference %s", ref_key);
		if (s->ops->get(s, ref_key, &w.sink, NULL, NULL, e) == 0 &&
			cache_put_commit(&w, ref, e) == 0)
			return 0;
		if (!w.local_error || attempt > 0) {
			cache_put_abort(&w);
			sys_err_prefix(e, "reference %s: ", ref_key);
			return -1;
		}
		cache_put_abort(&w);
		cache_bypass(g->cache, e->msg);
	}
}

/* Put a local file into the cache as the reference it just became. */
static void dg_cache_local(dg_ctx *g, int fd, const char *sha)
{
	cache_writer w;
	cache_ref ref;
	dg_error e;

	if (cache_put_begin(g->cache, sha, &w, &e) < 0)
		return;
	if (sys_sink_copy_fd(fd, &w.sink, &e) < 0) {
		cache_put_abort(&w);
		return;
	}
	if (cache_put_commit(&w, &ref, &e) == 0)
		cache_release(&ref);
}

/* An unlinked temp file for a delta. */
static int dg_tmpfile(dg_ctx *g, dg_error *e)
{
	return sys_tmpfile(g->tmpdir, e);
}

/* A reference fetched while the encoder reads it. The GET runs on a
 * thread of its own, its bytes going both into the cache (whose writer
 * checks their SHA-256 at the end) and into a temp file, whose reader
 * waits for the bytes it asks for. The sink cannot start over, so a
 * retry resumes at the byte reached, bound to the first answer's ETag
 * (see s3_get): what was read stays what arrives. Nothing encoded against
 * it is stored before dg_ref_stream_wait says the whole reference arrived
 * with the SHA-256 its metadata gives; if not, the caller fetches and
 * encodes again as usual. So a version's upload costs the longer of the
 * fetch and the encode, not their sum. */
#define DG_REF_STREAM_MIN (1u << 20)   /* smaller references: one GET, then encode */

typedef struct dg_ref_stream {
	dg_ctx *g;
	store *s;
	const char *key;
	cache_writer w;
	sys_sink tee;                /* into w and fd */
	delta_src src;               /* what the encoder reads */
	int fd;
	pthread_t thread;
	int joined;
	pthread_mutex_t lock;
	pthread_cond_t more;
	uint64_t avail;              /* bytes in fd */
	int done, ok;
	dg_error err;                /* why it failed */
} dg_ref_stream;

static int dg_ref_stream_write(void *ctx, const unsigned char *p, size_t n, dg_error *e)
{
	dg_ref_stream *rs = ctx;

	if (rs->w.sink.write(rs->w.sink.ctx, p, n, e) < 0 ||
		sys_write_all(rs->fd, p, n, e, "the reference's temp file") < 0)
		return -1;
	pthread_mutex_lock(&rs->lock);
	rs->avail += n;
	pthread_cond_broadcast(&rs->more);
	pthread_mutex_unlock(&rs->lock);
	return 0;
}

static int dg_ref_stream_read(void *ctx, uint64_t off, void *buf, size_t n, size_t *got,
	dg_error *e)
{
	dg_ref_stream *rs = ctx;
	uint64_t want = off + n < rs->src.size ? off + n : rs->src.size;

	*got = 0;
	if (off >= rs->src.size)
		return 0;
	pthread_mutex_lock(&rs->lock);
	while (rs->avail < want && !rs->done)
		pthread_cond_wait(&rs->more, &rs->lock);
	if (rs->avail < want) {
		if (rs->ok)
			sys_fail(e, DG_EINTEGRITY, "reference %s: shorter than its HEAD said", rs->key);
		else
			*e = rs->err;
		pthread_mutex_unlock(&rs->lock);
		return -1;
	}
	pthread_mutex_unlock(&rs->lock);
	return sys_pread_all(rs->fd, buf, (size_t)(want - off), off, got, e);
}

static void *dg_ref_stream_main(void *arg)
{
	dg_ref_stream *rs = arg;
	cache_ref ref;
	dg_error e;
	int ok;

	sys_logf(rs->g->log, DG_LOG_INFO, "fetching reference %s (encoding as it arrives)", rs->key);
	ok = rs->s->ops->get(rs->s, rs->key, &rs->tee, NULL, NULL, &e) == 0 &&
		cache_put_commit(&rs->w, &ref, &e) == 0;
	if (ok)
		cache_release(&ref);
	else
		cache_put_abort(&rs->w);
	if (ok && rs->avail != rs->src.size) {   /* the size the encoder was told */
		sys_fail(&e, DG_EINTEGRITY, "%" PRIu64 " bytes, not the %" PRIu64 " its HEAD said",
			rs->avail, rs->src.size);
		ok = 0;
	}
	pthread_mutex_lock(&rs->lock);
	rs->done = 1;
	rs->ok = ok;
	if (!ok) {
		rs->err = e;
		sys_err_prefix(&rs->err, "reference %s: ", rs->key);
	}
	pthread_cond_broadcast(&rs->more);
	pthread_mutex_unlock(&rs->lock);
	return NULL;
}

/* 1 started (rs->src is the reference), 0 not worth it or not possible
 * here (the caller fetches as usual, and meets any error itself). */
static int dg_ref_stream_start(dg_ref_stream *rs, dg_ctx *g, store *s, const char *key,
	const char *sha, uint64_t size)
{
	pthread_attr_t attr;
	dg_error e;
	int started;

	if (s->s3 == NULL || size < DG_REF_STREAM_MIN)
		return 0;
	*rs = (dg_ref_stream){ .g = g, .s = s, .key = key, .fd = -1 };
	if ((rs->fd = dg_tmpfile(g, &e)) < 0)
		return 0;
	if (cache_put_begin(g->cache, sha, &rs->w, &e) < 0) {
		close(rs->fd);
		return 0;
	}
	rs->tee = (sys_sink){ dg_ref_stream_write, NULL, rs };
	rs->src = (delta_src){ dg_ref_stream_read, rs, size };
	pthread_mutex_init(&rs->lock, NULL);
	pthread_cond_init(&rs->more, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, DG_THREAD_STACK);
	started = pthread_create(&rs->thread, &attr, dg_ref_stream_main, rs) == 0;
	pthread_attr_destroy(&attr);
	if (!started) {
		cache_put_abort(&rs->w);
		close(rs->fd);
		pthread_mutex_destroy(&rs->lock);
		pthread_cond_destroy(&rs->more);
		return 0;
	}
	return 1;
}

/* Wait for the fetch: 0 when the reference arrived whole with its
 * SHA-256, -1 otherwise (e says why). */
static int dg_ref_stream_wait(dg_ref_stream *rs, dg_error *e)
{
	if (!rs->joined) {
		pthread_join(rs->thread, NULL);
		rs->joined = 1;
	}
	if (rs->ok)
		return 0;
	*e = rs->err;
	return -1;
}

static void dg_ref_stream_end(dg_ref_stream *rs)
{
	dg_error ignore;

	dg_ref_stream_wait(rs, &ignore);
	close(rs->fd);
	pthread_mutex_destroy(&rs->lock);
	pthread_cond_destroy(&rs->more);
}

/* ---- Locks: uploads and deletes that share a reference ----------------------
 *
 * Deleting the last delta of a DeltaSpace removes its reference.bin; an
 * upload that found the reference a moment before would leave a delta that
 * nothing can decode. S3 has no "delete if unused", so both sides announce
 * themselves with small objects in .deltaglider/locks/<hash of the space>/
 * (file:// stores: a hidden .dglocks folder in the space) and then look for
 * the other (Dekker's handshake):
 *
 *   upload  PUT lease-EXPIRY-HOLDER; LIST; wait while a live delete marker
 *           is there; only then HEAD reference.bin and use it.
 *   delete  (no delta left) PUT delete-EXPIRY-HOLDER; LIST; keep the
 *           reference if someone else's live lease is there; LIST the deltas
 *           again and keep it if one appeared; else DELETE it; DELETE the
 *           marker.
 *
 * With PUT and LIST linearizable (AWS since 2020, MinIO, Ceph RGW, file://)
 * one side always sees the other. A process keeps one lease per DeltaSpace
 * while it runs, renewed before an upload that could outlast it and
 * released by dg_close, so a recursive copy pays two requests per folder.
 * Expiry times are by the store's clock. A holder that died on this host
 * (same pid namespace) is seen to be dead at once, by its pid and the
 * start time beside it (pids are reused); elsewhere its lease lapses at
 * its expiry, and until then a reference it was using is kept.
 *
 * On stores that ignore conditional writes, the same leases settle first
 * uploads: a reference is created only by an uploader that sees no other
 * live lease in its DeltaSpace; the others store their file directly. */

#define DG_LEASE_TTL 3600            /* seconds a lease lasts, plus DG_LEASE_RATE */
#define DG_LEASE_RATE (256u << 10)   /* bytes/s an upload is assumed to take, at worst */
#define DG_MARKER_TTL 120            /* seconds a delete marker lasts */
#define DG_LOCK_MARGIN 60            /* clocks and requests: renew this early */

typedef struct dg_lease {
	struct dg_lease *next;
	store s;                     /* a copy: the caller's may be gone by dg_close */
	char space[DG_MAX_KEY + 1];
	char key[DG_MAX_KEY + 1];
	time_t expires;
} dg_lease;

typedef struct dg_lock_view {
	const dg_ctx *g;
	time_t now;
	unsigned leases;             /* live leases of other holders */
	unsigned markers;            /* live delete markers of other holders */
} dg_lock_view;

/* When process pid started (clock ticks after boot); 0 when unknown. A pid
 * names a process only together with this: pids are reused. Read from its
 * main thread's entry, /proc/PID/task/PID/stat, for ourselves too: qemu-user
 * rewrites /proc/self/stat (and /proc/OURPID/stat) with a start time of its
 * own, which others, reading the kernel's, would take for another process. */
static unsigned long long dg_proc_start(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof path, "/proc/%ld/task/%ld/stat", pid, pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	/* "pid (comm) state ...": comm may hold anything, so count from its
	 * last ')'; starttime is field 22, the 20th after it. */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	for (field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

/* Who takes our leases: host, pid namespace, pid and its start time, so
 * that a dead holder on this host is recognised, plus randomness for
 * uniqueness. */
static const char *dg_holder(dg_ctx *g)
{
	char host[64] = "host", ns[64] = "";
	unsigned char rnd[4];
	char hex[9];
	struct utsname u;
	ssize_t n;
	size_t i;

	if (g->holder[0])
		return g->holder;
	if (uname(&u) == 0 && u.nodename[0])
		sys_strlcpy(host, u.nodename, sizeof host);
	for (i = 0; host[i]; i++)
		if (!isalnum((unsigned char)host[i]) && host[i] != '-')
			host[i] = '_';
	n = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
	ns[n > 0 ? n : 0] = 0;
	crypto_random(rnd, sizeof rnd);
	crypto_hex(rnd, sizeof rnd, hex);
	snprintf(g->holder, sizeof g->holder, "%s.%lu.%ld.t%llu.%s", host,
		strtoul(ns + strcspn(ns, "0123456789"), NULL, 10), (long)getpid(),
		dg_proc_start((long)getpid()), hex);
	g->holder_host = n > 0 ? strcspn(g->holder, ".") + 1 : 0;
	if (g->holder_host)
		g->holder_host += strcspn(g->holder + g->holder_host, ".") + 1;
	return g->holder;
}

/* A holder on this host and pid namespace whose process is gone: no
 * process has its pid, or (names that carry it: ".t<start>") the one
 * that has it now started at another time, the pid being reused. */
static int dg_holder_dead(const dg_ctx *g, const char *holder)
{
	char *end;
	unsigned long long start, now;
	long pid;

	if (g->holder_host == 0 || strncmp(holder, g->holder, g->holder_host) != 0)
		return 0;
	pid = strtol(holder + g->holder_host, &end, 10);
	if (*end != '.' || pid <= 0 || pid == (long)getpid())
		return 0;
	if (kill((pid_t)pid, 0) < 0)
		return errno == ESRCH;
	if (end[1] != 't')
		return 0;
	start = strtoull(end + 2, &end, 10);
	now = dg_proc_start(pid);
	return *end == '.' && start && now && now != start;
}

/* A store that forbids lock objects (a policy that allows writes only
 * under some prefix) still works, unprotected: say so once. */
/* Did the store refuse lock objects (to this client or a worker of it)? */
static int dg_locks_refused(const dg_ctx *g)
{
	return __atomic_load_n(g->locks_denied, __ATOMIC_ACQUIRE);
}

static int dg_lock_denied(dg_ctx *g, const dg_error *e)
{
	if (e->http_status != 403)
		return 0;
	if (__atomic_exchange_n(g->locks_denied, 1, __ATOMIC_ACQ_REL) == 0)
		sys_logf(g->log, DG_LOG_WARNING, "cannot write lock objects under " STORE_LOCKS " (%s): "
			"uploads and deletes running at the same time are not protected from each other",
			e->msg);
	return 1;
}

static int dg_lock_put(dg_ctx *g, store *s, const char *space, const char *kind,
	time_t expires, char *key, size_t n, dg_error *e)
{
	char dir[DG_MAX_KEY + 1];

	s->ops->lock_dir(s, space, dir, sizeof dir);
	snprintf(key, n, "%s%s-%lld-%s", dir, kind, (long long)expires, dg_holder(g));
	return s->ops->put_mem(s, key, "", 0, NULL, 0, e);
}

static int dg_lock_seen(void *ctx, const sys_object *o, dg_error *e)
{
	dg_lock_view *v = ctx;
	const char *name = sys_basename(o->key), *holder;
	long long expires;
	char kind[8];
	int n = 0;

	(void)e;
	if (sscanf(name, "%7[a-z]-%lld-%n", kind, &expires, &n) != 2 || n == 0)
		return 0;
	holder = name + n;
	if (strcmp(holder, v->g->holder) == 0 || (time_t)expires <= v->now ||
		dg_holder_dead(v->g, holder))
		return 0;
	if (strcmp(kind, "lease") == 0)
		v->leases++;
	else if (strcmp(kind, "delete") == 0)
		v->markers++;
	return 0;
}

/* Live lock objects of others in space's lock folder. */
static int dg_lock_scan(dg_ctx *g, store *s, const char *space, dg_lock_view *v, dg_error *e)
{
	char dir[DG_MAX_KEY + 1];

	s->ops->lock_dir(s, space, dir, sizeof dir);
	memset(v, 0, sizeof *v);
	v->g = g;
	dg_holder(g);
	v->now = s->ops->now(s);
	return s->ops->list(s, dir, NULL, dg_lock_seen, v, e);
}

static int dg_same_store(const store *a, const store *b)
{
	return a->ops == b->ops && a->s3 == b->s3 && strcmp(a->bucket, b->bucket) == 0 &&
		strcmp(a->root, b->root) == 0;
}

/* Hold a lease on space for an upload of size bytes (see above). */
static int dg_lease_acquire(dg_ctx *g, store *s, const char *space, uint64_t size, dg_error *e)
{
	time_t need = DG_LOCK_MARGIN + (time_t)(size / DG_LEASE_RATE), now;
	char key[DG_MAX_KEY + 1];
	dg_lease *l;
	dg_lock_view v;
	int64_t waited = 0;
	int lapsed = 1;

	if (dg_locks_refused(g))
		return 0;
	for (l = g->leases; l; l = l->next)
		if (dg_same_store(&l->s, s) && strcmp(l->space, space) == 0)
			break;
	if (l && l->expires >= s->ops->now(s) + need)
		return 0;
	/* Expiry times are by the store's clock. Before its first answer ours
	 * stands in; the PUT's answer tells how far off it was, and a lease
	 * dated too early is put again. */
	for (;;) {
		time_t guess = s->ops->now(s);

		now = guess ? guess : time(NULL);
		if (dg_lock_put(g, s, space, "lease", now + need + DG_LEASE_TTL, key, sizeof key, e) < 0)
			return dg_lock_denied(g, e) ? 0 : -1;
		if (guess || s->ops->now(s) == 0 || s->ops->now(s) <= now + DG_LOCK_MARGIN)
			break;
		{
			dg_error ignore;

			s->ops->del(s, key, &ignore);
		}
	}
	if (l) {
		/* Renewed: the new lease is up before the old goes. If the old had
		 * lapsed, a delete may have started meanwhile: look, as when new. */
		dg_error ignore;

		lapsed = l->expires <= now + DG_LOCK_MARGIN;
		if (s->ops->del(s, l->key, &ignore) < 0)
			sys_logf(g->log, DG_LOG_DEBUG, "could not remove old lease %s: %s", l->key, ignore.msg);
	} else if ((l = calloc(1, sizeof *l)) == NULL) {
		dg_error ignore;

		s->ops->del(s, key, &ignore);
		return sys_fail(e, DG_ENOMEM, "out of memory");
	} else {
		l->s = *s;
		sys_strlcpy(l->space, space, sizeof l->space);
		l->next = g->leases;
		g->leases = l;
	}
	sys_strlcpy(l->key, key, sizeof l->key);
	l->expires = now + need + DG_LEASE_TTL;
	if (!lapsed)
		return 0;
	/* A delete that started before our lease was up may not have seen it:
	 * let it finish before looking at the reference. */
	for (;;) {
		if (dg_lock_scan(g, s, space, &v, e) < 0)
			return -1;
		if (v.markers == 0)
			return 0;
		if (waited == 0)
			sys_logf(g->log, DG_LOG_INFO, "waiting for a delete in %s to finish", space);
		if (waited > (DG_MARKER_TTL + DG_LOCK_MARGIN) * 1000)
			return sys_fail(e, DG_EIO, "a delete in %s does not finish", space);
		sys_sleep_ms(250);
		waited += 250;
	}
}

/* Release every lease: the end of a run (or of a library client). */
static void dg_close(dg_ctx *g)
{
	dg_lease *l, *next;

	for (l = g->leases; l; l = next) {
		dg_error ignore;

		next = l->next;
		if (l->s.ops->del(&l->s, l->key, &ignore) < 0)
			sys_logf(g->log, DG_LOG_WARNING, "could not release lease %s: %s (it lapses by itself)",
				l->key, ignore.msg);
		free(l);
	}
	g->leases = NULL;
}

/* Release our leases in the spaces under prefix of s's store, a bucket
 * about to go: its removal must not find them (a file:// directory would
 * not be empty), nor dg_close look for them once it is gone. */
static void dg_lease_drop(dg_ctx *g, const store *s, const char *prefix)
{
	dg_lease **p = &g->leases, *l;
	size_t n = strlen(prefix);

	while ((l = *p) != NULL) {
		dg_error ignore;

		if (!dg_same_store(&l->s, s) || strncmp(l->space, prefix, n) != 0) {
			p = &l->next;
			continue;
		}
		*p = l->next;
		if (l->s.ops->del(&l->s, l->key, &ignore) < 0)
			sys_logf(g->log, DG_LOG_DEBUG, "could not release lease %s: %s", l->key,
				ignore.msg);
		free(l);
	}
}

/* ---- Upload -------------------------------------------------------------- */

static void dg_base_meta(sys_meta *m)
{
	sys_meta_init(m);
	sys_meta_set(m, "dg-tool", DG_TOOL);
}

/* ---- Object options: what uploads are written with (dg_config) ----
 *
 * aws s3 cp's --content-type, --metadata, --acl, --storage-class, --sse,
 * --cache-control... A delta or a direct upload carries them as the
 * original object would (its content type is the original's, guessed from
 * its name as aws does); a reference.bin, which nobody downloads, takes
 * only the storage class and the encryption. */

/* The types of /etc/mime.types, which Python's mimetypes (so aws s3 cp)
 * reads over its built-in table: the same guesses as aws on this host.
 * Read once per client (at its first guess), at most DG_MIME_FILE_MAX
 * bytes (a larger file is ignored); only tokens a header can carry are
 * kept. */
#define DG_MIME_FILE "/etc/mime.types"
#define DG_MIME_FILE_MAX (1u << 20)
#define DG_MIME_ENTRIES_MAX 16384

typedef struct dg_mime_ext {
	const char *ext;             /* without its dot, as in the file */
	const char *type;
	size_t order;                /* its place in the file: the last one wins, as in Python */
} dg_mime_ext;

typedef struct dg_mime_table {
	char *text;                  /* the file, its tokens cut in place */
	dg_mime_ext *e;              /* sorted by extension, then order */
	size_t n;
} dg_mime_table;

static int dg_mime_ext_cmp(const void *a, const void *b)
{
	const dg_mime_ext *x = a, *y = b;
	int c = strcasecmp(x->ext, y->ext);

	return c ? c : x->order < y->order ? -1 : x->order > y->order;
}

/* A token a Content-Type header or an extension may be: printable ASCII
 * of bounded length (the file may hold anything). */
static int dg_mime_token_ok(const char *t, size_t max)
{
	size_t n = 0;

	for (; t[n]; n++)
		if ((unsigned char)t[n] <= 0x20 || (unsigned char)t[n] > 0x7e || n >= max)
			return 0;
	return n > 0;
}

/* Cut the next whitespace-separated word of a line; NULL at its end. */
static char *dg_mime_word(char **p, char *end)
{
	char *w;

	while (*p < end && (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\v' ||
		**p == '\f'))
		(*p)++;
	if (*p >= end)
		return NULL;
	w = *p;
	while (*p < end && !(**p == ' ' || **p == '\t' || **p == '\r' || **p == '\v' ||
		**p == '\f'))
		(*p)++;
	if (*p < end)
		*(*p)++ = 0;
	return w;
}

/* Parse text (len bytes, NUL-terminated, taken over) as mime.types does:
 * "type ext ext ...", a word starting with # ends the line. */
static int dg_mime_parse(char *text, size_t len, dg_mime_table *t)
{
	char *p = text, *end = text + len;
	size_t cap = len / 2 + 1;    /* an extension and its separator take 2 bytes at least */

	memset(t, 0, sizeof *t);
	t->text = text;
	if (cap > DG_MIME_ENTRIES_MAX)
		cap = DG_MIME_ENTRIES_MAX;
	if ((t->e = calloc(cap, sizeof *t->e)) == NULL)
		return -1;
	while (p < end) {
		char *eol = memchr(p, '\n', (size_t)(end - p)), *type, *w;

		if (eol == NULL)
			eol = end;
		*eol = 0;
		type = dg_mime_word(&p, eol);
		if (type && *type != '#' && dg_mime_token_ok(type, 95) && strchr(type, '/'))
			while ((w = dg_mime_word(&p, eol)) && *w != '#' && t->n < cap)
				if (dg_mime_token_ok(w, 30)) {
					t->e[t->n] = (dg_mime_ext){ w, type, t->n };
					t->n++;
				}
		p = eol + 1;
	}
	qsort(t->e, t->n, sizeof *t->e, dg_mime_ext_cmp);
	return 0;
}

/* The type of ext ("deb") in t, the file's last word on it; NULL if none. */
static const char *dg_mime_find(const dg_mime_table *t, const char *ext)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {   /* the first entry not below ext */
		size_t mid = lo + (hi - lo) / 2;

		if (strcasecmp(t->e[mid].ext, ext) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == t->n || strcasecmp(t->e[lo].ext, ext) != 0)
		return NULL;
	while (lo + 1 < t->n && strcasecmp(t->e[lo + 1].ext, ext) == 0)
		lo++;
	return t->e[lo].type;
}

/* A client's table, read at its first guess; its workers share it. */
typedef struct dg_mime_types {
	pthread_mutex_t lock;
	int loaded;
	dg_mime_table t;
} dg_mime_types;

static void dg_mime_load(dg_mime_types *m)
{
	sys_buf b = { 0 };
	struct stat st;
	dg_error ignore;

	/* A regular file only: a FIFO or a device there would block or never end. */
	if (stat(DG_MIME_FILE, &st) < 0 || !S_ISREG(st.st_mode) ||
		sys_read_file(DG_MIME_FILE, DG_MIME_FILE_MAX, &b, &ignore) < 0 ||
		sys_buf_add(&b, "", 1) < 0 || dg_mime_parse(b.data, b.len - 1, &m->t) < 0) {
		sys_buf_free(&b);
		free(m->t.e);
		memset(&m->t, 0, sizeof m->t);
	}
	m->loaded = 1;
}

static void dg_mime_free(dg_mime_types *m)
{
	free(m->t.e);
	free(m->t.text);
	pthread_mutex_destroy(&m->lock);
}

/* The type aws s3 cp gives a name: Python's mimetypes, which it asks,
 * maps .tgz to .tar.gz, strips an encoding suffix (.gz, .bz2, .xz; case
 * matters, as there) and finds nothing for the bare compressed file; then
 * looks the extension up in /etc/mime.types, then in its built-in table.
 * Ours holds the common types of that table, for hosts without the file
 * (FROM scratch images): others get S3's default (binary/octet-stream), as
 * unknown names do with aws. */
static const char *dg_mime_type(dg_mime_types *m, const char *name)
{
	static const char *const types[][2] = {
		{ ".txt", "text/plain" }, { ".html", "text/html" }, { ".htm", "text/html" },
		{ ".css", "text/css" }, { ".js", "application/javascript" },
		{ ".json", "application/json" }, { ".xml", "text/xml" }, { ".csv", "text/csv" },
		{ ".md", "text/markdown" }, { ".png", "image/png" }, { ".jpg", "image/jpeg" },
		{ ".jpeg", "image/jpeg" }, { ".gif", "image/gif" }, { ".svg", "image/svg+xml" },
		{ ".webp", "image/webp" }, { ".ico", "image/vnd.microsoft.icon" },
		{ ".pdf", "application/pdf" }, { ".zip", "application/zip" },
		{ ".tar", "application/x-tar" }, { ".jar", "application/java-archive" },
		{ ".exe", "application/octet-stream" },
		{ ".bin", "application/octet-stream" }, { ".wasm", "application/wasm" },
		{ ".mp4", "video/mp4" }, { ".mp3", "audio/mpeg" }, { ".woff", "font/woff" },
		{ ".woff2", "font/woff2" }, { ".sh", "application/x-sh" }, { ".py", "text/x-python" },
	};
	static const char *const suffixes[][2] = { { ".tgz", ".tar.gz" }, { ".taz", ".tar.gz" },
		{ ".tz", ".tar.gz" }, { ".tbz2", ".tar.bz2" }, { ".txz", ".tar.xz" } };
	static const char *const encodings[] = { ".gz", ".bz2", ".xz", ".Z", ".br" };
	char base[DG_MAX_PATH];
	const char *dot, *type;
	size_t i, n, k;

	sys_strlcpy(base, sys_basename(name), sizeof base - 8);   /* room for .tar. */
	n = strlen(base);
	for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
		if (sys_ends_with_ci(base, suffixes[i][0])) {
			strcpy(base + n - strlen(suffixes[i][0]), suffixes[i][1]);
			break;
		}
	n = strlen(base);
	for (i = 0; i < sizeof encodings / sizeof encodings[0]; i++)
		if (n > (k = strlen(encodings[i])) && strcmp(base + n - k, encodings[i]) == 0) {
			base[n - k] = 0;
			break;
		}
	/* As os.path.splitext: leading dots (".bashrc") start no extension. */
	if ((dot = strrchr(base, '.')) == NULL || dot[1] == 0 ||
		(size_t)(dot - base) < strspn(base, "."))
		return NULL;
	pthread_mutex_lock(&m->lock);
	if (!m->loaded)
		dg_mime_load(m);
	pthread_mutex_unlock(&m->lock);
	if ((type = dg_mime_find(&m->t, dot + 1)))
		return type;
	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(dot, types[i][0]) == 0)
			return types[i][1];
	return NULL;
}

static void dg_hdr_add(sys_hdrs *h, const char *name, const char *value)
{
	if (value && *value && h->n < SYS_HDRS_MAX) {
		h->name[h->n] = name;
		h->value[h->n++] = value;
	}
}

/* The headers an object of name is written with; a reference takes the
 * storage class and encryption only. In a copy, the source's headers
 * stand where the options give none. */
static void dg_object_hdrs(const dg_ctx *g, const char *name, int reference, sys_hdrs *h)
{
	const dg_config *c = g->cfg;
	const sys_object *o = g->copy_obj;

	h->n = 0;
	if (c == NULL)
		return;
	dg_hdr_add(h, "x-amz-storage-class", c->storage_class);
	dg_hdr_add(h, "x-amz-server-side-encryption", c->sse);
	dg_hdr_add(h, "x-amz-server-side-encryption-aws-kms-key-id", c->sse_kms_key_id);
	if (reference)
		return;
	dg_hdr_add(h, "Content-Type", c->content_type ? c->content_type :
		o && *o->content_type ? o->content_type :
		c->no_guess_mime_type ? NULL : dg_mime_type(g->mime, name));
	dg_hdr_add(h, "Cache-Control", c->cache_control ? c->cache_control :
		o ? o->cache_control : NULL);
	dg_hdr_add(h, "Content-Disposition", c->content_disposition ? c->content_disposition :
		o ? o->content_disposition : NULL);
	dg_hdr_add(h, "Content-Encoding", c->content_encoding ? c->content_encoding :
		o ? o->content_encoding : NULL);
	dg_hdr_add(h, "Expires", c->expires ? c->expires : o ? o->expires : NULL);
	dg_hdr_add(h, "x-amz-acl", c->acl);
}

/* Is a metadata name one of DeltaGlider's, under any spelling? */
static int dg_meta_ours(const char *name)
{
	static const char *const fields[] = { "tool", "original-name", "source-name",
		"file-sha256", "file-size", "created-at", "note", "ref-key", "ref-sha256",
		"delta-size", "delta-cmd", "compression", "expires-at" };
	char dashed[64];
	size_t i;

	if (strncasecmp(name, "dg-", 3) == 0 || strncasecmp(name, "dg_", 3) == 0)
		return 1;
	for (i = 0; name[i] && i < sizeof dashed - 1; i++)
		dashed[i] = name[i] == '_' ? '-' : (char)tolower((unsigned char)name[i]);
	dashed[i] = 0;
	for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (strcmp(dashed, fields[i]) == 0)
			return 1;
	return 0;
}

/* --metadata as JSON, aws's other form ('{"k":"v","k2":"v2"}'). */
static int dg_user_meta_json(const char *spec, sys_meta *m, dg_error *e)
{
	sys_meta *js = malloc(sizeof *js);
	int rc = -1;

	if (js == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	if (sys_json_meta(spec, strlen(spec), js) < 0) {
		sys_fail(e, DG_EUSAGE, "--metadata: not a JSON object of strings (or too many "
			"or too long entries): %.80s", spec);
		goto done;
	}
	for (size_t i = 0; i < js->n; i++) {
		if (dg_meta_ours(js->name[i])) {
			sys_fail(e, DG_EUSAGE, "--metadata: %s is DeltaGlider's own name", js->name[i]);
			goto done;
		}
		if (js->name[i][0] == 0 || sys_meta_set(m, js->name[i], js->value[i]) < 0) {
			sys_fail(e, DG_EUSAGE, "--metadata: bad or too many entries at '%s'",
				js->name[i]);
			goto done;
		}
	}
	rc = 0;
done:
	free(js);
	return rc;
}

/* Add the user's metadata ("k=v,k2=v2", or a JSON object) to m; its
 * names may not be DeltaGlider's own. */
static int dg_user_meta(const char *spec, sys_meta *m, dg_error *e)
{
	char buf[SYS_META_SPACE], *item, *save = NULL;

	if (spec == NULL || *spec == 0)
		return 0;
	if (*spec == '{')
		return dg_user_meta_json(spec, m, e);
	if (sys_strlcpy(buf, spec, sizeof buf) >= sizeof buf)
		return sys_fail(e, DG_EUSAGE, "--metadata is too long");
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');

		if (eq == NULL || eq == item)
			return sys_fail(e, DG_EUSAGE, "--metadata: '%s' is not KEY=VALUE", item);
		*eq = 0;
		if (dg_meta_ours(item))
			return sys_fail(e, DG_EUSAGE, "--metadata: %s is DeltaGlider's own name", item);
		if (sys_meta_set(m, item, eq + 1) < 0)
			return sys_fail(e, DG_EUSAGE, "--metadata: bad or too many entries at '%s'", item);
	}
	return 0;
}

/* The user metadata an object is written with: the options', or in a
 * copy the source's. */
static int dg_object_user_meta(const dg_ctx *g, sys_meta *m, dg_error *e)
{
	const sys_meta *from = g->copy_meta;

	if (g->cfg && g->cfg->metadata)
		return dg_user_meta(g->cfg->metadata, m, e);
	for (size_t i = 0; from && i < from->n; i++)
		if (!dg_meta_ours(from->name[i]) && sys_meta_set(m, from->name[i], from->value[i]) < 0)
			return sys_fail(e, DG_EUSAGE, "too much metadata to copy (%s)", from->name[i]);
	return 0;
}

/* Options a client is opened with, checked once: header values in ASCII
 * without line breaks, metadata well formed. */
static int dg_check_object_options(const dg_config *c, dg_error *e)
{
	time_t t;
	const char *v[] = { c->content_type, c->acl, c->storage_class, c->sse, c->sse_kms_key_id,
		c->cache_control, c->content_disposition, c->content_encoding, c->expires };
	sys_meta m;

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		for (const char *p = v[i]; p && *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				return sys_fail(e, DG_EUSAGE, "object options (--content-type, --acl, "
					"--cache-control, ...) take printable ASCII, not byte 0x%02x",
					(unsigned char)*p);
	if (c->sse && strcmp(c->sse, "AES256") != 0 && strcmp(c->sse, "aws:kms") != 0)
		return sys_fail(e, DG_EUSAGE, "--sse takes AES256 or aws:kms, not %s", c->sse);
	if (c->expires && *c->expires && sys_time_parse(c->expires, &t) < 0)
		return sys_fail(e, DG_EUSAGE, "--expires takes an HTTP date (Wed, 21 Oct 2037 "
			"07:28:00 GMT) or ISO 8601 in UTC (2037-10-21T07:28:00Z), not '%s'", c->expires);
	if (c->sse && c->sse_c)
		return sys_fail(e, DG_EUSAGE, "--sse and --sse-c exclude each other");
	sys_meta_init(&m);
	return dg_user_meta(c->metadata, &m, e);
}

static int dg_direct_meta(sys_meta *m, const char *key, uint64_t size, const char *sha,
	dg_error *e)
{
	char now[32], sz[24];

	dg_now(now, 0);   /* Python writes direct uploads' time without the Z */
	snprintf(sz, sizeof sz, "%" PRIu64, size);
	dg_base_meta(m);
	if (dg_meta_set(m, "original-name", sys_basename(key), e) < 0 ||
		dg_meta_set(m, "file-sha256", sha, e) < 0 || dg_meta_set(m, "file-size", sz, e) < 0 ||
		dg_meta_set(m, "created-at", now, e) < 0 || dg_meta_set(m, "compression", "none", e) < 0)
		return -1;
	return 0;
}

/* The file stored whole (directly or as the reference): what goes up is
 * the object's progress. */
static int dg_put_whole(dg_ctx *g, store *s, const char *key, int fd, uint64_t size,
	const char *sha, const sys_meta *m, int flags, dg_error *e)
{
	int rc;

	dg_progress_step(g, 1);
	rc = s->ops->put_file(s, key, fd, size, sha, m, flags, e);
	dg_progress_step(g, 0);
	return rc;
}

static int dg_put_direct(dg_ctx *g, store *s, const char *key, int fd, uint64_t size,
	const char *sha, dg_put_result *res, dg_error *e)
{
	sys_hdrs h;
	sys_meta m;

	if (dg_direct_meta(&m, key, size, sha, e) < 0 || dg_object_user_meta(g, &m, e) < 0)
		return -1;
	dg_object_hdrs(g, key, 0, &h);
	m.hdrs = &h;
	if (dg_put_whole(g, s, key, fd, size, sha, &m, 0, e) < 0)
		return -1;
	res->kind = DG_PUT_DIRECT;
	res->stored = size;
	return 0;
}

/* One upload in progress: what each of its steps needs. */
typedef struct dg_upload {
	dg_ctx *g;
	store *s;
	const char *key;             /* the logical object */
	const char *name;            /* its base name */
	char prefix[DG_MAX_KEY + 1]; /* its DeltaSpace */
	char ref_key[DG_MAX_KEY + 16];
	char ref_sha[65];            /* the reference's, once known */
	uint64_t ref_size;
	char sha[65];                /* the file's, once known */
	int fd;
	dg_put_result *res;
	dg_ref_stream *stream;       /* the reference still arriving, if it is */
} dg_upload;

static int dg_put_delta_object(const dg_upload *u, int delta_fd, const delta_result *dr,
	int zero_diff, int archive, dg_error *e)
{
	char delta_key[DG_MAX_KEY + 8], now[32], sz[24], dsz[24], cmd[DG_MAX_KEY + 64];
	sys_hdrs h;
	sys_meta m;

	if (u->stream && dg_ref_stream_wait(u->stream, e) < 0)
		return -1;
	snprintf(delta_key, sizeof delta_key, "%s" DG_DELTA_SFX, u->key);
	dg_now(now, 1);
	snprintf(sz, sizeof sz, "%" PRIu64, dr->target_size);
	snprintf(dsz, sizeof dsz, "%" PRIu64, dr->delta_size);
	if (archive)
		snprintf(cmd, sizeof cmd, "deltaglider %s: xdelta3 of the expanded forms of "
			"reference.bin and %s", DG_ARC_FORMAT, u->name);
	else
		snprintf(cmd, sizeof cmd, "xdelta3 -e -%d -s reference.bin %s %s.delta",
			u->g->level, u->name, u->name);
	dg_base_meta(&m);
	if (dg_meta_set(&m, "original-name", u->name, e) < 0 ||
		dg_meta_set(&m, "file-sha256", u->sha, e) < 0 ||
		dg_meta_set(&m, "file-size", sz, e) < 0 || dg_meta_set(&m, "created-at", now, e) < 0 ||
		dg_meta_set(&m, "ref-key", u->ref_key, e) < 0 ||
		dg_meta_set(&m, "ref-sha256", u->ref_sha, e) < 0 ||
		dg_meta_set(&m, "delta-size", dsz, e) < 0 || dg_meta_set(&m, "delta-cmd", cmd, e) < 0 ||
		(zero_diff && dg_meta_set(&m, "note", "zero-diff (reference identical)", e) < 0) ||
		(archive && dg_meta_set(&m, "delta-format", DG_ARC_FORMAT, e) < 0) ||
		dg_object_user_meta(u->g, &m, e) < 0)
		return -1;
	dg_object_hdrs(u->g, u->name, 0, &h);
	m.hdrs = &h;
	return u->s->ops->put_file(u->s, delta_key, delta_fd, dr->delta_size, dr->delta_sha_hex, &m,
		0, e);
}

/* Encode the file against the reference src; 1 if the delta beats
 * max_ratio and was stored, 0 if not (the caller stores the file
 * directly). A zero-diff delta is the file against itself. */
static int dg_try_delta(dg_upload *u, const delta_src *src, int zero_diff, dg_error *e)
{
	dg_ctx *g = u->g;
	/* Against itself, a file matches at the same offsets: a small window
	 * finds everything, and its SHA-256 is already known. */
	delta_opts o = { u->name, DG_REFERENCE,
		zero_diff ? DELTA_ZERO_DIFF_WINDOW : g->window_max, !zero_diff, g->level, 0,
		dg_progress_add, g };
	delta_result dr;
	struct stat st;
	uint64_t held;
	int out, rc = -1;

	if (!zero_diff && fstat(u->fd, &st) == 0)
		o.max_delta = (uint64_t)(g->max_ratio * (double)st.st_size) + 1;
	if (o.max_delta) {
		int hopeless = delta_hopeless(src, u->fd, (uint64_t)st.st_size, o.max_delta,
			&u->res->over_delta, e);


		if (hopeless < 0)
			return -1;
		if (hopeless) {
			sys_logf(g->log, DG_LOG_INFO, "%s: compressed data that matches little of the "
				"reference: a delta would pass the %.2f limit; storing it directly", u->key,
				g->max_ratio);
			u->res->over_ratio = 1;
			return 0;
		}
	}
	out = dg_tmpfile(g, e);
	if (out < 0)
		return -1;
	held = dg_budget_take(g->budget, delta_encode_memory(src->size, o.window_max));
	dg_progress_step(g, 0);
	rc = delta_encode(src, u->fd, out, &o, &dr, e);
	dg_budget_give(g->budget, held);
	if (rc < 0) {
		sys_err_prefix(e, "delta encoding: ");
		goto done;
	}
	rc = -1;
	if (dr.over) {
		sys_logf(g->log, DG_LOG_INFO, "%s: delta passed %.2f of the file, the limit, after "
			"%" PRIu64 " bytes; storing it directly", u->key, g->max_ratio, dr.target_size);
		u->res->over_ratio = 1;
		u->res->over_delta = 0;
		rc = 0;
		goto done;
	}
	if (!zero_diff)
		crypto_hex(dr.target_sha, 32, u->sha);
	u->res->size = dr.target_size;
	if (!zero_diff && dr.target_size > 0 &&
		(double)dr.delta_size / (double)dr.target_size > g->max_ratio) {
		sys_logf(g->log, DG_LOG_INFO, "%s: delta is %.2f of the file, above the %.2f limit; "
			"storing it directly", u->key, (double)dr.delta_size / (double)dr.target_size,
			g->max_ratio);
		u->res->over_ratio = 1;
		u->res->over_delta = dr.delta_size;
		rc = 0;
		goto done;
	}
	if (dg_put_delta_object(u, out, &dr, zero_diff, 0, e) < 0)
		goto done;
	u->res->kind = zero_diff ? DG_PUT_REFERENCE : DG_PUT_DELTA;
	u->res->stored = dr.delta_size;
	rc = 1;
done:
	close(out);
	return rc;
}

/* ---- Archive-aware deltas ---------------------------------------------------
 *
 * With archive_deltas (--archive-deltas, DG_ARCHIVE_DELTAS=1, or the
 * profile's deltaglider_archive_deltas = true) a .gz, .tgz, .zip, .jar,
 * .whl ... whose deflate streams zlib regenerates exactly is stored as a
 * delta between the expanded forms of the reference and the file (§8):
 * NAME.delta as always (so listings, deletes and the reference's
 * bookkeeping are those of any delta, in this tool and in Python), with
 * dg-delta-format: archive-v1. The reference stays the file as uploaded.
 * The delta is decoded back and the rebuilt file's SHA-256 checked
 * before it is stored; otherwise, or when no stream is regenerable, the
 * file takes the byte delta path. The Python tool cannot read these: its
 * xdelta3 decodes against the unexpanded reference and fails (a window
 * checksum or the SHA-256 check), so it refuses them with an error and
 * writes nothing. */


static int dg_arc_eligible(const char *name)
{
	static const char *const sfx[] = { ".gz", ".tgz", ".zip", ".jar", ".war", ".ear", ".apk",
		".whl" };

	for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++)
		if (sys_ends_with_ci(name, sfx[i]))
			return 1;
	return 0;
}

/* Does an upload of name take the delta path? FORMAT.md's archives, and
 * with archive-aware deltas the other zip containers (.whl). */
static int dg_takes_delta(const dg_ctx *g, const char *name)
{
	return !g->no_delta && (dg_delta_eligible(name) || (g->archive_deltas && dg_arc_eligible(name)));
}

/* The reference's expanded form, in a temp file *fd, as a source (and
 * its streams in known, if not NULL). */
static int dg_arc_source(dg_ctx *g, const delta_src *ref, int *fd, delta_src *sx,
	delta_arc_known *known, dg_error *e)
{
	delta_arc_stats st;

	if ((*fd = dg_tmpfile(g, e)) < 0)
		return -1;
	if (delta_expand(ref, *fd, 0, known, &st, NULL, NULL, e) < 0) {
		sys_err_prefix(e, "expanding the reference: ");
		close(*fd);
		*fd = -1;
		return -1;
	}
	*sx = (delta_src){ delta_fd_read, fd, st.expanded };
	return 0;
}

/* Decode an archive-aware delta against the expanded reference sx,
 * rebuilding the file into out. */
static int dg_arc_decode(dg_ctx *g, const delta_src *sx, int delta_fd, const sys_sink *out,
	dg_error *e)
{
	delta_rebuild rb;
	sys_sink rs;
	uint64_t held;
	int rc;

	if (delta_rebuild_init(&rb, out, &rs, e) < 0)
		return -1;
	held = dg_budget_take(g->budget, delta_decode_memory(sx->size));
	rc = delta_decode(sx, delta_fd, &rs, g->tmpdir, g->path, e);
	dg_budget_give(g->budget, held);
	return delta_rebuild_end(&rb, rc == 0, e) < 0 || rc < 0 ? -1 : 0;
}

static void dg_arc_note(const dg_upload *u, const delta_arc_stats *ts, int level,
	const char *what)
{
	sys_logf(u->g->log, level, "%s: %" PRIu64 " of %" PRIu64 " deflate streams regenerated "
		"exactly, %" PRIu64 " unchanged: %s", u->key, ts->exact, ts->streams, ts->same, what);
}

/* 1 stored as an archive-aware delta, 0 if it cannot be or does not pay
 * (the caller tries a byte delta), -1 on an error. */
static int dg_try_archive(dg_upload *u, const delta_src *ref, dg_error *e)
{
	dg_ctx *g = u->g;
	delta_src self = { delta_fd_read, &u->fd, u->res->size }, sx;
	delta_opts o = { u->name, DG_REFERENCE, g->window_max, 0, g->level,
		(uint64_t)(g->max_ratio * (double)u->res->size) + 1, NULL, NULL };
	delta_arc_stats ts;
	delta_arc_known known = { NULL, 0, 0 };
	delta_result dr;
	dg_file_sink check;
	sys_sink cs;
	char got[65];
	uint64_t held, est;
	int tfd = -1, sfd = -1, out = -1, r, rc = -1;

	if (u->sha[0] == 0 && crypto_sha256_fd(u->fd, u->sha, &u->res->size, e) < 0)
		return -1;
	if ((tfd = dg_tmpfile(g, e)) < 0 || (r = delta_arc_probe(&self, tfd, e)) < 0)
		goto done;
	if (r == 0) {
		ts = (delta_arc_stats){ .streams = 1 };
		dg_arc_note(u, &ts, DG_LOG_INFO, "its first large stream is not one zlib makes (GNU "
			"gzip's, Node's, Info-ZIP's?); trying a byte delta");
		rc = 0;
		goto done;
	}
	/* The reference first: the file's streams it holds as they are stay so. */
	if (dg_arc_source(g, ref, &sfd, &sx, &known, e) < 0)
		goto done;
	dg_progress_step(g, 0);
	if (delta_expand(&self, tfd, 1, &known, &ts, dg_progress_add, g, e) < 0)
		goto done;
	if (ts.exact == 0) {
		dg_arc_note(u, &ts, DG_LOG_INFO, "no archive-aware delta; trying a byte delta");
		rc = 0;
		goto done;
	}
	if ((out = dg_tmpfile(g, e)) < 0 ||
		(r = delta_hopeless(&sx, tfd, ts.expanded, o.max_delta, &est, e)) < 0)
		goto done;
	if (r) {
		dg_arc_note(u, &ts, DG_LOG_INFO, "an archive-aware delta would pass the max ratio; "
			"trying a byte delta");
		rc = 0;
		goto done;
	}
	held = dg_budget_take(g->budget, delta_encode_memory(sx.size, o.window_max));
	r = delta_encode(&sx, tfd, out, &o, &dr, e);
	dg_budget_give(g->budget, held);
	if (r < 0) {
		sys_err_prefix(e, "archive-aware delta encoding: ");
		goto done;
	}
	if (dr.over) {
		dg_arc_note(u, &ts, DG_LOG_INFO, "the archive-aware delta passed the max ratio; "
			"trying a byte delta");
		rc = 0;
		goto done;
	}
	/* Decode it back, as a download will, before storing it. */
	dg_file_sink_init(&check, -1, "the rebuilt file", &cs);
	r = dg_arc_decode(g, &sx, out, &cs, e);
	dg_file_sink_hex(&check, got);
	dg_file_sink_end(&check);
	if (r < 0) {
		sys_err_prefix(e, "checking the archive-aware delta: ");
		goto done;
	}
	if (strcmp(got, u->sha) != 0) {
		dg_arc_note(u, &ts, DG_LOG_WARNING, "the archive-aware delta does not rebuild the "
			"file exactly; trying a byte delta");
		rc = 0;
		goto done;
	}
	dr.target_size = u->res->size;
	if (dg_put_delta_object(u, out, &dr, 0, 1, e) < 0)
		goto done;
	dg_arc_note(u, &ts, DG_LOG_INFO, "stored as an archive-aware delta");
	u->res->kind = DG_PUT_DELTA;
	u->res->archive = 1;
	u->res->stored = dr.delta_size;
	rc = 1;
done:
	free(known.hash);
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	if (out >= 0)
		close(out);
	return rc;
}

/* What dg_put_reference did. */
enum { DG_REF_LOST, DG_REF_STORED, DG_REF_CONTENDED };

/* Make the file this DeltaSpace's reference, then its own zero-diff delta
 * (the layout Python writes). The reference is created only if absent:
 * with a conditional write where the store honours one, else only by an
 * uploader that sees no other live lease here (see "Locks"). Returns
 * DG_REF_STORED; DG_REF_LOST when another writer's reference is there (the
 * caller encodes against it); DG_REF_CONTENDED when another uploader may be
 * creating one (the caller stores the file directly); or -1. */
static int dg_put_reference(dg_upload *u, dg_error *e)
{
	dg_ctx *g = u->g;
	store *s = u->s;
	uint64_t size = u->res->size;
	char now[32];
	const char *won;
	sys_hdrs h;
	sys_meta m, back;
	delta_src self = { delta_fd_read, &u->fd, size };
	int exclusive = s->ops->exclusive(s, size, e);

	if (exclusive < 0)
		return -1;
	if (!exclusive && !dg_locks_refused(g)) {
		dg_lock_view v;

		if (dg_lock_scan(g, s, u->prefix, &v, e) < 0)
			return -1;
		if (v.leases) {
			sys_logf(g->log, DG_LOG_INFO, "%s: another upload into %s may be creating its "
				"reference; storing this file as it is", u->key, u->prefix);
			return DG_REF_CONTENDED;
		}
	}
	dg_now(now, 1);
	dg_base_meta(&m);
	if (dg_meta_set(&m, "source-name", u->name, e) < 0 ||
		dg_meta_set(&m, "file-sha256", u->sha, e) < 0 ||
		dg_meta_set(&m, "created-at", now, e) < 0 || dg_meta_set(&m, "note", "reference", e) < 0)
		return -1;
	dg_object_hdrs(g, u->ref_key, 1, &h);
	m.hdrs = &h;
	if (dg_put_whole(g, s, u->ref_key, u->fd, size, u->sha, &m, STORE_IF_ABSENT, e) < 0) {
		if (e->code == DG_EEXIST)
			return DG_REF_LOST;
		sys_err_prefix(e, "reference %s: ", u->ref_key);
		return -1;
	}
	/* Read it back: a writer that does not take part in the protocol (the
	 * Python tool) may have replaced it; then its reference stands. */
	if (s->ops->head(s, u->ref_key, NULL, &back, e) < 0) {
		sys_err_prefix(e, "reference %s: ", u->ref_key);
		return -1;
	}
	won = dg_meta(&back, "file-sha256");
	if (won == NULL || strcasecmp(won, u->sha) != 0)
		return DG_REF_LOST;
	dg_cache_local(g, u->fd, u->sha);
	sys_strlcpy(u->ref_sha, u->sha, sizeof u->ref_sha);
	if (dg_try_delta(u, &self, 1, e) < 0) {
		/* Don't leave a reference nothing uses; keep the first error. */
		dg_error ignore;

		dg_cleanup_reference(g, s, u->prefix, &ignore);
		return -1;
	}
	u->res->stored += size;
	return DG_REF_STORED;
}

/* The DeltaSpace's reference: found (0, ref_sha set), or made from this
 * file (DG_REF_STORED), or being made by another uploader
 * (DG_REF_CONTENDED); -1 on an error. */
static int dg_settle_reference(dg_upload *u, dg_error *e)
{
	store *s = u->s;
	sys_object ro;
	sys_meta rm;
	const char *v;
	int tries, r;

	for (tries = 0;; tries++) {
		if (s->ops->head(s, u->ref_key, &ro, &rm, e) == 0) {
			v = dg_meta(&rm, "file-sha256");
			if (!crypto_is_sha_hex(v))
				return sys_fail(e, DG_EINTEGRITY, "reference %s has no valid file-sha256 "
					"metadata", u->ref_key);
			sys_strlcpy(u->ref_sha, v, sizeof u->ref_sha);
			u->ref_size = ro.size;
			return 0;
		}
		if (e->code != DG_ENOTFOUND)
			return -1;
		if (tries == 3)
			return sys_fail(e, DG_EIO, "reference %s keeps appearing and disappearing",
				u->ref_key);
		if (u->sha[0] == 0 && crypto_sha256_fd(u->fd, u->sha, &u->res->size, e) < 0)
			return -1;
		r = dg_put_reference(u, e);
		if (r != DG_REF_LOST)
			return r;
	}
}

/* The delta path: 1 stored as a delta (or as the new reference), 0 to be
 * stored directly, -1 on an error. The lease comes before the first look
 * at the reference: a delete that misses it is one we wait for. */
static int dg_encode_against(dg_upload *u, const delta_src *src, dg_error *e)
{
	int r = u->g->archive_deltas && dg_arc_eligible(u->name) ? dg_try_archive(u, src, e) : 0;

	return r == 0 ? dg_try_delta(u, src, 0, e) : r;
}

static int dg_put_as_delta(dg_upload *u, dg_error *e)
{
	dg_ref_stream rs;
	cache_ref ref;
	dg_error fe;
	int r, ok;

	snprintf(u->ref_key, sizeof u->ref_key, "%s" DG_REFERENCE, u->prefix);
	if (dg_lease_acquire(u->g, u->s, u->prefix, u->res->size, e) < 0 ||
		(r = dg_settle_reference(u, e)) < 0)
		return -1;
	if (r == DG_REF_STORED || r == DG_REF_CONTENDED)
		return r == DG_REF_STORED;
	if ((r = cache_get(u->g->cache, u->ref_sha, &ref, e)) < 0)
		return -1;
	if (r == 0) {
		if (dg_ref_stream_start(&rs, u->g, u->s, u->ref_key, u->ref_sha, u->ref_size)) {
			/* A delta is stored only once the reference proved whole
			 * (dg_put_delta_object waits); if it did not, fetch it again. */
			u->stream = &rs;
			r = dg_encode_against(u, &rs.src, e);
			u->stream = NULL;
			ok = dg_ref_stream_wait(&rs, &fe) == 0;
			dg_ref_stream_end(&rs);
			if (ok)
				return r;
			/* Even a file about to go whole: a bad reference fails it, as
			 * the fetch below decides. */
			sys_logf(u->g->log, DG_LOG_INFO, "%s; fetching it again", fe.msg);
		}
		if (dg_reference(u->g, u->s, u->ref_key, u->ref_sha, &ref, e) < 0)
			return -1;
	}
	r = dg_encode_against(u, &ref.src, e);
	cache_release(&ref);
	return r;
}

/* Upload the file open on fd as the logical object key. A copy stored
 * the other way (an older version's delta, or a direct object) would
 * shadow it, and goes. */
static int dg_put_object(dg_upload *u, dg_error *e)
{
	dg_ctx *g = u->g;
	store *s = u->s;
	char other[DG_MAX_KEY + 8];
	int r = 0;

	if (dg_takes_delta(g, u->name) && (r = dg_put_as_delta(u, e)) < 0)
		return -1;
	if (r == 1)
		return s->ops->head(s, u->key, NULL, NULL, e) == 0 ? s->ops->del(s, u->key, e) : 0;
	if ((u->sha[0] == 0 && crypto_sha256_fd(u->fd, u->sha, &u->res->size, e) < 0) ||
		dg_put_direct(g, s, u->key, u->fd, u->res->size, u->sha, u->res, e) < 0)
		return -1;
	if (!dg_takes_delta(g, u->name))
		return 0;
	snprintf(other, sizeof other, "%s" DG_DELTA_SFX, u->key);
	if (s->ops->head(s, other, NULL, NULL, e) == 0 &&
		(s->ops->del(s, other, e) < 0 || dg_cleanup_reference(g, s, u->prefix, e) < 0))
		return -1;
	return 0;
}

static int dg_put_fd(dg_ctx *g, store *s, const char *key, int fd, dg_put_result *res,
	dg_error *e)
{
	dg_upload u = { .g = g, .s = s, .key = key, .fd = fd, .res = res };
	struct stat st;
	int rc;

	memset(res, 0, sizeof *res);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return sys_fail(e, DG_EIO, "not a regular file");
	dg_split(key, u.prefix, sizeof u.prefix, &u.name);
	if (strcmp(u.name, DG_REFERENCE) == 0 || sys_ends_with_ci(u.name, DG_DELTA_SFX))
		return sys_fail(e, DG_EUSAGE, "the name %s is reserved by DeltaGlider", u.name);
	res->size = (uint64_t)st.st_size;
	dg_progress_begin(g, res->size);
	rc = dg_put_object(&u, e);
	dg_progress_end(g, rc == 0);
	return rc;
}

static int dg_put(dg_ctx *g, store *s, const char *key, const char *path, dg_put_result *res,
	dg_error *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return sys_fail_errno(e, errno == ENOENT ? DG_ENOTFOUND : DG_EIO, errno,
			"cannot open %s", path);
	rc = dg_put_fd(g, s, key, fd, res, e);
	if (rc < 0 && strcmp(e->msg, "not a regular file") == 0)
		sys_fail(e, DG_EIO, "%s is not a regular file", path);
	close(fd);
	return rc;
}

/* ---- Download and verify ---------------------------------------------------- */

/* Required delta fields, per FORMAT.md; the sizes must be integers. */
static int dg_check_delta_meta(const sys_meta *m, const char *key, dg_error *e)
{
	static const char *const need[] = { "tool", "original-name", "file-sha256", "file-size",
		"created-at", "ref-key", "ref-sha256", "delta-size" };
	uint64_t n;
	size_t i;

	for (i = 0; i < sizeof need / sizeof need[0]; i++)
		if (dg_meta(m, need[i]) == NULL)
			return sys_fail(e, DG_EINTEGRITY, "delta %s lacks %s metadata", key, need[i]);
	if (sys_parse_u64(dg_meta(m, "file-size"), &n) < 0 ||
		sys_parse_u64(dg_meta(m, "delta-size"), &n) < 0)
		return sys_fail(e, DG_EINTEGRITY, "delta %s has a non-integer size in its metadata", key);
	if (!crypto_is_sha_hex(dg_meta(m, "file-sha256")) || !crypto_is_sha_hex(dg_meta(m, "ref-sha256")))
		return sys_fail(e, DG_EINTEGRITY, "delta %s has a malformed SHA-256 in its metadata", key);
	return 0;
}

/* Reconstruct delta_key (a .delta object with metadata m) into out. */
static int dg_hydrate(dg_ctx *g, store *s, const char *delta_key, const sys_meta *m,
	const sys_sink *out, dg_error *e)
{
	char ref_sha[65];
	const char *ref_key = dg_meta(m, "ref-key"), *format = dg_meta(m, "delta-format");
	cache_ref ref;
	dg_file_sink ds;
	sys_sink dsink;
	delta_src sx;
	uint64_t held;
	int dfd, sfd = -1, rc = -1;

	if (dg_check_delta_meta(m, delta_key, e) < 0)
		return -1;
	if (format && strcmp(format, DG_ARC_FORMAT) != 0)
		return sys_fail(e, DG_EINTEGRITY, "delta %s is in format %s, which this deltaglider "
			"cannot read", delta_key, format);
	sys_strlcpy(ref_sha, dg_meta(m, "ref-sha256"), sizeof ref_sha);
	for (char *p = ref_sha; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (dg_reference(g, s, ref_key, ref_sha, &ref, e) < 0)
		return -1;
	dfd = dg_tmpfile(g, e);
	if (dfd < 0)
		goto done;
	dg_file_sink_init(&ds, dfd, "the delta", &dsink);
	rc = s->ops->get(s, delta_key, &dsink, NULL, NULL, e);
	dg_file_sink_end(&ds);
	if (rc < 0)
		goto done;
	if (format) {
		rc = dg_arc_source(g, &ref.src, &sfd, &sx, NULL, e) < 0 ? -1 :
			dg_arc_decode(g, &sx, dfd, out, e);
	} else {
		held = dg_budget_take(g->budget, delta_decode_memory(ref.src.size));
		rc = delta_decode(&ref.src, dfd, out, g->tmpdir, g->path, e);
		dg_budget_give(g->budget, held);
	}
	if (rc < 0) {
		sys_err_prefix(e, "%s: ", delta_key);
		goto done;
	}
done:
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	cache_release(&ref);
	return rc;
}

/* A sink that counts what passes, rewindable only if what it feeds is. */
typedef struct dg_counted {
	const sys_sink *out;
	uint64_t n;
} dg_counted;

static int dg_counted_write(void *ctx, const unsigned char *p, size_t n, dg_error *e)
{
	dg_counted *c = ctx;

	c->n += n;
	return c->out->write(c->out->ctx, p, n, e);
}

static int dg_counted_reset(void *ctx, dg_error *e)
{
	dg_counted *c = ctx;

	c->n = 0;
	return c->out->reset(c->out->ctx, e);
}

/* What a fetch found out about the object it read (its stored content type
 * and metadata): a copy passes them on. */
struct dg_found {
	int have;
	sys_object obj;
	sys_meta meta;
};

static void dg_found_set(dg_ctx *g, const sys_object *obj, const sys_meta *m)
{
	if (g->found) {
		g->found->obj = *obj;
		sys_meta_init(&g->found->meta);   /* entries point into their own space */
		for (size_t i = 0; i < m->n; i++)
			sys_meta_set(&g->found->meta, m->name[i], m->value[i]);
		g->found->have = 1;
	}
}

/* An object as it is stored, with the SHA-256 its metadata promises (if
 * any) in want_sha: one GET, no HEAD first, since most downloads are of
 * whole objects. A truncated answer fails the SHA-256 check or the size
 * in the metadata; a plain S3 object has neither, so a HEAD afterwards
 * says how big it is: a well-framed but short answer is a truncation. */
static int dg_get_whole(dg_ctx *g, store *s, const char *key, const sys_sink *out,
	char want_sha[65], dg_error *e)
{
	dg_counted cnt = { out, 0 };
	sys_sink sink = { dg_counted_write, out->reset ? dg_counted_reset : NULL, &cnt };
	sys_object obj;
	sys_meta m;
	const char *v;
	uint64_t size;

	if (s->ops->get(s, key, &sink, &obj, &m, e) < 0)
		return -1;
	dg_found_set(g, &obj, &m);
	v = dg_meta(&m, "file-sha256");
	if (v && !crypto_is_sha_hex(v))
		return sys_fail(e, DG_EINTEGRITY, "%s has a malformed SHA-256 in its metadata", key);
	if (v)
		sys_strlcpy(want_sha, v, 65);
	if (!((v = dg_meta(&m, "file-size")) && sys_parse_u64(v, &size) == 0)) {
		if (want_sha[0])
			return 0;
		if (s->ops->head(s, key, &obj, NULL, e) < 0)
			return -1;
		size = obj.size;
	}
	if (cnt.n != size)
		return sys_fail(e, DG_EINTEGRITY, "got %" PRIu64 " bytes, but the object has %"
			PRIu64 " (truncated answer)", cnt.n, size);
	return 0;
}

/* Stream the logical object key into out; *want_sha receives the SHA-256
 * the result must have ("" for plain S3 objects, which carry none); what
 * was found goes to g->found, when asked. */
static int dg_fetch(dg_ctx *g, store *s, const char *key, const sys_sink *out,
	char want_sha[65], dg_error *e)
{
	char delta_key[DG_MAX_KEY + 8];
	sys_object obj;
	sys_meta m;
	const char *sha;

	want_sha[0] = 0;
	if (!sys_ends_with_ci(key, DG_DELTA_SFX)) {
		if (dg_get_whole(g, s, key, out, want_sha, e) == 0)
			return 0;
		if (e->code != DG_ENOTFOUND)
			return -1;
	} else if (s->ops->head(s, key, &obj, &m, e) == 0) {
		/* A key named .delta: a delta asked for by its stored name, or an
		 * object whose own name ends so. */
		sha = dg_meta(&m, "file-sha256");
		if (sha && dg_meta(&m, "ref-key")) {
			dg_found_set(g, &obj, &m);
			return crypto_is_sha_hex(sha) ? dg_hydrate(g, s, key, &m, out, e) : sys_fail(e,
				DG_EINTEGRITY, "%s has a malformed SHA-256 in its metadata", key);
		}
		return dg_get_whole(g, s, key, out, want_sha, e);
	} else if (e->code != DG_ENOTFOUND) {
		return -1;
	}
	snprintf(delta_key, sizeof delta_key, "%s" DG_DELTA_SFX, key);
	if (s->ops->head(s, delta_key, &obj, &m, e) < 0) {
		if (e->code == DG_ENOTFOUND)
			sys_fail(e, DG_ENOTFOUND, "Object not found");
		return -1;
	}
	if (dg_check_delta_meta(&m, delta_key, e) < 0)
		return -1;
	dg_found_set(g, &obj, &m);
	sys_strlcpy(want_sha, dg_meta(&m, "file-sha256"), 65);
	return dg_hydrate(g, s, delta_key, &m, out, e);
}

/* A direct object that stays direct, copied server-side where the stores
 * allow it (S3 CopyObject, up to its 5 GiB limit), with the source's type
 * and user metadata unless the options give others: 1 when done, 0 when
 * it takes a rebuild. */
static int dg_copy_server(dg_ctx *g, store *src, const char *skey, store *dst,
	const char *dkey, dg_put_result *res, dg_error *e)
{
	sys_meta *m = malloc(2 * sizeof *m), *dm = m + 1;
	const char *sha;
	sys_object obj;
	sys_hdrs h;
	int rc = 0;

	if (m == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	if (src->ops->head(src, skey, &obj, m, e) < 0 || obj.size >= (5ull << 30) ||
		!crypto_is_sha_hex(sha = dg_meta(m, "file-sha256")) || dg_meta(m, "ref-key"))
		goto done;
	g->copy_obj = &obj;
	g->copy_meta = m;
	dg_object_hdrs(g, dkey, 0, &h);
	rc = dg_direct_meta(dm, dkey, obj.size, sha, e) < 0 || dg_object_user_meta(g, dm, e) < 0 ?
		-1 : 0;
	dm->hdrs = &h;
	if (rc == 0 && (rc = dst->ops->copy(dst, src, skey, dkey, dm, e)) == 0) {
		res->kind = DG_PUT_DIRECT;
		res->size = res->stored = obj.size;
		rc = 1;
	}
	g->copy_obj = NULL;
	g->copy_meta = NULL;
done:
	free(m);
	return rc;
}

/* Copy a logical object into another store (or key): server-side when it
 * stays direct, else reconstructed, verified and uploaded into the
 * destination's DeltaSpace, with the source's type and user metadata. */
static int dg_copy(dg_ctx *g, store *src, const char *skey, store *dst, const char *dkey,
	dg_put_result *res, dg_error *e)
{
	struct dg_found *found;
	int fd, rc;

	memset(res, 0, sizeof *res);
	if (dst->ops->copy && src->ops == dst->ops &&
		!dg_takes_delta(g, sys_basename(dkey)) &&
		(rc = dg_copy_server(g, src, skey, dst, dkey, res, e)) != 0) {
		if (rc < 0)
			return -1;
		dg_progress_begin(g, res->size);
		dg_progress_end(g, 1);
		return 0;
	}
	if ((found = malloc(sizeof *found)) == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	g->found = found;
	found->have = 0;
	fd = dg_fetch_tmp(g, src, skey, e);
	g->found = NULL;
	rc = -1;
	if (fd >= 0) {
		if (found->have) {
			g->copy_obj = &found->obj;
			g->copy_meta = &found->meta;
		}
		rc = dg_put_fd(g, dst, dkey, fd, res, e);
		g->copy_obj = NULL;
		g->copy_meta = NULL;
		close(fd);
	}
	free(found);
	return rc;
}

/* Give a finished temp file its final name and the permissions a new
 * file would have had (mkstemp creates 0600). */
static int dg_commit_file(const dg_ctx *g, int fd, const char *tmp, const char *path, dg_error *e)
{
	if (fchmod(fd, 0666 & ~g->umask) < 0 || fsync(fd) < 0)
		return sys_fail_errno(e, DG_EIO, errno, "cannot finish %s", path);
	if (rename(tmp, path) < 0)
		return sys_fail_errno(e, DG_EIO, errno, "cannot rename %s to %s", tmp, path);
	return 0;
}

static int dg_get(dg_ctx *g, store *s, const char *key, const char *path, dg_error *e)
{
	char tmp[DG_MAX_PATH], want[65], got[65];
	dg_file_sink fs;
	sys_sink sink;
	int fd, rc = -1;

	fd = sys_tmp_open(path, tmp, sizeof tmp, e);
	if (fd < 0)
		return -1;
	dg_file_sink_init(&fs, fd, tmp, &sink);
	fs.progress = g;
	dg_progress_begin(g, UINT64_MAX);
	if (dg_fetch(g, s, key, &sink, want, e) < 0)
		goto done;
	dg_file_sink_hex(&fs, got);
	if (want[0] && strcasecmp(want, got) != 0) {
		sys_fail(e, DG_EINTEGRITY, "SHA-256 mismatch: expected %s, got %s; nothing written",
			want, got);
		goto done;
	}
	if (dg_commit_file(g, fd, tmp, path, e) < 0)
		goto done;
	rc = 0;
done:
	dg_progress_end(g, 0);
	dg_file_sink_end(&fs);
	close(fd);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* Stream a logical object into fd (a pipe: no temp file, no rename) or
 * into next (fd -1); its SHA-256 is checked at the end, when the bytes
 * are already out. */
static int dg_get_stream(dg_ctx *g, store *s, const char *key, int fd, const sys_sink *next,
	dg_error *e)
{
	char want[65], got[65];
	dg_file_sink fs;
	sys_sink sink;

	dg_file_sink_init(&fs, fd, "the output", &sink);
	fs.next = next;
	fs.progress = g;
	sink.reset = NULL;   /* what went out cannot be taken back */
	dg_progress_begin(g, UINT64_MAX);
	if (dg_fetch(g, s, key, &sink, want, e) < 0)
		goto fail;
	dg_progress_end(g, 0);
	dg_file_sink_hex(&fs, got);
	dg_file_sink_end(&fs);
	if (want[0] && strcasecmp(want, got) != 0)
		return sys_fail(e, DG_EINTEGRITY, "SHA-256 mismatch: expected %s, got %s (the output "
			"is wrong)", want, got);
	return 0;
fail:
	dg_progress_end(g, 0);
	dg_file_sink_end(&fs);
	return -1;
}

static int dg_verify(dg_ctx *g, store *s, const char *key, char want[65], char got[65], dg_error *e)
{
	dg_file_sink fs;
	sys_sink sink;

	dg_file_sink_init(&fs, -1, "verify", &sink);
	if (dg_fetch(g, s, key, &sink, want, e) < 0) {
		dg_file_sink_end(&fs);
		return -1;
	}
	dg_file_sink_hex(&fs, got);
	dg_file_sink_end(&fs);
	if (want[0] == 0)
		return sys_fail(e, DG_EINTEGRITY, "not a DeltaGlider object: no SHA-256 to verify against");
	return strcasecmp(want, got) == 0 ? 1 : 0;
}

/* What a logical object is, as the Python SDK's ObjectInfo says it. */
static int dg_info(store *s, const char *key, dg_object_info *info, dg_error *e)
{
	char delta_key[DG_MAX_KEY + 8];
	sys_object obj;
	sys_meta m;
	const char *v;
	uint64_t size;

	memset(info, 0, sizeof *info);
	sys_strlcpy(info->key, key, sizeof info->key);
	if (s->ops->head(s, key, &obj, &m, e) < 0) {
		if (e->code != DG_ENOTFOUND || sys_ends_with_ci(key, DG_DELTA_SFX))
			return -1;
		snprintf(delta_key, sizeof delta_key, "%s" DG_DELTA_SFX, key);
		if (s->ops->head(s, delta_key, &obj, &m, e) < 0) {
			if (e->code == DG_ENOTFOUND)
				sys_fail(e, DG_ENOTFOUND, "Object not found");
			return -1;
		}
		if (dg_check_delta_meta(&m, delta_key, e) < 0)
			return -1;
		sys_strlcpy(info->key, delta_key, sizeof info->key);
	}
	info->stored = info->size = obj.size;
	info->mtime = obj.mtime;
	info->kind = DG_ENTRY_PLAIN;
	if (crypto_is_sha_hex(v = dg_meta(&m, "file-sha256")))
		sys_strlcpy(info->sha256, v, sizeof info->sha256);
	if ((v = dg_meta(&m, "ref-key")) && sys_ends_with_ci(info->key, DG_DELTA_SFX)) {
		info->kind = DG_ENTRY_DELTA;
		sys_strlcpy(info->reference_key, v, sizeof info->reference_key);
		if ((v = dg_meta(&m, "file-size")) && sys_parse_u64(v, &size) == 0)
			info->size = size;
	}
	info->ratio = info->size ? (double)info->stored / (double)info->size : 0.0;
	return 0;
}

/* ---- Listing and deleting ----------------------------------------------------- */

/* The original sizes of deltas, from the file-size in their metadata:
 * HEADs run in parallel on the client's workers. */
#define DG_SIZE_GONE    UINT64_MAX           /* deleted since the listing */
#define DG_SIZE_UNKNOWN (UINT64_MAX - 1)     /* no file-size in its metadata */
#define DG_SIZE_UNASKED (UINT64_MAX - 2)     /* not HEADed (stats --sampled) */

typedef struct dg_heads {
	store *s;
	const char *const *keys;
	uint64_t *size;
	store ws[DG_MAX_CONCURRENCY];            /* each thread's copy of s */
	unsigned char ready[DG_MAX_CONCURRENCY];
	pthread_mutex_t lock;
	int failed;
	dg_error err;                            /* the first HEAD that failed */
} dg_heads;

static void dg_heads_one(void *ctx, dg_client *w, unsigned slot, size_t i)
{
	dg_heads *h = ctx;
	store *s = slot ? &h->ws[slot] : h->s;
	sys_meta m;
	const char *v;
	dg_error e;

	if (slot && !h->ready[slot]) {
		dg_worker_store(w, h->s, s);
		h->ready[slot] = 1;
	}
	if (s->ops->head(s, h->keys[i], NULL, &m, &e) < 0) {
		if (e.code == DG_ENOTFOUND) {
			h->size[i] = DG_SIZE_GONE;
			return;
		}
		pthread_mutex_lock(&h->lock);
		if (!h->failed++)
			h->err = e;
		pthread_mutex_unlock(&h->lock);
		return;
	}
	/* A direct object whose own name ends in .delta (NOTES.DELTA) has a
	 * file-size but no reference: it keeps its name, as in the Python tool. */
	if (!(dg_meta(&m, "ref-key") && (v = dg_meta(&m, "file-size")) &&
		sys_parse_u64(v, &h->size[i]) == 0 && h->size[i] < DG_SIZE_UNKNOWN))
		h->size[i] = DG_SIZE_UNKNOWN;
}

static int dg_head_sizes(dg_ctx *g, store *s, const char *const *keys, size_t n,
	uint64_t *size, dg_error *e)
{
	dg_heads *h;
	size_t i;
	int rc = 0;

	if (n == 0)
		return 0;
	if ((h = calloc(1, sizeof *h)) == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	h->s = s;
	h->keys = keys;
	h->size = size;
	pthread_mutex_init(&h->lock, NULL);
	if (g->client)
		dg_parallel(g->client, n, dg_heads_one, h);
	else
		for (i = 0; i < n; i++)
			dg_heads_one(h, NULL, 0, i);
	if (h->failed) {
		*e = h->err;
		rc = -1;
	}
	pthread_mutex_destroy(&h->lock);
	free(h);
	return rc;
}

/* Listed objects wait in batches, so the HEADs of their deltas run in
 * parallel; they are passed on in listing order. */
#define DG_LIST_BATCH 1000

typedef struct dg_list_item {
	char *key;                   /* as stored */
	uint64_t size, stored;
	time_t mtime;
	int kind;
} dg_list_item;

typedef struct dg_list_state {
	dg_ctx *g;
	store *s;
	dg_list_fn fn;
	void *ctx;
	dg_list_item items[DG_LIST_BATCH];
	size_t n, nheads;
	size_t head_item[DG_LIST_BATCH];
	const char *head_key[DG_LIST_BATCH];
	uint64_t head_size[DG_LIST_BATCH];
} dg_list_state;

/* HEAD the batch's deltas, then pass its entries on. */
static int dg_list_flush(dg_list_state *st, dg_error *e)
{
	size_t i;
	int rc = dg_head_sizes(st->g, st->s, st->head_key, st->nheads, st->head_size, e);

	for (i = 0; i < st->nheads; i++) {
		dg_list_item *it = &st->items[st->head_item[i]];

		if (st->head_size[i] == DG_SIZE_GONE) {
			it->kind = -1;
		} else if (st->head_size[i] != DG_SIZE_UNKNOWN) {
			it->size = st->head_size[i];
			it->key[strlen(it->key) - strlen(DG_DELTA_SFX)] = 0;   /* the original name */
			it->kind = DG_ENTRY_DELTA;
		}
	}
	for (i = 0; i < st->n; i++) {
		dg_list_item *it = &st->items[i];
		dg_entry ent = { it->key, it->size, it->stored, it->mtime, it->kind };

		if (rc == 0 && it->kind >= 0)
			rc = st->fn(st->ctx, &ent, e);
		free(it->key);
	}
	st->n = st->nheads = 0;
	return rc;
}

static int dg_list_one(void *ctx, const sys_object *o, dg_error *e)
{
	dg_list_state *st = ctx;
	const char *base = sys_basename(o->key);
	dg_list_item *it;

	if (strncmp(o->key, ".deltaglider/", 13) == 0 ||
		(!o->is_prefix && strcmp(base, DG_REFERENCE) == 0))
		return 0;
	it = &st->items[st->n];
	if ((it->key = strdup(o->key)) == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	it->size = it->stored = o->size;
	it->mtime = o->mtime;
	it->kind = o->is_prefix ? DG_ENTRY_PREFIX : DG_ENTRY_PLAIN;
	if (!o->is_prefix && sys_ends_with_ci(base, DG_DELTA_SFX)) {
		st->head_item[st->nheads] = st->n;
		st->head_key[st->nheads++] = it->key;
	}
	return ++st->n == DG_LIST_BATCH ? dg_list_flush(st, e) : 0;
}

/* The logical view: .delta objects under their original names and sizes,
 * reference.bin and .deltaglider/ hidden. */
static int dg_list(dg_ctx *g, store *s, const char *prefix, const char *delimiter,
	dg_list_fn fn, void *ctx, dg_error *e)
{
	dg_list_state *st = calloc(1, sizeof *st);
	int rc;
	size_t i;

	if (st == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	st->g = g;
	st->s = s;
	st->fn = fn;
	st->ctx = ctx;
	rc = s->ops->list(s, prefix, delimiter, dg_list_one, st, e);
	if (rc == 0)
		rc = dg_list_flush(st, e);
	for (i = 0; i < st->n; i++)   /* what a failure left */
		free(st->items[i].key);
	free(st);
	return rc;
}

typedef struct dg_count {
	uint64_t deltas;
} dg_count;

static int dg_count_delta(void *ctx, const sys_object *o, dg_error *e)
{
	(void)e;
	if (!o->is_prefix && sys_ends_with_ci(o->key, DG_DELTA_SFX))
		((dg_count *)ctx)->deltas++;
	return 0;
}

static int dg_deltas_in(store *s, const char *prefix, uint64_t *n, dg_error *e)
{
	dg_count c = { 0 };

	if (s->ops->list(s, prefix, "/", dg_count_delta, &c, e) < 0)
		return -1;
	*n = c.deltas;
	return 0;
}

/* Remove prefix's reference.bin when no delta in the prefix needs it and
 * no upload may be about to (the delete side of "Locks"). Returns 1 when
 * it was removed, 0 when it is kept or was not there. */
static int dg_cleanup_reference(dg_ctx *g, store *s, const char *prefix, dg_error *e)
{
	char ref_key[DG_MAX_KEY + 16], marker[DG_MAX_KEY + 1] = "";
	int64_t started = sys_now_ms();
	dg_lock_view v;
	uint64_t n;
	int rc = -1;

	if (dg_deltas_in(s, prefix, &n, e) < 0)
		return -1;
	if (n > 0)
		return 0;
	snprintf(ref_key, sizeof ref_key, "%s" DG_REFERENCE, prefix);
	if (s->ops->head(s, ref_key, NULL, NULL, e) < 0)
		return e->code == DG_ENOTFOUND ? 0 : -1;
	if (!dg_locks_refused(g) && dg_lock_put(g, s, prefix, "delete",
			s->ops->now(s) + DG_MARKER_TTL, marker, sizeof marker, e) < 0) {
		marker[0] = 0;
		if (!dg_lock_denied(g, e))
			return -1;
	}
	if (marker[0]) {
		if (dg_lock_scan(g, s, prefix, &v, e) < 0 || dg_deltas_in(s, prefix, &n, e) < 0)
			goto done;
		if (v.leases || n > 0 || sys_now_ms() - started > DG_MARKER_TTL * 1000 / 2) {
			sys_logf(g->log, DG_LOG_INFO, "keeping %s: %s", ref_key, v.leases ?
				"an upload may be using it" : n ? "a delta appeared" : "the delete took too long");
			rc = 0;
			goto done;
		}
	}
	sys_logf(g->log, DG_LOG_INFO, "removing %s: no delta needs it any more", ref_key);
	rc = s->ops->del(s, ref_key, e) < 0 ? -1 : 1;
done:
	if (marker[0]) {
		dg_error ignore;

		if (s->ops->del(s, marker, &ignore) < 0)
			sys_logf(g->log, DG_LOG_WARNING, "could not remove delete marker %s: %s (it lapses "
				"by itself)", marker, ignore.msg);
	}
	return rc;
}

typedef struct dg_spaces {
	sys_buf refs;                /* prefixes holding a reference.bin, NUL-separated */
} dg_spaces;

static int dg_spaces_one(void *ctx, const sys_object *o, dg_error *e)
{
	dg_spaces *sp = ctx;
	const char *base = sys_basename(o->key);

	if (o->is_prefix || strcmp(base, DG_REFERENCE) != 0 ||
		strncmp(o->key, ".deltaglider/", 13) == 0)
		return 0;
	if (sys_buf_add(&sp->refs, o->key, (size_t)(base - o->key)) < 0 ||
		sys_buf_add(&sp->refs, "", 1) < 0)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	return 0;
}

/* Remove every reference.bin below prefix that no delta needs: what a
 * first upload killed after its reference, or an interrupted delete, left. */
static int dg_cleanup_orphans(dg_ctx *g, store *s, const char *prefix, dg_error *e)
{
	dg_spaces sp = { { 0 } };
	const char *p;
	int rc = -1;

	if (s->ops->list(s, prefix, NULL, dg_spaces_one, &sp, e) < 0)
		goto done;
	for (p = sp.refs.data; p && p < sp.refs.data + sp.refs.len; p += strlen(p) + 1)
		if (dg_cleanup_reference(g, s, p, e) < 0)
			goto done;
	rc = 0;
done:
	sys_buf_free(&sp.refs);
	return rc;
}

static int dg_strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Delete many logical objects known from a listing (so no HEAD each):
 * batched deletes, then one reference check per DeltaSpace touched, made
 * even when some keys were refused (why, as del_many). */
static int dg_rm_many(dg_ctx *g, store *s, const dg_entry *ents, size_t n,
	char (*why)[DG_MAX_WHY], dg_error *e)
{
	char **raw = calloc(n ? n : 1, sizeof *raw), **spaces = calloc(n ? n : 1, sizeof *spaces);
	size_t i, nspaces = 0;
	dg_error refused;
	int some_refused = 0, rc = -1;

	if (raw == NULL || spaces == NULL) {
		sys_fail(e, DG_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		int delta = ents[i].kind == DG_ENTRY_DELTA;
		size_t len = strlen(ents[i].name) + sizeof DG_DELTA_SFX;

		raw[i] = malloc(len);
		if (raw[i] == NULL)
			goto oom;
		snprintf(raw[i], len, "%s%s", ents[i].name, delta ? DG_DELTA_SFX : "");
		if (delta && (spaces[nspaces++] = strndup(ents[i].name,
				(size_t)(sys_basename(ents[i].name) - ents[i].name))) == NULL)
			goto oom;
	}
	if (n && s->ops->del_many(s, (const char *const *)raw, n, why, e) < 0) {
		refused = *e;
		some_refused = 1;
	}
	qsort(spaces, nspaces, sizeof *spaces, dg_strcmp_p);
	for (i = 0; i < nspaces; i++)
		if ((i == 0 || strcmp(spaces[i], spaces[i - 1]) != 0) &&
			dg_cleanup_reference(g, s, spaces[i], e) < 0)
			break;
	if (some_refused)
		*e = refused;
	rc = some_refused || i < nspaces ? -1 : 0;
	goto done;
oom:
	sys_fail(e, DG_ENOMEM, "out of memory");
done:
	for (i = 0; raw && i < n; i++)
		free(raw[i]);
	for (i = 0; i < nspaces; i++)
		free(spaces[i]);
	free(raw);
	free(spaces);
	return rc;
}

static int dg_rm(dg_ctx *g, store *s, const char *key, dg_error *e)
{
	char prefix[DG_MAX_KEY + 1], delta_key[DG_MAX_KEY + 8];
	const char *name;
	uint64_t n;

	dg_split(key, prefix, sizeof prefix, &name);
	if (strcmp(name, DG_REFERENCE) == 0) {
		int r;

		if (dg_deltas_in(s, prefix, &n, e) < 0)
			return -1;
		if (n > 0)
			return sys_fail(e, DG_EINTEGRITY, "refusing to delete %s: %" PRIu64
				" deltas still need it", key, n);
		if ((r = dg_cleanup_reference(g, s, prefix, e)) != 0)
			return r < 0 ? -1 : 0;
		if (s->ops->head(s, key, NULL, NULL, e) == 0)
			return sys_fail(e, DG_EINTEGRITY, "refusing to delete %s: an upload may be using it",
				key);
	} else {
		snprintf(delta_key, sizeof delta_key, "%s" DG_DELTA_SFX, key);
		if (s->ops->head(s, delta_key, NULL, NULL, e) == 0) {
			if (s->ops->del(s, delta_key, e) < 0)
				return -1;
			return dg_cleanup_reference(g, s, prefix, e);
		}
		if (e->code != DG_ENOTFOUND)
			return -1;
	}
	if (s->ops->head(s, key, NULL, NULL, e) < 0) {
		if (e->code == DG_ENOTFOUND)
			sys_fail(e, DG_ENOTFOUND, "Object not found");
		return -1;
	}
	return s->ops->del(s, key, e);
}

/* ---- Bucket statistics ---------------------------------------------------
 *
 * As the Python tool computes them: one LIST always (it also validates the
 * cached result), then by mode no HEAD (quick: the original size of deltas
 * is unknown), one HEAD per DeltaSpace (sampled: its size stands for its
 * siblings) or one per delta (detailed). Results are cached in the bucket
 * at .deltaglider/stats_<mode>.json, valid while the listing's object count
 * and total size are unchanged. */

#define DG_STATS_VERSION "1.0"

typedef struct dg_stats_state {
	dg_ctx *g;
	store *s;
	dg_stats *st;
	uint64_t ref_bytes;
	sys_buf deltas;              /* delta keys, NUL-separated, for HEADs */
} dg_stats_state;

static int dg_stats_one(void *ctx, const sys_object *o, dg_error *e)
{
	dg_stats_state *ss = ctx;
	dg_stats *st = ss->st;
	const char *base = sys_basename(o->key);

	if (strncmp(o->key, ".deltaglider/", 13) == 0)
		return 0;
	st->list_count++;
	st->list_bytes += o->size;
	if (strcmp(base, DG_REFERENCE) == 0) {
		st->reference_objects++;
		ss->ref_bytes += o->size;
	} else if (sys_ends_with_ci(base, DG_DELTA_SFX)) {
		st->delta_objects++;
		st->compressed_size += o->size;
		if (sys_buf_add(&ss->deltas, o->key, strlen(o->key) + 1) < 0)
			return sys_fail(e, DG_ENOMEM, "out of memory");
	} else {
		st->direct_objects++;
		st->total_size += o->size;
		st->compressed_size += o->size;
	}
	return 0;
}

/* Original sizes of the deltas, by HEAD: every one, or one per DeltaSpace
 * (sampled: its size stands for its siblings'; where that HEAD finds no
 * size, the siblings are asked themselves). Listings come sorted, but
 * DeltaSpaces interleave with their subfolders: sampling keys on runs of
 * one folder, which is what matters. */
static int dg_stats_heads(dg_stats_state *ss, int sampled, dg_error *e)
{
	const char *end = ss->deltas.data + ss->deltas.len, *k, **keys = NULL, **ask = NULL;
	uint64_t *size = NULL, *got = NULL;
	size_t *run = NULL, n = 0, nask = 0, i, j;
	int rc = -1;

	for (k = ss->deltas.data; k && k < end; k += strlen(k) + 1)
		n++;
	keys = calloc(n + 1, sizeof *keys);
	ask = calloc(n + 1, sizeof *ask);
	size = calloc(n + 1, sizeof *size);
	got = calloc(n + 1, sizeof *got);
	run = calloc(n + 1, sizeof *run);
	if (keys == NULL || ask == NULL || size == NULL || got == NULL || run == NULL) {
		sys_fail(e, DG_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0, k = ss->deltas.data; i < n; i++, k += strlen(k) + 1) {
		keys[i] = k;
		run[i] = sampled && i && sys_same_dir(k, keys[i - 1]) ? run[i - 1] : i;
		size[i] = DG_SIZE_UNASKED;
	}
	/* Two rounds: the runs' first members, then the siblings of those
	 * that gave no size. */
	for (int round = 0; round < 2; round++) {
		nask = 0;
		for (i = 0; i < n; i++)
			if (round == 0 ? run[i] == i : run[i] != i && size[run[i]] >= DG_SIZE_UNKNOWN)
				ask[nask++] = keys[i];
		if (dg_head_sizes(ss->g, ss->s, ask, nask, got, e) < 0)
			goto done;
		for (i = 0, j = 0; i < n && j < nask; i++)
			if (keys[i] == ask[j])
				size[i] = got[j++];
	}
	for (i = 0; i < n; i++) {
		uint64_t v = size[i] == DG_SIZE_UNASKED ? size[run[i]] : size[i];

		if (size[i] == DG_SIZE_UNKNOWN)
			sys_logf(ss->g->log, DG_LOG_WARNING, "%s has no file-size metadata", keys[i]);
		if (v >= DG_SIZE_UNASKED)
			ss->st->unknown_deltas++;
		else
			ss->st->total_size += v;
	}
	rc = 0;
done:
	free(keys);
	free(ask);
	free(size);
	free(got);
	free(run);
	return rc;
}

static void dg_stats_finish(dg_stats *st)
{
	uint64_t saved = st->total_size > st->compressed_size ? st->total_size - st->compressed_size : 0;

	st->object_count = st->delta_objects + st->direct_objects;
	st->space_saved = st->total_size ? saved : 0;
	st->ratio = st->total_size ? (double)st->space_saved / (double)st->total_size : 0.0;
}

static const char *const dg_stats_modes[] = { "quick", "sampled", "detailed" };

static int dg_stats_read_cache(store *s, int mode, dg_stats *st, dg_error *e)
{
	char key[64], vs[16], ms[16];
	sys_buf js = { 0 };
	sys_sink sink = { sys_sink_buf_write, sys_sink_buf_reset, &js };
	jsmntok_t tok[64];
	jsmn_parser p;
	uint64_t count, bytes;
	dg_stats c = { 0 };
	int n, i, st_obj, val, ok = 0;

	snprintf(key, sizeof key, ".deltaglider/stats_%s.json", dg_stats_modes[mode]);
	if (s->ops->get(s, key, &sink, NULL, NULL, e) < 0) {
		sys_buf_free(&js);
		return e->code == DG_ENOTFOUND ? 0 : -1;
	}
	jsmn_init(&p);
	n = jsmn_parse(&p, js.data, js.len, tok, sizeof tok / sizeof tok[0]);
	if (n < 1)
		goto done;
	if ((i = sys_json_find(js.data, tok, n, 0, "version")) < 0 ||
		sys_json_string(js.data, &tok[i], vs, sizeof vs) < 0 || strcmp(vs, DG_STATS_VERSION) != 0 ||
		(i = sys_json_find(js.data, tok, n, 0, "mode")) < 0 ||
		sys_json_string(js.data, &tok[i], ms, sizeof ms) < 0 || strcmp(ms, dg_stats_modes[mode]) != 0)
		goto done;
	val = sys_json_find(js.data, tok, n, 0, "validation");
	st_obj = sys_json_find(js.data, tok, n, 0, "stats");
	if (sys_json_u64(js.data, tok, n, val, "object_count", &count) < 0 ||
		sys_json_u64(js.data, tok, n, val, "compressed_size", &bytes) < 0 ||
		count != st->list_count || bytes != st->list_bytes)
		goto done;
	if (sys_json_u64(js.data, tok, n, st_obj, "total_size", &c.total_size) < 0 ||
		sys_json_u64(js.data, tok, n, st_obj, "compressed_size", &c.compressed_size) < 0 ||
		sys_json_u64(js.data, tok, n, st_obj, "delta_objects", &c.delta_objects) < 0 ||
		sys_json_u64(js.data, tok, n, st_obj, "direct_objects", &c.direct_objects) < 0)
		goto done;
	st->total_size = c.total_size;
	st->compressed_size = c.compressed_size;
	st->delta_objects = c.delta_objects;
	st->direct_objects = c.direct_objects;
	st->unknown_deltas = mode == 0 ? c.delta_objects : 0;
	ok = 1;
done:
	sys_buf_free(&js);
	return ok;
}

static int dg_stats_write_cache(store *s, const char *bucket, int mode, const dg_stats *st,
	dg_error *e)
{
	char key[64], now[32];
	sys_buf js = { 0 };
	sys_meta m;
	int rc;

	snprintf(key, sizeof key, ".deltaglider/stats_%s.json", dg_stats_modes[mode]);
	dg_now(now, 0);
	sys_buf_printf(&js, "{\n  \"version\": \"%s\",\n  \"mode\": \"%s\",\n  \"computed_at\": "
		"\"%s+00:00\",\n  \"validation\": {\n    \"object_count\": %" PRIu64 ",\n"
		"    \"compressed_size\": %" PRIu64 "\n  },\n  \"stats\": {\n    \"bucket\": ",
		DG_STATS_VERSION, dg_stats_modes[mode], now, st->list_count, st->list_bytes);
	sys_json_escape(&js, bucket);
	sys_buf_printf(&js, ",\n    \"object_count\": %" PRIu64 ",\n    \"total_size\": %" PRIu64
		",\n    \"compressed_size\": %" PRIu64 ",\n    \"space_saved\": %" PRIu64
		",\n    \"average_compression_ratio\": %.6f,\n    \"delta_objects\": %" PRIu64
		",\n    \"direct_objects\": %" PRIu64 ",\n    \"object_limit_reached\": false\n  }\n}\n",
		st->object_count, st->total_size, st->compressed_size, st->space_saved, st->ratio,
		st->delta_objects, st->direct_objects);
	if (js.data == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	/* The same markers the Python tool puts on its cache objects. */
	sys_meta_init(&m);
	sys_meta_set(&m, "content-type", "application/json");
	sys_meta_set(&m, "x-deltaglider-cache", "true");
	rc = s->ops->put_mem(s, key, js.data, js.len, &m, 0, e);
	sys_buf_free(&js);
	return rc;
}

static int dg_stats_get(dg_ctx *g, store *s, const char *bucket, int mode, int use_cache,
	int refresh, dg_stats *st, dg_error *e)
{
	dg_stats_state ss = { g, s, st, 0, { 0 } };
	int rc = -1, r;

	memset(st, 0, sizeof *st);
	if (s->ops->list(s, "", NULL, dg_stats_one, &ss, e) < 0)
		goto done;
	if (use_cache && !refresh) {
		dg_stats listed = *st;

		r = dg_stats_read_cache(s, mode, st, e);
		if (r < 0)
			goto done;
		if (r == 1) {
			st->from_cache = 1;
			dg_stats_finish(st);
			rc = 0;
			goto done;
		}
		*st = listed;
	}
	if (mode == 0)
		st->unknown_deltas = st->delta_objects;
	else if (dg_stats_heads(&ss, mode == 1, e) < 0)
		goto done;
	if (st->delta_objects > 0)
		st->compressed_size += ss.ref_bytes;
	else if (st->reference_objects > 0)
		sys_logf(g->log, DG_LOG_WARNING, "%" PRIu64 " reference.bin file(s) of %" PRIu64
			" bytes are not used by any delta: consider deleting them",
			st->reference_objects, ss.ref_bytes);
	dg_stats_finish(st);
	if (use_cache && dg_stats_write_cache(s, bucket, mode, st, e) < 0)
		sys_logf(g->log, DG_LOG_WARNING, "could not write the stats cache: %s", e->msg);
	rc = 0;
done:
	sys_buf_free(&ss.deltas);
	return rc;
}

/* ---- purge: expired temporary objects -------------------------------------- */

typedef struct dg_purge_state {
	dg_ctx *g;
	store *s;
	int dry_run;
	time_t now;
	dg_purge_result *r;
	dg_list_fn fn;
	void *ctx;
	sys_meta meta;
} dg_purge_state;

static int dg_purge_one(void *ctx, const sys_object *o, dg_error *e)
{
	dg_purge_state *ps = ctx;
	dg_entry ent = { o->key, o->size, o->size, o->mtime, DG_ENTRY_PLAIN };
	const char *v;
	time_t exp;

	if (o->is_prefix)
		return 0;
	if (ps->s->ops->head(ps->s, o->key, NULL, &ps->meta, e) < 0)
		return e->code == DG_ENOTFOUND ? 0 : -1;
	v = dg_meta(&ps->meta, "expires-at");
	if (v == NULL || sys_time_parse(v, &exp) < 0 || exp > ps->now) {
		ps->r->kept++;
		return 0;
	}
	if (!ps->dry_run && ps->s->ops->del(ps->s, o->key, e) < 0)
		return -1;
	ps->r->deleted++;
	ps->r->bytes += o->size;
	return ps->fn ? ps->fn(ps->ctx, &ent, e) : 0;
}

/* Delete the objects under .deltaglider/tmp/ whose dg-expires-at passed;
 * fn hears of each one. */
static int dg_purge(dg_ctx *g, store *s, int dry_run, dg_purge_result *r, dg_list_fn fn,
	void *ctx, dg_error *e)
{
	dg_purge_state *ps = calloc(1, sizeof *ps);
	int rc;

	if (ps == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	memset(r, 0, sizeof *r);
	ps->g = g;
	ps->s = s;
	ps->dry_run = dry_run;
	ps->now = time(NULL);
	ps->r = r;
	ps->fn = fn;
	ps->ctx = ctx;
	rc = s->ops->list(s, ".deltaglider/tmp/", NULL, dg_purge_one, ps, e);
	free(ps);
	return rc;
}

/* ---- gc: what interrupted uploads and deletes leave behind --------------------
 *
 * Orphan references (no delta in their DeltaSpace) are removed through
 * the delete protocol, so one an upload is about to use stays. Deltas
 * whose reference is missing cannot be repaired and are reported, never
 * deleted. Multipart uploads older than max_age are aborted, and lock
 * objects past their expiry (or of dead holders on this host) removed. */

typedef struct dg_gc_space {
	char *prefix;
	int has_reference;
	uint64_t deltas;
} dg_gc_space;

typedef struct dg_gc_state {
	dg_ctx *g;
	store *s;
	int dry_run;
	time_t now, max_age;
	dg_gc_space *v;
	size_t n, cap;
	dg_gc_fn fn;
	void *ctx;
} dg_gc_state;

static int dg_gc_space_cmp(const void *a, const void *b)
{
	return strcmp(((const dg_gc_space *)a)->prefix, ((const dg_gc_space *)b)->prefix);
}

/* The record of the DeltaSpace holding key, made on first sight. */
static dg_gc_space *dg_gc_space_of(dg_gc_state *st, const char *key, dg_error *e)
{
	char prefix[DG_MAX_KEY + 1];
	const char *name;
	dg_gc_space want = { prefix, 0, 0 }, *hit;
	size_t at;

	dg_split(key, prefix, sizeof prefix, &name);
	/* Listings are sorted, so most lookups hit the last space seen. */
	if (st->n && strcmp(st->v[st->n - 1].prefix, prefix) == 0)
		return &st->v[st->n - 1];
	hit = st->n ? bsearch(&want, st->v, st->n, sizeof *st->v, dg_gc_space_cmp) : NULL;
	if (hit)
		return hit;
	if (st->n == st->cap) {
		dg_gc_space *grown = realloc(st->v, (st->cap = st->cap ? 2 * st->cap : 64) * sizeof *grown);

		if (grown == NULL) {
			sys_fail(e, DG_ENOMEM, "out of memory");
			return NULL;
		}
		st->v = grown;
	}
	for (at = st->n; at > 0 && strcmp(st->v[at - 1].prefix, prefix) > 0; at--)
		;
	memmove(st->v + at + 1, st->v + at, (st->n - at) * sizeof *st->v);
	st->v[at] = (dg_gc_space){ strdup(prefix), 0, 0 };
	st->n++;
	if (st->v[at].prefix == NULL) {
		sys_fail(e, DG_ENOMEM, "out of memory");
		return NULL;
	}
	return &st->v[at];
}

static int dg_gc_one(void *ctx, const sys_object *o, dg_error *e)
{
	dg_gc_state *st = ctx;
	const char *base = sys_basename(o->key);
	dg_gc_space *sp;

	if (o->is_prefix || strncmp(o->key, ".deltaglider/", 13) == 0)
		return 0;
	if (strcmp(base, DG_REFERENCE) != 0 && !sys_ends_with_ci(base, DG_DELTA_SFX))
		return 0;
	if ((sp = dg_gc_space_of(st, o->key, e)) == NULL)
		return -1;
	if (strcmp(base, DG_REFERENCE) == 0)
		sp->has_reference = 1;
	else
		sp->deltas++;
	return 0;
}

/* Deltas of a DeltaSpace without its reference: reported one by one. */
static int dg_gc_unreadable(void *ctx, const sys_object *o, dg_error *e)
{
	dg_gc_state *st = ctx;
	char ref_key[DG_MAX_KEY + 16];
	dg_gc_item it = { DG_GC_NO_REFERENCE, o->key, ref_key, 0 };

	if (o->is_prefix || !sys_ends_with_ci(o->key, DG_DELTA_SFX))
		return 0;
	snprintf(ref_key, sizeof ref_key, "%.*s" DG_REFERENCE,
		(int)(sys_basename(o->key) - o->key), o->key);
	return st->fn ? st->fn(st->ctx, &it, e) : 0;
}

static int dg_gc_upload(void *ctx, const s3_upload *up, dg_error *e)
{
	dg_gc_state *st = ctx;
	dg_gc_item it = { DG_GC_UPLOAD, up->key, up->id, up->initiated };

	if (up->initiated == 0 || st->now - up->initiated < st->max_age)
		return 0;
	if (!st->dry_run && st->s->ops->abort_upload(st->s, up->key, up->id, e) < 0) {
		sys_err_prefix(e, "aborting the upload of %s: ", up->key);
		return -1;
	}
	return st->fn ? st->fn(st->ctx, &it, e) : 0;
}

/* Lock objects past their expiry (plus a margin for clocks), of dead
 * holders on this host, and probe objects left by a killed run. */
static int dg_gc_lock(void *ctx, const sys_object *o, dg_error *e)
{
	dg_gc_state *st = ctx;
	dg_gc_item it = { DG_GC_LOCK, o->key, NULL, 0 };
	const char *name = sys_basename(o->key);
	long long expires;
	char kind[8];
	int n = 0, stale;

	if (o->is_prefix)
		return 0;
	if (strncmp(o->key, STORE_LOCKS, sizeof STORE_LOCKS - 1) == 0)
		stale = sscanf(name, "%7[a-z]-%lld-%n", kind, &expires, &n) == 2 && n > 0 &&
			((time_t)expires + DG_LOCK_MARGIN < st->now || dg_holder_dead(st->g, name + n));
	else
		stale = strncmp(o->key, ".deltaglider/probe-", 19) == 0 && o->mtime &&
			st->now - o->mtime > 3600;
	if (!stale)
		return 0;
	if (!st->dry_run && st->s->ops->del(st->s, o->key, e) < 0)
		return -1;
	return st->fn ? st->fn(st->ctx, &it, e) : 0;
}

static int dg_gc(dg_ctx *g, store *s, const char *prefix, int dry_run, time_t max_age,
	dg_gc_fn fn, void *ctx, dg_error *e)
{
	dg_gc_state st = { g, s, dry_run, 0, max_age, NULL, 0, 0, fn, ctx };
	size_t i;
	int rc = -1;

	dg_holder(g);
	if (s->ops->list(s, prefix, NULL, dg_gc_one, &st, e) < 0)
		goto done;
	st.now = s->ops->now(s);
	for (i = 0; i < st.n; i++) {
		dg_gc_space *sp = &st.v[i];
		char ref_key[DG_MAX_KEY + 16];
		dg_gc_item it = { DG_GC_ORPHAN, ref_key, NULL, 0 };
		int r = 1;

		snprintf(ref_key, sizeof ref_key, "%s" DG_REFERENCE, sp->prefix);
		if (sp->deltas == 0) {
			if (!dry_run && (r = dg_cleanup_reference(g, s, sp->prefix, e)) < 0)
				goto done;
			it.kind = r ? DG_GC_ORPHAN : DG_GC_KEPT;
			if (fn && fn(ctx, &it, e) < 0)
				goto done;
		} else if (!sp->has_reference &&
			s->ops->list(s, sp->prefix, "/", dg_gc_unreadable, &st, e) < 0) {
			goto done;
		}
	}
	if (s->ops->uploads && s->ops->uploads(s, prefix, dg_gc_upload, &st, e) < 0) {
		/* A server without ListMultipartUploads (s3rver) has none to abort. */
		if (e->http_status != 501)
			goto done;
		sys_logf(g->log, DG_LOG_WARNING, "the server cannot list multipart uploads (%s): none "
			"aborted", e->msg);
	}
	if (prefix[0] == 0 && s->ops->list(s, ".deltaglider/", NULL, dg_gc_lock, &st, e) < 0)
		goto done;
	rc = 0;
done:
	for (i = 0; i < st.n; i++)
		free(st.v[i].prefix);
	free(st.v);
	return rc;
}

/* ---- analyze: what DeltaGlider would save on a plain bucket ------------------ */

typedef struct dg_an_item {
	char *key;
	uint64_t size;
} dg_an_item;

typedef struct dg_an_state {
	dg_an_item *items;
	size_t n, cap;
	dg_analysis *total;
} dg_an_state;

static int dg_an_collect(void *ctx, const dg_entry *ent, dg_error *e)
{
	dg_an_state *st = ctx;

	if (ent->kind == DG_ENTRY_PREFIX)
		return 0;
	st->total->files++;
	st->total->bytes += ent->size;
	if (!dg_delta_eligible(sys_basename(ent->name))) {
		st->total->est_stored += ent->size;
		return 0;
	}
	if (st->n == st->cap) {
		dg_an_item *grown = realloc(st->items, (st->cap = st->cap ? 2 * st->cap : 256) * sizeof *grown);

		if (grown == NULL)
			return sys_fail(e, DG_ENOMEM, "out of memory");
		st->items = grown;
	}
	st->items[st->n].key = strdup(ent->name);
	if (st->items[st->n].key == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	st->items[st->n++].size = ent->size;
	return 0;
}

/* Group by DeltaSpace (the key's folder), then by name. */
static int dg_an_cmp(const void *a, const void *b)
{
	const char *x = ((const dg_an_item *)a)->key, *y = ((const dg_an_item *)b)->key;
	size_t dx = (size_t)(sys_basename(x) - x), dy = (size_t)(sys_basename(y) - y);
	int r = strncmp(x, y, dx < dy ? dx : dy);

	if (r == 0 && dx != dy)
		return dx < dy ? -1 : 1;
	return r ? r : strcmp(x, y);
}

/* Fetch a logical object into an unlinked temp file. */
static int dg_fetch_tmp(dg_ctx *g, store *s, const char *key, dg_error *e)
{
	dg_file_sink fs;
	sys_sink sink;
	char want[65], got[65];
	int fd = dg_tmpfile(g, e);

	if (fd < 0)
		return -1;
	dg_file_sink_init(&fs, fd, "a temporary file", &sink);
	if (dg_fetch(g, s, key, &sink, want, e) < 0)
		goto fail;
	dg_file_sink_hex(&fs, got);
	if (want[0] && strcasecmp(want, got) != 0) {
		sys_fail(e, DG_EINTEGRITY, "%s: SHA-256 mismatch: expected %s, got %s", key, want, got);
		goto fail;
	}
	dg_file_sink_end(&fs);
	return fd;
fail:
	dg_file_sink_end(&fs);
	close(fd);
	return -1;
}

/* Estimate one DeltaSpace: its first archive as the reference, a few of the
 * others encoded against it. */
static int dg_an_group(dg_ctx *g, store *s, dg_an_item *it, size_t n, unsigned samples,
	dg_group *grp, dg_error *e)
{
	uint64_t others = 0, sampled_bytes = 0, sampled_cost = 0;
	int ref = -1, rc = -1;
	size_t i;

	memset(grp, 0, sizeof *grp);
	snprintf(grp->space, sizeof grp->space, "%.*s", (int)(sys_basename(it[0].key) - it[0].key),
		it[0].key);
	grp->files = n;
	for (i = 0; i < n; i++)
		grp->bytes += it[i].size;
	grp->est_stored = it[0].size;
	for (i = 1; i < n; i++)
		others += it[i].size;
	if (n < 2 || samples == 0) {
		grp->est_stored += others;
		grp->ratio = 1.0;
		return 0;
	}
	ref = dg_fetch_tmp(g, s, it[0].key, e);
	if (ref < 0)
		return -1;
	for (unsigned k = 0; k < samples && k + 1 < n; k++) {
		/* Spread the samples over the versions. */
		size_t pick = 1 + (size_t)k * (n - 1) / (samples < n - 1 ? samples : n - 1);
		delta_src src = { delta_fd_read, &ref, (uint64_t)lseek(ref, 0, SEEK_END) };
		delta_opts o = { sys_basename(it[pick].key), DG_REFERENCE, g->window_max, 0, g->level, 0,
			NULL, NULL };
		delta_result dr;
		int tfd, out;

		tfd = dg_fetch_tmp(g, s, it[pick].key, e);
		if (tfd < 0)
			goto done;
		out = dg_tmpfile(g, e);
		if (out < 0 || delta_encode(&src, tfd, out, &o, &dr, e) < 0) {
			close(tfd);
			if (out >= 0)
				close(out);
			goto done;
		}
		close(tfd);
		close(out);
		sampled_bytes += dr.target_size;
		/* What the upload would store: the delta, or the file when the
		 * delta misses the max ratio. */
		sampled_cost += dr.target_size && (double)dr.delta_size / (double)dr.target_size <= g->max_ratio ?
			dr.delta_size : dr.target_size;
		grp->sampled++;
	}
	grp->ratio = sampled_bytes ? (double)sampled_cost / (double)sampled_bytes : 1.0;
	grp->est_stored += (uint64_t)((double)others * grp->ratio);
	rc = 0;
done:
	close(ref);
	return rc;
}

static int dg_analyze(dg_ctx *g, store *s, const char *prefix, unsigned samples,
	dg_analysis *total, dg_group_fn fn, void *ctx, dg_error *e)
{
	dg_an_state st = { NULL, 0, 0, total };
	dg_group grp;
	size_t i, j;
	int rc = -1;

	memset(total, 0, sizeof *total);
	if (dg_list(g, s, prefix, NULL, dg_an_collect, &st, e) < 0)
		goto done;
	if (st.n)
		qsort(st.items, st.n, sizeof *st.items, dg_an_cmp);
	for (i = 0; i < st.n; i = j) {
		size_t dir = (size_t)(sys_basename(st.items[i].key) - st.items[i].key);

		for (j = i + 1; j < st.n; j++) {
			const char *k = st.items[j].key;

			if ((size_t)(sys_basename(k) - k) != dir || strncmp(k, st.items[i].key, dir) != 0)
				break;
		}
		if (dg_an_group(g, s, st.items + i, j - i, samples, &grp, e) < 0)
			goto done;
		total->est_stored += grp.est_stored;
		total->groups++;
		if (fn && fn(ctx, &grp, e) < 0)
			goto done;
	}
	rc = 0;
done:
	for (i = 0; i < st.n; i++)
		free(st.items[i].key);
	free(st.items);
	return rc;
}

/* ---- The client: the composition root ------------------------------------------
 *
 * A dg_client owns everything a process needs to reach stores: the
 * configuration, trust anchors, proxies, credentials, the S3 client, the
 * reference cache and the delta settings. The command line and the
 * library both go through it. S3 and the cache are set up on first use,
 * so commands that need neither never read credentials or make a
 * directory. One thread uses a client at a time. */

struct dg_client {
	dg_config cfg;
	sys_log log;
	dg_ctx dg;
	aws_config aws;
	http_tls tls;
	http_cfg hcfg;
	s3_client s3;
	int s3_ready;
	cache cache;
	int cache_ready;
	char cache_dir[DG_MAX_PATH];
	char expires[32];            /* cfg.expires as the HTTP date S3 takes */
	dg_progress_fn progress;
	void *progress_ctx;
	/* Parallel work (see "Parallel work" below). */
	struct dg_budget budget;     /* a worker uses its parent's */
	pthread_mutex_t meter_lock;  /* workers report progress through it */
	store_probes probes;         /* a worker's stores use its parent's */
	dg_mime_types mime;          /* a worker uses its parent's */
	int parallel;                /* a dg_parallel is running: nested ones run serially */
	s3_fanout fanout;            /* multipart parts through dg_parallel */
	struct dg_client *parent;    /* set on a worker */
	struct dg_client *workers[DG_MAX_CONCURRENCY - 1];   /* kept for their connections */
	unsigned nworkers;
};

DG_API const char *dg_version(void)
{
	return DG_VERSION;
}

DG_API void dg_versions(char *out, size_t cap)
{
	snprintf(out, cap, "%s (xdelta3 3.0.11, BearSSL 0.6, liblzma %s, zlib %s)", DG_VERSION,
		lzma_version_string(), zlibVersion());
}

DG_API void dg_config_init(dg_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->max_ratio = 0.5;
	cfg->connect_timeout_s = cfg->read_timeout_s = 60;
	cfg->cache_memory_mb = 100;
	cfg->log_level = DG_LOG_WARNING;
}

static const char *dg_env(const dg_config *cfg, const char *name)
{
	const char *v = cfg->getenv ? cfg->getenv(name) : NULL;

	return v && *v ? v : NULL;
}

/* "0.5": a ratio between 0 and 1. */
static int dg_parse_ratio(const char *v, double *out, dg_error *e)
{
	char *end;
	double r = strtod(v, &end);

	if (*end || end == v || !(r >= 0.0 && r <= 1.0))
		return sys_fail(e, DG_EUSAGE, "max ratio must be between 0.0 and 1.0, not '%s'", v);
	*out = r;
	return 0;
}

/* "6": the encoder's level, as xdelta3 -1 ... -9. */
static int dg_parse_level(const char *v, int *out, dg_error *e)
{
	if (v[0] < '1' || v[0] > '9' || v[1])
		return sys_fail(e, DG_EUSAGE, "compression level must be between 1 and 9, not '%s'", v);
	*out = v[0] - '0';
	return 0;
}

DG_API int dg_config_from_env(dg_config *cfg, dg_error *err)
{
	static const char *const levels[] = { "DEBUG", "INFO", "WARNING", "ERROR" };
	const char *v;
	uint64_t n;

	dg_config_init(cfg);
	cfg->getenv = getenv;
	if ((v = dg_env(cfg, "DG_MAX_RATIO")) && dg_parse_ratio(v, &cfg->max_ratio, err) < 0)
		return -1;
	if ((v = dg_env(cfg, "DG_WINDOW_MB"))) {
		if (sys_parse_u64(v, &n) < 0 || n < 1 || n > 65536)
			return sys_fail(err, DG_EUSAGE, "DG_WINDOW_MB must be a number of MiB, not '%s'", v);
		cfg->window_mb = (unsigned)n;
	}
	if ((v = dg_env(cfg, "DG_ARCHIVE_DELTAS")))
		cfg->archive_deltas = strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0;
	if ((v = dg_env(cfg, "DG_COMPRESSION_LEVEL")) &&
		dg_parse_level(v, &cfg->compression_level, err) < 0)
		return -1;
	cfg->tmpdir = dg_env(cfg, "TMPDIR");
	if ((v = dg_env(cfg, "DG_CACHE_BACKEND"))) {
		if (strcmp(v, "memory") != 0 && strcmp(v, "filesystem") != 0)
			return sys_fail(err, DG_EUSAGE, "DG_CACHE_BACKEND must be filesystem or memory, "
				"not '%s'", v);
		cfg->cache_memory = strcmp(v, "memory") == 0;
	}
	if ((v = dg_env(cfg, "DG_CACHE_MEMORY_SIZE_MB"))) {
		if (sys_parse_u64(v, &n) < 0 || n > UINT32_MAX)
			return sys_fail(err, DG_EUSAGE, "DG_CACHE_MEMORY_SIZE_MB must be a number, not '%s'", v);
		cfg->cache_memory_mb = (unsigned)n;
	}
	cfg->cache_dir = dg_env(cfg, "DG_CACHE_DIR");
	cfg->cache_key_b64 = dg_env(cfg, "DG_CACHE_ENCRYPTION_KEY");
	if ((v = dg_env(cfg, "DG_LOG_LEVEL")))
		for (int k = 0; k < 4; k++)
			if (strcasecmp(v, levels[k]) == 0)
				cfg->log_level = k;
	return 0;
}

/* The encoder holds its source window in memory. By default the window
 * may take a quarter of the memory available (to the machine, or to the
 * cgroup), up to 4 GiB, and at least the xdelta3 CLI's 64 MiB: references
 * are covered whole where memory allows. */
static uint64_t dg_default_window(void)
{
	uint64_t avail = UINT64_MAX, w = 4096ull << 20, v;
	char line[256];
	FILE *f;

	if ((f = fopen("/proc/meminfo", "r")) != NULL) {
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "MemAvailable: %" SCNu64 " kB", &v) == 1)
				avail = v << 10;
		fclose(f);
	}
	if ((f = fopen("/sys/fs/cgroup/memory.max", "r")) != NULL) {
		if (fscanf(f, "%" SCNu64, &v) == 1 && v < avail)
			avail = v;
		fclose(f);
	}
	while (w > (64u << 20) && w > avail / 4)
		w >>= 1;
	return w;
}

/* Progress of an object (see "Progress" in §10). Workers report through
 * their parent, one at a time, so the caller's callback never runs twice
 * at once. */
static void dg_client_report(dg_client *cl, uint64_t bytes)
{
	if (cl == NULL)
		return;
	if (cl->parent)
		cl = cl->parent;
	if (cl->progress == NULL)
		return;
	pthread_mutex_lock(&cl->meter_lock);
	cl->progress(cl->progress_ctx, bytes);
	pthread_mutex_unlock(&cl->meter_lock);
}

/* The HTTP meter: request body bytes sent. A worker with no object of
 * its own is sending parts of its parent's. */
static void dg_client_sent(void *ctx, uint64_t bytes)
{
	dg_client *cl = ctx;

	if (!dg_progress_sent(&cl->dg, bytes) && cl->parent)
		dg_progress_sent(&cl->parent->dg, bytes);
}

DG_API dg_client *dg_client_open(const dg_config *cfg, dg_error *err)
{
	dg_client *cl;

	if (!(cfg->max_ratio >= 0.0 && cfg->max_ratio <= 1.0)) {
		sys_fail(err, DG_EUSAGE, "max ratio must be between 0.0 and 1.0, not %g", cfg->max_ratio);
		return NULL;
	}
	if (cfg->compression_level < 0 || cfg->compression_level > 9) {
		sys_fail(err, DG_EUSAGE, "compression level must be between 1 and 9, not %d",
			cfg->compression_level);
		return NULL;
	}
	if (dg_check_object_options(cfg, err) < 0)
		return NULL;
	if ((cl = calloc(1, sizeof *cl)) == NULL) {
		sys_fail(err, DG_ENOMEM, "out of memory");
		return NULL;
	}
	cl->cfg = *cfg;
	if (cfg->expires && *cfg->expires) {
		time_t t;

		sys_time_parse(cfg->expires, &t);   /* checked above */
		sys_time_http(t, cl->expires);
		cl->cfg.expires = cl->expires;
	}
	cl->log.level = cfg->log_level;
	cl->dg.log = &cl->log;
	cl->dg.umask = sys_umask();
	cl->dg.max_ratio = cfg->max_ratio;
	cl->dg.no_delta = cfg->no_delta;
	cl->dg.archive_deltas = cfg->archive_deltas;
	cl->dg.window_max = cfg->window_mb ? (uint64_t)cfg->window_mb << 20 : dg_default_window();
	cl->dg.level = cfg->compression_level ? cfg->compression_level : DG_DEFAULT_LEVEL;
	cl->dg.tmpdir = cfg->tmpdir && *cfg->tmpdir ? cfg->tmpdir : "/tmp";
	cl->dg.path = dg_env(cfg, "PATH");
	cl->dg.client = cl;
	cl->dg.cfg = &cl->cfg;
	cl->dg.budget = &cl->budget;
	cl->dg.locks_denied = &cl->dg.locks_denied_own;
	pthread_mutex_init(&cl->mime.lock, NULL);
	cl->dg.mime = &cl->mime;
	cl->budget.total = cl->dg.window_max;
	pthread_mutex_init(&cl->budget.lock, NULL);
	pthread_cond_init(&cl->budget.freed, NULL);
	pthread_mutex_init(&cl->meter_lock, NULL);
	pthread_mutex_init(&cl->probes.lock, NULL);
	pthread_mutex_init(&cl->dg.prog.lock, NULL);
	return cl;
}

DG_API void dg_client_close(dg_client *cl)
{
	if (cl == NULL)
		return;
	while (cl->nworkers)
		dg_client_close(cl->workers[--cl->nworkers]);
	dg_close(&cl->dg);
	if (cl->s3_ready)
		s3_client_close(&cl->s3);
	if (cl->cache_ready)
		cache_close(&cl->cache);
	http_tls_free(&cl->tls);
	explicit_bzero(&cl->aws.creds, sizeof cl->aws.creds);
	pthread_mutex_destroy(&cl->budget.lock);
	pthread_cond_destroy(&cl->budget.freed);
	pthread_mutex_destroy(&cl->meter_lock);
	pthread_mutex_destroy(&cl->probes.lock);
	dg_mime_free(&cl->mime);
	pthread_mutex_destroy(&cl->dg.prog.lock);
	free(cl);
}

DG_API void dg_client_progress(dg_client *cl, dg_progress_fn fn, void *ctx)
{
	cl->progress = fn;
	cl->progress_ctx = ctx;
}

static dg_ctx *dg_client_ctx(dg_client *cl)
{
	return &cl->dg;
}

/* Configuration and trust anchors, on first use of S3. */
static int dg_client_s3(dg_client *cl, dg_error *e)
{
	const dg_config *cfg = &cl->cfg;
	aws_opts o = {
		.profile = cfg->profile, .region = cfg->region, .endpoint = cfg->endpoint_url,
		.ca_bundle = cfg->ca_bundle, .no_verify_ssl = cfg->no_verify_ssl,
		.access_key = cfg->access_key_id, .secret_key = cfg->secret_access_key,
		.token = cfg->session_token, .getenv = cfg->getenv, .anonymous = cfg->no_sign_request,
	};

	if (cl->s3_ready)
		return 0;
	http_tls_free(&cl->tls);   /* what a failed attempt left */
	if (aws_config_load(&cl->aws, &o, e) < 0)
		return -1;
	cl->aws.page_size = cfg->page_size;
	cl->aws.request_payer = cfg->request_payer;
	cl->dg.archive_deltas |= cl->aws.archive_deltas;
	if (cfg->sse_c) {
		crypto_b64_encode(cfg->sse_c_key, 32, cl->aws.ssec_key);
		crypto_md5_b64(cfg->sse_c_key, 32, cl->aws.ssec_md5);
	}
	if (cfg->sse_c_copy_source) {
		crypto_b64_encode(cfg->sse_c_copy_source_key, 32, cl->aws.ssec_src_key);
		crypto_md5_b64(cfg->sse_c_copy_source_key, 32, cl->aws.ssec_src_md5);
	}
	cl->tls.insecure = !cl->aws.verify_ssl;
	if (cl->aws.endpoint_tls && !cl->tls.insecure &&
		http_tls_load(&cl->tls, cl->aws.ca_bundle, e) < 0)
		return -1;
	cl->hcfg.tls = &cl->tls;
	cl->hcfg.log = &cl->log;
	cl->hcfg.connect_timeout_ms = (cfg->connect_timeout_s ? cfg->connect_timeout_s : 60) * 1000;
	cl->hcfg.read_timeout_ms = (cfg->read_timeout_s ? cfg->read_timeout_s : 60) * 1000;
	cl->hcfg.meter = dg_client_sent;
	cl->hcfg.meter_ctx = cl;
	if ((cfg->getenv && http_proxy_env(&cl->hcfg, cfg->getenv, e) < 0) ||
		aws_resolve(&cl->aws, &cl->hcfg, e) < 0)
		return -1;
	s3_client_init(&cl->s3, &cl->aws, &cl->hcfg);
	cl->fanout = (s3_fanout){ dg_s3_fanout, dg_s3_fanout_width, cl };
	cl->s3.fanout = &cl->fanout;
	cl->s3_ready = 1;
	return 0;
}

/* Where the client runs, when it talks to S3 on AWS from EC2 (the Python
 * CLI's migrate says so, for cross-region transfer charges). */
typedef struct dg_ec2_place {
	char region[64], zone[64];   /* the instance's */
	char s3_region[64];          /* where S3 requests go */
	int region_flag;             /* s3_region came from --region */
} dg_ec2_place;

/* 1 on EC2 against AWS's endpoints; 0 elsewhere, or when S3 cannot be set
 * up (the next request says why). Nothing is asked of the metadata
 * service for other endpoints or with DG_DISABLE_EC2_DETECTION. */
static DG_CLI_ONLY int dg_client_ec2(dg_client *cl, dg_ec2_place *p)
{
	dg_error ignore;

	if (dg_client_s3(cl, &ignore) < 0 || !aws_ec2_place(&cl->aws, &cl->hcfg, p->region, p->zone))
		return 0;
	sys_strlcpy(p->s3_region, cl->aws.region, sizeof p->s3_region);
	p->region_flag = cl->aws.region_flag;
	return 1;
}

/* Threads for parallel work: the config's, else the profile's
 * s3.max_concurrent_requests (when S3 is configured), else 10; a worker
 * works alone. */
static unsigned dg_client_concurrency(dg_client *cl)
{
	unsigned n = cl->cfg.max_concurrency ? cl->cfg.max_concurrency :
		cl->s3_ready ? cl->aws.max_concurrent : 10;

	return cl->parent ? 1 : n < DG_MAX_CONCURRENCY ? n : DG_MAX_CONCURRENCY;
}

/* The reference cache, on first use of a store. */
static int dg_client_cache(dg_client *cl, dg_error *e)
{
	const dg_config *cfg = &cl->cfg;
	cache_cfg cc = { 0 };
	const char *v;

	if (cl->cache_ready || cl->dg.cache)   /* a worker's is its parent's */
		return 0;
	if (cfg->cache_dir)
		sys_strlcpy(cl->cache_dir, cfg->cache_dir, sizeof cl->cache_dir);
	else if ((v = dg_env(cfg, "XDG_CACHE_HOME")))
		snprintf(cl->cache_dir, sizeof cl->cache_dir, "%s/deltaglider", v);
	else if ((v = dg_env(cfg, "HOME")) && strcmp(v, "/") != 0)
		snprintf(cl->cache_dir, sizeof cl->cache_dir, "%s/.cache/deltaglider", v);
	cc.memory = cfg->cache_memory;
	cc.memory_mb = cfg->cache_memory_mb ? cfg->cache_memory_mb : 100;
	cc.dir = cl->cache_dir;
	cc.key_b64 = cfg->cache_key_b64;
	cc.tmpdir = cl->dg.tmpdir;
	if (cache_open(&cl->cache, &cc, &cl->log, e) < 0)
		return -1;
	cl->dg.cache = &cl->cache;
	cl->cache_ready = 1;
	return 0;
}

/* s3://bucket/key, file:///path, or a local path. */
static int dg_url_parse(const char *arg, dg_url *u, dg_error *e)
{
	memset(u, 0, sizeof *u);
	u->text = arg;
	if (strncmp(arg, "s3://", 5) == 0) {
		const char *b = arg + 5, *slash = strchr(b, '/');
		size_t n = slash ? (size_t)(slash - b) : strlen(b);

		if (n == 0)
			return sys_fail(e, DG_EUSAGE, "%s: missing bucket name", arg);
		if (n >= sizeof u->bucket)
			return sys_fail(e, DG_EUSAGE, "%s: bucket name too long", arg);
		memcpy(u->bucket, b, n);
		if (slash && sys_strlcpy(u->key, slash + 1, sizeof u->key) >= sizeof u->key)
			return sys_fail(e, DG_EUSAGE, "%s: key longer than %d bytes", arg, DG_MAX_KEY);
		u->kind = DG_URL_S3;
		return 0;
	}
	if (strncmp(arg, "file://", 7) == 0) {
		const char *p = arg + 7;

		if (*p != '/')
			return sys_fail(e, DG_EUSAGE, "%s: file:// URLs take an absolute path "
				"(file:///srv/store/)", arg);
		while (*p == '/')
			p++;
		if (sys_strlcpy(u->key, p, sizeof u->key) >= sizeof u->key)
			return sys_fail(e, DG_EUSAGE, "%s: path too long", arg);
		u->kind = DG_URL_FILE;
		return 0;
	}
	if (strstr(arg, "://"))
		return sys_fail(e, DG_EUSAGE, "%s: unsupported URL (use s3:// or file://)", arg);
	if (sys_strlcpy(u->key, arg, sizeof u->key) >= sizeof u->key)
		return sys_fail(e, DG_EUSAGE, "%s: path too long", arg);
	u->kind = DG_URL_LOCAL;
	return 0;
}

/* The store a URL points into. */
static int dg_client_store(dg_client *cl, const dg_url *u, store *s, dg_error *e)
{
	if (dg_client_cache(cl, e) < 0)
		return -1;
	if (u->kind == DG_URL_S3) {
		if (dg_client_s3(cl, e) < 0)
			return -1;
		store_open_s3(s, &cl->s3, u->bucket, &(cl->parent ? cl->parent : cl)->probes);
		return 0;
	}
	if (u->kind == DG_URL_FILE) {
		store_open_file(s, "/", cl->dg.umask);
		return 0;
	}
	return sys_fail(e, DG_EUSAGE, "%s: not a storage URL (s3://bucket/key or file:///path)",
		u->text);
}

/* ---- Parallel work ---- */

/*
 * A client runs one request at a time. Parallel work (the files of cp -r
 * and sync, the HEADs of a listing, the parts of a multipart upload, the
 * ranges of a large download) runs on worker clients, one per
 * thread, opened from the parent's configuration on first use and kept
 * for their connections until the parent closes. A worker has its own
 * S3 client, connection, credentials (a copy of the parent's, refreshed
 * on its own) and lock identity, and borrows what is read-only or
 * locked: the trust anchors, the reference cache and the memory budget.
 * The budget is what one encode may use (the window of DG_WINDOW_MB, by
 * default a quarter of free memory); each encode or decode takes its
 * window's share and waits while others hold it, so memory stays what a
 * sequential run needs, whatever the number of files and threads.
 */

static uint64_t dg_budget_take(dg_budget *b, uint64_t want)
{
	if (b == NULL)
		return 0;
	if (want > b->total)
		want = b->total;
	pthread_mutex_lock(&b->lock);
	while (b->used + want > b->total)
		pthread_cond_wait(&b->freed, &b->lock);
	b->used += want;
	pthread_mutex_unlock(&b->lock);
	return want;
}

static void dg_budget_give(dg_budget *b, uint64_t n)
{
	if (b == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	b->used -= n;
	pthread_cond_broadcast(&b->freed);
	pthread_mutex_unlock(&b->lock);
}

static dg_client *dg_worker_open(dg_client *cl, dg_error *e)
{
	dg_client *w;

	if (dg_client_cache(cl, e) < 0 || (w = dg_client_open(&cl->cfg, e)) == NULL)
		return NULL;
	w->parent = cl;
	w->dg.cache = cl->dg.cache;
	w->dg.budget = &cl->budget;
	w->dg.locks_denied = cl->dg.locks_denied;
	w->dg.mime = cl->dg.mime;
	w->dg.window_max = cl->dg.window_max;
	return w;
}

/* A worker's S3 client: the parent's configuration, trust and
 * credentials as they are (never loaded twice), on a connection of its
 * own. Workers only serve parents whose S3 client is ready. */
static s3_client *dg_worker_s3(dg_client *w)
{
	dg_client *cl = w->parent;

	if (!w->s3_ready) {
		w->aws = cl->aws;
		w->hcfg = cl->hcfg;
		w->hcfg.tls = &cl->tls;
		w->hcfg.meter_ctx = w;
		s3_client_init(&w->s3, &w->aws, &w->hcfg);
		w->s3.skew = cl->s3.skew;
		w->s3.clock_known = cl->s3.clock_known;
		w->s3_ready = 1;
	}
	w->dg.archive_deltas = cl->dg.archive_deltas;   /* the profile may say so */
	/* What the parent learnt since (dg_client_source) */
	memcpy(w->aws.source_bucket, cl->aws.source_bucket, sizeof w->aws.source_bucket);
	memcpy(w->aws.source_region, cl->aws.source_region, sizeof w->aws.source_region);
	return &w->s3;
}

/* Worker w's copy of its parent's store s. */
static void dg_worker_store(dg_client *w, const store *s, store *out)
{
	*out = *s;
	if (s->s3)
		out->s3 = dg_worker_s3(w);
}

/* Copies from src to dst, buckets apart: the source bucket is read with
 * the copy source's SSE-C key, and signed for (on AWS, reached in) the
 * source region, as aws s3's --sse-c-copy-source-key and --source-region
 * say. Within one bucket, a DeltaSpace has one key and one region. */
static int dg_client_source(dg_client *cl, const dg_url *src, const dg_url *dst, dg_error *e)
{
	const char *region = cl->cfg.source_region;

	if (src->kind != DG_URL_S3 || dst->kind != DG_URL_S3 || strcmp(src->bucket, dst->bucket) == 0)
		return 0;
	if (dg_client_s3(cl, e) < 0)
		return -1;
	sys_strlcpy(cl->aws.source_bucket, src->bucket, sizeof cl->aws.source_bucket);
	sys_strlcpy(cl->aws.source_region, region ? region : "", sizeof cl->aws.source_region);
	return 0;
}

typedef struct dg_run {
	dg_job_fn fn;
	void *ctx;
	size_t n, next;
	pthread_mutex_t lock;
} dg_run;

typedef struct dg_thread {
	dg_run *run;
	dg_client *w;
	unsigned slot;
	pthread_t id;
} dg_thread;

static void dg_run_jobs(dg_run *r, dg_client *w, unsigned slot)
{
	for (;;) {
		size_t i;

		pthread_mutex_lock(&r->lock);
		i = r->next < r->n ? r->next++ : r->n;
		pthread_mutex_unlock(&r->lock);
		if (i == r->n)
			return;
		r->fn(r->ctx, w, slot, i);
	}
}

static void *dg_thread_main(void *arg)
{
	dg_thread *t = arg;

	dg_run_jobs(t->run, t->w, t->slot);
	return NULL;
}

/* Run fn(ctx, client, slot, i) for each i below n, jobs taken in order,
 * on up to the client's concurrency of threads: this one with cl itself
 * (slot 0) and workers (slots 1 on). Jobs report their own failures. A
 * worker that cannot be opened or started leaves its share to the
 * others (with a warning), so this always completes. */
static void dg_parallel(dg_client *cl, size_t n, dg_job_fn fn, void *ctx)
{
	dg_run r = { fn, ctx, n, 0, PTHREAD_MUTEX_INITIALIZER };
	dg_thread th[DG_MAX_CONCURRENCY];
	unsigned want = dg_client_concurrency(cl), k, started = 0;
	pthread_attr_t attr;
	dg_error e;

	/* Work started by a job of the caller's thread (a multipart upload
	 * among cp -r's files) finds the workers busy: it runs here alone. */
	if (cl->parallel) {
		dg_run_jobs(&r, cl, 0);
		pthread_mutex_destroy(&r.lock);
		return;
	}
	cl->parallel = 1;
	if (want > n)
		want = (unsigned)n;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, DG_THREAD_STACK);
	for (k = 1; k < want; k++) {
		if (cl->nworkers < k) {
			dg_client *w = dg_worker_open(cl, &e);

			if (w == NULL) {
				sys_logf(&cl->log, DG_LOG_WARNING, "running %u in parallel, not %u: %s", k,
					want, e.msg);
				break;
			}
			cl->workers[cl->nworkers++] = w;
		}
		th[started] = (dg_thread){ &r, cl->workers[k - 1], k, 0 };
		if (pthread_create(&th[started].id, &attr, dg_thread_main, &th[started]) != 0)
			break;
		started++;
	}
	pthread_attr_destroy(&attr);
	dg_run_jobs(&r, cl, 0);
	for (k = 0; k < started; k++)
		pthread_join(th[k].id, NULL);
	pthread_mutex_destroy(&r.lock);
	cl->parallel = 0;
}

/* s3_fanout's run for the client's own S3 client: the jobs on the S3
 * clients of the caller and the workers. */
typedef struct dg_fan {
	s3_job_fn job;
	void *jctx;
} dg_fan;

static void dg_fan_job(void *ctx, dg_client *w, unsigned slot, size_t i)
{
	dg_fan *f = ctx;

	f->job(f->jctx, slot ? dg_worker_s3(w) : &w->s3, i);
}

static void dg_s3_fanout(void *ctx, size_t n, s3_job_fn job, void *jctx)
{
	dg_fan f = { job, jctx };

	dg_parallel(ctx, n, dg_fan_job, &f);
}

static unsigned dg_s3_fanout_width(void *ctx)
{
	dg_client *cl = ctx;

	return cl->parallel ? 1 : dg_client_concurrency(cl);
}

/* ---- Buckets ---- */

/* Release the leases the client and its workers hold under prefix of s's
 * store. They are idle (one thread per client): the next upload takes
 * new ones. */
static void dg_client_drop_leases(dg_client *cl, const store *s, const char *prefix)
{
	store ws = *s;
	unsigned i;

	dg_lease_drop(&cl->dg, s, prefix);
	for (i = 0; i < cl->nworkers; i++) {
		if (ws.s3)
			ws.s3 = &cl->workers[i]->s3;   /* a worker has its own S3 client */
		dg_lease_drop(&cl->workers[i]->dg, &ws, prefix);
	}
}

typedef struct dg_bucket_walk {
	dg_bucket_fn fn;
	void *ctx;
} dg_bucket_walk;

static int dg_bucket_one(void *ctx, const sys_object *b, dg_error *e)
{
	dg_bucket_walk *w = ctx;

	return w->fn(w->ctx, b->key, b->mtime, e);
}

DG_API int dg_bucket_list(dg_client *cl, dg_bucket_fn fn, void *ctx, dg_error *err)
{
	dg_bucket_walk w = { fn, ctx };

	if (dg_client_s3(cl, err) < 0)
		return -1;
	return s3_list_buckets(&cl->s3, dg_bucket_one, &w, err);
}

/* s3://BUCKET, or file:///dir: a bucket's URL names no key. */
static int dg_bucket_url(const char *url, dg_url *u, dg_error *e)
{
	if (dg_url_parse(url, u, e) < 0)
		return -1;
	if (u->kind == DG_URL_LOCAL || (u->kind == DG_URL_S3 && u->key[0]))
		return sys_fail(e, DG_EUSAGE, "%s: expected s3://BUCKET or file:///DIR", url);
	if (u->kind == DG_URL_FILE) {
		size_t n = strlen(u->key);

		while (n && u->key[n - 1] == '/')
			u->key[--n] = 0;
		if (n == 0)
			return sys_fail(e, DG_EUSAGE, "%s: the root directory is not a bucket", url);
	}
	return 0;
}

DG_API int dg_bucket_create(dg_client *cl, const char *url, dg_error *err)
{
	char path[DG_MAX_PATH];
	struct stat st;
	dg_url u;

	if (dg_bucket_url(url, &u, err) < 0)
		return -1;
	if (u.kind == DG_URL_S3)
		return dg_client_s3(cl, err) < 0 ? -1 : s3_create_bucket(&cl->s3, u.bucket, err);
	snprintf(path, sizeof path, "/%s", u.key);
	if (lstat(path, &st) == 0)
		return sys_fail(err, DG_EEXIST, "%s already exists", path);
	return sys_mkdirs(path, 0777 & ~cl->dg.umask, err);
}

typedef struct dg_keys {
	sys_buf names;               /* NUL-separated */
	size_t n;
} dg_keys;

static int dg_keys_add(void *ctx, const sys_object *o, dg_error *e)
{
	dg_keys *k = ctx;

	if (o->is_prefix)
		return 0;
	if (sys_buf_add(&k->names, o->key, strlen(o->key) + 1) < 0)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	k->n++;
	return 0;
}

/* Empty directories left under path once its files are gone; never
 * follows a symlink, never removes a file. */
static int dg_rmdirs(const char *path, dg_error *e)
{
	char sub[DG_MAX_PATH];
	struct dirent *d;
	struct stat st;
	DIR *dir = opendir(path);

	if (dir == NULL)
		return sys_fail_errno(e, errno == ENOENT ? DG_ENOTFOUND : DG_EIO, errno,
			"cannot open %s", path);
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof sub, "%s/%s", path, d->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			dg_rmdirs(sub, e);
	}
	closedir(dir);
	if (rmdir(path) < 0)
		return sys_fail_errno(e, DG_EIO, errno, "cannot remove %s", path);
	return 0;
}

/* Remove a bucket; with force, everything in it first (every stored
 * object, references too), each reported to fn (may be NULL). */
static int dg_bucket_remove(dg_client *cl, const dg_url *u, int force, sys_list_fn fn,
	void *ctx, dg_error *e)
{
	char prefix[DG_MAX_KEY + 2], path[DG_MAX_PATH];
	dg_keys keys = { { 0 }, 0 };
	const char **list = NULL;
	const char *p;
	sys_object o = { 0 };
	store s;
	size_t i;
	int rc = -1;

	if (dg_client_store(cl, u, &s, e) < 0)
		return -1;
	snprintf(prefix, sizeof prefix, "%s%s", u->key, u->kind == DG_URL_FILE ? "/" : "");
	dg_client_drop_leases(cl, &s, prefix);
	if (force) {
		if (s.ops->list(&s, prefix, NULL, dg_keys_add, &keys, e) < 0)
			goto done;
		if ((list = malloc((keys.n ? keys.n : 1) * sizeof *list)) == NULL) {
			sys_fail(e, DG_ENOMEM, "out of memory");
			goto done;
		}
		for (i = 0, p = keys.names.data; i < keys.n; p += strlen(p) + 1)
			list[i++] = p;
		if (keys.n && s.ops->del_many(&s, list, keys.n, NULL, e) < 0)
			goto done;
		for (i = 0; fn && i < keys.n; i++) {
			sys_strlcpy(o.key, list[i], sizeof o.key);
			if (fn(ctx, &o, e) < 0)
				goto done;
		}
	}
	if (u->kind == DG_URL_S3)
		rc = s3_delete_bucket(&cl->s3, u->bucket, e);
	else {
		snprintf(path, sizeof path, "/%s", u->key);
		rc = dg_rmdirs(path, e);
	}
done:
	free(list);
	sys_buf_free(&keys.names);
	return rc;
}

DG_API int dg_bucket_delete(dg_client *cl, const char *url, int force, dg_error *err)
{
	dg_url u;

	if (dg_bucket_url(url, &u, err) < 0)
		return -1;
	return dg_bucket_remove(cl, &u, force, NULL, NULL, err);
}

/* ---- The library's object calls: a URL in, the core above ---- */

/* Parse url and open its store; need_key: the URL must name an object. */
static int dg_api_open(dg_client *cl, const char *url, int need_key, dg_url *u, store *s,
	dg_error *e)
{
	if (dg_url_parse(url, u, e) < 0 || dg_client_store(cl, u, s, e) < 0)
		return -1;
	if (need_key && (u->key[0] == 0 || u->key[strlen(u->key) - 1] == '/'))
		return sys_fail(e, DG_EUSAGE, "%s: names no object", url);
	return 0;
}

static void dg_api_ratio(dg_put_result *res)
{
	res->ratio = res->size ? (double)res->stored / (double)res->size : 0.0;
}

DG_API int dg_put_path(dg_client *cl, const char *url, const char *path, dg_put_result *res,
	dg_error *err)
{
	dg_put_result mine;
	dg_url u;
	store s;

	if (res == NULL)
		res = &mine;
	if (dg_api_open(cl, url, 1, &u, &s, err) < 0 ||
		dg_put(&cl->dg, &s, u.key, path, res, err) < 0)
		return -1;
	dg_api_ratio(res);
	return 0;
}

DG_API int dg_put_reader(dg_client *cl, const char *url, dg_read_fn fn, void *ctx,
	dg_put_result *res, dg_error *err)
{
	unsigned char buf[65536];
	dg_put_result mine;
	dg_url u;
	store s;
	long got;
	int fd = -1, rc = -1;

	if (res == NULL)
		res = &mine;
	if (dg_api_open(cl, url, 1, &u, &s, err) < 0 || (fd = sys_tmpfile(cl->dg.tmpdir, err)) < 0)
		return -1;
	/* Spooled first: a delta needs the whole file, and a retry its start. */
	while ((got = fn(ctx, buf, sizeof buf)) > 0)
		if (sys_write_all(fd, buf, (size_t)got, err, "the spool file") < 0)
			goto done;
	if (got < 0) {
		sys_fail(err, DG_EIO, "%s: the read callback failed", url);
		goto done;
	}
	if (dg_put_fd(&cl->dg, &s, u.key, fd, res, err) < 0)
		goto done;
	dg_api_ratio(res);
	rc = 0;
done:
	close(fd);
	return rc;
}

DG_API int dg_get_path(dg_client *cl, const char *url, const char *path, dg_error *err)
{
	dg_url u;
	store s;

	if (dg_api_open(cl, url, 1, &u, &s, err) < 0)
		return -1;
	return dg_get(&cl->dg, &s, u.key, path, err);
}

DG_API int dg_get_fd(dg_client *cl, const char *url, int fd, dg_error *err)
{
	dg_url u;
	store s;

	if (dg_api_open(cl, url, 1, &u, &s, err) < 0)
		return -1;
	return dg_get_stream(&cl->dg, &s, u.key, fd, NULL, err);
}

typedef struct dg_api_writer {
	dg_write_fn fn;
	void *ctx;
} dg_api_writer;

static int dg_api_write(void *ctx, const unsigned char *p, size_t n, dg_error *e)
{
	dg_api_writer *w = ctx;

	if (w->fn(w->ctx, p, n) < 0)
		return sys_fail(e, DG_EIO, "the write callback failed");
	return 0;
}

DG_API int dg_get_writer(dg_client *cl, const char *url, dg_write_fn fn, void *ctx,
	dg_error *err)
{
	dg_api_writer w = { fn, ctx };
	sys_sink out = { dg_api_write, NULL, &w };
	dg_url u;
	store s;

	if (dg_api_open(cl, url, 1, &u, &s, err) < 0)
		return -1;
	return dg_get_stream(&cl->dg, &s, u.key, -1, &out, err);
}

DG_API int dg_list_objects(dg_client *cl, const char *url, int recursive, dg_list_fn fn,
	void *ctx, dg_error *err)
{
	dg_url u;
	store s;

	if (dg_api_open(cl, url, 0, &u, &s, err) < 0)
		return -1;
	return dg_list(&cl->dg, &s, u.key, recursive ? NULL : "/", fn, ctx, err);
}

DG_API int dg_head(dg_client *cl, const char *url, dg_object_info *info, dg_error *err)
{
	dg_url u;
	store s;

	if (dg_api_open(cl, url, 1, &u, &s, err) < 0)
		return -1;
	return dg_info(&s, u.key, info, err);
}

DG_API int dg_delete(dg_client *cl, const char *url, dg_error *err)
{
	dg_url u;
	store s;

	if (dg_api_open(cl, url, 1, &u, &s, err) < 0)
		return -1;
	return dg_rm(&cl->dg, &s, u.key, err);
}

typedef struct dg_api_tree {
	dg_entry *v;
	size_t n, cap;
	sys_buf names;               /* NUL-separated, in the order of v */
} dg_api_tree;

static int dg_api_tree_add(void *ctx, const dg_entry *ent, dg_error *e)
{
	dg_api_tree *t = ctx;

	if (ent->kind == DG_ENTRY_PREFIX)
		return 0;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		dg_entry *v = realloc(t->v, cap * sizeof *v);

		if (v == NULL)
			return sys_fail(e, DG_ENOMEM, "out of memory");
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = *ent;
	if (sys_buf_add(&t->names, ent->name, strlen(ent->name) + 1) < 0)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	return 0;
}

DG_API int dg_delete_many(dg_client *cl, const char *const *urls, size_t n, dg_error *err)
{
	dg_api_tree t = { 0 };
	dg_object_info info;
	dg_entry ent = { 0 };
	const char *p;
	dg_url first, u;
	store s;
	size_t i, at;
	int rc = -1;

	for (i = 0; i < n; i++) {
		if (dg_api_open(cl, urls[i], 1, i ? &u : &first, &s, err) < 0)
			goto done;
		if (i && (u.kind != first.kind || strcmp(u.bucket, first.bucket) != 0)) {
			sys_fail(err, DG_EUSAGE, "%s: not in the store of %s", urls[i], urls[0]);
			goto done;
		}
		if (dg_info(&s, i ? u.key : first.key, &info, err) < 0) {
			if (err->code == DG_ENOTFOUND)
				continue;
			goto done;
		}
		ent.name = i ? u.key : first.key;
		ent.kind = info.kind;
		if (dg_api_tree_add(&t, &ent, err) < 0)
			goto done;
	}
	for (i = 0, p = t.names.data; i < t.n; p += strlen(p) + 1)
		t.v[i++].name = p;
	for (at = 0; at < t.n; at += 1000)
		if (dg_rm_many(&cl->dg, &s, t.v + at, t.n - at < 1000 ? t.n - at : 1000, NULL,
				err) < 0)
			goto done;
	rc = 0;
done:
	free(t.v);
	sys_buf_free(&t.names);
	return rc;
}

DG_API long dg_delete_recursive(dg_client *cl, const char *url, dg_list_fn fn, void *ctx,
	dg_error *err)
{
	dg_api_tree t = { 0 };
	const char *p;
	dg_url u;
	store s;
	size_t i, at;
	long rc = -1;

	if (dg_api_open(cl, url, 0, &u, &s, err) < 0 ||
		dg_list(&cl->dg, &s, u.key, NULL, dg_api_tree_add, &t, err) < 0)
		goto done;
	for (i = 0, p = t.names.data; i < t.n; p += strlen(p) + 1)
		t.v[i++].name = p;
	/* Batches of 1000, each ending with its DeltaSpaces' reference check. */
	for (at = 0; at < t.n; at += 1000) {
		size_t n = t.n - at < 1000 ? t.n - at : 1000;

		if (dg_rm_many(&cl->dg, &s, t.v + at, n, NULL, err) < 0)
			goto done;
		for (i = at; fn && i < at + n; i++)
			if (fn(ctx, &t.v[i], err) < 0)
				goto done;
	}
	if (dg_cleanup_orphans(&cl->dg, &s, u.key, err) < 0)
		goto done;
	rc = (long)t.n;
done:
	free(t.v);
	sys_buf_free(&t.names);
	return rc;
}

DG_API int dg_copy_object(dg_client *cl, const char *src_url, const char *dst_url,
	dg_put_result *res, dg_error *err)
{
	dg_put_result mine;
	dg_url su, du;
	store ss, ds;
	int rc;

	if (res == NULL)
		res = &mine;
	if (dg_api_open(cl, src_url, 1, &su, &ss, err) < 0 ||
		dg_api_open(cl, dst_url, 1, &du, &ds, err) < 0 ||
		dg_client_source(cl, &su, &du, err) < 0)
		return -1;
	rc = dg_copy(&cl->dg, &ss, su.key, &ds, du.key, res, err);
	cl->aws.source_bucket[0] = 0;   /* later calls read that bucket as any other */
	if (rc < 0)
		return -1;
	dg_api_ratio(res);
	return 0;
}

DG_API int dg_verify_object(dg_client *cl, const char *url, dg_verify_result *res,
	dg_error *err)
{
	dg_url u;
	store s;
	int r;

	memset(res, 0, sizeof *res);
	if (dg_api_open(cl, url, 1, &u, &s, err) < 0 ||
		(r = dg_verify(&cl->dg, &s, u.key, res->expected, res->actual, err)) < 0)
		return -1;
	res->ok = r == 1;
	return 0;
}

/* s3://BUCKET or file:///DIR: the store of a whole bucket. A directory
 * store is rooted at the directory, so its keys are relative to it as a
 * bucket's are. */
static int dg_api_bucket(dg_client *cl, const char *url, dg_url *u, store *s, dg_error *e)
{
	char root[DG_MAX_PATH];

	if (dg_bucket_url(url, u, e) < 0 || dg_client_store(cl, u, s, e) < 0)
		return -1;
	if (u->kind == DG_URL_FILE) {
		snprintf(root, sizeof root, "/%s", u->key);
		store_open_file(s, root, cl->dg.umask);
	}
	return 0;
}

/* s3://BUCKET, for what only S3 has (ACLs). */
static int dg_api_bucket_s3(dg_client *cl, const char *url, dg_url *u, store *s, dg_error *e)
{
	if (dg_api_bucket(cl, url, u, s, e) < 0)
		return -1;
	if (u->kind != DG_URL_S3)
		return sys_fail(e, DG_EUSAGE, "%s: bucket ACLs need an s3:// URL", url);
	return 0;
}

DG_API int dg_bucket_stats(dg_client *cl, const char *url, int mode, dg_stats *st,
	dg_error *err)
{
	dg_url u;
	store s;

	if (dg_api_bucket(cl, url, &u, &s, err) < 0)
		return -1;
	/* A directory's cache would show in its listings: only buckets keep one. */
	return dg_stats_get(&cl->dg, &s, u.bucket, mode, u.kind == DG_URL_S3, 0, st, err);
}

DG_API int dg_purge_temp(dg_client *cl, const char *url, int dry_run, dg_purge_result *res,
	dg_error *err)
{
	dg_url u;
	store s;

	if (dg_api_bucket(cl, url, &u, &s, err) < 0)
		return -1;
	return dg_purge(&cl->dg, &s, dry_run, res, NULL, NULL, err);
}

/* ---- Presigned URLs, rehydration and ACLs ---- */

/* The S3 object a URL names, for the calls only S3 has. */
static int dg_api_s3(dg_client *cl, const char *url, dg_url *u, store *s, dg_error *e)
{
	if (dg_api_open(cl, url, 1, u, s, e) < 0)
		return -1;
	if (u->kind != DG_URL_S3)
		return sys_fail(e, DG_EUSAGE, "%s: presigned URLs need an s3:// URL", url);
	return 0;
}

static int dg_api_url_out(const sys_buf *url, char *out, size_t cap, dg_error *e)
{
	if (url->len >= cap)
		return sys_fail(e, DG_ENOMEM, "the URL takes %zu bytes; the buffer has %zu",
			url->len + 1, cap);
	memcpy(out, url->data, url->len + 1);
	return 0;
}

DG_API int dg_presign(dg_client *cl, const char *url, const char *method, unsigned expires_s,
	char *out, size_t cap, dg_error *err)
{
	sys_buf signed_url = { 0 };
	dg_url u;
	store s;
	int rc = -1;

	if (strcmp(method, "GET") != 0 && strcmp(method, "PUT") != 0)
		return sys_fail(err, DG_EUSAGE, "presign: method GET or PUT, not '%s'", method);
	if (dg_api_s3(cl, url, &u, &s, err) < 0 ||
		s3_presign(&cl->s3, method, u.bucket, u.key, NULL, 0, expires_s, &signed_url, err) < 0 ||
		dg_api_url_out(&signed_url, out, cap, err) < 0)
		goto done;
	rc = 0;
done:
	sys_buf_free(&signed_url);
	return rc;
}

/* Rebuild a delta into .deltaglider/tmp/HEX_NAME, as the Python SDK's
 * rehydrate_for_download lays it out (dg-expires-at without a zone, UTC;
 * purge removes it once expired). The link serves it as the original
 * would be: written as a copy of the delta object, with its type,
 * headers and user metadata. */
static int dg_rehydrate(dg_ctx *g, store *s, const dg_object_info *info, unsigned expires,
	char *tmp_key, size_t n, dg_error *e)
{
	unsigned char rnd[16];
	char hex[33], name[DG_MAX_KEY + 1], at[32], created[32];
	struct dg_found *found;
	struct timespec ts;
	struct stat st;
	sys_hdrs h;
	sys_meta m;
	int fd, rc = -1;

	snprintf(name, sizeof name, "%.*s", (int)(strlen(sys_basename(info->key)) -
		strlen(DG_DELTA_SFX)), sys_basename(info->key));
	if (crypto_random(rnd, sizeof rnd) < 0)
		return sys_fail_errno(e, DG_EIO, errno, "getrandom");
	crypto_hex(rnd, sizeof rnd, hex);
	snprintf(tmp_key, n, ".deltaglider/tmp/%s_%s", hex, name);
	if ((found = malloc(sizeof *found)) == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	found->have = 0;
	g->found = found;
	fd = dg_fetch_tmp(g, s, info->key, e);
	g->found = NULL;
	if (fd < 0) {
		free(found);
		return -1;
	}
	if (found->have) {
		g->copy_obj = &found->obj;
		g->copy_meta = &found->meta;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	sys_time_iso(ts.tv_sec + (time_t)expires, ts.tv_nsec / 1000, 0, at);
	sys_time_iso(ts.tv_sec, ts.tv_nsec / 1000, 0, created);
	sys_meta_init(&m);
	if (sys_meta_set(&m, "dg-expires-at", at) < 0 ||
		sys_meta_set(&m, "dg-original-key", info->key) < 0 ||
		sys_meta_set(&m, "dg-original-filename", name) < 0 ||
		sys_meta_set(&m, "dg-rehydrated", "true") < 0 ||
		sys_meta_set(&m, "dg-created-at", created) < 0) {
		sys_fail(e, DG_EUSAGE, "%s: the name does not fit in metadata", info->key);
		goto done;
	}
	if (dg_object_user_meta(g, &m, e) < 0)
		goto done;
	dg_object_hdrs(g, name, 0, &h);
	m.hdrs = &h;
	if (fstat(fd, &st) < 0) {
		sys_fail_errno(e, DG_EIO, errno, "rehydrating %s", info->key);
		goto done;
	}
	if (s->ops->put_file(s, tmp_key, fd, (uint64_t)st.st_size, info->sha256, &m, 0, e) < 0)
		goto done;
	rc = 0;
done:
	g->copy_obj = NULL;
	g->copy_meta = NULL;
	free(found);
	close(fd);
	return rc;
}

DG_API int dg_presign_download(dg_client *cl, const char *url, unsigned expires_s,
	char *out, size_t cap, dg_error *err)
{
	char tmp_key[DG_MAX_KEY + 1], disp[DG_MAX_KEY + 64];
	sys_buf signed_url = { 0 };
	dg_object_info info;
	http_hdr q = { "response-content-disposition", disp };
	dg_url u;
	store s;
	int rc = -1;

	if (dg_api_s3(cl, url, &u, &s, err) < 0 || dg_info(&s, u.key, &info, err) < 0)
		goto done;
	/* A plain object is its own bytes; a delta is rebuilt first. */
	if (info.kind != DG_ENTRY_DELTA) {
		if (s3_presign(&cl->s3, "GET", u.bucket, info.key, NULL, 0, expires_s, &signed_url,
				err) < 0)
			goto done;
	} else {
		if (expires_s < 1 || expires_s > AWS_PRESIGN_MAX) {
			sys_fail(err, DG_EUSAGE, "a presigned URL expires in 1 to %d seconds, not %u",
				AWS_PRESIGN_MAX, expires_s);
			goto done;
		}
		if (dg_rehydrate(&cl->dg, &s, &info, expires_s, tmp_key, sizeof tmp_key, err) < 0)
			goto done;
		snprintf(disp, sizeof disp, "attachment; filename=\"%s\"",
			sys_basename(tmp_key) + 33);
		if (s3_presign(&cl->s3, "GET", u.bucket, tmp_key, &q, 1, expires_s, &signed_url,
				err) < 0)
			goto done;
	}
	if (dg_api_url_out(&signed_url, out, cap, err) < 0)
		goto done;
	rc = 0;
done:
	sys_buf_free(&signed_url);
	return rc;
}

/* aws s3api's --access-control-policy JSON as S3's AccessControlPolicy. */
static int dg_acl_xml_fields(const char *js, const jsmntok_t *tok, int n, int obj,
	sys_buf *xml, dg_error *e)
{
	static const char *const fields[] = { "ID", "DisplayName", "EmailAddress", "URI" };
	char v[1024];
	size_t f;
	int t;

	for (f = 0; f < sizeof fields / sizeof fields[0]; f++) {
		if ((t = sys_json_find(js, tok, n, obj, fields[f])) < 0)
			continue;
		if (sys_json_string(js, &tok[t], v, sizeof v) < 0)
			return sys_fail(e, DG_EUSAGE, "access control policy: %s must be a string",
				fields[f]);
		sys_buf_printf(xml, "<%s>", fields[f]);
		xml_escape(xml, v);
		sys_buf_printf(xml, "</%s>", fields[f]);
	}
	return 0;
}

static int dg_acl_policy_xml(const char *js, sys_buf *xml, dg_error *e)
{
	jsmntok_t *tok = calloc(1024, sizeof *tok);
	jsmn_parser p;
	char type[64], perm[64];
	int n, t, g, k, grants, grantee, rc = -1;

	if (tok == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	jsmn_init(&p);
	n = jsmn_parse(&p, js, strlen(js), tok, 1024);
	if (n < 1 || tok[0].type != JSMN_OBJECT) {
		sys_fail(e, DG_EUSAGE, "access control policy: not a JSON object");
		goto done;
	}
	sys_buf_adds(xml, "<AccessControlPolicy xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	if ((t = sys_json_find(js, tok, n, 0, "Owner")) > 0) {
		sys_buf_adds(xml, "<Owner>");
		if (dg_acl_xml_fields(js, tok, n, t, xml, e) < 0)
			goto done;
		sys_buf_adds(xml, "</Owner>");
	}
	sys_buf_adds(xml, "<AccessControlList>");
	if ((grants = sys_json_find(js, tok, n, 0, "Grants")) > 0) {
		if (tok[grants].type != JSMN_ARRAY) {
			sys_fail(e, DG_EUSAGE, "access control policy: Grants must be a list");
			goto done;
		}
		for (k = 0, g = grants + 1; k < tok[grants].size; k++, g = sys_json_skip(tok, n, g)) {
			if ((grantee = sys_json_find(js, tok, n, g, "Grantee")) < 0 ||
				(t = sys_json_find(js, tok, n, grantee, "Type")) < 0 ||
				sys_json_string(js, &tok[t], type, sizeof type) < 0 ||
				(t = sys_json_find(js, tok, n, g, "Permission")) < 0 ||
				sys_json_string(js, &tok[t], perm, sizeof perm) < 0) {
				sys_fail(e, DG_EUSAGE, "access control policy: each grant needs a Grantee "
					"with a Type, and a Permission");
				goto done;
			}
			sys_buf_adds(xml, "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/"
				"XMLSchema-instance\" xsi:type=\"");
			xml_escape(xml, type);
			sys_buf_adds(xml, "\">");
			if (dg_acl_xml_fields(js, tok, n, grantee, xml, e) < 0)
				goto done;
			sys_buf_adds(xml, "</Grantee><Permission>");
			xml_escape(xml, perm);
			sys_buf_adds(xml, "</Permission></Grant>");
		}
	}
	if (sys_buf_adds(xml, "</AccessControlList></AccessControlPolicy>") < 0) {
		sys_fail(e, DG_ENOMEM, "out of memory");
		goto done;
	}
	rc = 0;
done:
	free(tok);
	return rc;
}

DG_API int dg_bucket_acl_put(dg_client *cl, const char *url, const dg_acl *acl, dg_error *err)
{
	const char *v[6] = { acl->canned, acl->grant_full_control, acl->grant_read,
		acl->grant_read_acp, acl->grant_write, acl->grant_write_acp };
	static const char *const names[6] = { "x-amz-acl", "x-amz-grant-full-control",
		"x-amz-grant-read", "x-amz-grant-read-acp", "x-amz-grant-write",
		"x-amz-grant-write-acp" };
	http_hdr hdrs[6];
	size_t i, n = 0;
	dg_url u;
	store s;

	sys_buf policy = { 0 };
	int rc;

	for (i = 0; i < 6; i++)
		if (v[i] && *v[i])
			hdrs[n++] = (http_hdr){ names[i], v[i] };
	if ((n == 0) == (acl->policy_json == NULL))
		return sys_fail(err, DG_EUSAGE, n ? "a policy replaces the canned ACL and grants: "
			"give one or the other" : "no ACL given: a canned ACL, grants or a policy");
	if (dg_api_bucket_s3(cl, url, &u, &s, err) < 0 ||
		(acl->policy_json && dg_acl_policy_xml(acl->policy_json, &policy, err) < 0))
		return -1;
	rc = s3_acl_put(&cl->s3, u.bucket, hdrs, n, policy.data, err);
	sys_buf_free(&policy);
	return rc;
}

DG_API int dg_bucket_acl_get(dg_client *cl, const char *url, char *json, size_t cap,
	dg_error *err)
{
	sys_buf doc = { 0 };
	dg_url u;
	store s;
	int rc = -1;

	if (dg_api_bucket_s3(cl, url, &u, &s, err) < 0 ||
		s3_acl_get(&cl->s3, u.bucket, &doc, err) < 0)
		goto done;
	if (doc.len >= cap) {
		sys_fail(err, DG_ENOMEM, "the ACL takes %zu bytes; the buffer has %zu", doc.len + 1, cap);
		goto done;
	}
	memcpy(json, doc.data, doc.len + 1);
	rc = 0;
done:
	sys_buf_free(&doc);
	return rc;
}

/* The library (-DDG_LIBRARY) has no command line and no main. */
#ifndef DG_LIBRARY

/* ======================================================================
 * §11  Command line
 *
 * aws s3 conventions: the same command names, flags, output lines and
 * exit codes (0 done, 1 some operation failed, 2 usage or could not
 * start). Errors are one line on stderr naming the object and the cause.
 * Progress goes to stderr, only on a terminal.
 * ====================================================================== */

enum {
	CMD_LS, CMD_CP, CMD_MV, CMD_SYNC, CMD_RM, CMD_MB, CMD_RB, CMD_VERIFY, CMD_STATS,
	CMD_PURGE, CMD_MIGRATE, CMD_ANALYZE, CMD_GC, CMD_PRESIGN, CMD_PUT_ACL, CMD_GET_ACL,
	CMD_HELP, CMD_COUNT
};
#define CMDS(x) (1u << (x))
#define CMDS_ALL 0xffffffffu
#define CMDS_XFER (CMDS(CMD_CP) | CMDS(CMD_MV) | CMDS(CMD_SYNC) | CMDS(CMD_MIGRATE))
/* Commands that read objects' metadata or bytes besides the transfers. */
#define CMDS_READ (CMDS(CMD_LS) | CMDS(CMD_RM) | CMDS(CMD_VERIFY) | CMDS(CMD_STATS))

enum {
	O_ENDPOINT = 1, O_REGION, O_PROFILE, O_DEBUG, O_NO_VERIFY_SSL, O_CA_BUNDLE,
	O_READ_TIMEOUT, O_CONNECT_TIMEOUT, O_HELP, O_VERSION, O_RECURSIVE, O_HUMAN,
	O_SUMMARIZE, O_QUIET, O_FORCE, O_NO_DELTA, O_ARCHIVE_DELTAS, O_MAX_RATIO, O_LEVEL, O_EXCLUDE, O_INCLUDE, O_DRYRUN,
	O_DELETE, O_SIZE_ONLY, O_NO_PROGRESS, O_ONLY_ERRORS, O_SAMPLED, O_DETAILED, O_REFRESH,
	O_NO_CACHE, O_JSON, O_YES, O_NO_PRESERVE, O_SAMPLES, O_OLDER_THAN, O_EXPIRES_IN, O_ACL,
	O_GRANT_FULL, O_GRANT_READ, O_GRANT_READ_ACP, O_GRANT_WRITE, O_GRANT_WRITE_ACP, O_ACP,
	O_CONTENT_TYPE, O_NO_GUESS, O_METADATA, O_STORAGE_CLASS, O_SSE, O_SSE_KMS, O_CACHE_CONTROL,
	O_CONTENT_DISP, O_CONTENT_ENC, O_EXPIRES, O_NO_SIGN, O_PAGE_SIZE, O_EXACT_TIMES,
	O_FOLLOW, O_NO_FOLLOW, O_SSE_C, O_SSE_C_KEY, O_SSE_C_SRC, O_SSE_C_SRC_KEY, O_REQUEST_PAYER,
	O_SOURCE_REGION
};

/* An option, the commands that take it, and its line in their help
 * (commands' pages list every option they take from here, so none is
 * missing). CMDS_ALL: a global option, listed once in cli_global_help. */
typedef struct cli_opt {
	const char *name;
	char short_name;
	int has_arg;                 /* 2: optional, the one word in arg's brackets */
	int id;
	unsigned cmds;
	const char *arg;             /* its value's name in help */
	const char *help;
} cli_opt;

static const cli_opt cli_opts[] = {
	{ "endpoint-url", 0, 1, O_ENDPOINT, CMDS_ALL, "URL", NULL },
	{ "region", 0, 1, O_REGION, CMDS_ALL, "REGION", NULL },
	{ "profile", 0, 1, O_PROFILE, CMDS_ALL, "NAME", NULL },
	{ "debug", 0, 0, O_DEBUG, CMDS_ALL, NULL, NULL },
	{ "no-verify-ssl", 0, 0, O_NO_VERIFY_SSL, CMDS_ALL, NULL, NULL },
	{ "no-sign-request", 0, 0, O_NO_SIGN, CMDS_ALL, NULL, NULL },
	{ "ca-bundle", 0, 1, O_CA_BUNDLE, CMDS_ALL, "PEM", NULL },
	{ "cli-read-timeout", 0, 1, O_READ_TIMEOUT, CMDS_ALL, "S", NULL },
	{ "cli-connect-timeout", 0, 1, O_CONNECT_TIMEOUT, CMDS_ALL, "S", NULL },
	{ "help", 0, 0, O_HELP, CMDS_ALL, NULL, NULL },
	{ "version", 0, 0, O_VERSION, CMDS_ALL, NULL, NULL },
	{ "recursive", 'r', 0, O_RECURSIVE, CMDS(CMD_LS) | CMDS(CMD_CP) | CMDS(CMD_MV) |
		CMDS(CMD_RM), NULL, "everything below the prefix or folder,\nkeeping relative paths" },
	{ "human-readable", 'h', 0, O_HUMAN, CMDS(CMD_LS) | CMDS(CMD_STATS), NULL,
		"sizes as 1.2 MiB" },
	{ "summarize", 0, 0, O_SUMMARIZE, CMDS(CMD_LS), NULL,
		"total object count and size at the end" },
	{ "quiet", 'q', 0, O_QUIET, CMDS_XFER | CMDS(CMD_RM) | CMDS(CMD_PURGE) | CMDS(CMD_GC), NULL,
		"print nothing but errors (aws hides those\ntoo; we never do)" },
	{ "only-show-errors", 0, 0, O_ONLY_ERRORS, CMDS_XFER | CMDS(CMD_RM), NULL,
		"print errors and warnings only" },
	{ "no-progress", 0, 0, O_NO_PROGRESS, CMDS_XFER, NULL, "no progress line on a terminal" },
	{ "force", 0, 0, O_FORCE, CMDS(CMD_RB), NULL, "delete every object in the bucket first" },
	{ "no-delta", 0, 0, O_NO_DELTA, CMDS_XFER, NULL, "store files as they are" },
	{ "archive-deltas", 0, 0, O_ARCHIVE_DELTAS, CMDS_XFER, NULL,
		"deltas of the contents of .zip/.gz/.jar/.whl\nwhose streams zlib regenerates (the Python\n"
		"tool cannot read them; DG_ARCHIVE_DELTAS=1)" },
	{ "max-ratio", 0, 1, O_MAX_RATIO, CMDS_XFER | CMDS(CMD_ANALYZE), "R",
		"store a file as it is when delta/size\nexceeds R (default 0.5, or DG_MAX_RATIO)" },
	{ "compression-level", 0, 1, O_LEVEL, CMDS_XFER | CMDS(CMD_ANALYZE), "N",
		"the delta encoder's effort, 1-9 as xdelta3\n-N (default 6, or DG_COMPRESSION_LEVEL)" },
	{ "exclude", 0, 1, O_EXCLUDE, CMDS_XFER | CMDS(CMD_RM), "P",
		"skip paths matching the glob P (relative\nto the source; * crosses /)" },
	{ "include", 0, 1, O_INCLUDE, CMDS_XFER | CMDS(CMD_RM), "P",
		"take back what an --exclude skipped; the\nlast matching filter wins" },
	{ "dryrun", 0, 0, O_DRYRUN, CMDS(CMD_CP) | CMDS(CMD_MV) | CMDS(CMD_SYNC) | CMDS(CMD_RM) |
		CMDS(CMD_GC), NULL, "show what would be done, do nothing" },
	{ "delete", 0, 0, O_DELETE, CMDS(CMD_SYNC), NULL,
		"delete what the source lacks (a\nreference.bin only with its last delta)" },
	{ "size-only", 0, 0, O_SIZE_ONLY, CMDS(CMD_SYNC), NULL,
		"compare sizes only, not times" },
	{ "sampled", 0, 0, O_SAMPLED, CMDS(CMD_STATS), NULL,
		"read one delta per DeltaSpace" },
	{ "detailed", 0, 0, O_DETAILED, CMDS(CMD_STATS), NULL, "read every delta" },
	{ "refresh", 0, 0, O_REFRESH, CMDS(CMD_STATS), NULL,
		"recompute even when the cached result is current" },
	{ "no-cache", 0, 0, O_NO_CACHE, CMDS(CMD_STATS), NULL,
		"neither read nor write the cached result" },
	{ "json", 0, 0, O_JSON, CMDS(CMD_STATS) | CMDS(CMD_PURGE) | CMDS(CMD_ANALYZE) |
		CMDS(CMD_VERIFY), NULL, "one JSON object, with the Python CLI's field names" },
	{ "dry-run", 0, 0, O_DRYRUN, CMDS(CMD_PURGE) | CMDS(CMD_MIGRATE), NULL,
		"show what would be done, do nothing" },
	{ "yes", 'y', 0, O_YES, CMDS(CMD_MIGRATE), NULL, "do not ask for confirmation" },
	{ "no-preserve-prefix", 0, 0, O_NO_PRESERVE, CMDS(CMD_MIGRATE), NULL,
		"put the files straight into the\ndestination, without the source's last folder" },
	{ "samples", 0, 1, O_SAMPLES, CMDS(CMD_ANALYZE), "N",
		"archives encoded per DeltaSpace (default 2)" },
	{ "older-than", 0, 1, O_OLDER_THAN, CMDS(CMD_GC), "D",
		"age of a multipart upload to abort: 90s,\n30m, 24h (default), 7d" },
	{ "expires-in", 0, 1, O_EXPIRES_IN, CMDS(CMD_PRESIGN), "S",
		"seconds the URL stays valid (default 3600,\nat most 604800: a week)" },
	{ "acl", 0, 1, O_ACL, CMDS(CMD_PUT_ACL) | CMDS_XFER, "A",
		"a canned ACL (private, public-read,\nbucket-owner-full-control, ...)" },
	{ "content-type", 0, 1, O_CONTENT_TYPE, CMDS_XFER, "T",
		"uploads' Content-Type (default: guessed from\nthe name, as aws does)" },
	{ "no-guess-mime-type", 0, 0, O_NO_GUESS, CMDS_XFER, NULL,
		"no guessed Content-Type: the server's default" },
	{ "metadata", 0, 1, O_METADATA, CMDS_XFER, "K=V,...",
		"user metadata of uploads, or as JSON\n'{\"k\":\"v\"}' (copies keep the source's\nunless given)" },
	{ "storage-class", 0, 1, O_STORAGE_CLASS, CMDS_XFER, "C",
		"STANDARD, STANDARD_IA, GLACIER_IR, ... (the\nreference.bin too)" },
	{ "sse", 0, 1, O_SSE, CMDS_XFER, "A",
		"server-side encryption: AES256 or aws:kms\n(the reference.bin too)" },
	{ "sse-kms-key-id", 0, 1, O_SSE_KMS, CMDS_XFER, "K", "the KMS key of --sse aws:kms" },
	{ "cache-control", 0, 1, O_CACHE_CONTROL, CMDS_XFER, "V", "uploads' Cache-Control" },
	{ "content-disposition", 0, 1, O_CONTENT_DISP, CMDS_XFER, "V",
		"uploads' Content-Disposition" },
	{ "content-encoding", 0, 1, O_CONTENT_ENC, CMDS_XFER, "V", "uploads' Content-Encoding" },
	{ "expires", 0, 1, O_EXPIRES, CMDS_XFER, "V", "uploads' Expires (an HTTP date)" },
	{ "page-size", 0, 1, O_PAGE_SIZE, CMDS(CMD_LS) | CMDS_XFER | CMDS(CMD_RM), "N",
		"keys per listing request (1-1000)" },
	{ "exact-timestamps", 0, 0, O_EXACT_TIMES, CMDS(CMD_SYNC), NULL,
		"downloads: same-size files are equal only\nwith the same time" },
	{ "follow-symlinks", 0, 0, O_FOLLOW, CMDS_XFER, NULL,
		"upload what local symbolic links point to\n(the default)" },
	{ "no-follow-symlinks", 0, 0, O_NO_FOLLOW, CMDS_XFER, NULL,
		"skip local symbolic links" },
	{ "sse-c", 0, 2, O_SSE_C, CMDS_XFER | CMDS_READ, "[AES256]",
		"objects encrypted with your key (SSE-C):\nuploads, downloads, and all that reads them" },
	{ "sse-c-key", 0, 1, O_SSE_C_KEY, CMDS_XFER | CMDS_READ, "K",
		"the 32-byte key of --sse-c, as it is or\nfileb://FILE" },
	{ "sse-c-copy-source", 0, 2, O_SSE_C_SRC, CMDS_XFER, "[AES256]",
		"S3 copies: the source is SSE-C encrypted" },
	{ "sse-c-copy-source-key", 0, 1, O_SSE_C_SRC_KEY, CMDS_XFER, "K",
		"its key, as --sse-c-key takes it" },
	{ "request-payer", 0, 2, O_REQUEST_PAYER, CMDS_XFER | CMDS_READ, "[requester]",
		"you pay for the requests to a\nrequester-pays bucket" },
	{ "source-region", 0, 1, O_SOURCE_REGION, CMDS_XFER, "REGION",
		"S3 copies: the source bucket's region" },
	{ "grant-full-control", 0, 1, O_GRANT_FULL, CMDS(CMD_PUT_ACL), "G",
		"grantees: id=..., uri=... or\nemailAddress=..., comma-separated" },
	{ "grant-read", 0, 1, O_GRANT_READ, CMDS(CMD_PUT_ACL), "G", "grantees, as above" },
	{ "grant-read-acp", 0, 1, O_GRANT_READ_ACP, CMDS(CMD_PUT_ACL), "G", "grantees, as above" },
	{ "grant-write", 0, 1, O_GRANT_WRITE, CMDS(CMD_PUT_ACL), "G", "grantees, as above" },
	{ "grant-write-acp", 0, 1, O_GRANT_WRITE_ACP, CMDS(CMD_PUT_ACL), "G", "grantees, as above" },
	{ "access-control-policy", 0, 1, O_ACP, CMDS(CMD_PUT_ACL), "J",
		"a whole policy, as aws s3api takes it:\n{\"Owner\": {...}, \"Grants\": [...]}" },
};

/* --exclude/--include, in command-line order: the last match wins. */
typedef struct cli_filter {
	int include;
	const char *pattern;
} cli_filter;

/* Transfer progress on stderr: the files' bytes as the client reports
 * them (see dg_progress_fn), and the files finished. */
typedef struct cli_progress {
	int on;
	uint64_t files_total, files_done, bytes_total, bytes_done;
	int64_t start_ms, drawn_ms;
	int shown;
} cli_progress;

typedef struct cli {
	int cmd;
	char **args;                 /* positional arguments after the command */
	int nargs;
	int recursive, human, summarize, quiet, only_errors, no_progress, force;
	int dryrun, delete_extra, size_only, sampled, detailed, refresh, no_cache, json, yes;
	int no_preserve, exact_times, no_follow;
	int sse_c, sse_c_src;        /* --sse-c, --sse-c-copy-source given */
	unsigned samples;
	time_t older_than;           /* gc: seconds */
	unsigned expires_in;         /* presign: seconds */
	dg_acl acl;                  /* put-bucket-acl */
	cli_filter *filters;
	int nfilters;
	dg_config conf;              /* the environment's, then the flags' */
	dg_client *cl;
	dg_ctx *dg;                  /* the client's core */
	cli_progress prog;
	int failed;                  /* operations that failed */
	int worst;                   /* the highest exit status they called for */
	pthread_mutex_t lock;        /* output, progress and the counts above, for
	                                transfers running in parallel */
} cli;

typedef struct cli_cmd {
	const char *name;
	int id;
	int min_args, max_args;
	int (*run)(cli *c);
	const char *usage;
	const char *help;            /* what it does; its options come from cli_opts */
	const char *examples;
} cli_cmd;

/* aws prints relative local paths as ./path. */
static void dg_urlal_display(const char *path, char *out, size_t n)
{
	if (path[0] == '/' || strncmp(path, "./", 2) == 0 || strncmp(path, "../", 3) == 0)
		snprintf(out, n, "%s", path);
	else
		snprintf(out, n, "./%s", path);
}

/* How an object of l is shown: s3://b/key, file:///key or a local path. */
static void cli_url(const dg_url *l, const char *key, char *out, size_t n)
{
	if (l->kind == DG_URL_S3)
		snprintf(out, n, "s3://%s/%s", l->bucket, key);
	else if (l->kind == DG_URL_FILE)
		snprintf(out, n, "file:///%s", key);
	else
		dg_urlal_display(key, out, n);
}

/* "a/b" + "c" with one slash between (none when dir is empty). */
static void cli_join(const char *dir, const char *rel, char *out, size_t n)
{
	size_t d = strlen(dir);

	snprintf(out, n, "%s%s%s", dir, d && dir[d - 1] != '/' ? "/" : "", rel);
}

static int cli_exit_code(const dg_error *e)
{
	return e->code == DG_EUSAGE || e->code == DG_ECONFIG ? 2 : 1;
}

/* Count a failed operation of a command that goes on with the others. */
static void cli_failed(cli *c, const dg_error *e)
{
	int code = e ? cli_exit_code(e) : 1;

	pthread_mutex_lock(&c->lock);
	c->failed++;
	if (code > c->worst)
		c->worst = code;
	pthread_mutex_unlock(&c->lock);
}

/* ---- progress ------------------------------------------------------------ */

static void cli_progress_clear(cli *c)
{
	if (c->prog.shown) {
		fputs("\r\033[K", stderr);
		c->prog.shown = 0;
	}
}

/* One line for all the files in flight, as aws draws it: the bytes done
 * of the total, their rate, the files left; never wider than the
 * terminal, so it never wraps. */
static void cli_progress_draw(cli *c, int force)
{
	cli_progress *p = &c->prog;
	int64_t now = sys_now_ms(), el;
	char done[32], total[32], rate[32], line[160];
	struct winsize ws;
	size_t width = 80;
	double secs;

	if (!p->on || (!force && now - p->drawn_ms < 250))
		return;
	p->drawn_ms = now;
	el = now - p->start_ms;
	secs = el > 0 ? (double)el / 1000.0 : 0.001;
	sys_human_size(p->bytes_done, done);
	sys_human_size(p->bytes_total, total);
	sys_human_size((uint64_t)((double)p->bytes_done / secs), rate);
	snprintf(line, sizeof line, "Completed %s/%s (%s/s) with %" PRIu64 " file(s) remaining",
		done, total, rate, p->files_total - p->files_done);
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		width = ws.ws_col;
	fprintf(stderr, "\r\033[K%.*s", (int)(width - 1), line);
	p->shown = 1;
}

static void cli_meter(void *ctx, uint64_t n)
{
	cli *c = ctx;

	pthread_mutex_lock(&c->lock);
	c->prog.bytes_done += n;
	cli_progress_draw(c, 0);
	pthread_mutex_unlock(&c->lock);
}

static int cli_progress_wanted(const cli *c)
{
	return !c->quiet && !c->only_errors && !c->no_progress && !c->dryrun &&
		isatty(STDERR_FILENO);
}

static void cli_progress_start(cli *c, uint64_t files, uint64_t bytes)
{
	c->prog = (cli_progress){ 0 };
	c->prog.on = cli_progress_wanted(c);
	c->prog.files_total = files;
	c->prog.bytes_total = bytes;
	c->prog.start_ms = c->prog.drawn_ms = sys_now_ms();
	cli_progress_draw(c, 1);
}

static void cli_progress_file(cli *c)
{
	pthread_mutex_lock(&c->lock);
	c->prog.files_done++;
	cli_progress_draw(c, 0);
	pthread_mutex_unlock(&c->lock);
}

/* Output lines (stdout) and error lines (stderr) around the progress line. */
static void cli_say(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cli_say(cli *c, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet || c->only_errors)
		return;
	pthread_mutex_lock(&c->lock);
	cli_progress_clear(c);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	cli_progress_draw(c, 1);
	pthread_mutex_unlock(&c->lock);
}

static void cli_error(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cli_error(cli *c, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&c->lock);
	cli_progress_clear(c);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	cli_progress_draw(c, 1);
	pthread_mutex_unlock(&c->lock);
}

/* ---- configuration --------------------------------------------------------- */

/* ---- filters and listings ------------------------------------------------- */

/* aws semantics: every path is in unless a filter says otherwise, and the
 * last filter that matches decides. Patterns match the path relative to
 * the source, '*' crossing '/'. */
static int cli_wanted(const cli *c, const char *rel)
{
	int in = 1, i;

	for (i = 0; i < c->nfilters; i++)
		if (fnmatch(c->filters[i].pattern, rel, 0) == 0)
			in = c->filters[i].include;
	return in;
}

/* One file of a recursive operation: its path relative to the source or
 * destination root. */
typedef struct cli_item {
	char *rel;
	uint64_t size;
	time_t mtime;
	int kind;                    /* DG_ENTRY_* for store items */
	int todo;                    /* sync: to be copied */
} cli_item;

typedef struct cli_items {
	cli_item *v;
	size_t n, cap;
	const char *prefix;          /* stripped from store keys */
	int incomplete;              /* something could not be listed */
} cli_items;

static int cli_items_add(cli_items *it, const char *rel, uint64_t size, time_t mtime, int kind,
	dg_error *e)
{
	if (it->n == it->cap) {
		cli_item *g = realloc(it->v, (it->cap = it->cap ? 2 * it->cap : 256) * sizeof *g);

		if (g == NULL)
			return sys_fail(e, DG_ENOMEM, "out of memory");
		it->v = g;
	}
	it->v[it->n].rel = strdup(rel);
	if (it->v[it->n].rel == NULL)
		return sys_fail(e, DG_ENOMEM, "out of memory");
	it->v[it->n].size = size;
	it->v[it->n].mtime = mtime;
	it->v[it->n].kind = kind;
	it->v[it->n].todo = 0;
	it->n++;
	return 0;
}

static void cli_items_free(cli_items *it)
{
	size_t i;

	for (i = 0; i < it->n; i++)
		free(it->v[i].rel);
	free(it->v);
	memset(it, 0, sizeof *it);
}

static int cli_item_cmp(const void *a, const void *b)
{
	return strcmp(((const cli_item *)a)->rel, ((const cli_item *)b)->rel);
}

static const cli_item *cli_items_find(const cli_items *it, const char *rel)
{
	cli_item key = { (char *)rel, 0, 0, 0, 0 };

	return it->n ? bsearch(&key, it->v, it->n, sizeof *it->v, cli_item_cmp) : NULL;
}

/* The folders above one being scanned: a symbolic link back to one of
 * them would make the walk endless. */
typedef struct cli_dir_up {
	dev_t dev;
	ino_t ino;
	const struct cli_dir_up *up;
} cli_dir_up;

/* What a local scan could not read: reported, and the listing is marked
 * incomplete so that it never drives deletions. */
static void cli_scan_skip(cli *c, cli_items *out, const char *path, const char *why)
{
	char shown[DG_MAX_PATH];

	dg_urlal_display(path, shown, sizeof shown);
	cli_error(c, "warning: skipping %s: %s\n", shown, why);
	cli_failed(c, NULL);
	out->incomplete = 1;
}

/* Every regular file below root (following symlinks, as aws does). What
 * cannot be read goes to cli_scan_skip, a folder whose reading fails
 * half-way included; sys_tmp_open's leftovers are not files of the tree. */
static int cli_scan_local(cli *c, const char *root, const char *rel, const cli_dir_up *up,
	cli_items *out, dg_error *e)
{
	char path[DG_MAX_PATH], child[DG_MAX_PATH];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	cli_join(root, rel, path, sizeof path);
	d = opendir(path);
	if (d == NULL) {
		if (rel[0] == 0)
			return sys_fail_errno(e, errno == ENOENT ? DG_ENOTFOUND : DG_EIO, errno,
				"cannot list %s", path);
		cli_scan_skip(c, out, path, strerror(errno));
		return 0;
	}
	while (rc == 0) {
		struct stat st;
		char r[DG_MAX_PATH];

		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno)   /* NULL is also the end: only errno tells them apart */
				cli_scan_skip(c, out, path, strerror(errno));
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
			sys_is_tmp_name(de->d_name))
			continue;
		cli_join(rel, de->d_name, r, sizeof r);
		cli_join(root, r, child, sizeof child);
		if (c->no_follow && lstat(child, &st) == 0 && S_ISLNK(st.st_mode))
			continue;   /* --no-follow-symlinks: links are skipped, as aws does */
		if (stat(child, &st) < 0) {
			int err = errno;

			if (err == ENOENT && lstat(child, &st) < 0)
				continue;   /* gone since readdir */
			cli_scan_skip(c, out, child, err == ENOENT ? "broken symbolic link" :
				strerror(err));
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			cli_dir_up here = { st.st_dev, st.st_ino, up };
			const cli_dir_up *a;

			for (a = up; a && (a->dev != st.st_dev || a->ino != st.st_ino); a = a->up)
				;
			if (a) {
				cli_scan_skip(c, out, child, "a symbolic link to a folder above it");
				continue;
			}
			rc = cli_scan_local(c, root, r, &here, out, e);
		} else if (S_ISREG(st.st_mode))
			rc = cli_items_add(out, r, (uint64_t)st.st_size, st.st_mtime, DG_ENTRY_PLAIN, e);
	}
	closedir(d);
	return rc;
}

static int cli_scan_store_one(void *ctx, const dg_entry *ent, dg_error *e)
{
	cli_items *it = ctx;
	size_t plen = strlen(it->prefix);

	if (ent->kind == DG_ENTRY_PREFIX || strncmp(ent->name, it->prefix, plen) != 0)
		return 0;
	return cli_items_add(it, ent->name + plen, ent->size, ent->mtime, ent->kind, e);
}

/* The logical objects below prefix (which ends in / or is empty). */
static int cli_scan_store(cli *c, store *s, const char *prefix, cli_items *out, dg_error *e)
{
	out->prefix = prefix;
	return dg_list(c->dg, s, prefix, NULL, cli_scan_store_one, out, e);
}

/* The folder a recursive operation works on: the key, with a slash. */
static void cli_dir_prefix(const char *key, char *out, size_t n)
{
	size_t len = strlen(key);

	snprintf(out, n, "%s%s", key, len && key[len - 1] != '/' ? "/" : "");
}

/* Scan one side of a recursive operation, sorted by relative path. A
 * local source must exist: a typo is not an empty folder. */
static int cli_scan(cli *c, const dg_url *l, store *s, const char *root, int is_source,
	cli_items *out, dg_error *e)
{
	int rc;

	if (l->kind == DG_URL_LOCAL) {
		struct stat st;

		if (stat(root, &st) < 0) {
			if (errno == ENOENT && !is_source)
				return 0;   /* a destination that does not exist yet is empty */
			if (errno == ENOENT)
				return sys_fail(e, DG_EUSAGE, "the user-provided path %s does not exist",
					l->text);
			return sys_fail_errno(e, DG_EIO, errno, "%s", l->text);
		}
		if (!S_ISDIR(st.st_mode))
			return sys_fail(e, DG_EUSAGE, "%s is not a directory", l->text);
		cli_dir_up top = { st.st_dev, st.st_ino, NULL };

		rc = cli_scan_local(c, root, "", &top, out, e);
	} else if ((rc = cli_scan_store(c, s, root, out, e)) < 0) {
		sys_err_prefix(e, "%s: ", l->text);
	}
	if (rc == 0 && out->n)
		qsort(out->v, out->n, sizeof *out->v, cli_item_cmp);
	return rc;
}

/* Does a key, relative to a download's destination, climb out of it? Such
 * keys are skipped, never written (aws does the same). */
static int cli_rel_escapes(const char *rel)
{
	const char *p = rel;

	for (;;) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 1;
		if (p[n] == 0)
			return 0;
		p += n + 1;
	}
}

/* Skip (and report) a download whose key would leave the destination. */
static int cli_unsafe_download(cli *c, const dg_url *src, const char *key, const dg_url *dst,
	const char *rel)
{
	char shown[DG_MAX_URL];

	if (dst->kind != DG_URL_LOCAL || !cli_rel_escapes(rel))
		return 0;
	cli_url(src, key, shown, sizeof shown);
	cli_error(c, "warning: skipping %s: its key leads outside %s\n", shown, dst->text);
	cli_failed(c, NULL);
	return 1;
}

/* ---- one transfer ----------------------------------------------------------- */

/* A side of a transfer: a local path, or a key in an open store. */
typedef struct cli_end {
	const dg_url *loc;
	store *s;
	char path[DG_MAX_PATH];      /* local path or store key */
} cli_end;

static void cli_put_summary(const dg_put_result *res, char *out, size_t n)
{
	char size[32], stored[32];

	sys_human_size(res->size, size);
	sys_human_size(res->stored, stored);
	if (res->kind == DG_PUT_DELTA)
		snprintf(out, n, " (%sdelta: %s for %s, ratio %.4f, saved %.1f%%)",
			res->archive ? "archive " : "", stored, size,
			res->size ? (double)res->stored / (double)res->size : 0.0,
			res->size ? 100.0 * (1.0 - (double)res->stored / (double)res->size) : 0.0);
	else if (res->kind == DG_PUT_REFERENCE)
		snprintf(out, n, " (reference: %s stored in full)", size);
	else if (res->over_ratio && res->over_delta &&
		(double)res->over_delta < DG_REPORT_RATIO * (double)res->size) {
		char saved[32];

		sys_human_size(res->size - res->over_delta, saved);
		sys_human_size(res->over_delta, stored);
		snprintf(out, n, " (direct: %s; a delta, about %s, passes the max ratio: --max-ratio "
			"%.1f would save about %s)", size, stored, DG_REPORT_RATIO, saved);
	} else if (res->over_ratio)
		snprintf(out, n, " (direct: %s; a delta passes the max ratio)", size);
	else
		snprintf(out, n, " (direct: %s)", size);
}

/* Set a downloaded file's mtime to the object's, so sync sees it current. */
static void cli_set_mtime(const char *path, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };

	if (t > 0)
		utimensat(AT_FDCWD, path, ts, 0);
}

/* Like aws, a download creates the directories its path names. */
static int cli_make_parent(const char *path, dg_error *e)
{
	char dir[DG_MAX_PATH];
	size_t n = (size_t)(sys_basename(path) - path);

	if (n <= 1)
		return 0;
	snprintf(dir, sizeof dir, "%.*s", (int)n - 1, path);
	return sys_mkdirs(dir, 0777, e);
}

/* Copy one file between a local path and a store, or between stores
 * (reconstructed, verified, then uploaded into the destination's
 * DeltaSpace). verb names it in the output: upload, download, copy.
 * mtime > 0 is set on downloaded files. Returns 0, or 1 on failure
 * (reported); res receives what an upload stored. */
/* Where an end lives on this machine's file system: a local path, or a
 * file:// object's; NULL for S3. */
static const char *cli_fs_path(const cli_end *end, char *out, size_t n)
{
	if (end->loc->kind == DG_URL_S3)
		return NULL;
	if (end->loc->kind == DG_URL_FILE)
		snprintf(out, n, "/%s", end->path);
	else
		sys_strlcpy(out, end->path, n);
	return out;
}

/* One object's identity, to compare two ends: s3://bucket/key, or the
 * file's path with its folder resolved (symlinks, "..", a file:// URL for
 * a local path); without a .delta suffix, since x.zip and x.zip.delta are
 * one object. */
static void cli_identity(const cli_end *end, char *out, size_t n)
{
	char path[DG_MAX_PATH], dir[DG_MAX_PATH], real[PATH_MAX];
	size_t len;

	if (cli_fs_path(end, path, sizeof path) == NULL) {
		snprintf(out, n, "s3://%s/%s", end->loc->bucket, end->path);
	} else {
		sys_strlcpy(dir, path, sizeof dir);
		if (strchr(dir, '/'))
			*strrchr(dir, '/') = 0;
		else
			sys_strlcpy(dir, ".", sizeof dir);
		if (realpath(dir[0] ? dir : "/", real))
			snprintf(out, n, "%s/%s", real, sys_basename(path));
		else
			sys_strlcpy(out, path, n);
	}
	len = strlen(out);
	if (sys_ends_with_ci(out, DG_DELTA_SFX))
		out[len - strlen(DG_DELTA_SFX)] = 0;
}

/* mv: the source goes once the destination is written and verified, and
 * only if it is still what was copied: a local file not replaced or
 * changed meanwhile, and never the destination itself (a file:// store
 * and a local path can name one file). */
static int cli_remove_source(dg_ctx *g, const cli_end *src, const cli_end *dst,
	const struct stat *before, dg_error *e)
{
	char sp[DG_MAX_PATH], dp[DG_MAX_PATH];
	struct stat a, b;

	if (src->loc->kind == DG_URL_LOCAL) {
		if (lstat(src->path, &a) < 0 || a.st_dev != before->st_dev ||
			a.st_ino != before->st_ino || a.st_size != before->st_size ||
			a.st_mtim.tv_sec != before->st_mtim.tv_sec ||
			a.st_mtim.tv_nsec != before->st_mtim.tv_nsec)
			return sys_fail(e, DG_EIO, "%s changed while it was copied; it stays", src->path);
		if (unlink(src->path) < 0)
			return sys_fail_errno(e, DG_EIO, errno, "cannot remove %s", src->path);
		return 0;
	}
	if (cli_fs_path(src, sp, sizeof sp) && cli_fs_path(dst, dp, sizeof dp) &&
		stat(sp, &a) == 0 && stat(dp, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return sys_fail(e, DG_EEXIST, "the destination is the source itself; it stays");
	return dg_rm(g, src->s, src->path, e);
}

static int cli_transfer(cli *c, dg_ctx *g, const cli_end *src, const cli_end *dst,
	time_t mtime, dg_put_result *res)
{
	char from[DG_MAX_URL], to[DG_MAX_URL], summary[160] = "", a[DG_MAX_PATH], b[DG_MAX_PATH];
	const char *verb = c->cmd == CMD_MV ? "move" : src->loc->kind == DG_URL_LOCAL ? "upload" :
		dst->loc->kind == DG_URL_LOCAL ? "download" : "copy";
	dg_put_result local;
	struct stat before = { 0 };
	dg_error e;
	int rc;

	if (res == NULL)
		res = &local;
	memset(res, 0, sizeof *res);
	cli_url(src->loc, src->path, from, sizeof from);
	cli_url(dst->loc, dst->path, to, sizeof to);
	if (c->cmd == CMD_MV) {
		cli_identity(src, a, sizeof a);
		cli_identity(dst, b, sizeof b);
		if (strcmp(a, b) == 0) {
			rc = sys_fail(&e, DG_EEXIST, "cannot move an object onto itself");
			goto done;
		}
		if (src->loc->kind == DG_URL_LOCAL && !c->dryrun && lstat(src->path, &before) < 0) {
			rc = sys_fail_errno(&e, DG_ENOTFOUND, errno, "%s", src->path);
			goto done;
		}
	}
	if (c->dryrun) {
		cli_say(c, "(dryrun) %s: %s to %s\n", verb, from, to);
		return 0;
	}
	if (src->loc->kind == DG_URL_LOCAL) {
		rc = dg_put(g, dst->s, dst->path, src->path, res, &e);
	} else if (dst->loc->kind == DG_URL_LOCAL) {
		rc = cli_make_parent(dst->path, &e);
		if (rc == 0)
			rc = dg_get(g, src->s, src->path, dst->path, &e);
		if (rc == 0)
			cli_set_mtime(dst->path, mtime);
	} else {
		rc = dg_copy(g, src->s, src->path, dst->s, dst->path, res, &e);
	}
	if (rc == 0 && c->cmd == CMD_MV)
		rc = cli_remove_source(g, src, dst, &before, &e);
done:
	cli_progress_file(c);
	if (rc < 0) {
		cli_error(c, "%s failed: %s to %s: %s\n", verb, from, to, e.msg);
		cli_failed(c, &e);
		return 1;
	}
	if (dst->loc->kind != DG_URL_LOCAL)
		cli_put_summary(res, summary, sizeof summary);
	cli_say(c, "%s: %s to %s%s\n", verb, from, to, summary);
	return 0;
}

/* ---- many transfers, in parallel -------------------------------------------- */

/* The files of cp -r, sync and migrate run in parallel (see "Parallel
 * work" in §10); their lines come in the order they finish, as aws's do.
 * The first archive of each folder goes alone: it may become the folder's
 * reference, which the others then encode against (or, downloading,
 * fetch once into the cache), so the others of its folder wait for it. */
typedef struct cli_batch {
	cli *c;
	cli_end from, to;            /* locations and the caller's stores (slot 0) */
	const char *sroot, *droot;
	const cli_items *items;
	size_t *job;                 /* the items to copy */
	size_t *opener;              /* per job: the job its folder waits for, or SIZE_MAX */
	unsigned char *done;
	size_t n;
	uint64_t moved, stored;      /* what the copies stored (migrate's summary) */
	pthread_mutex_t lock;
	pthread_cond_t finished;
	store ws[DG_MAX_CONCURRENCY][2];   /* each thread's stores */
	unsigned char ready[DG_MAX_CONCURRENCY];
} cli_batch;

/* Slot's stores, opened on its worker client on first use. */
static void cli_batch_stores(cli_batch *b, dg_client *w, unsigned slot, cli_end *from,
	cli_end *to)
{
	if (slot == 0)
		return;
	if (!b->ready[slot]) {
		if (from->loc->kind != DG_URL_LOCAL)
			dg_worker_store(w, b->from.s, &b->ws[slot][0]);
		if (to->loc->kind != DG_URL_LOCAL)
			dg_worker_store(w, b->to.s, &b->ws[slot][1]);
		b->ready[slot] = 1;
	}
	from->s = &b->ws[slot][0];
	to->s = &b->ws[slot][1];
}

static void cli_batch_job(void *ctx, dg_client *w, unsigned slot, size_t j)
{
	cli_batch *b = ctx;
	const cli_item *it = &b->items->v[b->job[j]];
	cli_end from = b->from, to = b->to;
	dg_put_result res;

	if (b->opener[j] != SIZE_MAX && b->opener[j] != j) {
		pthread_mutex_lock(&b->lock);
		while (!b->done[b->opener[j]])
			pthread_cond_wait(&b->finished, &b->lock);
		pthread_mutex_unlock(&b->lock);
	}
	if (from.loc->kind == DG_URL_LOCAL)
		cli_join(b->sroot, it->rel, from.path, sizeof from.path);
	else
		snprintf(from.path, sizeof from.path, "%s%s", b->sroot, it->rel);
	if (to.loc->kind == DG_URL_LOCAL)
		cli_join(b->droot, it->rel, to.path, sizeof to.path);
	else
		snprintf(to.path, sizeof to.path, "%s%s", b->droot, it->rel);
	if (cli_unsafe_download(b->c, from.loc, from.path, to.loc, it->rel))
		goto done;
	cli_batch_stores(b, w, slot, &from, &to);
	if (cli_transfer(b->c, dg_client_ctx(w), &from, &to, it->mtime, &res) == 0 &&
		!b->c->dryrun) {
		pthread_mutex_lock(&b->lock);
		b->moved += res.size;
		b->stored += res.stored;
		pthread_mutex_unlock(&b->lock);
	}
done:
	pthread_mutex_lock(&b->lock);
	b->done[j] = 1;
	pthread_cond_broadcast(&b->finished);
	pthread_mutex_unlock(&b->lock);
}

/* Is an item one whose folder's first should go alone? Archives, which
 * uploads may make references, and deltas, whose reference a download
 * fetches. */
static int cli_batch_shares(const cli_item *it)
{
	return it->kind == DG_ENTRY_DELTA || dg_delta_eligible(sys_basename(it->rel));
}

/* Copy the items marked todo from one end to the other; failures, of
 * files or of memory, are reported and counted in c. */
static void cli_batch_run(cli *c, const cli_end *from, const cli_end *to, const char *sroot,
	const char *droot, const cli_items *items, uint64_t *moved, uint64_t *stored)
{
	cli_batch *b = calloc(1, sizeof *b);
	size_t i, last = SIZE_MAX;

	if (b == NULL || (b->job = calloc(items->n + 1, sizeof *b->job)) == NULL ||
		(b->opener = calloc(items->n + 1, sizeof *b->opener)) == NULL ||
		(b->done = calloc(items->n + 1, 1)) == NULL) {
		cli_error(c, "out of memory planning the copy of %s\n", from->loc->text);
		cli_failed(c, NULL);
		goto done;
	}
	b->c = c;
	b->from = *from;
	b->to = *to;
	b->sroot = sroot;
	b->droot = droot;
	b->items = items;
	for (i = 0; i < items->n; i++) {
		const cli_item *it = &items->v[i];
		size_t j = b->n;

		if (!it->todo)
			continue;
		b->job[b->n++] = i;
		b->opener[j] = SIZE_MAX;
		if (!cli_batch_shares(it))
			continue;
		if (last != SIZE_MAX && sys_same_dir(items->v[b->job[last]].rel, it->rel))
			b->opener[j] = b->opener[last];
		else
			b->opener[j] = j;
		last = j;
	}
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->finished, NULL);
	if (c->dryrun)   /* nothing to wait for: the plan, in order */
		for (i = 0; i < b->n; i++)
			cli_batch_job(b, c->cl, 0, i);
	else
		dg_parallel(c->cl, b->n, cli_batch_job, b);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->finished);
	if (moved)
		*moved = b->moved;
	if (stored)
		*stored = b->stored;
done:
	if (b) {
		free(b->job);
		free(b->opener);
		free(b->done);
	}
	free(b);
}

/* ---- ls ---------------------------------------------------------------- */

typedef struct cli_ls_state {
	cli *c;
	uint64_t objects, bytes, prefixes;
} cli_ls_state;

static int cli_ls_bucket(void *ctx, const char *name, time_t created, dg_error *e)
{
	char date[20];

	(void)ctx;
	(void)e;
	sys_time_local(created, date);
	printf("%s %s\n", date, name);
	return 0;
}

static int cli_ls_entry(void *ctx, const dg_entry *o, dg_error *e)
{
	cli_ls_state *ls = ctx;
	const char *name = o->name;
	char date[20], size[32];

	(void)e;
	if (o->kind == DG_ENTRY_PREFIX) {
		/* The last path component of the prefix, with its slash. */
		size_t n = strlen(name);
		const char *start = name + n - 1;

		while (start > name && start[-1] != '/')
			start--;
		printf("%27sPRE %s\n", "", start);
		ls->prefixes++;
		return 0;
	}
	if (!ls->c->recursive)
		name = sys_basename(name);
	sys_time_local(o->mtime, date);
	if (ls->c->human)
		sys_human_size(o->size, size);
	else
		snprintf(size, sizeof size, "%" PRIu64, o->size);
	printf("%s %10s %s\n", date, size, name);
	ls->objects++;
	ls->bytes += o->size;
	return 0;
}

static int cli_ls(cli *c)
{
	dg_url l;
	store s;
	cli_ls_state ls = { c, 0, 0, 0 };
	dg_error e;

	if (c->nargs == 0) {
		if (dg_bucket_list(c->cl, cli_ls_bucket, NULL, &e) < 0) {
			fprintf(stderr, "ls failed: %s\n", e.msg);
			return cli_exit_code(&e);
		}
		return 0;
	}
	if (dg_url_parse(c->args[0], &l, &e) < 0 || (l.kind == DG_URL_LOCAL &&
		sys_fail(&e, DG_EUSAGE, "%s: ls takes an s3:// or file:// URL", c->args[0]) < 0) ||
		dg_client_store(c->cl, &l, &s, &e) < 0) {
		fprintf(stderr, "ls failed: %s\n", e.msg);
		return cli_exit_code(&e);
	}
	if (dg_list(c->dg, &s, l.key, c->recursive ? NULL : "/", cli_ls_entry, &ls, &e) < 0) {
		fprintf(stderr, "ls failed: %s: %s\n", l.text, e.msg);
		return cli_exit_code(&e);
	}
	if (c->summarize) {
		char total[32];

		if (c->human)
			sys_human_size(ls.bytes, total);
		else
			snprintf(total, sizeof total, "%" PRIu64, ls.bytes);
		printf("\nTotal Objects: %" PRIu64 "\n   Total Size: %s\n", ls.objects, total);
	}
	fflush(stdout);
	/* Like aws s3 ls: a prefix that lists nothing, neither object nor
	 * folder, is a failure (--summarize or not). */
	return ls.objects == 0 && ls.prefixes == 0 && l.key[0] ? 1 : 0;
}

/* ---- cp ---------------------------------------------------------------- */

static int cli_usage_error(const char *cmd, const dg_error *e)
{
	fprintf(stderr, "%s: %s\n", cmd, e->msg);
	return cli_exit_code(e);
}

/* Open what a location needs: a store, or nothing for a local path. */
static int cli_end_open(cli *c, const dg_url *l, store *s, cli_end *end, dg_error *e)
{
	end->loc = l;
	end->s = s;
	return l->kind == DG_URL_LOCAL ? 0 : dg_client_store(c->cl, l, s, e);
}

/* Both ends of a transfer from a to b. */
static int cli_ends_open(cli *c, const dg_url *a, store *as, cli_end *from, const dg_url *b,
	store *bs, cli_end *to, dg_error *e)
{
	if (cli_end_open(c, a, as, from, e) < 0 || cli_end_open(c, b, bs, to, e) < 0)
		return -1;
	return dg_client_source(c->cl, a, b, e);
}

/* cp and mv share their code; their messages name the one typed. */
static const char *cli_cp_name(const cli *c)
{
	return c->cmd == CMD_MV ? "mv" : "cp";
}

static int cli_cp_recursive(cli *c, const dg_url *a, const dg_url *b)
{
	char sroot[DG_MAX_PATH], droot[DG_MAX_PATH];
	cli_items src = { 0 };
	cli_end from, to;
	store ss, ds;
	uint64_t bytes = 0, files = 0;
	dg_error e;
	size_t i;

	if (cli_ends_open(c, a, &ss, &from, b, &ds, &to, &e) < 0)
		return cli_usage_error(cli_cp_name(c), &e);
	if (a->kind == DG_URL_LOCAL)
		sys_strlcpy(sroot, a->key, sizeof sroot);
	else
		cli_dir_prefix(a->key, sroot, sizeof sroot);
	if (b->kind == DG_URL_LOCAL)
		sys_strlcpy(droot, b->key, sizeof droot);
	else
		cli_dir_prefix(b->key, droot, sizeof droot);
	if (cli_scan(c, a, &ss, sroot, 1, &src, &e) < 0) {
		cli_items_free(&src);
		fprintf(stderr, "%s failed: %s\n", cli_cp_name(c), e.msg);
		return cli_exit_code(&e);
	}
	for (i = 0; i < src.n; i++)
		if ((src.v[i].todo = cli_wanted(c, src.v[i].rel)))
			files++, bytes += src.v[i].size;
	cli_progress_start(c, files, bytes);
	cli_batch_run(c, &from, &to, sroot, droot, &src, NULL, NULL);
	cli_progress_clear(c);
	cli_items_free(&src);
	return c->worst;
}

/* cp s3://b/key - : the object, verified, on stdout. */
static int cli_cp_stdout(cli *c, const dg_url *a)
{
	store s;
	dg_error e;

	if (dg_client_store(c->cl, a, &s, &e) < 0)
		return cli_usage_error("cp", &e);
	if (dg_get_stream(c->dg, &s, a->key, STDOUT_FILENO, NULL, &e) < 0) {
		fprintf(stderr, "download failed: %s to -: %s\n", a->text, e.msg);
		return cli_exit_code(&e);
	}
	return 0;
}

/* cp - s3://b/key : stdin, kept in a temporary file (its SHA-256 and size
 * go into the metadata before the body), then uploaded. */
static int cli_cp_stdin(cli *c, const dg_url *b)
{
	char buf[65536], shown[DG_MAX_URL], summary[160];
	dg_put_result res;
	store s;
	dg_error e;
	ssize_t r;
	int fd, rc = 1;

	if (b->key[0] == 0 || b->key[strlen(b->key) - 1] == '/') {
		fprintf(stderr, "cp: uploading stdin needs the object's full key, not %s\n", b->text);
		return 2;
	}
	if (dg_client_store(c->cl, b, &s, &e) < 0)
		return cli_usage_error("cp", &e);
	fd = sys_tmpfile(c->dg->tmpdir, &e);
	if (fd < 0)
		goto fail;
	while ((r = read(STDIN_FILENO, buf, sizeof buf)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			sys_fail_errno(&e, DG_EIO, errno, "reading stdin");
			goto fail;
		}
		if (sys_write_all(fd, buf, (size_t)r, &e, "a temporary file") < 0)
			goto fail;
	}
	if (dg_put_fd(c->dg, &s, b->key, fd, &res, &e) < 0)
		goto fail;
	cli_url(b, b->key, shown, sizeof shown);
	cli_put_summary(&res, summary, sizeof summary);
	cli_say(c, "upload: - to %s%s\n", shown, summary);
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "upload failed: - to %s: %s\n", b->text, e.msg);
	rc = cli_exit_code(&e);
done:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The name a copy into a folder gives: a delta asked for by its stored
 * name (x.zip.delta) is x.zip, what it holds; anything else keeps its own. */
static void cli_logical_name(const dg_url *a, store *s, char *out, size_t cap)
{
	const char *base = sys_basename(a->key);
	dg_object_info info;
	dg_error e;

	sys_strlcpy(out, base, cap);
	if (a->kind != DG_URL_LOCAL && sys_ends_with_ci(base, DG_DELTA_SFX) &&
		dg_info(s, a->key, &info, &e) == 0 && info.kind == DG_ENTRY_DELTA)
		out[strlen(base) - strlen(DG_DELTA_SFX)] = 0;
}

/* The logical size of a file or object, for the progress line: a HEAD,
 * as aws makes before a download; 0 when unknown. */
static uint64_t cli_size_of(const dg_url *a, store *s)
{
	dg_object_info info;
	struct stat st;
	dg_error e;

	if (a->kind == DG_URL_LOCAL)
		return stat(a->key, &st) == 0 ? (uint64_t)st.st_size : 0;
	return dg_info(s, a->key, &info, &e) == 0 ? info.size : 0;
}

static int cli_cp(cli *c)
{
	char name[DG_MAX_PATH];
	dg_url a, b;
	cli_end from, to;
	store ss, ds;
	struct stat st;
	dg_error e;
	size_t n;

	if (dg_url_parse(c->args[0], &a, &e) < 0 || dg_url_parse(c->args[1], &b, &e) < 0)
		return cli_usage_error(cli_cp_name(c), &e);
	if (a.kind == DG_URL_LOCAL && b.kind == DG_URL_LOCAL) {
		fprintf(stderr, "%s: one of %s and %s must be an s3:// or file:// URL\n", cli_cp_name(c),
			a.text, b.text);
		return 2;
	}
	if (c->recursive)
		return cli_cp_recursive(c, &a, &b);
	if (c->cmd == CMD_MV && ((a.kind == DG_URL_LOCAL && strcmp(a.key, "-") == 0) ||
		(b.kind == DG_URL_LOCAL && strcmp(b.key, "-") == 0))) {
		fprintf(stderr, "mv: - (stdin or stdout) cannot be moved; use cp\n");
		return 2;
	}
	if (a.kind != DG_URL_LOCAL && b.kind == DG_URL_LOCAL && strcmp(b.key, "-") == 0)
		return cli_cp_stdout(c, &a);
	if (a.kind == DG_URL_LOCAL && strcmp(a.key, "-") == 0)
		return cli_cp_stdin(c, &b);
	if (!cli_wanted(c, sys_basename(a.key)))
		return 0;
	if (a.kind != DG_URL_LOCAL && (a.key[0] == 0 || a.key[strlen(a.key) - 1] == '/')) {
		fprintf(stderr, "%s: %s is not an object key (use --recursive for a prefix)\n",
			cli_cp_name(c), a.text);
		return 2;
	}
	if (a.kind == DG_URL_LOCAL && stat(a.key, &st) == 0 && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s: %s is a directory (use --recursive)\n", cli_cp_name(c), a.text);
		return 2;
	}
	if (cli_ends_open(c, &a, &ss, &from, &b, &ds, &to, &e) < 0)
		return cli_usage_error(cli_cp_name(c), &e);
	sys_strlcpy(from.path, a.key, sizeof from.path);
	cli_logical_name(&a, &ss, name, sizeof name);
	n = strlen(b.key);
	if (b.kind == DG_URL_LOCAL) {
		/* Into a directory (existing, or named with a trailing slash). */
		if ((n && b.key[n - 1] == '/') || (stat(b.key, &st) == 0 && S_ISDIR(st.st_mode)))
			cli_join(b.key, name, to.path, sizeof to.path);
		else
			sys_strlcpy(to.path, b.key, sizeof to.path);
	} else if (n == 0 || b.key[n - 1] == '/') {
		/* A folder, or a bare bucket: the file keeps its name. */
		snprintf(to.path, sizeof to.path, "%s%s", b.key, name);
	} else {
		sys_strlcpy(to.path, b.key, sizeof to.path);
	}
	cli_progress_start(c, 1, cli_progress_wanted(c) ? cli_size_of(&a, &ss) : 0);
	cli_transfer(c, c->dg, &from, &to, 0, NULL);
	cli_progress_clear(c);
	return c->worst;
}

/* ---- sync -------------------------------------------------------------- */

/* Delete store objects known from a listing and say so, a line each: a
 * key the server refused is named with its reason and the others still
 * go (a failure of the whole request names the URL the user gave). */
static void cli_rm_entries(cli *c, dg_ctx *g, store *s, const dg_url *l, const dg_entry *ents,
	size_t n)
{
	char (*why)[DG_MAX_WHY] = NULL, shown[DG_MAX_URL];
	size_t i, named = 0;
	dg_error e;

	if (!c->dryrun && (why = calloc(n ? n : 1, sizeof *why)) == NULL) {
		cli_error(c, "delete failed: %s: out of memory\n", l->text);
		cli_failed(c, NULL);
		return;
	}
	if (!c->dryrun && dg_rm_many(g, s, ents, n, why, &e) < 0) {
		for (i = 0; i < n; i++)
			named += why[i][0] != 0;
		cli_failed(c, &e);
		if (named == 0) {
			cli_error(c, "delete failed: %s: %s\n", l->text, e.msg);
			goto done;
		}
	}
	for (i = 0; i < n; i++) {
		cli_url(l, ents[i].name, shown, sizeof shown);
		if (why && why[i][0])
			cli_error(c, "delete failed: %s: %s\n", shown, why[i]);
		else
			cli_say(c, "%sdelete: %s\n", c->dryrun ? "(dryrun) " : "", shown);
	}
done:
	free(why);
}

static int cli_sync(cli *c)
{
	char sroot[DG_MAX_PATH], droot[DG_MAX_PATH], shown[DG_MAX_URL];
	cli_items src = { 0 }, dst = { 0 };
	dg_url a, b;
	cli_end from, to;
	store ss, ds;
	dg_entry *gone = NULL;
	uint64_t bytes = 0, files = 0;
	size_t i, ngone = 0;
	dg_error e;
	int rc = 0;

	if (dg_url_parse(c->args[0], &a, &e) < 0 || dg_url_parse(c->args[1], &b, &e) < 0)
		return cli_usage_error("sync", &e);
	if (a.kind == DG_URL_LOCAL && b.kind == DG_URL_LOCAL) {
		fprintf(stderr, "sync: one of %s and %s must be an s3:// or file:// URL\n", a.text,
			b.text);
		return 2;
	}
	if (cli_ends_open(c, &a, &ss, &from, &b, &ds, &to, &e) < 0)
		return cli_usage_error("sync", &e);
	if (a.kind == DG_URL_LOCAL)
		sys_strlcpy(sroot, a.key, sizeof sroot);
	else
		cli_dir_prefix(a.key, sroot, sizeof sroot);
	if (b.kind == DG_URL_LOCAL)
		sys_strlcpy(droot, b.key, sizeof droot);
	else
		cli_dir_prefix(b.key, droot, sizeof droot);
	if (b.kind == DG_URL_LOCAL && droot[0] == 0)
		sys_strlcpy(droot, ".", sizeof droot);
	if (cli_scan(c, &a, &ss, sroot, 1, &src, &e) < 0 ||
		cli_scan(c, &b, &ds, droot, 0, &dst, &e) < 0) {
		fprintf(stderr, "sync failed: %s\n", e.msg);
		rc = cli_exit_code(&e);
		goto done;
	}
	/* A store has no folders: a mistyped source prefix lists as empty, and
	 * --delete would then empty the destination. That takes rm -r. */
	if (c->delete_extra && a.kind != DG_URL_LOCAL && src.n == 0 && dst.n > 0) {
		cli_url(&a, sroot, shown, sizeof shown);
		fprintf(stderr, "sync: %s holds no objects: not deleting the %zu file(s) under %s (a mistyped "
			"source? to empty it, use rm --recursive)\n", shown, dst.n, b.text);
		rc = 2;
		goto done;
	}
	/* What differs: missing, another size, or (unless --size-only) newer. */
	for (i = 0; i < src.n; i++) {
		const cli_item *d = cli_items_find(&dst, src.v[i].rel);

		if (!cli_wanted(c, src.v[i].rel))
			continue;
		/* --exact-timestamps (downloads): only the same time is the same file. */
		if (d && d->size == src.v[i].size && (c->size_only ||
				(c->exact_times && b.kind == DG_URL_LOCAL ? src.v[i].mtime == d->mtime :
				src.v[i].mtime <= d->mtime)))
			continue;
		src.v[i].todo = 1;
		files++;
		bytes += src.v[i].size;
	}
	cli_progress_start(c, files, bytes);
	cli_batch_run(c, &from, &to, sroot, droot, &src, NULL, NULL);
	if (c->delete_extra && (src.incomplete || dst.incomplete)) {
		cli_error(c, "warning: not deleting anything: %s could not be listed completely\n",
			src.incomplete ? a.text : b.text);
	} else if (c->delete_extra) {
		gone = calloc(dst.n ? dst.n : 1, sizeof *gone);
		if (gone == NULL) {
			rc = 1;
			goto done;
		}
		for (i = 0; i < dst.n; i++) {
			char path[DG_MAX_PATH];

			if (!cli_wanted(c, dst.v[i].rel) || cli_items_find(&src, dst.v[i].rel))
				continue;
			if (b.kind == DG_URL_LOCAL) {
				cli_join(droot, dst.v[i].rel, path, sizeof path);
				dg_urlal_display(path, shown, sizeof shown);
				if (c->dryrun)
					cli_say(c, "(dryrun) delete: %s\n", shown);
				else if (unlink(path) < 0)
					cli_error(c, "delete failed: %s: %s\n", shown, strerror(errno)), cli_failed(c, NULL);
				else
					cli_say(c, "delete: %s\n", shown);
				continue;
			}
			snprintf(path, sizeof path, "%s%s", droot, dst.v[i].rel);
			gone[ngone].name = strdup(path);
			gone[ngone].kind = dst.v[i].kind;
			if (gone[ngone].name == NULL) {
				rc = 1;
				goto done;
			}
			ngone++;
		}
		/* Store deletions go in one batch, so references are checked once. */
		if (ngone)
			cli_rm_entries(c, c->dg, &ds, &b, gone, ngone);
	}
	rc = c->worst;
done:
	cli_progress_clear(c);
	for (i = 0; i < ngone; i++)
		free((char *)gone[i].name);
	free(gone);
	cli_items_free(&src);
	cli_items_free(&dst);
	return rc;
}

/* ---- rm ---------------------------------------------------------------- */

/* rm -r: DeleteObjects batches of 1000, in parallel, each ending with
 * its DeltaSpaces' reference check. A reference whose deltas two batches
 * share may outlive both checks: the orphan sweep at the end takes it. */
#define CLI_RM_BATCH 1000

typedef struct cli_rm_run {
	cli *c;
	const dg_url *l;
	store *s;
	dg_entry *ents;
	size_t n;
	store ws[DG_MAX_CONCURRENCY];      /* each thread's copy of s */
	unsigned char ready[DG_MAX_CONCURRENCY];
} cli_rm_run;

static void cli_rm_job(void *ctx, dg_client *w, unsigned slot, size_t i)
{
	cli_rm_run *r = ctx;
	dg_entry *batch = r->ents + i * CLI_RM_BATCH;
	size_t n = r->n - i * CLI_RM_BATCH;
	store *s = slot ? &r->ws[slot] : r->s;

	if (n > CLI_RM_BATCH)
		n = CLI_RM_BATCH;
	if (slot && !r->ready[slot]) {
		dg_worker_store(w, r->s, s);
		r->ready[slot] = 1;
	}
	cli_rm_entries(r->c, dg_client_ctx(w), s, r->l, batch, n);
}

static int cli_rm_recursive(cli *c, const dg_url *l, store *s)
{
	char prefix[DG_MAX_KEY + 2], key[DG_MAX_KEY + 2];
	cli_items all = { 0 };
	cli_rm_run *r = calloc(1, sizeof *r);
	size_t i;
	dg_error e;
	int rc = 1;

	if (l->key[0])
		cli_dir_prefix(l->key, prefix, sizeof prefix);
	else
		prefix[0] = 0;
	if (r == NULL)
		goto oom;
	if (cli_scan_store(c, s, prefix, &all, &e) < 0) {
		fprintf(stderr, "delete failed: %s: %s\n", l->text, e.msg);
		rc = cli_exit_code(&e);
		goto done;
	}
	*r = (cli_rm_run){ .c = c, .l = l, .s = s };
	if ((r->ents = calloc(all.n ? all.n : 1, sizeof *r->ents)) == NULL)
		goto oom;
	for (i = 0; i < all.n; i++) {
		if (!cli_wanted(c, all.v[i].rel))
			continue;
		snprintf(key, sizeof key, "%s%s", prefix, all.v[i].rel);
		if ((r->ents[r->n].name = strdup(key)) == NULL)
			goto oom;
		r->ents[r->n++].kind = all.v[i].kind;
	}
	dg_parallel(c->cl, (r->n + CLI_RM_BATCH - 1) / CLI_RM_BATCH, cli_rm_job, r);
	/* References no delta needs, left by an interrupted upload or delete
	 * (or by two batches above), go with the folder. */
	if (!c->dryrun && c->failed == 0 && dg_cleanup_orphans(c->dg, s, prefix, &e) < 0) {
		cli_error(c, "delete failed: %s: %s\n", l->text, e.msg);
		cli_failed(c, &e);
	}
	rc = c->worst;
	goto done;
oom:
	fprintf(stderr, "delete failed: %s: out of memory\n", l->text);
done:
	for (i = 0; r && r->ents && i < r->n; i++)
		free((char *)r->ents[i].name);
	if (r)
		free(r->ents);
	free(r);
	cli_items_free(&all);
	return rc;
}

static int cli_rm(cli *c)
{
	char shown[DG_MAX_URL];
	dg_url l;
	store s;
	dg_error e;

	if (dg_url_parse(c->args[0], &l, &e) < 0 || (l.kind == DG_URL_LOCAL &&
		sys_fail(&e, DG_EUSAGE, "%s: rm takes an s3:// or file:// URL", c->args[0]) < 0))
		return cli_usage_error("rm", &e);
	/* aws s3 rm never deletes a bucket: without a key there is nothing to
	 * remove but everything, which takes --recursive (or rb). */
	if (!c->recursive && l.key[0] == 0) {
		fprintf(stderr, "rm: %s names no object (use --recursive to delete everything in "
			"it, rb to remove the bucket)\n", l.text);
		return 2;
	}
	if (dg_client_store(c->cl, &l, &s, &e) < 0)
		return cli_usage_error("rm", &e);
	if (c->recursive)
		return cli_rm_recursive(c, &l, &s);
	cli_url(&l, l.key, shown, sizeof shown);
	if (c->dryrun) {
		cli_say(c, "(dryrun) delete: %s\n", shown);
		return 0;
	}
	if (dg_rm(c->dg, &s, l.key, &e) < 0) {
		if (e.code == DG_ENOTFOUND)
			fprintf(stderr, "delete: Object not found: %s\n", shown);
		else
			fprintf(stderr, "delete failed: %s: %s\n", shown, e.msg);
		return cli_exit_code(&e);
	}
	cli_say(c, "delete: %s\n", shown);
	return 0;
}

/* ---- mb, rb, verify -------------------------------------------------------- */

/* How a bucket is named in mb/rb lines: its name, or its file:// URL. */
static void cli_bucket_name(const dg_url *u, char *out, size_t n)
{
	if (u->kind == DG_URL_S3)
		snprintf(out, n, "%s", u->bucket);
	else
		snprintf(out, n, "file:///%s", u->key);
}

static int cli_mb(cli *c)
{
	char name[DG_MAX_URL];
	dg_url u;
	dg_error e;

	if (dg_bucket_url(c->args[0], &u, &e) < 0 || dg_bucket_create(c->cl, c->args[0], &e) < 0) {
		fprintf(stderr, "make_bucket failed: %s: %s\n", c->args[0], e.msg);
		return cli_exit_code(&e);
	}
	cli_bucket_name(&u, name, sizeof name);
	printf("make_bucket: %s\n", name);
	return 0;
}

static int cli_rb_deleted(void *ctx, const sys_object *o, dg_error *e)
{
	char shown[DG_MAX_URL];

	(void)e;
	cli_url(ctx, o->key, shown, sizeof shown);
	printf("delete: %s\n", shown);
	return 0;
}

static int cli_rb(cli *c)
{
	char name[DG_MAX_URL];
	dg_url u;
	dg_error e;

	/* --force empties the bucket first: every stored object, references too. */
	if (dg_bucket_url(c->args[0], &u, &e) < 0 ||
		dg_bucket_remove(c->cl, &u, c->force, cli_rb_deleted, &u, &e) < 0) {
		fprintf(stderr, "remove_bucket failed: %s: %s\n", c->args[0], e.msg);
		return cli_exit_code(&e);
	}
	cli_bucket_name(&u, name, sizeof name);
	printf("remove_bucket: %s\n", name);
	return 0;
}

/* ---- verify ------------------------------------------------------------ */

static int cli_verify(cli *c)
{
	char shown[DG_MAX_URL], want[65], got[65];
	dg_url l;
	store s;
	dg_error e;
	int r;

	if (dg_url_parse(c->args[0], &l, &e) < 0 || (l.kind == DG_URL_LOCAL &&
		sys_fail(&e, DG_EUSAGE, "%s: verify takes an s3:// or file:// URL", c->args[0]) < 0))
		return cli_usage_error("verify", &e);
	cli_url(&l, l.key, shown, sizeof shown);
	if (dg_client_store(c->cl, &l, &s, &e) < 0 ||
		(r = dg_verify(c->dg, &s, l.key, want, got, &e)) < 0) {
		fprintf(stderr, "verify failed: %s: %s\n", shown, e.msg);
		return cli_exit_code(&e);
	}
	if (c->json) {   /* the Python CLI's verify output */
		printf("{\"valid\": %s, \"expected_sha256\": \"%s\", \"actual_sha256\": \"%s\", "
			"\"message\": \"%s\"}\n", r == 1 ? "true" : "false", want, got,
			r == 1 ? "Verification successful" : "SHA256 mismatch");
		return r == 1 ? 0 : 1;
	}
	if (r == 1) {
		printf("valid: %s (sha256 %s)\n", shown, got);
		return 0;
	}
	printf("invalid: %s (expected sha256 %s, got %s)\n", shown, want, got);
	return 1;
}

/* ---- stats, purge ------------------------------------------------------------ */

/* BUCKET or s3://BUCKET, as the Python CLI takes it. */
static void cli_bucket_as_url(const char *arg, char *out, size_t n)
{
	snprintf(out, n, "%s%s", strstr(arg, "://") ? "" : "s3://", arg);
	if (strncmp(out, "s3://", 5) == 0 && strlen(out) > 5 && out[strlen(out) - 1] == '/')
		out[strlen(out) - 1] = 0;
}

/* BUCKET, s3://BUCKET or s3://BUCKET/: the store of a whole bucket. */
static int cli_bucket_store(cli *c, const char *arg, dg_url *l, store *s, dg_error *e)
{
	char url[DG_MAX_URL];

	cli_bucket_as_url(arg, url, sizeof url);
	if (dg_url_parse(url, l, e) < 0)
		return -1;
	if (l->kind != DG_URL_S3 || l->key[0])
		return sys_fail(e, DG_EUSAGE, "%s: expected BUCKET or s3://BUCKET", arg);
	l->text = arg;
	return dg_client_store(c->cl, l, s, e);
}

static void cli_json_str(const char *str)
{
	sys_buf b = { 0 };

	sys_json_escape(&b, str);
	fputs(b.data ? b.data : "\"\"", stdout);
	sys_buf_free(&b);
}

static void cli_size_line(const char *label, uint64_t n, int human)
{
	char h[32];

	sys_human_size(n, h);
	if (human)
		printf("  %-16s %s\n", label, h);
	else
		printf("  %-16s %" PRIu64 " (%s)\n", label, n, h);
}

static int cli_stats(cli *c)
{
	static const char *const modes[] = { "quick", "sampled", "detailed" };
	dg_url l;
	store s;
	dg_stats st;
	dg_error e;
	int mode = c->detailed ? DG_STATS_DETAILED : c->sampled ? DG_STATS_SAMPLED : DG_STATS_QUICK;

	if (c->sampled && c->detailed) {
		fprintf(stderr, "stats: --sampled and --detailed are exclusive\n");
		return 2;
	}
	if (cli_bucket_store(c, c->args[0], &l, &s, &e) < 0)
		return cli_usage_error("stats", &e);
	if (dg_stats_get(c->dg, &s, l.bucket, mode, !c->no_cache, c->refresh, &st, &e) < 0) {
		fprintf(stderr, "stats failed: s3://%s: %s\n", l.bucket, e.msg);
		return cli_exit_code(&e);
	}
	if (c->json) {
		printf("{\"bucket\": ");
		cli_json_str(l.bucket);
		printf(", \"mode\": \"%s\", \"cached\": %s, \"object_count\": %" PRIu64
			", \"total_size\": %" PRIu64 ", \"compressed_size\": %" PRIu64
			", \"space_saved\": %" PRIu64 ", \"average_compression_ratio\": %.6f"
			", \"delta_objects\": %" PRIu64 ", \"direct_objects\": %" PRIu64
			", \"reference_objects\": %" PRIu64 ", \"unknown_size_deltas\": %" PRIu64 "}\n",
			modes[mode], st.from_cache ? "true" : "false", st.object_count, st.total_size,
			st.compressed_size, st.space_saved, st.ratio, st.delta_objects, st.direct_objects,
			st.reference_objects, st.unknown_deltas);
		return 0;
	}
	printf("Statistics for s3://%s (%s mode%s)\n", l.bucket, modes[mode],
		st.from_cache ? ", from cache" : "");
	printf("  %-16s %" PRIu64 " (%" PRIu64 " delta, %" PRIu64 " direct; %" PRIu64
		" reference.bin)\n", "Objects:", st.object_count, st.delta_objects, st.direct_objects,
		st.reference_objects);
	cli_size_line("Original size:", st.total_size, c->human);
	cli_size_line("Stored size:", st.compressed_size, c->human);
	cli_size_line("Space saved:", st.space_saved, c->human);
	printf("  %-16s %.1f%%\n", "Savings:", 100.0 * st.ratio);
	if (st.unknown_deltas)
		printf("  (the original size of %" PRIu64 " delta(s) is not read in %s mode and is "
			"left out; use --sampled or --detailed)\n", st.unknown_deltas, modes[mode]);
	return 0;
}

typedef struct cli_purge_state {
	cli *c;
	const char *bucket;
} cli_purge_state;

static int cli_purge_one(void *ctx, const dg_entry *ent, dg_error *e)
{
	cli_purge_state *ps = ctx;

	(void)e;
	if (!ps->c->json)
		cli_say(ps->c, "%sdelete: s3://%s/%s\n", ps->c->dryrun ? "(dryrun) " : "", ps->bucket,
			ent->name);
	return 0;
}

static int cli_purge(cli *c)
{
	dg_url l;
	store s;
	dg_purge_result r;
	cli_purge_state ps = { c, l.bucket };
	dg_error e;

	if (cli_bucket_store(c, c->args[0], &l, &s, &e) < 0)
		return cli_usage_error("purge", &e);
	if (dg_purge(c->dg, &s, c->dryrun, &r, cli_purge_one, &ps, &e) < 0) {
		fprintf(stderr, "purge failed: s3://%s: %s\n", l.bucket, e.msg);
		return cli_exit_code(&e);
	}
	/* The Python CLI's fields: what expired, what went (none in a dry run). */
	if (c->json) {
		printf("{\"bucket\": ");
		cli_json_str(l.bucket);
		printf(", \"prefix\": \".deltaglider/tmp/\", \"dry_run\": %s, \"expired_count\": %"
			PRIu64 ", \"deleted_count\": %" PRIu64 ", \"error_count\": 0, "
			"\"total_size_freed\": %" PRIu64 ", \"kept_count\": %" PRIu64 "}\n",
			c->dryrun ? "true" : "false", r.deleted, c->dryrun ? 0 : r.deleted,
			c->dryrun ? 0 : r.bytes, r.kept);
	}
	else if (!c->quiet)
		printf("%s %" PRIu64 " expired temporary object(s), %" PRIu64 " bytes; %" PRIu64
			" not expired\n", c->dryrun ? "Would purge" : "Purged", r.deleted, r.bytes, r.kept);
	return 0;
}

/* ---- migrate ------------------------------------------------------------------ */

/* Ask on the terminal; no terminal means no. */
static int cli_confirm(const char *question)
{
	char line[16];

	if (!isatty(STDIN_FILENO))
		return -1;
	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (fgets(line, sizeof line, stdin) == NULL)
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}

/* Said once, before a migration starts, as the Python CLI does: where the
 * EC2 instance is, and a warning when S3 requests leave its region. */
static void cli_ec2_notice(cli *c)
{
	dg_ec2_place p;
	char where[140];

	if (c->quiet || c->only_errors || !dg_client_ec2(c->cl, &p))
		return;
	snprintf(where, sizeof where, p.zone[0] ? "%s (%s)" : "%s", p.region, p.zone);
	if (strcmp(p.region, p.s3_region) == 0)
		fprintf(stderr, "EC2 instance in %s, the S3 region: no cross-region charges\n", where);
	else
		fprintf(stderr, "warning: this EC2 instance is in %s but S3 requests go to %s: expect "
			"cross-region data transfer charges (%s --region %s)\n", where, p.s3_region,
			p.region_flag ? "drop --region or use" : "if the bucket is there, use", p.region);
}

static int cli_migrate(cli *c)
{
	char sroot[DG_MAX_KEY + 2], droot[DG_MAX_KEY + 2], q[DG_MAX_URL], a_h[32], b_h[32];
	cli_items src = { 0 }, dst = { 0 };
	dg_url a, b;
	cli_end from, to;
	store ss, ds;
	uint64_t files = 0, bytes = 0, skipped = 0, stored = 0, moved = 0;
	size_t i;
	dg_error e;
	int rc = 0;

	if (dg_url_parse(c->args[0], &a, &e) < 0 || dg_url_parse(c->args[1], &b, &e) < 0)
		return cli_usage_error("migrate", &e);
	if (a.kind == DG_URL_LOCAL || b.kind == DG_URL_LOCAL) {
		fprintf(stderr, "migrate: both %s and %s must be s3:// or file:// URLs\n", a.text, b.text);
		return 2;
	}
	if (cli_ends_open(c, &a, &ss, &from, &b, &ds, &to, &e) < 0)
		return cli_usage_error("migrate", &e);
	cli_dir_prefix(a.key, sroot, sizeof sroot);
	if (a.key[0] == 0)
		sroot[0] = 0;
	cli_dir_prefix(b.key, droot, sizeof droot);
	if (b.key[0] == 0)
		droot[0] = 0;
	/* s3://src/a/b/c/ -> s3://dst/x/ lands in x/c/ unless --no-preserve-prefix. */
	if (!c->no_preserve && sroot[0]) {
		char last[DG_MAX_KEY + 1];
		size_t n = strlen(sroot) - 1;

		snprintf(last, sizeof last, "%.*s", (int)n, sroot);
		snprintf(droot + strlen(droot), sizeof droot - strlen(droot), "%s/", sys_basename(last));
	}
	if (a.kind == DG_URL_S3 || b.kind == DG_URL_S3)
		cli_ec2_notice(c);
	if (cli_scan(c, &a, &ss, sroot, 1, &src, &e) < 0 ||
		cli_scan(c, &b, &ds, droot, 0, &dst, &e) < 0) {
		fprintf(stderr, "migrate failed: %s\n", e.msg);
		rc = cli_exit_code(&e);
		goto done;
	}
	for (i = 0; i < src.n; i++) {
		if (!cli_wanted(c, src.v[i].rel))
			continue;
		if (cli_items_find(&dst, src.v[i].rel)) {
			skipped++;   /* resume: already migrated */
			continue;
		}
		src.v[i].todo = 1;
		files++;
		bytes += src.v[i].size;
	}
	sys_human_size(bytes, a_h);
	cli_url(&b, droot, q, sizeof q);
	if (!c->quiet && !c->only_errors)
		printf("migrate: %" PRIu64 " file(s), %s, from %s to %s (%" PRIu64 " already there)\n",
			files, a_h, a.text, q, skipped);
	if (files == 0)
		goto done;
	if (!c->dryrun && !c->yes) {
		int r;

		snprintf(q, sizeof q, "Migrate %" PRIu64 " file(s) (%s)?", files, a_h);
		r = cli_confirm(q);
		if (r < 0) {
			fprintf(stderr, "migrate: refusing to start without confirmation: no terminal to "
				"ask on (pass --yes)\n");
			rc = 2;
			goto done;
		}
		if (r == 0) {
			fprintf(stderr, "migrate: cancelled\n");
			rc = 1;
			goto done;
		}
	}
	cli_progress_start(c, files, bytes);
	cli_batch_run(c, &from, &to, sroot, droot, &src, &moved, &stored);
	cli_progress_clear(c);
	if (!c->dryrun && !c->quiet && !c->only_errors) {
		sys_human_size(moved, a_h);
		sys_human_size(stored, b_h);
		printf("migrate: done: %" PRIu64 " file(s) copied, %s stored as %s (%.1f%% saved), %"
			PRIu64 " skipped, %d failed\n", files - (uint64_t)c->failed, a_h, b_h,
			moved ? 100.0 * (1.0 - (double)stored / (double)moved) : 0.0, skipped, c->failed);
	}
	rc = c->worst;
done:
	cli_items_free(&src);
	cli_items_free(&dst);
	return rc;
}

/* ---- analyze ------------------------------------------------------------------- */

typedef struct cli_an_state {
	cli *c;
	sys_buf groups;              /* JSON of each group, for --json */
} cli_an_state;

static int cli_an_group(void *ctx, const dg_group *grp, dg_error *e)
{
	cli_an_state *st = ctx;
	char o[32], s[32];

	(void)e;
	if (st->c->json) {
		sys_buf_adds(&st->groups, st->groups.len ? ", {\"deltaspace\": " : "{\"deltaspace\": ");
		sys_json_escape(&st->groups, grp->space);
		sys_buf_printf(&st->groups, ", \"archives\": %" PRIu64 ", \"original_size\": %" PRIu64
			", \"estimated_size\": %" PRIu64 ", \"sampled\": %" PRIu64 "}", grp->files,
			grp->bytes, grp->est_stored, grp->sampled);
		return 0;
	}
	sys_human_size(grp->bytes, o);
	sys_human_size(grp->est_stored, s);
	printf("  %-40s %4" PRIu64 " archive(s) %10s -> %10s (%.1f%% saved, %" PRIu64 " sampled)\n",
		grp->space[0] ? grp->space : "(bucket root)", grp->files, o, s,
		grp->bytes ? 100.0 * (1.0 - (double)grp->est_stored / (double)grp->bytes) : 0.0,
		grp->sampled);
	return 0;
}

static int cli_analyze(cli *c)
{
	char o[32], s[32];
	cli_an_state st = { c, { 0 } };
	dg_analysis a;
	dg_url l;
	store sto;
	dg_error e;
	double saved;

	if (dg_url_parse(c->args[0], &l, &e) < 0 || (l.kind == DG_URL_LOCAL &&
		sys_fail(&e, DG_EUSAGE, "%s: analyze takes an s3:// or file:// URL", c->args[0]) < 0) ||
		dg_client_store(c->cl, &l, &sto, &e) < 0)
		return cli_usage_error("analyze", &e);
	if (!c->json)
		printf("Analyzing %s (nothing is written)...\n", l.text);
	if (dg_analyze(c->dg, &sto, l.key, c->samples, &a, cli_an_group, &st, &e) < 0) {
		sys_buf_free(&st.groups);
		fprintf(stderr, "analyze failed: %s: %s\n", l.text, e.msg);
		return cli_exit_code(&e);
	}
	saved = a.bytes ? 1.0 - (double)a.est_stored / (double)a.bytes : 0.0;
	if (c->json) {
		printf("{\"location\": ");
		cli_json_str(l.text);
		printf(", \"files\": %" PRIu64 ", \"original_size\": %" PRIu64 ", \"estimated_size\": %"
			PRIu64 ", \"estimated_savings\": %.4f, \"deltaspaces\": [%s]}\n", a.files, a.bytes,
			a.est_stored, saved, st.groups.data ? st.groups.data : "");
	} else {
		sys_human_size(a.bytes, o);
		sys_human_size(a.est_stored, s);
		printf("%" PRIu64 " file(s), %" PRIu64 " DeltaSpace(s) with archives\n", a.files, a.groups);
		printf("Potential savings: %.1f%% (%s -> %s)\n", 100.0 * saved, o, s);
	}
	sys_buf_free(&st.groups);
	return 0;
}

/* ---- gc ------------------------------------------------------------------ */

typedef struct cli_gc_state {
	cli *c;
	const dg_url *l;
	uint64_t counts[5];          /* by DG_GC_* */
} cli_gc_state;

static int cli_gc_one(void *ctx, const dg_gc_item *it, dg_error *e)
{
	cli_gc_state *st = ctx;
	cli *c = st->c;
	char shown[DG_MAX_URL], other[DG_MAX_URL], when[20];
	const char *dry = c->dryrun ? "(dryrun) " : "";

	(void)e;
	st->counts[it->kind]++;
	cli_url(st->l, it->key, shown, sizeof shown);
	switch (it->kind) {
	case DG_GC_ORPHAN:
		cli_say(c, "%sdelete: %s (no delta uses it)\n", dry, shown);
		break;
	case DG_GC_KEPT:
		cli_say(c, "kept: %s (an upload may be using it)\n", shown);
		break;
	case DG_GC_NO_REFERENCE:
		cli_url(st->l, it->detail, other, sizeof other);
		cli_error(c, "warning: %s cannot be downloaded: its reference %s is missing\n", shown,
			other);
		cli_failed(c, NULL);
		break;
	case DG_GC_UPLOAD:
		sys_time_local(it->when, when);
		cli_say(c, "%sabort: %s (%s started %s)\n", dry, shown,
			st->l->kind == DG_URL_FILE ? "unfinished write" : "multipart upload", when);
		break;
	case DG_GC_LOCK:
		cli_say(c, "%sdelete: %s (expired)\n", dry, shown);
		break;
	}
	return 0;
}

static int cli_gc(cli *c)
{
	cli_gc_state st = { c, NULL, { 0 } };
	dg_url l;
	store s;
	dg_error e;

	if (dg_url_parse(c->args[0], &l, &e) < 0 || (l.kind == DG_URL_LOCAL &&
		sys_fail(&e, DG_EUSAGE, "%s: gc takes an s3:// or file:// URL", c->args[0]) < 0) ||
		dg_client_store(c->cl, &l, &s, &e) < 0)
		return cli_usage_error("gc", &e);
	st.l = &l;
	if (dg_gc(c->dg, &s, l.key, c->dryrun, c->older_than, cli_gc_one, &st, &e) < 0) {
		fprintf(stderr, "gc failed: %s: %s\n", l.text, e.msg);
		cli_failed(c, &e);
		return c->worst;
	}
	if (!c->quiet)
		printf("gc: %" PRIu64 " unused reference(s) %s, %" PRIu64 " kept in use, %" PRIu64
			" stale upload(s) %s, %" PRIu64 " expired lock(s) %s; %" PRIu64 " delta(s) without "
			"a reference\n", st.counts[DG_GC_ORPHAN], c->dryrun ? "to remove" : "removed",
			st.counts[DG_GC_KEPT], st.counts[DG_GC_UPLOAD], c->dryrun ? "to abort" : "aborted",
			st.counts[DG_GC_LOCK], c->dryrun ? "to remove" : "removed",
			st.counts[DG_GC_NO_REFERENCE]);
	return c->worst;
}

/* ---- help -------------------------------------------------------------- */

/* ---- presign, bucket ACLs --------------------------------------------------- */

static int cli_presign(cli *c)
{
	char url[16384];
	dg_error e;

	if (dg_presign_download(c->cl, c->args[0], c->expires_in, url, sizeof url, &e) < 0) {
		fprintf(stderr, "presign failed: %s: %s\n", c->args[0], e.msg);
		return cli_exit_code(&e);
	}
	printf("%s\n", url);
	return 0;
}

static int cli_put_acl(cli *c)
{
	char url[DG_MAX_URL];
	dg_error e;

	cli_bucket_as_url(c->args[0], url, sizeof url);
	if (dg_bucket_acl_put(c->cl, url, &c->acl, &e) < 0) {
		fprintf(stderr, "put-bucket-acl failed: %s: %s\n", c->args[0], e.msg);
		return cli_exit_code(&e);
	}
	printf("ACL updated for bucket: %s\n", url + 5);
	return 0;
}

static int cli_get_acl(cli *c)
{
	char url[DG_MAX_URL], json[65536];
	dg_error e;

	cli_bucket_as_url(c->args[0], url, sizeof url);
	if (dg_bucket_acl_get(c->cl, url, json, sizeof json, &e) < 0) {
		fprintf(stderr, "get-bucket-acl failed: %s: %s\n", c->args[0], e.msg);
		return cli_exit_code(&e);
	}
	fputs(json, stdout);
	return 0;
}

static int cli_help(cli *c);

static const cli_cmd cli_cmds[] = {
	{ "ls", CMD_LS, 0, 1, cli_ls,
	  "ls [s3://BUCKET[/PREFIX]] [--recursive] [--human-readable] [--summarize]",
	  "List buckets, or the objects under a prefix, as their users see them:\n"
	  "original names and sizes, no reference.bin, no .delta suffix. Exit status 1\n"
	  "when a prefix lists nothing at all (as aws s3 ls).\n",
	  "  deltaglider ls\n"
	  "  deltaglider ls s3://releases/app/ --human-readable\n"
	  "  deltaglider ls s3://releases --recursive --summarize\n" },
	{ "cp", CMD_CP, 2, 2, cli_cp,
	  "cp SOURCE DEST [--recursive] [--exclude P] [--include P] [--dryrun]\n"
	  "          [--no-delta] [--max-ratio R] [--compression-level N] [--quiet]\n"
	  "          [--only-show-errors] [--no-progress]",
	  "Copy files to, from and between stores (s3://, file://). A destination ending\n"
	  "in / keeps the file name and is the DeltaSpace: archives (.zip, .tar.gz, .jar,\n"
	  "...) uploaded there are stored as deltas against its reference.bin. Downloads\n"
	  "reconstruct and verify the original; copies between stores re-encode it into\n"
	  "the destination's DeltaSpace. With --recursive, files go 10 at a time (the\n"
	  "profile's s3.max_concurrent_requests) and their lines come as they finish.\n",
	  "  deltaglider cp app-1.2.zip s3://releases/app/\n"
	  "  deltaglider cp s3://releases/app/app-1.2.zip ./\n"
	  "  deltaglider cp s3://releases/app/app-1.2.tar - | tar -x    (- is stdout/stdin)\n"
	  "  deltaglider cp dist/ s3://releases/app/ --recursive --exclude '*.log'\n"
	  "  deltaglider cp s3://old/app/ s3://new/app/ --recursive\n"
	  "  deltaglider cp app-1.3.zip file:///srv/store/app/\n"
	  "  deltaglider cp app-1.4.tar s3://releases/app/ --compression-level 9\n" },
	{ "mv", CMD_MV, 2, 2, cli_cp,
	  "mv SOURCE DEST [--recursive] [--exclude P] [--include P] [--dryrun]\n"
	  "          [--no-delta] [--max-ratio R] [--compression-level N] [--quiet]\n"
	  "          [--only-show-errors] [--no-progress]",
	  "Move files to, from and between stores: cp, then the source is removed once\n"
	  "the destination is written and verified (a delta's reference.bin only with\n"
	  "the last delta that needs it). A local file that changed while it was copied,\n"
	  "or a destination that is the source itself, is kept, and the move fails.\n"
	  "Local folders emptied by --recursive stay.\n",
	  "  deltaglider mv app-1.2.zip s3://releases/app/\n"
	  "  deltaglider mv s3://incoming/app/ s3://releases/app/ --recursive\n"
	  "  deltaglider mv s3://releases/app/app-1.0.zip ./archive/\n" },
	{ "sync", CMD_SYNC, 2, 2, cli_sync,
	  "sync SOURCE DEST [--delete] [--exclude P] [--include P] [--dryrun]\n"
	  "            [--size-only] [--no-delta] [--max-ratio R] [--compression-level N]\n"
	  "            [--quiet] [--no-progress]",
	  "Copy what is missing or differs from a local folder to a store, back, or from\n"
	  "one store (or bucket) to another. A file differs when its size does, or (unless\n"
	  "--size-only) when the source is newer. Sizes of delta objects are their original\n"
	  "sizes; between stores, files are rebuilt, verified and re-encoded into the\n"
	  "destination's DeltaSpaces. --delete refuses a store source that holds no\n"
	  "objects (a mistyped prefix would empty DEST: rm --recursive does that).\n",
	  "  deltaglider sync ./dist s3://releases/app/\n"
	  "  deltaglider sync s3://releases/app/ ./mirror --delete\n"
	  "  deltaglider sync s3://releases/ s3://backup/releases/\n"
	  "  deltaglider sync s3://releases/app/ file:///srv/mirror/app/\n" },
	{ "rm", CMD_RM, 1, 1, cli_rm,
	  "rm s3://BUCKET/KEY [--recursive] [--exclude P] [--include P] [--dryrun]\n"
	  "          [--quiet]",
	  "Delete objects by their original names. A reference.bin is removed with the\n"
	  "last delta that needs it, and never before (nor while an upload elsewhere may\n"
	  "be using it: gc removes it later). Without --recursive a key is needed: rm\n"
	  "never removes a bucket (rb does).\n",
	  "  deltaglider rm s3://releases/app/app-1.1.zip\n"
	  "  deltaglider rm s3://releases/app/ --recursive --exclude '*-lts.zip'\n" },
	{ "mb", CMD_MB, 1, 1, cli_mb,
	  "mb s3://BUCKET|file:///DIR",
	  "Create a bucket in the configured region (or a directory store).\n",
	  "  deltaglider mb s3://releases --region eu-west-1\n"
	  "  deltaglider mb file:///srv/store\n" },
	{ "rb", CMD_RB, 1, 1, cli_rb,
	  "rb s3://BUCKET|file:///DIR [--force]",
	  "Remove an empty bucket (or directory store).\n",
	  "  deltaglider rb s3://scratch\n"
	  "  deltaglider rb s3://scratch --force\n" },
	{ "verify", CMD_VERIFY, 1, 1, cli_verify,
	  "verify s3://BUCKET/KEY [--json]",
	  "Reconstruct an object and compare its SHA-256 with the one recorded at upload.\n"
	  "Exit status 1 when they differ. --json prints the Python CLI's fields: valid,\n"
	  "expected_sha256, actual_sha256, message.\n",
	  "  deltaglider verify s3://releases/app/app-1.2.zip\n"
	  "  deltaglider verify s3://releases/app/app-1.2.zip --json | jq .valid\n" },
	{ "stats", CMD_STATS, 1, 1, cli_stats,
	  "stats BUCKET|s3://BUCKET [--sampled|--detailed] [--refresh] [--no-cache]\n"
	  "            [--json]",
	  "Objects, original and stored size, and savings of a bucket. The quick mode\n"
	  "(default) only lists the bucket, so it cannot know the original size of deltas;\n"
	  "--sampled reads one delta per DeltaSpace, --detailed every delta. Results are\n"
	  "cached in the bucket (.deltaglider/stats_MODE.json) while it is unchanged.\n",
	  "  deltaglider stats releases\n"
	  "  deltaglider stats s3://releases --detailed --json\n" },
	{ "purge", CMD_PURGE, 1, 1, cli_purge,
	  "purge BUCKET|s3://BUCKET [--dry-run] [--json]",
	  "Delete temporary objects under .deltaglider/tmp/ (the rebuilt copies presign\n"
	  "makes) whose dg-expires-at passed. --json prints the Python CLI's fields:\n"
	  "expired_count, deleted_count, error_count, total_size_freed.\n",
	  "  deltaglider purge releases --dry-run\n"
	  "  deltaglider purge s3://releases --json\n" },
	{ "migrate", CMD_MIGRATE, 2, 2, cli_migrate,
	  "migrate s3://SRC[/PREFIX]/ s3://DST[/PREFIX]/ [--yes] [--dry-run]\n"
	  "            [--exclude P] [--include P] [--no-preserve-prefix] [--no-delta]\n"
	  "            [--max-ratio R] [--quiet]",
	  "Copy a whole bucket or prefix into DeltaGlider storage: each object is read\n"
	  "(reconstructed when it is a delta), then uploaded with delta compression.\n"
	  "Objects already in the destination are skipped, so an interrupted migration\n"
	  "resumes where it stopped. The source prefix's last folder is kept:\n"
	  "s3://src/a/b/ -> s3://dst/x/ lands in x/b/ (unless --no-preserve-prefix).\n"
	  "Asks for confirmation on a terminal; without one, --yes is required.\n",
	  "  deltaglider migrate s3://legacy-builds/ s3://releases/ --dry-run\n"
	  "  deltaglider migrate s3://legacy-builds/app/ s3://releases/ --yes\n" },
	{ "analyze", CMD_ANALYZE, 1, 1, cli_analyze,
	  "analyze s3://BUCKET[/PREFIX] [--samples N] [--max-ratio R] [--json]",
	  "Estimate what DeltaGlider would save on a bucket, writing nothing: archives are\n"
	  "grouped by folder (DeltaSpace), and a few of each group are encoded against\n"
	  "the group's first archive.\n",
	  "  deltaglider analyze s3://legacy-builds\n"
	  "  deltaglider analyze s3://legacy-builds/app/ --samples 5 --json\n" },
	{ "gc", CMD_GC, 1, 1, cli_gc,
	  "gc s3://BUCKET[/PREFIX] [--dryrun] [--older-than DURATION] [--quiet]",
	  "Clean up what interrupted uploads and deletes leave behind: reference.bin\n"
	  "objects no delta uses (removed unless an upload is using them), multipart\n"
	  "uploads started longer ago than --older-than (aborted), and expired lock\n"
	  "objects under .deltaglider/locks/ (when run on a whole bucket). Deltas whose\n"
	  "reference is missing cannot be repaired: they are reported (exit status 1).\n",
	  "  deltaglider gc s3://releases --dryrun\n"
	  "  deltaglider gc s3://releases/app/ --older-than 7d\n" },
	{ "presign", CMD_PRESIGN, 1, 1, cli_presign,
	  "presign s3://BUCKET/KEY [--expires-in SECONDS]",
	  "Print a URL that downloads the object, without credentials, until it expires.\n"
	  "For a delta, the original is first rebuilt into .deltaglider/tmp/ and the URL\n"
	  "names that copy, so anyone with the link gets the original bytes; purge\n"
	  "removes the copy once the link expired.\n",
	  "  deltaglider presign s3://releases/app/app-1.2.zip\n"
	  "  deltaglider presign s3://releases/app/app-1.2.zip --expires-in 86400\n" },
	{ "put-bucket-acl", CMD_PUT_ACL, 1, 1, cli_put_acl,
	  "put-bucket-acl BUCKET|s3://BUCKET [--acl CANNED] [--grant-read GRANTEES] ...\n"
	  "                [--access-control-policy JSON]",
	  "Set a bucket's access control list, as the Python DeltaGlider CLI does: a canned\n"
	  "ACL and/or grants; or a whole policy, as aws s3api takes it.\n",
	  "  deltaglider put-bucket-acl releases --acl public-read\n"
	  "  deltaglider put-bucket-acl s3://releases --grant-read id=CANONICAL_USER_ID\n" },
	{ "get-bucket-acl", CMD_GET_ACL, 1, 1, cli_get_acl,
	  "get-bucket-acl BUCKET|s3://BUCKET",
	  "Print a bucket's owner and grants as JSON, as aws s3api get-bucket-acl does.\n",
	  "  deltaglider get-bucket-acl releases\n"
	  "  deltaglider get-bucket-acl s3://releases | jq '.Grants[].Permission'\n" },
	{ "help", CMD_HELP, 0, 1, cli_help,
	  "help [COMMAND]",
	  "Show help for deltaglider or one command.\n",
	  "  deltaglider help\n"
	  "  deltaglider help cp\n" },
};

static const char cli_global_help[] =
	"Global options (accepted by every command):\n"
	"  --endpoint-url URL        S3 endpoint (MinIO, Ceph, R2...); default AWS\n"
	"  --region REGION           default: AWS_REGION, AWS_DEFAULT_REGION, the\n"
	"                            profile, else us-east-1\n"
	"  --profile NAME            profile of ~/.aws/credentials and ~/.aws/config\n"
	"  --ca-bundle PEM           trust these CAs for HTTPS\n"
	"  --no-verify-ssl           do not verify TLS certificates\n"
	"  --no-sign-request         send requests unsigned (public buckets)\n"
	"  --cli-connect-timeout S   seconds to wait for a connection (default 60)\n"
	"  --cli-read-timeout S      seconds to wait for data (default 60)\n"
	"  --debug                   log each request on stderr (never secrets)\n"
	"  --version, --help\n"
	"Exit status: 0 done, 1 an operation failed, 2 usage error or could not start.\n";

static const cli_cmd *cli_find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof cli_cmds / sizeof cli_cmds[0]; i++)
		if (strcmp(cli_cmds[i].name, name) == 0)
			return &cli_cmds[i];
	return NULL;
}

static void cli_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: deltaglider [OPTIONS] COMMAND [ARGS]\n\n"
		"Store versioned files on S3 as one reference plus small deltas.\n\nCommands:\n");
	for (i = 0; i < sizeof cli_cmds / sizeof cli_cmds[0]; i++)
		fprintf(f, "  %s\n", cli_cmds[i].usage);
	fprintf(f, "\n%s\nRun 'deltaglider help COMMAND' for a command's options and examples.\n",
		cli_global_help);
}

static int cli_help_for(const cli_cmd *cmd)
{
	size_t i, n = 0;

	printf("usage: deltaglider %s\n\n%s\n", cmd->usage, cmd->help);
	for (i = 0; i < sizeof cli_opts / sizeof cli_opts[0]; i++) {
		const cli_opt *o = &cli_opts[i];
		const char *h, *nl;
		char flag[48];

		if (o->cmds == CMDS_ALL || !(o->cmds & CMDS(cmd->id)))
			continue;
		snprintf(flag, sizeof flag, "%c%c%c --%s%s%s", o->short_name ? '-' : ' ',
			o->short_name ? o->short_name : ' ', o->short_name ? ',' : ' ', o->name,
			o->arg ? " " : "", o->arg ? o->arg : "");
		if (strlen(flag) > 26)   /* the flag alone, its text below */
			printf("%s  %s\n%29s", n++ ? "" : "Options:\n", flag, "");
		else
			printf("%s  %-26s ", n++ ? "" : "Options:\n", flag);
		for (h = o->help; (nl = strchr(h, '\n')) != NULL; h = nl + 1)
			printf("%.*s\n%29s", (int)(nl - h), h, "");   /* more lines, aligned */
		printf("%s\n", h);
	}
	printf("%sExamples:\n%s\n%s", n ? "\n" : "", cmd->examples, cli_global_help);
	return 0;
}

static int cli_help(cli *c)
{
	const cli_cmd *cmd;

	if (c->nargs == 0) {
		cli_usage(stdout);
		return 0;
	}
	cmd = cli_find_cmd(c->args[0]);
	if (cmd == NULL) {
		fprintf(stderr, "deltaglider: unknown command '%s'\n", c->args[0]);
		return 2;
	}
	return cli_help_for(cmd);
}

/* ---- argument parsing ---------------------------------------------------- */

/* An SSE-C key as aws takes it: the 32 bytes themselves, or fileb://FILE. */
static int cli_read_key(const char *val, unsigned char key[32], const char *flag, dg_error *e)
{
	sys_buf b = { 0 };
	int rc = 0;

	if (strncmp(val, "fileb://", 8) != 0) {
		if (strlen(val) != 32)
			return sys_fail(e, DG_EUSAGE, "%s takes a 32-byte AES-256 key (or fileb://FILE), "
				"not %zu bytes", flag, strlen(val));
		memcpy(key, val, 32);
		return 0;
	}
	if (sys_read_file(val + 8, 64, &b, e) < 0)
		rc = -1;
	else if (b.len != 32)
		rc = sys_fail(e, DG_EUSAGE, "%s: %s holds %zu bytes, not the 32 of an AES-256 key", flag,
			val + 8, b.len);
	else
		memcpy(key, b.data, 32);
	if (b.data)
		explicit_bzero(b.data, b.len);
	sys_buf_free(&b);
	return rc;
}

static int cli_set_opt(cli *c, const cli_opt *o, const char *val, dg_error *e)
{
	char *end;
	long v;

	switch (o->id) {
	case O_ENDPOINT: c->conf.endpoint_url = val; break;
	case O_REGION: c->conf.region = val; break;
	case O_PROFILE: c->conf.profile = val; break;
	case O_CA_BUNDLE: c->conf.ca_bundle = val; break;
	case O_NO_VERIFY_SSL: c->conf.no_verify_ssl = 1; break;
	case O_NO_SIGN: c->conf.no_sign_request = 1; break;
	case O_PAGE_SIZE:
		v = strtol(val, &end, 10);
		if (*end || v < 1 || v > 1000)
			return sys_fail(e, DG_EUSAGE, "--page-size takes 1 to 1000, not '%s'", val);
		c->conf.page_size = (unsigned)v;
		break;
	case O_EXACT_TIMES: c->exact_times = 1; break;
	case O_FOLLOW: c->no_follow = 0; break;
	case O_NO_FOLLOW: c->no_follow = 1; break;
	case O_SSE_C: c->sse_c = 1; break;
	case O_SSE_C_SRC: c->sse_c_src = 1; break;
	case O_SSE_C_KEY:
		if (cli_read_key(val, c->conf.sse_c_key, "--sse-c-key", e) < 0)
			return -1;
		c->conf.sse_c = 1;
		break;
	case O_SSE_C_SRC_KEY:
		if (cli_read_key(val, c->conf.sse_c_copy_source_key, "--sse-c-copy-source-key", e) < 0)
			return -1;
		c->conf.sse_c_copy_source = 1;
		break;
	case O_REQUEST_PAYER: c->conf.request_payer = 1; break;
	case O_SOURCE_REGION: c->conf.source_region = val; break;
	case O_DEBUG: c->conf.log_level = DG_LOG_DEBUG; break;
	case O_RECURSIVE: c->recursive = 1; break;
	case O_HUMAN: c->human = 1; break;
	case O_SUMMARIZE: c->summarize = 1; break;
	case O_QUIET: c->quiet = 1; break;
	case O_ONLY_ERRORS: c->only_errors = 1; break;
	case O_NO_PROGRESS: c->no_progress = 1; break;
	case O_FORCE: c->force = 1; break;
	case O_NO_DELTA: c->conf.no_delta = 1; break;
	case O_ARCHIVE_DELTAS: c->conf.archive_deltas = 1; break;
	case O_MAX_RATIO: return dg_parse_ratio(val, &c->conf.max_ratio, e);
	case O_LEVEL: return dg_parse_level(val, &c->conf.compression_level, e);
	case O_DRYRUN: c->dryrun = 1; break;
	case O_DELETE: c->delete_extra = 1; break;
	case O_SIZE_ONLY: c->size_only = 1; break;
	case O_SAMPLED: c->sampled = 1; break;
	case O_DETAILED: c->detailed = 1; break;
	case O_REFRESH: c->refresh = 1; break;
	case O_NO_CACHE: c->no_cache = 1; break;
	case O_JSON: c->json = 1; break;
	case O_YES: c->yes = 1; break;
	case O_NO_PRESERVE: c->no_preserve = 1; break;
	case O_EXCLUDE:
	case O_INCLUDE:
		c->filters[c->nfilters++] = (cli_filter){ o->id == O_INCLUDE, val };
		break;
	case O_OLDER_THAN: {
		/* 90, 90s, 30m, 24h, 7d */
		static const char units[] = "smhd";
		static const long secs[] = { 1, 60, 3600, 86400 };
		const char *u;

		v = strtol(val, &end, 10);
		u = *end ? strchr(units, *end) : units;
		if (*val == 0 || v < 0 || u == NULL || *u == 0 || (*end && end[1]) ||
			v > 3650L * 86400 / secs[u - units])
			return sys_fail(e, DG_EUSAGE, "--older-than takes a duration (90s, 30m, 24h, "
				"7d), not '%s'", val);
		c->older_than = (time_t)(v * secs[u - units]);
		break;
	}
	case O_EXPIRES_IN:
		v = strtol(val, &end, 10);
		if (*val == 0 || *end || v < 1 || v > AWS_PRESIGN_MAX)
			return sys_fail(e, DG_EUSAGE, "--expires-in takes seconds (1-%d: a week at "
				"most), not '%s'", AWS_PRESIGN_MAX, val);
		c->expires_in = (unsigned)v;
		break;
	case O_ACL:
		if (c->cmd != CMD_PUT_ACL) {   /* an object's canned ACL */
			static const char *const object_acls[] = { "private", "public-read",
				"public-read-write", "authenticated-read", "aws-exec-read",
				"bucket-owner-read", "bucket-owner-full-control" };
			size_t i;

			for (i = 0; i < sizeof object_acls / sizeof object_acls[0]; i++)
				if (strcmp(val, object_acls[i]) == 0)
					break;
			if (i == sizeof object_acls / sizeof object_acls[0])
				return sys_fail(e, DG_EUSAGE, "--acl takes a canned ACL (private, "
					"public-read, bucket-owner-full-control, ...), not '%s'", val);
			c->conf.acl = val;
			break;
		}
		if (strcmp(val, "private") != 0 && strcmp(val, "public-read") != 0 &&
			strcmp(val, "public-read-write") != 0 && strcmp(val, "authenticated-read") != 0)
			return sys_fail(e, DG_EUSAGE, "--acl takes private, public-read, "
				"public-read-write or authenticated-read, not '%s'", val);
		c->acl.canned = val;
		break;
	case O_CONTENT_TYPE: c->conf.content_type = val; break;
	case O_NO_GUESS: c->conf.no_guess_mime_type = 1; break;
	case O_METADATA: c->conf.metadata = val; break;
	case O_STORAGE_CLASS: c->conf.storage_class = val; break;
	case O_SSE: c->conf.sse = val; break;
	case O_SSE_KMS: c->conf.sse_kms_key_id = val; break;
	case O_CACHE_CONTROL: c->conf.cache_control = val; break;
	case O_CONTENT_DISP: c->conf.content_disposition = val; break;
	case O_CONTENT_ENC: c->conf.content_encoding = val; break;
	case O_EXPIRES: c->conf.expires = val; break;
	case O_GRANT_FULL: c->acl.grant_full_control = val; break;
	case O_GRANT_READ: c->acl.grant_read = val; break;
	case O_GRANT_READ_ACP: c->acl.grant_read_acp = val; break;
	case O_GRANT_WRITE: c->acl.grant_write = val; break;
	case O_GRANT_WRITE_ACP: c->acl.grant_write_acp = val; break;
	case O_ACP: c->acl.policy_json = val; break;
	case O_SAMPLES:
		v = strtol(val, &end, 10);
		if (*val == 0 || *end || v < 0 || v > 100)
			return sys_fail(e, DG_EUSAGE, "--samples takes a number (0-100), not '%s'", val);
		c->samples = (unsigned)v;
		break;
	case O_READ_TIMEOUT:
	case O_CONNECT_TIMEOUT:
		v = strtol(val, &end, 10);
		if (*val == 0 || *end || v < 0 || v > 3600)
			return sys_fail(e, DG_EUSAGE, "--%s takes seconds (0-3600), not '%s'",
				o->name, val);
		/* 0 means no timeout, as in the AWS CLI. */
		if (v == 0)
			v = 24 * 3600;
		*(o->id == O_READ_TIMEOUT ? &c->conf.read_timeout_s : &c->conf.connect_timeout_s) = (int)v;
		break;
	}
	return 0;
}

/* a is the word an optional value may be ("[AES256]": AES256). */
static int cli_opt_word(const cli_opt *o, const char *a)
{
	size_t n = o->has_arg == 2 ? strlen(o->arg) - 2 : 0;

	return n && strlen(a) == n && strncmp(a, o->arg + 1, n) == 0;
}

/* The command is found first, so options before it are checked against it
 * too; as with aws, options may come before or after the command. */
static const cli_cmd *cli_prescan(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const cli_opt *o = NULL;
		size_t k;

		if (strcmp(argv[i], "--") == 0)
			return i + 1 < argc ? cli_find_cmd(argv[i + 1]) : NULL;
		if (argv[i][0] != '-' || argv[i][1] == 0)
			return cli_find_cmd(argv[i]);
		for (k = 0; k < sizeof cli_opts / sizeof cli_opts[0]; k++)
			if (argv[i][1] == '-' && strcmp(argv[i] + 2, cli_opts[k].name) == 0)
				o = &cli_opts[k];
		if (o && (o->has_arg == 1 || (i + 1 < argc && cli_opt_word(o, argv[i + 1]))))
			i++;
	}
	return NULL;
}

/* Returns the command's id, CMD_COUNT when there is none, -1 after
 * printing a usage error. */
/* aws semantics: --include only takes back what an --exclude skipped, so
 * alone it filters nothing. Python DeltaGlider users expect "only these":
 * say so once, and do as aws does. */
static void cli_lone_include_hint(const cli *c)
{
	int i;

	for (i = 0; i < c->nfilters; i++)
		if (!c->filters[i].include)
			return;
	if (c->nfilters)
		fprintf(stderr, "warning: --include alone filters nothing (it only takes back what an "
			"--exclude skipped, as in aws s3); for only these files: --exclude '*' "
			"--include '%s'\n", c->filters[0].pattern);
}

static int cli_parse(cli *c, int argc, char **argv, int *want_help, int *want_version)
{
	const cli_cmd *cmd = cli_prescan(argc, argv);
	int i, npos = 0, only_args = 0, seen_cmd = 0;
	dg_error e;

	c->args = calloc((size_t)argc + 1, sizeof *c->args);
	c->filters = calloc((size_t)argc + 1, sizeof *c->filters);
	if (c->args == NULL || c->filters == NULL)
		return -1;
	c->cmd = cmd ? cmd->id : CMD_COUNT;   /* options may depend on it (--acl) */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		const cli_opt *o = NULL;
		size_t k;

		if (only_args || a[0] != '-' || a[1] == 0) {
			if (!seen_cmd) {
				if (cmd == NULL) {
					fprintf(stderr, "deltaglider: unknown command '%s' (see deltaglider --help)\n", a);
					return -1;
				}
				seen_cmd = 1;
				continue;
			}
			c->args[npos++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_args = 1;
			continue;
		}
		for (k = 0; k < sizeof cli_opts / sizeof cli_opts[0]; k++) {
			const cli_opt *cand = &cli_opts[k];
			size_t nl = strlen(cand->name);

			if (cmd && !(cand->cmds & CMDS(cmd->id)))
				continue;
			if (a[1] == '-' && strncmp(a + 2, cand->name, nl) == 0 &&
				(a[2 + nl] == 0 || (a[2 + nl] == '=' && cand->has_arg))) {
				o = cand;
				if (a[2 + nl] == '=')
					val = a + 3 + nl;
				break;
			}
			if (a[1] != '-' && a[2] == 0 && cand->short_name == a[1]) {
				o = cand;
				break;
			}
		}
		if (o == NULL || (cmd == NULL && o->cmds != CMDS_ALL)) {
			fprintf(stderr, "deltaglider: unknown option %s%s%s; see 'deltaglider help%s%s'\n",
				a, cmd ? " for " : "", cmd ? cmd->name : "", cmd ? " " : "",
				cmd ? cmd->name : "");
			return -1;
		}
		if (o->has_arg == 2) {
			/* Its one word, or nothing (as aws's nargs='?'). */
			if (val == NULL && i + 1 < argc && cli_opt_word(o, argv[i + 1]))
				val = argv[++i];
			if (val && !cli_opt_word(o, val)) {
				fprintf(stderr, "deltaglider: --%s takes %.*s, not %s\n", o->name,
					(int)strlen(o->arg) - 2, o->arg + 1, val);
				return -1;
			}
		} else if (o->has_arg && val == NULL) {
			if (i + 1 >= argc) {
				fprintf(stderr, "deltaglider: option --%s needs a value\n", o->name);
				return -1;
			}
			val = argv[++i];
		}
		if (o->id == O_HELP)
			*want_help = 1;
		else if (o->id == O_VERSION)
			*want_version = 1;
		else if (cli_set_opt(c, o, val, &e) < 0) {
			fprintf(stderr, "deltaglider: %s\n", e.msg);
			return -1;
		}
	}
	c->nargs = npos;
	if (c->sse_c != c->conf.sse_c || c->sse_c_src != c->conf.sse_c_copy_source) {
		const char *f = c->sse_c != c->conf.sse_c ? "--sse-c" : "--sse-c-copy-source";

		fprintf(stderr, "deltaglider: %s and %s-key go together\n", f, f);
		return -1;
	}
	if (cmd == NULL)
		return CMD_COUNT;
	c->cmd = cmd->id;
	cli_lone_include_hint(c);
	return cmd->id;
}

static int cli_main(int argc, char **argv)
{
	cli *c = calloc(1, sizeof *c);
	const cli_cmd *cmd = NULL;
	int want_help = 0, want_version = 0, id, rc;
	dg_error e;
	size_t k;

	if (c == NULL) {
		fprintf(stderr, "deltaglider: out of memory\n");
		return 1;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->samples = 2;
	c->older_than = 24 * 3600;
	c->expires_in = 3600;
	if (dg_config_from_env(&c->conf, &e) < 0) {
		fprintf(stderr, "deltaglider: %s\n", e.msg);
		rc = 2;
		goto done;
	}
	id = cli_parse(c, argc, argv, &want_help, &want_version);
	if (id < 0) {
		rc = 2;
		goto done;
	}
	if (want_version) {
		char v[128];

		dg_versions(v, sizeof v);
		printf("deltaglider %s\n", v);
		rc = 0;
		goto done;
	}
	if (id == CMD_COUNT) {
		cli_usage(want_help ? stdout : stderr);
		rc = want_help ? 0 : 2;
		goto done;
	}
	for (k = 0; k < sizeof cli_cmds / sizeof cli_cmds[0]; k++)
		if (cli_cmds[k].id == id)
			cmd = &cli_cmds[k];
	if (want_help) {
		rc = cli_help_for(cmd);
		goto done;
	}
	if (c->nargs < cmd->min_args || c->nargs > cmd->max_args) {
		/* One line: the usage's first, and where the rest is. */
		fprintf(stderr, "usage: deltaglider %.*s (see deltaglider help %s)\n",
			(int)strcspn(cmd->usage, "\n"), cmd->usage, cmd->name);
		rc = 2;
		goto done;
	}
	if ((c->cl = dg_client_open(&c->conf, &e)) == NULL) {
		fprintf(stderr, "deltaglider: %s\n", e.msg);
		rc = 2;
		goto done;
	}
	c->dg = dg_client_ctx(c->cl);
	dg_client_progress(c->cl, cli_meter, c);
	rc = cmd->run(c);
done:
	fflush(stdout);
	dg_client_close(c->cl);
	pthread_mutex_destroy(&c->lock);
	free(c->args);
	free(c->filters);
	free(c);
	return rc;
}

/* ======================================================================
 * §12  main
 * ====================================================================== */

#ifndef DG_UNIT_TEST
int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
#endif
#endif /* DG_LIBRARY */
