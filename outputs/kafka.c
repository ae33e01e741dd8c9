/*
 * kafka.c - the Kafka output: a librdkafka producer whose delivery reports drive the acks.
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

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void kafka_set_state(struct kafka_out *ko, int st, const char *fmt, ...)
{
    struct out_metrics *m = ko->env->m;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m->last_error, sizeof m->last_error, fmt, ap);
        va_end(ap);
    }
    if (METRIC_GET(m->state) != st) {
        METRIC_SET(m->state, st);
        METRIC_SET(m->state_since_ms, wall_ms());
    }
}

/* ---- batch bookkeeping ---- */

static void finish(struct kafka_out *ko, struct ktrack *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        ko->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        ko->tail = t->prev;
    ko->nlive--;
    METRIC_ADD(ko->env->m->batches_acked, 1);
    ko->env->ack(ko->env, t->b);
    free(t);
}

int kafka_km_done(struct kafka_out *ko, struct kmsg *km)
{
    struct ktrack *t = km->t;
    km->state = KM_DONE;
    if (--t->pending == 0) {
        finish(ko, t);
        return 1;
    }
    return 0;
}

/* It may then leave after later messages: only unexpected errors take this path. */
void kafka_km_requeue(struct kmsg *km)
{
    struct ktrack *t = km->t;
    km->state = KM_NEW;
    uint32_t pos = (uint32_t)(km - t->m);
    if (pos < t->cursor)
        t->cursor = pos;
}

int kafka_dead_letter(struct kafka_out *ko, struct kmsg *km, const char *reason,
                      const char *detail, const char *topic, int *freed)
{
    const struct event *ev = kmsg_event(km);
    char err[512];
    *freed = 0;
    if (kdead_write(&ko->dead, ko->env, reason, detail, topic, ev->json, kmsg_payload_len(ev),
                    err, sizeof err) != 0) {
        if (ko->retry_dead_at == 0)
            LF_LOG(LF_ERROR, "out.kafka", "[%s] %s; the event is kept and retried (its file's "
                   "offset does not advance)", ko->env->name, err);
        kafka_set_state(ko, OUT_RETRYING, "%s", err);
        ko->retry_dead_at = mono_ms() + 1000;
        kafka_km_requeue(km);
        return -1;
    }
    ko->retry_dead_at = 0;
    *freed = kafka_km_done(ko, km);
    return 0;
}

/* ---- librdkafka callbacks (served on our thread by rd_kafka_poll/flush) ---- */

int kafka_permanent_error(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
        return 1;
    default:
        return 0;
    }
}

const char *kafka_dead_reason(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
        return "message too large";
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        return "topic authorization failed";
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
        return "invalid topic";
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        return "unknown topic";
    default:
        return "rejected by the broker";
    }
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    struct kafka_out *ko = opaque;
    struct kmsg *km = msg->_private;
    (void)rk;
    if (ko->closing || !km || km->state != KM_SENT)
        return;
    rd_kafka_resp_err_t e = msg->err;
    int freed;
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        METRIC_ADD(ko->env->m->events_acked, 1);
        if (METRIC_GET(ko->env->m->state) != OUT_OK) {
            LF_LOG(LF_INFO, "out.kafka", "[%s] Kafka confirms deliveries again", ko->env->name);
            kafka_set_state(ko, OUT_OK, NULL);
            ko->errors_logged = 0;
        }
        kafka_km_done(ko, km);
        return;
    }
    if (ko->draining || e == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
        e == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
        return; /* stays SENT: the purger decides (rebuild produces it again) */
    if (e == RD_KAFKA_RESP_ERR__FATAL) {
        ko->need_rebuild = 1;
        return;
    }
    if (kafka_permanent_error(e)) {
        kafka_dead_letter(ko, km, kafka_dead_reason(e), rd_kafka_err2str(e),
                          rd_kafka_topic_name(msg->rkt), &freed);
        return;
    }
    if (e != ko->last_logged_err) {
        LF_LOG(LF_WARN, "out.kafka", "[%s] delivery failed (%s); producing the message again",
               ko->env->name, rd_kafka_err2str(e));
        ko->last_logged_err = e;
    }
    METRIC_ADD(ko->env->m->events_retried, 1);
    kafka_km_requeue(km);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct kafka_out *ko = opaque;
    if (ko->closing)
        return;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[512];
        rd_kafka_resp_err_t fe = rd_kafka_fatal_error(rk, buf, sizeof buf);
        LF_LOG(LF_ERROR, "out.kafka", "[%s] fatal producer error %s: %s; rebuilding the producer "
               "and producing unconfirmed events again", ko->env->name, rd_kafka_err2name(fe),
               buf);
        kafka_set_state(ko, OUT_RETRYING, "fatal: %s", buf);
        ko->need_rebuild = 1;
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        kafka_set_state(ko, OUT_RETRYING, "all brokers down: %s", reason);
    else if (METRIC_GET(ko->env->m->state) != OUT_OK)
        snprintf(ko->env->m->last_error, sizeof ko->env->m->last_error, "%s", reason);
    /* An outage makes librdkafka report every reconnect attempt: a few at WARN, then DEBUG
     * until deliveries resume. */
    enum lf_level lvl = ko->errors_logged < 5 ? LF_WARN : LF_DEBUG;
    ko->errors_logged++;
    LF_LOG(lvl, "out.kafka", "[%s] %s: %s%s", ko->env->name, rd_kafka_err2name(err), reason,
           ko->errors_logged == 5 ? " (further errors at debug level until Kafka is back)" : "");
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    const struct kafka_out *ko = rd_kafka_opaque(rk);
    /* error_cb reports what matters; librdkafka's own log is for debugging, except its
     * warnings about the configuration. */
    enum lf_level lvl = (level <= 4 && strstr(fac, "CONF")) ? LF_WARN : LF_DEBUG;
    LF_LOG(lvl, "out.kafka", "[%s] librdkafka %s: %s", ko ? ko->env->name : "?", fac, buf);
}

