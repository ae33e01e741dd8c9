/*
 * batch_arena.h - the arena behind a batch's events, private to batch.c and event.c.
 *
 * A batch owns a list of chunks; everything an event points to (its JSON, and when kept its
 * message and fields) is carved from them and freed with the batch.
 */
#ifndef LF_BATCH_ARENA_H
#define LF_BATCH_ARENA_H

#include <stddef.h>

#include "agent/base/event.h"
#include "agent/base/must_check.h"

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    char data[];
};

/* n bytes aligned to align (a power of two), or NULL when out of memory. */
LF_MUST_CHECK void *batch_alloc(struct event_batch *b, size_t n, size_t align);
/* Appends a chunk of at least `need` bytes (the next size up) and makes it current; NULL
 * when out of memory. */
LF_MUST_CHECK struct arena_chunk *chunk_new(struct event_batch *b, size_t need);

/* Free space of at least `need` bytes at the end of the batch's arena (a new chunk when the
 * current one is short); *room says how much there is. Nothing is taken until
 * batch_commit(). NULL when out of memory. Inline: once per event. */
static inline char *batch_room(struct event_batch *b, size_t need, size_t *room)
{
    struct arena_chunk *c = b->chunks; /* none yet when events keep no fields */
    if (!c || c->cap - c->used < need) {
        c = chunk_new(b, need);
        if (!c)
            return NULL;
    }
    *room = c->cap - c->used;
    return c->data + c->used;
}

/* Takes the first `used` bytes of the space batch_room() returned. */
static inline void batch_commit(struct event_batch *b, size_t used)
{
    b->chunks->used += used;
}

#endif
