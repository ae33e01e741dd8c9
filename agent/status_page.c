/*
 * status_page.c - the HTML status page served at GET / (http.h).
 *
 * One self-contained page built from the status object: inline CSS, no script, no external
 * asset, refreshes itself every 5 s. Files with their lag first (what an operator looks for),
 * then outputs and their state, then the queue and recent alerts. Every string from the
 * status object (file paths, error texts, alert texts: attacker-controlled log content can
 * reach all of them) goes through lf_html_escape(); numbers are formatted here.
 * Pure functions; called on the HTTP thread.
 */
#include "agent/status_page.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "agent/base/json.h"
#include "agent/health.h"

/* The page lists at most this many files (the rest are counted). */
#define PAGE_MAX_FILES 200

int lf_html_escape(struct buf *b, const char *str)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    const unsigned char *end = s + strlen((const char *)s);
    int rc = 0;
    while (*s && rc == 0) {
        switch (*s) {
        case '&': rc = buf_adds(b, "&amp;"); s++; continue;
        case '<': rc = buf_adds(b, "&lt;"); s++; continue;
        case '>': rc = buf_adds(b, "&gt;"); s++; continue;
        case '"': rc = buf_adds(b, "&quot;"); s++; continue;
        case '\'': rc = buf_adds(b, "&#39;"); s++; continue;
        default: break;
        }
        if (*s < 0x20 || *s == 0x7F) {
            rc = buf_printf(b, "&#x%X;", *s == 0x7F ? 0x2421u : 0x2400u + *s); /* ␀..␟, ␡ */
            s++;
            continue;
        }
        size_t n = json_utf8_seq(s, (size_t)(end - s));
        if (n == 0) {
            rc = buf_adds(b, "\xEF\xBF\xBD");
            s++;
        } else {
            rc = buf_add(b, s, n);
            s += n;
        }
    }
    return rc;
}

/* 1536 -> "1.5 KiB"; exact bytes below 1 KiB. */
static int human_bytes(struct buf *b, long long v)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (v < 0)
        return buf_adds(b, "?");
    if (v < 1024)
        return buf_printf(b, "%lld B", v);
    double d = (double)v;
    int u = -1;
    while (d >= 1024 && u < 3) {
        d /= 1024;
        u++;
    }
    return buf_printf(b, "%.1f %s", d, units[u]);
}

static int human_age(struct buf *b, long long ms)
{
    if (ms < 0)
        ms = 0;
    long long s = ms / 1000;
    if (s < 120)
        return buf_printf(b, "%llds", s);
    if (s < 7200)
        return buf_printf(b, "%lldm", s / 60);
    if (s < 172800)
        return buf_printf(b, "%lldh", s / 3600);
    return buf_printf(b, "%lldd", s / 86400);
}

static const char page_css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.2em;color:#1b1f24;background:#fff}"
    "h1{font-size:1.3em;margin:0 0 .2em}h2{font-size:1.05em;margin:1.3em 0 .4em}"
    ".meta{color:#57606a}.health{padding:.5em .8em;border-radius:4px;margin:.6em 0;"
    "font-weight:600}.h200{background:#dafbe1;color:#116329}.hwarn{background:#fff8c5;"
    "color:#7d4e00}.h503{background:#ffebe9;"
    "color:#a40e26}table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;padding:.25em .6em;border-bottom:1px solid #d0d7de;"
    "vertical-align:top}th{background:#f6f8fa;font-weight:600}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "td.p{font-family:ui-monospace,monospace;word-break:break-all}"
    ".st{padding:.1em .5em;border-radius:3px;font-weight:600}.ok{background:#dafbe1;"
    "color:#116329}.retrying{background:#fff8c5;color:#7d4e00}.failed,.unknown{"
    "background:#ffebe9;color:#a40e26}.lag{color:#a40e26;font-weight:600}"
    ".err{color:#a40e26;font-family:ui-monospace,monospace;word-break:break-all}"
    ".empty{color:#57606a;font-style:italic}";

