/*
 * test_multiline.c - joining lines into records: Java stack traces, Filebeat's
 * pattern/negate/match semantics, the timeout through lineproc_deadline(), the caps
 * (max_lines, max_bytes) and the byte ranges that the registry commits.
 *
 * floor: parsers
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <time.h>

#include "test_parser_util.h"

static const char *JAVA = "[input j]\nmultiline = java\n";

static void java_trace_split_across_reads_is_one_event(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, JAVA, "j"), 0);
    tp_off = 100; /* the file was partly read before */
    assert_int_equal(tp_feed(&t, "2026-11-26 12:00:00.123 ERROR 1 --- [main] c.X : failed"), 0);
    assert_int_equal(t.n, 0);
    assert_int_equal(lineproc_pending_offset(t.st), 100);
    assert_int_equal(lineproc_deadline(t.st), t.now + 1000);
    /* the next read comes 400 ms later with the rest of the trace */
    t.now += 400;
    tp_feed(&t, "java.lang.RuntimeException: boom");
    tp_feed(&t, "\tat a.B.c(B.java:1)");
    t.now += 400;
    tp_feed(&t, "\tat a.B.d(B.java:2)");
    tp_feed(&t, "Caused by: java.lang.NullPointerException");
    tp_feed(&t, "\t... 2 more");
    tp_feed(&t, "\tSuppressed: java.io.IOException: x");
    tp_feed(&t, "\t\tat a.C.e(C.java:3)");
    uint64_t end_of_trace = tp_off;
    assert_int_equal(t.n, 0);
    assert_int_equal(lineproc_pending_offset(t.st), 100);
    tp_feed(&t, "2026-11-26 12:00:01.000 INFO 1 --- [main] c.X : next");
    assert_int_equal(t.n, 1);
    assert_int_equal(t.rec[0].offset, 100);
    assert_int_equal(t.rec[0].end, end_of_trace);
    assert_true(t.rec[0].flags & EV_MULTILINE);
    assert_false(t.rec[0].flags & EV_TRUNCATED);
    assert_string_equal(tp_str(&t, 0, "message"),
                        "2026-11-26 12:00:00.123 ERROR 1 --- [main] c.X : failed\n"
                        "java.lang.RuntimeException: boom\n\tat a.B.c(B.java:1)\n"
                        "\tat a.B.d(B.java:2)\nCaused by: java.lang.NullPointerException\n"
                        "\t... 2 more\n\tSuppressed: java.io.IOException: x\n"
                        "\t\tat a.C.e(C.java:3)");
    json_t *flags = tp_path(t.rec[0].j, "log.flags");
    assert_true(json_is_array(flags));
    assert_string_equal(json_string_value(json_array_get(flags, 0)), "multiline");
    /* the new line is pending, starting where the trace ended */
    assert_int_equal(lineproc_pending_offset(t.st), end_of_trace);
    assert_int_equal(tp_flush(&t), 0);
    assert_int_equal(t.n, 2);
    assert_false(t.rec[1].flags & EV_MULTILINE);
    assert_int_equal(lineproc_pending_offset(t.st), UINT64_MAX);
    assert_int_equal(lineproc_deadline(t.st), 0);
    tp_close(&t);
}

static void java_lines_that_start_records(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, JAVA, "j"), 0);
    tp_off = 0;
    tp_feed(&t, "\tat orphan.Line(X.java:1)"); /* a continuation with nothing before starts one */
    tp_feed(&t, "plain line");
    tp_feed(&t, "com.acme.PaymentError");
    tp_feed(&t, "Exception in thread \"main\" java.lang.Error");
    tp_feed(&t, "not.an.exception: because the name says so");
    tp_feed(&t, "");
    tp_flush(&t);
    assert_int_equal(t.n, 5);
    assert_string_equal(tp_str(&t, 0, "message"), "\tat orphan.Line(X.java:1)");
    assert_string_equal(tp_str(&t, 1, "message"), "plain line\ncom.acme.PaymentError");
    assert_string_equal(tp_str(&t, 2, "message"), "Exception in thread \"main\" java.lang.Error");
    assert_string_equal(tp_str(&t, 3, "message"), "not.an.exception: because the name says so");
    assert_string_equal(tp_str(&t, 4, "message"), ""); /* an empty line starts a record */
    tp_close(&t);
}

