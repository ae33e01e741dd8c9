/*
 * json.c - JSON string escaping with UTF-8 repair, numbers and timestamps (see json.h).
 *
 * The escape loop is the hottest code in logferry: every message passes through it. It
 * checks sixteen bytes at a time (SSE2; eight with a portable fallback) for anything that
 * needs attention (a control byte or DEL, '"', '\\', a byte >= 0x80) and copies clean runs, valid
 * UTF-8 included, with one memcpy. Non-ASCII is validated per the
 * Unicode table of well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
 */
#include "agent/base/json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/base/calendar.h"

#ifdef __SSE2__
#include <emmintrin.h>

/* Length of the prefix of p[0..n) that needs no escaping: no control byte, DEL, '"', '\\' or
 * byte >= 0x80. Sixteen bytes per step: a signed compare with 0x20 flags control bytes and
 * every byte >= 0x80 (negative as signed) in one instruction. DEL (0x7f) is a control
 * character too (json.h promises \u007f): escaped so no raw control byte reaches a log
 * viewer or terminal. */
static inline size_t scan_clean(const unsigned char *p, size_t n)
{
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(0x20);
    const __m128i del = _mm_set1_epi8(0x7f);
    size_t i = 0;
    while (i + 16 <= n) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)),
                                 _mm_or_si128(_mm_cmplt_epi8(v, sp), _mm_cmpeq_epi8(v, del)));
        int mask = _mm_movemask_epi8(m);
        if (mask)
            return i + (size_t)__builtin_ctz((unsigned)mask);
        i += 16;
    }
    while (i < n && p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
        i++;
    return i;
}
#else
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Non-zero if any byte of w is < 0x20, == '"', == '\\', == 0x7f (DEL) or >= 0x80. */
static inline uint64_t needs_attention(uint64_t w)
{
    uint64_t lt20 = (w - ONES * 0x20) & ~w;
    uint64_t q = w ^ (ONES * '"');
    uint64_t bs = w ^ (ONES * '\\');
    uint64_t zq = (q - ONES) & ~q;
    uint64_t zbs = (bs - ONES) & ~bs;
    uint64_t dl = w ^ (ONES * 0x7f);
    uint64_t zdl = (dl - ONES) & ~dl;
    return (lt20 | zq | zbs | zdl | w) & HIGHS;
}

static inline size_t scan_clean(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (needs_attention(w))
            break;
        i += 8;
    }
    while (i < n && p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
        i++;
    return i;
}
#endif

int json_is_clean(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = scan_clean(p, n);
    return i == n;
}

