/*
 * logstash.c - the Logstash output: Lumberjack v2 windows to Logstash's beats input, with
 * failover or load balancing over hosts, partial ACKs, resends and slow start.
 *
 * Threads: everything here runs on the output's own thread; the core's env->ack is the only
 * call that crosses threads (it is thread-safe). No lock is needed.
 *
 * Delivery: send() appends the borrowed batch's wanted events to one waiting list (across
 * batches, so that windows are full even when the pipeline's batches are small) and ships
 * every full window of `win` events on a connection, waiting for its ACKs; tick() ships the
 * partial rest when no batch came for LJ_LINGER_MS. An ACK for sequence s means
 * the first s events of the window are processed (Logstash ACKs part way through large
 * windows and repeats its last ACK as a keep-alive: both count as life). A window whose
 * connection fails, or that sees no ACK for `timeout`, is cut at the last ACK: the
 * unACKed rest goes again, as a new window, on a new connection (to the next host), after
 * the failed host's backoff. A batch is acked to the pipeline, in order, only when every
 * one of its events is ACKed, so a crash or a shutdown in between loses nothing (the file's
 * offset does not move): duplicates are only what was in flight.
 *
 * Up to LJ_PIPELINE windows are in flight on one connection (Filebeat's `pipelining`): the
 * next window is built, compressed and sent while Logstash works through the previous one.
 * Logstash processes a connection's windows in order, so each ACK belongs to the oldest
 * window not yet complete. When the pipeline is full, send() blocks until an ACK frees a
 * slot: backpressure is natural (a slow Logstash slows this thread, and the pipeline's
 * budget pauses reading). With loadbalance, one window at a time, each to the next host.
 *
 * Hosts: loadbalance = false keeps to the first reachable host and moves to the next one in
 * order when it fails; loadbalance = true starts each window at the host after the previous
 * window's, so windows spread over every reachable host. A failed host is retried after its
 * backoff (backoff_init doubling to backoff_max, with jitter), reset by a fully ACKed
 * window.
 */
#include "outputs/logstash.h"

#include "agent/base/compress.h"
#include "agent/base/log.h"
#include "outputs/out_state.h"
#include "outputs/output.h"

#include <jansson.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#ifndef LOGFERRY_VERSION
#define LOGFERRY_VERSION "0"
#endif

/* Frame buffers hold one window; a window is bounded by the pipeline's batch budget. */
#define LJ_BUF_MAX ((size_t)1 << 30)
/* How often a wait for an ACK looks at the shutdown deadline. */
#define LJ_POLL_SLICE_MS 200
/* A partial window waits this long for the next batch before it is shipped as it is. */
#define LJ_LINGER_MS 2
/* Windows in flight on one connection (Filebeat's `pipelining`, default 2): the next window
 * is compressed and sent while Logstash works through the previous one. With loadbalance,
 * one: consecutive windows go to different hosts. */
#define LJ_PIPELINE 2

struct lj_hstate {
    struct lj_host h;
    struct lj_conn c;
    long backoff_ms;   /* next reconnect delay (out_backoff_next); 0 after a success */
    int errors_logged; /* consecutive failures logged at WARN */
    /* Atomic because lj_status() reads them on the HTTP thread; only this thread writes. */
    atomic_int up;
    atomic_llong retry_at; /* monotonic ms; 0 = may connect now */
    atomic_ullong windows, events, resent, failures;
    atomic_llong ack_ms_sum, ack_ms_max;
};

struct lj_ref {
    struct event_batch *b;
    uint32_t i; /* index of the event in b */
};

struct lj_pb {
    struct event_batch *b;
    uint32_t end; /* one past its last event in ref[] */
};

/* A window sent and not yet fully ACKed: ref[start..start+n), acked of them ACKed. */
struct lj_flight {
    uint32_t start, n, acked;
    int full; /* n was the window size when it was sent: its success may grow the window */
    int64_t sent_ms;
};

