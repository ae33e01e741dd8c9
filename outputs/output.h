/*
 * output.h - the contract between the pipeline and an output (Fluent Bit's plugin
 * descriptor, syslog-ng's threaded destination).
 *
 * An output is a descriptor: a type name, a config table, and callbacks. The core creates one
 * thread per configured output, hands it each dispatched batch through send(), and calls
 * tick() when the output's queue is idle. Outputs include only ground-floor headers
 * (agent/base/event.h, config.h, log.h, metrics.h, when.h, json.h, buf.h) and this file: never
 * the pipeline's, tail's or registry's.
 *
 * Acknowledgement: for every batch passed to send(), the output calls env->ack(env, b)
 * exactly once, from any thread, when every event of the batch it wants (output_wants()) is
 * delivered, dead-lettered, or skipped. It never acks what is not safely delivered: the
 * registry moves a file's offset only past batches that every output has acked, so an
 * unacked batch at shutdown is simply read again after the restart (at-least-once).
 * Outputs may ack out of order; the registry handles ordering.
 *
 * Lifetime: a batch stays valid until the output acks it, and in any case until flush() and
 * destroy() have returned (the core never frees an unacked batch before that, and leaves it
 * alone if an output thread has to be abandoned at shutdown), so an output may hand event
 * memory to a library without copying it.
 *
 * Backpressure: send() may block (the broker is down, the queue is full). That only stops
 * this output's thread; the pipeline's bounded budget then pauses reading, which is how a
 * slow output stops the agent from growing its memory. An output that must never slow the
 * others (Slack alerts) acks in send() and does its I/O on a thread of its own.
 */
#ifndef LF_OUTPUT_H
#define LF_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "agent/base/config.h"
#include "agent/base/event.h"
#include "agent/base/metrics.h"
#include "agent/base/when.h"

struct output_env {
    const char *name;      /* [output TYPE NAME]: NAME, or TYPE when no name */
    const char *type;
    const char *data_dir;  /* [agent] data_dir: dead letters go under it */
    const char *host_name; /* [agent] name */
    long shutdown_timeout_ms;
    const struct when *when; /* NULL = every event */
    struct out_metrics *m;
    /* Acknowledge batch b (exactly once per send()). Thread-safe. */
    void (*ack)(const struct output_env *env, struct event_batch *b);
    void *core; /* the core's instance; opaque to outputs */
    /* Becomes non-zero when shutdown_timeout has run out or a second signal came: a send()
     * stuck retrying (broker down) or a flush() must then return without acking what it
     * could not deliver. destroy() must not wait on the network either. */
    const atomic_int *giving_up;
    /* The whole configuration, read only (NULL in unit tests): an output may read other
     * sections' keys declared for it (the Slack output reads [input] silence). */
    struct conf *conf;
};

/* 1 if the output should ship this event (its `when` matches or it has none). */
static inline int output_wants(const struct output_env *env, const struct event_batch *b,
                               const struct event *ev)
{
    return env->when == NULL || when_eval(env->when, b, ev);
}

struct output_desc {
    const char *type;                 /* "file", "kafka", "elasticsearch", "slack" */
    const struct conf_key *conf_table; /* keys besides the core's own (`when`) */
    size_t conf_size;                 /* size of the struct conf_table fills */
    /* Optional. Validates the filled conf without side effects (no connections, no files
     * created): adds "FILE:LINE: ..." errors for `s`. Returns the number of errors. */
    int (*check)(const void *conf, struct conf *c, struct conf_section *s,
                 struct conf_errs *errs);
    /* Creates the instance; `conf` and `env` outlive it. NULL with errbuf filled on error. */
    void *(*init)(const void *conf, const struct output_env *env, char *errbuf, size_t errsz);
    /* On the output's thread: ship a borrowed batch (see the ack contract above). */
    void (*send)(void *st, struct event_batch *b);
    /* Optional. On the output's thread when no batch is waiting; returns the ms after which it
     * wants to be called again (-1: only when idle again). Flush timers, retries, polls. */
    long (*tick)(void *st);
    /* Optional. Shutdown, on the output's thread after its last send(): deliver and ack what
     * it can within timeout_ms (what is left of shutdown_timeout), and return early once
     * *env->giving_up is set (a second signal), checking it at least every 100 ms.
     * 0 = all acked. */
    int (*flush)(void *st, long timeout_ms);
    void (*destroy)(void *st);
    /* Optional. `logferry test-output`: connect, say whether reachable and writable. */
    int (*test)(const void *conf, const struct output_env *env, char *msg, size_t msgsz);
    /* Optional. `logferry setup`: install server-side assets (index template...). */
    int (*setup)(const void *conf, const struct output_env *env, char *msg, size_t msgsz);
    /* Optional. 0 when, with this configuration, the output reads nothing of an event but
     * its json, offsets and time: no event_get(), ev->fields or ev->message. When no output
     * reads them (and none has a `when`), batches do not keep them, which spares the tail
     * thread a copy of every message and field. NULL means "reads them". */
    int (*uses_fields)(const void *conf);
    /* Optional. Details of the running instance for /status, /metrics and the status page,
     * as a new JSON object whose members join the output's status object (the Logstash
     * output's "hosts": per host state, windows, ACK latency, resends). Called on the HTTP
     * thread between init() and destroy(), concurrently with send(): it may read only what
     * is safe to read so (atomics, strings fixed at init). */
    struct json_t *(*status)(void *st);
};

/* Keys every [output] section takes, besides `when`; the core applies them before the type's
 * own table (outputs/outputs.c). */
struct output_common {
    uint64_t spool;         /* bytes of disk spool (0: none) */
    const char *spool_full; /* block | drop_oldest */
};
extern const struct conf_key output_common_keys[];

/* The table of every output type (outputs/outputs.c). */
const struct output_desc *output_find(const char *type);
extern const struct output_desc *const output_types[];
/* The descriptors of the table, one per output type (each in its own file). */
extern const struct output_desc out_file_desc, out_es_desc, out_kafka_desc, out_slack_desc,
    out_webhook_desc, out_logstash_desc;

#endif
