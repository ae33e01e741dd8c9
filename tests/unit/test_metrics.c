/*
 * test_metrics.c - the Prometheus exposition, the periodic summary line and the /healthz
 * rule (agent/base/metrics.c, agent/health.c), as pure functions of lf_metrics and a status
 * object.
 *
 * The summary's status provider is a fake returning `fake_status` (the real one,
 * lf_status_json(), lives in the daemon and needs a running agent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/base/metrics.h"
#include "agent/health.h"
#include "agent/http.h"
#include "agent/status_page.h"
#include "agent/base/log.h"
#include "agent/base/metrics.h"
#include "agent/status.h"

static json_t *fake_status;
static json_t *fake_status_json(void) { return fake_status ? json_incref(fake_status) : NULL; }

static json_t *sample_status(void)
{
    json_error_t e;
    json_t *st = json_loads(
        "{\"name\":\"was-1\",\"version\":\"0.1.0\",\"uptime_s\":42,"
        "\"files\":["
        " {\"input\":\"nginx\",\"path\":\"/var/log/nginx/access.log\",\"size\":1000,"
        "  \"committed_offset\":900,\"lag_bytes\":100,\"state\":\"open\"},"
        " {\"input\":\"nginx\",\"path\":\"/var/log/nginx/a\\\"b\\\\c\\nd.log\",\"size\":50,"
        "  \"committed_offset\":20,\"lag_bytes\":30,\"state\":\"open\"},"
        " {\"input\":\"app\",\"path\":\"/var/log/app/app.log\",\"size\":7,"
        "  \"committed_offset\":7,\"lag_bytes\":0,\"state\":\"open\"}],"
        "\"outputs\":["
        " {\"name\":\"kafka\",\"type\":\"kafka\",\"state\":\"ok\",\"events_sent\":10,"
        "  \"events_acked\":9,\"events_retried\":2,\"events_dead\":1,\"queue_batches\":3},"
        " {\"name\":\"slack\",\"type\":\"slack\",\"state\":\"retrying\",\"state_since_ms\":1000,"
        "  \"alerts_sent\":4,\"alerts_folded\":6,\"events_acked\":5}],"
        "\"queue\":{\"events\":10,\"bytes\":2048,\"max_events\":65536,\"max_bytes\":16777216},"
        "\"alerts\":[]}",
        0, &e);
    assert_non_null(st);
    return st;
}

static char *render(const json_t *st)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(lf_metrics_prometheus(&b, st), 0);
    assert_int_equal(buf_cstr(&b), 0);
    return b.p;
}

static void prometheus_exposes_global_counters_with_help_and_type(void **state)
{
    memset(&lf_metrics, 0, sizeof lf_metrics);
    METRIC_ADD(lf_metrics.lines_read, 1234);
    METRIC_ADD(lf_metrics.parse_failures, 7);
    METRIC_SET(lf_metrics.files_open, 3);
    METRIC_ADD(lf_metrics.registry_writes, 5);
    METRIC_ADD(lf_metrics.backpressure_ms, 1500);
    METRIC_SET(lf_metrics.queue_events, 11);
    char *txt = render(NULL);
    assert_non_null(strstr(txt, "# TYPE logferry_lines_read_total counter\n"));
    assert_non_null(strstr(txt, "\nlogferry_lines_read_total 1234\n"));
    assert_non_null(strstr(txt, "\nlogferry_parse_failures_total 7\n"));
    assert_non_null(strstr(txt, "# TYPE logferry_files_open gauge\nlogferry_files_open 3\n"));
    assert_non_null(strstr(txt, "\nlogferry_registry_writes_total 5\n"));
    assert_non_null(strstr(txt, "\nlogferry_queue_events 11\n"));
    assert_non_null(strstr(txt, "\nlogferry_backpressure_seconds_total 1.500\n"));
    assert_non_null(strstr(txt, "\nlogferry_up 0\n")); /* no status: agent not running */
    /* every sample line belongs to a family announced by # TYPE before it */
    for (char *line = strtok(txt, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        assert_non_null(strchr(line, ' '));
        assert_true(strncmp(line, "logferry_", 9) == 0);
    }
    free(txt);
}