struct lj_out {
    const struct lj_conf *lc;
    const struct output_env *env;
    SSL_CTX *ctx;
    enum lj_verify verify;
    struct lj_hstate *hs;
    int nh;
    int cur;      /* the host the next window starts looking at */
    uint32_t win; /* current window size (slow start) */
    atomic_uint win_pub; /* the same, for lj_status() */
    struct buf meta, frames, plain;
    struct lf_compressor *zc; /* NULL when compression_level = 0 */
    /* Events waiting for an ACK, in order, across batches: ref[pos..nref) */
    struct lj_ref *ref;
    uint32_t nref, pos, capref;
    /* Borrowed batches in order; pb[k] is acked once pos reaches pb[k].end */
    struct lj_pb *pb;
    uint32_t pbhead, npb, cappb;
    uint32_t sent;       /* ref[pos..sent) is in flight, ref[sent..nref) not yet sent */
    struct lj_flight fl[LJ_PIPELINE];
    int nfl, flhost;     /* windows in flight, oldest first, all on host flhost */
    int64_t ack_deadline; /* the oldest window's ACK is late after this */
    int64_t last_add_ms; /* when send() last added events (linger for a partial window) */
    int64_t deadline_ms; /* flush(): give up after this (0 = none) */
    unsigned rnd;
};

static int giving_up(const struct lj_out *lo)
{
    return (lo->env->giving_up && atomic_load(lo->env->giving_up)) ||
           (lo->deadline_ms && mono_ms() >= lo->deadline_ms);
}

static void host_fail(struct lj_out *lo, struct lj_hstate *hs, const char *err)
{
    lj_conn_close(&hs->c);
    hs->up = 0;
    hs->failures++;
    long b = out_backoff_next(&hs->backoff_ms, lo->lc->backoff_init_ms, lo->lc->backoff_max_ms);
    /* jitter: 75% to 125% of the delay, so agents restarted together spread out */
    long j = b * 3 / 4 + (long)(rand_r(&lo->rnd) % (unsigned)(b / 2 + 1));
    hs->retry_at = mono_ms() + j;
    /* err names the host already (logstash_conn.c and send() write it so) */
    enum lf_level lvl = hs->errors_logged < 3 ? LF_WARN : LF_DEBUG;
    LF_LOG(lvl, "out.logstash", "[%s] %s; next attempt to this host in %ld ms%s",
           lo->env->name, err, j,
           hs->errors_logged == 2 ? " (further failures of this host at debug level)" : "");
    hs->errors_logged++;
    out_state_set(lo->env->m, OUT_RETRYING, "%s", err);
}

/* A connection idle between windows must have nothing to read: a readable socket means
 * the server closed it (Logstash's client_inactivity_timeout) or sent something stray.
 * Either way a fresh connection is cheaper than a window sent into a dead one. */
static int conn_idle_ok(struct lj_hstate *hs)
{
    struct pollfd p = {hs->c.fd, POLLIN, 0};
    return poll(&p, 1, 0) == 0;
}

/* The index of a host ready to take a window, looking from `start` in order; waits for a
 * backoff to expire when none is. -1 when the shutdown deadline passed. */
static int pick_host(struct lj_out *lo, int start)
{
    for (;;) {
        int64_t now = mono_ms(), next = INT64_MAX;
        for (int k = 0; k < lo->nh; k++) {
            int i = (start + k) % lo->nh;
            struct lj_hstate *hs = &lo->hs[i];
            if (hs->up && !conn_idle_ok(hs)) {
                LF_LOG(LF_DEBUG, "out.logstash", "[%s] %s closed the idle connection; "
                       "reconnecting", lo->env->name, hs->h.name);
                lj_conn_close(&hs->c);
                hs->up = 0;
            }
            if (hs->up)
                return i;
            if (now < hs->retry_at) {
                if (hs->retry_at < next)
                    next = hs->retry_at;
                continue;
            }
            char err[512];
            if (lj_conn_open(&hs->c, &hs->h, lo->ctx, lo->verify, lo->lc->timeout_ms, err,
                             sizeof err) != 0) {
                host_fail(lo, hs, err);
                if (hs->retry_at < next)
                    next = hs->retry_at;
                now = mono_ms();
                continue;
            }
            hs->up = 1;
            LF_LOG(hs->errors_logged ? LF_INFO : LF_DEBUG, "out.logstash",
                   "[%s] connected to %s%s", lo->env->name, hs->h.name,
                   lo->ctx ? " (TLS)" : "");
            return i;
        }
        if (giving_up(lo))
            return -1;
        int64_t wait = next - mono_ms();
        if (wait > LJ_POLL_SLICE_MS)
            wait = LJ_POLL_SLICE_MS;
        if (wait > 0)
            nanosleep(&(struct timespec){0, (long)wait * 1000000L}, NULL);
    }
}

