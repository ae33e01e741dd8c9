/*
 * kafka_producer.c - the Kafka output's librdkafka handle: building it from the
 * configuration, its callbacks (delivery reports drive the acks, errors set the output's
 * state), and rebuilding it after a fatal error of the idempotent producer.
 *
 * Threads: the delivery-report and error callbacks are served by rd_kafka_poll() and
 * rd_kafka_flush(), which only the output's thread calls; log_cb runs on librdkafka's
 * internal threads and only formats and writes a log line. Calls into kafka_track.c only;
 * kafka_produce.c and kafka.c call into it.
 */
#include "outputs/kafka_int.h"

#include "agent/base/log.h"
#include "outputs/out_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- librdkafka callbacks (served on our thread by rd_kafka_poll/flush) ---- */

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
            out_state_set(ko->env->m, OUT_OK, NULL);
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
        out_state_set(ko->env->m, OUT_RETRYING, "fatal: %s", buf);
        ko->need_rebuild = 1;
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        out_state_set(ko->env->m, OUT_RETRYING, "all brokers down: %s", reason);
    else if (METRIC_GET(ko->env->m->state) != OUT_OK)
        out_state_note(ko->env->m, "%s", reason);
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

int kafka_producer_create(struct kafka_out *ko, char *err, size_t errsz)
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

void kafka_producer_destroy(struct kafka_out *ko)
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
        kafka_producer_destroy(ko);
    }
    char err[512];
    if (kafka_producer_create(ko, err, sizeof err) != 0) {
        LF_LOG(LF_ERROR, "out.kafka", "[%s] %s; trying again in 1 s", ko->env->name, err);
        out_state_set(ko->env->m, OUT_RETRYING, "%s", err);
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
