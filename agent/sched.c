/*
 * sched.c - the tail thread's work queues, so that a wake-up costs what is active, not what
 * is tracked (issue 13 item 4): the dirty list (open files with inotify or read work
 * pending, in the order they asked), the timer heap (each file's next deadline: idle or
 * rotated-file close, multiline flush), the in-flight list (files with batches awaiting
 * acks) and the path and identity indexes (tail_find_path, tail_find_id without walking
 * every file).
 *
 * Tail thread only; the lists are intrusive (fields of struct tail_file, see agent.h), and a
 * file leaves all of them in sched_forget() before it is freed. The heap is lazy: a key may
 * be earlier than the file's real deadline (its deadline moved later since), never later
 * (sched_arm() moves a key earlier at once); a file popped early is looked at and re-armed.
 */
#include "agent/agent.h"

#include <stdlib.h>
#include <string.h>

void sched_dirty(struct agent *a, struct tail_file *tf)
{
    struct tail_sched *s = &a->sched;
    tf->dirty = 1;
    /* A closed file is not read; it is linked once a descriptor is back (tail_open() marks
     * a file it reopens dirty). Its state changed (renamed, deleted): it may be freeable. */
    if (tf->fd < 0)
        a->sched.reap = 1;
    if (tf->fd < 0 || tf->dlinked)
        return;
    tf->dlinked = 1;
    tf->dnext = NULL;
    tf->dprev = s->dirty_tail;
    if (s->dirty_tail)
        s->dirty_tail->dnext = tf;
    else
        s->dirty_head = tf;
    s->dirty_tail = tf;
    s->ndirty++;
}

static void dirty_unlink(struct tail_sched *s, struct tail_file *tf)
{
    if (!tf->dlinked)
        return;
    if (tf->dprev)
        tf->dprev->dnext = tf->dnext;
    else
        s->dirty_head = tf->dnext;
    if (tf->dnext)
        tf->dnext->dprev = tf->dprev;
    else
        s->dirty_tail = tf->dprev;
    tf->dprev = tf->dnext = NULL;
    tf->dlinked = 0;
    s->ndirty--;
}

void sched_clean(struct agent *a, struct tail_file *tf)
{
    tf->dirty = 0;
    dirty_unlink(&a->sched, tf);
}

void sched_requeue(struct agent *a, struct tail_file *tf)
{
    dirty_unlink(&a->sched, tf);
    sched_dirty(a, tf);
}

int sched_any_dirty(const struct agent *a)
{
    for (const struct tail_file *tf = a->sched.dirty_head; tf; tf = tf->dnext)
        if (tf->fd >= 0)
            return 1;
    return 0;
}

/* ---- timer heap: 1-based index in tf->heap_ix, 0 when not in it ---- */

static void heap_set(struct tail_sched *s, size_t i, struct tail_file *tf)
{
    s->heap[i] = tf;
    tf->heap_ix = i + 1;
}

static void sift_up(struct tail_sched *s, size_t i)
{
    struct tail_file *tf = s->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (s->heap[p]->timer_at <= tf->timer_at)
            break;
        heap_set(s, i, s->heap[p]);
        i = p;
    }
    heap_set(s, i, tf);
}

static void sift_down(struct tail_sched *s, size_t i)
{
    struct tail_file *tf = s->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= s->nheap)
            break;
        if (c + 1 < s->nheap && s->heap[c + 1]->timer_at < s->heap[c]->timer_at)
            c++;
        if (tf->timer_at <= s->heap[c]->timer_at)
            break;
        heap_set(s, i, s->heap[c]);
        i = c;
    }
    heap_set(s, i, tf);
}

static void heap_remove(struct tail_sched *s, struct tail_file *tf)
{
    if (!tf->heap_ix)
        return;
    size_t i = tf->heap_ix - 1;
    tf->heap_ix = 0;
    struct tail_file *last = s->heap[--s->nheap];
    if (i == s->nheap)
        return;
    heap_set(s, i, last);
    sift_up(s, i);
    sift_down(s, last->heap_ix - 1);
}

int sched_arm(struct agent *a, struct tail_file *tf, int64_t at)
{
    struct tail_sched *s = &a->sched;
    if (tf->heap_ix) {
        if (at < tf->timer_at) {
            tf->timer_at = at;
            sift_up(s, tf->heap_ix - 1);
        }
        return 0;
    }
    if (s->nheap == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 256;
        struct tail_file **nh = realloc(s->heap, nc * sizeof *nh);
        if (!nh)
            return -1; /* the loop's periodic sched_arm_all() retries */
        s->heap = nh;
        s->cap = nc;
    }
    tf->timer_at = at;
    s->heap[s->nheap++] = tf;
    sift_up(s, s->nheap - 1);
    return 0;
}

void sched_arm_all(struct agent *a, int64_t at)
{
    for (struct tail_file *tf = a->files; tf; tf = tf->next)
        sched_arm(a, tf, at);
}

struct tail_file *sched_due(struct agent *a, int64_t now)
{
    struct tail_sched *s = &a->sched;
    if (!s->nheap || s->heap[0]->timer_at > now)
        return NULL;
    struct tail_file *tf = s->heap[0];
    heap_remove(s, tf);
    return tf;
}

int64_t sched_next(const struct agent *a)
{
    return a->sched.nheap ? a->sched.heap[0]->timer_at : INT64_MAX;
}

/* ---- in-flight list: files whose FIFO holds batches ---- */

void sched_inflight(struct agent *a, struct tail_file *tf)
{
    if (tf->ilinked)
        return;
    tf->ilinked = 1;
    tf->iprev = NULL;
    tf->inext = a->sched.inflight;
    if (tf->inext)
        tf->inext->iprev = tf;
    a->sched.inflight = tf;
}