/* ---- the producer ---- */

static int create_producer(struct kafka_out *ko, char *err, size_t errsz)
{
    rd_kafka_conf_t *rc = kconf_build(ko->kc, 1, err, errsz);
    if (!rc)
        return -1;
    rd_kafka_conf_set_dr_msg_cb(rc, dr_cb);
    rd_kafka_conf_set_error_cb(rc, error_cb);
    rd_kafka_conf_set_log_cb(rc, log_cb);
    rd_kafka_conf_set_opaque(rc, ko);
    char e[512];
    ko->rk = rd_kafka_new(RD_KAFKA_PRODUCER, rc, e, sizeof e);
    if (!ko->rk) {
        rd_kafka_conf_destroy(rc);
        snprintf(err, errsz, "cannot create the Kafka producer: %s", e);
        return -1;
    }
    /* The batch path needs the queue's message limit (to know all of a batch fits) and no
     * byte limit of the user's (bytes are held by the pipeline's batches, not copied). */
    char v[64];
    size_t vsz = sizeof v;
    ko->max_msgs = 100000;
    if (rd_kafka_conf_get(rd_kafka_conf(ko->rk), "queue.buffering.max.messages", v, &vsz) ==
        RD_KAFKA_CONF_OK)
        ko->max_msgs = atol(v);
    ko->batch_ok = 1;
    for (int i = 0; i < ko->kc->props.n; i++)
        if (!strcmp(ko->kc->props.v[i].key, "queue.buffering.max.kbytes"))
            ko->batch_ok = 0;
    if (ko->tpl.kind == KTPL_STATIC) {
        ko->static_rkt = rd_kafka_topic_new(ko->rk, ko->tpl.p[0].lit, NULL);
        if (!ko->static_rkt) {
            snprintf(err, errsz, "topic %s: %s", ko->tpl.p[0].lit,
                     rd_kafka_err2str(rd_kafka_last_error()));
            rd_kafka_destroy(ko->rk);
            ko->rk = NULL;
            return -1;
        }
    }
    return 0;
}

static void destroy_producer(struct kafka_out *ko)
{
    ktcache_clear(&ko->tc);
    ko->last_rkt = NULL;
    ko->last_name[0] = '\0';
    if (ko->static_rkt)
        rd_kafka_topic_destroy(ko->static_rkt);
    ko->static_rkt = NULL;
    if (ko->rk)
        rd_kafka_destroy(ko->rk);
    ko->rk = NULL;
}

/* The idempotent producer hit a fatal error: every message it holds fails. Drain it
 * (taking the confirmations that still arrive), build a new one, and produce everything
 * unconfirmed again, in order. */
static void rebuild(struct kafka_out *ko)
{
    ko->need_rebuild = 0;
    if (ko->rk) {
        ko->draining = 1;
        rd_kafka_purge(ko->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(ko->rk, 2000);
        ko->draining = 0;
        destroy_producer(ko);
    }
    char err[512];
    if (create_producer(ko, err, sizeof err) != 0) {
        LF_LOG(LF_ERROR, "out.kafka", "[%s] %s; trying again in 1 s", ko->env->name, err);
        kafka_set_state(ko, OUT_RETRYING, "%s", err);
        ko->rebuild_at = mono_ms() + 1000;
        return;
    }
    ko->rebuild_at = 0;
    unsigned long n = 0;
    for (struct ktrack *t = ko->head; t; t = t->next) {
        t->cursor = 0;
        for (uint32_t i = 0; i < t->nmsg; i++)
            if (t->m[i].state == KM_SENT) {
                t->m[i].state = KM_NEW;
                n++;
            }
    }
    METRIC_ADD(ko->env->m->events_retried, n);
    LF_LOG(LF_INFO, "out.kafka", "[%s] new producer; producing %lu unconfirmed events again",
           ko->env->name, n);
}

void kafka_maybe_rebuild(struct kafka_out *ko)
{
    if ((ko->need_rebuild || !ko->rk) && (ko->rebuild_at == 0 || mono_ms() >= ko->rebuild_at))
        rebuild(ko);
}

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
    if (kdead_init(&ko->dead, env, err, errsz) != 0 || create_producer(ko, err, errsz) != 0) {
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
    destroy_producer(ko);
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
