/*
 * pipeline.c - batches from the tail thread to every output and back.
 *
 * Dispatch (tail thread): a finished batch gets pending = number of outputs, is appended to
 * its file's in-flight FIFO, counted against the budget (events, bytes, batches), and pushed
 * onto every output's ring. Each output thread pops batches in order and calls send().
 *
 * An output with a disk spool may take a batch into its spool instead of its ring (it is down
 * or behind: pipeline_spool.c); the spool thread acks it once it is on disk, and the output
 * thread sends its ring first, then what its spool holds.
 *
 * Ack (any thread): core_ack() decrements pending; the ack that brings it to zero wakes the
 * tail thread through an eventfd. A batch read back from a spool is acked to the spool.
 *
 * Collect (tail thread): pipeline_collect() walks each file's FIFO from the head and pops
 * every batch whose pending count is zero, moving the file's committed offset to that
 * batch's end. A batch acked out of order waits in the FIFO until everything before it is
 * done, so the registry never commits past a gap. Budget is released as batches are freed,
 * which is what lets a paused reader go on.
 *
 * Stop (tail thread, driven by shutdown.c): each output thread sends what is queued (nothing
 * more once env->giving_up is set), calls flush() itself with what is left of the deadline,
 * marks itself finished and wakes the tail thread; the outputs whose threads finished are
 * then destroyed, the others left behind.
 */
#include "agent/agent.h"
#include "agent/base/log.h"
#include "agent/base/metrics.h"
#include "agent/spool.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static void core_ack(const struct output_env *env, struct event_batch *b)
{
    struct output_inst *o = env->core;
    if (o->sp && spool_owns(o->sp, b)) {
        spool_ack(o->sp, b);
        pthread_mutex_lock(&o->mu); /* room for the next replay batch */
        pthread_cond_signal(&o->cv);
        pthread_mutex_unlock(&o->mu);
        return;
    }
    pipeline_held_add(o, b, -1);
    pipeline_batch_done(o, b);
}

void pipeline_thread_done(struct output_inst *o, atomic_int *finished)
{
    atomic_store(finished, 1);
    uint64_t one = 1;
    ssize_t w = write(o->agent->ack_fd, &one, sizeof one); /* wake the tail thread */
    (void)w;
}

void pipeline_batch_done(struct output_inst *o, struct event_batch *b)
{
    if (atomic_fetch_sub_explicit(&b->pending, 1, memory_order_acq_rel) != 1)
        return;
    uint64_t one = 1;
    ssize_t w = write(o->agent->ack_fd, &one, sizeof one);
    (void)w;
}

