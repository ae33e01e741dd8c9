/*
 * kafka_produce.c - handing the live batches' messages to librdkafka, strictly in order.
 *
 * Runs on the output's thread only (from send/tick/flush). kafka_pump() walks the FIFO of
 * live batches and produces every NEW message: it resolves the topic (fixed, rendered once
 * per batch, or per event) and the key, and calls rd_kafka_produce without copying the
 * payload (the batch outlives the message). It stops at the first message that must wait -
 * QUEUE_FULL, dead letters that cannot be written, a producer being rebuilt - so nothing
 * overtakes anything. When a whole batch goes to one topic and librdkafka's queue has room
 * for all of it, one rd_kafka_produce_batch call replaces the per-message calls (one topic
 * lock and one clock read per batch instead of per message).
 */
#include "outputs/kafka_int.h"

#include "agent/base/log.h"
#include "outputs/out_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* An event whose template gave no usable topic goes to topic_fallback: counted in
 * events_rerouted, each reason logged once (the rendered name is log content: it is shown
 * only through a printable, bounded copy). */
static void note_rerouted(struct kafka_out *ko, const char *why, const char *name, size_t len)
{
    METRIC_ADD(ko->env->m->events_rerouted, 1);
    size_t n = sizeof ko->rerouted_logged / sizeof ko->rerouted_logged[0];
    for (size_t i = 0; i < n; i++) {
        if (ko->rerouted_logged[i] == why)
            return;
        if (!ko->rerouted_logged[i]) {
            ko->rerouted_logged[i] = why;
            break;
        }
    } /* more reasons than slots cannot happen: they are the static strings of this file */
    char shown[80];
    size_t k = 0;
    for (size_t i = 0; i < len && k + 1 < sizeof shown; i++) {
        unsigned char c = (unsigned char)name[i];
        shown[k++] = (c >= 0x20 && c < 0x7f && c != '\'') ? (char)c : '?';
    }
    shown[k] = '\0';
    LF_LOG(LF_WARN, "out.kafka", "[%s] topic template gave '%s' (%s): such events go to "
           "topic_fallback '%s' (counted in events_rerouted, logged once per reason)",
           ko->env->name, shown, why, ko->kc->topic_fallback);
}

/* Resolves km's topic into *rkt. Returns 0, or 1 when km was dead-lettered instead (then
 * *freed says whether its batch went with it), or -1 when dead-lettering failed.
 * Log content chooses the topic only among legal, non-internal names: anything else goes
 * to topic_fallback, or without one to the dead-letter file with the reason. */
static int resolve_topic(struct kafka_out *ko, struct kmsg *km, rd_kafka_topic_t **rkt,
                         int *freed)
{
    if (ko->static_rkt) {
        *rkt = ko->static_rkt;
        return 0;
    }
    const char *name, *missing = NULL;
    size_t nlen;
    int rc;
    struct ktrack *t = km->t;
    if (ko->tpl.kind == KTPL_BATCH) {
        rc = t->topic_rc;
        missing = t->topic_missing;
        name = t->topic;
        nlen = t->topic_len;
    } else {
        rc = ktpl_render(&ko->tpl, t->b, kmsg_event(km), ko->tbuf, sizeof ko->tbuf, &nlen,
                         &missing);
        name = ko->tbuf;
    }
    const char *why = rc == 1   ? "topic field missing"
                      : rc == 2 ? "topic name longer than 249 bytes"
                                : ktopic_invalid(name, nlen);
    int fallback = ko->kc->topic_fallback && *ko->kc->topic_fallback;
    if (why && fallback) {
        note_rerouted(ko, why, rc == 1 ? missing : name, rc == 1 ? strlen(missing) : nlen);
        name = ko->kc->topic_fallback;
    } else if (why && rc == 1) {
        char detail[300];
        snprintf(detail, sizeof detail, "field %s is missing and the template has no default "
                 "(set topic_fallback or %%{%s:-default})", missing, missing);
        return kafka_dead_letter(ko, km, "topic field missing", detail, ko->kc->topic,
                                 freed) ? -1 : 1;
    } else if (why) {
        return kafka_dead_letter(ko, km, "invalid topic from template", why,
                                 rc == 2 ? "(too long)" : name, freed) ? -1 : 1;
    }
    if (ko->last_rkt && strcmp(ko->last_name, name) == 0) {
        *rkt = ko->last_rkt;
        return 0;
    }
    char err[256];
    ko->last_rkt = NULL; /* ktcache_get may drop every handle when its table is full */
    *rkt = ktcache_get(&ko->tc, ko->rk, name, err, sizeof err);
    if (!*rkt)
        return kafka_dead_letter(ko, km, "invalid topic", err, name, freed) ? -1 : 1;
    ko->last_rkt = *rkt;
    size_t n = strlen(name); /* <= KTOPIC_MAX: checked above */
    if (n >= sizeof ko->last_name)
        n = sizeof ko->last_name - 1;
    memcpy(ko->last_name, name, n);
    ko->last_name[n] = '\0';
    return 0;
}

