/*
 * slack_send.c - the Slack output's sender thread: waits for something due (a first alert,
 * a window's summary, the backlog), keeps the pace (min_interval between messages, Slack's
 * one message per second per webhook), posts the message with libcurl over one persistent
 * connection, and reacts to Slack's answer:
 *
 *   2xx            delivered: counted, noted on the status page
 *   429            wait Retry-After seconds; the message folds into the next one
 *   5xx, network   retry with exponential backoff (1 s .. 60 s); the message folds back
 *   other 4xx      invalid_payload, no_service, channel_is_archived...: logged with Slack's
 *                  answer; the count folds back (without the line, in case the line was the
 *                  problem) and is retried after a long backoff (30 s .. 5 min)
 *
 * Without a webhook the same text is printed to stderr (no pacing needed).
 *
 * Threads: the sender thread owns the curl handle and the pacing fields; it takes slack_out.mu
 * only to choose and take what to send and to fold a failed message back, never while posting.
 * The webhook URL is never logged: messages name it by st->masked.
 */
#include "agent/base/clock.h"
#include "outputs/slack.h"
#include "agent/base/log.h"
#include "agent/base/status_feed.h"
#include "outputs/out_state.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define BACKOFF_4XX_MIN_MS 30000
#define BACKOFF_4XX_MAX_MS 300000
#define RETRY_AFTER_MAX_S 3600

struct resp {
    char body[512];
    size_t len;
    long retry_after_s; /* -1: none */
};

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    struct resp *r = ud;
    size_t n = sz * nm, room = sizeof r->body - 1 - r->len;
    memcpy(r->body + r->len, p, n < room ? n : room);
    r->len += n < room ? n : room;
    r->body[r->len] = '\0';
    return n;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
    struct resp *r = ud;
    size_t n = sz * nm;
    if (n > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        char v[32];
        size_t l = n - 12 < sizeof v - 1 ? n - 12 : sizeof v - 1;
        memcpy(v, p + 12, l);
        v[l] = '\0';
        char *end;
        long s = strtol(v, &end, 10);
        while (*end == ' ' || *end == '\r' || *end == '\n')
            end++;
        r->retry_after_s = (*end == '\0' && s >= 0) ? s : 5; /* an HTTP-date: be patient */
    }
    return n;
}

/* err is cut at last_error's 255 bytes on purpose: the status page shows no more. */
static void set_state(struct slack_out *st, int state, const char *err)
{
    if (err)
        out_state_set(st->env->m, state, "%s", err);
    else
        out_state_set(st->env->m, state, NULL);
}

/* Printable form of a server's answer for the log: ASCII only, capped. */
void sl_printable(const char *in, char *out, size_t outsz)
{
    size_t o = 0;
    for (size_t i = 0; in[i] && o + 1 < outsz; i++)
        out[o++] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : ' ';
    out[o] = '\0';
}

enum outcome { SENT, RETRY, REFUSED };

static CURL *make_handle(struct slack_out *st, struct curl_slist **hdr, struct resp *r)
{
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    *hdr = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
    *hdr = curl_slist_append(*hdr, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(c, CURLOPT_URL, st->conf->webhook_url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdr);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, st->conf->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, st->conf->timeout_ms);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "logferry/" LOGFERRY_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    return c;
}

/* curl_easy_perform() on the multi handle, so that sl_sender_stop() can end a POST to a
 * webhook that never answers at once (curl_multi_wakeup) instead of after `timeout`. */