void sched_settled(struct agent *a, struct tail_file *tf)
{
    if (!tf->ilinked)
        return;
    if (tf->iprev)
        tf->iprev->inext = tf->inext;
    else
        a->sched.inflight = tf->inext;
    if (tf->inext)
        tf->inext->iprev = tf->iprev;
    tf->iprev = tf->inext = NULL;
    tf->ilinked = 0;
}

/* ---- path index: chained hash of tf->path ---- */

static uint64_t path_hash(const char *p)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 0x100000001b3ULL;
    }
    return h;
}

static void index_unlink(struct tail_sched *s, struct tail_file *tf)
{
    if (!tf->hlinked)
        return;
    struct tail_file **pp = &s->buckets[tf->hash & (s->nbuckets - 1)];
    while (*pp && *pp != tf)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = tf->hnext;
    tf->hnext = NULL;
    tf->hlinked = 0;
    s->nindexed--;
}

static void index_link(struct tail_sched *s, struct tail_file *tf)
{
    size_t b = tf->hash & (s->nbuckets - 1);
    tf->hnext = s->buckets[b];
    s->buckets[b] = tf;
    tf->hlinked = 1;
    s->nindexed++;
}

static size_t id_slot(uint64_t dev, uint64_t ino, size_t n)
{
    return (size_t)((ino * 0x9e3779b97f4a7c15ULL) ^ dev) & (n - 1);
}

static void id_link(struct tail_sched *s, struct tail_file *tf)
{
    size_t b = id_slot(tf->id.dev, tf->id.ino, s->nid_buckets);
    tf->idnext = s->id_buckets[b];
    s->id_buckets[b] = tf;
    tf->idlinked = 1;
}

static void id_unlink(struct tail_sched *s, struct tail_file *tf)
{
    if (!tf->idlinked)
        return;
    struct tail_file **pp = &s->id_buckets[id_slot(tf->id.dev, tf->id.ino, s->nid_buckets)];
    while (*pp && *pp != tf)
        pp = &(*pp)->idnext;
    if (*pp)
        *pp = tf->idnext;
    tf->idnext = NULL;
    tf->idlinked = 0;
}

/* Grows both tables at load 1 (every indexed file is in both: its identity never changes);
 * a failed allocation keeps the old ones (longer chains). */
static void index_grow(struct tail_sched *s)
{
    if (s->nbuckets && s->nindexed < s->nbuckets)
        return;
    size_t nb = s->nbuckets ? s->nbuckets * 2 : 1024;
    struct tail_file **nbk = calloc(nb, sizeof *nbk), **nid = calloc(nb, sizeof *nid);
    if (!nbk || !nid) {
        free(nbk);
        free(nid);
        return;
    }
    struct tail_file **old = s->buckets;
    size_t on = s->nbuckets;
    s->buckets = nbk;
    s->nbuckets = nb;
    free(s->id_buckets);
    s->id_buckets = nid;
    s->nid_buckets = nb;
    s->nindexed = 0;
    for (size_t i = 0; i < on; i++)
        for (struct tail_file *tf = old[i], *nx; tf; tf = nx) {
            nx = tf->hnext;
            index_link(s, tf);
            id_link(s, tf);
        }
    free(old);
}

void sched_index_path(struct agent *a, struct tail_file *tf)
{
    struct tail_sched *s = &a->sched;
    if (s->nbuckets)
        index_unlink(s, tf);
    if (s->broken)
        return;
    index_grow(s);
    if (!s->nbuckets) {
        s->broken = 1; /* out of memory: the lookups walk the list from now on */
        return;
    }
    tf->hash = path_hash(tf->path);
    index_link(s, tf);
    if (!tf->idlinked)
        id_link(s, tf);
}

int sched_find_id(const struct agent *a, uint64_t dev, uint64_t ino, struct tail_file **out)
{
    const struct tail_sched *s = &a->sched;
    if (!s->nid_buckets || s->broken)
        return -1;
    struct tail_file *best = NULL;
    for (struct tail_file *tf = s->id_buckets[id_slot(dev, ino, s->nid_buckets)]; tf;
         tf = tf->idnext)
        if (tf->id.dev == dev && tf->id.ino == ino && tf->state != TF_DELETED &&
            (!best || tf->seq > best->seq))
            best = tf;
    *out = best;
    return 0;
}

int sched_find_path(const struct agent *a, const char *path, struct tail_file **out)
{
    const struct tail_sched *s = &a->sched;
    if (!s->nbuckets || s->broken)
        return -1;
    uint64_t h = path_hash(path);
    struct tail_file *best = NULL;
    /* the newest file of that name (the list's order, which tail_find_path() keeps) */
    for (struct tail_file *tf = s->buckets[h & (s->nbuckets - 1)]; tf; tf = tf->hnext)
        if (tf->hash == h && tf->state != TF_DELETED && !tf->path_stale &&
            strcmp(tf->path, path) == 0 && (!best || tf->seq > best->seq))
            best = tf;
    *out = best;
    return 0;
}

void sched_forget(struct agent *a, struct tail_file *tf)
{
    struct tail_sched *s = &a->sched;
    dirty_unlink(s, tf);
    heap_remove(s, tf);
    sched_settled(a, tf);
    if (s->nbuckets)
        index_unlink(s, tf);
    if (s->nid_buckets)
        id_unlink(s, tf);
}

void sched_free(struct agent *a)
{
    free(a->sched.heap);
    free(a->sched.buckets);
    free(a->sched.id_buckets);
    memset(&a->sched, 0, sizeof a->sched);
}