static void prometheus_per_output_and_per_input_lag_from_status(void **state)
{
    memset(&lf_metrics, 0, sizeof lf_metrics);
    json_t *st = sample_status();
    char *txt = render(st);
    assert_non_null(strstr(txt, "logferry_output_events_acked_total{output=\"kafka\",type=\"kafka\"} 9\n"));
    assert_non_null(strstr(txt, "logferry_output_events_retried_total{output=\"kafka\",type=\"kafka\"} 2\n"));
    assert_non_null(strstr(txt, "logferry_output_events_dead_total{output=\"kafka\",type=\"kafka\"} 1\n"));
    assert_non_null(strstr(txt, "logferry_output_alerts_sent_total{output=\"slack\",type=\"slack\"} 4\n"));
    assert_non_null(strstr(txt, "logferry_output_alerts_folded_total{output=\"slack\",type=\"slack\"} 6\n"));
    assert_non_null(strstr(txt, "logferry_output_state{output=\"slack\",type=\"slack\",state=\"retrying\"} 1\n"));
    assert_non_null(strstr(txt, "logferry_output_state{output=\"slack\",type=\"slack\",state=\"ok\"} 0\n"));
    assert_non_null(strstr(txt, "logferry_output_queue_batches{output=\"kafka\",type=\"kafka\"} 3\n"));
    /* slack has no events_dead in its status: no invented zero series */
    assert_null(strstr(txt, "logferry_output_events_dead_total{output=\"slack\""));
    /* lag summed per input */
    assert_non_null(strstr(txt, "logferry_input_lag_bytes{input=\"nginx\"} 130\n"));
    assert_non_null(strstr(txt, "logferry_input_lag_bytes{input=\"app\"} 0\n"));
    assert_non_null(strstr(txt, "logferry_file_lag_bytes{input=\"nginx\",path=\"/var/log/nginx/access.log\"} 100\n"));
    assert_non_null(strstr(txt, "logferry_queue_max_events 65536\n"));
    assert_non_null(strstr(txt, "logferry_up 1\n"));
    free(txt);
    json_decref(st);
}

static void prometheus_label_values_escape_quote_backslash_newline(void **state)
{
    json_t *st = sample_status();
    char *txt = render(st);
    /* path a"b\c<newline>d.log */
    assert_non_null(strstr(txt, "path=\"/var/log/nginx/a\\\"b\\\\c\\nd.log\"} 30\n"));
    /* no raw newline inside any label: every line that starts a sample has balanced braces */
    for (char *line = strtok(txt, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char *open = strchr(line, '{');
        if (open)
            assert_non_null(strstr(open, "} "));
    }
    free(txt);
    json_decref(st);
}

static void prometheus_fails_cleanly_when_the_buffer_cap_is_hit(void **state)
{
    json_t *st = sample_status();
    struct buf b;
    buf_init(&b, 256);
    assert_int_equal(lf_metrics_prometheus(&b, st), -1);
    assert_true(b.len <= 256);
    buf_free(&b);
    json_decref(st);
}

/* Runs lf_metrics_log_summary with stderr captured; returns what it logged (malloc'd). */
static char *capture_summary(long period_ms)
{
    char path[] = "/tmp/test_metrics_log.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    lf_metrics_log_summary(period_ms);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t n = lseek(fd, 0, SEEK_END);
    char *out = calloc(1, (size_t)n + 1);
    assert_int_equal(pread(fd, out, (size_t)n, 0), n);
    close(fd);
    unlink(path);
    return out;
}

static void summary_logs_only_the_period_deltas_of_changed_counters(void **state)
{
    memset(&lf_metrics, 0, sizeof lf_metrics);
    lf_metrics_summary_reset();
    fake_status = NULL;
    METRIC_ADD(lf_metrics.lines_read, 100);
    METRIC_ADD(lf_metrics.events, 90);
    char *first = capture_summary(30000);
    assert_non_null(strstr(first, "INFO  [metrics] non-zero metrics in the last 30s: "));
    assert_non_null(strstr(first, "\"lines_read\":100"));
    assert_non_null(strstr(first, "\"events\":90"));
    assert_null(strstr(first, "parse_failures"));
    assert_int_equal(strchr(first, '\n') - first + 1, (long)strlen(first)); /* one line */
    free(first);

    METRIC_ADD(lf_metrics.lines_read, 5);
    char *second = capture_summary(30000);
    assert_non_null(strstr(second, "\"lines_read\":5"));  /* the delta, not the total */
    assert_null(strstr(second, "\"events\""));             /* unchanged: left out */
    free(second);

    char *third = capture_summary(30000);
    assert_string_equal(third, ""); /* nothing changed, no gauge set: no line */
    free(third);
}

static void summary_reports_gauges_and_per_output_deltas(void **state)
{
    memset(&lf_metrics, 0, sizeof lf_metrics);
    lf_metrics_summary_reset();
    fake_status = sample_status();
    METRIC_SET(lf_metrics.files_open, 2);
    char *first = capture_summary(30000);
    assert_non_null(strstr(first, "\"files_open\":2"));
    assert_non_null(strstr(first, "\"kafka\":{\"events_sent\":10,\"events_acked\":9"));
    assert_non_null(strstr(first, "\"state\":\"retrying\"")); /* slack is not ok */
    assert_non_null(strstr(first, "\"lag_bytes\":130"));
    free(first);
    /* kafka acks 5 more: the next line says +5 */
    json_object_set_new(json_array_get(json_object_get(fake_status, "outputs"), 0),
                        "events_acked", json_integer(14));
    char *second = capture_summary(30000);
    assert_non_null(strstr(second, "\"kafka\":{\"events_acked\":5"));
    free(second);
    json_decref(fake_status);
    fake_status = NULL;
    lf_metrics_summary_reset();
}

static void summary_is_json_inside_json_logs(void **state)
{
    memset(&lf_metrics, 0, sizeof lf_metrics);
    lf_metrics_summary_reset();
    METRIC_ADD(lf_metrics.lines_read, 3);
    lf_log_set_json(1);
    char *line = capture_summary(30000);
    lf_log_set_json(0);
    json_error_t e;
    json_t *rec = json_loads(line, 0, &e);
    assert_non_null(rec);
    assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "log"), "logger")),
                        "metrics");
    assert_non_null(strstr(json_string_value(json_object_get(rec, "message")), "\"lines_read\":3"));
    json_decref(rec);
    free(line);
}

