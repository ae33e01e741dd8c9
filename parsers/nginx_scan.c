/*
 * nginx_scan.c - a hand-written matcher that gives the same captures as PCRE2 would for
 * access.c's nginx_combined pattern, on the lines it is sure of (see nginx_scan.h).
 *
 * Why it exists: perf on bench/run.sh's nginx input showed the PCRE2 JIT match as the
 * largest single cost of the tail thread (13 % of the agent's CPU, about 170 ns a line on
 * that varied input). This scanner does the same job with memchr and a 16-byte-wide quote
 * search; parse_bench went from 590 to 516 ns a line with it.
 *
 * How it stays exact: it walks the pattern
 *     ^([^\[]+?) - ([^\[]*?) \[([^\]]*)\] "Q" (\d{3}) (\d{1,18}|-)(?: "Q")?(?: "Q")?(.*)$
 *     Q = ((?:[^"\\]++|\\.)*+)
 * the way the backtracking engine resolves it (reasoning below, next to each step) and
 * declines - returns 0 so the caller runs PCRE2 - whenever the line does not fit, so a
 * non-matching or unusual line is always PCRE2's to judge. tests/fuzz/fuzz_nginx_scan.c
 * compares every claimed match with PCRE2's ovector.
 */
#include "parsers/nginx_scan.h"

#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

int nginx_scan_usable(void)
{
    /* '.' and '$' mean "not a newline": the scanner assumes the newline is LF alone, as
     * Debian's PCRE2 is built. Another build default: the scanner is never used. */
    uint32_t nl = 0;
    return pcre2_config(PCRE2_CONFIG_NEWLINE, &nl) >= 0 && nl == PCRE2_NEWLINE_LF;
}

/* Position of the '"' that closes a Q starting at p, or len when there is none. Q is
 * possessive: runs of bytes other than '"' and '\\', or '\\' and any byte; a '\\' as the
 * last byte ends the loop on itself, which is not the '"' the pattern needs.
 * On the way it notes whether the text would need JSON escaping (*dirty: a '\\', control
 * byte, DEL or byte >= 0x80 met), so the event writer can copy clean values as they are. */
static size_t quoted_end(const char *s, size_t p, size_t len, int *dirty)
{
    for (;;) {
#ifdef __SSE2__
        const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
        const __m128i sp = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
        while (p + 16 <= len) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + p));
            __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs));
            if (!*dirty) /* signed < 0x20: control bytes and every byte >= 0x80 */
                m = _mm_or_si128(m, _mm_or_si128(_mm_cmplt_epi8(v, sp), _mm_cmpeq_epi8(v, del)));
            int mk = _mm_movemask_epi8(m);
            if (mk) {
                p += (size_t)__builtin_ctz((unsigned)mk);
                break;
            }
            p += 16;
        }
#endif
        while (p < len && s[p] != '"' && s[p] != '\\' &&
               (*dirty || ((unsigned char)s[p] >= 0x20 && (unsigned char)s[p] < 0x7f)))
            p++;
        if (p >= len)
            return len;
        if (s[p] == '"')
            return p;
        *dirty = 1;
        if (s[p] != '\\') { /* control, DEL or non-ASCII: only the flag changes */
            p++;
            continue;
        }
        /* '\\' last, or before LF ('.' does not match it): the loop ends on the '\\',
         * which is not the '"' the pattern needs */
        if (p + 1 >= len || s[p + 1] == '\n')
            return len;
        p += 2;
    }
}

static int dig(char c)
{
    return c >= '0' && c <= '9';
}

int nginx_scan(const char *rec, size_t len, size_t ov[2 * NGINX_SCAN_GROUPS], unsigned *clean)
{
    int dirty[NGINX_SCAN_GROUPS] = {0};
    /* LF only matters where the pattern says '.' or '$': after a '\\' inside quotes
     * (quoted_end) and in the trailing (.*)$ (checked at the end); [^...] classes match it. */
    if (len == 0)
        return 0;
    /* Neither group 1 nor group 2 may hold '[', so the first '[' of the line is the one
     * after " - " and " ": everything after it is fixed whatever the split of the text
     * before it, hence a failure there means no match at all. */
    const char *lb = memchr(rec, '[', len);
    if (!lb)
        return 0;
    size_t b = (size_t)(lb - rec);
    if (b < 5 || rec[b - 1] != ' ')
        return 0;
    /* Group 1 is lazy: the first " - " at index >= 1 that leaves room for " [" after it
     * (i + 3 <= b - 1); group 2, lazy too, then runs to the " [" at b - 1. */
    size_t i = 1;
    while (i + 4 <= b && !(rec[i] == ' ' && rec[i + 1] == '-' && rec[i + 2] == ' '))
        i++;
    if (i + 4 > b)
        return 0;
    ov[2] = 0, ov[3] = i;
    ov[4] = i + 3, ov[5] = b - 1;
    /* [^\]]* is greedy up to the first ']', which must be followed by ' "'. */
    size_t p = b + 1;
    const char *rb = memchr(rec + p, ']', len - p);
    if (!rb)
        return 0;
    size_t c = (size_t)(rb - rec);
    if (c + 2 >= len || rec[c + 1] != ' ' || rec[c + 2] != '"')
        return 0;
    ov[6] = p, ov[7] = c;
    p = c + 3;
    size_t q = quoted_end(rec, p, len, &dirty[4]);
    if (q >= len)
        return 0;
    ov[8] = p, ov[9] = q;
    p = q + 1;
    /* '" ' three digits ' ' */
    if (p + 5 > len || rec[p] != ' ' || !dig(rec[p + 1]) || !dig(rec[p + 2]) ||
        !dig(rec[p + 3]) || rec[p + 4] != ' ')
        return 0;
    ov[10] = p + 1, ov[11] = p + 4;
    p += 5;
    /* (\d{1,18}|-): greedy; what follows always matches (the optional groups and (.*)$ on a
     * line without LF), so the engine never gives digits back. */
    size_t s = p;
    while (p < len && p - s < 18 && dig(rec[p]))
        p++;
    if (p == s) {
        if (p >= len || rec[p] != '-')
            return 0;
        p++;
    }
    ov[12] = s, ov[13] = p;
    /* Two greedy optional ' "Q"': taken when Q closes. The second is tried where the first
     * failed only when the first was taken (at the same place it would fail the same way). */
    ov[14] = ov[15] = ov[16] = ov[17] = PCRE2_UNSET;
    for (int g = 7; g <= 8; g++) {
        if (!(p + 1 < len && rec[p] == ' ' && rec[p + 1] == '"'))
            break;
        size_t e = quoted_end(rec, p + 2, len, &dirty[g]);
        if (e >= len)
            break;
        ov[2 * g] = p + 2, ov[2 * g + 1] = e;
        p = e + 1;
    }
    if (memchr(rec + p, '\n', len - p))
        return 0;
    ov[18] = p, ov[19] = len;
    ov[0] = 0, ov[1] = len;
    static const int quoted[] = {4, 7, 8};
    *clean = 0;
    for (int k = 0; k < 3; k++)
        if (ov[2 * quoted[k]] != PCRE2_UNSET && !dirty[quoted[k]])
            *clean |= 1u << quoted[k];
    return 1;
}
