/*
 * test_parser_xff.c - Filebeat's client-address rule (parsers/xff.c) and nginx layouts that
 * use it: isPrivate() exactly as the ingest pipeline's script (a Java StringTokenizer and
 * Integer.parseInt on the first two numbers), the split at `"?,?\s+`, the pick (first not
 * private, else the first), and escape=json layouts (values, "" for absent, keys kept as
 * written, hostile list items escaped, errors naming the variable and its column).
 * Single-threaded test code.
 *
 * floor: parsers
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parsers/xff.h"
#include "test_parser_util.h"

static void is_private_as_filebeats_script(void **s)
{
    (void)s;
    static const struct {
        const char *ip;
        int priv;
    } c[] = {
        {"10.0.0.1", 1}, {"10.255.1.1", 1}, {"127.0.0.1", 1}, {"192.168.3.4", 1},
        {"172.16.0.1", 1}, {"172.31.255.255", 1}, {"172.15.0.1", 0}, {"172.32.0.1", 0},
        {"192.169.0.1", 0}, {"11.0.0.1", 0}, {"85.181.35.98", 0},
        /* what the script's parsing makes of other text: only the first two numbers count */
        {"10.0.0.999", 1}, {"10.1", 1}, {"127..1", 1}, {"+10.0.0.1", 1}, {"10", 0},
        {"10.x.1.1", 0}, {"unknown", 0}, {"2001:db8::1", 0}, {"::ffff:10.0.0.1", 0},
        {"99999999999.0.0.1", 0}, {"", 0},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        if (xff_is_private(c[i].ip, strlen(c[i].ip)) != c[i].priv)
            fail_msg("%s: private %d expected", c[i].ip, c[i].priv);
}

static int split_pick(const char *s, const char *last, struct xff_list *l)
{
    l->n = 0;
    xff_split(s, strlen(s), l);
    if (last)
        xff_split(last, strlen(last), l);
    return xff_pick(l);
}

static void split_and_pick_as_filebeat(void **s)
{
    (void)s;
    struct xff_list l;
    /* the quoted list of Filebeat's test.log, as its grok hands it to the split */
    assert_int_equal(split_pick("\"10.5.102.222, 199.96.1.1, 204.246.1.1\" 10.2.1.185", NULL, &l),
                     1);
    assert_int_equal(l.n, 4);
    assert_memory_equal(l.item[3].s, "10.2.1.185", 10);
    /* all private: the first */
    assert_int_equal(split_pick("10.0.0.2, 10.0.0.1", "127.0.0.1", &l), 0);
    assert_int_equal(l.n, 3);
    /* a word counts as public (the script cannot parse it) */
    assert_int_equal(split_pick("unknown, 10.0.0.1", "10.0.0.2", &l), 0);
    assert_int_equal(l.item[0].n, 7);
    /* no space after the comma: Filebeat's separator needs one, so one item */
    assert_int_equal(split_pick("10.0.0.1,8.8.8.8", NULL, &l), 0);
    assert_int_equal(l.n, 1);
    /* nginx's "-" for an absent header adds nothing; tabs separate */
    assert_int_equal(split_pick("-", "192.168.1.1", &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(split_pick("10.0.0.1,\t8.8.8.8", NULL, &l), 1);
    assert_int_equal(split_pick("", NULL, &l), -1);
    /* bounded: a list longer than XFF_MAX keeps the first XFF_MAX */
    char big[4096] = "";
    for (int i = 0; i < 40; i++)
        strcat(big, "10.0.0.1, ");
    assert_int_equal(split_pick(big, "8.8.8.8", &l), 0);
    assert_int_equal(l.n, XFF_MAX);
}

#define XFF_LAYOUT                                                                       \
    "[parser p]\nnginx_log_format = '$remote_addr - [$time_local] \"$request\" $status "   \
    "\"$http_x_forwarded_for\"'\n[input in]\nparser = p\n"

static void text_layout_with_forwarded_for_at_the_end(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, XFF_LAYOUT, "in"), 0);
    tp_off = 0;
    tp_feed(&t, "10.0.0.9 - [06/Dec/2026:10:00:00 +0900] \"GET / HTTP/1.1\" 200 "
                "\"unknown, 203.0.113.7\"");
    tp_feed(&t, "10.0.0.9 - [06/Dec/2026:10:00:00 +0900] \"GET / HTTP/1.1\" 200 \"-\"");
    /* a hostile header: quotes and backslashes stay inside one escaped list item */
    tp_feed(&t, "10.0.0.9 - [06/Dec/2026:10:00:00 +0900] \"GET / HTTP/1.1\" 200 "
                "\"a\\\"]}{\\\\x, 10.1.1.1\"");
    assert_int_equal(t.n, 3);
    for (int i = 0; i < 3; i++)
        assert_false(tp_failed(&t, i));
    assert_string_equal(tp_str(&t, 0, "source.address"), "unknown");
    assert_null(tp_path(t.rec[0].j, "source.ip"));
    json_t *list = tp_path(t.rec[0].j, "nginx.access.remote_ip_list");
    assert_true(json_is_array(list));
    assert_int_equal(json_array_size(list), 3);
    assert_string_equal(json_string_value(json_array_get(list, 2)), "10.0.0.9");
    assert_string_equal(tp_str(&t, 1, "source.address"), "10.0.0.9");
    assert_string_equal(tp_str(&t, 1, "source.ip"), "10.0.0.9");
    assert_string_equal(tp_str(&t, 2, "source.address"), "a\\\"]}{\\\\x");
    list = tp_path(t.rec[2].j, "nginx.access.remote_ip_list");
    assert_int_equal(json_array_size(list), 3);
    tp_close(&t);
}