static int section_files(struct buf *b, const json_t *files)
{
    size_t n = json_array_size(files);
    int rc = buf_printf(b, "<h2>Files (%zu)</h2>", n);
    if (n == 0)
        return rc | buf_adds(b, "<p class=\"empty\">No file is being read.</p>");
    rc |= buf_adds(b, "<table id=\"files\"><tr><th>Input</th><th>Path</th><th>State</th>"
                      "<th>Size</th><th>Committed</th><th>Lag</th></tr>");
    for (size_t i = 0; i < n && i < PAGE_MAX_FILES; i++) {
        const json_t *f = json_array_get(files, i);
        long long lag = lf_json_num(f, "lag_bytes", -1);
        rc |= buf_adds(b, "<tr><td>");
        rc |= lf_html_escape(b, lf_json_str(f, "input"));
        rc |= buf_adds(b, "</td><td class=\"p\">");
        rc |= lf_html_escape(b, lf_json_str(f, "path"));
        rc |= buf_adds(b, "</td><td>");
        rc |= lf_html_escape(b, lf_json_str(f, "state"));
        rc |= buf_adds(b, "</td><td class=\"n\">");
        rc |= human_bytes(b, lf_json_num(f, "size", -1));
        rc |= buf_adds(b, "</td><td class=\"n\">");
        rc |= human_bytes(b, lf_json_num(f, "committed_offset", -1));
        rc |= buf_printf(b, "</td><td class=\"n%s\">", lag > 0 ? " lag" : "");
        rc |= human_bytes(b, lag);
        rc |= buf_adds(b, "</td></tr>");
    }
    rc |= buf_adds(b, "</table>");
    if (n > PAGE_MAX_FILES)
        rc |= buf_printf(b, "<p class=\"empty\">… and %zu more (see /status).</p>",
                         n - PAGE_MAX_FILES);
    return rc;
}

/* Outputs with a disk spool: what it holds, how old, how fast it drains (issue 17). */
static int section_spools(struct buf *b, const json_t *outs)
{
    int rc = 0, n = 0;
    for (size_t i = 0; i < json_array_size(outs); i++) {
        const json_t *o = json_array_get(outs, i);
        if (lf_json_num(o, "spool_max_bytes", -1) < 0)
            continue;
        if (!n++)
            rc |= buf_adds(b, "<h2>Spools</h2><table id=\"spools\"><tr><th>Output</th>"
                              "<th>On disk</th><th>Of</th><th>Events</th><th>Oldest</th>"
                              "<th>Drain/s</th><th>Dropped</th><th>Damaged</th></tr>");
        rc |= buf_adds(b, "<tr><td>");
        rc |= lf_html_escape(b, lf_json_str(o, "name"));
        rc |= buf_adds(b, "</td><td class=\"n\">");
        rc |= human_bytes(b, lf_json_num(o, "spool_bytes", 0));
        rc |= buf_adds(b, "</td><td class=\"n\">");
        rc |= human_bytes(b, lf_json_num(o, "spool_max_bytes", 0));
        rc |= buf_printf(b, "</td><td class=\"n\">%lld</td><td class=\"n\">",
                         lf_json_num(o, "spool_events", 0));
        long long age = lf_json_num(o, "spool_oldest_age_s", 0);
        rc |= age > 0 ? human_age(b, age * 1000) : buf_adds(b, "-");
        rc |= buf_printf(b, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
                            "<td class=\"n\">%lld</td></tr>",
                         lf_json_num(o, "spool_drain_rate", 0), lf_json_num(o, "spool_events_dropped", 0),
                         lf_json_num(o, "spool_corrupt_records", 0));
    }
    return n ? rc | buf_adds(b, "</table>") : rc;
}

