/*
 * kafka_int.h - private contract between the files of the Kafka output (outputs/kafka*.c).
 *
 *   kafka.c        the output descriptor: init/send/tick/flush/destroy
 *   kafka_produce.c  handing messages to librdkafka in order: topic, key, queue-full waits
 *   kafka_producer.c the librdkafka handle: creation, delivery reports, errors, rebuilds
 *   kafka_track.c  per-batch bookkeeping: message states, acks, dead-lettering, error classes
 *   kafka_conf.c   the config table, check(), building the rd_kafka_conf_t, secrets
 *   kafka_topic.c  the topic template (`logs-%{service.name:-misc}`) and topic handle cache
 *   kafka_dead.c   the dead-letter file <data_dir>/dead-letter/kafka-<name>.ndjson
 *   kafka_test.c   `logferry test-output`: connect, fetch metadata, one sentence
 *
 * Everything here runs on the output's own thread (init, send, tick, flush, destroy and the
 * librdkafka callbacks served by rd_kafka_poll/rd_kafka_flush), except check() and test()
 * which run on the CLI's thread before any output thread exists, and the log callback, which
 * librdkafka calls from its internal threads (it only formats and writes a log line).
 * Nothing else in the tree includes this header. Calls run one way: kafka.c ->
 * kafka_produce.c -> kafka_producer.c -> kafka_track.c -> kafka_dead.c.
 */
#ifndef LF_KAFKA_INT_H
#define LF_KAFKA_INT_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/base/clock.h"
#include "agent/base/log_once.h"
#include "outputs/output.h"

/* ---- configuration (kafka_conf.c) ---- */

struct kafka_conf {
    const char *brokers;
    const char *topic;          /* template */
    const char *topic_fallback; /* used when a template field is missing and has no default */
    const char *key;            /* event field for the message key; "" = none */
    const char *compression;    /* none|gzip|snappy|lz4|zstd */
    struct conf_kvlist props;   /* kafka.* pass-through */
};

extern const struct conf_key kafka_conf_keys[];

/* 1 if a librdkafka property name looks like it holds a secret (its value is never printed). */
int kconf_is_secret(const char *name);

/* Builds the producer configuration: our no-loss defaults, then brokers and compression,
 * then every kafka.* property (the user's word wins). with_brokers = 0 leaves
 * bootstrap.servers unset (check() uses that to validate without connecting). Returns NULL
 * with a sentence in err (never containing a secret value). */
rd_kafka_conf_t *kconf_build(const struct kafka_conf *kc, int with_brokers, char *err,
                             size_t errsz);

/* Logs a warning for each kafka.* override that weakens the delivery guarantees. */
void kconf_warn(const struct kafka_conf *kc, const char *name);

int kafka_check(const void *conf, struct conf *c, struct conf_section *s, struct conf_errs *errs);

/* ---- topic template (kafka_topic.c) ---- */

struct ktpl_part {
    char *lit;     /* literal text, or NULL for a field reference */
    size_t litlen;
    char *field;   /* dotted field name */
    char *def;     /* default after ":-", or NULL */
};

enum ktpl_kind {
    KTPL_STATIC = 0, /* no field references */
    KTPL_BATCH,      /* only fields constant within a batch (host.name, log.file.path) */
    KTPL_EVENT,      /* per event */
};

struct ktpl {
    struct ktpl_part *p;
    int n;
    enum ktpl_kind kind;
};

#define KTOPIC_MAX 249 /* Kafka's limit on a topic name */

/* Parses "logs-%{service.name}" / "%{field:-default}" / "%%" (a literal %). Returns 0, or -1
 * with a sentence in err. */
int ktpl_compile(const char *s, struct ktpl *t, char *err, size_t errsz);
void ktpl_free(struct ktpl *t);
/* Renders the topic for an event into out (NUL-terminated) and its length into *outlen; a
 * field value may hold NUL bytes, so only *outlen says where the name ends. Returns 0; 1
 * when a field is missing and has no default (*missing names it); 2 when the result is
 * longer than outsz. */
int ktpl_render(const struct ktpl *t, const struct event_batch *b, const struct event *ev,
                char *out, size_t outsz, size_t *outlen, const char **missing);
/* NULL if name[0..len) is a topic log content may pick: 1..249 of [A-Za-z0-9._-], not "."
 * or "..", not internal (leading "__"); else why not (a static string, for logs and dead
 * letters). */
const char *ktopic_invalid(const char *name, size_t len);
int ktopic_valid(const char *name, size_t len);
/* Renders a field's value as text (strings as they are, numbers in decimal). Returns the
 * length written (truncated to outsz-1), or -1 if the value has no text form (JSON). */
int kfield_text(const struct field *f, char *out, size_t outsz);

/* A small cache of rd_kafka_topic_t handles by name, so a templated topic costs one hash
 * lookup per event instead of librdkafka's locked lookup. Owned by the output thread. */
#define KTCACHE_SIZE 256
struct ktcache {
    struct {
        char *name;
        rd_kafka_topic_t *rkt;
    } e[KTCACHE_SIZE];
    int used;
};

/* Returns the handle for name (creating it), or NULL with rd_kafka's error in err. */
rd_kafka_topic_t *ktcache_get(struct ktcache *tc, rd_kafka_t *rk, const char *name, char *err,
                              size_t errsz);
/* Drops every handle (before rd_kafka_destroy or when rebuilding the producer). */
void ktcache_clear(struct ktcache *tc);

/* ---- dead letters (kafka_dead.c) ---- */

struct kdead {
    char *path;   /* <data_dir>/dead-letter/kafka-<name>.ndjson */
    int fd;       /* -1 until the first dead letter */
    struct lf_once logged; /* (reason, topic) kinds already logged */
};