/* Builds the frames of one window: events ref[0..n), numbered 1..n. */
static int build_window(struct lj_out *lo, const struct lj_ref *ref, uint32_t n, char *err,
                        size_t errsz)
{
    int level = (int)lo->lc->compression_level;
    struct buf *j = level > 0 ? &lo->plain : &lo->frames;
    buf_reset(&lo->frames);
    buf_reset(&lo->plain);
    if (lj_put_window(&lo->frames, n) != 0)
        goto cap;
    for (uint32_t i = 0; i < n; i++) {
        const struct event *ev = &ref[i].b->ev[ref[i].i];
        if (lj_put_event(j, i + 1, lo->meta.p, lo->meta.len, ev->json, ev->json_len) != 0)
            goto cap;
    }
    if (level > 0)
        return lj_put_compressed(&lo->frames, lo->zc, lo->plain.p, lo->plain.len, err, errsz);
    return 0;
cap:
    snprintf(err, errsz, "a window of %u events does not fit %zu bytes", n, LJ_BUF_MAX);
    return -1;
}

/* Acks, in order, every batch whose events are all ACKed. */
static void ack_done(struct lj_out *lo)
{
    while (lo->npb && lo->pb[lo->pbhead].end <= lo->pos) {
        struct event_batch *b = lo->pb[lo->pbhead].b;
        lo->pbhead++;
        lo->npb--;
        METRIC_ADD(lo->env->m->batches_acked, 1);
        lo->env->ack(lo->env, b);
    }
    if (lo->npb == 0)
        lo->pbhead = 0;
    if (lo->pos == lo->nref && lo->npb == 0)
        lo->pos = lo->sent = lo->nref = 0; /* everything ACKed: start the arrays over */
}

/* Every window in flight failed (connection lost, no ACK in time, protocol error): what
 * was ACKed stays ACKed, the rest is sent again, after the host's backoff, to the next host. */
static void fail_flight(struct lj_out *lo, const char *err)
{
    struct lj_hstate *hs = &lo->hs[lo->flhost];
    uint32_t again = lo->sent - lo->pos, cnt = lo->nfl ? lo->fl[0].n : again;
    hs->resent += again;
    METRIC_ADD(lo->env->m->events_retried, again);
    char why[1200];
    snprintf(why, sizeof why, "%s: %s; %u events in flight are sent again", hs->h.name, err,
             again);
    host_fail(lo, hs, why);
    lo->nfl = 0;
    lo->sent = lo->pos;
    lo->win = lj_window_next(lo->win, cnt, 0, (uint32_t)lo->lc->window);
    lo->win_pub = lo->win;
}

/* The oldest window in flight is fully ACKed. */
static void flight_done(struct lj_out *lo)
{
    struct lj_hstate *hs = &lo->hs[lo->flhost];
    struct lj_flight *f = &lo->fl[0];
    int64_t lat = mono_ms() - f->sent_ms;
    hs->ack_ms_sum += lat;
    if (lat > hs->ack_ms_max)
        hs->ack_ms_max = lat;
    hs->events += f->n;
    if (hs->errors_logged) {
        LF_LOG(LF_INFO, "out.logstash", "[%s] %s ACKs windows again", lo->env->name,
               hs->h.name);
        hs->errors_logged = 0;
    }
    out_backoff_reset(&hs->backoff_ms);
    out_state_set(lo->env->m, OUT_OK, NULL);
    /* A full window ACKed grows the window even if it grew since this one was sent (the
     * next one, already in flight, was cut at the old size). */
    if (f->full)
        lo->win = lj_window_next(lo->win, lo->win, 1, (uint32_t)lo->lc->window);
    lo->win_pub = lo->win;
    memmove(lo->fl, lo->fl + 1, (size_t)(lo->nfl - 1) * sizeof *lo->fl);
    lo->nfl--;
    lo->ack_deadline = mono_ms() + lo->lc->timeout_ms;
    if (lo->lc->loadbalance && lo->nfl == 0)
        lo->cur = (lo->flhost + 1) % lo->nh;
}

/* Waits at most wait_ms for the next ACK of the windows in flight. 1: one was applied;
 * 0: none came; -1: failure (err); -2: the shutdown deadline passed. */