static CURLcode perform(struct slack_out *st, CURL *c)
{
    CURLM *m = st->multi;
    if (curl_multi_add_handle(m, c) != CURLM_OK)
        return CURLE_FAILED_INIT;
    CURLcode rc = CURLE_OK;
    for (;;) {
        int running = 0;
        if (curl_multi_perform(m, &running) != CURLM_OK) {
            rc = CURLE_FAILED_INIT;
            break;
        }
        if (!running) {
            CURLMsg *msg;
            int q;
            rc = CURLE_GOT_NOTHING;
            while ((msg = curl_multi_info_read(m, &q)))
                if (msg->msg == CURLMSG_DONE)
                    rc = msg->data.result;
            break;
        }
        if (atomic_load(&st->abort_post)) {
            rc = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
        curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
    curl_multi_remove_handle(m, c);
    return rc;
}

/* Posts one payload. Fills *delay_ms for RETRY/REFUSED. Called without st->mu. */
static enum outcome post(struct slack_out *st, CURL *c, struct resp *r, const struct buf *json,
                         uint64_t count, long *delay_ms)
{
    r->len = 0;
    r->body[0] = '\0';
    r->retry_after_s = -1;
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json->p);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)json->len);
    CURLcode rc = perform(st, c);
    char err[512], answer[200];
    if (rc == CURLE_ABORTED_BY_CALLBACK) /* stopping: destroy() reports what was not posted */
        return RETRY;
    if (rc != CURLE_OK) {
        snprintf(err, sizeof err, "POST to %s failed: %s", st->masked, curl_easy_strerror(rc));
        goto retry;
    }
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    sl_printable(r->body, answer, sizeof answer);
    if (code >= 200 && code < 300)
        return SENT;
    if (code == 429) {
        long ra = r->retry_after_s < 0 ? 1 : r->retry_after_s;
        if (ra > RETRY_AFTER_MAX_S)
            ra = RETRY_AFTER_MAX_S;
        *delay_ms = ra * 1000;
        snprintf(err, sizeof err, "%s answered 429 (rate limited), Retry-After %ld s", st->masked,
                 ra);
        LF_LOG(LF_WARN, "out.slack", "[%s] %s; %llu alert line(s) fold into the next message",
               st->env->name, err, (unsigned long long)count);
        set_state(st, OUT_RETRYING, err);
        st->failing = 1;
        return RETRY;
    }
    if (code >= 400 && code < 500) {
        snprintf(err, sizeof err, "%s refused the message: HTTP %ld %s", st->masked, code, answer);
        LF_LOG(LF_ERROR, "out.slack", "[%s] %s; %llu alert line(s) are kept and retried in "
               "%ld s", st->env->name, err, (unsigned long long)count,
               st->backoff_ms < BACKOFF_4XX_MIN_MS ? BACKOFF_4XX_MIN_MS / 1000
                                                   : st->backoff_ms / 1000);
        set_state(st, OUT_FAILED, err);
        *delay_ms = out_backoff_next(&st->backoff_ms, BACKOFF_4XX_MIN_MS, BACKOFF_4XX_MAX_MS);
        st->failing = 1;
        return REFUSED;
    }
    snprintf(err, sizeof err, "%s answered HTTP %ld %s", st->masked, code, answer);
retry:
    *delay_ms = out_backoff_next(&st->backoff_ms, BACKOFF_MIN_MS, BACKOFF_MAX_MS);
    LF_LOG(LF_WARN, "out.slack", "[%s] %s; retrying in %ld ms, %llu alert line(s) fold into the "
           "next message", st->env->name, err, *delay_ms, (unsigned long long)count);
    set_state(st, OUT_RETRYING, err);
    st->failing = 1;
    return RETRY;
}

