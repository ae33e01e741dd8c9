/*
 * metrics.c - the agent's counters (lf_metrics, metrics.h), their Prometheus exposition for
 * GET /metrics, and the periodic "non-zero metrics" log line.
 *
 * Threads: every thread bumps lf_metrics with relaxed atomics; the HTTP thread renders
 * /metrics (reads only); the core's timer thread calls lf_metrics_log_summary(), which alone
 * owns the previous snapshot kept here in static storage. Per-output and per-file numbers
 * are not global counters: they come from the status object (the daemon's lf_status_json(),
 * registered with lf_metrics_set_status_provider()), so this file never touches the core's
 * output instances.
 */
#include "agent/base/clock.h"
#include "agent/base/json.h"
#include "agent/base/log.h"
#include "agent/base/metrics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct agent_metrics lf_metrics;

static _Atomic(json_t *(*)(void)) status_provider;

void lf_metrics_set_status_provider(json_t *(*provider)(void))
{
    atomic_store(&status_provider, provider);
}

/* Series per file are capped so a directory of 100,000 rotated files cannot blow up a
 * scrape; the per-input lag sums still cover every file. */
#define METRICS_MAX_FILE_SERIES 500

enum mkind { MK_COUNTER, MK_GAUGE, MK_GAUGE_SIGNED };

struct gmetric {
    const char *summary_name; /* key in the summary line */
    const char *prom_name;
    enum mkind kind;
    size_t off; /* offsetof(struct agent_metrics, member) */
    const char *help;
};

#define OFF(m) offsetof(struct agent_metrics, m)
static const struct gmetric global_metrics[] = {
    {"lines_read", "logferry_lines_read_total", MK_COUNTER, OFF(lines_read),
     "Complete lines cut from input files."},
    {"bytes_read", "logferry_bytes_read_total", MK_COUNTER, OFF(bytes_read),
     "Bytes read from input files."},
    {"events", "logferry_events_total", MK_COUNTER, OFF(events),
     "Events produced (after multiline grouping and filters)."},
    {"filtered", "logferry_events_filtered_total", MK_COUNTER, OFF(filtered),
     "Records dropped by include_lines/exclude_lines."},
    {"parse_failures", "logferry_parse_failures_total", MK_COUNTER, OFF(parse_failures),
     "Lines no parser pattern matched (shipped with the raw message)."},
    {"truncated", "logferry_lines_truncated_total", MK_COUNTER, OFF(truncated),
     "Lines cut at max_line_bytes."},
    {"files_opened", "logferry_files_opened_total", MK_COUNTER, OFF(files_opened),
     "Files opened for reading."},
    {"files_open", "logferry_files_open", MK_GAUGE_SIGNED, OFF(files_open),
     "Files currently open."},
    {"rotations", "logferry_rotations_total", MK_COUNTER, OFF(rotations),
     "Renames and truncations noticed."},
    {"registry_writes", "logferry_registry_writes_total", MK_COUNTER, OFF(registry_writes),
     "Registry (committed offsets) writes."},
    {"registry_errors", "logferry_registry_errors_total", MK_COUNTER, OFF(registry_errors),
     "Registry writes that failed."},
    {"registry_journal_cut_bytes", "logferry_registry_journal_cut_bytes_total", MK_COUNTER,
     OFF(registry_journal_cut_bytes),
     "Bytes of torn or corrupt registry journal tail cut at start (their offsets are read again)."},
    {"queue_events", "logferry_queue_events", MK_GAUGE_SIGNED, OFF(queue_events),
     "Events in flight (dispatched, not yet acknowledged by every output)."},
    {"queue_bytes", "logferry_queue_bytes", MK_GAUGE_SIGNED, OFF(queue_bytes),
     "Bytes of events in flight."},
    {"backpressure_ms", "logferry_backpressure_seconds_total", MK_COUNTER,
     OFF(backpressure_ms), "Time reading was paused because the queue was full."},
    {"inotify_overflows", "logferry_inotify_overflows_total", MK_COUNTER,
     OFF(inotify_overflows), "inotify queue overflows (followed by a full rescan)."},
    {"removed_given_up", "logferry_removed_files_given_up_total", MK_COUNTER,
     OFF(removed_given_up),
     "Rotated or deleted files closed with unread data after close_removed_after."},
    {"removed_bytes_given_up", "logferry_removed_bytes_given_up_total", MK_COUNTER,
     OFF(removed_bytes_given_up), "Bytes those files still held unread when closed."},
};
#undef OFF
#define N_GLOBAL (sizeof global_metrics / sizeof global_metrics[0])