static void event_key(struct kafka_out *ko, struct kmsg *km, const char **key, size_t *len)
{
    struct field f;
    *key = NULL;
    *len = 0;
    if (ko->key_kind == KEY_NONE)
        return;
    if (ko->key_kind != KEY_EVENT) {
        *key = km->t->key;
        *len = km->t->keylen;
        return;
    }
    if (!event_get(km->t->b, kmsg_event(km), ko->kc->key, &f))
        return;
    if (f.type == FV_STR) {
        *key = f.v.s;
        *len = f.len;
        return;
    }
    int n = kfield_text(&f, ko->keybuf, sizeof ko->keybuf);
    if (n >= 0) {
        *key = ko->keybuf;
        *len = (size_t)n;
    }
}

/* Produces one NEW message. Returns PUMP_DONE when it is in librdkafka's queue or
 * dead-lettered (*freed: its batch was acked and freed), PUMP_BLOCKED when it must wait
 * (queue full, dead letters failing, producer being rebuilt). */
static int produce_one(struct kafka_out *ko, struct kmsg *km, int *freed)
{
    *freed = 0;
    rd_kafka_topic_t *rkt;
    int r = resolve_topic(ko, km, &rkt, freed);
    if (r != 0)
        return r < 0 ? PUMP_BLOCKED : PUMP_DONE;
    const char *key;
    size_t keylen;
    event_key(ko, km, &key, &keylen);
    const struct event *ev = kmsg_event(km);
    /* No copy: the batch outlives the message (see the header comment). */
    if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, 0, (void *)ev->json,
                         kmsg_payload_len(ev), key, keylen, km) == 0) {
        km->state = KM_SENT;
        METRIC_ADD(ko->env->m->events_sent, 1);
        return PUMP_DONE;
    }
    rd_kafka_resp_err_t e = rd_kafka_last_error();
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        return PUMP_BLOCKED;
    if (e == RD_KAFKA_RESP_ERR__FATAL) {
        ko->need_rebuild = 1;
        return PUMP_BLOCKED;
    }
    if (kafka_permanent_error(e))
        return kafka_dead_letter(ko, km, kafka_dead_reason(e), rd_kafka_err2str(e),
                                 rd_kafka_topic_name(rkt), freed) ? PUMP_BLOCKED : PUMP_DONE;
    if (e != ko->last_logged_err) {
        LF_LOG(LF_WARN, "out.kafka", "[%s] cannot queue a message (%s); retrying",
               ko->env->name, rd_kafka_err2str(e));
        ko->last_logged_err = e;
    }
    return PUMP_BLOCKED;
}

/* The batch path: every NEW message of t from its cursor in one rd_kafka_produce_batch call.
 * Only when the whole batch goes to one topic, keys need no scratch (none, host.name,
 * log.file.path) and librdkafka's queue has room for all of it - then no message can fail
 * with QUEUE_FULL and let a later one overtake it. Returns -1 when not applicable (the
 * caller goes message by message), else PUMP_DONE / PUMP_BLOCKED (*freed as produce_one). */
