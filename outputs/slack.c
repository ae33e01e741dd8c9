/*
 * slack.c - the Slack alert output (type "slack"): its descriptor, config table, and the
 * output-thread side. send() evaluates the condition on each event, folds the matching ones
 * into the aggregation state (slack_agg.c), acknowledges the batch at once, and wakes the
 * sender thread (slack_send.c) when a line starts a group, so a first alert leaves within
 * the same wake-up that brought the line. Slack being slow, down or rate-limiting never
 * slows the other outputs: nothing here waits on the network.
 *
 * Threads: init/destroy on the core's thread, send() and flush() on this output's thread,
 * the sender thread started in init and stopped in destroy. The state they share is in struct
 * slack_out under its mutex.
 */
#include "outputs/slack.h"
#include "agent/base/json.h"
#include "agent/base/log.h"
#include "agent/base/status_feed.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct conf_key slack_keys[] = {
    {"webhook_url", CT_STR, NULL, offsetof(struct slack_conf, webhook_url),
     "Slack incoming-webhook URL (a secret: use ${SLACK_WEBHOOK_URL}); without it alerts are "
     "printed to stderr", NULL},
    {"window", CT_DURATION, "60s", offsetof(struct slack_conf, window_ms),
     "after a group's first alert, further matches within this time are summed into one "
     "summary posted when it ends", NULL},
    {"group_by", CT_LIST, "host.name, url.path", offsetof(struct slack_conf, group_by),
     "event fields whose values make a group (one first alert and one summary per window)",
     NULL},
    {"max_line_chars", CT_INT, "500", offsetof(struct slack_conf, max_line_chars),
     "the raw log line shown in a message is cut to this many characters", NULL},
    {"connect_timeout", CT_DURATION, "5s", offsetof(struct slack_conf, connect_timeout_ms),
     "TCP/TLS connect timeout of the webhook POST", NULL},
    {"timeout", CT_DURATION, "10s", offsetof(struct slack_conf, timeout_ms),
     "whole-request timeout of the webhook POST", NULL},
    {"min_interval", CT_DURATION, "1s", offsetof(struct slack_conf, min_interval_ms),
     "least time between two messages (Slack allows about one per second per webhook)", NULL},
    {"max_groups", CT_INT, "1000", offsetof(struct slack_conf, max_groups),
     "groups tracked at once; lines of further groups are counted in one overflow summary",
     NULL},
    {"group_path_ids", CT_BOOL, "true", offsetof(struct slack_conf, group_path_ids),
     "with url.path in group_by, path segments that are numbers, UUIDs or hex of 8+ "
     "characters group as {id} (/orders/123 and /orders/124 are one group)", NULL},
    {"cause_from", CT_LIST, "", offsetof(struct slack_conf, cause_from),
     "inputs whose ERROR/FATAL events (or events with error.stack_trace) explain alerts: "
     "their exception is shown in the alert; their events never alert themselves", NULL},
    {"cause_window", CT_DURATION, "2s", offsetof(struct slack_conf, cause_window_ms),
     "without a common trace.id, a cause is the nearest candidate within this time of the "
     "alert line (before or after)", NULL},
    {"cause_wait", CT_DURATION, "300ms", offsetof(struct slack_conf, cause_wait_ms),
     "a first alert whose cause is not there yet waits at most this long for the cause's "
     "first line, plus the cause input's multiline.timeout when that input joins lines", NULL},
    {"cause_frames", CT_INT, "3", offsetof(struct slack_conf, cause_frames),
     "stack frames of the application's own code shown with a cause", NULL},
    {"cause_frames_skip", CT_LIST,
     "java., javax., jakarta., sun., jdk., org.springframework., org.apache., com.zaxxer., "
     "org.hibernate.", offsetof(struct slack_conf, cause_frames_skip),
     "frames starting with these prefixes are not the application's own", NULL},
    {"threshold", CT_STR, "", offsetof(struct slack_conf, threshold),
     "rate alerts instead of first alerts: 'PERCENT% of CONDITION' (the share of the events "
     "matching CONDITION that match `when`) or a COUNT of matching lines, over `window`; one "
     "firing message, reminders every `repeat`, one resolved message", NULL},
    {"repeat", CT_DURATION, "1h", offsetof(struct slack_conf, repeat_ms),
     "while a rate alert stays firing, a reminder this often", NULL},
    {"min_events", CT_INT, "20", offsetof(struct slack_conf, min_events),
     "no ratio alert on a window with fewer events matching the threshold's CONDITION", NULL},
    {"kibana_url", CT_STR, "", offsetof(struct slack_conf, kibana_url),
     "adds an 'Open in Kibana' link to each alert: Discover filtered on its host and path over "
     "its time range", NULL},
    {"kibana_data_view", CT_STR, "logferry-data-view",
     offsetof(struct slack_conf, kibana_data_view),
     "the data view the link opens (the id of logferry's saved objects)", NULL},
    {"kibana_objects", CT_STR, "/usr/share/logferry/kibana/logferry-kibana.ndjson",
     offsetof(struct slack_conf, kibana_objects),
     "`logferry setup` imports these saved objects into kibana_url", NULL},
    {"kibana_username", CT_STR, "", offsetof(struct slack_conf, kibana_username),
     "Kibana user for `logferry setup` (basic authentication)", NULL},
    {"kibana_password", CT_STR, "", offsetof(struct slack_conf, kibana_password),
     "its password (a secret: use ${KIBANA_PASSWORD})", NULL},
    {"kibana_api_key", CT_STR, "", offsetof(struct slack_conf, kibana_api_key),
     "Kibana API key for `logferry setup` (a secret; instead of username/password)", NULL},
    {"cause_ring", CT_INT, "128", offsetof(struct slack_conf, cause_ring),
     "candidate causes kept per host (about 3 KiB each, at most 8 hosts)", NULL},
    {NULL, 0, NULL, 0, NULL, NULL},
};

