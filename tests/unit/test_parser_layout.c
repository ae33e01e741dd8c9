/*
 * test_parser_layout.c - parsers compiled from an application's layout (parsers/layout*.c):
 * real layouts from public projects (tests/data/layouts, SOURCE.md) give the expected ECS
 * fields; nginx's `combined` layout gives exactly what nginx_combined gives on Filebeat's
 * fixtures; unsupported conversion words, variables and directives are configuration
 * errors naming themselves and their column; durations become ns; a layout that prints
 * stack traces joins them (multiline = java by default).
 *
 * floor: parsers
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_parser_util.h"

static char *slurp(const char *dir, const char *name, const char *suffix, size_t *n)
{
    const char *src = getenv("LOGFERRY_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/%s/%s%s", src && *src ? src : LOGFERRY_SOURCE_DIR,
             dir, name, suffix);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot read %s", path);
    char *d = malloc(1 << 20);
    assert_non_null(d);
    *n = fread(d, 1, (1 << 20) - 1, fp);
    d[*n] = '\0';
    fclose(fp);
    return d;
}

/* Feeds every line of a file as the tail would (byte offsets), then flushes. */
static void feed_all(struct tp *t, const char *log, size_t n)
{
    uint64_t off = 0;
    for (const char *p = log; p < log + n;) {
        const char *nl = memchr(p, '\n', (size_t)(log + n - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(log + n - p);
        uint64_t end = off + l + (nl ? 1 : 0);
        assert_int_equal(lineproc_feed(t->lp, t->st, &t->eb, p, l, off, end, 0, 1, tp_out, t),
                         0);
        off = end;
        p += l + 1;
    }
    tp_flush(t);
}

/* Leaves of a nested event, dotted, minus what every event has. */
static int count_fields(json_t *o, const char *prefix)
{
    int n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        char dotted[256];
        snprintf(dotted, sizeof dotted, "%s%s", prefix, k);
        if (json_is_object(v)) {
            char p2[260];
            snprintf(p2, sizeof p2, "%s.", dotted);
            n += count_fields(v, p2);
        } else if (strcmp(dotted, "message") && strcmp(dotted, "host.name") &&
                   strcmp(dotted, "log.file.path") && strcmp(dotted, "log.offset") &&
                   strcmp(dotted, "log.flags")) {
            n++;
        }
    }
    return n;
}

static void check_case(const char *name)
{
    size_t cn, ln, en;
    char *conf = slurp("layouts", name, ".conf", &cn);
    char *log = slurp("layouts", name, ".log", &ln);
    char *exp = slurp("layouts", name, "-expected.ndjson", &en);
    struct tp t;
    assert_int_equal(tp_open(&t, conf, "in"), 0);
    feed_all(&t, log, ln);
    int ev = 0;
    for (char *p = exp; *p; ev++) {
        char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        json_error_t err;
        json_t *want = json_loadb(p, l, 0, &err);
        assert_non_null(want);
        if (ev >= t.n)
            fail_msg("%s: %d events, more expected", name, t.n);
        if (t.rec[ev].flags & EV_PARSE_FAILURE)
            fail_msg("%s event %d: parse_failure: %s", name, ev + 1, t.rec[ev].json);
        const char *key;
        json_t *w;
        int nwant = 0;
        json_object_foreach(want, key, w) {
            json_t *got = tp_path(t.rec[ev].j, key);
            if (!got || !json_equal(got, w))
                fail_msg("%s event %d field %s: got %s", name, ev + 1, key, t.rec[ev].json);
            nwant++;
        }
        /* no field beyond the expected ones (the read time stands in for @timestamp when
         * the layout has no date) */
        int extra = json_object_get(want, "@timestamp") ? 0 : 1;
        if (count_fields(t.rec[ev].j, "") != nwant + extra)
            fail_msg("%s event %d: unexpected fields: %s", name, ev + 1, t.rec[ev].json);
        json_decref(want);
        p += l + (nl ? 1 : 0);
    }
    assert_int_equal(ev, t.n);
    tp_close(&t);
    free(conf);
    free(log);
    free(exp);
}

static void spring_boot_file_pattern_fields_and_stack_trace(void **s)
{
    (void)s;
    check_case("spring-boot-file"); /* 6 lines, 3 events: the trace joined to its line */
}
static void logback_spring_console_pattern_with_timezone(void **s)
{
    (void)s;
    check_case("appmaker");
}
static void logback_time_only_truncated_level_and_xex(void **s)
{
    (void)s;
    check_case("shiro-bowl");
}
static void issue19_pattern_with_zone_in_date(void **s)
{
    (void)s;
    check_case("issue19");
}
static void log4j2_pattern_mdc_trace_ids_highlight_line(void **s)
{
    (void)s;
    check_case("log4j2-mdc");
}
static void logback_replace_around_msg_keeps_log_message(void **s)
{
    (void)s;
    check_case("lambda-metrics");
}
static void log4j2_unix_millis_date_is_timestamp(void **s)
{
    (void)s;
    check_case("swirlds-unix-millis"); /* 5 lines, 3 events: the trace joined */
}
static void log4j2_replace_one_field_keeps_it_several_become_labels(void **s)
{
    (void)s;
    check_case("log4j2-replace");
}

/* The replaced text is matched permissively: what the substitution left (a blank, nothing,
 * characters the inner conversion never prints) still matches, and an empty result is no
 * field. */
static void replace_matches_whatever_the_substitution_left(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t,
                             "[parser p]\nlogback_pattern = %d{UNIX_MILLIS} "
                             "%replace(%-5level){'O', '0'} [%replace(%thread){'\\s', ''}] "
                             "%replace(%d{HH:mm}){':', 'h'} %msg%n%nopex\n"
                             "[input in]\nparser = p\n",
                             "in"),
                     0);
    tp_off = 0;
    tp_feed(&t, "1765000000250 INF0  [http-nio-8080-exec-1] 10h05 x");
    tp_feed(&t, "1765000000250 INFO [] 10h05 empty thread");
    assert_int_equal(t.n, 2);
    assert_false(tp_failed(&t, 0));
    assert_string_equal(tp_str(&t, 0, "@timestamp"), "2025-12-06T05:46:40.250Z");
    assert_string_equal(tp_str(&t, 0, "log.level"), "INF0");
    assert_string_equal(tp_str(&t, 0, "process.thread.name"), "http-nio-8080-exec-1");
    assert_string_equal(tp_str(&t, 0, "labels.time"), "10h05");
    assert_string_equal(tp_str(&t, 0, "log.message"), "x");
    assert_false(tp_failed(&t, 1));
    assert_null(tp_path(t.rec[1].j, "process.thread.name"));
    assert_string_equal(tp_str(&t, 1, "log.message"), "empty thread");
    tp_close(&t);
    /* nested, as masking patterns chain them (a regex with braces and a quoted brace) */
    assert_int_equal(tp_open(&t,
                             "[parser p]\nlogback_pattern = %d{yyyy-MM-dd HH:mm:ss} "
                             "%replace(%replace(%msg){'\\d{3}-\\d{4}', '[PHONE]'}){'[{]', "
                             "'('}%n\n[input in]\nparser = p\ntimezone = UTC\n",
                             "in"),
                     0);
    tp_off = 0;
    tp_feed(&t, "2026-12-06 10:00:00 call [PHONE] (x");
    tp_flush(&t); /* multiline = java holds the record */
    assert_int_equal(t.n, 1);
    assert_false(tp_failed(&t, 0));
    assert_string_equal(tp_str(&t, 0, "@timestamp"), "2026-12-06T10:00:00.000Z");
    assert_string_equal(tp_str(&t, 0, "log.message"), "call [PHONE] (x");
    tp_close(&t);
}