int kdead_init(struct kdead *d, const struct output_env *env, char *err, size_t errsz);
void kdead_close(struct kdead *d);
/* Appends one line {"time":..,"output":..,"reason":..,"error":..,"topic":..,"event":{..}}.
 * event_json is the event's serialized JSON object (without the trailing newline). Logs the
 * first dead letter of each (reason, topic). Returns 0, or -1 (with errno-based text in err)
 * when the file cannot be written: the caller then keeps the event and tries again later. */
int kdead_write(struct kdead *d, const struct output_env *env, const char *reason,
                const char *detail, const char *topic, const char *event_json, size_t json_len,
                char *err, size_t errsz);

/* ---- the output's state (struct kafka_out: kafka.c owns it) ---- */

#define KAFKA_SEND_BLOCK_MS 500 /* send() waits at most this long for queue room */

/* One wanted event of a batch: NEW (to produce), SENT (in librdkafka), DONE (confirmed or
 * dead-lettered). A produced message's opaque points at its kmsg. */
enum { KM_NEW = 0, KM_SENT, KM_DONE };

struct ktrack;

struct kmsg {
    struct ktrack *t;
    uint32_t idx; /* event index in the batch */
    uint8_t state;
};

struct ktrack {
    struct event_batch *b;
    struct ktrack *prev, *next;
    uint32_t nmsg, cursor, pending; /* pending: kmsgs not DONE */
    int topic_rc;                   /* batch-constant template: render result */
    const char *topic_missing;
    char topic[KTOPIC_MAX + 1];
    size_t topic_len;
    const char *key;                /* batch-constant key, or NULL */
    size_t keylen;
    struct kmsg m[];
};

enum key_kind { KEY_NONE, KEY_HOST, KEY_PATH, KEY_EVENT };

struct kafka_out {
    const struct kafka_conf *kc;
    const struct output_env *env;
    rd_kafka_t *rk;
    rd_kafka_topic_t *static_rkt;
    struct ktpl tpl;
    struct ktcache tc;
    rd_kafka_topic_t *last_rkt; /* last templated topic looked up (cleared with tc) */
    char last_name[KTOPIC_MAX + 1];
    enum key_kind key_kind;
    struct kdead dead;
    struct ktrack *head, *tail; /* live batches, oldest first */
    long nlive;
    int need_rebuild;
    int draining;  /* rebuilding: DRs other than success leave messages SENT */
    int closing;   /* destroy(): DRs are ignored */
    int64_t blocked_since, retry_dead_at, rebuild_at;
    int errors_logged;
    rd_kafka_resp_err_t last_logged_err;
    int batch_ok;          /* rd_kafka_produce_batch may be used (see kafka_produce.c) */
    long max_msgs;         /* queue.buffering.max.messages of the producer */
    rd_kafka_message_t *arr; /* produce_batch scratch */
    size_t arrcap;
    char keybuf[1024];
    char tbuf[KTOPIC_MAX + 2];
    const char *rerouted_logged[8]; /* reasons already logged by note_rerouted */
};

static inline const struct event *kmsg_event(const struct kmsg *km)
{
    return &km->t->b->ev[km->idx];
}

/* The event's JSON without its trailing '\n' (event.h: json always ends in one). Not checked
 * here on purpose: reading the last byte of every event costs a cache miss per event on this
 * thread (measured: 9% of the agent's CPU); librdkafka reads the bytes on its own thread. */
static inline size_t kmsg_payload_len(const struct event *ev)
{
    return ev->json_len > 0 ? ev->json_len - 1 : 0;
}

/* ---- bookkeeping (kafka_track.c) ---- */

/* Marks km delivered (or dead-lettered). Returns 1 if that acked and freed its batch. */
int kafka_km_done(struct kafka_out *ko, struct kmsg *km);
/* Puts km back to be produced again by kafka_pump(). */
void kafka_km_requeue(struct kmsg *km);
/* Dead-letters km: 0 = written (km DONE; *freed = its batch was acked and freed), -1 = the
 * file cannot be written (km NEW again, dead letters pause for a second). */
int kafka_dead_letter(struct kafka_out *ko, struct kmsg *km, const char *reason,
                      const char *detail, const char *topic, int *freed);
int kafka_permanent_error(rd_kafka_resp_err_t e);
const char *kafka_dead_reason(rd_kafka_resp_err_t e);

/* ---- the librdkafka handle (kafka_producer.c) ---- */

/* Creates ko->rk (and the static topic's handle) with our callbacks. 0, or -1 with a
 * sentence in err. */
int kafka_producer_create(struct kafka_out *ko, char *err, size_t errsz);
/* Drops the topic handles and ko->rk (after the caller purged what it must). */
void kafka_producer_destroy(struct kafka_out *ko);
/* Rebuilds the producer if a fatal error asked for it (and its retry time has come). */
void kafka_maybe_rebuild(struct kafka_out *ko);

/* ---- producing in order (kafka_produce.c) ---- */

enum { PUMP_DONE = 0, PUMP_BLOCKED = 1 };
/* Produces every NEW message of the live batches, oldest first; PUMP_BLOCKED when one must
 * wait (queue full, dead letters failing, producer being rebuilt). */
int kafka_pump(struct kafka_out *ko);
/* kafka_pump() plus polling (which frees queue room) for up to max_ms. */
void kafka_pump_wait(struct kafka_out *ko, long max_ms);
int kafka_has_backlog(const struct kafka_out *ko);

/* ---- test-output (kafka_test.c) ---- */

int kafka_test(const void *conf, const struct output_env *env, char *msg, size_t msgsz);

#endif
