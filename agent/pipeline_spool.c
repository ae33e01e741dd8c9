/*
 * pipeline_spool.c - where the pipeline meets each output's disk spool (agent/spool.h).
 *
 * A batch offered to an output that cannot take it (the output reports a failure, or its
 * ring holds a quarter of the in-flight budget) goes to the output's spool queue instead;
 * so do all batches after it while the spool has records the output has not read back, so
 * the output sees its events in order: everything in its ring is older than everything in
 * its spool. The spool thread (`lf-spool-NAME`) appends what is queued as one group, syncs
 * it once, and acknowledges the group's batches for this output: from there they count as
 * delivered, and the other outputs and the reader go on. The output thread sends its ring
 * first, then the spool's records, oldest first, a few batches in flight at a time; their
 * acknowledgements go to the spool (core_ack in pipeline.c), which deletes a segment once all
 * of it is acknowledged.
 *
 * Threads: pipeline_spool_divert/push and _ring_to_spool on the tail thread under o->mu;
 * _due/_next on the output thread; the spool thread; acks from anywhere (spool.c locks).
 * Lock order: o->mu, then the spool's own.
 */
#include "agent/base/clock.h"
#include "agent/agent.h"
#include "agent/base/log.h"
#include "agent/spool.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GROUP_MAX 64

int pipeline_spool_open(struct agent *a, struct output_inst *o, char *err, size_t errsz)
{
    if (o->common.spool == 0)
        return 0;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/spool/%s", a->ac.data_dir, o->env.name);
    struct spool_conf c = {
        .max_bytes = o->common.spool,
        .drop_oldest = o->common.spool_full && strcmp(o->common.spool_full, "drop_oldest") == 0,
    };
    char e2[512] = "";
    if (spool_open(&o->sp, dir, o->env.name, &c, e2, sizeof e2) != 0) {
        /* a data_dir on a full or read-only disk must not stop the agent: this output runs
         * as without a spool (it may hold the others back, as before) */
        LF_LOG(LF_ERROR, "pipeline", "[output %s]: %s; running it without a spool",
               o->env.name, e2);
        o->sp = NULL;
        return 0;
    }
    o->spq = calloc(o->ring_cap, sizeof *o->spq);
    if (!o->spq) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    pthread_cond_init(&o->sp_cv, NULL);
    return 0;
}

void pipeline_held_add(struct output_inst *o, const struct event_batch *b, int sign)
{
    atomic_fetch_add(&o->held_events, sign * (long)b->n);
    atomic_fetch_add(&o->held_bytes, (unsigned long long)(sign * (long long)b->bytes));
    atomic_fetch_add(&o->held_batches, sign);
}

int pipeline_spool_divert(struct output_inst *o)
{
    if (!o->sp)
        return 0;
    const struct agent *a = o->agent;
    /* what the output holds unacknowledged: the batches a failing output has taken into its
     * own queues are stuck there, so it may hold half the budget, no more */
    return o->spq_count || o->sp_busy || spool_unread(o->sp) ||
           METRIC_GET(o->m.state) != OUT_OK ||
           atomic_load(&o->held_events) >= a->ac.queue_max_events / 2 ||
           atomic_load(&o->held_bytes) >= a->ac.queue_max_bytes / 2 ||
           atomic_load(&o->held_batches) >= a->q_max_batches / 2;
}

void pipeline_spool_push(struct output_inst *o, struct event_batch *b)
{
    o->spq[(o->spq_head + o->spq_count) % o->ring_cap] = b;
    o->spq_count++;
    pthread_cond_signal(&o->sp_cv);
}

void pipeline_ring_to_spool(struct agent *a)
{
    for (int i = 0; i < a->nouts; i++) {
        struct output_inst *o = &a->outs[i];
        if (!o->sp || !o->sp_started)
            continue;
        pthread_mutex_lock(&o->mu);
        if (METRIC_GET(o->m.state) != OUT_OK && o->count) {
            LF_LOG(LF_INFO, "pipeline", "output %s is failing: its %zu queued batch(es) go to "
                   "its spool", o->env.name, o->count);
            while (o->count) {
                struct event_batch *b = o->ring[o->head];
                o->head = (o->head + 1) % o->ring_cap;
                o->count--;
                pipeline_held_add(o, b, -1);
                pipeline_spool_push(o, b);
            }
        }
        pthread_mutex_unlock(&o->mu);
    }
}

int pipeline_spool_due(struct output_inst *o)
{
    if (!o->sp || o->stop)
        return 0;
    /* Read back as much as an output may hold of live batches (half the budget): enough to
     * fill its requests, and replay memory bounded like any other read. */
    const struct agent *a = o->agent;
    uint64_t ev, bytes;
    spool_in_flight_size(o->sp, &ev, &bytes);
    return ev < (uint64_t)a->ac.queue_max_events / 2 && bytes < a->ac.queue_max_bytes / 2 &&
           spool_in_flight(o->sp) < a->q_max_batches / 2 && spool_readable(o->sp);
}

struct event_batch *pipeline_spool_next(struct output_inst *o)
{
    return spool_next(o->sp);
}

