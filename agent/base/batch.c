/*
 * batch.c - event batches and the arena their events live in (event.h for ownership,
 * batch_arena.h for the arena calls batch_add() makes).
 *
 * Threads: batch_new/batch_free and the arena calls run on the thread that builds and frees
 * batches (the tail thread); the chunk pool is per thread.
 */
#include "agent/base/batch_arena.h"
#include "agent/base/event.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Live tailing makes many one-line batches and bulk reads make 2,048-event ones: the first
 * chunk is small and each next one doubles, up to CHUNK_MAX (a single larger event still
 * gets a chunk of its own size). */
#define CHUNK_FIRST (8 * 1024)
#define CHUNK_MAX (1024 * 1024)

/* Freed chunks of the standard sizes are kept for reuse by the thread that freed them (the
 * tail thread creates and frees batches), up to POOL_MAX bytes: handing a megabyte back to
 * malloc for every batch made glibc trim and the kernel fault the pages in again. */
#define POOL_CLASSES 8 /* 8 KiB .. 1 MiB */
#define POOL_MAX (4u << 20)
static _Thread_local struct arena_chunk *pool[POOL_CLASSES];
static _Thread_local size_t pool_bytes;

static int pool_class(size_t cap)
{
    for (int i = 0; i < POOL_CLASSES; i++)
        if (cap == (size_t)CHUNK_FIRST << i)
            return i;
    return -1;
}

static void chunk_release(struct arena_chunk *c)
{
    int k = pool_class(c->cap);
    if (k < 0 || pool_bytes + c->cap > POOL_MAX) {
        free(c);
        return;
    }
    c->next = pool[k];
    pool[k] = c;
    pool_bytes += c->cap;
}

struct arena_chunk *chunk_new(struct event_batch *b, size_t need)
{
    size_t cap = b->chunks ? b->chunks->cap * 2 : CHUNK_FIRST;
    if (cap > CHUNK_MAX)
        cap = CHUNK_MAX;
    while (cap < need)
        cap *= 2;
    struct arena_chunk *c;
    int k = pool_class(cap);
    if (k >= 0 && pool[k]) {
        c = pool[k];
        pool[k] = c->next;
        pool_bytes -= c->cap;
    } else {
        c = malloc(sizeof *c + cap);
    }
    if (!c)
        return NULL;
    c->used = 0;
    c->cap = cap;
    c->next = b->chunks;
    b->chunks = c;
    b->bytes += cap;
    return c;
}

void *batch_alloc(struct event_batch *b, size_t n, size_t align)
{
    struct arena_chunk *c = b->chunks;
    size_t off = c ? (c->used + align - 1) & ~(align - 1) : 0;
    if (!c || off + n > c->cap) {
        c = chunk_new(b, n + align);
        if (!c)
            return NULL;
        off = 0;
    }
    c->used = off + n;
    return c->data + off;
}

struct event_batch *batch_new(const struct event_source *src, const char *host_name, uint32_t cap)
{
    struct event_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->ev = malloc((cap ? cap : 1) * sizeof *b->ev);
    if (!b->ev) {
        free(b);
        return NULL;
    }
    b->cap = cap;
    b->src = src;
    b->host_name = host_name;
    b->bytes = sizeof *b + cap * sizeof *b->ev;
    return b;
}

void batch_free(struct event_batch *b)
{
    if (!b)
        return;
    struct arena_chunk *c = b->chunks;
    while (c) {
        struct arena_chunk *nx = c->next;
        chunk_release(c);
        c = nx;
    }
    free(b->ev);
    free(b);
}

