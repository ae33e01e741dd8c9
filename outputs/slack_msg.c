/*
 * slack_msg.c - renders one Slack message: the fallback `text` (what notifications, the
 * status page and the stderr mode show) and the Block Kit payload.
 *
 * Log content is attacker-controlled. Everything taken from a log line goes through
 * sl_escape(): &, < and > become &amp; &lt; &gt; (Slack's own escaping, so "<!channel>",
 * "<@U123>" or "<https://x|y>" stay inert text), control characters become spaces, and the
 * result is capped in characters. The JSON layer (json_write_string) then escapes quotes and
 * backslashes and repairs invalid UTF-8. Limits kept: every section text under 3,000
 * characters, field texts under 2,000, at most 10 fields, 5 blocks (Slack allows 50), and no
 * link unfurling.
 *
 * Threads: the sender thread (and unit tests). Pure functions of their arguments.
 */
#include "outputs/slack.h"
#include "agent/base/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTION_MAX 3000

static int section(struct buf *j, const char *mrkdwn, size_t n);
#define FIELD_VALUE_MAX 300

#define ESC_KEEP_NL 1  /* keep newlines and tabs (code blocks) */
#define ESC_NO_TICKS 2 /* backticks become ˋ (U+02CB): a "```" in log text cannot end a block */

/* Appends s escaped; newlines and tabs become spaces unless ESC_KEEP_NL. At most maxchars
 * characters are appended, the last being "…" when s was cut. */
static int escape(struct buf *b, const char *s, size_t n, size_t maxchars, int flags)
{
    int keep_nl = flags & ESC_KEEP_NL;
    size_t used = 0, i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        char one[1];
        size_t replen = 1, clen = 1;
        if (c == '&')
            rep = "&amp;", replen = 5;
        else if (c == '<')
            rep = "&lt;", replen = 4;
        else if (c == '>')
            rep = "&gt;", replen = 4;
        else if (c == '`' && (flags & ESC_NO_TICKS))
            rep = "ˋ", replen = strlen("ˋ");
        else if (c < 0x20 || c == 0x7f) {
            one[0] = (keep_nl && (c == '\n' || c == '\t')) ? (char)c : ' ';
            rep = one;
        } else if (c >= 0x80) {
            while (i + clen < n && ((unsigned char)s[i + clen] & 0xC0) == 0x80 && clen < 4)
                clen++;
        }
        /* characters this piece costs (entities count as sent); keep room for the "…" */
        size_t cost = rep ? (c == '`' ? 1 : replen) : 1;
        int last = i + clen >= n;
        if (used + cost > maxchars - 1 && !(last && used + cost <= maxchars))
            return buf_add(b, "…", strlen("…"));
        int rc = rep ? buf_add(b, rep, replen) : buf_add(b, s + i, clen);
        if (rc != 0)
            return -1;
        used += cost;
        i += clen;
    }
    return 0;
}

int sl_escape(struct buf *b, const char *s, size_t n, size_t maxchars)
{
    return escape(b, s, n, maxchars ? maxchars : 1, 0);
}

static int esc_str(struct buf *b, const char *s, size_t maxchars)
{
    return escape(b, s, strlen(s), maxchars, 0);
}

/* "HTTP 500", "HTTP 5xx", "HTTP 4xx/5xx", or "alert" when no status was seen. */
static void status_label(const struct sl_agg *a, char *out, size_t outsz)
{
    if (a->nst == 0) {
        snprintf(out, outsz, "alert");
        return;
    }
    if (a->nst == 1 && a->st_other == 0) {
        snprintf(out, outsz, "HTTP %ld", a->st[0].status);
        return;
    }
    int seen[10] = {0};
    for (int i = 0; i < a->nst; i++) {
        long h = a->st[i].status / 100;
        if (h >= 0 && h <= 9)
            seen[h] = 1;
    }
    size_t o = (size_t)snprintf(out, outsz, "HTTP ");
    int first = 1;
    for (int h = 0; h <= 9 && o < outsz; h++)
        if (seen[h]) {
            o += (size_t)snprintf(out + o, outsz - o, "%s%dxx", first ? "" : "/", h);
            first = 0;
        }
    if (a->st_other && o < outsz)
        snprintf(out + o, outsz - o, "%s", first ? "statuses" : "/other");
}

