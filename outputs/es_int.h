/*
 * es_int.h - private contract between the files of the Elasticsearch output: es.c (the
 * descriptor), es_resp.c (answers), es_req.c (requests). The structures below are owned by
 * the output's own thread; nothing here is touched by another thread. Nothing outside
 * outputs/es*.c includes this header.
 */
#ifndef LF_ES_INT_H
#define LF_ES_INT_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "outputs/es.h"
#include "outputs/es_http.h"
#include "outputs/output.h"

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
    struct lf_compressor *gz; /* compression = gzip: libdeflate at level 1; else NULL */
};

/* ---- es_req.c ---- */

/* Delay before attempt `attempt` of a request: backoff_init doubling to backoff_max, with
 * "equal jitter" (between half and all of it). */
long es_backoff_ms(struct es_out *o, int attempt);
/* A document is done (indexed, already there, or dead-lettered): acks its batch when it
 * was the batch's last. */
void es_doc_done(struct es_out *o, struct es_doc *d);
/* Queues r by due time (earliest first). */
void es_q_push(struct es_out *o, struct es_req *r);
/* A request over docs[0..n) (takes ownership of docs); NULL when out of memory. */
struct es_req *es_req_new(struct es_doc *docs, uint32_t n, int attempt, int resend,
                          int64_t due);
void es_req_free(struct es_req *r);
void es_sleep_ms(long ms);
/* Allocation that must not fail: out of memory is waited out (backpressure). */
void *es_must_alloc(size_t n);
/* Writes d to the dead-letter file with the cluster's reason. */
void es_dl_add(struct es_out *o, const struct es_doc *d, int status, const char *type,
               const char *reason);
/* Turns the accumulated documents into a queued request. */
void es_cut_pending(struct es_out *o);
/* es_slot.refused when the answer was over its bound: the request is worth sending again in
 * halves (an answer refused for its encoding is not). */
extern const char es_refused_large[];
/* Gives a finished slot's buffers back (keeping at most ES_KEEP_BUF each). */
void es_slot_release(struct es_slot *s);
/* Starts queued requests that are due, while slots are free. */
void es_start_due(struct es_out *o);
/* Queues docs[0..n) again (copied) as a new request due at `due`. */
void es_requeue(struct es_out *o, const struct es_doc *docs, uint32_t n, int attempt,
                int64_t due);

/* ---- es_resp.c ---- */

/* Drives transfers: starts due requests, handles finished ones, and waits up to wait_ms
 * for network activity (0 = do not wait). */
void es_pump(struct es_out *o, long wait_ms);

#endif