/* Per-output numbers read from status.outputs[]; a key missing there gives no series. */
struct ometric {
    const char *key; /* key in the status output object and in the summary line */
    const char *prom_name;
    const char *help;
    int counter;
};
static const struct ometric output_metrics[] = {
    {"events_sent", "logferry_output_events_sent_total", "Events handed to the destination.",
     1},
    {"events_acked", "logferry_output_events_acked_total",
     "Events the destination confirmed.", 1},
    {"events_retried", "logferry_output_events_retried_total", "Resend attempts of events.",
     1},
    {"events_dead", "logferry_output_events_dead_total",
     "Events dead-lettered (written under data_dir/dead-letter).", 1},
    {"events_skipped", "logferry_output_events_skipped_total",
     "Events the output's `when` did not match.", 1},
    {"events_rerouted", "logferry_output_events_rerouted_total",
     "Events sent to topic_fallback because their topic template gave a missing, illegal or "
     "internal name.", 1},
    {"responses_refused", "logferry_output_responses_refused_total",
     "Server answers refused: larger than the bound derived from the request, or in an "
     "encoding not asked for (Elasticsearch).", 1},
    {"batches_acked", "logferry_output_batches_acked_total", "Batches acknowledged.", 1},
    {"alerts_sent", "logferry_output_alerts_sent_total", "Alert messages posted (Slack).", 1},
    {"alerts_folded", "logferry_output_alerts_folded_total",
     "Matching lines folded into alert summaries instead of own messages (Slack).", 1},
    {"records_repaired", "logferry_output_records_repaired_total",
     "Torn last records (left by a killed run) ended with a newline on open (file).", 1},
    {"queue_batches", "logferry_output_queue_batches",
     "Batches waiting for or inside this output.", 0},
    {"spool_bytes", "logferry_output_spool_bytes", "Bytes of the output's disk spool.", 0},
    {"spool_events", "logferry_output_spool_events",
     "Events in the spool not yet acknowledged by the output.", 0},
    {"spool_oldest_age_s", "logferry_output_spool_oldest_age_seconds",
     "Age of the oldest record still in the spool.", 0},
    {"spool_drain_rate", "logferry_output_spool_drain_events_per_second",
     "Events per second acknowledged from the spool (last seconds).", 0},
    {"spool_events_spooled", "logferry_output_spool_events_spooled_total",
     "Events written to the spool.", 1},
    {"spool_events_dropped", "logferry_output_spool_events_dropped_total",
     "Events dropped by spool_full = drop_oldest.", 1},
    {"spool_corrupt_records", "logferry_output_spool_corrupt_records_total",
     "Damaged spool records or stretches skipped at replay.", 1},
    {"spool_torn_tails", "logferry_output_spool_torn_tails_total",
     "Spool segments whose last record was cut short (a crash), cut at replay.", 1},
    {"spool_write_errors", "logferry_output_spool_write_errors_total",
     "Spool writes that failed (the output then held its batches in memory).", 1},
};
#define N_OUTPUT (sizeof output_metrics / sizeof output_metrics[0])

static long long gm_value(const struct gmetric *g)
{
    const char *base = (const char *)&lf_metrics;
    if (g->kind == MK_GAUGE_SIGNED)
        return (long long)METRIC_GET(*(atomic_llong *)(uintptr_t)(base + g->off));
    return (long long)METRIC_GET(*(atomic_ullong *)(uintptr_t)(base + g->off));
}

/* Label values: backslash, double quote and newline are escaped (exposition format 0.0.4);
 * jansson strings are valid UTF-8 already. */
static int prom_label(struct buf *b, const char *s)
{
    for (; *s; s++) {
        int rc;
        if (*s == '\\')
            rc = buf_add(b, "\\\\", 2);
        else if (*s == '"')
            rc = buf_add(b, "\\\"", 2);
        else if (*s == '\n')
            rc = buf_add(b, "\\n", 2);
        else
            rc = buf_addc(b, *s);
        if (rc)
            return -1;
    }
    return 0;
}