static int hosts_text(struct buf *b, const struct sl_agg *a, const char *fallback)
{
    if (a->nhosts == 0)
        return esc_str(b, fallback, 100);
    for (int i = 0; i < a->nhosts; i++) {
        if (i && buf_adds(b, ", ") != 0)
            return -1;
        if (esc_str(b, a->hosts[i], 100) != 0)
            return -1;
    }
    return a->hosts_more ? buf_adds(b, " and others") : 0;
}

/* Indexes 0..n-1 sorted by counts[], highest first (n is a handful: insertion sort). */
static int sort_by_count(const uint64_t *counts, int n, int *idx)
{
    for (int i = 0; i < n; i++)
        idx[i] = i;
    for (int i = 1; i < n; i++) {
        int t = idx[i], j = i - 1;
        while (j >= 0 && counts[idx[j]] < counts[t]) {
            idx[j + 1] = idx[j];
            j--;
        }
        idx[j + 1] = t;
    }
    return n;
}

/* Indexes of the paths sorted by count, highest first. */
static int top_paths(const struct sl_agg *a, int idx[SL_PATH_SLOTS])
{
    uint64_t c[SL_PATH_SLOTS] = {0};
    for (int i = 0; i < a->npaths; i++)
        c[i] = a->paths[i].n;
    return sort_by_count(c, a->npaths, idx);
}

static long span_s(const struct sl_msg *m)
{
    int64_t span = m->agg.last_ms - m->agg.first_ms;
    long s = (long)((span + 999) / 1000);
    if (m->window_s > 0 && s <= m->window_s)
        return m->window_s;
    return s < 1 ? 1 : s;
}

/* The summary's "statuses ...; top paths ..." part; sep joins list items. */
static int summary_lists(struct buf *b, const struct sl_agg *a, const char *sep, int bullets)
{
    int rc = 0;
    for (int i = 0; i < a->nst && rc == 0; i++)
        rc = buf_printf(b, "%s%s%ld (%llu)", i ? sep : "", bullets ? "• " : "", a->st[i].status,
                        (unsigned long long)a->st[i].n);
    if (rc == 0 && a->st_other)
        rc = buf_printf(b, "%s%sother (%llu)", a->nst ? sep : "", bullets ? "• " : "",
                        (unsigned long long)a->st_other);
    return rc;
}

static int paths_list(struct buf *b, const struct sl_agg *a, const char *sep, int bullets,
                      int maxshown)
{
    int idx[SL_PATH_SLOTS];
    int n = top_paths(a, idx);
    uint64_t rest = a->paths_other;
    int rc = 0, shown = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (shown >= maxshown) {
            rest += a->paths[idx[i]].n;
            continue;
        }
        rc = buf_printf(b, "%s%s", shown ? sep : "", bullets ? "• " : "");
        if (rc == 0)
            rc = esc_str(b, a->paths[idx[i]].path, 120);
        if (rc == 0)
            rc = buf_printf(b, " (%llu)", (unsigned long long)a->paths[idx[i]].n);
        shown++;
    }
    if (rc == 0 && rest)
        rc = buf_printf(b, "%s%sother paths (%llu)", shown ? sep : "", bullets ? "• " : "",
                        (unsigned long long)rest);
    return rc;
}

static int is_first_alert(const struct sl_msg *m)
{
    return m->agg.count == 1 && m->has_sample;
}

static int esc_code(struct buf *b, const char *s, size_t maxchars)
{
    return escape(b, s, strlen(s), maxchars, ESC_NO_TICKS);
}

/* "NullPointerException at OrderService.java:42 (30), SQLTransientConnectionException (7)",
 * most frequent first. */
static int causes_list(struct buf *b, const struct sl_agg *a, const char *sep, int bullets)
{
    int idx[SL_CAUSE_SLOTS], n = a->ncauses, rc = 0;
    uint64_t c[SL_CAUSE_SLOTS] = {0};
    for (int i = 0; i < n; i++)
        c[i] = a->causes[i].n;
    sort_by_count(c, n, idx);
    for (int i = 0; i < n && rc == 0; i++) {
        rc = buf_printf(b, "%s%s", i ? sep : "", bullets ? "• " : "");
        if (rc == 0)
            rc = esc_str(b, a->causes[idx[i]].key, SL_CAUSE_KEY);
        if (rc == 0)
            rc = buf_printf(b, " (%llu)", (unsigned long long)a->causes[idx[i]].n);
    }
    if (rc == 0 && a->causes_other)
        rc = buf_printf(b, "%s%sother causes (%llu)", n ? sep : "", bullets ? "• " : "",
                        (unsigned long long)a->causes_other);
    return rc;
}