static void nginx_main_format_with_forwarded_for(void **s)
{
    (void)s;
    check_case("nginx-indexme");
}
/* Filebeat's own address lists in front of $remote_addr: source.* and the list as its
 * test.log-expected.json has them */
static void nginx_forwarded_for_in_front_follows_filebeat(void **s)
{
    (void)s;
    check_case("nginx-filebeat-xff");
}
static void nginx_escape_json_layout_maps_to_ecs(void **s)
{
    (void)s;
    check_case("nginx-json-exporter");
}
static void tomcat_pattern_with_java_date_unquoted_fields(void **s)
{
    (void)s;
    check_case("tomcat-jacojang");
}

/* nginx_log_format of nginx's combined layout must be nginx_combined, byte for byte. */
static void nginx_combined_layout_equals_builtin_on_filebeat_fixtures(void **s)
{
    (void)s;
    static const char *const layouts[] = {
        "combined",
        "'$remote_addr - $remote_user [$time_local] \"$request\" '\n"
        "  '$status $body_bytes_sent \"$http_referer\" \"$http_user_agent\"'",
    };
    static const char *const files[] = {"test.log", "access.log"};
    for (size_t f = 0; f < 2; f++) {
        size_t ln;
        char *log = slurp("filebeat-nginx", files[f], "", &ln);
        struct tp ref;
        assert_int_equal(tp_open(&ref, "[input in]\nparser = nginx_combined\n", "in"), 0);
        feed_all(&ref, log, ln);
        assert_true(ref.n >= 7);
        for (size_t i = 0; i < 2; i++) {
            char conf[1024];
            snprintf(conf, sizeof conf, "[parser lf]\nnginx_log_format = %s\n[input in]\nparser = lf\n",
                     layouts[i]);
            /* the config format takes one line per value: join the continuation */
            for (char *p = conf + 30; *p; p++)
                if (*p == '\n' && p[1] == ' ')
                    *p = ' ';
            struct tp t;
            assert_int_equal(tp_open(&t, conf, "in"), 0);
            feed_all(&t, log, ln);
            assert_int_equal(t.n, ref.n);
            for (int e = 0; e < t.n; e++)
                assert_string_equal(t.rec[e].json, ref.rec[e].json);
            tp_close(&t);
        }
        tp_close(&ref);
        free(log);
    }
}

