/*
 * test_parser_custom.c - [parser NAME] sections: named captures, types (int, float, bool),
 * renames to dotted ECS names, time_field/time_format/timezone, failed conversions kept as
 * strings with parse_failure, include/exclude filters, and configuration errors with
 * FILE:LINE (bad pattern with its offset, unknown groups, unknown parser, unknown types).
 *
 * floor: parsers
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "parsers/parser.h"
#include "test_parser_util.h"

static const char *CONF =
    "[parser kv]\n"
    "pattern = ^(?<ts>\\S+) status=(?<status>\\S+) dur=(?<dur>\\S+) ok=(?<ok>\\S+) "
    "user=(?<user>\\S+)(?: extra=(?<extra>\\S+))?$\n"
    "types = status:int dur:float ok:bool\n"
    "rename = status:http.response.status_code dur:event.duration_ms user:user.name\n"
    "time_field = ts\n"
    "time_format = %Y-%m-%dT%H:%M:%S%z\n"
    "[input in]\n"
    "parser = kv\n";

static void captures_are_typed_and_renamed(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, CONF, "in"), 0);
    tp_off = 0;
    tp_feed(&t, "2026-11-26T12:00:00.250+09:00 status=503 dur=12.5 ok=yes user=kim");
    assert_int_equal(t.n, 1);
    assert_false(tp_failed(&t, 0));
    assert_string_equal(tp_str(&t, 0, "@timestamp"), "2026-11-26T03:00:00.250Z");
    assert_int_equal(tp_int(&t, 0, "http.response.status_code"), 503);
    assert_true(json_real_value(tp_path(t.rec[0].j, "event.duration_ms")) == 12.5);
    assert_true(json_is_true(tp_path(t.rec[0].j, "ok")));
    assert_string_equal(tp_str(&t, 0, "user.name"), "kim");
    /* the time capture becomes @timestamp, not a field; the unset optional group is absent */
    assert_null(tp_path(t.rec[0].j, "ts"));
    assert_null(tp_path(t.rec[0].j, "extra"));
    tp_close(&t);
}

static void failed_conversion_keeps_string_and_tags(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, CONF, "in"), 0);
    tp_off = 0;
    tp_feed(&t, "2026-11-26T12:00:00Z status=5x3 dur=1e400 ok=maybe user=kim");
    tp_feed(&t, "2026-11-26T12:00:00Z status=99999999999999999999 dur=-0.5 ok=0 user=lee");
    tp_feed(&t, "2026-02-29T12:00:00Z status=200 dur=1 ok=TRUE user=x");
    tp_feed(&t, "2028-02-29T12:00:00Z status=-7 dur=2 ok=No user=x");
    assert_int_equal(t.n, 4);
    assert_true(tp_failed(&t, 0));
    assert_string_equal(tp_str(&t, 0, "http.response.status_code"), "5x3");
    assert_string_equal(tp_str(&t, 0, "event.duration_ms"), "1e400");
    assert_string_equal(tp_str(&t, 0, "ok"), "maybe");
    assert_true(tp_failed(&t, 1)); /* int overflow */
    assert_string_equal(tp_str(&t, 1, "http.response.status_code"), "99999999999999999999");
    assert_true(json_real_value(tp_path(t.rec[1].j, "event.duration_ms")) == -0.5);
    assert_true(json_is_false(tp_path(t.rec[1].j, "ok")));
    /* 2026 is not a leap year: the time is a failure and stays as a string */
    assert_true(tp_failed(&t, 2));
    assert_string_equal(tp_str(&t, 2, "ts"), "2026-02-29T12:00:00Z");
    assert_true(json_is_true(tp_path(t.rec[2].j, "ok")));
    assert_false(tp_failed(&t, 3));
    assert_string_equal(tp_str(&t, 3, "@timestamp"), "2028-02-29T12:00:00.000Z");
    assert_int_equal(tp_int(&t, 3, "http.response.status_code"), -7);
    assert_true(json_is_false(tp_path(t.rec[3].j, "ok")));
    tp_close(&t);
}

