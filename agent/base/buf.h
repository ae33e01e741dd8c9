/*
 * buf.h - a growable byte buffer with a hard cap (curl's dynbuf idea).
 *
 * Every buffer logferry fills from log content has a cap, so a hostile 20 MB line or a
 * runaway template can cost at most `max` bytes. Not thread-safe; the owner is whoever
 * declared it. buf_free() releases the storage; a zeroed struct is an empty buffer.
 */
#ifndef LF_BUF_H
#define LF_BUF_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct buf {
    char *p;
    size_t len;
    size_t cap;
    size_t max; /* 0 = unlimited (only for buffers whose input we control) */
};

/* Ensure room for `extra` more bytes. Returns 0, or -1 when over the cap or out of memory
 * (the buffer is then unchanged). */
int buf_reserve(struct buf *b, size_t extra);

static inline void buf_init(struct buf *b, size_t max)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

static inline int buf_add(struct buf *b, const void *s, size_t n)
{
    if (b->cap - b->len < n && buf_reserve(b, n) != 0)
        return -1;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

static inline int buf_addc(struct buf *b, char c)
{
    if (b->cap == b->len && buf_reserve(b, 1) != 0)
        return -1;
    b->p[b->len++] = c;
    return 0;
}

static inline int buf_adds(struct buf *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

/* NUL-terminates without counting the NUL in len. */
int buf_cstr(struct buf *b);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void buf_reset(struct buf *b) { b->len = 0; }

static inline void buf_free(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

#endif
