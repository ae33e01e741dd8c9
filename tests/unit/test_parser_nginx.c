/*
 * test_parser_nginx.c - the nginx_combined and apache_common built-ins: Filebeat's own
 * fixtures (every field Filebeat's nginx module produces must come out the same, log.offset
 * included), plus request time, URL split, escapes, "-" values, bad dates and lines that do
 * not match.
 *
 * floor: parsers
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_parser_util.h"

static const char *NGINX_CONF = "[input web]\nparser = nginx_combined\n";

/* Every field of Filebeat's expected NDJSON, log.offset included. */
static void check_fixture(const char *name)
{
    assert_true(tp_check_fixture(NGINX_CONF, "web", "filebeat-nginx", name) > 50);
}

static void filebeat_test_log_fields_match(void **s)
{
    (void)s;
    check_fixture("test.log");
}

static void filebeat_access_log_fields_match(void **s)
{
    (void)s;
    check_fixture("access.log");
}

/* Vector's VRL parse_nginx_log / parse_apache_log cases, in ECS names (SOURCE.md says
 * where VRL and ECS differ). The two combined lines with an ident were parse failures. */
static void vector_vrl_cases_match(void **s)
{
    (void)s;
    assert_true(tp_check_fixture(NGINX_CONF, "web", "vector-vrl", "nginx-combined.log") > 80);
    assert_true(tp_check_fixture("[input a]\nparser = apache_common\n", "a", "vector-vrl",
                                 "apache-common.log") >= 10);
}

/* Elastic's Apache integration pipeline test lines (host-name clients, "-" requests, an
 * ident), in the ECS fields a shipper produces (SOURCE.md lists where we differ). */
static void elastic_apache_cases_match(void **s)
{
    (void)s;
    assert_true(tp_check_fixture(NGINX_CONF, "web", "elastic-apache", "access.log") > 60);
}

/* Lines real servers write (issue 14): "-" request (nginx 400/408), "-" status, a client
 * that is a host name, an ident. */
static void real_server_edge_lines(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, NGINX_CONF, "web"), 0);
    tp_off = 0;
    assert_int_equal(tp_feed(&t, "10.1.2.3 - - [06/Dec/2026:10:00:00 +0000] \"-\" 400 0 \"-\" \"-\""), 0);
    assert_int_equal(tp_feed(&t, "10.1.2.3 - - [06/Dec/2026:10:00:01 +0000] \"GET /x HTTP/1.1\" - 0 "
                                 "\"-\" \"curl/8\""), 0);
    assert_int_equal(tp_feed(&t, "lb-health.internal.example - - [06/Dec/2026:10:00:02 +0000] "
                                 "\"GET /healthz HTTP/1.1\" 200 2 \"-\" \"ELB-HealthChecker/2.0\""), 0);
    assert_int_equal(tp_feed(&t, "192.0.2.7 ident-x bob [06/Dec/2026:10:00:03 +0000] "
                                 "\"GET / HTTP/1.0\" 200 5 \"-\" \"-\""), 0);
    assert_int_equal(t.n, 4);
    for (int i = 0; i < 4; i++)
        if (tp_failed(&t, i))
            fail_msg("line %d: parse_failure: %s", i + 1, t.rec[i].json);
    assert_null(tp_path(t.rec[0].j, "url"));
    assert_null(tp_path(t.rec[0].j, "http.request.method"));
    assert_null(tp_path(t.rec[0].j, "http.version"));
    assert_int_equal(tp_int(&t, 0, "http.response.status_code"), 400);
    assert_null(tp_path(t.rec[1].j, "http.response.status_code"));
    assert_string_equal(tp_str(&t, 1, "url.original"), "/x");
    assert_int_equal(tp_int(&t, 1, "http.response.body.bytes"), 0);
    assert_string_equal(tp_str(&t, 1, "@timestamp"), "2026-12-06T10:00:01.000Z");
    assert_string_equal(tp_str(&t, 2, "source.domain"), "lb-health.internal.example");
    assert_string_equal(tp_str(&t, 2, "source.address"), "lb-health.internal.example");
    assert_null(tp_path(t.rec[2].j, "source.ip"));
    assert_string_equal(tp_str(&t, 3, "user.name"), "bob");
    assert_string_equal(tp_str(&t, 3, "source.ip"), "192.0.2.7");
    assert_null(tp_path(t.rec[3].j, "source.domain"));
    tp_close(&t);
}