static void non_matching_line_kept_and_counted(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, CONF, "in"), 0);
    unsigned long long before = parsers_get_failures();
    tp_off = 0;
    tp_feed(&t, "garbage");
    tp_feed(&t, "2026-11-26T12:00:00Z status=1 dur=1 ok=1 user=u");
    tp_feed(&t, "more garbage");
    assert_int_equal(parsers_get_failures() - before, 2);
    assert_int_equal(t.n, 3);
    assert_true(tp_failed(&t, 0));
    assert_false(tp_failed(&t, 1));
    assert_string_equal(tp_str(&t, 0, "message"), "garbage");
    tp_close(&t);
}

static void local_time_uses_timezone_of_parser_or_input(void **s)
{
    (void)s;
    struct tp t;
    const char *conf = "[parser p]\npattern = ^(?<t>[^|]+)\\|\ntime_field = t\n"
                       "time_format = %d/%m/%Y %H:%M:%S\ntimezone = Asia/Seoul\n"
                       "[input a]\nparser = p\n"
                       "[input b]\nparser = p\ntimezone = America/New_York\n";
    assert_int_equal(tp_open(&t, conf, "a"), 0);
    tp_off = 0;
    tp_feed(&t, "26/11/2026 12:00:00|");
    assert_string_equal(tp_str(&t, 0, "@timestamp"), "2026-11-26T03:00:00.000Z");
    tp_close(&t);
    assert_int_equal(tp_open(&t, conf, "b"), 0);
    tp_feed(&t, "26/11/2026 12:00:00|"); /* EST, UTC-5 */
    tp_feed(&t, "01/07/2026 12:00:00|"); /* EDT, UTC-4 */
    assert_string_equal(tp_str(&t, 0, "@timestamp"), "2026-11-26T17:00:00.000Z");
    assert_string_equal(tp_str(&t, 1, "@timestamp"), "2026-07-01T16:00:00.000Z");
    tp_close(&t);
}

static void include_then_exclude_filters(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, "[input f]\ninclude_lines = ^ERR, ^WARN, x{2,3}\n"
                                 "exclude_lines = healthcheck\n", "f"),
                     0);
    tp_off = 0;
    tp_feed(&t, "ERR disk full");
    tp_feed(&t, "INFO all good");
    tp_feed(&t, "WARN healthcheck slow");
    tp_feed(&t, "debug xxx");
    assert_int_equal(t.n, 4);
    assert_false(t.rec[0].filtered);
    assert_true(t.rec[1].filtered);
    assert_true(t.rec[2].filtered);
    assert_false(t.rec[3].filtered);
    /* a filtered record still covers its byte range (committed as consumed) */
    assert_int_equal(t.rec[1].offset, 14);
    assert_int_equal(t.rec[1].end, 28);
    tp_close(&t);
}

static void bad_pattern_reports_file_line_and_offset(void **s)
{
    (void)s;
    struct tp t;
    tp_conf_errors(&t, "[parser bad]\n\npattern = ^(?<a>\\d+ status\n[input x]\nparser = bad\n",
                   "x");
    assert_true(tp_has_error(&t, "test.conf:3: pattern: missing closing parenthesis at offset"));
    tp_close(&t);
}

static void config_errors_are_reported(void **s)
{
    (void)s;
    struct tp t;
    int n = tp_conf_errors(&t,
                           "[parser p]\npattern = ^(?<a>\\d+)$\ntypes = a:integer b:int\n"
                           "rename = a:http..status\ntime_field = nope\ncolour = red\n"
                           "[input x]\nparser = nosuch\nmultiline = python\n"
                           "include_lines = (unclosed\nmultiline.max_lines = 5\n"
                           "timezone = Mars/Olympus\n",
                           "x");
    assert_true(n >= 8);
    assert_true(tp_has_error(&t, "test.conf:3: types: 'integer' for group 'a'"));
    assert_true(tp_has_error(&t, "test.conf:3: types: the pattern has no group named 'b'"));
    assert_true(tp_has_error(&t, "test.conf:4: field name 'http..status'"));
    assert_true(tp_has_error(&t, "test.conf:5: time_field: the pattern has no group named 'nope'"));
    assert_true(tp_has_error(&t, "test.conf:6: unknown key 'colour'"));
    assert_true(tp_has_error(&t, "test.conf:8: parser: unknown parser 'nosuch'"));
    assert_true(tp_has_error(&t, "test.conf:9: multiline: 'python' is not one of java"));
    assert_true(tp_has_error(&t, "test.conf:10: include_lines: pattern '(unclosed'"));
    assert_true(tp_has_error(&t, "test.conf:11: multiline.max_lines needs multiline.pattern"));
    assert_true(tp_has_error(&t, "test.conf:12: timezone: unknown time zone 'Mars/Olympus'"));
    tp_close(&t);
}

