/*
 * spool.c - one output's disk spool at run time: appending records in groups (one fdatasync
 * each), reading them back oldest first as batches, acknowledging them, deleting segments
 * once acknowledged, and room: spool_full = block waits, drop_oldest deletes the oldest
 * segment not being delivered. Replay at start and damage handling are in spool_scan.c.
 *
 * Threads (spool.h): one writer, one reader, acks from any thread; all state under sp->mu
 * except the fdatasync itself, which runs unlocked on the writer's descriptor (only the
 * writer closes that one).
 */
#include "agent/base/clock.h"
#include "agent/spool_int.h"
#include "agent/base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEG_DEFAULT ((uint64_t)16 << 20)
/* A batch is cut into records of about this size, so replay holds little per batch. */
#define REC_TARGET ((size_t)4 << 20)
#define WBUF_FLUSH ((size_t)1 << 20)

static int mkdirs(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

int spool_open(struct spool **out, const char *dir, const char *name,
               const struct spool_conf *c, char *err, size_t errsz)
{
    *out = NULL;
    if (mkdirs(dir) != 0) {
        snprintf(err, errsz, "cannot create the spool directory %s: %s", dir, strerror(errno));
        return -1;
    }
    struct spool *sp = calloc(1, sizeof *sp);
    if (!sp) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    sp->dir = strdup(dir);
    sp->name = strdup(name);
    sp->c = *c;
    if (!sp->c.seg_bytes)
        sp->c.seg_bytes = sp->c.max_bytes / 8 < SEG_DEFAULT ? sp->c.max_bytes / 8 : SEG_DEFAULT;
    if (sp->c.seg_bytes < 4096)
        sp->c.seg_bytes = 4096;
    sp->wfd = sp->rfd = -1;
    sp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    pthread_mutex_init(&sp->mu, NULL);
    pthread_cond_init(&sp->room, NULL);
    if (!sp->dir || !sp->name || sp->dirfd < 0 || spool_recover(sp, err, errsz) != 0) {
        if (!*err)
            snprintf(err, errsz, "cannot open the spool directory %s: %s", dir, strerror(errno));
        spool_close(sp, 0);
        return -1;
    }
    sp->rate_t0 = wall_ms();
    *out = sp;
    return 0;
}

static void flight_free(struct spool_flight *f)
{
    batch_free(f->b);
    free(f->body.p);
    free(f->strs);
    free(f);
}

/* A body buffer from the pool (or an empty one); under mu. */
static struct spool_buf pool_get(struct spool *sp)
{
    return sp->npool ? sp->pool[--sp->npool] : (struct spool_buf){0};
}

/* Keeps a body buffer for the next read, or frees it; under mu. */
static void pool_put(struct spool *sp, struct spool_buf b)
{
    if (sp->npool < (int)(sizeof sp->pool / sizeof sp->pool[0]) && b.cap <= ((size_t)8 << 20))
        sp->pool[sp->npool++] = b;
    else
        free(b.p);
}

void spool_close(struct spool *sp, int leak_flights)
{
    if (!sp)
        return;
    if (sp->wfd >= 0) {
        if (sp->wlen && write(sp->wfd, sp->wbuf, sp->wlen) < 0)
            sp->write_errors++; /* unsynced: its batches were never acknowledged */
        close(sp->wfd);
    }
    if (sp->rfd >= 0)
        close(sp->rfd);
    if (sp->dirfd >= 0)
        close(sp->dirfd);
    while (sp->flights) {
        struct spool_flight *f = sp->flights;
        sp->flights = f->next;
        if (!leak_flights)
            flight_free(f);
    }
    while (sp->head) {
        struct spool_seg *s = sp->head;
        sp->head = s->next;
        free(s);
    }
    pthread_mutex_destroy(&sp->mu);
    pthread_cond_destroy(&sp->room);
    while (sp->npool)
        free(sp->pool[--sp->npool].p);
    free(sp->wbuf);
    free(sp->dir);
    free(sp->name);
    free(sp);
}

/* Deletes seg (fully acknowledged or dropped) from disk and the list. Under mu. */
static void seg_delete(struct spool *sp, struct spool_seg *seg)
{
    char path[4096];
    spool_seg_path(sp->dir, seg->id, path, sizeof path);
    if (unlink(path) != 0 && errno != ENOENT)
        LF_LOG(LF_WARN, "spool", "spool %s: cannot delete %s: %s", sp->name, path,
               strerror(errno));
    if (sp->rseg == seg) {
        if (sp->rfd >= 0)
            close(sp->rfd);
        sp->rfd = -1;
        sp->rseg = seg->next;
        sp->roff = 0;
    }
    if (sp->tail == seg && sp->wfd >= 0) {
        close(sp->wfd);
        sp->wfd = -1;
    }
    struct spool_seg **pp = &sp->head, *prev = NULL;
    while (*pp && *pp != seg) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp)
        *pp = seg->next;
    if (sp->tail == seg)
        sp->tail = prev;
    sp->bytes -= seg->bytes;
    free(seg);
    pthread_cond_broadcast(&sp->room);
}