static int await_ack(struct lj_out *lo, long wait_ms, char *err, size_t errsz)
{
    struct lj_hstate *hs = &lo->hs[lo->flhost];
    if (giving_up(lo))
        return -2;
    int64_t left = lo->ack_deadline - mono_ms();
    if (left <= 0) {
        snprintf(err, errsz, "no ACK for %ld ms (%u of %u events of the oldest window ACKed)",
                 lo->lc->timeout_ms, lo->fl[0].acked, lo->fl[0].n);
        return -1;
    }
    uint32_t seq = 0;
    int r = lj_conn_read_ack(&hs->c, wait_ms < left ? wait_ms : (long)left, &seq, err, errsz);
    if (r <= 0)
        return r;
    struct lj_flight *f = &lo->fl[0];
    if (seq > f->n) {
        snprintf(err, errsz, "protocol error: ACK %u for a window of %u events", seq, f->n);
        return -1;
    }
    lo->ack_deadline = mono_ms() + lo->lc->timeout_ms; /* progress or keep-alive */
    if (seq > f->acked) {
        METRIC_ADD(lo->env->m->events_acked, seq - f->acked);
        f->acked = seq;
        lo->pos = f->start + seq;
        ack_done(lo);
        if (seq == f->n)
            flight_done(lo);
    }
    return 1;
}

/* Sends the next window (ref[sent..sent+cnt)) on the flight's host. 0, or -1 (err). */
static int send_next(struct lj_out *lo, char *err, size_t errsz)
{
    struct lj_hstate *hs = &lo->hs[lo->flhost];
    uint32_t left = lo->nref - lo->sent;
    uint32_t cnt = left < lo->win ? left : lo->win;
    while (build_window(lo, lo->ref + lo->sent, cnt, err, errsz) != 0) {
        /* Cannot happen within the pipeline's budget; never drop: try smaller. */
        LF_LOG(LF_ERROR, "out.logstash", "[%s] %s", lo->env->name, err);
        if (cnt == 1 || giving_up(lo))
            return -1;
        cnt /= 2;
    }
    int64_t now = mono_ms();
    if (lj_conn_write(&hs->c, lo->frames.p, lo->frames.len, now + lo->lc->timeout_ms, err,
                      errsz) != 0)
        return -1;
    METRIC_ADD(lo->env->m->events_sent, cnt);
    hs->windows++;
    if (lo->nfl == 0)
        lo->ack_deadline = mono_ms() + lo->lc->timeout_ms;
    lo->fl[lo->nfl++] = (struct lj_flight){lo->sent, cnt, 0, cnt >= lo->win, now};
    lo->sent += cnt;
    return 0;
}

/* Sends windows of waiting events (full windows only, or with `all` the partial rest too)
 * with up to LJ_PIPELINE in flight, and applies the ACKs that come. Without `all` it returns
 * as soon as nothing more can be sent and a window slot is free (the next send() or tick()
 * reads the ACKs); with `all`, when everything is ACKed. 0, or -1 at the shutdown/flush
 * deadline (what is not ACKed stays unacked: read again after a restart). */
static int ship(struct lj_out *lo, int all)
{
    int depth = lo->lc->loadbalance ? 1 : LJ_PIPELINE;
    char err[512];
    for (;;) {
        int r;
        while (lo->nfl && (r = await_ack(lo, 0, err, sizeof err)) == 1)
            ; /* take the ACKs that are already there */
        if (lo->nfl && r < 0)
            goto failed;
        while (lo->nfl < depth &&
               (lo->nref - lo->sent >= lo->win || (all && lo->nref > lo->sent))) {
            if (lo->nfl == 0) {
                int h = pick_host(lo, lo->cur);
                if (h < 0)
                    return -1;
                lo->cur = lo->flhost = h;
            }
            if (send_next(lo, err, sizeof err) != 0) {
                if (giving_up(lo))
                    return -1;
                r = -1;
                goto failed;
            }
        }
        if (lo->nfl == 0 || (!all && lo->nfl < depth))
            return 0;
        r = await_ack(lo, LJ_POLL_SLICE_MS, err, sizeof err);
        if (r >= 0)
            continue;
failed:
        if (r == -2) {
            /* shutdown: a window may be half-sent, so this connection is unusable */
            struct lj_hstate *hs = &lo->hs[lo->flhost];
            lj_conn_close(&hs->c);
            hs->up = 0;
            lo->nfl = 0;
            lo->sent = lo->pos;
            return -1;
        }
        fail_flight(lo, err);
    }
}