static void thousand_line_trace_is_capped_at_max_lines(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, JAVA, "j"), 0);
    tp_off = 0;
    tp_feed(&t, "head line");
    for (int i = 0; i < 1000; i++) {
        char l[64];
        snprintf(l, sizeof l, "\tat f.G.h%d(G.java:%d)", i, i);
        tp_feed(&t, l);
    }
    uint64_t end = tp_off;
    tp_feed(&t, "after");
    assert_int_equal(t.n, 1);
    assert_int_equal(t.rec[0].offset, 0);
    assert_int_equal(t.rec[0].end, end); /* dropped lines are still consumed */
    assert_true(t.rec[0].flags & EV_TRUNCATED);
    assert_true(t.rec[0].flags & EV_MULTILINE);
    const char *m = tp_str(&t, 0, "message");
    int lines = 1;
    for (const char *p = m; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 500);
    assert_non_null(strstr(m, "h498(G.java:498)"));
    assert_null(strstr(m, "h499(G.java:499)"));
    tp_close(&t);

    assert_int_equal(tp_open(&t, "[input j]\nmultiline = java\nmultiline.max_lines = 2000\n", "j"),
                     0);
    tp_off = 0;
    tp_feed(&t, "head line");
    for (int i = 0; i < 1000; i++) {
        char l[64];
        snprintf(l, sizeof l, "\tat f.G.h%d(G.java:%d)", i, i);
        tp_feed(&t, l);
    }
    tp_flush(&t);
    assert_int_equal(t.n, 1);
    assert_false(t.rec[0].flags & EV_TRUNCATED);
    m = tp_str(&t, 0, "message");
    lines = 1;
    for (const char *p = m; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 1001);
    tp_close(&t);
}

static void timeout_flushes_through_deadline(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, "[input j]\nmultiline = java\nmultiline.timeout = 250ms\n", "j"),
                     0);
    tp_off = 0;
    tp_feed(&t, "last line of a burst");
    tp_feed(&t, "\tat x.Y(Z.java:1)");
    int64_t dl = lineproc_deadline(t.st);
    assert_int_equal(dl, t.now + 250);
    /* the core's loop: when the clock passes the deadline it flushes */
    t.now = dl;
    if (t.now >= lineproc_deadline(t.st))
        tp_flush(&t);
    assert_int_equal(t.n, 1);
    assert_int_equal(lineproc_deadline(t.st), 0);
    /* a line that arrives after the deadline, without a flush in between, does not join */
    tp_feed(&t, "first");
    t.now += 300;
    tp_feed(&t, "\tat late.Line(Z.java:2)");
    assert_int_equal(t.n, 2);
    assert_string_equal(tp_str(&t, 1, "message"), "first");
    tp_flush(&t);
    assert_string_equal(tp_str(&t, 2, "message"), "\tat late.Line(Z.java:2)");
    tp_close(&t);
}

/* Spring Boot's %wEx: an empty line before the trace joins the record, the one after it is
 * absorbed (its bytes are the record's: the commit point passes it), an empty line that is
 * not around a trace is an event of its own; a held empty line keeps the record open until
 * the timeout, which then settles it the same way. Fails before issue 14: the trace became
 * an event of its own and each empty line one more. */