static int section_outputs(struct buf *b, const json_t *outs, long long now_ms)
{
    size_t n = json_array_size(outs);
    int rc = buf_printf(b, "<h2>Outputs (%zu)</h2>", n);
    if (n == 0)
        return rc | buf_adds(b, "<p class=\"empty\">No output configured.</p>");
    rc |= buf_adds(b, "<table id=\"outputs\"><tr><th>Name</th><th>Type</th><th>State</th>"
                      "<th>Since</th><th>Acked</th><th>Retried</th><th>Dead</th>"
                      "<th>Queued batches</th><th>Last error</th></tr>");
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(outs, i);
        const char *st = lf_json_str(o, "state");
        const char *cls = strcmp(st, "ok") == 0         ? "ok"
                          : strcmp(st, "retrying") == 0 ? "retrying"
                          : strcmp(st, "failed") == 0   ? "failed"
                                                        : "unknown";
        rc |= buf_adds(b, "<tr><td>");
        rc |= lf_html_escape(b, lf_json_str(o, "name"));
        rc |= buf_adds(b, "</td><td>");
        rc |= lf_html_escape(b, lf_json_str(o, "type"));
        rc |= buf_printf(b, "</td><td><span class=\"st %s\">", cls);
        rc |= lf_html_escape(b, *st ? st : "?");
        rc |= buf_adds(b, "</span></td><td class=\"n\">");
        long long since = lf_json_num(o, "state_since_ms", 0);
        rc |= since > 0 ? human_age(b, now_ms - since) : buf_adds(b, "-");
        rc |= buf_printf(b, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
                            "<td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
                            "<td class=\"err\">",
                         lf_json_num(o, "events_acked", 0), lf_json_num(o, "events_retried", 0),
                         lf_json_num(o, "events_dead", 0), lf_json_num(o, "queue_batches", 0));
        rc |= lf_html_escape(b, lf_json_str(o, "last_error"));
        rc |= buf_adds(b, "</td></tr>");
    }
    return rc | buf_adds(b, "</table>");
}

/* 60 one-minute bars, oldest left, scaled to the hour's largest minute (inline SVG). */
static int spark(struct buf *b, const json_t *per, long long *total, long long *last)
{
    size_t n = json_array_size(per);
    long long max = 0;
    *total = 0;
    for (size_t i = 0; i < n; i++) {
        long long v = (long long)json_integer_value(json_array_get(per, i));
        *total += v;
        if (v > max)
            max = v;
    }
    *last = n ? (long long)json_integer_value(json_array_get(per, n - 1)) : 0;
    int rc = buf_printf(b, "<svg width=\"%zu\" height=\"32\" viewBox=\"0 0 %zu 32\" "
                           "fill=\"#3a6ea5\" role=\"img\"><title>max %lld per minute</title>",
                        n * 4, n * 4, max);
    for (size_t i = 0; i < n && max > 0; i++) {
        long long v = (long long)json_integer_value(json_array_get(per, i));
        long long h = v ? (v * 30 / max > 0 ? v * 30 / max : 1) : 0;
        if (h)
            rc |= buf_printf(b, "<rect x=\"%zu\" y=\"%lld\" width=\"3\" height=\"%lld\"/>",
                             i * 4, 32 - h, h);
    }
    return rc | buf_adds(b, "</svg>");
}

/* The last hour: events per second per input, 5xx per minute per group, alerts sent, so a
 * glance tells whether a flood is growing or over. */
static int section_charts(struct buf *b, const json_t *series)
{
    size_t n = json_array_size(series);
    if (n == 0)
        return 0;
    int rc = buf_adds(b, "<h2>Last hour</h2><table id=\"charts\"><tr><th>Series</th>"
                         "<th>Per minute (oldest left)</th><th>Hour</th><th>Last minute</th></tr>");
    static const char *const kinds[][2] = {{"events", "events/s of input "},
                                           {"5xx", "alert lines/min of "},
                                           {"alerts", "alerts sent by "}};
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < n; i++) {
            const json_t *s = json_array_get(series, i);
            if (strcmp(lf_json_str(s, "kind"), kinds[k][0]) != 0)
                continue;
            long long total, last;
            rc |= buf_printf(b, "<tr><td class=\"p\">%s", kinds[k][1]);
            rc |= lf_html_escape(b, lf_json_str(s, "name"));
            rc |= buf_adds(b, "</td><td>");
            rc |= spark(b, json_object_get(s, "per_minute"), &total, &last);
            if (k == 0)
                rc |= buf_printf(b, "</td><td class=\"n\">%lld</td><td class=\"n\">%.1f/s</td>"
                                    "</tr>", total, (double)last / 60.0);
            else
                rc |= buf_printf(b, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
                                    "</tr>", total, last);
        }
    return rc | buf_adds(b, "</table>");
}

