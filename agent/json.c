/*
 * json.c - JSON string escaping with UTF-8 repair, numbers and timestamps (see json.h).
 *
 * The escape loop is the hottest code in logferry: every message passes through it. It
 * checks eight bytes at a time for anything that needs attention (a control byte, '"', '\\',
 * a byte >= 0x80) and copies clean runs with one memcpy. Non-ASCII is validated per the
 * Unicode table of well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
 */
#include "agent/json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Non-zero if any byte of w is < 0x20, == '"', == '\\' or >= 0x80. */
static inline uint64_t needs_attention(uint64_t w)
{
    uint64_t lt20 = (w - ONES * 0x20) & ~w;
    uint64_t q = w ^ (ONES * '"');
    uint64_t bs = w ^ (ONES * '\\');
    uint64_t zq = (q - ONES) & ~q;
    uint64_t zbs = (bs - ONES) & ~bs;
    return (lt20 | zq | zbs | w) & HIGHS;
}

/* Length of a well-formed UTF-8 sequence at s (1..4), or 0 if it is not well-formed. */
static inline size_t utf8_seq(const unsigned char *s, size_t n)
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

size_t utf8_valid_prefix(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t l = utf8_seq(p + i, n - i);
        if (l == 0) {
            /* An incomplete sequence cut by the end is where the prefix stops; an invalid
             * byte in the middle still counts as one (it will be repaired to U+FFFD). */
            if (n - i < 4 && p[i] >= 0xC2 && p[i] <= 0xF4)
                return i;
            l = 1;
        }
        i += l;
    }
    return i;
}

int json_write_escaped(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    /* Worst case is 6 output bytes per input byte; reserve once for the common case. */
    if (buf_reserve(b, n + 16) != 0)
        return -1;
    while (i < n) {
        size_t run = i;
        while (run + 8 <= n) {
            uint64_t w;
            memcpy(&w, p + run, 8);
            if (needs_attention(w))
                break;
            run += 8;
        }
        while (run < n) {
            unsigned c = p[run];
            if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80)
                break;
            run++;
        }
        if (run > i) {
            if (buf_add(b, p + i, run - i) != 0)
                return -1;
            i = run;
        }
        if (i >= n)
            break;
        unsigned c = p[i];
        if (c >= 0x80) {
            size_t l = utf8_seq(p + i, n - i);
            if (l) {
                if (buf_add(b, p + i, l) != 0)
                    return -1;
                i += l;
            } else {
                if (buf_add(b, "\xEF\xBF\xBD", 3) != 0)
                    return -1;
                i++;
            }
            continue;
        }
        char e[6];
        size_t el = 2;
        e[0] = '\\';
        switch (c) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\n': e[1] = 'n'; break;
        case '\t': e[1] = 't'; break;
        case '\r': e[1] = 'r'; break;
        case '\b': e[1] = 'b'; break;
        case '\f': e[1] = 'f'; break;
        default:
            e[1] = 'u'; e[2] = '0'; e[3] = '0';
            e[4] = hex[c >> 4]; e[5] = hex[c & 15];
            el = 6;
        }
        if (buf_add(b, e, el) != 0)
            return -1;
        i++;
    }
    return 0;
}

int json_write_string(struct buf *b, const char *s, size_t n)
{
    if (buf_addc(b, '"') != 0 || json_write_escaped(b, s, n) != 0 || buf_addc(b, '"') != 0)
        return -1;
    return 0;
}

int json_write_int(struct buf *b, int64_t v)
{
    char tmp[24];
    char *e = tmp + sizeof tmp, *q = e;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--q = '-';
    return buf_add(b, q, (size_t)(e - q));
}

int json_write_double(struct buf *b, double v)
{
    if (!isfinite(v))
        return buf_add(b, "null", 4);
    if (v == (double)(int64_t)v && fabs(v) < 1e15)
        return json_write_int(b, (int64_t)v);
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, "%.17g", v);
    /* Shorten when a shorter form round-trips (15 digits usually does). */
    char t2[40];
    int n2 = snprintf(t2, sizeof t2, "%.15g", v);
    if (strtod(t2, NULL) == v)
        return buf_add(b, t2, (size_t)n2);
    return buf_add(b, tmp, (size_t)n);
}

int json_format_ts(int64_t ms, char out[32])
{
    /* The date part changes once a second; cache it per thread. */
    static _Thread_local int64_t cached_sec = INT64_MIN;
    static _Thread_local char cached[64];
    int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int msec = (int)(ms - sec * 1000);
    if (sec != cached_sec) {
        time_t t = (time_t)sec;
        struct tm tm;
        if (!gmtime_r(&t, &tm)) {
            memset(&tm, 0, sizeof tm);
            tm.tm_year = 70;
            tm.tm_mday = 1;
        }
        int y = tm.tm_year + 1900;
        if (y < 0)
            y = 0;
        if (y > 9999)
            y = 9999;
        snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", y, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cached_sec = sec;
    }
    memcpy(out, cached, 19);
    out[19] = '.';
    out[20] = (char)('0' + msec / 100);
    out[21] = (char)('0' + msec / 10 % 10);
    out[22] = (char)('0' + msec % 10);
    out[23] = 'Z';
    out[24] = '\0';
    return 24;
}