static void request_time_url_split_and_referrer(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, NGINX_CONF, "web"), 0);
    tp_off = 0;
    assert_int_equal(tp_feed(&t, "203.0.113.7 - alice [26/Nov/2026:12:00:00 +0900] \"POST "
                                 "/api/v1/orders?id=42&x=y HTTP/2.0\" 503 19 "
                                 "\"https://shop.example/cart\" \"curl/8.0 \\x22q\\x22\" 0.125 "
                                 "0.120"),
                     0);
    assert_int_equal(t.n, 1);
    assert_false(tp_failed(&t, 0));
    assert_string_equal(tp_str(&t, 0, "@timestamp"), "2026-11-26T03:00:00.000Z");
    assert_string_equal(tp_str(&t, 0, "source.ip"), "203.0.113.7");
    assert_string_equal(tp_str(&t, 0, "user.name"), "alice");
    assert_string_equal(tp_str(&t, 0, "http.request.method"), "POST");
    assert_string_equal(tp_str(&t, 0, "url.original"), "/api/v1/orders?id=42&x=y");
    assert_string_equal(tp_str(&t, 0, "url.path"), "/api/v1/orders");
    assert_string_equal(tp_str(&t, 0, "url.query"), "id=42&x=y");
    assert_string_equal(tp_str(&t, 0, "http.version"), "2.0");
    assert_int_equal(tp_int(&t, 0, "http.response.status_code"), 503);
    assert_int_equal(tp_int(&t, 0, "http.response.body.bytes"), 19);
    assert_string_equal(tp_str(&t, 0, "http.request.referrer"), "https://shop.example/cart");
    assert_string_equal(tp_str(&t, 0, "user_agent.original"), "curl/8.0 \\x22q\\x22");
    assert_int_equal(tp_int(&t, 0, "event.duration"), 125000000);
    /* the raw line stays in message */
    assert_non_null(strstr(tp_str(&t, 0, "message"), "POST /api/v1/orders"));
    tp_close(&t);
}

static void dash_values_are_absent(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, NGINX_CONF, "web"), 0);
    tp_off = 0;
    assert_int_equal(tp_feed(&t, "::1 - - [01/Jan/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 "
                                 "0 \"-\" \"-\""),
                     0);
    assert_null(tp_path(t.rec[0].j, "user.name"));
    assert_null(tp_path(t.rec[0].j, "http.request.referrer"));
    assert_null(tp_path(t.rec[0].j, "event.duration"));
    assert_null(tp_path(t.rec[0].j, "url.query"));
    assert_string_equal(tp_str(&t, 0, "source.ip"), "::1");
    assert_int_equal(tp_int(&t, 0, "http.response.body.bytes"), 0);
    tp_close(&t);
}

static void non_matching_line_is_kept_with_parse_failure(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, NGINX_CONF, "web"), 0);
    tp_off = 0;
    assert_int_equal(tp_feed(&t, "this is not an access log line"), 0);
    assert_int_equal(tp_feed(&t, ""), 0);
    assert_int_equal(t.n, 2);
    assert_true(tp_failed(&t, 0));
    assert_true(tp_failed(&t, 1));
    assert_string_equal(tp_str(&t, 0, "message"), "this is not an access log line");
    assert_null(tp_path(t.rec[0].j, "http"));
    tp_close(&t);
}

static void invalid_date_tags_failure_but_keeps_fields(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, NGINX_CONF, "web"), 0);
    tp_off = 0;
    assert_int_equal(tp_feed(&t, "10.1.1.1 - - [30/Feb/2026:00:00:00 +0000] \"GET / HTTP/1.1\" "
                                 "500 1 \"-\" \"x\""),
                     0);
    assert_true(tp_failed(&t, 0));
    assert_int_equal(tp_int(&t, 0, "http.response.status_code"), 500);
    /* read time is used for @timestamp */
    assert_string_equal(tp_str(&t, 0, "@timestamp"), "1970-01-01T00:00:01.000Z");
    tp_close(&t);
}