#define JSON_LAYOUT                                                                        \
    "[parser j]\nnginx_log_format = escape=json '{\"t\":\"$msec\",\"ip\":\"$remote_addr\","   \
    "\"xff\":\"$http_x_forwarded_for\",\"rq\":{\"id\":\"$request_id\",\"m\":\"$request_method\"," \
    "\"u\":\"$request_uri\"},\"st\":$status,\"rt\":\"$request_time\",\"up\":\"$upstream_addr\","  \
    "\"tls\":\"$ssl_protocol\",\"note\":\"x=$status\"}'\n[input in]\nparser = j\n"

static void json_layout_values_absent_and_kept(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, JSON_LAYOUT, "in"), 0);
    tp_off = 0;
    tp_feed(&t, "{\"t\":\"1764990000.123\",\"ip\":\"10.0.0.9\",\"xff\":\"198.51.100.4, 10.0.0.2\","
                "\"rq\":{\"id\":\"abc123\",\"m\":\"GET\",\"u\":\"/x?y=1\"},\"st\":502,"
                "\"rt\":\"0.250\",\"up\":\"\",\"tls\":\"TLSv1.3\",\"note\":\"x=502\"}");
    tp_feed(&t, "{\"t\":\"1764990001.000\",\"ip\":\"192.0.2.1\",\"xff\":\"\","
                "\"rq\":{\"id\":\"\",\"m\":\"POST\",\"u\":\"/\"},\"st\":200,"
                "\"rt\":\"\",\"up\":\"127.0.0.1:8080\",\"tls\":\"\",\"note\":\"x=200\"}");
    tp_feed(&t, "not json");
    assert_int_equal(t.n, 3);
    assert_false(tp_failed(&t, 0));
    assert_string_equal(tp_str(&t, 0, "@timestamp"), "2025-12-06T03:00:00.123Z");
    assert_string_equal(tp_str(&t, 0, "source.address"), "198.51.100.4");
    assert_string_equal(tp_str(&t, 0, "source.ip"), "198.51.100.4");
    assert_int_equal(json_array_size(tp_path(t.rec[0].j, "nginx.access.remote_ip_list")), 3);
    assert_string_equal(tp_str(&t, 0, "http.request.id"), "abc123");
    assert_string_equal(tp_str(&t, 0, "trace.id"), "abc123");
    assert_string_equal(tp_str(&t, 0, "http.request.method"), "GET");
    assert_string_equal(tp_str(&t, 0, "url.original"), "/x?y=1");
    assert_int_equal(tp_int(&t, 0, "http.response.status_code"), 502);
    assert_int_equal(tp_int(&t, 0, "event.duration"), 250000000LL);
    assert_string_equal(tp_str(&t, 0, "tls.version"), "1.3");
    assert_null(tp_path(t.rec[0].j, "nginx.access.upstream.address")); /* "" = absent */
    assert_string_equal(tp_str(&t, 0, "note"), "x=502"); /* not one variable: as written */
    assert_false(tp_failed(&t, 1));
    assert_string_equal(tp_str(&t, 1, "source.address"), "192.0.2.1");
    assert_null(tp_path(t.rec[1].j, "http.request.id"));
    assert_null(tp_path(t.rec[1].j, "event.duration"));
    assert_null(tp_path(t.rec[1].j, "tls.version"));
    assert_string_equal(tp_str(&t, 1, "nginx.access.upstream.address"), "127.0.0.1:8080");
    assert_true(tp_failed(&t, 2));
    tp_close(&t);
}

static void json_layout_errors_name_the_variable(void **s)
{
    (void)s;
    static const struct {
        const char *conf, *err;
    } cases[] = {
        {"nginx_log_format = escape=json '{\"a\":\"$remote_addr\",\"b\":\"$nope\"}'",
         "unsupported variable $nope at column 26"},
        {"nginx_log_format = escape=json '{\"a\":\"$time_local\",\"b\":\"$msec\"}'",
         "a second time variable"},
        {"nginx_log_format = escape=json '[\"$status\"]'", "must be one JSON object"},
        {"nginx_log_format = escape=json '{\"a\":\"$status\"'", "must be one JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        tp_expect_parser_error(cases[i].conf, cases[i].err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(is_private_as_filebeats_script),
        cmocka_unit_test(split_and_pick_as_filebeat),
        cmocka_unit_test(text_layout_with_forwarded_for_at_the_end),
        cmocka_unit_test(json_layout_values_absent_and_kept),
        cmocka_unit_test(json_layout_errors_name_the_variable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
