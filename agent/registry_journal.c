/*
 * registry_journal.c - the registry's append-only journal (format in registry_journal.h):
 * group commit of the changes made between two saves of registry.json, and their replay
 * at start.
 *
 * Threads. The tail thread owns the registry: it notes which entries changed
 * (rj_note_change/remove, one slot per changed entry however often it changes), and at most
 * every registry_journal_interval (20 ms) serializes one record per changed entry into `pend`
 * (reg_journal_tick). The
 * writer thread, lf-journal, takes `pend` and appends it with one write() and one
 * fdatasync(). Why a thread: fdatasync takes milliseconds on an SSD and tens of them on a
 * busy disk or network storage, and the tail thread must never wait for it; the writer only
 * ever sees bytes, so the registry stays the tail thread's alone. While the writer is busy
 * the changes coalesce in the tail thread's list instead of queueing (memory bounded by the
 * number of entries). `mu` guards pend, trunc and stop.
 *
 * Compaction is registry.json itself: after each save (registry_flush, or sooner once the
 * journal passed COMPACT_BYTES) the writer empties the file before it appends anything
 * newer; records the save already covered are skipped at replay by their sequence number.
 */
#include "agent/registry_journal.h"
#include "agent/base/log.h"
#include "agent/base/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define COMPACT_BYTES (4u << 20)
#define SET_FIXED (1 + 24 + 40) /* type, seq, dev, ino + fp .. input length */

struct rj_key {
    uint64_t dev, ino;
};

struct reg_journal {
    /* tail thread only */
    int *chg; /* indices of the entries changed since the last group */
    int nchg, capchg;
    struct rj_key *rm; /* entries removed since the last group */
    int nrm, caprm;
    int64_t last_group_ms;
    long group_ms; /* registry_journal_interval: at most one group (one fdatasync) per this */
    uint64_t bytes_since_save;
    /* shared, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* the writer waits for pend, trunc or stop */
    uint8_t *pend;
    size_t npend, cappend;
    int trunc;          /* a save covered everything up to trunc_seq: empty the file first */
    uint64_t trunc_seq;
    int stop;
    /* writer only (and the tail thread before the start and after the join) */
    pthread_t th;
    int fd;
    off_t size; /* bytes known good in the file: a failed append is cut back to it */
    int failing;
    const char *path; /* the registry's jfile */
};

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static size_t seal(uint8_t *buf, size_t plen)
{
    put32(buf, (uint32_t)plen);
    put32(buf + 4, (uint32_t)crc32(0L, buf + 8, (uInt)plen));
    return 8 + plen;
}

size_t rj_encode_set(uint8_t *buf, size_t cap, uint64_t seq, const struct reg_entry *e)
{
    size_t pl = strlen(e->path), il = e->input ? strlen(e->input) : 0;
    if (pl > RJ_MAX_STR || il > RJ_MAX_STR || cap < 8 + SET_FIXED + pl + il)
        return 0;
    uint8_t *p = buf + 8;
    p[0] = RJ_SET;
    put64(p + 1, seq);
    put64(p + 9, e->id.dev);
    put64(p + 17, e->id.ino);
    put64(p + 25, e->id.fp);
    put32(p + 33, e->id.fp_len);
    put64(p + 37, e->id.uid);
    put64(p + 45, e->offset);
    put64(p + 53, (uint64_t)e->updated_ms);
    put16(p + 61, (uint16_t)pl);
    put16(p + 63, (uint16_t)il);
    memcpy(p + SET_FIXED, e->path, pl);
    if (il)
        memcpy(p + SET_FIXED + pl, e->input, il);
    return seal(buf, SET_FIXED + pl + il);
}

size_t rj_encode_remove(uint8_t *buf, size_t cap, uint64_t seq, uint64_t dev, uint64_t ino)
{
    if (cap < 8 + 25)
        return 0;
    buf[8] = RJ_REMOVE;
    put64(buf + 9, seq);
    put64(buf + 17, dev);
    put64(buf + 25, ino);
    return seal(buf, 25);
}

