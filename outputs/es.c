/*
 * es.c - the Elasticsearch output's descriptor (out_es_desc): init, send, tick, flush,
 * destroy. Its files call one way: es.c -> es_resp.c (answers, es_pump) -> es_req.c
 * (accumulating, cutting, queueing and starting requests) -> es_http.c, es_bulk.c,
 * es_dlq.c; es_int.h is their private contract.
 *
 * Threads: every function here runs on the output's own thread; only env->ack (the core's,
 * thread-safe) leaves it. No locks.
 *
 * Flow. send() borrows a batch, wraps it in a `struct es_bt` that counts the documents still
 * owed for it, and appends one `struct es_doc` per wanted event to the accumulating list.
 * When the list reaches bulk_max_events / bulk_max_bytes (or flush_interval passes, in
 * tick()) it is cut into a request. Up to `workers` requests are in flight at once on a curl
 * multi handle (persistent connections); send() blocks while `workers` requests are
 * outstanding, which is the backpressure the pipeline expects.
 *
 * A request's outcome, per document: indexed (2xx) or already there (409 on create: the
 * deterministic _id makes a replay after a crash or a resent request harmless) -> done;
 * retryable (429, 5xx, 403 cluster_block_exception) -> resent in a new request after an
 * exponential backoff with jitter, only those documents; refused (400, 404, ...) -> written
 * with the reason to <data_dir>/dead-letter/elasticsearch-<name>.ndjson, then done. A whole
 * request that fails (connection, timeout, 429, 5xx, auth) is retried forever with capped
 * backoff; 413 splits it in halves (a single document too large is dead-lettered); a
 * whole-request 400 is bisected the same way to isolate the document at fault. A batch is
 * acked exactly once, when its last document is done.
 */
#include "outputs/es_int.h"

#include "agent/base/compress.h"
#include "agent/base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the descriptor's callbacks ---- */

static void es_destroy(void *st);

static void *es_init(const void *vconf, const struct output_env *env, char *err, size_t errsz)
{
    const struct es_conf *conf = vconf;
    struct es_out *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    o->conf = conf;
    o->env = env;
    o->max_bytes = conf->bulk_max_bytes;
    es_dlq_init(&o->dlq, env->data_dir, env->name, env->m);
    if (es_http_init(&o->http, conf, err, errsz) != 0) {
        free(o);
        return NULL;
    }
    if (!conf->tls_verify)
        LF_LOG(LF_WARN, COMP, "[%s] tls_verify = false: the server's certificate is not checked "
               "(anyone on the path can read the logs and the credentials)", env->name);
    es_index_cache_init(&o->ic, conf->data_stream ? conf->data_stream
                                : conf->index ? conf->index : "logferry-%Y.%m.%d");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    o->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40) ^
             (uintptr_t)o;
    if (!o->rng)
        o->rng = 88172645463325252ULL;
    o->multi = curl_multi_init();
    o->nslots = (int)conf->workers;
    o->slots = calloc((size_t)o->nslots, sizeof *o->slots);
    /* level 1: text logs still shrink 5-10x, at a fraction of level 6's CPU */
    if (strcmp(conf->compression, "gzip") == 0 && !(o->gz = lf_compressor_new(1)))
        goto fail;
    if (!o->multi || !o->slots)
        goto fail;
    curl_multi_setopt(o->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o->nslots);
    for (int i = 0; i < o->nslots; i++) {
        struct es_slot *s = &o->slots[i];
        buf_init(&s->body, 0);
        buf_init(&s->gz, 0);
        buf_init(&s->resp, ES_RESP_BASE); /* raised per request in start_req */
        if (!(s->e = curl_easy_init()))
            goto fail;
    }
    return o;
fail:
    snprintf(err, errsz, "cannot create curl handles (out of memory)");
    es_destroy(o);
    return NULL;
}

/* shutdown_timeout ran out or a second signal came: stop waiting for the cluster */
static int giving_up(const struct es_out *o)
{
    return o->env->giving_up && atomic_load(o->env->giving_up);
}

static void es_send(void *st, struct event_batch *b)
{
    struct es_out *o = st;
    uint32_t wanted = 0;
    for (uint32_t i = 0; i < b->n; i++)
        wanted += output_wants(o->env, b, &b->ev[i]) ? 1 : 0;
    METRIC_ADD(o->env->m->events_skipped, b->n - wanted);
    if (wanted == 0) {
        METRIC_ADD(o->env->m->batches_acked, 1);
        o->env->ack(o->env, b);
        return;
    }
    struct es_bt *bt = es_must_alloc(sizeof *bt);
    bt->b = b;
    bt->left = wanted;
    o->unacked++;
    uint32_t ndead = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        const struct event *ev = &b->ev[i];
        if (wanted < b->n && !output_wants(o->env, b, ev))
            continue;
        size_t ilen;
        const char *idx = es_index_name(&o->ic, ev->ts_ms, &ilen);
        if (o->ic.invalid) {
            /* a name Elasticsearch refuses: dead-lettered now, done after the loop (the
             * last done document acks the batch, which must not be touched after that) */
            es_dlq_add(&o->dlq, b, ev, idx, ilen, 0, "invalid_index_name", o->ic.invalid);
            ndead++;
            continue;
        }
        if (o->npend == o->cappend) {
            uint32_t nc = o->cappend ? o->cappend * 2 : 256;
            if (nc > (uint32_t)o->conf->bulk_max_events)
                nc = (uint32_t)o->conf->bulk_max_events;
            struct es_doc *np;
            while (!(np = realloc(o->pend, nc * sizeof *np)))
                es_sleep_ms(50);
            o->pend = np;
            o->cappend = nc;
        }
        if (o->npend == 0)
            o->pend_since = mono_ms();
        o->pend[o->npend++] = (struct es_doc){bt, i};
        o->pend_bytes += ev->json_len + 96;
        if (o->npend >= (uint32_t)o->conf->bulk_max_events ||
            o->pend_bytes >= o->max_bytes) {
            es_cut_pending(o);
            es_pump(o, 0);
            /* backpressure: at most `workers` requests outstanding */
            while (o->nq + o->inflight > o->nslots && !giving_up(o))
                es_pump(o, 100);
        }
    }
    if (ndead) {
        es_dlq_flush(&o->dlq);
        struct es_doc d = {bt, 0};
        while (ndead--)
            es_doc_done(o, &d);
    }
    /* Nothing outstanding: send what we have now rather than wait for more (the same rule as
     * in es_tick); under load requests are in flight and this batch's documents accumulate. */
    if (o->npend && o->inflight == 0 && o->nq == 0)
        es_cut_pending(o);
    es_pump(o, 0);
}

