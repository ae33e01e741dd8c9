/*
 * json.h - the hand-written JSON writer on the hot path.
 *
 * Why hand-written: building a jansson object per event and dumping it costs about 5 µs
 * (200,000 events/s on this machine, measured for issue 3), while the whole per-line budget
 * is 1 µs. jansson stays for everything off the hot path (registry, config, JSON-log parsing).
 * This file is small and fuzzed through tests/fuzz/fuzz_parse.c (every event it writes is
 * parsed back with jansson).
 *
 * Guarantee: whatever bytes go in, what comes out is valid JSON text in valid UTF-8: invalid
 * UTF-8 sequences become U+FFFD, control characters become \u00XX escapes (\n, \t...
 * in their short forms), '"' and '\' are escaped. Pure functions of their arguments.
 */
#ifndef LF_JSON_H
#define LF_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "agent/base/buf.h"
#include "agent/base/must_check.h"

/* Appends "..." (quoted, escaped, repaired). Returns 0, or -1 when the buffer's cap is hit. */
int json_write_string(struct buf *b, const char *s, size_t n);
/* Appends the escaped body without the quotes. */
int json_write_escaped(struct buf *b, const char *s, size_t n);
/* The same escaping into raw memory: w must have room for 6 * n + 16 bytes (whole 16-byte
 * stores may run up to 15 bytes past the result). Returns one past the last byte written. */
char *json_escape_raw(char *w, const char *s, size_t n);
/* 1 when s[0..n) goes into a JSON string unchanged (printable ASCII without '"' and '\\'). */
int json_is_clean(const char *s, size_t n);
int json_write_int(struct buf *b, int64_t v);
/* The same into raw memory with room for 20 bytes; returns one past the last digit. */
char *json_int_raw(char *w, int64_t v);
/* NaN and infinities are written as null. */
int json_write_double(struct buf *b, double v);

/* Formats ms since the epoch as RFC 3339 UTC with milliseconds: 2026-11-26T05:01:02.123Z
 * (24 characters + NUL), years 0000-9999 (clamped outside). Returns the length. */
int json_format_ts(int64_t ms, char out[32]);

/* Length of the well-formed UTF-8 sequence at s[0..n) (1..4), or 0 when it is not
 * well-formed (overlong, surrogate, above U+10FFFF, cut by n). The one decoder of the tree:
 * inline because the JSON escaper calls it for every non-ASCII byte. */
static inline size_t json_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        if (n >= 2 && (s[1] & 0xC0) == 0x80)
            return 2;
        return 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[2] & 0xC0) != 0x80)
            return 0;
        unsigned c1 = s[1];
        if (c == 0xE0 ? (c1 < 0xA0 || c1 > 0xBF)
                      : c == 0xED ? (c1 < 0x80 || c1 > 0x9F) : (c1 & 0xC0) != 0x80)
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        unsigned c1 = s[1];
        if (c == 0xF0 ? (c1 < 0x90 || c1 > 0xBF)
                      : c == 0xF4 ? (c1 < 0x80 || c1 > 0x8F) : (c1 & 0xC0) != 0x80)
            return 0;
        return 4;
    }
    return 0;
}

/* Returns the length of the longest prefix of s[0..n) that is valid UTF-8 and ends on a
 * character boundary (used to cut long lines without splitting a character). */
size_t utf8_valid_prefix(const char *s, size_t n);

/* Off the hot path, for the jansson objects of the status and the registry: */

/* A JSON string of s even when s is not valid UTF-8 (file names are any bytes): invalid bytes
 * become U+FFFD. Use it for every string the status takes from outside (paths, error texts),
 * so no file or output silently drops out of it. NULL only on out of memory. */
LF_MUST_CHECK json_t *lf_json_string_lossy(const char *s);
/* The string member `key` of o, or "" when o is not an object or the member not a string. */
const char *lf_json_str(const json_t *o, const char *key);
/* The number member `key` of o (an integer, or a real cut toward zero), or dflt. */
long long lf_json_num(const json_t *o, const char *key, long long dflt);

#endif