static void unsupported_words_are_errors_with_column(void **s)
{
    (void)s;
    static const struct {
        const char *conf, *err;
    } cases[] = {
        {"logback_pattern = %d %-5level %foo{x} %msg", "unsupported conversion word %foo at column 13"},
        {"log4j2_pattern = %d{yyyy-MM-dd} %d{HH:mm} %m", "a second %d at column 16"},
        {"logback_pattern = %d{yyyy-MM-dd QQ} %m", "unsupported date letter 'Q'"},
        {"nginx_log_format = '$remote_addr [$time_local] $bogus_var'", "unsupported variable $bogus_var at column 28"},
        {"apache_log_format = %h %l %u %t \"%r\" %>s %b \"%C\"", "%C at column 26 needs a {name}"},
        {"logback_pattern = %d %clr(%level %msg", "unbalanced '(' at column 8"},
        {"logback_pattern = %d [\xe2%t] %msg", "not valid UTF-8 at column 5"},
        {"logback_pattern = %d %replace(%msg) %n", "%replace at column 4 needs {regex, replacement}"},
        {"log4j2_pattern = %d %replace{%msg}{\\s}%n", "%replace at column 4 needs {regex}{substitution}"},
        {"logback_pattern = %d %replace{%msg}{a}{b}", "%replace at column 4 needs its pattern in (...)"},
        {"logback_pattern = %d{UNIX_MICROS} %m", "unsupported date letter 'U'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        tp_expect_parser_error(cases[i].conf, cases[i].err);
}

static void durations_become_nanoseconds(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t,
                             "[parser n]\nnginx_log_format = '$remote_addr [$time_iso8601] "
                             "$status $request_time $upstream_response_time $request_id'\n"
                             "[parser a]\napache_log_format = %a %t %>s %D %{ms}T\n"
                             "[input n]\nparser = n\n",
                             "n"),
                     0);
    tp_off = 0;
    tp_feed(&t, "192.0.2.1 [2026-12-06T10:00:00+09:00] 504 1.250 - 7f3a9c");
    tp_feed(&t, "192.0.2.1 [2026-12-06T10:00:00+09:00] 200 0.001 0.001 -");
    assert_int_equal(t.n, 2);
    assert_false(tp_failed(&t, 0));
    assert_string_equal(tp_str(&t, 0, "@timestamp"), "2026-12-06T01:00:00.000Z");
    assert_int_equal(tp_int(&t, 0, "event.duration"), 1250000000LL);
    assert_int_equal(tp_int(&t, 0, "http.response.status_code"), 504);
    assert_string_equal(tp_str(&t, 0, "http.request.id"), "7f3a9c");
    assert_string_equal(tp_str(&t, 0, "trace.id"), "7f3a9c");
    assert_null(tp_path(t.rec[0].j, "nginx.access.upstream.response_time"));
    assert_int_equal(tp_int(&t, 1, "event.duration"), 1000000LL);
    assert_null(tp_path(t.rec[1].j, "http.request.id"));
    assert_null(tp_path(t.rec[1].j, "trace.id"));
    tp_close(&t);
    assert_int_equal(tp_open(&t,
                             "[parser a]\napache_log_format = %a %t %>s %D %{ms}T\n"
                             "[input a]\nparser = a\n",
                             "a"),
                     0);
    tp_off = 0;
    tp_feed(&t, "192.0.2.1 [06/Dec/2026:10:00:00 +0900] 200 1534 2");
    assert_int_equal(t.n, 1);
    assert_false(tp_failed(&t, 0));
    assert_int_equal(tp_int(&t, 0, "http.response.status_code"), 200);
    /* %D (us) and %{ms}T both name event.duration: the second goes apart */
    assert_int_equal(tp_int(&t, 0, "event.duration"), 1534000LL);
    assert_int_equal(tp_int(&t, 0, "apache.access.T"), 2000000LL);
    tp_close(&t);
}

