/*
 * test_json.c - the hand-written JSON writer (agent/base/json.c): string escaping with UTF-8
 * repair, utf8_valid_prefix() (where long lines are cut), numbers and timestamps.
 * Every escaped string is also parsed back with jansson, which rejects invalid UTF-8 and raw
 * control characters, so "valid JSON whatever the input" is checked by an independent parser.
 *
 * floor: base
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "agent/base/json.h"

/* Escapes s[0..n) as a JSON string, checks jansson parses it, returns the decoded bytes
 * (malloc'd, NUL kept: *outlen says how many). */
static char *roundtrip(const char *s, size_t n, size_t *outlen, char **json_text)
{
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(json_write_string(&b, s, n), 0);
    json_error_t err;
    json_t *v = json_loadb(b.p, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!v)
        fail_msg("jansson rejected %.*s: %s", (int)b.len, b.p, err.text);
    assert_true(json_is_string(v));
    *outlen = json_string_length(v);
    char *out = malloc(*outlen + 1);
    memcpy(out, json_string_value(v), *outlen + 1);
    json_decref(v);
    if (json_text) {
        buf_cstr(&b);
        *json_text = b.p;
    } else {
        buf_free(&b);
    }
    return out;
}

static void expect_decoded(const char *in, size_t n, const char *want, size_t wantlen)
{
    size_t len;
    char *out = roundtrip(in, n, &len, NULL);
    if (len != wantlen || memcmp(out, want, len) != 0)
        fail_msg("decoded %zu bytes, wanted %zu", len, wantlen);
    free(out);
}
#define EXPECT(in, want) expect_decoded(in, sizeof(in) - 1, want, sizeof(want) - 1)
#define FFFD "\xEF\xBF\xBD"

static void escapes_quote_backslash_and_short_controls(void **s)
{
    (void)s;
    char *text;
    size_t len;
    const char in[] = "a\"b\\c\nd\te\rf\bg\fh/";
    char *out = roundtrip(in, sizeof in - 1, &len, &text);
    assert_string_equal(text, "\"a\\\"b\\\\c\\nd\\te\\rf\\bg\\fh/\"");
    assert_memory_equal(out, in, sizeof in - 1);
    free(out);
    free(text);
}

static void escapes_every_control_char_nul_and_del(void **s)
{
    (void)s;
    char in[34];
    for (int i = 0; i < 32; i++)
        in[i] = (char)i;
    in[32] = 0x7f;
    in[33] = 'x';
    char *text;
    size_t len;
    char *out = roundtrip(in, sizeof in, &len, &text);
    assert_int_equal(len, sizeof in);
    assert_memory_equal(out, in, sizeof in);
    /* no raw control byte (or DEL) in the JSON text itself */
    for (const char *p = text; *p; p++)
        assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7f);
    assert_non_null(strstr(text, "\\u0000"));
    assert_non_null(strstr(text, "\\u001f"));
    assert_non_null(strstr(text, "\\u007f"));
    free(out);
    free(text);
}

static void keeps_valid_two_three_four_byte_characters(void **s)
{
    (void)s;
    EXPECT("\xC3\xA9", "\xC3\xA9");                 /* é U+00E9 */
    EXPECT("\xC2\x80", "\xC2\x80");                 /* U+0080, smallest 2-byte */
    EXPECT("\xDF\xBF", "\xDF\xBF");                 /* U+07FF */
    EXPECT("\xE2\x82\xAC", "\xE2\x82\xAC");         /* € */
    EXPECT("\xE0\xA0\x80", "\xE0\xA0\x80");         /* U+0800, smallest 3-byte */
    EXPECT("\xED\x9F\xBF", "\xED\x9F\xBF");         /* U+D7FF, just below surrogates */
    EXPECT("\xEE\x80\x80", "\xEE\x80\x80");         /* U+E000, just above */
    EXPECT("\xEF\xBF\xBF", "\xEF\xBF\xBF");         /* U+FFFF */
    EXPECT("\xF0\x90\x80\x80", "\xF0\x90\x80\x80"); /* U+10000 */
    EXPECT("\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"); /* 😀 */
    EXPECT("\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF"); /* U+10FFFF */
}