static void wex_empty_lines_around_traces(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, "[input j]\nmultiline = java\nmultiline.timeout = 250ms\n", "j"),
                     0);
    tp_off = 0;
    tp_feed(&t, "ERROR boom");
    tp_feed(&t, "");
    tp_feed(&t, "java.lang.IllegalStateException: x");
    tp_feed(&t, "\tat a.B(C.java:1)");
    tp_feed(&t, ""); /* absorbed */
    uint64_t trace_end = tp_off;
    assert_int_equal(t.n, 0);
    tp_feed(&t, "INFO next");
    uint64_t next_end = tp_off;
    assert_int_equal(t.n, 1);
    assert_string_equal(tp_str(&t, 0, "message"),
                        "ERROR boom\n\njava.lang.IllegalStateException: x\n\tat a.B(C.java:1)");
    assert_int_equal(t.rec[0].offset, 0);
    assert_int_equal(t.rec[0].end, trace_end);
    tp_feed(&t, ""); /* not around a trace */
    tp_feed(&t, "INFO after");
    assert_int_equal(t.n, 3);
    assert_string_equal(tp_str(&t, 1, "message"), "INFO next");
    assert_int_equal(t.rec[1].end, next_end);
    assert_string_equal(tp_str(&t, 2, "message"), "");
    assert_int_equal(t.rec[2].offset, next_end);
    assert_int_equal(t.rec[2].end, next_end + 1);
    /* timeout with an empty line held after a trace: absorbed, one event */
    tp_feed(&t, "");                                 /* INFO after + blank: not a trace */
    tp_feed(&t, "java.lang.Error");                  /* joins INFO after, with the blank */
    tp_feed(&t, "");
    int64_t dl = lineproc_deadline(t.st);
    assert_true(dl > 0);
    t.now = dl;
    tp_clock_now = dl;
    tp_flush(&t);
    assert_int_equal(t.n, 4);
    assert_string_equal(tp_str(&t, 3, "message"), "INFO after\n\njava.lang.Error");
    assert_int_equal(t.rec[3].end, tp_off);
    assert_int_equal(lineproc_deadline(t.st), 0);
    /* timeout with an empty line held after a plain line: two events */
    tp_feed(&t, "WARN alone");
    tp_feed(&t, "");
    tp_flush(&t);
    assert_int_equal(t.n, 6);
    assert_string_equal(tp_str(&t, 4, "message"), "WARN alone");
    assert_string_equal(tp_str(&t, 5, "message"), "");
    assert_int_equal(t.rec[5].end, tp_off);
    tp_close(&t);
}

static void pattern_negate_after_like_filebeat(void **s)
{
    (void)s;
    struct tp t;
    /* Filebeat's classic: lines not starting with '[' belong to the line before */
    assert_int_equal(tp_open(&t, "[input g]\nmultiline.pattern = ^\\[\nmultiline.negate = true\n"
                                 "multiline.match = after\n", "g"),
                     0);
    tp_off = 0;
    tp_feed(&t, "[2026-11-26] one");
    tp_feed(&t, "  detail a");
    tp_feed(&t, "detail b");
    tp_feed(&t, "[2026-11-26] two");
    tp_flush(&t);
    assert_int_equal(t.n, 2);
    assert_string_equal(tp_str(&t, 0, "message"), "[2026-11-26] one\n  detail a\ndetail b");
    assert_string_equal(tp_str(&t, 1, "message"), "[2026-11-26] two");
    tp_close(&t);
}

static void pattern_before_joins_into_next_line(void **s)
{
    (void)s;
    struct tp t;
    /* lines ending in a backslash continue into the next one */
    assert_int_equal(tp_open(&t, "[input g]\nmultiline.pattern = \\\\$\n"
                                 "multiline.match = before\n", "g"),
                     0);
    tp_off = 0;
    tp_feed(&t, "a \\");
    tp_feed(&t, "b \\");
    tp_feed(&t, "c");
    uint64_t end = tp_off;
    tp_feed(&t, "d");
    assert_int_equal(t.n, 2); /* "before" emits as soon as the record ends */
    assert_string_equal(tp_str(&t, 0, "message"), "a \\\nb \\\nc");
    assert_int_equal(t.rec[0].end, end);
    assert_string_equal(tp_str(&t, 1, "message"), "d");
    assert_int_equal(lineproc_deadline(t.st), 0);
    tp_close(&t);
}