static int produce_run(struct kafka_out *ko, struct ktrack *t, int *freed)
{
    *freed = 0;
    if (!ko->batch_ok || ko->key_kind == KEY_EVENT || ko->tpl.kind == KTPL_EVENT)
        return -1;
    uint32_t n = 0;
    for (uint32_t i = t->cursor; i < t->nmsg; i++)
        n += t->m[i].state == KM_NEW;
    if (n < 2 || rd_kafka_outq_len(ko->rk) + (long)n > ko->max_msgs)
        return -1;
    struct kmsg *first = NULL;
    for (uint32_t i = t->cursor; i < t->nmsg && !first; i++)
        if (t->m[i].state == KM_NEW)
            first = &t->m[i];
    rd_kafka_topic_t *rkt;
    if (ko->static_rkt) {
        rkt = ko->static_rkt;
    } else if (t->topic_rc != 0 || !ktopic_valid(t->topic, t->topic_len) ||
               resolve_topic(ko, first, &rkt, freed) != 0) {
        return -1; /* dead letters or fallbacks: message by message */
    }
    if (ko->arrcap < n) {
        rd_kafka_message_t *na = realloc(ko->arr, (size_t)n * sizeof *na);
        if (!na)
            return -1;
        ko->arr = na;
        ko->arrcap = n;
    }
    uint32_t k = 0;
    for (uint32_t i = t->cursor; i < t->nmsg; i++) {
        struct kmsg *km = &t->m[i];
        if (km->state != KM_NEW)
            continue;
        const struct event *ev = kmsg_event(km);
        rd_kafka_message_t *m = &ko->arr[k++];
        memset(m, 0, sizeof *m);
        m->payload = (void *)ev->json;
        m->len = kmsg_payload_len(ev);
        m->key = (void *)t->key;
        m->key_len = t->key ? t->keylen : 0;
        m->_private = km;
    }
    int ok = rd_kafka_produce_batch(rkt, RD_KAFKA_PARTITION_UA, 0, ko->arr, (int)n);
    METRIC_ADD(ko->env->m->events_sent, (uint64_t)(ok > 0 ? ok : 0));
    int blocked = 0;
    for (uint32_t j = 0; j < n; j++) {
        rd_kafka_message_t *m = &ko->arr[j];
        struct kmsg *km = m->_private;
        if (!m->err) {
            km->state = KM_SENT;
            continue;
        }
        rd_kafka_resp_err_t e = m->err;
        if (kafka_permanent_error(e) && !blocked) {
            int f = 0;
            if (kafka_dead_letter(ko, km, kafka_dead_reason(e), rd_kafka_err2str(e),
                                  rd_kafka_topic_name(rkt), &f) != 0)
                blocked = 1;
            if (f) {
                *freed = 1;
                return PUMP_DONE; /* everything else of t was dead too */
            }
            continue;
        }
        /* QUEUE_FULL despite the room check, or a fatal error: produced again later */
        if (e == RD_KAFKA_RESP_ERR__FATAL)
            ko->need_rebuild = 1;
        if (e != ko->last_logged_err) {
            LF_LOG(LF_DEBUG, "out.kafka", "[%s] produce_batch: %s; producing it again",
                   ko->env->name, rd_kafka_err2str(e));
            ko->last_logged_err = e;
        }
        kafka_km_requeue(km);
        blocked = 1;
    }
    if (!blocked)
        t->cursor = t->nmsg;
    return blocked ? PUMP_BLOCKED : PUMP_DONE;
}

int kafka_pump(struct kafka_out *ko)
{
    kafka_maybe_rebuild(ko);
    if (!ko->rk || ko->need_rebuild)
        return PUMP_BLOCKED;
    if (ko->retry_dead_at && mono_ms() < ko->retry_dead_at)
        return PUMP_BLOCKED;
    struct ktrack *t = ko->head;
    while (t) {
        struct ktrack *next = t->next;
        int freed = 0;
        if (t->cursor < t->nmsg) {
            int r = produce_run(ko, t, &freed);
            if (r == PUMP_BLOCKED)
                return PUMP_BLOCKED;
            if (freed) {
                t = next;
                continue;
            }
        }
        while (t->cursor < t->nmsg) {
            struct kmsg *km = &t->m[t->cursor];
            if (km->state == KM_NEW) {
                if (produce_one(ko, km, &freed) == PUMP_BLOCKED)
                    return PUMP_BLOCKED;
                if (freed)
                    break;
            }
            t->cursor++;
        }
        t = next;
    }
    return PUMP_DONE;
}

int kafka_has_backlog(const struct kafka_out *ko)
{
    for (const struct ktrack *t = ko->head; t; t = t->next)
        if (t->cursor < t->nmsg)
            return 1;
    return 0;
}

static int giving_up(const struct kafka_out *ko)
{
    return ko->env->giving_up && atomic_load(ko->env->giving_up);
}

void kafka_pump_wait(struct kafka_out *ko, long max_ms)
{
    int64_t start = mono_ms();
    while (kafka_pump(ko) == PUMP_BLOCKED) {
        int64_t now = mono_ms();
        if (!ko->blocked_since)
            ko->blocked_since = now;
        else if (now - ko->blocked_since > 2000 && METRIC_GET(ko->env->m->state) == OUT_OK)
            out_state_set(ko->env->m, OUT_RETRYING,
                            "Kafka is not accepting messages (local queue full)");
        if (now - start >= max_ms || giving_up(ko))
            return;
        if (ko->rk)
            rd_kafka_poll(ko->rk, 100);
        else
            nanosleep(&(struct timespec){0, 100000000L}, NULL);
    }
    ko->blocked_since = 0;
}