static int section_alerts(struct buf *b, const json_t *alerts)
{
    size_t n = json_array_size(alerts);
    int rc = buf_printf(b, "<h2>Recent alerts (%zu)</h2>", n);
    if (n == 0)
        return rc | buf_adds(b, "<p class=\"empty\">No alert sent since the start.</p>");
    rc |= buf_adds(b, "<table id=\"alerts\"><tr><th>Time (UTC)</th><th>Text</th></tr>");
    for (size_t i = 0; i < n; i++) {
        const json_t *a = json_array_get(alerts, i);
        char ts[32] = "";
        long long ms = lf_json_num(a, "time_ms", -1);
        rc |= buf_adds(b, "<tr><td class=\"n\">");
        if (ms >= 0) {
            json_format_ts(ms, ts);
            rc |= buf_adds(b, ts);
        } else {
            rc |= lf_html_escape(b, lf_json_str(a, "time"));
        }
        rc |= buf_adds(b, "</td><td class=\"p\">");
        rc |= lf_html_escape(b, lf_json_str(a, "text"));
        rc |= buf_adds(b, "</td></tr>");
    }
    return rc | buf_adds(b, "</table>");
}

int lf_status_page_html(struct buf *b, const json_t *status, long long now_ms)
{
    char reason[512];
    int code = lf_health_eval(status, now_ms, LF_HEALTH_RETRY_BUDGET_MS, reason, sizeof reason);
    int rc = buf_adds(b, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                         "<meta http-equiv=\"refresh\" content=\"5\">"
                         "<meta name=\"viewport\" content=\"width=device-width\">"
                         "<title>logferry ");
    rc |= lf_html_escape(b, lf_json_str(status, "name"));
    rc |= buf_printf(b, "</title><style>%s</style></head><body><h1>logferry ", page_css);
    rc |= lf_html_escape(b, lf_json_str(status, "name"));
    rc |= buf_adds(b, "</h1><div class=\"meta\">version ");
    rc |= lf_html_escape(b, status ? lf_json_str(status, "version") : LOGFERRY_VERSION);
    rc |= buf_adds(b, " · up ");
    rc |= human_age(b, lf_json_num(status, "uptime_s", 0) * 1000);
    rc |= buf_adds(b, " · config ");
    rc |= lf_html_escape(b, lf_json_str(status, "config"));
    const json_t *q = json_object_get(status, "queue");
    rc |= buf_printf(b, " · queue %lld / %lld events, ", lf_json_num(q, "events", 0),
                     lf_json_num(q, "max_events", 0));
    rc |= human_bytes(b, lf_json_num(q, "bytes", 0));
    rc |= buf_adds(b, " / ");
    rc |= human_bytes(b, lf_json_num(q, "max_bytes", 0));
    /* healthy but some output retrying: amber, so the banner does not hide it */
    const char *hcls = code != 200 ? "h503" : strstr(reason, " retrying ") ? "hwarn" : "h200";
    rc |= buf_printf(b, "</div><div id=\"health\" class=\"health %s\">", hcls);
    rc |= lf_html_escape(b, reason);
    rc |= buf_adds(b, "</div>");
    rc |= section_files(b, json_object_get(status, "files"));
    rc |= section_outputs(b, json_object_get(status, "outputs"), now_ms);
    rc |= section_spools(b, json_object_get(status, "outputs"));
    rc |= section_charts(b, json_object_get(status, "series"));
    rc |= section_alerts(b, json_object_get(status, "alerts"));
    rc |= buf_adds(b, "<p class=\"meta\">Machine-readable: <a href=\"/status\">/status</a> · "
                      "<a href=\"/metrics\">/metrics</a> · <a href=\"/healthz\">/healthz</a>"
                      "</p></body></html>\n");
    return rc ? -1 : 0;
}