/* Applies one payload whose checksum matched. 0 ok, -1 malformed (treated as corruption). */
static int apply(struct registry *r, const uint8_t *p, size_t len, long *applied)
{
    if (len < 25 || (p[0] != RJ_SET && p[0] != RJ_REMOVE))
        return -1;
    uint64_t seq = get64(p + 1), dev = get64(p + 9), ino = get64(p + 17);
    if (p[0] == RJ_REMOVE) {
        if (len != 25)
            return -1;
    } else if (len < SET_FIXED || len != SET_FIXED + (size_t)get16(p + 61) + get16(p + 63) ||
               get16(p + 61) == 0 || memchr(p + SET_FIXED, 0, len - SET_FIXED)) {
        return -1;
    }
    if (seq > r->seq)
        r->seq = seq;
    if (seq <= r->snap_seq)
        return 0; /* registry.json has it already */
    (*applied)++;
    if (p[0] == RJ_REMOVE) {
        reg_remove(r, dev, ino);
        return 0;
    }
    size_t pl = get16(p + 61), il = get16(p + 63);
    char path[RJ_MAX_STR + 1], input[RJ_MAX_STR + 1];
    if (pl > RJ_MAX_STR || il > RJ_MAX_STR)
        return -1;
    memcpy(path, p + SET_FIXED, pl);
    path[pl] = '\0';
    memcpy(input, p + SET_FIXED + pl, il);
    input[il] = '\0';
    struct file_id id = {dev, ino, get64(p + 25), get32(p + 33), get64(p + 37)};
    if (reg_set(r, path, &id, get64(p + 45)) != 0)
        return 0; /* out of memory: that file resumes from registry.json's offset */
    if (il && reg_set_input(r, dev, ino, input) != 0)
        reg_note_failure(r, path); /* the entry stays, without its input name */
    struct reg_entry *e = reg_find(r, dev, ino);
    if (e)
        e->updated_ms = (int64_t)get64(p + 53);
    return 0;
}

void rj_replay(struct registry *r, struct rj_replay_stats *st)
{
    memset(st, 0, sizeof *st);
    int fd = open(r->jfile, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            LF_LOG(LF_WARN, "registry", "cannot read %s: %s; resuming from registry.json alone "
                   "(what was acknowledged since it was saved is sent again)", r->jfile,
                   strerror(errno));
        return;
    }
    r->journal_on_disk = 1;
    struct stat sb;
    FILE *f = fstat(fd, &sb) == 0 ? fdopen(fd, "rb") : NULL;
    uint8_t *pl = malloc(RJ_MAX_PAYLOAD);
    if (!f || !pl) {
        LF_LOG(LF_WARN, "registry", "cannot read %s: %s", r->jfile, strerror(errno));
        free(pl);
        if (f)
            fclose(f);
        else
            close(fd);
        return;
    }
    off_t good = 0;
    uint8_t h[8];
    const char *why = "a torn record (a crash in mid-write)";
    if (fread(h, 1, RJ_HEADER_LEN, f) == RJ_HEADER_LEN && memcmp(h, RJ_HEADER, RJ_HEADER_LEN) == 0) {
        good = RJ_HEADER_LEN;
        for (;;) {
            size_t n = fread(h, 1, 8, f);
            if (n == 0)
                break;
            if (n < 8)
                break;
            uint32_t len = get32(h);
            if (len < 25 || len > RJ_MAX_PAYLOAD) {
                why = "a record of impossible length";
                break;
            }
            if (fread(pl, 1, len, f) != len)
                break;
            if ((uint32_t)crc32(0L, pl, len) != get32(h + 4)) {
                why = "a record whose checksum does not match";
                break;
            }
            if (apply(r, pl, len, &st->applied) != 0) {
                why = "a malformed record";
                break;
            }
            st->records++;
            good += 8 + (off_t)len;
        }
    } else if (sb.st_size > 0) {
        why = "no journal header";
    }
    free(pl);
    if (good < sb.st_size) {
        st->cut_bytes = (long long)(sb.st_size - good);
        METRIC_ADD(lf_metrics.registry_journal_cut_bytes, (unsigned long long)st->cut_bytes);
        /* cut, so that the next run appends after good records only */
        int tr = ftruncate(fd, good);
        LF_LOG(LF_WARN, "registry", "%s: %s after %ld good record(s): cut %lld byte(s)%s; the "
               "offsets they held are read again (duplicates, no loss)", r->jfile, why,
               st->records, st->cut_bytes, tr == 0 ? "" : " (could not truncate the file)");
    }
    fclose(f);
}

/* ---- the tail thread's side ---- */

