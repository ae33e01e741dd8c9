/*
 * event_builder.c - the per-line scratch a parser fills (struct event_builder, event.h):
 * fields borrowed from the line, converted values and run-time keys in capped scratch.
 *
 * Threads: a builder belongs to one thread (the tail thread, `logferry parse`, a test).
 */
#include "agent/base/event.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EB_SCRATCH_MAX (4u << 20)

void eb_init(struct event_builder *eb)
{
    memset(eb, 0, sizeof *eb);
    buf_init(&eb->scratch, EB_SCRATCH_MAX);
    buf_init(&eb->dynnames, 64 * 1024);
    /* Reserve the whole cap up front: pointers handed out by eb_strdup() must not move. */
    buf_reserve(&eb->scratch, 256 * 1024);
    buf_reserve(&eb->dynnames, 64 * 1024);
    eb->scratch.max = eb->scratch.cap;
    eb->dynnames.max = eb->dynnames.cap;
}

void eb_free(struct event_builder *eb)
{
    buf_free(&eb->scratch);
    buf_free(&eb->dynnames);
}

void eb_reset(struct event_builder *eb)
{
    eb->n = 0;
    eb->ts_ms = 0;
    eb->flags = 0;
    eb->ndyn = 0;
    eb->unsorted = 0;
    eb->last_rank = 0;
    eb->scratch.len = 0;
    eb->dynnames.len = 0;
}

static struct field *eb_slot(struct event_builder *eb, const struct fkey *k, uint8_t type)
{
    if (!k || eb->n >= EB_MAX_FIELDS)
        return NULL;
    /* A run-time key (rank FKEY_DYNAMIC, sorted by name) or a rank below the last one means
     * batch_add must sort; branch-free, it is on every field's path. */
    eb->unsorted |= (k->rank < eb->last_rank) | (k->rank == FKEY_DYNAMIC);
    eb->last_rank = k->rank;
    struct field *f = &eb->f[eb->n++];
    f->key = k;
    f->type = type;
    f->clean = 0;
    f->len = 0;
    return f;
}

int eb_add_str_clean(struct event_builder *eb, const struct fkey *k, const char *s, size_t len)
{
    struct field *f = eb_slot(eb, k, FV_STR);
    if (!f)
        return -1;
    f->v.s = s;
    f->len = (uint32_t)len;
    f->clean = 1;
    return 0;
}

int eb_add_str(struct event_builder *eb, const struct fkey *k, const char *s, size_t len)
{
    struct field *f = eb_slot(eb, k, FV_STR);
    if (!f)
        return -1;
    f->v.s = s;
    f->len = (uint32_t)len;
    return 0;
}

int eb_add_json(struct event_builder *eb, const struct fkey *k, const char *s, size_t len)
{
    struct field *f = eb_slot(eb, k, FV_JSON);
    if (!f)
        return -1;
    f->v.s = s;
    f->len = (uint32_t)len;
    return 0;
}

int eb_add_int(struct event_builder *eb, const struct fkey *k, int64_t v)
{
    struct field *f = eb_slot(eb, k, FV_INT);
    if (!f)
        return -1;
    f->v.i = v;
    return 0;
}

int eb_add_float(struct event_builder *eb, const struct fkey *k, double v)
{
    struct field *f = eb_slot(eb, k, FV_FLOAT);
    if (!f)
        return -1;
    f->v.f = v;
    return 0;
}

int eb_add_bool(struct event_builder *eb, const struct fkey *k, int v)
{
    struct field *f = eb_slot(eb, k, FV_BOOL);
    if (!f)
        return -1;
    f->v.b = v ? 1 : 0;
    return 0;
}

const char *eb_strdup(struct event_builder *eb, const char *s, size_t len)
{
    if (eb->scratch.cap - eb->scratch.len < len + 1)
        return NULL;
    char *p = eb->scratch.p + eb->scratch.len;
    memcpy(p, s, len);
    p[len] = '\0';
    eb->scratch.len += len + 1;
    return p;
}

const struct fkey *eb_dynkey(struct event_builder *eb, const char *name, size_t len)
{
    if (eb->ndyn >= (int)(sizeof eb->dyn / sizeof eb->dyn[0]) || len == 0)
        return NULL;
    if (eb->dynnames.cap - eb->dynnames.len < len + 1)
        return NULL;
    char *p = eb->dynnames.p + eb->dynnames.len;
    memcpy(p, name, len);
    p[len] = '\0';
    eb->dynnames.len += len + 1;
    struct fkey *k = &eb->dyn[eb->ndyn++];
    k->name = p;
    k->len = (uint32_t)len;
    k->rank = FKEY_DYNAMIC;
    return k;
}

const struct field *eb_get(const struct event_builder *eb, const struct fkey *k)
{
    for (int i = eb->n - 1; i >= 0; i--)
        if (eb->f[i].key == k || (eb->f[i].key->rank == FKEY_DYNAMIC &&
                                  strcmp(eb->f[i].key->name, k->name) == 0))
            return &eb->f[i];
    return NULL;
}