/* The cause of a first alert as one mrkdwn section: the exception and its message, the root
 * cause, the application's frames in a code block (where mrkdwn is inert), the logger. Each
 * piece is escaped and capped so the whole stays under Slack's 3,000 characters. */
static int cause_section(struct buf *j, struct buf *tmp, const struct sl_sample *s)
{
    const struct sl_cause *c = s->cause;
    buf_reset(tmp);
    int rc = buf_adds(tmp, "*Cause*");
    if (s->cause_how[0])
        rc |= buf_printf(tmp, " (%s)", s->cause_how);
    if (c->logger[0])
        rc |= buf_adds(tmp, " · logger `") | esc_code(tmp, c->logger, 120) | buf_adds(tmp, "`");
    rc |= buf_adds(tmp, "\n```");
    if (c->type[0])
        rc |= esc_code(tmp, c->type, 160);
    if (c->type[0] && c->message[0])
        rc |= buf_adds(tmp, ": ");
    if (c->message[0])
        rc |= esc_code(tmp, c->message, 500);
    if (c->root[0])
        rc |= buf_adds(tmp, "\nCaused by: ") | esc_code(tmp, c->root, 400);
    size_t per = c->nframes ? 1000 / (size_t)c->nframes : 0;
    for (int i = 0; i < c->nframes; i++)
        rc |= buf_adds(tmp, "\n    at ") | esc_code(tmp, c->frames[i], per);
    rc |= buf_adds(tmp, "```");
    return rc ? -1 : section(j, tmp->p, tmp->len);
}

static int fallback_text(const struct sl_msg *m, struct buf *t)
{
    char label[64], ts1[32], ts2[32];
    status_label(&m->agg, label, sizeof label);
    int rc = buf_printf(t, "%llu× %s on ", (unsigned long long)m->agg.count, label);
    if (rc == 0)
        rc = hosts_text(t, &m->agg, m->has_sample ? m->sample.host : "?");
    if (rc != 0)
        return -1;
    if (is_first_alert(m)) {
        const struct sl_sample *s = &m->sample;
        if (s->method[0] || s->path[0]) {
            rc |= buf_adds(t, ": ");
            if (s->method[0])
                rc |= esc_str(t, s->method, 20) | buf_adds(t, " ");
            rc |= esc_str(t, s->path, 300);
        }
        if (s->client[0])
            rc |= buf_adds(t, " from ") | esc_str(t, s->client, 64);
        if (s->service[0] || s->file[0]) {
            rc |= buf_adds(t, " (");
            if (s->service[0])
                rc |= buf_adds(t, "service ") | esc_str(t, s->service, 100);
            if (s->service[0] && s->file[0])
                rc |= buf_adds(t, ", ");
            if (s->file[0])
                rc |= esc_str(t, s->file, 200);
            rc |= buf_adds(t, ")");
        }
        json_format_ts(s->ts_ms, ts1);
        rc |= buf_printf(t, " at %s", ts1);
        if (s->cause) {
            char key[SL_CAUSE_KEY];
            sl_cause_key(s->cause, key, sizeof key);
            rc |= buf_adds(t, " — cause: ") | esc_str(t, key, SL_CAUSE_KEY);
            if (s->cause->message[0])
                rc |= buf_adds(t, ": ") | esc_code(t, s->cause->message, 200);
        }
        return rc ? -1 : 0;
    }
    rc |= buf_printf(t, " in the last %ld s", span_s(m));
    if (m->ngroups > 1)
        rc |= buf_printf(t, " (%d groups)", m->ngroups);
    if (m->agg.nst || m->agg.st_other)
        rc |= buf_adds(t, ": statuses ") | summary_lists(t, &m->agg, ", ", 0);
    if (m->agg.npaths || m->agg.paths_other)
        rc |= buf_adds(t, "; top paths ") | paths_list(t, &m->agg, ", ", 0, 3);
    if (m->agg.ncauses || m->agg.causes_other)
        rc |= buf_adds(t, "; causes ") | causes_list(t, &m->agg, ", ", 0);
    json_format_ts(m->agg.first_ms, ts1);
    json_format_ts(m->agg.last_ms, ts2);
    rc |= buf_printf(t, "; first %s, last %s", ts1, ts2);
    return rc ? -1 : 0;
}

