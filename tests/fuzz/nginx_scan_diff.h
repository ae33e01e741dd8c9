/*
 * nginx_scan_diff.h - the differential check behind tests/unit/test_nginx_scan.c and
 * tests/fuzz/fuzz_nginx_scan.c: whenever parsers/nginx_scan.c claims a match, PCRE2 running
 * the built-in nginx_combined pattern (compiled exactly as parser_find() compiles it) must
 * match too, with the same offsets for every capture, and its "needs no JSON escaping"
 * bits must agree with json_is_clean().
 */
#ifndef LF_NGINX_SCAN_DIFF_H
#define LF_NGINX_SCAN_DIFF_H

#include <stdio.h>

#include "agent/base/json.h"
#include "parsers/nginx_scan.h"
#include "parsers/parser.h"

struct scan_diff {
    pcre2_code *re;
    pcre2_match_data *md;
};

static inline int scan_diff_init(struct scan_diff *d)
{
    char err[256];
    d->re = parser_compile(parser_type_find("nginx_combined")->pattern, 0, err, sizeof err);
    d->md = d->re ? pcre2_match_data_create_from_pattern(d->re, NULL) : NULL;
    return d->md ? 0 : -1;
}

static inline void scan_diff_free(struct scan_diff *d)
{
    pcre2_match_data_free(d->md);
    pcre2_code_free(d->re);
}

/* 1: the scanner answered and agrees with PCRE2; 0: it declined; -1: it disagrees (what
 * differs is written to why). */
static inline int scan_diff(struct scan_diff *d, const char *s, size_t n, char *why,
                            size_t whysz)
{
    size_t ov[2 * NGINX_SCAN_GROUPS];
    unsigned clean;
    if (!nginx_scan(s, n, ov, &clean))
        return 0;
    int rc = pcre2_match(d->re, (PCRE2_SPTR)s, n, 0, 0, d->md, NULL);
    if (rc <= 0) {
        snprintf(why, whysz, "scanner matched, PCRE2 did not (rc %d)", rc);
        return -1;
    }
    const PCRE2_SIZE *pv = pcre2_get_ovector_pointer(d->md);
    for (int g = 0; g < NGINX_SCAN_GROUPS; g++) {
        /* groups at or above rc did not take part: PCRE2_UNSET */
        PCRE2_SIZE ps = g < rc ? pv[2 * g] : PCRE2_UNSET, pe = g < rc ? pv[2 * g + 1] : PCRE2_UNSET;
        if (ps != ov[2 * g] || pe != ov[2 * g + 1]) {
            snprintf(why, whysz, "group %d: scanner [%lld,%lld) PCRE2 [%lld,%lld)", g,
                     (long long)ov[2 * g], (long long)ov[2 * g + 1], (long long)ps,
                     (long long)pe);
            return -1;
        }
        /* the clean bits are exact for the quoted captures and absent elsewhere */
        int want = (g == 4 || g == 7 || g == 8) && ps != PCRE2_UNSET &&
                   json_is_clean(s + ps, pe - ps);
        if (!!(clean & (1u << g)) != want) {
            snprintf(why, whysz, "group %d: clean bit %d, json_is_clean says %d", g,
                     !!(clean & (1u << g)), want);
            return -1;
        }
    }
    return 1;
}

#endif