static void filters_apply_to_the_joined_record(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, "[input j]\nmultiline = java\nexclude_lines = NoiseException\n",
                             "j"),
                     0);
    tp_off = 0;
    tp_feed(&t, "request failed");
    tp_feed(&t, "com.x.NoiseException: ignore me");
    tp_feed(&t, "\tat a.b(C.java:1)");
    uint64_t end = tp_off;
    tp_feed(&t, "kept");
    tp_flush(&t);
    assert_int_equal(t.n, 2);
    assert_true(t.rec[0].filtered);
    assert_int_equal(t.rec[0].offset, 0);
    assert_int_equal(t.rec[0].end, end);
    assert_false(t.rec[1].filtered);
    tp_close(&t);
}

static void truncated_line_and_max_bytes_mark_truncated(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, "[input j]\nmultiline = java\nmultiline.max_bytes = 1KiB\n", "j"),
                     0);
    char big[900];
    memset(big, 'x', sizeof big - 1);
    big[0] = '\t';
    big[sizeof big - 1] = '\0';
    tp_off = 0;
    tp_feed(&t, "start");
    tp_feed(&t, big);
    tp_feed(&t, big);
    tp_feed(&t, "next");
    assert_int_equal(t.n, 1);
    assert_true(t.rec[0].flags & EV_TRUNCATED);
    assert_int_equal(strlen(tp_str(&t, 0, "message")), 1024);
    /* a line the reader truncated marks its event */
    uint64_t off = tp_off;
    lineproc_feed(t.lp, t.st, &t.eb, "cut", 3, off, off + 100000, LINE_TRUNCATED, t.now, tp_out,
                  &t);
    tp_flush(&t);
    assert_int_equal(t.n, 3);
    assert_false(t.rec[1].flags & EV_TRUNCATED);
    assert_true(t.rec[2].flags & EV_TRUNCATED);
    assert_int_equal(t.rec[2].end, off + 100000);
    tp_close(&t);
}

/* The core passes the wall clock as now_ms (for @timestamp) but compares
 * lineproc_deadline() with CLOCK_MONOTONIC: the deadline must be monotonic whatever now_ms
 * is. */
static int64_t mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void deadline_is_monotonic_even_with_wall_clock_now(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, JAVA, "j"), 0);
    clock_set_for_test(mono, NULL);
    int64_t before = mono();
    int64_t wall = 1795662000000LL;
    lineproc_feed(t.lp, t.st, &t.eb, "x", 1, 0, 2, 0, wall, tp_out, &t);
    int64_t after = mono();
    int64_t dl = lineproc_deadline(t.st);
    assert_true(dl >= before + 1000 && dl <= after + 1000);
    clock_set_for_test(tp_clock, NULL); /* tp_open's settable clock again */
    tp_close(&t);
}

static void raw_path_emits_each_line_at_once(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, "[input r]\n", "r"), 0);
    tp_off = 0;
    tp_feed(&t, "\tat looks.Like(Java.java:1)");
    assert_int_equal(t.n, 1);
    assert_int_equal(lineproc_deadline(t.st), 0);
    assert_int_equal(lineproc_pending_offset(t.st), UINT64_MAX);
    assert_string_equal(lineproc_describe(t.lp), "raw lines");
    tp_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(java_trace_split_across_reads_is_one_event),
        cmocka_unit_test(java_lines_that_start_records),
        cmocka_unit_test(thousand_line_trace_is_capped_at_max_lines),
        cmocka_unit_test(timeout_flushes_through_deadline),
        cmocka_unit_test(wex_empty_lines_around_traces),
        cmocka_unit_test(pattern_negate_after_like_filebeat),
        cmocka_unit_test(pattern_before_joins_into_next_line),
        cmocka_unit_test(filters_apply_to_the_joined_record),
        cmocka_unit_test(truncated_line_and_max_bytes_mark_truncated),
        cmocka_unit_test(deadline_is_monotonic_even_with_wall_clock_now),
        cmocka_unit_test(raw_path_emits_each_line_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