/* drop_oldest: deletes the oldest segment nobody is delivering from (never the one taking
 * appends). 0 when one was dropped. Under mu. */
static int drop_one(struct spool *sp)
{
    struct spool_seg *s = sp->head;
    while (s && (s->inflight || (s == sp->tail && !s->sealed)))
        s = s->next;
    if (!s)
        return -1;
    uint64_t ev = s->nev - s->ev_read, recs = s->nrec - s->nread;
    sp->events_dropped += ev;
    sp->unread -= recs;
    sp->recs_live -= s->nrec - s->nacked;
    sp->ev_live -= s->nev - s->ev_read;
    int64_t now = wall_ms();
    if (now - sp->last_drop_log >= 60000) {
        sp->last_drop_log = now;
        LF_LOG(LF_ERROR, "spool", "spool %s is full (spool_full = drop_oldest): dropped %" PRIu64
               " events of its oldest segment; %" PRIu64 " dropped since start (this message "
               "comes at most once a minute)", sp->name, ev, sp->events_dropped);
    }
    seg_delete(sp, s);
    return 0;
}

/* Writes the buffered records to the tail segment. Under mu. */
static int wbuf_write(struct spool *sp)
{
    size_t done = 0;
    while (done < sp->wlen) {
        ssize_t w = write(sp->wfd, sp->wbuf + done, sp->wlen - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        done += (size_t)w;
    }
    sp->wlen = 0;
    return 0;
}

/* The records appended since the last sync are lost (a write failed): the tail goes back to
 * what was synced; their batches are handed to the output's memory queue by the caller. */
static void rollback(struct spool *sp)
{
    struct spool_seg *t = sp->tail;
    sp->wlen = 0;
    if (!t || t->sealed)
        return;
    if (sp->wfd >= 0 && ftruncate(sp->wfd, (off_t)t->synced) != 0)
        LF_LOG(LF_WARN, "spool", "spool %s: cannot cut a failed write: %s", sp->name,
               strerror(errno));
    sp->bytes -= t->bytes - t->synced;
    sp->unread -= t->nrec - t->nrec_synced;
    sp->recs_live -= t->nrec - t->nrec_synced;
    sp->ev_live -= t->nev - t->nev_synced;
    t->bytes = t->synced;
    t->nrec = t->nrec_synced;
    t->nev = t->nev_synced;
}

/* Ends the tail segment (written and synced) so the next append starts a new one. */
static int seal_tail(struct spool *sp)
{
    struct spool_seg *t = sp->tail;
    if (!t || t->sealed)
        return 0;
    if (sp->wfd >= 0) {
        if (wbuf_write(sp) != 0 || fdatasync(sp->wfd) != 0)
            return -1;
        close(sp->wfd);
        sp->wfd = -1;
    }
    t->synced = t->bytes;
    t->nrec_synced = t->nrec;
    t->nev_synced = t->nev;
    t->sealed = 1;
    return 0;
}

static int seg_start(struct spool *sp)
{
    struct spool_seg *seg = calloc(1, sizeof *seg);
    if (!seg)
        return -1;
    char path[4096];
    seg->id = sp->next_id++;
    spool_seg_path(sp->dir, seg->id, path, sizeof path);
    sp->wfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (sp->wfd < 0) {
        free(seg);
        return -1;
    }
    fsync(sp->dirfd); /* the new name survives a crash with the records synced into it */
    if (sp->tail)
        sp->tail->next = seg;
    else
        sp->head = seg;
    sp->tail = seg;
    return 0;
}

/* Deletes the segment taking appends once all of it is acknowledged (writer, under mu). */
static void maintain_locked(struct spool *sp)
{
    struct spool_seg *t = sp->tail;
    if (t && !t->sealed && t->nrec && t->nacked == t->nrec && sp->wlen == 0 &&
        t->synced == t->bytes)
        seg_delete(sp, t);
}

/* Counts a failed write; logs the first (under mu). */
static void write_failed(struct spool *sp)
{
    if (sp->write_errors++ == 0)
        LF_LOG(LF_ERROR, "spool", "spool %s: cannot write to %s: %s; the output keeps what it "
               "cannot spool in memory (reading pauses when that is full); logged once",
               sp->name, sp->dir, strerror(errno));
}

static int append_rec(struct spool *sp, const struct event_batch *part, int64_t now_ms,
                      const atomic_int *stop)
{
    size_t need = spool_rec_size(part);
    while (sp->bytes && sp->bytes + need > sp->c.max_bytes) {
        if (sp->c.drop_oldest && drop_one(sp) == 0)
            continue;
        if (stop && atomic_load(stop))
            return -1;
        /* What this group appended so far must be readable, or the output could never
         * drain the room we wait for. */
        struct spool_seg *t = sp->tail;
        if (t && !t->sealed && sp->wfd >= 0 && t->synced < t->bytes) {
            if (wbuf_write(sp) != 0 || fdatasync(sp->wfd) != 0)
                return -1;
            t->synced = t->bytes;
            t->nrec_synced = t->nrec;
            t->nev_synced = t->nev;
        }
        maintain_locked(sp); /* it may be all acknowledged already */
        if (!sp->bytes)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&sp->room, &sp->mu, &ts);
    }
    struct spool_seg *t = sp->tail;
    if (t && !t->sealed && t->bytes && t->bytes + need > sp->c.seg_bytes && seal_tail(sp) != 0)
        return -1;
    if (!sp->tail || sp->tail->sealed) {
        if (seg_start(sp) != 0)
            return -1;
    }
    t = sp->tail;
    if (sp->wcap - sp->wlen < need) {
        size_t nc = sp->wlen + need + WBUF_FLUSH;
        char *nb = realloc(sp->wbuf, nc);
        if (!nb)
            return -1;
        sp->wbuf = nb;
        sp->wcap = nc;
    }
    size_t n = spool_rec_encode(part, now_ms, sp->wbuf + sp->wlen);
    sp->wlen += n;
    if (t->nrec == 0)
        t->first_ms = now_ms;
    t->bytes += n;
    t->nrec++;
    t->nev += part->n;
    sp->bytes += n;
    sp->unread++;
    sp->recs_live++;
    sp->ev_live += part->n;
    sp->events_spooled += part->n;
    if (sp->wlen >= WBUF_FLUSH && wbuf_write(sp) != 0)
        return -1;
    return 0;
}