static void time_cache_does_not_leak_between_seconds(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, NGINX_CONF, "web"), 0);
    tp_off = 0;
    char line[256];
    int secs[] = {33, 33, 34, 33, 59};
    for (int i = 0; i < 5; i++) {
        snprintf(line, sizeof line,
                 "1.2.3.4 - - [25/Oct/2016:14:49:%02d +0200] \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"",
                 secs[i]);
        assert_int_equal(tp_feed(&t, line), 0);
    }
    assert_string_equal(tp_str(&t, 0, "@timestamp"), "2016-10-25T12:49:33.000Z");
    assert_string_equal(tp_str(&t, 1, "@timestamp"), "2016-10-25T12:49:33.000Z");
    assert_string_equal(tp_str(&t, 2, "@timestamp"), "2016-10-25T12:49:34.000Z");
    assert_string_equal(tp_str(&t, 3, "@timestamp"), "2016-10-25T12:49:33.000Z");
    assert_string_equal(tp_str(&t, 4, "@timestamp"), "2016-10-25T12:49:59.000Z");
    tp_close(&t);
}

static void apache_common_line(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, "[input a]\nparser = apache_common\n", "a"), 0);
    tp_off = 0;
    assert_int_equal(tp_feed(&t, "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET "
                                 "/apache_pb.gif HTTP/1.0\" 200 2326"),
                     0);
    assert_int_equal(tp_feed(&t, "192.0.2.9 - - [10/Oct/2000:13:55:36 -0700] \"HEAD / "
                                 "HTTP/1.0\" 304 -"),
                     0);
    assert_false(tp_failed(&t, 0));
    assert_string_equal(tp_str(&t, 0, "@timestamp"), "2000-10-10T20:55:36.000Z");
    assert_string_equal(tp_str(&t, 0, "user.name"), "frank");
    assert_string_equal(tp_str(&t, 0, "source.ip"), "127.0.0.1");
    assert_string_equal(tp_str(&t, 0, "url.original"), "/apache_pb.gif");
    assert_int_equal(tp_int(&t, 0, "http.response.body.bytes"), 2326);
    assert_null(tp_path(t.rec[1].j, "http.response.body.bytes"));
    assert_int_equal(tp_int(&t, 1, "http.response.status_code"), 304);
    assert_null(tp_path(t.rec[1].j, "user_agent"));
    tp_close(&t);
}

static void utf8_and_invalid_bytes_stay_valid_json(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, NGINX_CONF, "web"), 0);
    tp_off = 0;
    assert_int_equal(tp_feed(&t, "1.2.3.4 - - [25/Oct/2016:14:49:33 +0200] \"GET /\xed\x95\x9c "
                                 "HTTP/1.1\" 200 1 \"-\" \"Mozilla \xff\xfe \xe2\x82\xac\""),
                     0);
    assert_false(tp_failed(&t, 0));
    assert_string_equal(tp_str(&t, 0, "url.original"), "/\xed\x95\x9c");
    assert_string_equal(tp_str(&t, 0, "user_agent.original"),
                        "Mozilla \xef\xbf\xbd\xef\xbf\xbd \xe2\x82\xac");
    tp_close(&t);
}

/* Lines built to make a backtracking regex explode ("a - b [" repeated, unclosed quotes,
 * backslash runs) are parse failures found in linear time. */
static void hostile_lines_fail_fast(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, NGINX_CONF, "web"), 0);
    const char *units[] = {"a - b [", "b [x] \"", "\\\\a", " - "};
    size_t n = 200000;
    char *line = malloc(n + 64);
    tp_off = 0;
    for (int u = 0; u < 4; u++) {
        size_t ul = strlen(units[u]), len = 0;
        if (u == 2) {
            strcpy(line, "a - b [x] \"GET\" 200 1 \"");
            len = strlen(line);
        }
        while (len + ul < n) {
            memcpy(line + len, units[u], ul);
            len += ul;
        }
        line[len] = '\0';
        assert_int_equal(tp_feed(&t, line), 0);
        assert_true(tp_failed(&t, t.n - 1));
    }
    free(line);
    tp_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(filebeat_test_log_fields_match),
        cmocka_unit_test(filebeat_access_log_fields_match),
        cmocka_unit_test(vector_vrl_cases_match),
        cmocka_unit_test(real_server_edge_lines),
        cmocka_unit_test(elastic_apache_cases_match),
        cmocka_unit_test(request_time_url_split_and_referrer),
        cmocka_unit_test(dash_values_are_absent),
        cmocka_unit_test(non_matching_line_is_kept_with_parse_failure),
        cmocka_unit_test(invalid_date_tags_failure_but_keeps_fields),
        cmocka_unit_test(time_cache_does_not_leak_between_seconds),
        cmocka_unit_test(apache_common_line),
        cmocka_unit_test(utf8_and_invalid_bytes_stay_valid_json),
        cmocka_unit_test(hostile_lines_fail_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
