/*
 * test_json.c - the hand-written JSON writer (agent/json.c): string escaping with UTF-8
 * repair, utf8_valid_prefix() (where long lines are cut), numbers and timestamps.
 * Every escaped string is also parsed back with jansson, which rejects invalid UTF-8 and raw
 * control characters, so "valid JSON whatever the input" is checked by an independent parser.
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

#include "agent/json.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escapes_quote_backslash_and_short_controls),
        cmocka_unit_test(escapes_every_control_char_nul_and_del),
        cmocka_unit_test(keeps_valid_two_three_four_byte_characters),
        cmocka_unit_test(replaces_invalid_utf8_with_fffd),
        cmocka_unit_test(replaces_truncated_sequences),
        cmocka_unit_test(long_mixed_input_is_always_valid),
        cmocka_unit_test(cap_is_honoured),
        cmocka_unit_test(valid_prefix_never_splits_a_character),
        cmocka_unit_test(numbers_and_timestamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