size_t utf8_valid_prefix(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t l = json_utf8_seq(p + i, n - i);
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

/* The escape sequence of an ASCII byte that needs one (c < 0x20, '"', '\\', DEL) at w;
 * returns its length. */
static inline size_t escape_ascii(char *w, unsigned c)
{
    static const char hex[] = "0123456789abcdef";
    w[0] = '\\';
    switch (c) {
    case '"': w[1] = '"'; return 2;
    case '\\': w[1] = '\\'; return 2;
    case '\n': w[1] = 'n'; return 2;
    case '\t': w[1] = 't'; return 2;
    case '\r': w[1] = 'r'; return 2;
    case '\b': w[1] = 'b'; return 2;
    case '\f': w[1] = 'f'; return 2;
    default:
        w[1] = 'u'; w[2] = '0'; w[3] = '0';
        w[4] = hex[c >> 4]; w[5] = hex[c & 15];
        return 6;
    }
}

#ifdef __SSE2__
/* Sixteen bytes at p when fewer remain in the string: a load that stays inside p's 4 KiB
 * page cannot fault whatever follows the string, and the caller masks the extra bytes off.
 * ASan would still call it an overflow, so it is not instrumented (it reads, never writes,
 * and nothing read past the end is used). */
#if defined(__clang__)
__attribute__((no_sanitize("address")))
#else
__attribute__((no_sanitize_address))
#endif
static __m128i load_within_page(const unsigned char *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

static inline int page_safe(const unsigned char *p)
{
    return ((uintptr_t)p & 4095) <= 4096 - 16;
}
#endif

char *json_escape_raw(char *w, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    for (;;) {
#ifdef __SSE2__
        /* Copy sixteen bytes, then look at them: a clean block costs one load and one
         * store; otherwise only the clean prefix counts and the rest is written again. The
         * string's last bytes take one more such step when the load cannot fault. */
        const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(0x20);
        const __m128i del = _mm_set1_epi8(0x7f);
        while (i < n) {
            __m128i v;
            size_t left = n - i;
            if (left >= 16)
                v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            else if (page_safe(p + i))
                v = load_within_page(p + i);
            else
                break;
            _mm_storeu_si128((__m128i *)(void *)w, v);
            __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)),
                                     _mm_or_si128(_mm_cmplt_epi8(v, sp), _mm_cmpeq_epi8(v, del)));
            unsigned mask = (unsigned)_mm_movemask_epi8(m);
            if (left < 16)
                mask &= (1u << left) - 1;
            if (mask) {
                size_t k = (size_t)__builtin_ctz(mask);
                i += k;
                w += k;
                goto attention;
            }
            size_t adv = left < 16 ? left : 16;
            i += adv;
            w += adv;
        }
#endif
        while (i < n && p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
            *w++ = (char)p[i++];
        if (i >= n)
            return w;
#ifdef __SSE2__
    attention:
#endif
        if (p[i] >= 0x80) {
            /* A run of non-ASCII (a word of Korean, a name) is taken whole: each byte would
             * stop the fast loop at once anyway. */
            do {
                size_t l = json_utf8_seq(p + i, n - i);
                if (l) { /* well-formed: copied as is */
                    memcpy(w, p + i, l);
                    w += l;
                    i += l;
                } else {
                    memcpy(w, "\xEF\xBF\xBD", 3);
                    w += 3;
                    i++;
                }
            } while (i < n && p[i] >= 0x80);
        } else {
            w += escape_ascii(w, p[i++]);
        }
    }
}

int json_write_escaped(struct buf *b, const char *s, size_t n)
{
    /* Room for the worst case (every byte \u00XX): the single-pass writer. */
    if (n <= (SIZE_MAX - 16) / 6 && b->cap - b->len >= 6 * n + 16) {
        b->len = (size_t)(json_escape_raw(b->p + b->len, s, n) - b->p);
        return 0;
    }
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    if (buf_reserve(b, n + 16) != 0)
        return -1;
    while (i < n) {
        /* A run of bytes that go out unchanged: clean ASCII and well-formed UTF-8. */
        size_t run = i + scan_clean(p + i, n - i);
        while (run < n && p[run] >= 0x80) {
            size_t l = json_utf8_seq(p + run, n - run);
            if (!l)
                break;
            run += l;
            run += scan_clean(p + run, n - run);
        }
        if (run > i) {
            if (buf_add(b, p + i, run - i) != 0)
                return -1;
            i = run;
        }
        if (i >= n)
            break;
        unsigned c = p[i++];
        if (c >= 0x80) { /* not well-formed UTF-8 */
            if (buf_add(b, "\xEF\xBF\xBD", 3) != 0)
                return -1;
            continue;
        }
        char e[6];
        size_t el = escape_ascii(e, c);
        if (buf_add(b, e, el) != 0)
            return -1;
    }
    return 0;
}

int json_write_string(struct buf *b, const char *s, size_t n)
{
    if (buf_addc(b, '"') != 0 || json_write_escaped(b, s, n) != 0 || buf_addc(b, '"') != 0)
        return -1;
    return 0;
}

char *json_int_raw(char *w, int64_t v)
{
    /* Straight into place, two digits per division: digits written to a stack buffer and
     * copied out stalled on store forwarding in the event writer. */
    static const char d2[] = "00010203040506070809101112131415161718192021222324252627282930"
                             "31323334353637383940414243444546474849505152535455565758596061"
                             "62636465666768697071727374757677787980818283848586878889909192"
                             "93949596979899";
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (v < 0)
        *w++ = '-';
    int nd = 1;
    for (uint64_t t = u; t >= 10; t /= 10)
        nd++;
    char *q = w + nd;
    while (u >= 100) {
        unsigned r = (unsigned)(u % 100);
        u /= 100;
        q -= 2;
        memcpy(q, d2 + 2 * r, 2);
    }
    if (u >= 10) {
        q -= 2;
        memcpy(q, d2 + 2 * u, 2);
    } else {
        *--q = (char)('0' + u);
    }
    return w + nd;
}