/* Which Slack/webhook output feeds the status page's events per input (0: none yet). */
static atomic_int series_feeder;

static int key_line(struct conf_section *s, const char *key)
{
    struct conf_entry *e = conf_find(s, key);
    return e ? e->line : s->line;
}

static int slack_check(const void *vconf, struct conf *c, struct conf_section *s,
                       struct conf_errs *errs)
{
    const struct slack_conf *sc = vconf;
    int n = 0;
    const char *u = sc->webhook_url;
    if (u && *u && strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0) {
        char masked[160];
        conf_err(errs, c->file, key_line(s, "webhook_url"),
                 "webhook_url: '%s' is not an http(s) URL",
                 lf_mask_url(u, masked, sizeof masked));
        n++;
    }
    /* Keys that must lie in a range: one row each, one wording for all. */
    const struct {
        const char *key;
        long v, lo, hi;
        const char *range, *why;
    } ranges[] = {
        {"window", sc->window_ms, 100, 24L * 3600 * 1000, "100ms and 24h", ""},
        {"max_line_chars", sc->max_line_chars, 20, SL_MAX_LINE_CHARS, NULL,
         " (Slack's 3,000-character sections)"},
        {"min_interval", sc->min_interval_ms, 0, 60000, "0 and 60s", ""},
        {"cause_window", sc->cause_window_ms, 0, 60000, "0 and 60s", ""},
        {"cause_wait", sc->cause_wait_ms, 0, 10000, "0 and 10s", ""},
        {"cause_frames", sc->cause_frames, 0, SL_CAUSE_FRAMES_MAX, NULL, ""},
        {"cause_ring", sc->cause_ring, 8, 4096, NULL, ""},
        {"max_groups", sc->max_groups, 1, 100000, NULL, ""},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        if (ranges[i].v >= ranges[i].lo && ranges[i].v <= ranges[i].hi)
            continue;
        char r[64];
        if (ranges[i].range)
            snprintf(r, sizeof r, "%s", ranges[i].range);
        else
            snprintf(r, sizeof r, "%ld and %ld", ranges[i].lo, ranges[i].hi);
        conf_err(errs, c->file, key_line(s, ranges[i].key), "%s: must be between %s%s",
                 ranges[i].key, r, ranges[i].why);
        n++;
    }
    if (sc->group_by.n < 1 || sc->group_by.n > 8) {
        conf_err(errs, c->file, key_line(s, "group_by"), "group_by: name 1 to 8 fields");
        n++;
    }
    for (int i = 0; i < sc->group_by.n; i++) {
        const char *f = sc->group_by.v[i];
        size_t l = strlen(f);
        if (f[0] == '.' || f[l - 1] == '.' || strstr(f, "..") || strpbrk(f, " \t\"\\")) {
            conf_err(errs, c->file, key_line(s, "group_by"),
                     "group_by: '%s' is not a field name", f);
            n++;
        }
    }
    if (sc->connect_timeout_ms < 1 || sc->timeout_ms < 1) {
        conf_err(errs, c->file, key_line(s, "timeout"), "timeouts must be positive");
        n++;
    }
    for (int i = 0; i < sc->cause_from.n; i++) {
        int found = 0;
        for (int j = 0; j < c->n && !found; j++)
            found = strcmp(c->s[j].type, "input") == 0 && strcmp(c->s[j].name, sc->cause_from.v[i]) == 0;
        if (!found) {
            conf_err(errs, c->file, key_line(s, "cause_from"),
                     "cause_from: there is no [input %s]", sc->cause_from.v[i]);
            n++;
        }
    }
    const char *k = sc->kibana_url;
    if (k && *k && strncmp(k, "https://", 8) != 0 && strncmp(k, "http://", 7) != 0) {
        conf_err(errs, c->file, key_line(s, "kibana_url"), "kibana_url: not an http(s) URL");
        n++;
    }
    if (k && *k && strpbrk(k, "<>| \"")) {
        conf_err(errs, c->file, key_line(s, "kibana_url"),
                 "kibana_url: must not contain <, >, |, spaces or quotes");
        n++;
    }
    if (sc->threshold && *sc->threshold) {
        struct sl_threshold t;
        char terr[300];
        if (sl_threshold_parse(sc->threshold, &t, terr, sizeof terr) != 0) {
            conf_err(errs, c->file, key_line(s, "threshold"), "%s", terr);
            n++;
        }
        when_free(t.of);
    }
    if (sc->repeat_ms < 1000 || sc->min_events < 0) {
        conf_err(errs, c->file, key_line(s, sc->min_events < 0 ? "min_events" : "repeat"),
                 "repeat must be at least 1s and min_events at least 0");
        n++;
    }
    return n;
}

