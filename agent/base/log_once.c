/*
 * log_once.c - the bounded set of kinds already logged (log_once.h). Owner thread only.
 */
#include "agent/base/log_once.h"

#include <stddef.h>

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

enum lf_once_verdict lf_once_check(struct lf_once *s, const char *a, const char *b)
{
    uint64_t h = fnv(1469598103934665603ull, a);
    h = fnv((h ^ 0xff) * 1099511628211ull, b);
    for (int i = 0; i < s->n; i++)
        if (s->h[i] == h)
            return LF_ONCE_SEEN;
    if (s->n < LF_ONCE_KINDS) {
        s->h[s->n++] = h;
        return LF_ONCE_FIRST;
    }
    if (s->full)
        return LF_ONCE_SEEN;
    s->full = 1;
    return LF_ONCE_FULL;
}