int json_write_int(struct buf *b, int64_t v)
{
    char tmp[20]; /* '-' and 19 digits at most */
    if (b->cap - b->len < sizeof tmp) /* near a cap: only what the number takes */
        return buf_add(b, tmp, (size_t)(json_int_raw(tmp, v) - tmp));
    b->len = (size_t)(json_int_raw(b->p + b->len, v) - b->p);
    return 0;
}

int json_write_double(struct buf *b, double v)
{
    if (!isfinite(v))
        return buf_add(b, "null", 4);
    /* Range first: converting a double outside int64_t's range is undefined behaviour. */
    if (fabs(v) < 1e15 && v == (double)(int64_t)v)
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

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

int json_format_ts(int64_t ms, char out[32])
{
    /* Years 0000-9999 only (RFC 3339): times outside are clamped to the nearest end. */
    static const int64_t lo = -62167219200LL, hi = 253402300799LL;
    int64_t sec = ms / 1000;
    int msec = (int)(ms % 1000);
    if (msec < 0) { /* floor, for times before 1970 */
        msec += 1000;
        sec--;
    }
    if (sec < lo) {
        sec = lo;
        msec = 0;
    } else if (sec > hi) {
        sec = hi;
        msec = 999;
    }
    /* Consecutive events mostly share their second (cached whole) and their day. */
    static _Thread_local int64_t cached_sec = INT64_MIN, cached_day = INT64_MIN;
    static _Thread_local char hms[19];
    if (sec != cached_sec) {
        int64_t days = sec / 86400;
        int sod = (int)(sec % 86400);
        if (sod < 0) {
            sod += 86400;
            days--;
        }
        if (days != cached_day) {
            int y, m, d;
            cal_civil_from_days(days, &y, &m, &d);
            put2(hms, y / 100);
            put2(hms + 2, y % 100);
            hms[4] = '-';
            put2(hms + 5, m);
            hms[7] = '-';
            put2(hms + 8, d);
            hms[10] = 'T';
            cached_day = days;
        }
        put2(hms + 11, sod / 3600);
        hms[13] = ':';
        put2(hms + 14, sod / 60 % 60);
        hms[16] = ':';
        put2(hms + 17, sod % 60);
        cached_sec = sec;
    }
    memcpy(out, hms, 19);
    out[19] = '.';
    out[20] = (char)('0' + msec / 100);
    out[21] = (char)('0' + msec / 10 % 10);
    out[22] = (char)('0' + msec % 10);
    out[23] = 'Z';
    out[24] = '\0';
    return 24;
}

json_t *lf_json_string_lossy(const char *str)
{
    json_t *j = json_string(str ? str : "");
    if (j)
        return j;
    /* Not valid UTF-8 (a file name is any bytes): every invalid byte becomes U+FFFD. */
    const unsigned char *p = (const unsigned char *)str;
    size_t len = strlen(str), i = 0;
    struct buf b;
    buf_init(&b, 0);
    while (i < len) {
        size_t n = json_utf8_seq(p + i, len - i);
        if (buf_add(&b, n ? (const char *)p + i : "\xEF\xBF\xBD", n ? n : 3) != 0) {
            buf_free(&b);
            return NULL;
        }
        i += n ? n : 1;
    }
    j = json_stringn(b.p ? b.p : "", b.len);
    buf_free(&b);
    return j;
}

const char *lf_json_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

long long lf_json_num(const json_t *o, const char *key, long long dflt)
{
    json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        return (long long)json_integer_value(v);
    if (json_is_real(v))
        return (long long)json_real_value(v);
    return dflt;
}