/* Appends {"type":"mrkdwn","text":"*Label*\n<value>"} with value escaped. */
static int field_obj(struct buf *j, struct buf *tmp, int *nfields, const char *label,
                     const char *value, int escape_value)
{
    if (!value || !*value || *nfields >= 10)
        return 0;
    buf_reset(tmp);
    int rc = buf_printf(tmp, "*%s*\n", label);
    if (rc == 0)
        rc = escape_value ? esc_str(tmp, value, FIELD_VALUE_MAX) : buf_adds(tmp, value);
    if (rc == 0)
        rc = buf_adds(j, *nfields ? "," : "") | buf_adds(j, "{\"type\":\"mrkdwn\",\"text\":") |
             json_write_string(j, tmp->p, tmp->len) | buf_addc(j, '}');
    (*nfields)++;
    return rc ? -1 : 0;
}

static int section(struct buf *j, const char *mrkdwn, size_t n)
{
    return buf_adds(j, ",{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":") |
           json_write_string(j, mrkdwn, n) | buf_adds(j, "}}");
}

static int code_block(struct buf *j, struct buf *tmp, const char *title,
                      const struct sl_sample *s)
{
    if (!s->line || s->line_len == 0)
        return 0;
    buf_reset(tmp);
    size_t budget = SECTION_MAX - 40;
    int rc = buf_printf(tmp, "%s%s\n```", title, s->line_cut ? " (cut)" : "") |
             escape(tmp, s->line, s->line_len, budget, ESC_KEEP_NL | ESC_NO_TICKS) | buf_adds(tmp, "```");
    return rc ? -1 : section(j, tmp->p, tmp->len);
}

/* 1204 -> "1,204" */
static void thousands(uint64_t v, char out[32])
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v), o = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = tmp[i];
    }
    out[o] = '\0';
}

/* 300 -> "5 min", 7200 -> "2 h", 90 -> "90 s" */
static void span_text(long s, char *out, size_t outsz)
{
    if (s >= 3600 && s % 3600 == 0)
        snprintf(out, outsz, "%ld h", s / 3600);
    else if (s >= 60 && s % 60 == 0)
        snprintf(out, outsz, "%ld min", s / 60);
    else
        snprintf(out, outsz, "%ld s", s);
}

/* "37 of 1,204 requests (3.1 %) on was-1 /api/orders in the last 5 min (threshold 2 %)" */
static int notice_body(struct buf *t, const struct sl_msg *m)
{
    const struct sl_notice *n = &m->notice;
    char a[32], b[32], win[32];
    thousands(n->num, a);
    thousands(n->den, b);
    span_text(n->window_s, win, sizeof win);
    int rc;
    if (m->thr && m->thr->ratio)
        rc = buf_printf(t, "%s of %s requests (%.1f %%)", a, b,
                        n->den ? 100.0 * (double)n->num / (double)n->den : 0.0);
    else
        rc = buf_printf(t, "%s matching line%s", a, n->num == 1 ? "" : "s");
    rc |= buf_adds(t, " on ") | esc_str(t, n->label[0] ? n->label : "all", 300);
    rc |= buf_printf(t, " in the last %s", win);
    if (m->thr && m->thr->ratio)
        rc |= buf_printf(t, " (threshold %g %%)", m->thr->pct);
    else if (m->thr)
        rc |= buf_printf(t, " (threshold %llu)", (unsigned long long)m->thr->count);
    return rc;
}

/* "no lines from input access on was-1 for 5 min (last: /var/log/nginx/access.log at …)",
 * "lines from input access on was-1 again (silent since …)" */