static void slack_destroy(void *vst);

static void *slack_init(const void *vconf, const struct output_env *env, char *err,
                        size_t errsz)
{
    struct slack_out *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    st->conf = vconf;
    st->env = env;
    st->to_stderr = !st->conf->webhook_url || !*st->conf->webhook_url;
    st->webhook = env->type && strcmp(env->type, "webhook") == 0;
    lf_mask_url(st->conf->webhook_url, st->masked, sizeof st->masked);
    pthread_mutex_init(&st->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&st->cond, &ca);
    pthread_condattr_destroy(&ca);
    st->when = env->when;
    if (!st->when) {
        int pos;
        st->own_when = when_compile(SL_DEFAULT_WHEN, err, errsz, &pos);
        if (!st->own_when)
            goto fail;
        st->when = st->own_when;
    }
    if (st->conf->threshold && *st->conf->threshold &&
        sl_threshold_parse(st->conf->threshold, &st->thr, err, errsz) != 0)
        goto fail;
    if (sl_groups_init(st) != 0 || sl_cause_init(st) != 0 || sl_rate_init(st) != 0) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    if (sl_silence_init(st, err, errsz) != 0)
        goto fail;
    int none = 0;
    st->feeds_events = atomic_compare_exchange_strong(&series_feeder, &none, 1);
    if (!st->to_stderr && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errsz, "curl_global_init failed");
        goto fail;
    }
    if (sl_sender_start(st, err, errsz) != 0)
        goto fail;
    LF_LOG(LF_INFO, "out.slack", "[%s] alerts go to %s (window %ld ms, pace %ld ms)", env->name,
           st->to_stderr ? "stderr (no webhook_url)" : st->masked, st->conf->window_ms,
           st->conf->min_interval_ms);
    return st;
