/*
 * es_req.c - the Elasticsearch output's requests before they are answered: the documents
 * accumulating for the next _bulk, cutting them into a request, the queue of requests
 * ordered by due time, starting them on free slots of the curl multi handle (body, gzip,
 * headers), requeueing documents after a failure, the backoff with jitter, and the ack of
 * a batch when its last document is done.
 *
 * Threads: the output's own thread only (es.c's send/tick/flush/destroy and es_resp.c's
 * answer handling call in); curl's write and header callbacks run inside
 * curl_multi_perform on that thread too. Calls es_http.c, es_bulk.c, es_dlq.c; nothing of
 * es_resp.c or es.c.
 */
#include "outputs/es_int.h"

#include "agent/base/log.h"
#include "outputs/out_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- small helpers ---- */

static uint64_t rnd(struct es_out *o)
{
    uint64_t x = o->rng; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return o->rng = x;
}

long es_backoff_ms(struct es_out *o, int attempt)
{
    long d = o->conf->backoff_init_ms;
    for (int i = 1; i < attempt && d < o->conf->backoff_max_ms; i++)
        d *= 2;
    if (d > o->conf->backoff_max_ms)
        d = o->conf->backoff_max_ms;
    /* "equal jitter": between d/2 and d, so concurrent agents spread their retries */
    return d / 2 + (long)(rnd(o) % (uint64_t)(d / 2 + 1));
}


static const struct event *doc_ev(const struct es_doc *d)
{
    return &d->bt->b->ev[d->i];
}

void es_doc_done(struct es_out *o, struct es_doc *d)
{
    struct es_bt *bt = d->bt;
    if (--bt->left == 0) {
        METRIC_ADD(o->env->m->batches_acked, 1);
        o->unacked--;
        o->env->ack(o->env, bt->b);
        free(bt);
    }
}

void es_q_push(struct es_out *o, struct es_req *r)
{
    /* keep the queue ordered by due time so the earliest is started first */
    struct es_req **pp = &o->qhead;
    while (*pp && (*pp)->due_ms <= r->due_ms)
        pp = &(*pp)->next;
    r->next = *pp;
    *pp = r;
    o->nq++;
}

struct es_req *es_req_new(struct es_doc *docs, uint32_t n, int attempt, int resend,
                              int64_t due)
{
    struct es_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->docs = docs;
    r->n = n;
    r->attempt = attempt;
    r->resend = resend;
    r->due_ms = due;
    return r;
}

void es_req_free(struct es_req *r)
{
    if (r) {
        free(r->docs);
        free(r);
    }
}

void es_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Allocation that must not fail: out of memory is waited out (backpressure) rather than
 * losing a document. */
void *es_must_alloc(size_t n)
{
    void *p;
    long d = 10;
    while (!(p = malloc(n))) {
        LF_LOG(LF_ERROR, COMP, "out of memory (%zu bytes); waiting", n);
        es_sleep_ms(d);
        d = d < 1000 ? d * 2 : 1000;
    }
    return p;
}

/* ---- dead letters (es_dlq.c) ---- */

void es_dl_add(struct es_out *o, const struct es_doc *d, int status, const char *type,
                   const char *reason)
{
    const struct event *ev = doc_ev(d);
    size_t ilen;
    const char *idx = es_index_name(&o->ic, ev->ts_ms, &ilen);
    es_dlq_add(&o->dlq, d->bt->b, ev, idx, ilen, status, type, reason);
}

/* ---- requests ---- */

void es_cut_pending(struct es_out *o)
{
    if (o->npend == 0)
        return;
    struct es_req *r = es_req_new(o->pend, o->npend, 0, 0, 0);
    while (!r) {
        es_sleep_ms(50);
        r = es_req_new(o->pend, o->npend, 0, 0, 0);
    }
    es_q_push(o, r);
    o->pend = NULL;
    o->npend = o->cappend = 0;
    o->pend_bytes = 0;
}

const char es_refused_large[] = "answer larger than the bound for this request";
static const char refused_encoding[] = "answer in a content encoding not asked for";

/* The answer's body, decoded: at most s->resp.max bytes (set from the request's size). */
static size_t slot_body(char *p, size_t sz, size_t nm, void *ud)
{
    struct es_slot *s = ud;
    size_t n = sz * nm;
    if (buf_add(&s->resp, p, n) != 0) {
        s->refused = es_refused_large;
        return 0; /* curl ends the transfer: CURLE_WRITE_ERROR */
    }
    return n;
}

/* Refuses an answer in an encoding we did not ask for (we ask for gzip only): libcurl
 * would decode deflate or a stack of encodings too, each a decompression bomb. */