int spool_append(struct spool *sp, const struct event_batch *b, int64_t now_ms,
                 const atomic_int *stop)
{
    if (b->n == 0)
        return 1;
    int rc = 0;
    pthread_mutex_lock(&sp->mu);
    /* cut into records of about REC_TARGET bytes: a view of consecutive events */
    struct event_batch part = *b;
    uint32_t i = 0;
    while (i < b->n && rc == 0) {
        size_t sz = 0;
        uint32_t j = i;
        while (j < b->n && (j == i || sz + b->ev[j].json_len + 64 <= REC_TARGET))
            sz += b->ev[j++].json_len + 64;
        part.ev = b->ev + i;
        part.n = j - i;
        rc = append_rec(sp, &part, now_ms, stop);
        i = j;
    }
    if (rc != 0) {
        if (!(stop && atomic_load(stop)))
            write_failed(sp);
        rollback(sp);
    }
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

int spool_sync(struct spool *sp)
{
    pthread_mutex_lock(&sp->mu);
    struct spool_seg *t = sp->tail;
    if (!t || t->sealed || sp->wfd < 0) {
        pthread_mutex_unlock(&sp->mu);
        return 0;
    }
    if (wbuf_write(sp) != 0) {
        write_failed(sp);
        rollback(sp);
        pthread_mutex_unlock(&sp->mu);
        return -1;
    }
    int fd = sp->wfd;
    uint64_t bytes = t->bytes, nrec = t->nrec, nev = t->nev;
    pthread_mutex_unlock(&sp->mu);
    int rc = t->synced == bytes ? 0 : fdatasync(fd);
    pthread_mutex_lock(&sp->mu);
    if (rc != 0) {
        write_failed(sp);
        rollback(sp);
    } else {
        t->synced = bytes;
        t->nrec_synced = nrec;
        t->nev_synced = nev;
    }
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

void spool_maintain(struct spool *sp)
{
    pthread_mutex_lock(&sp->mu);
    maintain_locked(sp);
    pthread_mutex_unlock(&sp->mu);
}

void spool_wake(struct spool *sp)
{
    pthread_mutex_lock(&sp->mu);
    pthread_cond_broadcast(&sp->room);
    pthread_mutex_unlock(&sp->mu);
}

uint64_t spool_unread(struct spool *sp)
{
    pthread_mutex_lock(&sp->mu);
    uint64_t n = sp->unread;
    pthread_mutex_unlock(&sp->mu);
    return n;
}

/* Moves the read cursor to a segment with synced records left; 1 when there is one. */
static int reader_seek(struct spool *sp)
{
    for (;;) {
        if (!sp->rseg) {
            sp->rseg = sp->head;
            sp->roff = 0;
        }
        struct spool_seg *s = sp->rseg;
        if (!s)
            return 0;
        if (sp->roff < s->synced && s->nread < s->nrec)
            return 1;
        if (!s->sealed || !s->next)
            return 0;
        /* past a sealed segment: what it still claimed unread was damage found late */
        sp->unread -= s->nrec - s->nread;
        sp->recs_live -= s->nrec - s->nread;
        sp->ev_live -= s->nev - s->ev_read;
        s->nrec = s->nread;
        s->nev = s->ev_read;
        if (sp->rfd >= 0)
            close(sp->rfd);
        sp->rfd = -1;
        sp->rseg = s->next;
        sp->roff = 0;
        if (s->nacked == s->nrec && !s->inflight)
            seg_delete(sp, s);
    }
}

int spool_readable(struct spool *sp)
{
    pthread_mutex_lock(&sp->mu);
    int r = reader_seek(sp);
    pthread_mutex_unlock(&sp->mu);
    return r;
}

struct event_batch *spool_next(struct spool *sp)
{
    struct event_batch *out = NULL;
    pthread_mutex_lock(&sp->mu);
    while (!out && reader_seek(sp)) {
        struct spool_seg *s = sp->rseg;
        if (sp->rfd < 0) {
            char path[4096];
            spool_seg_path(sp->dir, s->id, path, sizeof path);
            sp->rfd = open(path, O_RDONLY | O_CLOEXEC);
            if (sp->rfd < 0) {
                LF_LOG(LF_ERROR, "spool", "spool %s: cannot read %s: %s", sp->name, path,
                       strerror(errno));
                break;
            }
        }
        struct spool_hdr h;
        struct spool_buf body = pool_get(sp);
        struct spool_damage d = {0};
        int r = spool_read_good(sp->rfd, &sp->roff, s->synced, &h, &body, &d);
        if (!s->recovered) {
            sp->corrupt_records += d.records;
            sp->corrupt_bytes += d.bytes;
        }
        if (r <= 0) {
            pool_put(sp, body);
            if (r < 0)
                break;
            sp->roff = s->synced; /* damage to the end: reader_seek moves on once sealed */
            if (!s->sealed)
                break;
            continue;
        }
        sp->roff += SPOOL_HDR_BYTES + h.len;
        s->nread++;
        s->ev_read += h.nev;
        sp->unread--;
        struct spool_flight *f = calloc(1, sizeof *f);
        struct event_batch *b = f ? batch_new(NULL, NULL, h.nev ? h.nev : 1) : NULL;
        char *strs = b ? malloc(spool_rec_strs_size(&h, body.p)) : NULL;
        if (!strs || spool_rec_decode(&h, body.p, b, &f->src, strs) != 0) {
            /* unparseable despite its CRC (or no memory): counted as damage, acked away */
            sp->corrupt_records++;
            s->nacked++;
            sp->recs_live--;
            sp->ev_live -= h.nev;
            free(strs);
            batch_free(b);
            pool_put(sp, body);
            free(f);
            continue;
        }
        f->b = b;
        f->seg = s;
        f->body = body;
        f->body_len = h.len;
        f->strs = strs;
        b->owner = f;
        f->next = sp->flights;
        sp->flights = f;
        atomic_fetch_add(&sp->nflights, 1);
        sp->flight_events += b->n;
        sp->flight_bytes += h.len;
        s->inflight++;
        out = b;
    }
    pthread_mutex_unlock(&sp->mu);
    return out;
}

int spool_owns(struct spool *sp, const struct event_batch *b)
{
    if (atomic_load(&sp->nflights) == 0)
        return 0;
    pthread_mutex_lock(&sp->mu);
    struct spool_flight *f = sp->flights;
    while (f && f->b != b)
        f = f->next;
    pthread_mutex_unlock(&sp->mu);
    return f != NULL;
}

void spool_ack(struct spool *sp, struct event_batch *b)
{
    pthread_mutex_lock(&sp->mu);
    struct spool_flight **pp = &sp->flights;
    while (*pp && (*pp)->b != b)
        pp = &(*pp)->next;
    struct spool_flight *f = *pp;
    if (!f) {
        pthread_mutex_unlock(&sp->mu);
        return;
    }
    *pp = f->next;
    atomic_fetch_sub(&sp->nflights, 1);
    sp->flight_events -= b->n;
    sp->flight_bytes -= f->body_len;
    struct spool_seg *s = f->seg;
    s->inflight--;
    s->nacked++;
    sp->recs_live--;
    sp->ev_live -= b->n;
    sp->events_drained += b->n;
    sp->rate_ev += b->n;
    int64_t now = wall_ms();
    if (now - sp->rate_t0 >= 2000) {
        sp->rate = (double)sp->rate_ev * 1000.0 / (double)(now - sp->rate_t0);
        sp->rate_ev = 0;
        sp->rate_t0 = now;
    }
    if (s->sealed && s->nacked == s->nrec && !s->inflight)
        seg_delete(sp, s);
    pool_put(sp, f->body);
    f->body = (struct spool_buf){0};
    pthread_mutex_unlock(&sp->mu);
    flight_free(f);
}

int spool_in_flight(struct spool *sp) { return atomic_load(&sp->nflights); }

void spool_in_flight_size(struct spool *sp, uint64_t *events, uint64_t *bytes)
{
    pthread_mutex_lock(&sp->mu);
    *events = sp->flight_events;
    *bytes = sp->flight_bytes;
    pthread_mutex_unlock(&sp->mu);
}

void spool_get_stats(struct spool *sp, struct spool_stats *st)
{
    pthread_mutex_lock(&sp->mu);
    st->bytes = sp->bytes;
    st->records = sp->recs_live;
    st->events = sp->ev_live;
    st->oldest_ms = 0;
    for (struct spool_seg *s = sp->head; s; s = s->next)
        if (s->nacked < s->nrec) {
            st->oldest_ms = s->first_ms;
            break;
        }
    st->events_spooled = sp->events_spooled;
    st->events_drained = sp->events_drained;
    st->events_dropped = sp->events_dropped;
    st->corrupt_records = sp->corrupt_records;
    st->corrupt_bytes = sp->corrupt_bytes;
    st->torn_tails = sp->torn_tails;
    st->write_errors = sp->write_errors;
    int64_t now = wall_ms();
    /* no acknowledgement for a while: the rate is what the last window saw, decayed to 0 */
    st->drain_rate = now - sp->rate_t0 > 6000 ? 0 : sp->rate;
    pthread_mutex_unlock(&sp->mu);
}