static int grow(void **p, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    uint32_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, (size_t)c * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* Takes the batch's wanted events into the waiting list and ships the full windows. The
 * batch is acked (by ack_done) once every one of its events is ACKed; a partial window is
 * shipped by tick() when no batch followed within LJ_LINGER_MS. */
/* Moves what waits to the front of both arrays, so that they never grow past what is
 * waiting (at most a window's worth between two sends, unless Logstash is behind). */
static void compact(struct lj_out *lo)
{
    /* A window in flight may be partly ACKed: keep it whole (pos is inside it). */
    uint32_t shift = lo->nfl ? lo->fl[0].start : lo->pos;
    if (shift > 0) {
        memmove(lo->ref, lo->ref + shift, (size_t)(lo->nref - shift) * sizeof *lo->ref);
        for (uint32_t k = 0; k < lo->npb; k++)
            lo->pb[lo->pbhead + k].end -= shift;
        for (int k = 0; k < lo->nfl; k++)
            lo->fl[k].start -= shift;
        lo->nref -= shift;
        lo->sent -= shift;
        lo->pos -= shift;
    }
    if (lo->pbhead > 0) {
        memmove(lo->pb, lo->pb + lo->pbhead, (size_t)lo->npb * sizeof *lo->pb);
        lo->pbhead = 0;
    }
}

static void lj_send(void *st, struct event_batch *b)
{
    struct lj_out *lo = st;
    struct out_metrics *m = lo->env->m;
    compact(lo);
    while (grow((void **)&lo->ref, &lo->capref, lo->nref + b->n, sizeof *lo->ref) != 0 ||
           grow((void **)&lo->pb, &lo->cappb, lo->pbhead + lo->npb + 1, sizeof *lo->pb) != 0) {
        LF_LOG(LF_ERROR, "out.logstash", "[%s] out of memory; retrying", lo->env->name);
        if (giving_up(lo))
            return; /* not acked: read again after the restart */
        nanosleep(&(struct timespec){0, 100000000L}, NULL);
    }
    uint32_t before = lo->nref;
    for (uint32_t i = 0; i < b->n; i++)
        if (output_wants(lo->env, b, &b->ev[i]))
            lo->ref[lo->nref++] = (struct lj_ref){b, i};
    METRIC_ADD(m->events_skipped, b->n - (lo->nref - before));
    lo->pb[lo->pbhead + lo->npb++] = (struct lj_pb){b, lo->nref};
    lo->last_add_ms = mono_ms();
    ack_done(lo); /* a batch without wanted events behind nothing is done at once */
    ship(lo, 0);
}

static long lj_tick(void *st)
{
    struct lj_out *lo = st;
    if (lo->nref == lo->pos)
        return -1;
    int64_t waited = mono_ms() - lo->last_add_ms;
    if (waited < LJ_LINGER_MS) {
        ship(lo, 0); /* ACKs that came */
        return LJ_LINGER_MS - waited;
    }
    ship(lo, 1);
    return lo->nref == lo->pos ? -1 : LJ_POLL_SLICE_MS;
}

static void *lj_init(const void *vconf, const struct output_env *env, char *err, size_t errsz)
{
    const struct lj_conf *lc = vconf;
    struct lj_out *lo = calloc(1, sizeof *lo);
    if (!lo) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    lo->lc = lc;
    lo->env = env;
    lo->verify = lj_verify_mode(lc);
    lo->rnd = (unsigned)mono_ms() ^ (unsigned)(uintptr_t)lo;
    lo->win = lc->window < LJ_WINDOW_START ? (uint32_t)lc->window : LJ_WINDOW_START;
    lo->win_pub = lo->win;
    buf_init(&lo->meta, 4096);
    buf_init(&lo->frames, LJ_BUF_MAX);
    buf_init(&lo->plain, LJ_BUF_MAX);
    lo->nh = lc->hosts.n;
    lo->hs = calloc((size_t)(lo->nh ? lo->nh : 1), sizeof *lo->hs);
    if (!lo->hs || lj_metadata(&lo->meta, lc->beat_name, LOGFERRY_VERSION) != 0) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    for (int i = 0; i < lo->nh; i++) {
        lo->hs[i].c.fd = -1;
        if (lj_host_parse(lc->hosts.v[i], &lo->hs[i].h, err, errsz) != 0)
            goto fail;
    }
    if (lc->compression_level > 0 && !(lo->zc = lf_compressor_new((int)lc->compression_level))) {
        snprintf(err, errsz, "out of memory (compressor)");
        goto fail;
    }
    if (lj_tls_on(lc)) {
        lo->ctx = lj_tls_ctx(lc, err, errsz);
        if (!lo->ctx)
            goto fail;
        if (lo->verify == LJ_VERIFY_NONE)
            LF_LOG(LF_WARN, "out.logstash", "[%s] ssl_verify = none: the server's certificate "
                   "is NOT verified; anyone on the path can read and alter every event",
                   env->name);
    }
    return lo;
fail:
    lf_compressor_free(lo->zc);
    free(lo->hs);
    buf_free(&lo->meta);
    free(lo);
    return NULL;
}

static int lj_flush(void *st, long timeout_ms)
{
    struct lj_out *lo = st;
    if (lo->nref == lo->pos && lo->npb == 0)
        return 0;
    lo->deadline_ms = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    ship(lo, 1);
    lo->deadline_ms = 0;
    if (lo->nref == lo->pos && lo->npb == 0)
        return 0;
    LF_LOG(LF_WARN, "out.logstash", "[%s] %u events not ACKed by Logstash within %ld ms; they "
           "stay uncommitted and are sent again after the restart", lo->env->name,
           lo->nref - lo->pos, timeout_ms);
    return -1;
}

static void lj_destroy(void *st)
{
    struct lj_out *lo = st;
    if (!lo)
        return;
    for (int i = 0; i < lo->nh; i++) {
        struct lj_hstate *hs = &lo->hs[i];
        if (hs->windows || hs->failures)
            LF_LOG(LF_INFO, "out.logstash", "[%s] %s: %llu windows, %llu events ACKed, %llu "
                   "resent, %llu failures, ACK latency avg %lld ms max %lld ms", lo->env->name,
                   hs->h.name, (unsigned long long)hs->windows,
                   (unsigned long long)hs->events, (unsigned long long)hs->resent,
                   (unsigned long long)hs->failures,
                   (long long)(hs->windows ? hs->ack_ms_sum / (int64_t)hs->windows : 0),
                   (long long)hs->ack_ms_max);
        lj_conn_close(&hs->c);
    }
    SSL_CTX_free(lo->ctx);
    lf_compressor_free(lo->zc);
    free(lo->hs);
    free(lo->ref); /* batches not acked: read again after the restart */
    free(lo->pb);
    buf_free(&lo->meta);
    buf_free(&lo->frames);
    buf_free(&lo->plain);
    free(lo);
}

/* Per host, for /status and /metrics (HTTP thread: atomics and init-time strings only). */
static json_t *lj_status(void *st)
{
    const struct lj_out *lo = st;
    json_t *hosts = json_array();
    int64_t now = mono_ms();
    for (int i = 0; i < lo->nh; i++) {
        const struct lj_hstate *hs = &lo->hs[i];
        unsigned long long w = hs->windows;
        int up = hs->up;
        json_array_append_new(hosts, json_pack(
            "{s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I}", "host", hs->h.name,
            "state", up ? "connected" : hs->retry_at > now ? "backoff" : "not connected",
            "up", up, "windows", (json_int_t)w, "events_acked", (json_int_t)hs->events,
            "events_resent", (json_int_t)hs->resent, "failures", (json_int_t)hs->failures,
            "ack_latency_ms_avg", (json_int_t)(w ? hs->ack_ms_sum / (long long)w : 0),
            "ack_latency_ms_max", (json_int_t)hs->ack_ms_max));
    }
    return json_pack("{s:o, s:i}", "hosts", hosts, "window", (int)lo->win_pub);
}

/* Only ev->json (and `when`, which the core accounts for) is read. */
static int lj_uses_fields(const void *conf)
{
    (void)conf;
    return 0;
}

const struct output_desc out_logstash_desc = {
    .type = "logstash",
    .conf_table = lj_conf_keys,
    .conf_size = sizeof(struct lj_conf),
    .check = lj_check,
    .init = lj_init,
    .send = lj_send,
    .tick = lj_tick,
    .flush = lj_flush,
    .destroy = lj_destroy,
    .test = lj_test,
    .uses_fields = lj_uses_fields,
    .status = lj_status,
};
