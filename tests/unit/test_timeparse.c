/*
 * test_timeparse.c - time parsing edge cases (offsets, fractions of 1..9 digits, leap days,
 * invalid dates, 12-hour clocks, epoch seconds) and zones read from the tz database
 * (fixed zones, DST transitions, instants past the last transition via the POSIX footer),
 * all without touching the process TZ.
 *
 * floor: parsers
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "parsers/timeparse.h"

static int64_t P(const char *fmt, const char *s, const struct lf_tz *tz)
{
    int64_t ms;
    if (tp_parse(fmt, s, strlen(s), tz, &ms) != 0)
        return -1;
    return ms;
}

static int64_t ISO(const char *s, const struct lf_tz *tz)
{
    int64_t ms;
    return tp_parse_iso(s, strlen(s), tz, &ms) == 0 ? ms : -1;
}

/* 2026-11-26T03:00:00Z */
#define T0 1795662000000LL

static void offsets_in_every_form(void **s)
{
    (void)s;
    const char *f = "%Y-%m-%dT%H:%M:%S%z";
    assert_int_equal(P(f, "2026-11-26T12:00:00+0900", NULL), T0);
    assert_int_equal(P(f, "2026-11-26T12:00:00+09:00", NULL), T0);
    assert_int_equal(P(f, "2026-11-26T12:00:00+09", NULL), T0);
    assert_int_equal(P(f, "2026-11-26T03:00:00Z", NULL), T0);
    assert_int_equal(P(f, "2026-11-25T22:00:00-05:00", NULL), T0);
    assert_int_equal(P(f, "2026-11-26T08:30:00+05:30", NULL), T0);
    assert_int_equal(P(f, "2026-11-26T12:00:00+09:", NULL), -1);
    assert_int_equal(P(f, "2026-11-26T12:00:00+9", NULL), -1);
    assert_int_equal(P(f, "2026-11-26T12:00:00+2500", NULL), -1);
    assert_int_equal(ISO("2026-11-26T12:00:00+09:00", NULL), T0);
    assert_int_equal(ISO("2026-11-26 03:00:00Z", NULL), T0);
    assert_int_equal(ISO("2026-11-26T12:00:00+0900", NULL), T0);
    assert_int_equal(ISO("2026-11-26T12:00:00 +0900", NULL), -1);
}

static void fractions_of_one_to_nine_digits(void **s)
{
    (void)s;
    const char *f = "%Y-%m-%d %H:%M:%S";
    assert_int_equal(P(f, "2026-11-26 03:00:00.1", NULL), T0 + 100);
    assert_int_equal(P(f, "2026-11-26 03:00:00.12", NULL), T0 + 120);
    assert_int_equal(P(f, "2026-11-26 03:00:00,123", NULL), T0 + 123);
    assert_int_equal(P(f, "2026-11-26 03:00:00.123456", NULL), T0 + 123);
    assert_int_equal(P(f, "2026-11-26 03:00:00.999999999", NULL), T0 + 999);
    assert_int_equal(P(f, "2026-11-26 03:00:00.1234567890", NULL), -1);
    assert_int_equal(P("%Y-%m-%d %H:%M:%S.%f", "2026-11-26 03:00:00.5", NULL), T0 + 500);
    assert_int_equal(ISO("2026-11-26T03:00:00.000000001Z", NULL), T0);
    assert_int_equal(ISO("2026-11-26T03:00:00.7Z", NULL), T0 + 700);
    assert_int_equal(ISO("2026-11-26T03:00:00.Z", NULL), -1);
}