static int silence_body(struct buf *t, const struct sl_notice *n, const char *win,
                        const char *since)
{
    int rc = buf_adds(t, n->kind == SL_SILENCE ? "no lines from input " : "lines from input ");
    rc |= esc_str(t, n->label, 100) | buf_adds(t, " on ") | esc_str(t, n->host, 100);
    if (n->kind == SL_RESUMED)
        return rc | buf_printf(t, " again (silent since %s)", since);
    rc |= buf_printf(t, " for %s (last: ", win);
    if (n->path[0])
        rc |= esc_str(t, n->path, 200) | buf_printf(t, " at %s)", since);
    else
        rc |= buf_printf(t, "none since the start at %s)", since);
    return rc;
}

/* Rate alerts' firing, reminder and resolved messages; inputs' silence and resumed. */
static int format_notice(const struct sl_msg *m, struct buf *text, struct buf *json)
{
    const struct sl_notice *n = &m->notice;
    char since[32], win[32];
    json_format_ts(n->since_wall_ms, since);
    span_text(n->window_s, win, sizeof win);
    static const char *const word[] = {"", "FIRING", "STILL FIRING", "RESOLVED", "SILENT",
                                       "RESUMED"};
    static const char *const icon[] = {"", ":red_circle:", ":red_circle:", ":large_green_circle:",
                                       ":mute:", ":sound:"};
    int silence = n->kind == SL_SILENCE || n->kind == SL_RESUMED;
    int rc = buf_printf(text, "%s: ", word[n->kind]);
    rc |= silence ? silence_body(text, n, win, since) : notice_body(text, m);
    if (n->kind == SL_REMINDER)
        rc |= buf_printf(text, "; firing since %s", since);
    if (n->kind == SL_RESOLVED)
        rc |= buf_printf(text, "; under the threshold for %s (firing since %s)", win, since);
    struct buf tmp;
    buf_init(&tmp, 8192);
    rc |= buf_printf(&tmp, "%s *%s*: ", icon[n->kind], word[n->kind]);
    rc |= silence ? silence_body(&tmp, n, win, since) : notice_body(&tmp, m);
    rc |= buf_adds(json, "{\"text\":") | json_write_string(json, text->p, text->len) |
          buf_adds(json, ",\"unfurl_links\":false,\"unfurl_media\":false,\"blocks\":[") |
          buf_adds(json, "{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":") |
          json_write_string(json, tmp.p, tmp.len) | buf_adds(json, "}}");
    buf_reset(&tmp);
    if (silence)
        rc |= buf_printf(&tmp, "logferry · silence alert · last line %s", since);
    else
        rc |= buf_printf(&tmp, "logferry · rate alert · firing since %s", since);
    rc |= buf_adds(json, ",{\"type\":\"context\",\"elements\":[{\"type\":\"mrkdwn\",\"text\":") |
          json_write_string(json, tmp.p, tmp.len) | buf_adds(json, "}]}]}");
    buf_free(&tmp);
    return rc ? -1 : 0;
}

int sl_format(const struct sl_msg *m, struct buf *text, struct buf *json)
{
    if (m->kind != SL_ALERT) {
        buf_reset(text);
        buf_reset(json);
        return format_notice(m, text, json);
    }
    struct buf tmp;
    buf_init(&tmp, 64 * 1024);
    char label[64], ts[32];
    int rc = 0, nf = 0;
    buf_reset(text);
    buf_reset(json);
    struct buf ft;
    buf_init(&ft, 64 * 1024);
    rc |= fallback_text(m, &ft);
    /* fallback_text escaped the log content piece by piece (each piece capped), so it is
     * copied as is */
    if (rc == 0)
        rc |= buf_add(text, ft.p, ft.len);
    buf_free(&ft);
    if (rc != 0)
        goto out;

    rc |= buf_adds(json, "{\"text\":") | json_write_string(json, text->p, text->len) |
          buf_adds(json, ",\"unfurl_links\":false,\"unfurl_media\":false,\"blocks\":[");
    status_label(&m->agg, label, sizeof label);
    buf_reset(&tmp);
    rc |= buf_printf(&tmp, ":rotating_light: *%llu× %s* on *", (unsigned long long)m->agg.count,
                     label);
    rc |= hosts_text(&tmp, &m->agg, m->has_sample ? m->sample.host : "?") | buf_adds(&tmp, "*");
    if (!is_first_alert(m))
        rc |= buf_printf(&tmp, " in the last %ld s", span_s(m));
    if (m->ngroups > 1)
        rc |= buf_printf(&tmp, " (%d groups)", m->ngroups);
    rc |= buf_adds(json, "{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":") |
          json_write_string(json, tmp.p, tmp.len) | buf_adds(json, "}}");
    rc |= buf_adds(json, ",{\"type\":\"section\",\"fields\":[");
    struct buf fv;
    buf_init(&fv, 8192);
    if (is_first_alert(m)) {
        const struct sl_sample *s = &m->sample;
        char st[24] = "";
        if (s->status >= 0)
            snprintf(st, sizeof st, "%ld", s->status);
        json_format_ts(s->ts_ms, ts);
        rc |= field_obj(json, &tmp, &nf, "Host", s->host, 1);
        rc |= field_obj(json, &tmp, &nf, "Service", s->service, 1);
        rc |= field_obj(json, &tmp, &nf, "Status", st, 0);
        rc |= field_obj(json, &tmp, &nf, "Method", s->method, 1);
        rc |= field_obj(json, &tmp, &nf, "Path", s->path, 1);
        rc |= field_obj(json, &tmp, &nf, "Client", s->client, 1);
        rc |= field_obj(json, &tmp, &nf, "Time", ts, 0);
        rc |= field_obj(json, &tmp, &nf, "File", s->file, 1);
        rc |= field_obj(json, &tmp, &nf, "User agent", s->agent, 1);
    } else {
        buf_reset(&fv);
        rc |= summary_lists(&fv, &m->agg, "\n", 1);
        rc |= buf_cstr(&fv);
        rc |= field_obj(json, &tmp, &nf, "Statuses", fv.p, 0);
        buf_reset(&fv);
        rc |= paths_list(&fv, &m->agg, "\n", 1, 5);
        rc |= buf_cstr(&fv);
        rc |= field_obj(json, &tmp, &nf, "Top paths", fv.p, 0);
        buf_reset(&fv);
        rc |= hosts_text(&fv, &m->agg, "?") | buf_cstr(&fv);
        rc |= field_obj(json, &tmp, &nf, "Hosts", fv.p, 0);
        buf_reset(&fv);
        rc |= causes_list(&fv, &m->agg, "\n", 1) | buf_cstr(&fv);
        rc |= field_obj(json, &tmp, &nf, "Causes", fv.p, 0);
        json_format_ts(m->agg.first_ms, ts);
        rc |= field_obj(json, &tmp, &nf, "First", ts, 0);
        json_format_ts(m->agg.last_ms, ts);
        rc |= field_obj(json, &tmp, &nf, "Last", ts, 0);
    }
    if (nf == 0)
        rc |= field_obj(json, &tmp, &nf, "Lines", "see above", 0);
    rc |= buf_adds(json, "]}");
    if (m->has_sample && is_first_alert(m) && m->sample.cause)
        rc |= cause_section(json, &tmp, &m->sample);
    if (m->has_sample)
        rc |= code_block(json, &tmp, is_first_alert(m) ? "*Line*" : "*First line*", &m->sample);
    if (m->kibana_url && *m->kibana_url) {
        /* the link's text is ours; its URL is fully percent-encoded (slack_link.c) */
        buf_reset(&fv);
        if (sl_kibana_link(m, &fv) == 0 && fv.len) {
            buf_reset(&tmp);
            rc |= buf_adds(&tmp, "<") | buf_add(&tmp, fv.p, fv.len) |
                  buf_adds(&tmp, "|Open in Kibana>");
            rc |= section(json, tmp.p, tmp.len);
        }
    }
    buf_free(&fv);
    buf_reset(&tmp);
    rc |= buf_printf(&tmp, "logferry · %llu matching line%s", (unsigned long long)m->agg.count,
                     m->agg.count == 1 ? "" : "s");
    rc |= buf_adds(json, ",{\"type\":\"context\",\"elements\":[{\"type\":\"mrkdwn\",\"text\":") |
          json_write_string(json, tmp.p, tmp.len) | buf_adds(json, "}]}]}");
out:
    buf_free(&tmp);
    return rc ? -1 : 0;
}
