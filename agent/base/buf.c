/*
 * buf.c - growth and formatting for struct buf (see buf.h). Pure functions of the buffer;
 * no globals, no threads.
 */
#include "agent/base/buf.h"

#include <stdarg.h>
#include <stdio.h>

int buf_reserve(struct buf *b, size_t extra)
{
    size_t need = b->len + extra;
    if (need < b->len)
        return -1;
    if (b->max && need > b->max)
        return -1;
    if (need <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    if (b->max && ncap > b->max)
        ncap = b->max;
    char *np = realloc(b->p, ncap);
    if (!np)
        return -1;
    b->p = np;
    b->cap = ncap;
    return 0;
}

int buf_cstr(struct buf *b)
{
    if (buf_addc(b, '\0') != 0)
        return -1;
    b->len--;
    return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof tmp)
        return buf_add(b, tmp, (size_t)n);
    if (buf_reserve(b, (size_t)n + 1) != 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}