static void line_not_in_the_layout_is_a_parse_failure(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t,
                             "[parser p]\nlogback_pattern = %d{yyyy-MM-dd HH:mm:ss.SSS} "
                             "[%thread] [%level] %logger - %msg%n\n[input in]\nparser = p\n"
                             "multiline.pattern = ^\\d{4}-\nmultiline.negate = true\n",
                             "in"),
                     0);
    tp_off = 0;
    tp_feed(&t, "2026-12-06 10:00:00.000 main INFO x - no brackets");
    tp_feed(&t, "2026-13-06 10:00:00.000 [main] [INFO] x - month 13");
    tp_flush(&t);
    assert_int_equal(t.n, 2);
    assert_true(tp_failed(&t, 0));
    assert_null(tp_path(t.rec[0].j, "log.level"));
    assert_true(tp_failed(&t, 1)); /* fields kept, the bad date flagged */
    assert_string_equal(tp_str(&t, 1, "log.level"), "INFO");
    tp_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spring_boot_file_pattern_fields_and_stack_trace),
        cmocka_unit_test(logback_spring_console_pattern_with_timezone),
        cmocka_unit_test(logback_time_only_truncated_level_and_xex),
        cmocka_unit_test(issue19_pattern_with_zone_in_date),
        cmocka_unit_test(log4j2_pattern_mdc_trace_ids_highlight_line),
        cmocka_unit_test(logback_replace_around_msg_keeps_log_message),
        cmocka_unit_test(log4j2_unix_millis_date_is_timestamp),
        cmocka_unit_test(log4j2_replace_one_field_keeps_it_several_become_labels),
        cmocka_unit_test(replace_matches_whatever_the_substitution_left),
        cmocka_unit_test(nginx_main_format_with_forwarded_for),
        cmocka_unit_test(nginx_forwarded_for_in_front_follows_filebeat),
        cmocka_unit_test(nginx_escape_json_layout_maps_to_ecs),
        cmocka_unit_test(tomcat_pattern_with_java_date_unquoted_fields),
        cmocka_unit_test(nginx_combined_layout_equals_builtin_on_filebeat_fixtures),
        cmocka_unit_test(unsupported_words_are_errors_with_column),
        cmocka_unit_test(durations_become_nanoseconds),
        cmocka_unit_test(line_not_in_the_layout_is_a_parse_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