fail:
    slack_destroy(st);
    return NULL;
}

/* Text of a field value, numbers in decimal, into out (cut to outsz). 0 when absent. */
static int field_str(const struct event_batch *b, const struct event *ev, const char *name,
                     char *out, size_t outsz)
{
    struct field f;
    out[0] = '\0';
    if (!event_get(b, ev, name, &f))
        return 0;
    switch (f.type) {
    case FV_STR:
    case FV_JSON: {
        size_t n = f.len < outsz - 1 ? f.len : utf8_valid_prefix(f.v.s, outsz - 1);
        memcpy(out, f.v.s, n);
        out[n] = '\0';
        break;
    }
    case FV_INT: snprintf(out, outsz, "%" PRId64, f.v.i); break;
    case FV_FLOAT: snprintf(out, outsz, "%g", f.v.f); break;
    case FV_BOOL: snprintf(out, outsz, "%s", f.v.b ? "true" : "false"); break;
    }
    return 1;
}

static struct sl_str sv(const char *p, size_t n) { return (struct sl_str){p, n}; }

static int key_is(const struct fkey *k, const char *name, size_t len)
{
    return k->len == len && memcmp(k->name, name, len) == 0;
}
#define KEY_IS(k, lit) key_is((k), (lit), sizeof(lit) - 1)

