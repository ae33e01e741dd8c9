/*
 * kafka_int.h - private contract between the files of the Kafka output (outputs/kafka*.c).
 *
 *   kafka.c        the output descriptor: send/tick/flush, delivery reports, error handling
 *   kafka_conf.c   the config table, check(), building the rd_kafka_conf_t, secrets
 *   kafka_topic.c  the topic template (`logs-%{service.name:-misc}`) and topic handle cache
 *   kafka_dead.c   the dead-letter file <data_dir>/dead-letter/kafka-<name>.ndjson
 *   kafka_test.c   `logferry test-output`: connect, fetch metadata, one sentence
 *
 * Everything here runs on the output's own thread (init, send, tick, flush, destroy and the
 * librdkafka callbacks served by rd_kafka_poll/rd_kafka_flush), except check() and test()
 * which run on the CLI's thread before any output thread exists, and the log callback, which
 * librdkafka calls from its internal threads (it only formats and writes a log line).
 * Nothing else in the tree includes this header.
 */
#ifndef LF_KAFKA_INT_H
#define LF_KAFKA_INT_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

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
/* Renders the topic for an event into out (NUL-terminated). Returns 0; 1 when a field is
 * missing and has no default (*missing names it); 2 when the result is longer than outsz. */
int ktpl_render(const struct ktpl *t, const struct event_batch *b, const struct event *ev,
                char *out, size_t outsz, const char **missing);
/* 1 if name is a legal Kafka topic: 1..249 of [A-Za-z0-9._-], not "." or "..". */
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
    /* "log once per kind and topic": hashes of (reason, topic) already logged */
    uint64_t seen[64];
    int nseen;
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

/* ---- test-output (kafka_test.c) ---- */

int kafka_test(const void *conf, const struct output_env *env, char *msg, size_t msgsz);

#endif
