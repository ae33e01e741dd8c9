/*
 * kafka.c - the Kafka output's descriptor: init, send, tick, flush, destroy.
 *
 * Its files call one way: kafka.c -> kafka_produce.c (kafka_pump) -> kafka_producer.c (the
 * librdkafka handle, its callbacks, rebuilds) -> kafka_track.c (per-batch bookkeeping,
 * acks, dead letters) -> kafka_dead.c; kafka_conf.c and kafka_topic.c are leaves.
 *
 * Threads: everything here runs on the output's own thread. librdkafka's delivery-report and
 * error callbacks are served by rd_kafka_poll()/rd_kafka_flush(), which only this thread
 * calls, so the per-batch bookkeeping needs no lock. Only the log callback (log_cb) runs on
 * librdkafka's internal threads; it formats one line and touches nothing else.
 *
 * Bookkeeping: send() wraps the borrowed batch in a `struct ktrack` holding one `struct
 * kmsg` per wanted event (state NEW -> SENT -> DONE). Each produced message's opaque is its
 * kmsg; its delivery report marks it DONE (or dead-letters it), and when the last kmsg of a
 * batch is DONE the batch is acked - exactly once. Payloads are not copied: the batch lives
 * until we ack it, and before flush() gives up or destroy() returns we purge librdkafka's
 * queues so it never holds a pointer into a batch the core may free.
 *
 * Order and backpressure: trackers form one FIFO; kafka_pump() (kafka_produce.c) produces
 * their messages strictly in order and stops at the first QUEUE_FULL (never dropping, never
 * skipping ahead). send()
 * polls and retries for up to KAFKA_SEND_BLOCK_MS, then returns with the rest queued in the
 * FIFO, which tick() and the next send() continue; meanwhile the pipeline's bounded budget
 * pauses reading. With idempotence and at most 5 requests in flight, librdkafka keeps that
 * order per partition across retries and reconnects.
 *
 * Errors, by class (message.timeout.ms=0, so librdkafka itself retries transient ones forever):
 *   - success: DONE.
 *   - permanent for this message (too large, topic not authorized, invalid or unknown topic,
 *     invalid record): dead-letter file, DONE (kafka_dead.c).
 *   - __PURGE_*: we purged (shutdown, or rebuilding the producer): stays SENT, not acked.
 *   - __FATAL (the idempotent producer cannot go on): the producer is rebuilt and every
 *     unconfirmed message produced again (duplicates possible, counted as retried).
 *   - anything else (a user-set message.timeout.ms expiring, unexpected codes): produced
 *     again by us, counted in events_retried - never dropped.
 */
#include "agent/base/clock.h"
#include "outputs/kafka_int.h"

#include "agent/base/log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the descriptor ---- */

static void *kafka_init(const void *vconf, const struct output_env *env, char *err,
                        size_t errsz)
{
    struct kafka_out *ko = calloc(1, sizeof *ko);
    if (!ko) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    ko->kc = vconf;
    ko->env = env;
    ko->dead.fd = -1;
    char e[256];
    if (ktpl_compile(ko->kc->topic ? ko->kc->topic : "", &ko->tpl, e, sizeof e) != 0) {
        snprintf(err, errsz, "topic: %s", e);
        free(ko);
        return NULL;
    }
    const char *k = ko->kc->key ? ko->kc->key : "";
    ko->key_kind = !*k ? KEY_NONE
                   : strcmp(k, "host.name") == 0 ? KEY_HOST
                   : strcmp(k, "log.file.path") == 0 ? KEY_PATH : KEY_EVENT;
    kconf_warn(ko->kc, env->name);
    if (kdead_init(&ko->dead, env, err, errsz) != 0 || kafka_producer_create(ko, err, errsz) != 0) {
        kdead_close(&ko->dead);
        ktpl_free(&ko->tpl);
        free(ko);
        return NULL;
    }
    return ko;
}