static void *sender_main(void *arg)
{
    struct slack_out *st = arg;
    pthread_setname_np(pthread_self(), "lf-slack-post");
    struct curl_slist *hdr = NULL;
    struct resp r;
    CURL *c = st->to_stderr || !st->multi ? NULL : make_handle(st, &hdr, &r);
    if (!st->to_stderr && !c)
        LF_LOG(LF_ERROR, "out.slack", "[%s] cannot create a curl handle; alerts are printed to "
               "stderr instead", st->env->name);
    struct buf text, json;
    buf_init(&text, 64 * 1024);
    buf_init(&json, 256 * 1024);
    long interval = c ? st->conf->min_interval_ms : 0;

    pthread_mutex_lock(&st->mu);
    while (!st->stop) {
        int64_t now = mono_ms();
        int64_t due = sl_next_due(st, now);
        int64_t allowed = st->next_send_ok > st->retry_at ? st->next_send_ok : st->retry_at;
        if (due <= now && now >= allowed) {
            struct sl_msg m;
            if (!sl_take(st, now, &m)) { /* cannot happen; never spin if it does */
                struct timespec ts = {(time_t)((now + 50) / 1000), (long)((now + 50) % 1000) * 1000000L};
                pthread_cond_timedwait(&st->cond, &st->mu, &ts);
                continue;
            }
            st->busy = 1;
            pthread_mutex_unlock(&st->mu);

            enum outcome o = SENT;
            long delay = 0;
            int frc = st->webhook ? sl_format_webhook(&m, &text, &json)
                                  : sl_format(&m, &text, &json);
            if (frc != 0 || buf_cstr(&text) != 0 || buf_cstr(&json) != 0) {
                LF_LOG(LF_ERROR, "out.slack", "[%s] message too large to format; its %llu "
                       "line(s) fold into the next one", st->env->name,
                       (unsigned long long)m.agg.count);
                o = REFUSED;
                delay = BACKOFF_MIN_MS;
            } else if (c) {
                o = post(st, c, &r, &json, m.agg.count, &delay);
            } else {
                lf_log_write(LF_WARN, "alert", "%s", text.p);
            }
            if (o == SENT) {
                lf_status_note_alert(text.p);
                lf_status_series_add("alerts", st->env->name, strlen(st->env->name), 1);
                METRIC_ADD(st->env->m->alerts_sent, 1);
                METRIC_ADD(st->env->m->events_acked, m.agg.count);
                if (st->failing)
                    LF_LOG(LF_INFO, "out.slack", "[%s] %s accepts messages again",
                           st->env->name, st->masked);
                st->failing = 0;
                set_state(st, OUT_OK, NULL);
            }
            pthread_mutex_lock(&st->mu);
            st->busy = 0;
            /* the pace counts from the end of this POST, so Slack sees the messages at
             * least min_interval apart whatever the request's own latency */
            st->next_send_ok = mono_ms() + interval;
            if (o == SENT) {
                st->undelivered -= m.agg.count;
                out_backoff_reset(&st->backoff_ms);
                st->retry_at = 0;
                if (m.has_sample)
                    sl_sample_free(&m.sample);
            } else {
                sl_fold_back(st, &m, o == RETRY);
                st->retry_at = mono_ms() + delay;
            }
            pthread_cond_broadcast(&st->cond); /* flush() may be waiting */
            continue;
        }
        int64_t wake = due == INT64_MAX ? INT64_MAX : (due > allowed ? due : allowed);
        if (wake == INT64_MAX) {
            pthread_cond_broadcast(&st->cond);
            pthread_cond_wait(&st->cond, &st->mu);
        } else {
            struct timespec ts = {(time_t)(wake / 1000), (long)(wake % 1000) * 1000000L};
            pthread_cond_timedwait(&st->cond, &st->mu, &ts);
        }
    }
    pthread_mutex_unlock(&st->mu);
    buf_free(&text);
    buf_free(&json);
    if (c)
        curl_easy_cleanup(c);
    curl_slist_free_all(hdr);
    return NULL;
}

int sl_sender_start(struct slack_out *st, char *err, size_t errsz)
{
    if (!st->to_stderr && !(st->multi = curl_multi_init())) {
        snprintf(err, errsz, "cannot create a curl handle (out of memory)");
        return -1;
    }
    int rc = pthread_create(&st->thread, NULL, sender_main, st);
    if (rc != 0) {
        snprintf(err, errsz, "cannot start the Slack sender thread: %s", strerror(rc));
        return -1;
    }
    st->thread_started = 1;
    return 0;
}

void sl_sender_stop(struct slack_out *st)
{
    if (!st->thread_started)
        return;
    pthread_mutex_lock(&st->mu);
    st->stop = 1;
    pthread_cond_broadcast(&st->cond);
    pthread_mutex_unlock(&st->mu);
    /* flush() has had its time: a POST still waiting for Slack is abandoned (its lines are
     * reported as never posted), so the shutdown is not held by Slack's `timeout`. */
    atomic_store(&st->abort_post, 1);
    if (st->multi)
        curl_multi_wakeup(st->multi);
    pthread_join(st->thread, NULL);
    st->thread_started = 0;
}

void sl_sender_free(struct slack_out *st)
{
    if (st->multi)
        curl_multi_cleanup(st->multi);
    st->multi = NULL;
}