static int prom_head(struct buf *b, const char *name, const char *help, const char *type)
{
    return buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int json_num(const json_t *o, const char *key, long long *out)
{
    json_t *v = json_object_get(o, key);
    if (json_is_integer(v)) {
        *out = (long long)json_integer_value(v);
        return 1;
    }
    if (json_is_real(v)) {
        *out = (long long)json_real_value(v);
        return 1;
    }
    return 0;
}

static int render_globals(struct buf *b, const json_t *status)
{
    int rc = 0;
    for (size_t i = 0; i < N_GLOBAL; i++) {
        const struct gmetric *g = &global_metrics[i];
        rc |= prom_head(b, g->prom_name, g->help, g->kind == MK_COUNTER ? "counter" : "gauge");
        if (g->off == offsetof(struct agent_metrics, backpressure_ms))
            rc |= buf_printf(b, "%s %.3f\n", g->prom_name, (double)gm_value(g) / 1000.0);
        else
            rc |= buf_printf(b, "%s %lld\n", g->prom_name, gm_value(g));
    }
    const json_t *q = json_object_get(status, "queue");
    long long v;
    if (json_num(q, "max_events", &v)) {
        rc |= prom_head(b, "logferry_queue_max_events", "Queue budget in events.", "gauge");
        rc |= buf_printf(b, "logferry_queue_max_events %lld\n", v);
    }
    if (json_num(q, "max_bytes", &v)) {
        rc |= prom_head(b, "logferry_queue_max_bytes", "Queue budget in bytes.", "gauge");
        rc |= buf_printf(b, "logferry_queue_max_bytes %lld\n", v);
    }
    if (json_num(status, "uptime_s", &v)) {
        rc |= prom_head(b, "logferry_uptime_seconds", "Seconds since the agent started.",
                        "gauge");
        rc |= buf_printf(b, "logferry_uptime_seconds %lld\n", v);
    }
    rc |= prom_head(b, "logferry_build_info", "Version of the running agent.", "gauge");
    rc |= buf_printf(b, "logferry_build_info{version=\"%s\"} 1\n", LOGFERRY_VERSION);
    return rc ? -1 : 0;
}

/* Per destination host, for outputs whose status has "hosts" (the Logstash output). */
static const struct ometric host_metrics[] = {
    {"up", "logferry_output_host_up", "1 while the output holds a connection to the host.", 0},
    {"windows", "logferry_output_host_windows_total", "Windows sent to the host.", 1},
    {"events_acked", "logferry_output_host_events_acked_total",
     "Events the host ACKed in full windows.", 1},
    {"events_resent", "logferry_output_host_events_resent_total",
     "Events of the host's failed windows that were sent again.", 1},
    {"failures", "logferry_output_host_failures_total",
     "Connection, TLS, timeout and protocol failures of the host.", 1},
    {"ack_latency_ms_avg", "logferry_output_host_ack_latency_ms",
     "Average time from a window's send to its last ACK, in milliseconds.", 0},
};

static int render_hosts(struct buf *b, const json_t *outs)
{
    int rc = 0;
    for (size_t m = 0; m < sizeof host_metrics / sizeof host_metrics[0]; m++) {
        const struct ometric *hm = &host_metrics[m];
        int headed = 0;
        for (size_t i = 0; i < json_array_size(outs); i++) {
            const json_t *o = json_array_get(outs, i);
            const json_t *hosts = json_object_get(o, "hosts");
            for (size_t h = 0; h < json_array_size(hosts); h++) {
                const json_t *ho = json_array_get(hosts, h);
                long long v;
                if (!json_num(ho, hm->key, &v))
                    continue;
                if (!headed++)
                    rc |= prom_head(b, hm->prom_name, hm->help, hm->counter ? "counter" : "gauge");
                rc |= buf_printf(b, "%s{output=\"", hm->prom_name);
                rc |= prom_label(b, lf_json_str(o, "name"));
                rc |= buf_adds(b, "\",host=\"");
                rc |= prom_label(b, lf_json_str(ho, "host"));
                rc |= buf_printf(b, "\"} %lld\n", v);
            }
        }
    }
    return rc;
}

static int render_outputs(struct buf *b, const json_t *outs)
{
    int rc = 0;
    size_t n = json_array_size(outs);
    if (n == 0)
        return 0;
    for (size_t m = 0; m < N_OUTPUT; m++) {
        const struct ometric *om = &output_metrics[m];
        int headed = 0;
        for (size_t i = 0; i < n; i++) {
            const json_t *o = json_array_get(outs, i);
            long long v;
            if (!json_num(o, om->key, &v))
                continue;
            if (!headed++)
                rc |= prom_head(b, om->prom_name, om->help, om->counter ? "counter" : "gauge");
            rc |= buf_printf(b, "%s{output=\"", om->prom_name);
            rc |= prom_label(b, lf_json_str(o, "name"));
            rc |= buf_adds(b, "\",type=\"");
            rc |= prom_label(b, lf_json_str(o, "type"));
            rc |= buf_printf(b, "\"} %lld\n", v);
        }
    }
    /* The state as an enum: one series per possible state, 1 for the current one. */
    static const char *const states[] = {"ok", "retrying", "failed"};
    rc |= prom_head(b, "logferry_output_state",
                    "1 for the output's current state (ok, retrying, failed), else 0.",
                    "gauge");
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(outs, i);
        for (int s = 0; s < 3; s++) {
            rc |= buf_adds(b, "logferry_output_state{output=\"");
            rc |= prom_label(b, lf_json_str(o, "name"));
            rc |= buf_adds(b, "\",type=\"");
            rc |= prom_label(b, lf_json_str(o, "type"));
            rc |= buf_printf(b, "\",state=\"%s\"} %d\n", states[s],
                             strcmp(lf_json_str(o, "state"), states[s]) == 0);
        }
    }
    return rc | render_hosts(b, outs) ? -1 : 0;
}

