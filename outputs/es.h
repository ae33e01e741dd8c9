/*
 * es.h - private contract between the Elasticsearch output's files (not for other outputs).
 *
 *   es_conf.c   the [output elasticsearch] table and check()
 *   es_bulk.c   pure functions: document _id, index names, the _bulk NDJSON body, gzip,
 *               classification of a _bulk response (fast path and item by item)
 *   es_http.c   libcurl: hosts (round-robin, failover), auth, TLS, timeouts, one easy
 *               handle per worker slot driven by a multi handle (persistent connections)
 *   es.c        the output: accumulating documents, requests, retries, 413 splits,
 *               acks; the out_es_desc descriptor
 *   es_dlq.c    dead letters: refused documents with their reason, written durably
 *   es_setup.c  `logferry setup` (ILM policy + index template) and `logferry test-output`
 *
 * Everything here runs on the output's own thread (one instance = one thread), except
 * env->ack which the core makes thread-safe. The functions of es_bulk.c are pure and are
 * exercised directly by tests/unit/test_out_es.c.
 */
#ifndef LF_OUT_ES_H
#define LF_OUT_ES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "agent/base/buf.h"
#include "agent/base/config.h"
#include "agent/base/event.h"
#include "agent/base/log_once.h"

struct es_conf {
    struct conf_list hosts;
    const char *index;
    const char *data_stream;
    const char *username;
    const char *password;
    const char *api_key;
    const char *ca_file;
    int tls_verify;
    long bulk_max_events;
    uint64_t bulk_max_bytes;
    long flush_interval_ms;
    long workers;
    const char *compression; /* "none" | "gzip" */
    long connect_timeout_ms;
    long timeout_ms;
    long backoff_init_ms;
    long backoff_max_ms;
    /* setup */
    const char *template_name;
    const char *ilm_rollover_max_age;
    const char *ilm_rollover_max_size;
    const char *ilm_delete_after;
    long shards;
    long replicas;
};

extern const struct conf_key es_conf_keys[];
int es_conf_check(const void *conf, struct conf *c, struct conf_section *s,
                  struct conf_errs *errs);
/* 1 when this build can gzip request bodies (always: libdeflate is a dependency). */
int es_have_gzip(void);

/* ---- es_bulk.c ---- */

/* The document id of the event at `offset` of the file identified by `id`:
 * 16 hex digits of a 64-bit hash of id->uid (or, when uid is 0, of dev, ino and fp), then
 * '-' and the offset in hex.
 * Writes at most 40 bytes including the NUL; returns the length. */
int es_doc_id(const struct file_id *id, uint64_t offset, char out[40]);

/* Index name for an event: strftime(fmt) over its @timestamp in UTC, cached per day (or per
 * second when fmt has time-of-day conversions). One cache per output thread. */
struct es_index_cache {
    const char *fmt;
    int per_second;       /* fmt uses a conversion finer than a day */
    int literal;          /* fmt has no '%': the name is fmt */
    int64_t key;          /* the day or second the cached name is for; INT64_MIN = none */
    char name[256];
    size_t len;
    const char *invalid;  /* why name is not a legal index name (es_index_invalid), or NULL */
};
void es_index_cache_init(struct es_index_cache *ic, const char *fmt);
/* Returns the name (NUL-terminated, in the cache) and its length in *len; ic->invalid then
 * says whether Elasticsearch would refuse it. */
const char *es_index_name(struct es_index_cache *ic, int64_t ts_ms, size_t *len);
/* NULL if n[0..len) is a legal index name: 1..255 bytes, lower case, none of
 * \ / * ? " < > | space , # : or control bytes, not starting with - _ +, not "." or "..".
 * Else why not (a static string). @timestamp comes from log content: a year below 0 or past
 * 9999 must not make a name Elasticsearch refuses on every retry. */
const char *es_index_invalid(const char *n, size_t len);

/* Appends one action line + the event's JSON line to body. Returns 0 or -1 (cap hit). */
int es_bulk_append(struct buf *body, struct es_index_cache *ic, const struct event_batch *b,
                   const struct event *ev);

/* gzip (RFC 1952) of in[0..n) into out (reset first) with z (lf_compressor_new(1), owned by
 * the caller's thread). 0 or -1 with a sentence in err. */
struct lf_compressor;
int es_gzip(struct lf_compressor *z, const char *in, size_t n, struct buf *out, char *err,
            size_t errsz);

/* What to do with one document after a _bulk response. */
enum es_verdict {
    ES_DONE = 0,   /* created, or already there (409 on create) */
    ES_RETRY = 1,  /* 429, 5xx, 403 cluster_block_exception: send again later */
    ES_DEAD = 2,   /* refused for good: 400 mapping/parsing errors, 404... */
};

struct es_item_result {
    enum es_verdict verdict;
    int status;
    char type[64];     /* error.type, "" when none */
    char reason[256];  /* error.reason, sanitized (no control characters), truncated */
};

/* Fast path: 1 when the body of a 200 response says "errors":false (every item
 * succeeded), 0 when items must be looked at. */
int es_bulk_all_ok(const char *resp, size_t len);

/* Parses a _bulk response and fills res[0..n) in order. Returns 0, or -1 (with err) when the
 * response is not a _bulk response for n items (the caller retries the whole request). */
int es_bulk_parse(const char *resp, size_t len, struct es_item_result *res, size_t n,
                  char *err, size_t errsz);
/* 1 when the JSON text p[0..len) opens at most `max` objects, arrays and values (counted
 * without parsing), so handing it to jansson costs memory in proportion to its size. */
int es_json_small(const char *p, size_t len, size_t max);
#define ES_JSON_PER_DOC 24 /* a refused item with caused_by opens about 10 */
/* The verdict for one item's status and error type. */
enum es_verdict es_item_verdict(int status, const char *type);

/* Copies s into out replacing control characters and quotes by '?', at most outsz-1 bytes. */
void es_sanitize(const char *s, char *out, size_t outsz);

/* ---- es_dlq.c: dead letters ---- */
struct out_metrics;
struct es_dlq {
    int fd;
    const char *name; /* the output's name */
    struct out_metrics *m;
    char dir[4096];
    char path[4200];
    struct lf_once logged; /* (status, type) kinds already logged */
    struct buf lines; /* of the response being handled */
};
void es_dlq_init(struct es_dlq *q, const char *data_dir, const char *name,
                 struct out_metrics *m);
/* Collects the dead letter of one document (counted in events_dead, logged once per kind). */
void es_dlq_add(struct es_dlq *q, const struct event_batch *b, const struct event *ev,
                const char *index, size_t ilen, int status, const char *type,
                const char *reason);
/* Writes what was collected durably; retries forever on errors. */
void es_dlq_flush(struct es_dlq *q);
void es_dlq_close(struct es_dlq *q);

/* ---- es_setup.c ---- */
struct output_env;
typedef struct json_t json_t;
/* The ILM policy / index template bodies `setup` PUTs (new references). */
json_t *es_setup_policy(const struct es_conf *c);
json_t *es_setup_template(const struct es_conf *c);
int es_setup(const void *conf, const struct output_env *env, char *msg, size_t msgsz);
int es_test(const void *conf, const struct output_env *env, char *msg, size_t msgsz);

#endif