void rj_note_change(struct registry *r, int idx)
{
    struct reg_journal *j = r->j;
    struct reg_entry *e = &r->e[idx];
    if (e->jslot >= 0)
        return;
    if (j->nchg == j->capchg) {
        int nc = j->capchg ? j->capchg * 2 : 64;
        int *n = realloc(j->chg, (size_t)nc * sizeof *n);
        if (!n)
            return; /* not journaled: registry.json has it at the next save */
        j->chg = n;
        j->capchg = nc;
    }
    e->jslot = j->nchg;
    j->chg[j->nchg++] = idx;
}

void rj_note_remove(struct registry *r, int idx, uint64_t dev, uint64_t ino)
{
    struct reg_journal *j = r->j;
    struct reg_entry *e = &r->e[idx];
    if (e->jslot >= 0) { /* its pending change is moot: drop it from the list */
        int s = e->jslot, moved = j->chg[--j->nchg];
        if (s != j->nchg) {
            j->chg[s] = moved;
            r->e[moved].jslot = s;
        }
        e->jslot = -1;
    }
    int last = r->n - 1; /* the caller moves it to idx */
    if (last != idx && r->e[last].jslot >= 0)
        j->chg[r->e[last].jslot] = idx;
    if (j->nrm == j->caprm) {
        int nc = j->caprm ? j->caprm * 2 : 16;
        struct rj_key *n = realloc(j->rm, (size_t)nc * sizeof *n);
        if (!n)
            return; /* a stale entry after a crash is swept like any entry of a deleted file */
        j->rm = n;
        j->caprm = nc;
    }
    j->rm[j->nrm++] = (struct rj_key){dev, ino};
}

static void drop_changes(struct registry *r)
{
    struct reg_journal *j = r->j;
    for (int i = 0; i < j->nchg; i++)
        r->e[j->chg[i]].jslot = -1;
    j->nchg = j->nrm = 0;
}

/* Appends the pending changes to pend as records, removals first (an entry removed and
 * created again in one group ends created). Under mu. What does not fit in memory stays
 * pending for the next group. */
static void serialize(struct registry *r)
{
    struct reg_journal *j = r->j;
    size_t start = j->npend;
    for (;;) {
        if (j->cappend - j->npend < RJ_MAX_RECORD) {
            size_t nc = j->cappend ? j->cappend * 2 : 4 * RJ_MAX_RECORD;
            uint8_t *n = realloc(j->pend, nc);
            if (!n)
                break;
            j->pend = n;
            j->cappend = nc;
        }
        size_t len;
        if (j->nrm) {
            struct rj_key k = j->rm[--j->nrm];
            len = rj_encode_remove(j->pend + j->npend, j->cappend - j->npend, r->seq + 1,
                                   k.dev, k.ino);
        } else if (j->nchg) {
            struct reg_entry *e = &r->e[j->chg[--j->nchg]];
            e->jslot = -1;
            len = rj_encode_set(j->pend + j->npend, j->cappend - j->npend, r->seq + 1, e);
        } else {
            break;
        }
        if (len) {
            r->seq++;
            j->npend += len;
        }
    }
    j->bytes_since_save += j->npend - start;
}

int64_t reg_journal_tick(struct registry *r, int64_t now_ms)
{
    struct reg_journal *j = r->j;
    if (!j || (j->nchg == 0 && j->nrm == 0))
        return 0;
    int64_t due = j->last_group_ms + j->group_ms;
    if (now_ms < due)
        return due;
    pthread_mutex_lock(&j->mu);
    int free_now = j->npend == 0; /* else the writer is still on the last group: coalesce */
    if (free_now) {
        serialize(r);
        pthread_cond_signal(&j->cv);
    }
    pthread_mutex_unlock(&j->mu);
    if (!free_now)
        return now_ms + j->group_ms;
    j->last_group_ms = now_ms;
    return j->nchg || j->nrm ? now_ms + j->group_ms : 0;
}

int reg_journal_full(const struct registry *r)
{
    return r->j && r->j->bytes_since_save >= COMPACT_BYTES;
}

void rj_save_attempted(struct registry *r)
{
    r->j->bytes_since_save = 0;
}