static int render_files(struct buf *b, const json_t *files)
{
    int rc = 0;
    size_t n = json_array_size(files);
    /* Per input: sum of lag over its files (inputs listed in order of first appearance). */
    json_t *by_input = json_object();
    json_t *order = json_array();
    if (!by_input || !order) {
        json_decref(by_input);
        json_decref(order);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *f = json_array_get(files, i);
        long long lag = 0;
        json_num(f, "lag_bytes", &lag);
        const char *in = lf_json_str(f, "input");
        json_t *cur = json_object_get(by_input, in);
        if (!cur) {
            json_object_set_new(by_input, in, json_integer(lag));
            json_array_append_new(order, json_string(in));
        } else {
            json_integer_set(cur, json_integer_value(cur) + lag);
        }
    }
    rc |= prom_head(b, "logferry_input_lag_bytes",
                    "Bytes written to the input's files but not yet committed (acknowledged "
                    "by every output).",
                    "gauge");
    for (size_t i = 0; i < json_array_size(order); i++) {
        const char *in = json_string_value(json_array_get(order, i));
        rc |= buf_adds(b, "logferry_input_lag_bytes{input=\"");
        rc |= prom_label(b, in);
        rc |= buf_printf(b, "\"} %lld\n",
                         (long long)json_integer_value(json_object_get(by_input, in)));
    }
    json_decref(by_input);
    json_decref(order);

    static const struct {
        const char *key, *name, *help;
    } per_file[] = {
        {"lag_bytes", "logferry_file_lag_bytes", "Bytes of the file not yet committed."},
        {"size", "logferry_file_size_bytes", "Size of the file."},
        {"committed_offset", "logferry_file_committed_offset_bytes",
         "Offset committed to the registry (acknowledged by every output)."},
    };
    size_t shown = n < METRICS_MAX_FILE_SERIES ? n : METRICS_MAX_FILE_SERIES;
    for (size_t k = 0; k < sizeof per_file / sizeof per_file[0]; k++) {
        rc |= prom_head(b, per_file[k].name, per_file[k].help, "gauge");
        for (size_t i = 0; i < shown; i++) {
            const json_t *f = json_array_get(files, i);
            long long v;
            if (!json_num(f, per_file[k].key, &v))
                continue;
            rc |= buf_printf(b, "%s{input=\"", per_file[k].name);
            rc |= prom_label(b, lf_json_str(f, "input"));
            rc |= buf_adds(b, "\",path=\"");
            rc |= prom_label(b, lf_json_str(f, "path"));
            rc |= buf_printf(b, "\"} %lld\n", v);
        }
    }
    rc |= prom_head(b, "logferry_file_series_dropped",
                    "Files left out of the per-file series (cap of 500).", "gauge");
    rc |= buf_printf(b, "logferry_file_series_dropped %zu\n", n - shown);
    return rc ? -1 : 0;
}