static void *spool_main(void *arg)
{
    struct output_inst *o = arg;
    char tname[16];
    snprintf(tname, sizeof tname, "lf-spool-%s", o->env.name);
    pthread_setname_np(pthread_self(), tname);
    struct event_batch *grp[GROUP_MAX];
    for (;;) {
        pthread_mutex_lock(&o->mu);
        while (o->spq_count == 0 && !o->sp_stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            if (pthread_cond_timedwait(&o->sp_cv, &o->mu, &ts) == ETIMEDOUT) {
                pthread_mutex_unlock(&o->mu);
                spool_maintain(o->sp); /* a drained spool gives its last segment back */
                pthread_mutex_lock(&o->mu);
            }
        }
        if (o->spq_count == 0) { /* stopping, and nothing left to spool */
            pthread_mutex_unlock(&o->mu);
            break;
        }
        size_t n = 0;
        while (o->spq_count && n < GROUP_MAX) {
            grp[n++] = o->spq[o->spq_head];
            o->spq_head = (o->spq_head + 1) % o->ring_cap;
            o->spq_count--;
        }
        o->sp_busy = n;
        pthread_mutex_unlock(&o->mu);
        int ok = 1;
        int64_t now = wall_ms();
        for (size_t i = 0; i < n && ok; i++)
            ok = spool_append(o->sp, grp[i], now, o->env.giving_up) >= 0;
        if (ok)
            ok = spool_sync(o->sp) == 0;
        pthread_mutex_lock(&o->mu);
        if (!ok) {
            /* Not on disk (a write failed, or shutdown gave up waiting for room): the output
             * holds them in memory as it would without a spool, and the budget they take
             * pauses reading once spent. */
            for (size_t i = 0; i < n; i++) {
                o->ring[(o->head + o->count) % o->ring_cap] = grp[i];
                o->count++;
                pipeline_held_add(o, grp[i], 1);
            }
        }
        o->sp_busy = 0;
        pthread_cond_signal(&o->cv); /* records to read back, or batches to send */
        pthread_mutex_unlock(&o->mu);
        if (ok)
            for (size_t i = 0; i < n; i++)
                pipeline_batch_done(o, grp[i]);
    }
    spool_maintain(o->sp);
    pipeline_thread_done(o, &o->sp_finished);
    return NULL;
}

int pipeline_spool_start(struct output_inst *o, char *err, size_t errsz)
{
    if (!o->sp)
        return 0;
    if (pthread_create(&o->sp_thread, NULL, spool_main, o) != 0) {
        snprintf(err, errsz, "[output %s]: cannot start its spool thread", o->env.name);
        return -1;
    }
    o->sp_started = 1;
    return 0;
}

json_t *pipeline_spool_status(struct output_inst *o)
{
    if (!o->sp)
        return NULL;
    struct spool_stats st;
    spool_get_stats(o->sp, &st);
    int64_t age = st.oldest_ms ? wall_ms() - st.oldest_ms : 0;
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                     "spool_bytes", (json_int_t)st.bytes,
                     "spool_max_bytes", (json_int_t)o->common.spool,
                     "spool_events", (json_int_t)st.events,
                     "spool_records", (json_int_t)st.records,
                     "spool_oldest_age_s", (json_int_t)(age > 0 ? age / 1000 : 0),
                     "spool_drain_rate", (json_int_t)st.drain_rate,
                     "spool_events_spooled", (json_int_t)st.events_spooled,
                     "spool_events_drained", (json_int_t)st.events_drained,
                     "spool_events_dropped", (json_int_t)st.events_dropped,
                     "spool_corrupt_records", (json_int_t)st.corrupt_records,
                     "spool_corrupt_bytes", (json_int_t)st.corrupt_bytes,
                     "spool_torn_tails", (json_int_t)st.torn_tails,
                     "spool_write_errors", (json_int_t)st.write_errors);
}

void pipeline_spool_check(struct agent *a, FILE *out)
{
    for (int i = 0; i < a->nouts; i++) {
        struct output_inst *o = &a->outs[i];
        if (o->common.spool == 0)
            continue;
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/spool/%s", a->ac.data_dir, o->env.name);
        fprintf(out, "spool of output %s (%s):\n", o->env.name, dir);
        int bad = spool_check_dir(dir, out);
        if (bad)
            fprintf(out, "  %d damaged records or stretches: the next start skips them (counted in "
                    "/metrics as logferry_output_spool_corrupt_records_total) and delivers the "
                    "rest\n", bad);
    }
}

void pipeline_spool_stop_begin(struct output_inst *o)
{
    if (!o->sp_started)
        return;
    pthread_mutex_lock(&o->mu);
    o->sp_stop = 1;
    pthread_cond_signal(&o->sp_cv);
    pthread_mutex_unlock(&o->mu);
    spool_wake(o->sp);
}

void pipeline_spool_close(struct output_inst *o, int abandoned)
{
    if (o->sp_started) {
        if (!atomic_load(&o->sp_finished)) {
            /* stuck in a write to a dead disk: leave it, as an abandoned output thread */
            LF_LOG(LF_WARN, "pipeline", "the spool of output %s did not stop in time",
                   o->env.name);
            return;
        }
        pthread_join(o->sp_thread, NULL);
        o->sp_started = 0;
    }
    if (o->sp) {
        spool_close(o->sp, abandoned);
        o->sp = NULL;
        pthread_cond_destroy(&o->sp_cv);
    }
    free(o->spq);
    o->spq = NULL;
}