static void input_keys_are_claimed(void **s)
{
    (void)s;
    struct tp t;
    /* tp_open fails on any key of the input left unclaimed */
    assert_int_equal(tp_open(&t, "[input x]\nparser = json\nmultiline.pattern = ^\\s\n"
                                 "multiline.negate = false\nmultiline.match = after\n"
                                 "multiline.max_lines = 10\nmultiline.timeout = 2s\n"
                                 "multiline.max_bytes = 64KiB\ninclude_lines = a\n"
                                 "exclude_lines = b\ntimezone = UTC\n", "x"),
                     0);
    assert_non_null(strstr(lineproc_describe(t.lp), "parser json"));
    assert_non_null(strstr(lineproc_describe(t.lp), "multiline pattern"));
    tp_close(&t);
}

static void conversions_by_hand(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, "[parser n]\npattern = ^(?<i>\\S*) (?<f>\\S*) (?<b>\\S*)$\n"
                                 "types = i:int f:float b:bool\n[input x]\nparser = n\n", "x"),
                     0);
    tp_off = 0;
    tp_feed(&t, "9223372036854775807 1.5e3 1");
    tp_feed(&t, "-9223372036854775808 nan yes");
    tp_feed(&t, "9223372036854775808 inf no");
    tp_feed(&t, "+12 .5 false");
    tp_feed(&t, "  0x10 ");
    assert_int_equal(t.n, 5);
    assert_false(tp_failed(&t, 0));
    assert_true(json_integer_value(tp_path(t.rec[0].j, "i")) == INT64_MAX);
    assert_true(json_number_value(tp_path(t.rec[0].j, "f")) == 1500.0);
    assert_true(json_is_true(tp_path(t.rec[0].j, "b")));
    assert_true(tp_failed(&t, 1)); /* nan refused */
    assert_true(json_integer_value(tp_path(t.rec[1].j, "i")) == INT64_MIN);
    assert_string_equal(tp_str(&t, 1, "f"), "nan");
    assert_true(tp_failed(&t, 2));
    assert_string_equal(tp_str(&t, 2, "i"), "9223372036854775808");
    assert_false(tp_failed(&t, 3));
    assert_int_equal(tp_int(&t, 3, "i"), 12);
    assert_true(tp_failed(&t, 4)); /* empty strings are not numbers */
    tp_close(&t);
}

/* Catastrophic backtracking on hostile content is cut by the match limit: the line is a
 * parse_failure instead of stalling the tail thread (the ctest timeout would catch a stall). */
static void runaway_regex_is_bounded(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, "[parser evil]\npattern = ^(?<a>(a+)+)$\n"
                                 "[input e]\nparser = evil\nexclude_lines = (x+x+)+y\n", "e"),
                     0);
    size_t n = 40000;
    char *line = malloc(n + 2);
    memset(line, 'a', n);
    line[n] = 'b';
    line[n + 1] = '\0';
    tp_off = 0;
    assert_int_equal(tp_feed(&t, line), 0);
    memset(line, 'x', n);
    assert_int_equal(tp_feed(&t, line), 0);
    assert_int_equal(t.n, 2);
    assert_true(tp_failed(&t, 0));
    assert_false(t.rec[1].filtered); /* the exclude regex ran out: not a match, shipped */
    free(line);
    tp_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(captures_are_typed_and_renamed),
        cmocka_unit_test(failed_conversion_keeps_string_and_tags),
        cmocka_unit_test(non_matching_line_kept_and_counted),
        cmocka_unit_test(local_time_uses_timezone_of_parser_or_input),
        cmocka_unit_test(include_then_exclude_filters),
        cmocka_unit_test(bad_pattern_reports_file_line_and_offset),
        cmocka_unit_test(config_errors_are_reported),
        cmocka_unit_test(input_keys_are_claimed),
        cmocka_unit_test(conversions_by_hand),
        cmocka_unit_test(runaway_regex_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