int lf_metrics_prometheus(struct buf *b, const json_t *status)
{
    int rc = render_globals(b, status);
    rc |= render_outputs(b, json_object_get(status, "outputs"));
    rc |= render_files(b, json_object_get(status, "files"));
    rc |= prom_head(b, "logferry_up", "1 when the agent's status was available.", "gauge");
    rc |= buf_printf(b, "logferry_up %d\n", status != NULL);
    return rc ? -1 : 0;
}

/* ---- the periodic summary line ---- */

static long long prev_global[N_GLOBAL];
static json_t *prev_outputs; /* {"name": {"events_acked": N, ...}} */

void lf_metrics_summary_reset(void)
{
    memset(prev_global, 0, sizeof prev_global);
    json_decref(prev_outputs);
    prev_outputs = NULL;
}

/* Adds the per-output counter deltas to `obj` ("output": {"kafka": {"events_acked": 5}}) and
 * replaces the remembered values. */
static void summary_outputs(json_t *obj, const json_t *outs)
{
    json_t *now = json_object();
    json_t *delta_all = json_object();
    for (size_t i = 0; i < json_array_size(outs); i++) {
        const json_t *o = json_array_get(outs, i);
        const char *name = lf_json_str(o, "name");
        json_t *prev = json_object_get(prev_outputs, name);
        json_t *cur = json_object();
        json_t *delta = json_object();
        for (size_t m = 0; m < N_OUTPUT; m++) {
            long long v, p = 0;
            if (!json_num(o, output_metrics[m].key, &v))
                continue;
            json_object_set_new(cur, output_metrics[m].key, json_integer(v));
            json_num(prev, output_metrics[m].key, &p);
            long long d = output_metrics[m].counter ? v - p : v;
            if (d != 0)
                json_object_set_new(delta, output_metrics[m].key, json_integer(d));
        }
        const char *state = lf_json_str(o, "state");
        if (*state && strcmp(state, "ok") != 0)
            json_object_set_new(delta, "state", json_string(state));
        json_object_set_new(now, name, cur);
        if (json_object_size(delta))
            json_object_set_new(delta_all, name, delta);
        else
            json_decref(delta);
    }
    if (json_object_size(delta_all))
        json_object_set_new(obj, "output", delta_all);
    else
        json_decref(delta_all);
    json_decref(prev_outputs);
    prev_outputs = now;
}

void lf_metrics_log_summary(long period_ms)
{
    json_t *obj = json_object();
    if (!obj)
        return;
    for (size_t i = 0; i < N_GLOBAL; i++) {
        long long v = gm_value(&global_metrics[i]);
        long long d = global_metrics[i].kind == MK_COUNTER ? v - prev_global[i] : v;
        prev_global[i] = v;
        if (d != 0)
            json_object_set_new(obj, global_metrics[i].summary_name, json_integer(d));
    }
    json_t *(*provider)(void) = atomic_load(&status_provider);
    json_t *status = provider ? provider() : NULL;
    summary_outputs(obj, json_object_get(status, "outputs"));
    long long lag = 0, v;
    const json_t *files = json_object_get(status, "files");
    for (size_t i = 0; i < json_array_size(files); i++)
        if (json_num(json_array_get(files, i), "lag_bytes", &v))
            lag += v;
    if (lag)
        json_object_set_new(obj, "lag_bytes", json_integer(lag));
    json_decref(status);

    if (json_object_size(obj)) {
        char *txt = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (txt) {
            LF_LOG(LF_INFO, "metrics", "non-zero metrics in the last %lds: %s",
                   (period_ms + 500) / 1000, txt);
            free(txt);
        }
    }
    json_decref(obj);
}