static json_t *outputs_status(const char *json_outputs)
{
    char txt[1024];
    snprintf(txt, sizeof txt, "{\"outputs\":%s}", json_outputs);
    json_error_t e;
    json_t *st = json_loads(txt, 0, &e);
    assert_non_null(st);
    return st;
}

static void healthz_ok_when_every_output_ok(void **state)
{
    char r[256];
    json_t *st = outputs_status("[{\"name\":\"k\",\"state\":\"ok\"},{\"name\":\"f\",\"state\":\"ok\"}]");
    assert_int_equal(lf_health_eval(st, 10000, 300000, r, sizeof r), 200);
    assert_string_equal(r, "ok: 2 output(s) healthy");
    json_decref(st);
}

static void healthz_ok_while_retrying_within_budget_503_after(void **state)
{
    char r[512];
    json_t *st = outputs_status("[{\"name\":\"es\",\"state\":\"retrying\",\"state_since_ms\":1000,"
                                "\"last_error\":\"connection refused\"}]");
    assert_int_equal(lf_health_eval(st, 1000 + 300000, 300000, r, sizeof r), 200);
    assert_non_null(strstr(r, "es retrying for 300s"));
    assert_int_equal(lf_health_eval(st, 1000 + 300001, 300000, r, sizeof r), 503);
    assert_non_null(strstr(r, "unhealthy: output es retrying for 300s (budget 300s): connection refused"));
    json_decref(st);
}

static void healthz_503_when_failed_unknown_or_not_running(void **state)
{
    char r[512];
    json_t *st = outputs_status("[{\"name\":\"k\",\"state\":\"ok\"},{\"name\":\"s\",\"state\":"
                                "\"failed\",\"state_since_ms\":0,\"last_error\":\"HTTP 404\"}]");
    assert_int_equal(lf_health_eval(st, 5000, 300000, r, sizeof r), 503);
    assert_non_null(strstr(r, "output s failed 5s ago: HTTP 404"));
    json_decref(st);
    st = outputs_status("[{\"name\":\"k\",\"state\":\"weird\"}]");
    assert_int_equal(lf_health_eval(st, 5000, 300000, r, sizeof r), 503);
    json_decref(st);
    assert_int_equal(lf_health_eval(NULL, 5000, 300000, r, sizeof r), 503);
    assert_string_equal(r, "unhealthy: the agent is not running");
}

int main(void)
{
    lf_metrics_set_status_provider(fake_status_json);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prometheus_exposes_global_counters_with_help_and_type),
        cmocka_unit_test(prometheus_per_output_and_per_input_lag_from_status),
        cmocka_unit_test(prometheus_label_values_escape_quote_backslash_newline),
        cmocka_unit_test(prometheus_fails_cleanly_when_the_buffer_cap_is_hit),
        cmocka_unit_test(summary_logs_only_the_period_deltas_of_changed_counters),
        cmocka_unit_test(summary_reports_gauges_and_per_output_deltas),
        cmocka_unit_test(summary_is_json_inside_json_logs),
        cmocka_unit_test(healthz_ok_when_every_output_ok),
        cmocka_unit_test(healthz_ok_while_retrying_within_budget_503_after),
        cmocka_unit_test(healthz_503_when_failed_unknown_or_not_running),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