static void replaces_invalid_utf8_with_fffd(void **s)
{
    (void)s;
    EXPECT("a\x80z", "a" FFFD "z");                    /* stray continuation */
    EXPECT("a\xBFz", "a" FFFD "z");
    EXPECT("\xFF\xFE", FFFD FFFD);                     /* never valid */
    EXPECT("\xC0\xAF", FFFD FFFD);                     /* overlong '/' */
    EXPECT("\xC1\xBF", FFFD FFFD);                     /* overlong */
    EXPECT("\xE0\x80\xAF", FFFD FFFD FFFD);            /* 3-byte overlong */
    EXPECT("\xE0\x9F\xBF", FFFD FFFD FFFD);            /* overlong U+07FF */
    EXPECT("\xF0\x80\x80\xAF", FFFD FFFD FFFD FFFD);   /* 4-byte overlong */
    EXPECT("\xF0\x8F\xBF\xBF", FFFD FFFD FFFD FFFD);   /* overlong U+FFFF */
    EXPECT("\xED\xA0\x80", FFFD FFFD FFFD);            /* surrogate U+D800 */
    EXPECT("\xED\xBF\xBF", FFFD FFFD FFFD);            /* surrogate U+DFFF */
    EXPECT("\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD);   /* above U+10FFFF */
    EXPECT("\xF5\x80\x80\x80", FFFD FFFD FFFD FFFD);
    EXPECT("\xF8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD);
}

static void replaces_truncated_sequences(void **s)
{
    (void)s;
    EXPECT("x\xC3", "x" FFFD);                         /* cut by the end */
    EXPECT("x\xE2\x82", "x" FFFD FFFD);
    EXPECT("x\xF0\x9F\x98", "x" FFFD FFFD FFFD);
    EXPECT("\xC3z", FFFD "z");                         /* cut by an ASCII byte */
    EXPECT("\xE2\x82z", FFFD FFFD "z");
    EXPECT("\xF0\x9F\x98\"", FFFD FFFD FFFD "\"");
    EXPECT("\xE2\xC3\xA9", FFFD "\xC3\xA9");           /* cut by another lead byte */
}

static void long_mixed_input_is_always_valid(void **s)
{
    (void)s;
    /* Pseudo-random bytes, with the fast 8/16-byte path and the slow path interleaved. */
    uint32_t x = 12345;
    for (int round = 0; round < 300; round++) {
        size_t n = (size_t)(round * 7 % 200) + 1;
        char in[256];
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            unsigned r = (x >> 16) & 0xff;
            in[i] = (char)(r < 160 ? 'a' + r % 26 : r); /* mostly ASCII runs */
        }
        size_t len;
        char *out = roundtrip(in, n, &len, NULL); /* jansson validates */
        free(out);
    }
}

/* json_escape_raw (the writer batch_add uses, 16-byte stores) and the bounded loop that
 * json_write_escaped falls back to near a buffer's cap must write the same bytes. */
static void raw_and_capped_writers_agree(void **s)
{
    (void)s;
    static const char *const atoms[] = {"a", "bc", "\"", "\\", "\n", "\x01", "\x7f", "\0",
                                        "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                        "\xc3", "\xe2\x82", "\xff", "\xed\xa0\x80",
                                        "0123456789abcdef"};
    uint32_t x = 777;
    for (int round = 0; round < 3000; round++) {
        char in[512];
        size_t n = 0;
        int atoms_n = (int)(round % 60);
        for (int k = 0; k < atoms_n; k++) {
            x = x * 1103515245u + 12345u;
            const char *a = atoms[(x >> 16) % (sizeof atoms / sizeof atoms[0])];
            size_t al = a[0] == '\0' ? 1 : strlen(a);
            memcpy(in + n, a, al);
            n += al;
        }
        char *raw = malloc(6 * n + 16);
        size_t rl = (size_t)(json_escape_raw(raw, in, n) - raw);
        struct buf b;
        buf_init(&b, n ? 6 * n + 15 : 16); /* no room for the raw path (n > 0) */
        assert_int_equal(json_write_escaped(&b, in, n), 0);
        if (b.len != rl || memcmp(b.p, raw, rl) != 0)
            fail_msg("round %d: raw %zu bytes, bounded %zu bytes", round, rl, b.len);
        buf_free(&b);
        free(raw);
    }
}

/* json_escape_raw reads sixteen bytes at a time, past a short string's end only while the
 * read stays in the same page: strings that end exactly where an unreadable page begins
 * must be escaped without a fault, and correctly. */
static void strings_ending_at_an_unreadable_page(void **s)
{
    (void)s;
    long pg = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    assert_int_equal(mprotect(m + pg, (size_t)pg, PROT_NONE), 0);
    static const char pat[] = "ab\"c\\d\x01e\xc3\xa9" "fghijklmnopqrstuvwxyz0123456789";
    for (size_t n = 0; n < sizeof pat; n++) {
        char *str = m + pg - n; /* the string's last byte is the page's last byte */
        memcpy(str, pat, n);
        char raw[6 * sizeof pat + 16];
        size_t rl = (size_t)(json_escape_raw(raw, str, n) - raw);
        struct buf b;
        buf_init(&b, n ? 6 * n + 15 : 16);
        assert_int_equal(json_write_escaped(&b, str, n), 0);
        if (b.len != rl || memcmp(b.p, raw, rl) != 0)
            fail_msg("n=%zu: raw and bounded writers differ", n);
        buf_free(&b);
    }
    munmap(m, (size_t)pg * 2);
}

static void cap_is_honoured(void **s)
{
    (void)s;
    struct buf b;
    buf_init(&b, 16);
    assert_int_equal(json_write_string(&b, "0123456789abcdefghij", 20), -1);
    assert_true(b.len <= 16);
    buf_free(&b);
}

static void valid_prefix_never_splits_a_character(void **s)
{
    (void)s;
    const char *t = "ab\xC3\xA9" "\xE2\x82\xAC" "\xF0\x9F\x98\x80" "z"; /* 2+2+3+4+1 = 12 */
    size_t want[] = {0, 1, 2, 2, 4, 4, 4, 7, 7, 7, 7, 11, 12};
    for (size_t n = 0; n <= 12; n++)
        assert_int_equal(utf8_valid_prefix(t, n), want[n]);
    /* an invalid byte in the middle counts as one (it is repaired later), it does not stop */
    assert_int_equal(utf8_valid_prefix("a\xFF" "b", 3), 3);
    assert_int_equal(utf8_valid_prefix("a\x80\x80", 3), 3);
    /* an incomplete sequence at the end is excluded */
    assert_int_equal(utf8_valid_prefix("abc\xF0\x9F", 5), 3);
    assert_int_equal(utf8_valid_prefix("abc\xE2", 4), 3);
    /* every cut of a string of 3-byte characters lands on a boundary */
    char big[300];
    for (int i = 0; i < 100; i++)
        memcpy(big + 3 * i, "\xE2\x82\xAC", 3);
    for (size_t n = 0; n <= 300; n++) {
        size_t p = utf8_valid_prefix(big, n);
        assert_true(p <= n && p % 3 == 0 && n - p < 3);
    }
}

static void numbers_and_timestamps(void **s)
{
    (void)s;
    struct buf b;
    buf_init(&b, 0);
    json_write_int(&b, 0);
    buf_addc(&b, ' ');
    json_write_int(&b, -42);
    buf_addc(&b, ' ');
    json_write_int(&b, INT64_MIN);
    buf_addc(&b, ' ');
    json_write_int(&b, INT64_MAX);
    buf_addc(&b, ' ');
    json_write_double(&b, 1.5);
    buf_addc(&b, ' ');
    json_write_double(&b, 0.0 / 0.0);
    buf_addc(&b, ' ');
    json_write_double(&b, 1e300 * 1e300);
    buf_addc(&b, ' ');
    json_write_double(&b, 1e20);
    buf_cstr(&b);
    assert_string_equal(b.p, "0 -42 -9223372036854775808 9223372036854775807 1.5 null null 1e+20");
    buf_free(&b);
    char ts[32];
    assert_int_equal(json_format_ts(0, ts), 24);
    assert_string_equal(ts, "1970-01-01T00:00:00.000Z");
    json_format_ts(1795669749325LL, ts);
    assert_string_equal(ts, "2026-11-26T05:09:09.325Z");
    json_format_ts(1795669749999LL, ts); /* same second, cached date part */
    assert_string_equal(ts, "2026-11-26T05:09:09.999Z");
    json_format_ts(1795669750000LL, ts);
    assert_string_equal(ts, "2026-11-26T05:09:10.000Z");
    json_format_ts(-1, ts);
    assert_string_equal(ts, "1969-12-31T23:59:59.999Z");
}

/* The hand-written calendar against libc's gmtime_r: every day from 1600 to 2400 at a
 * varying time of day, leap years and centuries included, and the clamped ends. */
static void format_ts_matches_gmtime_from_1600_to_2400(void **state)
{
    (void)state;
    char ts[32], want[64];
    for (int64_t day = -135140; day <= 156570; day++) {
        int64_t sec = day * 86400 + (day * 7919) % 86400;
        time_t t = (time_t)sec;
        struct tm tm;
        assert_non_null(gmtime_r(&t, &tm));
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(day % 1000 < 0 ? -(day % 1000) : day % 1000));
        int64_t ms = sec * 1000 + (day % 1000 < 0 ? -(day % 1000) : day % 1000);
        assert_int_equal(json_format_ts(ms, ts), 24);
        if (strcmp(ts, want) != 0)
            fail_msg("day %lld: %s, gmtime says %s", (long long)day, ts, want);
    }
    json_format_ts(INT64_MIN, ts);
    assert_string_equal(ts, "0000-01-01T00:00:00.000Z");
    json_format_ts(INT64_MAX, ts);
    assert_string_equal(ts, "9999-12-31T23:59:59.999Z");
    json_format_ts(-62167219200000LL - 1, ts);
    assert_string_equal(ts, "0000-01-01T00:00:00.000Z");
    json_format_ts(951782400000LL, ts); /* 2000 is a leap year */
    assert_string_equal(ts, "2000-02-29T00:00:00.000Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_ts_matches_gmtime_from_1600_to_2400),
        cmocka_unit_test(escapes_quote_backslash_and_short_controls),
        cmocka_unit_test(escapes_every_control_char_nul_and_del),
        cmocka_unit_test(keeps_valid_two_three_four_byte_characters),
        cmocka_unit_test(replaces_invalid_utf8_with_fffd),
        cmocka_unit_test(replaces_truncated_sequences),
        cmocka_unit_test(long_mixed_input_is_always_valid),
        cmocka_unit_test(raw_and_capped_writers_agree),
        cmocka_unit_test(strings_ending_at_an_unreadable_page),
        cmocka_unit_test(cap_is_honoured),
        cmocka_unit_test(valid_prefix_never_splits_a_character),
        cmocka_unit_test(numbers_and_timestamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
