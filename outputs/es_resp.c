/*
 * es_resp.c - the Elasticsearch output's answers: driving the curl multi handle (es_pump),
 * and for each finished request deciding per document (es_verdict: done, retry, dead
 * letter), retrying a whole request that failed (connection, 429, 5xx, auth) with backoff,
 * splitting a request refused as too large (413) or a whole-request 400 in halves, and
 * keeping the output's state and counters.
 *
 * Threads: the output's own thread only (es.c calls es_pump from send/tick/flush). Calls
 * es_req.c below it; es.c calls in from above.
 */
#include "outputs/es_int.h"

#include "agent/base/log.h"
#include "outputs/out_state.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    long d = es_backoff_ms(o, r->attempt);
    r->due_ms = mono_ms() + d;
    out_state_set(o->env->m, OUT_RETRYING, "%s: %s", host, why);
    if (o->retrying++ == 0)
        LF_LOG(LF_WARN, COMP, "[%s] _bulk to %s failed: %s; retrying with backoff (reading "
               "pauses while requests are outstanding)", o->env->name, host, why);
    else
        LF_LOG(LF_DEBUG, COMP, "[%s] _bulk to %s failed again (attempt %d, next in %ld ms): %s",
               o->env->name, host, r->attempt, d, why);
    es_q_push(o, r);
}

static void delivered_again(struct es_out *o)
{
    if (o->retrying) {
        LF_LOG(LF_INFO, COMP, "[%s] Elasticsearch accepts requests again", o->env->name);
        o->retrying = 0;
    }
    out_state_set(o->env->m, OUT_OK, NULL);
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
                   r->n > 1 && s->refused == es_refused_large ? " in two halves" : "");
        if (r->n > 1 && s->refused == es_refused_large) {
            /* a smaller request has a smaller answer: halves, after the usual backoff */
            int a = r->attempt + 1;
            int64_t due = mono_ms() + es_backoff_ms(o, a);
            uint32_t h = r->n / 2;
            out_state_set(o->env->m, OUT_RETRYING, "%s: %s", host->shown, s->refused);
            es_requeue(o, r->docs, h, a, due);
            es_requeue(o, r->docs + h, r->n - h, a, due);
            es_req_free(r);
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
                es_doc_done(o, &r->docs[i]);
            es_req_free(r);
            return;
        }
        struct es_item_result *res = es_must_alloc(r->n * sizeof *res);
        char err[200];
        if (es_bulk_parse(s->resp.p, s->resp.len, res, r->n, err, sizeof err) != 0) {
            free(res);
            whole_retry(o, r, host->shown, err);
            return;
        }
        delivered_again(o);
        struct es_doc *retry = es_must_alloc(r->n * sizeof *retry);
        uint32_t nretry = 0, ok = 0;
        int first_retry = -1;
        for (uint32_t i = 0; i < r->n; i++) {
            if (res[i].verdict == ES_RETRY) {
                if (first_retry < 0)
                    first_retry = (int)i;
                retry[nretry++] = r->docs[i];
            } else if (res[i].verdict == ES_DEAD) {
                es_dl_add(o, &r->docs[i], res[i].status, res[i].type, res[i].reason);
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
            out_state_note(o->env->m, "%u documents: %d %s", nretry, res[first_retry].status,
                           res[first_retry].type);
            es_requeue(o, retry, nretry, a, mono_ms() + es_backoff_ms(o, a));
        } else if (o->item_retrying) {
            o->item_retrying = 0;
        }
        free(retry);
        /* now the done ones (after requeue copied the retried ones: a batch with documents
         * still to retry keeps left > 0) */
        for (uint32_t i = 0; i < r->n; i++)
            if (res[i].verdict != ES_RETRY)
                es_doc_done(o, &r->docs[i]);
        free(res);
        es_req_free(r);
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
            es_requeue(o, r->docs, h, r->attempt, 0);
            es_requeue(o, r->docs + h, r->n - h, r->attempt, 0);
            es_req_free(r);
            return;
        }
    }
    if (status == 413 || status == 400) { /* one document that cannot be sent at all */
        es_dl_add(o, &r->docs[0], (int)status, *type ? type : (status == 413 ? "request_too_large"
                                                                          : "bad_request"),
               *reason ? reason : "refused even alone in a request");
        es_dlq_flush(&o->dlq);
        es_doc_done(o, &r->docs[0]);
        es_req_free(r);
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
void es_pump(struct es_out *o, long wait_ms)
{
    es_start_due(o);
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
            es_slot_release(s);
            any = 1;
        }
        if (any)
            es_start_due(o);
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
            es_sleep_ms(w);
        es_start_due(o);
        curl_multi_perform(o->multi, &running);
    }
}
