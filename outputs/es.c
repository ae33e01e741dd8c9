/*
 * es.c - the Elasticsearch output: _bulk requests with deterministic ids, retries, 413
 * splits, dead letters and acknowledgements (the out_es_desc descriptor).
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
#include "outputs/es.h"
#include "outputs/es_http.h"
#include "outputs/output.h"

#include "agent/base/json.h"
#include "agent/base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define COMP "out.es"
#define ES_IDLE_TICK_MS 10
/* A _bulk answer, with our filter_path, is a few dozen bytes per document, a few hundred for
 * a refused one: a request may be answered with at most this much (after gzip decoding).
 * More is refused and counted (responses_refused); a legitimate answer that big (very long
 * error reasons) is handled by sending the request again in halves. */
#define ES_RESP_BASE ((size_t)16 << 10)
#define ES_RESP_PER_DOC ((size_t)1 << 10)
/* Buffers grown past this are given back after the request, so one burst (or one hostile
 * answer) does not keep its memory. */
#define ES_KEEP_BUF ((size_t)1 << 20)

struct es_bt {
    struct event_batch *b;
    uint32_t left; /* wanted documents not yet done */
};

struct es_doc {
    struct es_bt *bt;
    uint32_t i; /* index in bt->b->ev */
};

struct es_req {
    struct es_doc *docs;
    uint32_t n;
    int attempt;    /* 0 = first time these documents are sent in this form */
    int resend;     /* documents were sent before (counts as events_retried) */
    int64_t due_ms; /* not before */
    struct es_req *next;
};

struct es_slot {
    CURL *e;
    struct es_req *req; /* NULL = free */
    int host;
    struct buf body, gz, resp;
    const char *refused; /* why the answer was cut off (too large, unasked encoding), or NULL */
    char cerr[CURL_ERROR_SIZE];
};

struct es_out {
    const struct es_conf *conf;
    const struct output_env *env;
    struct es_http http;
    struct es_index_cache ic;
    CURLM *multi;
    struct es_slot *slots;
    int nslots, inflight;
    /* accumulating documents */
    struct es_doc *pend;
    uint32_t npend, cappend;
    size_t pend_bytes;
    int64_t pend_since;
    uint64_t max_bytes; /* bulk_max_bytes, lowered after a 413 to half the refused size */
    /* requests waiting to start (possibly until due_ms) */
    struct es_req *qhead;
    int nq;
    uint64_t unacked; /* batches borrowed and not acked yet */
    uint64_t rng;
    int retrying;     /* whole-request failures in a row: logged on the first only */
    int item_retrying; /* responses in a row with items to retry: logged on the first only */
    int refusing;      /* answers in a row refused (slot_body/slot_header): logged once */
    struct es_dlq dlq;
};

/* ---- small helpers ---- */

static uint64_t rnd(struct es_out *o)
{
    uint64_t x = o->rng; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return o->rng = x;
}

static long backoff_ms(struct es_out *o, int attempt)
{
    long d = o->conf->backoff_init_ms;
    for (int i = 1; i < attempt && d < o->conf->backoff_max_ms; i++)
        d *= 2;
    if (d > o->conf->backoff_max_ms)
        d = o->conf->backoff_max_ms;
    /* "equal jitter": between d/2 and d, so concurrent agents spread their retries */
    return d / 2 + (long)(rnd(o) % (uint64_t)(d / 2 + 1));
}

static void set_error(struct es_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct es_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->env->m->last_error, sizeof o->env->m->last_error, fmt, ap);
    va_end(ap);
}