static void abs_deadline(struct timespec *ts, int64_t wait_ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += wait_ms / 1000;
    ts->tv_nsec += (wait_ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static int giving_up(const struct output_inst *o)
{
    return o->env.giving_up && atomic_load(o->env.giving_up);
}

static void *output_main(void *arg)
{
    struct output_inst *o = arg;
    char tname[16]; /* the kernel keeps 15 bytes: "lf-out-" and the start of the name */
    snprintf(tname, sizeof tname, "lf-out-%s", o->env.name);
    pthread_setname_np(pthread_self(), tname);
    long tick_ms = 100;
    int64_t next_tick = mono_ms() + tick_ms;
    for (;;) {
        pthread_mutex_lock(&o->mu);
        while (o->count == 0 && !o->stop && !pipeline_spool_due(o)) {
            if (!o->desc->tick) {
                if (!o->sp) {
                    pthread_cond_wait(&o->cv, &o->mu);
                    continue;
                }
                /* a spool's records can become readable without a signal (synced while its
                 * writer waits for room): look again now and then */
                struct timespec ts;
                abs_deadline(&ts, 200);
                pthread_cond_timedwait(&o->cv, &o->mu, &ts);
                continue;
            }
            int64_t now = mono_ms();
            if (now >= next_tick)
                break;
            struct timespec ts;
            abs_deadline(&ts, next_tick - now);
            pthread_cond_timedwait(&o->cv, &o->mu, &ts);
        }
        /* Past the deadline what is still queued is not sent: it could not be acknowledged
         * in time anyway, and it is read again after the restart. */
        if (o->stop && (o->count == 0 || giving_up(o))) {
            pthread_mutex_unlock(&o->mu);
            break;
        }
        struct event_batch *b = NULL;
        int from_spool = 0;
        if (o->count) {
            b = o->ring[o->head];
            o->head = (o->head + 1) % o->ring_cap;
            o->count--;
        } else {
            from_spool = pipeline_spool_due(o);
        }
        pthread_mutex_unlock(&o->mu);
        if (from_spool)
            b = pipeline_spool_next(o);
        if (b)
            o->desc->send(o->st, b);
        /* tick after every send too: an output's timers must see what send() queued */
        if (o->desc->tick && (b || mono_ms() >= next_tick)) {
            long want = o->desc->tick(o->st);
            tick_ms = want < 0 ? 1000 : (want < 1 ? 1 : want);
            next_tick = mono_ms() + tick_ms;
        }
    }
    /* Stopping: flush on this thread, so the outputs flush in parallel, each within what is
     * left of the one deadline, while the tail thread keeps committing their acks. */
    if (o->desc->flush) {
        int64_t left = o->stop_deadline - mono_ms();
        o->desc->flush(o->st, left > 0 ? (long)left : 0);
    }
    pipeline_thread_done(o, &o->finished);
    return NULL;
}

int pipeline_start(struct agent *a, char *err, size_t errsz)
{
    a->ack_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (a->ack_fd < 0) {
        snprintf(err, errsz, "eventfd: %s", strerror(errno));
        return -1;
    }
    a->q_max_batches = a->ac.queue_max_events < 4096 ? a->ac.queue_max_events : 4096;
    if (a->q_max_batches < 4)
        a->q_max_batches = 4;
    for (int i = 0; i < a->nouts; i++) {
        struct output_inst *o = &a->outs[i];
        o->agent = a;
        /* The budget keeps in-flight batches below q_max_batches, so a ring of that size never
         * overflows (a dispatch can exceed the budget by one batch: +1). */
        o->ring_cap = (size_t)a->q_max_batches + 2;
        o->ring = calloc(o->ring_cap, sizeof *o->ring);
        if (!o->ring) {
            snprintf(err, errsz, "out of memory");
            return -1;
        }
        pthread_mutex_init(&o->mu, NULL);
        pthread_cond_init(&o->cv, NULL);
        if (pipeline_spool_open(a, o, err, errsz) != 0)
            return -1;
        o->env.ack = core_ack;
        METRIC_SET(o->m.state_since_ms, wall_ms());
        char e2[512] = "";
        o->st = o->desc->init(o->conf, &o->env, e2, sizeof e2);
        if (!o->st) {
            snprintf(err, errsz, "[output %s]: %s", o->env.name, e2);
            return -1;
        }
        if (pthread_create(&o->thread, NULL, output_main, o) != 0) {
            snprintf(err, errsz, "[output %s]: cannot start its thread", o->env.name);
            return -1;
        }
        o->started = 1;
        if (pipeline_spool_start(o, err, errsz) != 0)
            return -1;
        LF_LOG(LF_INFO, "pipeline", "output %s (%s) started", o->env.name, o->desc->type);
    }
    return 0;
}

int pipeline_has_room(const struct agent *a)
{
    return a->q_events < a->ac.queue_max_events && a->q_bytes < a->ac.queue_max_bytes &&
           a->q_batches < a->q_max_batches;
}

long pipeline_inflight(const struct agent *a) { return a->q_batches; }

void pipeline_dispatch(struct agent *a, struct tail_file *tf, struct event_batch *b)
{
    b->owner = tf;
    b->seq = tf->next_seq++;
    b->next = NULL;
    b->commit_end = b->end;
    atomic_store(&b->pending, a->nouts);
    if (tf->fifo_tail)
        tf->fifo_tail->next = b;
    else
        tf->fifo_head = b;
    tf->fifo_tail = b;
    sched_inflight(a, tf);
    a->q_events += b->n;
    a->q_bytes += b->bytes;
    a->q_batches++;
    METRIC_SET(lf_metrics.queue_events, a->q_events);
    METRIC_SET(lf_metrics.queue_bytes, (long long)a->q_bytes);
    METRIC_ADD(lf_metrics.events, b->n);
    for (int i = 0; i < a->nouts; i++) {
        struct output_inst *o = &a->outs[i];
        pthread_mutex_lock(&o->mu);
        if (pipeline_spool_divert(o)) {
            pipeline_spool_push(o, b);
        } else {
            o->ring[(o->head + o->count) % o->ring_cap] = b;
            o->count++;
            pipeline_held_add(o, b, 1);
            pthread_cond_signal(&o->cv);
        }
        pthread_mutex_unlock(&o->mu);
    }
}

static void release(struct agent *a, struct event_batch *b)
{
    a->q_events -= b->n;
    a->q_bytes -= b->bytes;
    a->q_batches--;
    batch_free(b);
}

int pipeline_collect(struct agent *a)
{
    uint64_t v;
    while (read(a->ack_fd, &v, sizeof v) > 0)
        ;
    int n = 0;
    /* only the files with batches in flight (sched.c), not every tracked file */
    for (struct tail_file *tf = a->sched.inflight, *nx; tf; tf = nx) {
        nx = tf->inext;
        struct event_batch *b;
        int popped = 0;
        while ((b = tf->fifo_head) &&
               atomic_load_explicit(&b->pending, memory_order_acquire) == 0) {
            tf->fifo_head = b->next;
            if (!tf->fifo_head)
                tf->fifo_tail = NULL;
            if (b->owner) /* NULL: content from before a truncation (tail.c reset_to_start) */
                tf->committed = b->commit_end;
            release(a, b);
            n++;
            popped = 1;
        }
        /* once per file: the entry ends the same as after every batch */
        if (popped && reg_set(a->reg, tf->path, &tf->id, tf->committed) != 0)
            reg_note_failure(a->reg, tf->path);
        /* Behind a batch some output still holds, the acked ones give their memory back
         * now: each is folded into the one before it, whose commit then reaches its end. So a
         * stuck output holds its own batches, not everything read after them. */
        struct event_batch *prev = tf->fifo_head;
        while (prev && (b = prev->next)) {
            if (atomic_load_explicit(&b->pending, memory_order_acquire) != 0 || !prev->owner ||
                !b->owner) {
                prev = b;
                continue;
            }
            prev->commit_end = b->commit_end;
            prev->next = b->next;
            if (tf->fifo_tail == b)
                tf->fifo_tail = prev;
            release(a, b);
            n++;
        }
        if (!tf->fifo_head) {
            sched_settled(a, tf);
            if (tf->fd < 0)
                a->sched.reap = 1;
        }
    }
    METRIC_SET(lf_metrics.queue_events, a->q_events);
    METRIC_SET(lf_metrics.queue_bytes, (long long)a->q_bytes);
    return n;
}

void pipeline_stop_begin(struct agent *a, int64_t deadline_ms)
{
    for (int i = 0; i < a->nouts; i++) {
        struct output_inst *o = &a->outs[i];
        if (!o->started)
            continue;
        pthread_mutex_lock(&o->mu);
        o->stop = 1;
        o->stop_deadline = deadline_ms;
        pthread_cond_signal(&o->cv);
        pthread_mutex_unlock(&o->mu);
        pipeline_spool_stop_begin(o);
    }
}

int pipeline_stop_running(const struct agent *a)
{
    int n = 0;
    for (int i = 0; i < a->nouts; i++)
        n += (a->outs[i].started && !atomic_load(&a->outs[i].finished)) +
             (a->outs[i].sp_started && !atomic_load(&a->outs[i].sp_finished));
    return n;
}

void pipeline_stop_end(struct agent *a)
{
    /* A thread still running (stuck in a blocking call of a destination that never answers)
     * is left behind: shutdown must not hang on it, and whatever it holds was never
     * acknowledged, so it is read again after the restart. */
    for (int i = 0; i < a->nouts; i++) {
        struct output_inst *o = &a->outs[i];
        if (!o->started)
            continue;
        if (!atomic_load(&o->finished)) {
            LF_LOG(LF_WARN, "pipeline", "output %s did not stop in time; leaving it (what it "
                   "holds was not acknowledged and will be read again)", o->env.name);
            o->started = 0;
            o->st = NULL; /* not destroyed: its thread may still use it until exit */
            a->outputs_abandoned = 1; /* so in-flight batches are not freed under it */
            /* its spool too stays: the thread may still read from it or ack to it */
            continue;
        }
        pthread_join(o->thread, NULL); /* it has returned or is returning */
    }
    for (int i = 0; i < a->nouts; i++) {
        struct output_inst *o = &a->outs[i];
        if (!o->started)
            continue;
        o->desc->destroy(o->st);
        o->st = NULL;
        o->started = 0;
        pipeline_spool_close(o, 0);
        pthread_mutex_destroy(&o->mu);
        pthread_cond_destroy(&o->cv);
    }
}

void pipeline_stop(struct agent *a, long timeout_ms)
{
    int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    pipeline_stop_begin(a, deadline);
    while (pipeline_stop_running(a) > 0 && mono_ms() < deadline)
        nanosleep(&(struct timespec){0, 5000000L}, NULL);
    pipeline_stop_end(a);
}