static size_t slot_header(char *p, size_t sz, size_t nm, void *ud)
{
    struct es_slot *s = ud;
    size_t n = sz * nm;
    static const char ce[] = "content-encoding:";
    if (n > sizeof ce - 1 && strncasecmp(p, ce, sizeof ce - 1) == 0) {
        const char *v = p + sizeof ce - 1, *end = p + n;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
            end--;
        size_t vl = (size_t)(end - v);
        if (!((vl == 4 && strncasecmp(v, "gzip", 4) == 0) ||
              (vl == 8 && strncasecmp(v, "identity", 8) == 0))) {
            s->refused = refused_encoding;
            return 0;
        }
    }
    return n;
}

/* Gives back what a large request or answer grew the slot's buffers to. Called when the
 * slot's transfer is over and its answer handled. */
void es_slot_release(struct es_slot *s)
{
    struct buf *bufs[3] = {&s->body, &s->gz, &s->resp};
    for (int i = 0; i < 3; i++)
        if (bufs[i]->cap > ES_KEEP_BUF) {
            size_t max = bufs[i]->max;
            buf_free(bufs[i]);
            buf_init(bufs[i], max);
        }
}

static int start_req(struct es_out *o, struct es_slot *s, struct es_req *r)
{
    buf_reset(&s->body);
    buf_reset(&s->resp);
    s->resp.max = ES_RESP_BASE + ES_RESP_PER_DOC * r->n;
    s->refused = NULL;
    for (uint32_t i = 0; i < r->n; i++)
        if (es_bulk_append(&s->body, &o->ic, r->docs[i].bt->b, doc_ev(&r->docs[i])) != 0)
            return -1;
    const char *body = s->body.p;
    size_t len = s->body.len;
    struct curl_slist *hdr = o->http.hdr_bulk;
    if (strcmp(o->conf->compression, "gzip") == 0) {
        char err[128];
        if (es_gzip(o->gz, s->body.p, s->body.len, &s->gz, err, sizeof err) != 0) {
            out_state_note(o->env->m, "%s", err);
            return -1;
        }
        body = s->gz.p;
        len = s->gz.len;
        hdr = o->http.hdr_bulk_gz;
    }
    s->host = es_http_pick(&o->http, mono_ms());
    s->cerr[0] = '\0';
    es_http_prepare(&o->http, s->e, o->http.hosts[s->host].bulk_url, "POST", body, len, hdr,
                    &s->resp);
    curl_easy_setopt(s->e, CURLOPT_WRITEFUNCTION, slot_body);
    curl_easy_setopt(s->e, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->e, CURLOPT_HEADERFUNCTION, slot_header);
    curl_easy_setopt(s->e, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(s->e, CURLOPT_ERRORBUFFER, s->cerr);
    curl_easy_setopt(s->e, CURLOPT_PRIVATE, s);
    if (curl_multi_add_handle(o->multi, s->e) != CURLM_OK)
        return -1;
    s->req = r;
    o->inflight++;
    if (r->resend)
        METRIC_ADD(o->env->m->events_retried, r->n);
    else
        METRIC_ADD(o->env->m->events_sent, r->n);
    return 0;
}

/* Starts queued requests that are due while a slot is free. */
void es_start_due(struct es_out *o)
{
    int64_t now = mono_ms();
    while (o->qhead && o->qhead->due_ms <= now && o->inflight < o->nslots) {
        struct es_slot *s = NULL;
        for (int i = 0; i < o->nslots; i++)
            if (!o->slots[i].req) {
                s = &o->slots[i];
                break;
            }
        if (!s)
            return;
        struct es_req *r = o->qhead;
        o->qhead = r->next;
        o->nq--;
        if (start_req(o, s, r) != 0) {
            /* out of memory building the body: try again a little later */
            r->due_ms = now + 100;
            es_q_push(o, r);
            return;
        }
    }
}

/* Queues a copy of docs[0..n) as a new request (a resend) due at `due`. */
void es_requeue(struct es_out *o, const struct es_doc *docs, uint32_t n, int attempt,
                    int64_t due)
{
    struct es_doc *copy = es_must_alloc(n * sizeof *copy);
    memcpy(copy, docs, n * sizeof *copy);
    struct es_req *r = es_req_new(copy, n, attempt, 1, due);
    while (!r) {
        es_sleep_ms(50);
        r = es_req_new(copy, n, attempt, 1, due);
    }
    es_q_push(o, r);
}

/* The error type and reason of a non-2xx whole response (for messages), sanitized. */