static void leap_days_and_invalid_dates(void **s)
{
    (void)s;
    const char *f = "%Y-%m-%d %H:%M:%S%z";
    assert_true(P(f, "2024-02-29 00:00:00Z", NULL) > 0);
    assert_true(P(f, "2000-02-29 00:00:00Z", NULL) > 0);   /* divisible by 400 */
    assert_int_equal(P(f, "1900-02-29 00:00:00Z", NULL), -1); /* by 100, not 400 */
    assert_int_equal(P(f, "2026-02-29 00:00:00Z", NULL), -1);
    assert_int_equal(P(f, "2026-02-30 00:00:00Z", NULL), -1);
    assert_int_equal(P(f, "2026-04-31 00:00:00Z", NULL), -1);
    assert_int_equal(P(f, "2026-13-01 00:00:00Z", NULL), -1);
    assert_int_equal(P(f, "2026-00-01 00:00:00Z", NULL), -1);
    assert_int_equal(P(f, "2026-12-31 24:00:00Z", NULL), -1);
    assert_int_equal(P(f, "2026-12-31 23:60:00Z", NULL), -1);
    assert_int_equal(P(f, "2024-02-29 00:00:00Z", NULL) + 86400000,
                     P(f, "2024-03-01 00:00:00Z", NULL));
    assert_int_equal(P(f, "1970-01-01 00:00:00Z", NULL), 0);
    assert_int_equal(P(f, "1969-12-31 23:59:59Z", NULL), -1000);
    assert_int_equal(ISO("2026-02-30T00:00:00Z", NULL), -1);
    int64_t ms;
    assert_int_equal(tp_parse_clf("29/Feb/2024:12:00:00 +0000", 26, &ms), 0);
    assert_int_equal(tp_parse_clf("29/Feb/2023:12:00:00 +0000", 26, &ms), -1);
    assert_int_equal(tp_parse_clf("10/Foo/2023:12:00:00 +0000", 26, &ms), -1);
    assert_int_equal(tp_parse_clf("25/Oct/2016:14:49:34 +0200", 26, &ms), 0);
    assert_int_equal(ms, 1477399774000LL);
}

static void other_directives(void **s)
{
    (void)s;
    assert_int_equal(P("%d/%b/%Y:%H:%M:%S %z", "26/Nov/2026:12:00:00 +0900", NULL), T0);
    assert_int_equal(P("%d/%B/%Y:%H:%M:%S %z", "26/november/2026:12:00:00 +0900", NULL), T0);
    assert_int_equal(P("%a %b %e %T %Y", "Thu Nov 26 03:00:00 2026", NULL), T0);
    assert_int_equal(P("%b %e %H:%M:%S %Y", "Mar  1 00:00:00 2026", NULL),
                     P("%F %T", "2026-03-01 00:00:00", NULL));
    assert_int_equal(P("%y%m%d %I:%M:%S %p", "261126 03:00:00 AM", NULL), T0);
    assert_int_equal(P("%y%m%d %I:%M:%S %p", "261126 12:00:00 AM", NULL), T0 - 3 * 3600000);
    assert_int_equal(P("%y%m%d %I:%M:%S %p", "261126 03:00:00 PM", NULL), T0 + 12 * 3600000);
    assert_int_equal(P("%y%m%d %I:%M:%S %p", "261126 13:00:00 PM", NULL), -1);
    assert_int_equal(P("%Y %j %T", "2026 330 03:00:00", NULL), T0);
    assert_int_equal(P("%Y %j %T", "2026 366 03:00:00", NULL), -1);
    assert_int_equal(P("%s", "1795662000", NULL), T0);
    assert_int_equal(P("%s", "1795662000.25", NULL), T0 + 250);
    /* %Q: epoch milliseconds (Log4j2's %d{UNIX_MILLIS}), whole digits only */
    assert_int_equal(P("%Q", "1795662000250", NULL), T0 + 250);
    assert_int_equal(P("%Q", "-1000", NULL), -1000);
    assert_int_equal(P("%Q", "1795662000.250", NULL), -1);
    assert_int_equal(P("%Q", "", NULL), -1);
    assert_int_equal(P("%F %T %Z", "2026-11-26 03:00:00 UTC", NULL), T0);
    assert_int_equal(P("%F %T", "2026-11-26 03:00:00 trailing", NULL), -1);
    assert_int_equal(P("%F %T", "  2026-11-26 03:00:00  ", NULL), T0);
    assert_int_equal(P("%F 100%% %T", "2026-11-26 100% 03:00:00", NULL), T0);
    char err[256];
    assert_int_equal(tp_check_format("%Y-%m-%d %H:%M:%S%z", err, sizeof err), 0);
    assert_int_equal(tp_check_format("%H:%M:%S", err, sizeof err), -1);
    assert_int_equal(tp_check_format("%Y %K", err, sizeof err), -1);
    assert_non_null(strstr(err, "%K"));
    assert_int_equal(tp_check_format("%Q", err, sizeof err), 0); /* an epoch is a date */
    assert_int_equal(tp_check_format("%Y %", err, sizeof err), -1);
}