static long es_tick(void *st)
{
    struct es_out *o = st;
    int64_t now = mono_ms();
    /* The pipeline is idle (tick runs only when no batch waits). A partial request goes when
     * its oldest document waited flush_interval, or at once when no request is outstanding:
     * under load requests fill up while others are in flight, and a trickle is not held
     * back (Nagle's rule, applied to _bulk requests). */
    if (o->npend && (now - o->pend_since >= o->conf->flush_interval_ms ||
                     (o->inflight == 0 && o->nq == 0)))
        es_cut_pending(o);
    es_pump(o, o->inflight > 0 ? 10 : 0);
    now = mono_ms();
    long w = -1;
    if (o->npend) {
        long d = (long)(o->pend_since + o->conf->flush_interval_ms - now);
        w = d < 0 ? 0 : d;
    }
    if (o->qhead) {
        long d = (long)(o->qhead->due_ms - now);
        d = d < 0 ? 0 : d;
        if (w < 0 || d < w)
            w = d;
    }
    if (o->inflight > 0 && (w < 0 || w > 1))
        w = 1;
    /* Never sleep long: the core calls tick() again only after the delay returned here, and
     * a send() in the meantime may start requests whose answers (and the acks they carry)
     * are handled only in es_pump(). Idle, that costs a wake-up every ES_IDLE_TICK_MS. */
    if (w < 0 || w > ES_IDLE_TICK_MS)
        w = ES_IDLE_TICK_MS;
    return w;
}

static int es_flush(void *st, long timeout_ms)
{
    struct es_out *o = st;
    es_cut_pending(o);
    int64_t deadline = mono_ms() + timeout_ms;
    while (o->unacked > 0) {
        int64_t left = deadline - mono_ms();
        if (left <= 0 || giving_up(o))
            break;
        es_pump(o, left < 100 ? (long)left : 100);
    }
    if (o->unacked)
        LF_LOG(LF_WARN, COMP, "[%s] %llu batches not acknowledged by Elasticsearch at "
               "shutdown; they will be read and sent again after the restart (same _id: no "
               "duplicates)", o->env->name, (unsigned long long)o->unacked);
    return o->unacked ? -1 : 0;
}

struct bt_set {
    struct es_bt **v;
    size_t n, cap;
};

static void bt_collect(struct bt_set *set, const struct es_doc *docs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (set->n && set->v[set->n - 1] == docs[i].bt)
            continue;
        size_t k = 0;
        while (k < set->n && set->v[k] != docs[i].bt)
            k++;
        if (k < set->n)
            continue;
        if (set->n == set->cap) {
            size_t nc = set->cap ? set->cap * 2 : 16;
            struct es_bt **nv = realloc(set->v, nc * sizeof *nv);
            if (!nv)
                return; /* shutdown under memory pressure: leak rather than double free */
            set->v = nv;
            set->cap = nc;
        }
        set->v[set->n++] = docs[i].bt;
    }
}

static void es_destroy(void *st)
{
    struct es_out *o = st;
    if (!o)
        return;
    /* Batches still owed are simply not acked: the registry has not moved past them. The
     * es_bt wrappers are shared by documents in several places; collect them once. */
    struct bt_set set = {NULL, 0, 0};
    for (int i = 0; o->slots && i < o->nslots; i++) {
        struct es_slot *s = &o->slots[i];
        if (s->req) {
            curl_multi_remove_handle(o->multi, s->e);
            bt_collect(&set, s->req->docs, s->req->n);
            es_req_free(s->req);
        }
        if (s->e)
            curl_easy_cleanup(s->e);
        buf_free(&s->body);
        buf_free(&s->gz);
        buf_free(&s->resp);
    }
    while (o->qhead) {
        struct es_req *r = o->qhead;
        o->qhead = r->next;
        bt_collect(&set, r->docs, r->n);
        es_req_free(r);
    }
    bt_collect(&set, o->pend, o->npend);
    for (size_t k = 0; k < set.n; k++)
        free(set.v[k]);
    free(set.v);
    free(o->pend);
    free(o->slots);
    if (o->multi)
        curl_multi_cleanup(o->multi);
    es_http_free(&o->http);
    es_dlq_close(&o->dlq);
    lf_compressor_free(o->gz);
    free(o);
}

/* Bulk lines are ev->json; _id comes from the source's uid and the offset. */
static int es_uses_fields(const void *conf)
{
    (void)conf;
    return 0;
}

const struct output_desc out_es_desc = {
    .type = "elasticsearch",
    .conf_table = es_conf_keys,
    .conf_size = sizeof(struct es_conf),
    .check = es_conf_check,
    .init = es_init,
    .send = es_send,
    .tick = es_tick,
    .flush = es_flush,
    .destroy = es_destroy,
    .test = es_test,
    .setup = es_setup,
    .uses_fields = es_uses_fields,
};