static void kafka_send(void *st, struct event_batch *b)
{
    struct kafka_out *ko = st;
    if (ko->rk)
        rd_kafka_poll(ko->rk, 0);
    struct ktrack *t = malloc(sizeof *t + (size_t)b->n * sizeof(struct kmsg));
    while (!t) { /* out of memory: wait rather than drop */
        LF_LOG(LF_ERROR, "out.kafka", "[%s] out of memory; retrying", ko->env->name);
        nanosleep(&(struct timespec){0, 100000000L}, NULL);
        t = malloc(sizeof *t + (size_t)b->n * sizeof(struct kmsg));
    }
    memset(t, 0, sizeof *t);
    t->b = b;
    uint64_t skipped = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        if (!output_wants(ko->env, b, &b->ev[i])) {
            skipped++;
            continue;
        }
        t->m[t->nmsg++] = (struct kmsg){t, i, KM_NEW};
    }
    METRIC_ADD(ko->env->m->events_skipped, skipped);
    if (t->nmsg == 0) {
        free(t);
        METRIC_ADD(ko->env->m->batches_acked, 1);
        ko->env->ack(ko->env, b);
        return;
    }
    t->pending = t->nmsg;
    if (ko->tpl.kind == KTPL_BATCH)
        t->topic_rc = ktpl_render(&ko->tpl, b, &b->ev[t->m[0].idx], t->topic, sizeof t->topic,
                                  &t->topic_len, &t->topic_missing);
    if (ko->key_kind == KEY_HOST && b->host_name) {
        t->key = b->host_name;
        t->keylen = strlen(b->host_name);
    } else if (ko->key_kind == KEY_PATH && b->src && b->src->path) {
        t->key = b->src->path;
        t->keylen = strlen(b->src->path);
    }
    t->prev = ko->tail;
    if (ko->tail)
        ko->tail->next = t;
    else
        ko->head = t;
    ko->tail = t;
    ko->nlive++;
    LF_LOG(LF_DEBUG, "out.kafka", "[%s] batch of %u events, %ld batches unconfirmed",
           ko->env->name, t->nmsg, ko->nlive);
    kafka_pump_wait(ko, KAFKA_SEND_BLOCK_MS);
}

static long kafka_tick(void *st)
{
    struct kafka_out *ko = st;
    if (ko->rk)
        rd_kafka_poll(ko->rk, 0);
    if (kafka_has_backlog(ko) || ko->need_rebuild || !ko->rk) {
        kafka_pump_wait(ko, 100);
        return kafka_has_backlog(ko) ? 0 : 5;
    }
    return ko->head ? 5 : 500;
}

static int kafka_flush(void *st, long timeout_ms)
{
    struct kafka_out *ko = st;
    int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    while (ko->head) {
        int64_t left = deadline - mono_ms();
        if (left <= 0 || (ko->env->giving_up && atomic_load(ko->env->giving_up)))
            break;
        kafka_pump(ko);
        if (ko->rk)
            rd_kafka_flush(ko->rk, (int)(left < 100 ? left : 100));
        else
            nanosleep(&(struct timespec){0, 50000000L}, NULL);
    }
    if (!ko->head)
        return 0;
    unsigned long n = 0;
    for (struct ktrack *t = ko->head; t; t = t->next)
        n += t->pending;
    LF_LOG(LF_WARN, "out.kafka", "[%s] %lu events in %ld batches not confirmed by Kafka within "
           "%ld ms; they stay uncommitted and are sent again after the restart", ko->env->name,
           n, ko->nlive, timeout_ms);
    /* Make librdkafka let go of every pointer into the batches before the core frees them. */
    if (ko->rk) {
        ko->closing = 1;
        rd_kafka_purge(ko->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(ko->rk, 1000);
    }
    return -1;
}

static void kafka_destroy(void *st)
{
    struct kafka_out *ko = st;
    if (!ko)
        return;
    ko->closing = 1;
    if (ko->rk) {
        rd_kafka_purge(ko->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(ko->rk, 1000);
    }
    kafka_producer_destroy(ko);
    while (ko->head) {
        struct ktrack *t = ko->head;
        ko->head = t->next;
        free(t); /* never acked: read again after the restart */
    }
    kdead_close(&ko->dead);
    ktpl_free(&ko->tpl);
    free(ko->arr);
    free(ko);
}

/* Fields are read for a topic template and for a key taken from the event's fields;
 * host.name and log.file.path keys come from the batch (see key_kind in kafka_init). */
static int kafka_uses_fields(const void *conf)
{
    const struct kafka_conf *kc = conf;
    const char *k = kc->key ? kc->key : "";
    return (kc->topic && strstr(kc->topic, "%{")) ||
           (*k && strcmp(k, "host.name") != 0 && strcmp(k, "log.file.path") != 0);
}

const struct output_desc out_kafka_desc = {
    .type = "kafka",
    .conf_table = kafka_conf_keys,
    .conf_size = sizeof(struct kafka_conf),
    .check = kafka_check,
    .init = kafka_init,
    .send = kafka_send,
    .tick = kafka_tick,
    .flush = kafka_flush,
    .destroy = kafka_destroy,
    .test = kafka_test,
    .uses_fields = kafka_uses_fields,
};