static void zones_from_the_tz_database(void **s)
{
    (void)s;
    char err[256];
    struct lf_tz *seoul = lf_tz_load("Asia/Seoul", err, sizeof err);
    struct lf_tz *berlin = lf_tz_load("Europe/Berlin", err, sizeof err);
    struct lf_tz *fixed = lf_tz_load("+05:30", err, sizeof err);
    struct lf_tz *utc = lf_tz_load("UTC", err, sizeof err);
    assert_non_null(seoul);
    assert_non_null(berlin);
    assert_non_null(fixed);
    assert_non_null(utc);
    const char *f = "%Y-%m-%d %H:%M:%S";
    assert_int_equal(P(f, "2026-11-26 12:00:00", seoul), T0);
    assert_int_equal(P(f, "2026-11-26 08:30:00", fixed), T0);
    assert_int_equal(P(f, "2026-11-26 03:00:00", utc), T0);
    assert_int_equal(P(f, "2026-11-26 04:00:00", berlin), T0);              /* CET */
    assert_int_equal(P(f, "2026-07-01 14:00:00", berlin),
                     P("%F %T%z", "2026-07-01 12:00:00Z", NULL));            /* CEST */
    /* past the table of transitions (fat files end in 2037): the POSIX footer rule */
    assert_int_equal(P(f, "2045-07-01 14:00:00", berlin),
                     P("%F %T%z", "2045-07-01 12:00:00Z", NULL));
    assert_int_equal(P(f, "2045-12-01 13:00:00", berlin),
                     P("%F %T%z", "2045-12-01 12:00:00Z", NULL));
    /* DST starts 2026-03-29 01:00Z: 00:59Z is CET, 01:00Z is CEST */
    int64_t t = P("%F %T%z", "2026-03-29 00:59:59Z", NULL) / 1000;
    assert_int_equal(lf_tz_offset_at(berlin, t), 3600);
    assert_int_equal(lf_tz_offset_at(berlin, t + 1), 7200);
    /* an offset in the text wins over the zone */
    assert_int_equal(P("%F %T%z", "2026-11-26 12:00:00+09:00", berlin), T0);
    assert_int_equal(ISO("2026-11-26 12:00:00", seoul), T0);
    assert_null(lf_tz_load("Mars/Olympus", err, sizeof err));
    assert_non_null(strstr(err, "Mars/Olympus"));
    assert_null(lf_tz_load("../../etc/passwd", err, sizeof err));
    assert_null(lf_tz_load("+99:00", err, sizeof err));
    lf_tz_free(seoul);
    lf_tz_free(berlin);
    lf_tz_free(fixed);
    lf_tz_free(utc);
}

/* Footer rules of other shapes: southern hemisphere (DST across the new year), negative DST
 * (Dublin: IST is standard, GMT the "DST"), numeric names <+04>. 2045 is past every fat
 * file's transitions. */
