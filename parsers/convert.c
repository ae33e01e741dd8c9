/*
 * convert.c - conversions of captured text into typed fields (the `types` of a [parser]
 * section, the types a layout gives its fields, a built-in's numbers): hand-written number
 * parsing that needs no NUL and rejects what JSON cannot carry (nan, inf, hex), durations
 * scaled to ns (ECS event.duration).
 *
 * Threads: pure functions, called on the tail thread (and by tests).
 */
#include "parsers/convert.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int conv_to_int(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i == n)
        return -1;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int conv_to_float(const char *s, size_t n, double *out)
{
    char tmp[64];
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= sizeof tmp)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!(isdigit((unsigned char)s[i]) || strchr("+-.eE", s[i])))
            return -1; /* no "nan", "inf", hex floats */
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    if (end != tmp + n || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int conv_to_bool(const char *s, size_t n, int *out)
{
    static const char *const t[] = {"true", "yes", "1"}, *const f[] = {"false", "no", "0"};
    for (int i = 0; i < 3; i++) {
        if (strlen(t[i]) == n && !strncasecmp(s, t[i], n)) {
            *out = 1;
            return 0;
        }
        if (strlen(f[i]) == n && !strncasecmp(s, f[i], n)) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

void conv_add_typed(struct event_builder *eb, const struct fkey *k, int type, const char *s,
                      size_t n)
{
    int ok = -1;
    switch (type) {
    case PT_INT: {
        int64_t v;
        if (conv_to_int(s, n, &v) == 0)
            ok = eb_add_int(eb, k, v) == 0 ? 0 : 1;
        break;
    }
    case PT_FLOAT: {
        double v;
        if (conv_to_float(s, n, &v) == 0)
            ok = eb_add_float(eb, k, v) == 0 ? 0 : 1;
        break;
    }
    case PT_BOOL: {
        int v;
        if (conv_to_bool(s, n, &v) == 0)
            ok = eb_add_bool(eb, k, v) == 0 ? 0 : 1;
        break;
    }
    case PT_DUR_S:
    case PT_DUR_MS:
    case PT_DUR_US: {
        double v;
        static const double ns[] = {1e9, 1e6, 1e3};
        if (conv_to_float(s, n, &v) == 0 && v >= 0 && v < 9e9)
            ok = eb_add_int(eb, k, llround(v * ns[type - PT_DUR_S])) == 0 ? 0 : 1;
        break;
    }
    default:
        eb_add_str(eb, k, s, n);
        return;
    }
    if (ok < 0) {
        eb_add_str(eb, k, s, n);
        eb->flags |= EV_PARSE_FAILURE;
    }
}