static void set_state(struct es_out *o, int st)
{
    if (METRIC_GET(o->env->m->state) != st) {
        METRIC_SET(o->env->m->state, st);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        METRIC_SET(o->env->m->state_since_ms, (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    }
}

static const struct event *doc_ev(const struct es_doc *d)
{
    return &d->bt->b->ev[d->i];
}

static void doc_done(struct es_out *o, struct es_doc *d)
{
    struct es_bt *bt = d->bt;
    if (--bt->left == 0) {
        METRIC_ADD(o->env->m->batches_acked, 1);
        o->unacked--;
        o->env->ack(o->env, bt->b);
        free(bt);
    }
}

static void q_push(struct es_out *o, struct es_req *r)
{
    /* keep the queue ordered by due time so the earliest is started first */
    struct es_req **pp = &o->qhead;
    while (*pp && (*pp)->due_ms <= r->due_ms)
        pp = &(*pp)->next;
    r->next = *pp;
    *pp = r;
    o->nq++;
}

static struct es_req *req_new(struct es_doc *docs, uint32_t n, int attempt, int resend,
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

static void req_free(struct es_req *r)
{
    if (r) {
        free(r->docs);
        free(r);
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Allocation that must not fail: out of memory is waited out (backpressure) rather than
 * losing a document. */
static void *must_alloc(size_t n)
{
    void *p;
    long d = 10;
    while (!(p = malloc(n))) {
        LF_LOG(LF_ERROR, COMP, "out of memory (%zu bytes); waiting", n);
        sleep_ms(d);
        d = d < 1000 ? d * 2 : 1000;
    }
    return p;
}

/* ---- dead letters (es_dlq.c) ---- */

static void dl_add(struct es_out *o, const struct es_doc *d, int status, const char *type,
                   const char *reason)
{
    const struct event *ev = doc_ev(d);
    size_t ilen;
    const char *idx = es_index_name(&o->ic, ev->ts_ms, &ilen);
    es_dlq_add(&o->dlq, d->bt->b, ev, idx, ilen, status, type, reason);
}

/* ---- requests ---- */

static void cut_pending(struct es_out *o)
{
    if (o->npend == 0)
        return;
    struct es_req *r = req_new(o->pend, o->npend, 0, 0, 0);
    while (!r) {
        sleep_ms(50);
        r = req_new(o->pend, o->npend, 0, 0, 0);
    }
    q_push(o, r);
    o->pend = NULL;
    o->npend = o->cappend = 0;
    o->pend_bytes = 0;
}

static const char refused_large[] = "answer larger than the bound for this request";
static const char refused_encoding[] = "answer in a content encoding not asked for";

/* The answer's body, decoded: at most s->resp.max bytes (set from the request's size). */
static size_t slot_body(char *p, size_t sz, size_t nm, void *ud)
{
    struct es_slot *s = ud;
    size_t n = sz * nm;
    if (buf_add(&s->resp, p, n) != 0) {
        s->refused = refused_large;
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
static void slot_release(struct es_slot *s)
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
        if (es_gzip(s->body.p, s->body.len, &s->gz, err, sizeof err) != 0) {
            set_error(o, "%s", err);
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
static void start_due(struct es_out *o)
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
            q_push(o, r);
            return;
        }
    }
}

/* Queues a copy of docs[0..n) as a new request (a resend) due at `due`. */
static void requeue(struct es_out *o, const struct es_doc *docs, uint32_t n, int attempt,
                    int64_t due)
{
    struct es_doc *copy = must_alloc(n * sizeof *copy);
    memcpy(copy, docs, n * sizeof *copy);
    struct es_req *r = req_new(copy, n, attempt, 1, due);
    while (!r) {
        sleep_ms(50);
        r = req_new(copy, n, attempt, 1, due);
    }
    q_push(o, r);
}

/* The error type and reason of a non-2xx whole response (for messages), sanitized. */
static void resp_error(const struct buf *resp, char *type, size_t tsz, char *reason, size_t rsz)
{
    type[0] = reason[0] = '\0';
    json_t *root = resp->len && es_json_small(resp->p, resp->len, 256)
                       ? json_loadb(resp->p, resp->len, 0, NULL)
                       : NULL;
    json_t *e = root ? json_object_get(root, "error") : NULL;
    if (json_is_object(e)) {
        es_sanitize(json_string_value(json_object_get(e, "type")), type, tsz);
        es_sanitize(json_string_value(json_object_get(e, "reason")), reason, rsz);
    } else if (json_is_string(e)) {
        es_sanitize(json_string_value(e), reason, rsz);
    } else if (resp->len && !root) {
        char tmp[120];
        size_t n = resp->len < sizeof tmp - 1 ? resp->len : sizeof tmp - 1;
        memcpy(tmp, resp->p, n);
        tmp[n] = '\0';
        es_sanitize(tmp, reason, rsz);
    }
    json_decref(root);
}

static void whole_retry(struct es_out *o, struct es_req *r, const char *host, const char *why)
{
    r->attempt++;
    r->resend = 1;
    long d = backoff_ms(o, r->attempt);
    r->due_ms = mono_ms() + d;
    set_error(o, "%s: %s", host, why);
    set_state(o, OUT_RETRYING);
    if (o->retrying++ == 0)
        LF_LOG(LF_WARN, COMP, "[%s] _bulk to %s failed: %s; retrying with backoff (reading "
               "pauses while requests are outstanding)", o->env->name, host, why);
    else
        LF_LOG(LF_DEBUG, COMP, "[%s] _bulk to %s failed again (attempt %d, next in %ld ms): %s",
               o->env->name, host, r->attempt, d, why);
    q_push(o, r);
}

static void delivered_again(struct es_out *o)
{
    if (o->retrying) {
        LF_LOG(LF_INFO, COMP, "[%s] Elasticsearch accepts requests again", o->env->name);
        o->retrying = 0;
    }
    set_state(o, OUT_OK);
}

static void on_response(struct es_out *o, struct es_slot *s, struct es_req *r, CURLcode cc)
{
    struct es_host *host = &o->http.hosts[s->host];
    long status = 0;
    char why[400];
    if (cc == CURLE_WRITE_ERROR && s->refused) {
        /* the server answered, but not within bounds: not a connection failure */
        METRIC_ADD(o->env->m->responses_refused, 1);
        if (o->refusing++ == 0)
            LF_LOG(LF_WARN, COMP, "[%s] %s: %s (%zu bytes kept for %u documents); refused and "
                   "counted in responses_refused, the documents are sent again%s", o->env->name,
                   host->shown, s->refused, s->resp.max, r->n,
                   r->n > 1 && s->refused == refused_large ? " in two halves" : "");
        if (r->n > 1 && s->refused == refused_large) {
            /* a smaller request has a smaller answer: halves, after the usual backoff */
            int a = r->attempt + 1;
            int64_t due = mono_ms() + backoff_ms(o, a);
            uint32_t h = r->n / 2;
            set_error(o, "%s: %s", host->shown, s->refused);
            set_state(o, OUT_RETRYING);
            requeue(o, r->docs, h, a, due);
            requeue(o, r->docs + h, r->n - h, a, due);
            req_free(r);
            return;
        }
        whole_retry(o, r, host->shown, s->refused);
        return;
    }
    o->refusing = 0;
    if (cc != CURLE_OK) {
        es_http_host_failed(&o->http, s->host, mono_ms());
        snprintf(why, sizeof why, "%s", curl_easy_strerror(cc));
        whole_retry(o, r, host->shown, why);
        return;
    }
    curl_easy_getinfo(s->e, CURLINFO_RESPONSE_CODE, &status);
    es_http_host_ok(&o->http, s->host);
    if (status == 200) {
        if (es_bulk_all_ok(s->resp.p, s->resp.len)) {
            delivered_again(o);
            o->item_retrying = 0;
            METRIC_ADD(o->env->m->events_acked, r->n);
            for (uint32_t i = 0; i < r->n; i++)
                doc_done(o, &r->docs[i]);
            req_free(r);
            return;
        }
        struct es_item_result *res = must_alloc(r->n * sizeof *res);
        char err[200];
        if (es_bulk_parse(s->resp.p, s->resp.len, res, r->n, err, sizeof err) != 0) {
            free(res);
            whole_retry(o, r, host->shown, err);
            return;
        }
        delivered_again(o);
        struct es_doc *retry = must_alloc(r->n * sizeof *retry);
        uint32_t nretry = 0, ok = 0;
        int first_retry = -1;
        for (uint32_t i = 0; i < r->n; i++) {
            if (res[i].verdict == ES_RETRY) {
                if (first_retry < 0)
                    first_retry = (int)i;
                retry[nretry++] = r->docs[i];
            } else if (res[i].verdict == ES_DEAD) {
                dl_add(o, &r->docs[i], res[i].status, res[i].type, res[i].reason);
            } else {
                ok++;
            }
        }
        es_dlq_flush(&o->dlq); /* durable before the batches they belong to may be acked */
        METRIC_ADD(o->env->m->events_acked, ok);
        if (nretry) {
            int a = r->attempt + 1;
            LF_LOG(o->item_retrying++ == 0 ? LF_INFO : LF_DEBUG, COMP, "[%s] %u of %u documents to retry "
                   "(%d %s), attempt %d", o->env->name, nretry, r->n, res[first_retry].status,
                   res[first_retry].type, a);
            set_error(o, "%u documents: %d %s", nretry, res[first_retry].status,
                      res[first_retry].type);
            requeue(o, retry, nretry, a, mono_ms() + backoff_ms(o, a));
        } else if (o->item_retrying) {
            o->item_retrying = 0;
        }
        free(retry);
        /* now the done ones (after requeue copied the retried ones: a batch with documents
         * still to retry keeps left > 0) */
        for (uint32_t i = 0; i < r->n; i++)
            if (res[i].verdict != ES_RETRY)
                doc_done(o, &r->docs[i]);
        free(res);
        req_free(r);
        return;
    }
    char type[64], reason[256];
    resp_error(&s->resp, type, sizeof type, reason, sizeof reason);
    if (status == 413 || (status == 400 && r->n > 1)) {
        if (r->n > 1) {
            uint32_t h = r->n / 2;
            uint64_t half = s->body.len / 2 > 1024 ? s->body.len / 2 : 1024;
            if (status == 413 && half < o->max_bytes) {
                /* the server's http.max_content_length is below bulk_max_bytes: cut the next
                 * requests smaller from the start instead of splitting each one */
                LF_LOG(LF_WARN, COMP, "[%s] %s refused %zu bytes as too large (413): splitting, "
                       "and sending at most %llu bytes per request from now on (lower "
                       "bulk_max_bytes or raise http.max_content_length)", o->env->name,
                       host->shown, s->body.len, (unsigned long long)half);
                o->max_bytes = half;
            } else {
                LF_LOG(LF_DEBUG, COMP, "[%s] %s answered %ld to %u documents (%zu bytes): "
                       "sending them in two halves", o->env->name, host->shown, status, r->n,
                       s->body.len);
            }
            requeue(o, r->docs, h, r->attempt, 0);
            requeue(o, r->docs + h, r->n - h, r->attempt, 0);
            req_free(r);
            return;
        }
    }
    if (status == 413 || status == 400) { /* one document that cannot be sent at all */
        dl_add(o, &r->docs[0], (int)status, *type ? type : (status == 413 ? "request_too_large"
                                                                          : "bad_request"),
               *reason ? reason : "refused even alone in a request");
        es_dlq_flush(&o->dlq);
        doc_done(o, &r->docs[0]);
        req_free(r);
        return;
    }
    snprintf(why, sizeof why, "HTTP %ld%s%s%s%s", status, *type ? " " : "", type,
             *reason ? ": " : "", reason);
    if (status == 401)
        snprintf(why + strlen(why), sizeof why - strlen(why), " (check username/password or "
                 "api_key)");
    whole_retry(o, r, host->shown, why);
}

/* Drives transfers: starts due requests, handles finished ones, and waits up to wait_ms
 * for network activity (0 = do not wait). */
static void pump(struct es_out *o, long wait_ms)
{
    start_due(o);
    int running = 0;
    curl_multi_perform(o->multi, &running);
    for (int pass = 0; pass < 2; pass++) {
        CURLMsg *msg;
        int left;
        int any = 0;
        while ((msg = curl_multi_info_read(o->multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *e = msg->easy_handle;
            CURLcode cc = msg->data.result;
            struct es_slot *s = NULL;
            curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&s);
            curl_multi_remove_handle(o->multi, e);
            struct es_req *r = s->req;
            s->req = NULL;
            o->inflight--;
            on_response(o, s, r, cc);
            slot_release(s);
            any = 1;
        }
        if (any)
            start_due(o);
        if (pass == 1 || wait_ms <= 0)
            break;
        long w = wait_ms;
        if (o->qhead && o->inflight < o->nslots) {
            int64_t until = o->qhead->due_ms - mono_ms();
            if (until < w)
                w = until < 0 ? 0 : (long)until;
        }
        if (o->inflight > 0)
            curl_multi_poll(o->multi, NULL, 0, (int)w, NULL);
        else if (w > 0)
            sleep_ms(w);
        start_due(o);
        curl_multi_perform(o->multi, &running);
    }
}

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
    struct es_bt *bt = must_alloc(sizeof *bt);
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
                sleep_ms(50);
            o->pend = np;
            o->cappend = nc;
        }
        if (o->npend == 0)
            o->pend_since = mono_ms();
        o->pend[o->npend++] = (struct es_doc){bt, i};
        o->pend_bytes += ev->json_len + 96;
        if (o->npend >= (uint32_t)o->conf->bulk_max_events ||
            o->pend_bytes >= o->max_bytes) {
            cut_pending(o);
            pump(o, 0);
            /* backpressure: at most `workers` requests outstanding */
            while (o->nq + o->inflight > o->nslots && !giving_up(o))
                pump(o, 100);
        }
    }
    if (ndead) {
        es_dlq_flush(&o->dlq);
        struct es_doc d = {bt, 0};
        while (ndead--)
            doc_done(o, &d);
    }
    /* Nothing outstanding: send what we have now rather than wait for more (the same rule as
     * in es_tick); under load requests are in flight and this batch's documents accumulate. */
    if (o->npend && o->inflight == 0 && o->nq == 0)
        cut_pending(o);
    pump(o, 0);
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
        cut_pending(o);
    pump(o, o->inflight > 0 ? 10 : 0);
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
     * are handled only in pump(). Idle, that costs a wake-up every ES_IDLE_TICK_MS. */
    if (w < 0 || w > ES_IDLE_TICK_MS)
        w = ES_IDLE_TICK_MS;
    return w;
}

static int es_flush(void *st, long timeout_ms)
{
    struct es_out *o = st;
    cut_pending(o);
    int64_t deadline = mono_ms() + timeout_ms;
    while (o->unacked > 0) {
        int64_t left = deadline - mono_ms();
        if (left <= 0 || giving_up(o))
            break;
        pump(o, left < 100 ? (long)left : 100);
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
            req_free(s->req);
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
        req_free(r);
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