static void footer_rules_of_every_shape(void **s)
{
    (void)s;
    char err[256];
    struct lf_tz *syd = lf_tz_load("Australia/Sydney", err, sizeof err);
    struct lf_tz *dub = lf_tz_load("Europe/Dublin", err, sizeof err);
    struct lf_tz *dxb = lf_tz_load("Asia/Dubai", err, sizeof err);
    assert_non_null(syd);
    assert_non_null(dub);
    assert_non_null(dxb);
    const char *f = "%Y-%m-%d %H:%M:%S", *z = "%F %T%z";
    assert_int_equal(P(f, "2045-01-15 12:00:00", syd), P(z, "2045-01-15 01:00:00Z", NULL));
    assert_int_equal(P(f, "2045-07-15 12:00:00", syd), P(z, "2045-07-15 02:00:00Z", NULL));
    assert_int_equal(P(f, "2045-01-15 12:00:00", dub), P(z, "2045-01-15 12:00:00Z", NULL));
    assert_int_equal(P(f, "2045-07-15 12:00:00", dub), P(z, "2045-07-15 11:00:00Z", NULL));
    assert_int_equal(P(f, "2045-07-15 12:00:00", dxb), P(z, "2045-07-15 08:00:00Z", NULL));
    /* and the same inside the transition table */
    assert_int_equal(P(f, "2026-01-15 12:00:00", syd), P(z, "2026-01-15 01:00:00Z", NULL));
    assert_int_equal(P(f, "2026-07-15 12:00:00", dub), P(z, "2026-07-15 11:00:00Z", NULL));
    lf_tz_free(syd);
    lf_tz_free(dub);
    lf_tz_free(dxb);
}

static void local_zone_follows_tz_without_setenv_at_parse_time(void **s)
{
    (void)s;
    setenv("TZ", "Asia/Seoul", 1);
    struct lf_tz *local = lf_tz_local();
    unsetenv("TZ");
    assert_non_null(local);
    assert_int_equal(P("%F %T", "2026-11-26 12:00:00", local), T0);
    lf_tz_free(local);
}

/* The container runtimes' times: the cache reuses the date and second, never the fraction
 * or the zone, and a hit still refuses a bad remainder. */
static void iso_cache_reuses_only_the_second(void **st)
{
    (void)st;
    struct tp_iso_cache c = {0};
    int64_t ms;
    assert_int_equal(tp_parse_iso_cached(&c, "2026-12-06T10:00:00.123456789Z", 30, NULL, &ms), 0);
    assert_int_equal(ms, 1796551200123LL);
    assert_true(c.valid);
    assert_int_equal(tp_parse_iso_cached(&c, "2026-12-06T10:00:00.9Z", 22, NULL, &ms), 0);
    assert_int_equal(ms, 1796551200900LL);
    assert_int_equal(tp_parse_iso_cached(&c, "2026-12-06T10:00:00.5+09:00", 27, NULL, &ms), 0);
    assert_int_equal(ms, 1796551200500LL - 9 * 3600 * 1000LL);
    assert_int_equal(tp_parse_iso_cached(&c, "2026-12-06T10:00:00.5x", 22, NULL, &ms), -1);
    assert_int_equal(tp_parse_iso_cached(&c, "2026-12-06T10:00:01Z", 20, NULL, &ms), 0);
    assert_int_equal(ms, 1796551201000LL);
    assert_int_equal(tp_parse_iso_cached(&c, "2026-02-30T10:00:01Z", 20, NULL, &ms), -1);
    assert_int_equal(tp_parse_iso_cached(&c, "2026-12-06T10:00:01Z", 20, NULL, &ms), 0);
    assert_int_equal(ms, 1796551201000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(offsets_in_every_form),
        cmocka_unit_test(fractions_of_one_to_nine_digits),
        cmocka_unit_test(leap_days_and_invalid_dates),
        cmocka_unit_test(other_directives),
        cmocka_unit_test(zones_from_the_tz_database),
        cmocka_unit_test(footer_rules_of_every_shape),
        cmocka_unit_test(local_zone_follows_tz_without_setenv_at_parse_time),
        cmocka_unit_test(iso_cache_reuses_only_the_second),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