void rj_snapshot_done(struct registry *r)
{
    struct reg_journal *j = r->j;
    drop_changes(r);
    pthread_mutex_lock(&j->mu);
    j->trunc = 1;
    j->trunc_seq = r->seq;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

/* ---- the writer thread ---- */

static void write_failed(struct reg_journal *j, const char *what)
{
    int e = errno;
    METRIC_ADD(lf_metrics.registry_errors, 1);
    if (ftruncate(j->fd, j->size) != 0) /* no torn record for the next appends to follow */
        LF_LOG(LF_DEBUG, "registry", "cannot cut %s back: %s", j->path, strerror(errno));
    if (!j->failing)
        LF_LOG(LF_ERROR, "registry", "cannot %s %s: %s; offsets are committed at each "
               "registry_flush only until it works again", what, j->path, strerror(e));
    j->failing = 1;
}

static void append(struct reg_journal *j, const uint8_t *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(j->fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            write_failed(j, "append to");
            return;
        }
        done += (size_t)w;
    }
    if (fdatasync(j->fd) != 0) {
        write_failed(j, "sync");
        return;
    }
    j->size += (off_t)n;
    if (j->failing)
        LF_LOG(LF_INFO, "registry", "%s is written again", j->path);
    j->failing = 0;
}

static void *writer_main(void *arg)
{
    struct reg_journal *j = arg;
    pthread_setname_np(pthread_self(), "lf-journal"); /* for top -H, ps -L, gdb */
    uint8_t *wbuf = NULL;
    size_t capw = 0;
    pthread_mutex_lock(&j->mu);
    for (;;) {
        while (!j->npend && !j->trunc && !j->stop)
            pthread_cond_wait(&j->cv, &j->mu);
        if (!j->npend && !j->trunc)
            break; /* stop, and everything handed over is written */
        uint8_t *b = j->pend;
        size_t n = j->npend, cb = j->cappend;
        j->pend = wbuf;
        j->cappend = capw;
        j->npend = 0;
        wbuf = b;
        capw = cb;
        int trunc = j->trunc;
        uint64_t covered = j->trunc_seq;
        j->trunc = 0;
        pthread_mutex_unlock(&j->mu);
        size_t skip = 0;
        if (trunc) {
            /* Safe: the file holds only records the save covered (newer ones are at most in
             * wbuf, taken together with the request, after the covered ones). */
            if (j->size > RJ_HEADER_LEN) {
                if (ftruncate(j->fd, RJ_HEADER_LEN) == 0)
                    j->size = RJ_HEADER_LEN;
                else
                    write_failed(j, "empty");
            }
            while (skip + 17 <= n && get64(wbuf + skip + 9) <= covered)
                skip += 8 + get32(wbuf + skip);
        }
        if (n > skip)
            append(j, wbuf + skip, n - skip);
        pthread_mutex_lock(&j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    free(wbuf);
    return NULL;
}

int reg_journal_start(struct registry *r, long group_ms, char *err, size_t errsz)
{
    if (r->j)
        return 0;
    struct reg_journal *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    j->path = r->jfile;
    j->group_ms = group_ms > 0 ? group_ms : 20;
    j->fd = open(r->jfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    struct stat sb;
    if (j->fd < 0 || fstat(j->fd, &sb) != 0)
        goto fail;
    r->journal_on_disk = 1;
    j->size = sb.st_size;
    if (j->size < RJ_HEADER_LEN) { /* new, or cut to nothing by the replay */
        if (ftruncate(j->fd, 0) != 0 || write(j->fd, RJ_HEADER, RJ_HEADER_LEN) != RJ_HEADER_LEN ||
            fdatasync(j->fd) != 0)
            goto fail;
        j->size = RJ_HEADER_LEN;
        int dfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* the name, durably */
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    if (pthread_create(&j->th, NULL, writer_main, j) != 0) {
        pthread_mutex_destroy(&j->mu);
        pthread_cond_destroy(&j->cv);
        errno = EAGAIN;
        goto fail;
    }
    r->j = j;
    for (int i = 0; i < r->n; i++)
        r->e[i].jslot = -1;
    return 0;
fail:
    snprintf(err, errsz, "cannot open the registry journal %s: %s", r->jfile, strerror(errno));
    if (j->fd >= 0)
        close(j->fd);
    free(j);
    return -1;
}

void reg_journal_stop(struct registry *r)
{
    struct reg_journal *j = r->j;
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    serialize(r); /* the last group, even if the writer is still on the one before */
    j->stop = 1;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    pthread_join(j->th, NULL);
    drop_changes(r); /* what did not fit in memory: the save that follows has it */
    close(j->fd);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j->chg);
    free(j->rm);
    free(j->pend);
    free(j);
    r->j = NULL;
}