static long status_of(const struct field *f)
{
    if (f->type == FV_INT)
        return f->v.i >= 0 && f->v.i < 1000 ? (long)f->v.i : -1;
    if (f->type == FV_FLOAT)
        return f->v.f >= 0 && f->v.f < 1000 ? (long)f->v.f : -1;
    if (f->type != FV_STR || f->len == 0 || f->len > 3)
        return -1;
    long v = 0;
    for (uint32_t i = 0; i < f->len; i++) {
        if (f->v.s[i] < '0' || f->v.s[i] > '9')
            return -1;
        v = v * 10 + (f->v.s[i] - '0');
    }
    return v;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A path segment that names one object: a number, a UUID, or hex of 8+ characters. */
static int id_segment(const char *p, size_t n)
{
    if (n == 0)
        return 0;
    size_t digits = 0, hex = 0;
    for (size_t i = 0; i < n; i++) {
        digits += p[i] >= '0' && p[i] <= '9';
        hex += is_hex(p[i]);
    }
    if (digits == n || (hex == n && n >= 8))
        return 1;
    if (n != 36)
        return 0;
    for (size_t i = 0; i < 36; i++)
        if ((i == 8 || i == 13 || i == 18 || i == 23) ? p[i] != '-' : !is_hex(p[i]))
            return 0;
    return 1;
}

size_t sl_path_template(const char *p, size_t n, char *out, size_t outsz)
{
    const char *q = p ? memchr(p, '?', n) : NULL;
    if (q)
        n = (size_t)(q - p);
    size_t o = 0, i = 0;
    if (outsz == 0)
        return 0;
    while (i < n) {
        size_t j = i;
        while (j < n && p[j] != '/')
            j++;
        const char *seg = id_segment(p + i, j - i) ? "{id}" : p + i;
        size_t sl = seg == p + i ? j - i : 4;
        if (o + sl + 1 >= outsz)
            break;
        memcpy(out + o, seg, sl);
        o += sl;
        if (j < n)
            out[o++] = '/';
        i = j + 1;
    }
    out[o] = '\0';
    return o;
}

/* One pass over the event's fields picks what an alert shows (views into the batch, copied
 * only if the line starts a group), then builds the group key. */
static void fill_line(struct slack_out *st, const struct event_batch *b, const struct event *ev,
                      struct sl_line *l, char *key, size_t keysz)
{
    memset(l, 0, sizeof *l);
    l->ts_ms = ev->ts_ms;
    l->status = -1;
    l->host = sv(b->host_name, strlen(b->host_name));
    l->file = sv(b->src->path, strlen(b->src->path));
    l->raw = sv(ev->message, ev->message_len);
    struct sl_str url_original = {0}, client2 = {0};
    for (uint16_t i = 0; i < ev->nfields; i++) {
        const struct field *f = &ev->fields[i];
        const struct fkey *k = f->key;
        if (k->len == 25 && KEY_IS(k, "http.response.status_code")) {
            l->status = status_of(f);
            continue;
        }
        if (f->type != FV_STR)
            continue;
        struct sl_str v = sv(f->v.s, f->len);
        switch (k->len) {
        case 8:
            if (KEY_IS(k, "url.path")) l->path = v;
            else if (KEY_IS(k, "trace.id")) l->trace = v;
            break;
        case 9:
            if (KEY_IS(k, "host.name")) l->host = v; /* fields.host.name: logs of another host */
            else if (KEY_IS(k, "source.ip")) l->client = v;
            else if (KEY_IS(k, "client.ip") && !client2.n) client2 = v;
            break;
        case 12:
            if (KEY_IS(k, "url.original")) url_original = v;
            else if (KEY_IS(k, "service.name")) l->service = v;
            break;
        case 14:
            if ((KEY_IS(k, "source.address") || KEY_IS(k, "client.address")) && !client2.n)
                client2 = v;
            break;
        case 19:
            if (KEY_IS(k, "http.request.method")) l->method = v;
            else if (KEY_IS(k, "user_agent.original")) l->agent = v;
            break;
        }
    }
    if (!l->path.n)
        l->path = url_original;
    if (!l->client.n)
        l->client = client2;

    /* group key: the group_by values joined by \x1f (absent fields are empty) */
    size_t kl = 0;
    char v[SL_PATH_MAX];
    for (int i = 0; i < st->conf->group_by.n; i++) {
        const char *name = st->conf->group_by.v[i];
        struct sl_str val;
        if (strcmp(name, "host.name") == 0)
            val = l->host;
        else if (strcmp(name, "url.path") == 0 && st->conf->group_path_ids) {
            size_t n = sl_path_template(l->path.p, l->path.n, v, sizeof v);
            val = sv(v, n);
        } else if (strcmp(name, "url.path") == 0)
            val = l->path;
        else {
            field_str(b, ev, name, v, sizeof v);
            val = sv(v, strlen(v));
        }
        if (kl + 2 > keysz)
            break;
        size_t n = val.n, room = keysz - kl - 2;
        if (n > room)
            n = room;
        if (n)
            memcpy(key + kl, val.p, n);
        kl += n;
        key[kl++] = '\x1f';
    }
    key[kl] = '\0';
    l->key = key;
    l->keylen = kl;
}

/* Acked at once: the alert state holds its own copies, and an alert must never hold the
 * registry back. The lines are shipped by the other outputs regardless. `wake`: the sender
 * has something new to look at. */
static void ack_batch(struct slack_out *st, struct event_batch *b, uint64_t matched,
                      uint64_t skipped, int wake)
{
    METRIC_ADD(st->env->m->events_sent, matched);
    METRIC_ADD(st->env->m->events_skipped, skipped);
    METRIC_ADD(st->env->m->batches_acked, 1);
    st->env->ack(st->env, b);
    if (wake) {
        pthread_mutex_lock(&st->mu);
        pthread_cond_broadcast(&st->cond);
        pthread_mutex_unlock(&st->mu);
    }
}

/* Rate alerts: every event matching `when` or the threshold's `of` counts in its group's
 * window; only state changes (firing, reminder, resolved) wake the sender. */
static void slack_send_rate(struct slack_out *st, struct event_batch *b, int64_t now)
{
    uint64_t matched = 0, skipped = 0;
    int wake = 0;
    struct sl_line l;
    char key[SL_KEY_MAX];
    for (uint32_t i = 0; i < b->n; i++) {
        const struct event *ev = &b->ev[i];
        int num = when_eval(st->when, b, ev);
        int den = st->thr.ratio && when_eval(st->thr.of, b, ev);
        if (!num && !den) {
            skipped++;
            continue;
        }
        matched += num;
        fill_line(st, b, ev, &l, key, sizeof key);
        pthread_mutex_lock(&st->mu);
        wake |= sl_rate_fold(st, &l, num, den, now);
        pthread_mutex_unlock(&st->mu);
    }
    ack_batch(st, b, matched, skipped, wake);
}

/* The status page's alert lines per minute of a group: "OUTPUT: was-1 /api/orders/{id}". */
static void series_group(const struct slack_out *st, const char *key, size_t keylen, uint64_t n)
{
    char name[SL_KEY_MAX + 64];
    size_t o = (size_t)snprintf(name, sizeof name, "%s: ", st->env->name);
    for (size_t i = 0; i < keylen && o + 1 < sizeof name; i++)
        name[o++] = key[i] == '\x1f' ? ' ' : key[i];
    while (o > 0 && name[o - 1] == ' ')
        o--;
    lf_status_series_add("5xx", name, o, n);
}

static void slack_send(void *vst, struct event_batch *b)
{
    struct slack_out *st = vst;
    uint64_t matched = 0, skipped = 0;
    int woke = 0, wake_again = 0;
    struct sl_line l;
    char key[SL_KEY_MAX], run_key[SL_KEY_MAX];
    size_t run_len = 0;
    uint64_t run_n = 0;
    int64_t now = mono_ms();
    if (st->feeds_events && b->n && b->src && b->src->input)
        lf_status_series_add("events", b->src->input, strlen(b->src->input), b->n);
    if (st->nsilent && b->n && b->src && b->src->input) {
        pthread_mutex_lock(&st->mu);
        if (sl_silence_line(st, b->src->input, b->src->path, now))
            pthread_cond_broadcast(&st->cond);
        pthread_mutex_unlock(&st->mu);
    }
    if (sl_cause_input(st, b)) {
        /* the application's log explains alerts; it never alerts itself */
        struct sl_cause c;
        for (uint32_t i = 0; i < b->n; i++) {
            if (!sl_cause_extract(st, b, &b->ev[i], &c, now))
                continue;
            pthread_mutex_lock(&st->mu);
            if (sl_cause_add(st, &c))
                pthread_cond_broadcast(&st->cond); /* a first alert waited for it */
            pthread_mutex_unlock(&st->mu);
        }
        ack_batch(st, b, 0, b->n, 0);
        return;
    }
    if (st->rate) {
        slack_send_rate(st, b, now);
        return;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        const struct event *ev = &b->ev[i];
        if (!when_eval(st->when, b, ev)) {
            skipped++;
            continue;
        }
        matched++;
        fill_line(st, b, ev, &l, key, sizeof key);
        /* runs of one group count once on the status page's chart */
        if (run_n && (run_len != l.keylen || memcmp(run_key, key, run_len) != 0)) {
            series_group(st, run_key, run_len, run_n);
            run_n = 0;
        }
        if (!run_n) {
            memcpy(run_key, key, l.keylen);
            run_len = l.keylen;
        }
        run_n++;
        pthread_mutex_lock(&st->mu);
        int r = sl_fold(st, &l, now);
        if (r == 1) {
            /* the first new group of the batch wakes the sender at once, not after the
             * batch: its first alert leaves while the rest is still being counted */
            if (!woke)
                pthread_cond_broadcast(&st->cond);
            else
                wake_again = 1;
            woke = 1;
        } else if (r == 2) {
            wake_again = 1; /* a window now ends with a summary to post: re-arm its timer */
        }
        pthread_mutex_unlock(&st->mu);
    }
    if (run_n)
        series_group(st, run_key, run_len, run_n);
    ack_batch(st, b, matched, skipped, wake_again);
}

/* Shutdown: every window counts as ended; wait (up to timeout_ms) until the sender has
 * posted everything. Batches were all acked in send(), so this always returns 0. */
static int slack_flush(void *vst, long timeout_ms)
{
    struct slack_out *st = vst;
    int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&st->mu);
    st->draining = 1;
    pthread_cond_broadcast(&st->cond);
    for (;;) {
        int64_t now = mono_ms();
        if ((sl_next_due(st, now) == INT64_MAX && !st->busy) || now >= deadline ||
            (st->env->giving_up && atomic_load(st->env->giving_up)))
            break;
        /* wakes at least every 100 ms to see a second signal (giving_up) */
        int64_t until = deadline - now > 100 ? now + 100 : deadline;
        struct timespec ts = {(time_t)(until / 1000), (long)(until % 1000) * 1000000L};
        pthread_cond_timedwait(&st->cond, &st->mu, &ts);
    }
    pthread_mutex_unlock(&st->mu);
    return 0;
}

