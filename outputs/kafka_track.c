/*
 * kafka_track.c - the Kafka output's per-batch bookkeeping: the FIFO of live batches
 * (`struct ktrack`), each wanted event's state (NEW -> SENT -> DONE), the ack when a batch's
 * last message is done, dead-lettering, and which broker errors are permanent.
 *
 * The bottom of the Kafka output's files: kafka_producer.c (delivery reports),
 * kafka_produce.c (kafka_pump) and kafka.c (the descriptor) call into it; it calls only
 * kafka_dead.c. Runs on the output's thread only (send/tick/flush and the librdkafka
 * callbacks that rd_kafka_poll/flush serve there), so it needs no lock.
 */
#include "outputs/kafka_int.h"

#include "agent/base/log.h"
#include "outputs/out_state.h"

#include <stdlib.h>
#include <time.h>

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
        out_state_set(ko->env->m, OUT_RETRYING, "%s", err);
        ko->retry_dead_at = mono_ms() + 1000;
        kafka_km_requeue(km);
        return -1;
    }
    ko->retry_dead_at = 0;
    *freed = kafka_km_done(ko, km);
    return 0;
}

/* ---- error classes ---- */

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