static void slack_destroy(void *vst)
{
    struct slack_out *st = vst;
    if (!st)
        return;
    sl_sender_stop(st);
    sl_sender_free(st);
    if (st->undelivered > 0)
        LF_LOG(LF_ERROR, "out.slack", "[%s] %llu matching line(s) were never posted to %s "
               "(stopped before Slack accepted them)", st->env->name,
               (unsigned long long)st->undelivered, st->masked);
    sl_groups_free(st);
    sl_cause_free(st);
    sl_rate_free(st);
    sl_silence_free(st);
    if (st->feeds_events)
        atomic_store(&series_feeder, 0);
    when_free(st->thr.of);
    when_free(st->own_when);
    pthread_cond_destroy(&st->cond);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

static int slack_test(const void *vconf, const struct output_env *env, char *msg, size_t msgsz)
{
    const struct slack_conf *sc = vconf;
    (void)env;
    char masked[160];
    if (!sc->webhook_url || !*sc->webhook_url) {
        snprintf(msg, msgsz, "no webhook_url: alerts are printed to stderr");
        return 0;
    }
    lf_mask_url(sc->webhook_url, masked, sizeof masked);
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(msg, msgsz, "cannot create a curl handle");
        return -1;
    }
    /* Connect only: posting would put a test message in the team's channel. */
    curl_easy_setopt(c, CURLOPT_URL, sc->webhook_url);
    curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, sc->connect_timeout_ms);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        snprintf(msg, msgsz, "cannot connect to %s: %s", masked, curl_easy_strerror(rc));
        return -1;
    }
    snprintf(msg, msgsz, "connected to %s (no message posted)", masked);
    return 0;
}

static int slack_setup(const void *vconf, const struct output_env *env, char *msg,
                       size_t msgsz)
{
    (void)env;
    return sl_setup_kibana(vconf, msg, msgsz);
}

/* [output slack] and [output webhook] (slack_webhook.c formats the same alerts as generic
 * JSON for any URL) are one output that differs only in its type name. */
#define SL_DESC(TYPE)                                                                          \
    {                                                                                          \
        .type = TYPE, .conf_table = slack_keys, .conf_size = sizeof(struct slack_conf),        \
        .check = slack_check, .init = slack_init, .send = slack_send, .flush = slack_flush,    \
        .destroy = slack_destroy, .test = slack_test, .setup = slack_setup,                    \
    }

const struct output_desc out_slack_desc = SL_DESC("slack");
const struct output_desc out_webhook_desc = SL_DESC("webhook");
