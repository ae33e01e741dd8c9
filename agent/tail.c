/*
 * tail.c - one tracked log file: identity, opening and resuming, reading and cutting lines.
 *
 * Tail thread only. Reading goes through one shared buffer: the carried partial line is
 * copied to its front, the next chunk is read after it, and every complete line is handed to
 * the input's lineproc straight from that buffer (no per-line copy). What is left without a
 * newline becomes the new carry (at most max_line_bytes: beyond that the line is cut, marked
 * truncated, and the rest of it skipped up to its newline, so the event's commit point is
 * still the end of the whole line).
 *
 * Identity (what the registry keys on): device + inode, checked against a fingerprint of the
 * file's first bytes (up to 1 KiB), so an inode reused by a new file is seen as new and read
 * from its start. `uid` (statx birth time, or the first bytes) is the stable name outputs use
 * for document ids.
 */
#include "agent/agent.h"
#include "agent/base/clock.h"
#include "agent/base/json.h"
#include "agent/base/log.h"
#include "agent/base/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FP_MAX 1024
#define READ_CHUNK (256 * 1024)
#define BATCH_MAX_BYTES (1u << 20)

static char *rbuf;
static size_t rbuf_cap;

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
#define FNV_INIT 0xcbf29ce484222325ULL

int tail_fingerprint(int fd, uint32_t len, uint64_t *fp, uint32_t *got)
{
    char b[FP_MAX];
    if (len > FP_MAX)
        len = FP_MAX;
    ssize_t n = len ? pread(fd, b, len, 0) : 0;
    if (n < 0)
        return -1;
    *fp = fnv1a(FNV_INIT, b, (size_t)n);
    *got = (uint32_t)n;
    return 0;
}

static uint64_t file_uid(int fd, const struct stat *st)
{
    uint64_t h = fnv1a(FNV_INIT, &st->st_dev, sizeof st->st_dev);
    h = fnv1a(h, &st->st_ino, sizeof st->st_ino);
    struct statx sx;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &sx) == 0 && (sx.stx_mask & STATX_BTIME)) {
        h = fnv1a(h, &sx.stx_btime.tv_sec, sizeof sx.stx_btime.tv_sec);
        h = fnv1a(h, &sx.stx_btime.tv_nsec, sizeof sx.stx_btime.tv_nsec);
        return h;
    }
    /* No birth time: the first line names the file (stable once written). */
    char b[256];
    ssize_t n = pread(fd, b, sizeof b, 0);
    if (n > 0) {
        char *nl = memchr(b, '\n', (size_t)n);
        h = fnv1a(h, b, nl ? (size_t)(nl - b) : (size_t)n);
    }
    return h;
}

struct tail_file *tail_find_path(struct agent *a, const char *path)
{
    struct tail_file *hit;
    if (sched_find_path(a, path, &hit) == 0)
        return hit;
    for (struct tail_file *tf = a->files; tf; tf = tf->next)
        if (tf->state != TF_DELETED && !tf->path_stale && strcmp(tf->path, path) == 0)
            return tf;
    return NULL;
}

struct tail_file *tail_find_real(struct agent *a, const char *real)
{
    struct tail_file *any = NULL;
    for (struct tail_file *tf = a->files; tf; tf = tf->next)
        if (tf->real && strcmp(tf->real, real) == 0) {
            if (tf->state == TF_ACTIVE && !tf->path_stale)
                return tf;
            any = tf;
        }
    return any;
}

struct tail_file *tail_find_id(struct agent *a, uint64_t dev, uint64_t ino)
{
    struct tail_file *hit;
    if (sched_find_id(a, dev, ino, &hit) == 0)
        return hit;
    for (struct tail_file *tf = a->files; tf; tf = tf->next)
        if (tf->id.dev == dev && tf->id.ino == ino && tf->state != TF_DELETED)
            return tf;
    return NULL;
}

static int reopen_fd(struct tail_file *tf, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_dev != tf->id.dev ||
        (uint64_t)st.st_ino != tf->id.ino) {
        close(fd);
        return -1;
    }
    if (lseek(fd, (off_t)tf->read_off, SEEK_SET) < 0) {
        close(fd);
        return -1;
    }
    tf->fd = fd;
    return 0;
}

/* Warn about a path at most once every 10 minutes (an unreadable file is seen again at every
 * change and rescan). */
static int warn_once(const char *path, int err)
{
    static struct {
        uint64_t h;
        int64_t at;
    } seen[128];
    uint64_t h = fnv1a(FNV_INIT, path, strlen(path)) ^ (uint64_t)err;
    int64_t now = mono_ms();
    unsigned slot = (unsigned)(h % 128);
    if (seen[slot].h == h && now - seen[slot].at < 600000)
        return 0;
    seen[slot].h = h;
    seen[slot].at = now;
    return 1;
}

static int at_cap(struct agent *a, const char *path)
{
    if (a->nfiles_open < a->ac.max_open_files)
        return 0;
    a->files_waiting = 1;
    if (warn_once("max_open_files", 0))
        LF_LOG(LF_WARN, "tail", "max_open_files (%ld) reached: %s and others wait; idle files are "
               "closed to make room", a->ac.max_open_files, path);
    return 1;
}

struct tail_file *tail_open(struct agent *a, struct input *in, int dir, const char *path,
                            int initial_scan)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        if (errno != ENOENT && warn_once(path, errno))
            LF_LOG(LF_WARN, "tail", "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        LF_LOG(LF_DEBUG, "tail", "%s is not a regular file; ignored", path);
        close(fd);
        return NULL;
    }
    struct tail_file *old = tail_find_id(a, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
    if (old) {
        /* Already known: a rename into a matching name, or a closed file coming back. */
        if (old->state == TF_CLOSED && old->fd < 0) {
            close(fd);
            if (at_cap(a, path)) {
                old->waiting = 1;
                return old;
            }
            if (reopen_fd(old, path) == 0) {
                old->waiting = 0;
                old->state = TF_ACTIVE;
                sched_dirty(a, old);
                old->last_data_ms = mono_ms();
                a->nfiles_open++;
                METRIC_SET(lf_metrics.files_open, a->nfiles_open);
                if (!old->lps)
                    old->lps = lineproc_state_new(in->lp, path);
                LF_LOG(LF_DEBUG, "tail", "reopened %s at offset %llu", path,
                       (unsigned long long)old->read_off);
                /* While it was closed it may have been truncated and rewritten past our
                 * offset (copytruncate): the size cannot tell, the first bytes can. Without
                 * this the new content's head was skipped. */
                tail_check_rewritten(a, old);
            }
            return old;
        }
        close(fd);
        return old;
    }
    /* At max_open_files the file is still tracked, without a descriptor: known by identity,
     * in the registry, followed through renames, and opened when a slot frees. Before, it was
     * forgotten, and if it was rotated away while it waited its lines were never read. */
    int capped = at_cap(a, path);
    struct tail_file *tf = calloc(1, sizeof *tf);
    struct event_source *src = calloc(1, sizeof *src);
    char *p1 = strdup(path), *p2 = strdup(path);
    if (!tf || !src || !p1 || !p2) {
        free(tf); free(src); free(p1); free(p2);
        close(fd);
        return NULL;
    }
    tf->in = in;
    tf->dir = dir;
    tf->fd = fd;
    tf->path = p1;
    /* A symlinked log (Kubernetes' /var/log/containers/NAME.log): inotify reports appends in the
     * target's directory under the target's name, so watch that directory too. */
    char *rp = realpath(path, NULL);
    if (rp && strcmp(rp, path) != 0) {
        tf->real = rp;
        char tdir[4096];
        snprintf(tdir, sizeof tdir, "%s", rp);
        char *slash = strrchr(tdir, '/');
        if (slash && slash != tdir) {
            *slash = '\0';
            agent_add_dir(a, tdir);
        }
    } else {
        free(rp);
    }
    tf->id.dev = (uint64_t)st.st_dev;
    tf->id.ino = (uint64_t)st.st_ino;
    uint32_t want = st.st_size < FP_MAX ? (uint32_t)st.st_size : FP_MAX;
    tail_fingerprint(fd, want, &tf->id.fp, &tf->id.fp_len);
    tf->id.uid = file_uid(fd, &st);

    uint64_t start = 0;
    const char *how = "from its beginning (new file)";
    struct reg_entry *e = reg_find(a->reg, tf->id.dev, tf->id.ino);
    if (e) {
        uint64_t fp;
        uint32_t got;
        if (e->id.fp_len <= (uint64_t)st.st_size && tail_fingerprint(fd, e->id.fp_len, &fp, &got) == 0 &&
            got == e->id.fp_len && fp == e->id.fp) {
            start = e->offset;
            how = "resuming from the registry";
            if (e->id.uid)
                tf->id.uid = e->id.uid;
            if (start > (uint64_t)st.st_size) {
                start = 0;
                how = "from its beginning (smaller than its registry offset: truncated)";
            }
        } else {
            how = "from its beginning (inode reused by a new file)";
            reg_remove(a->reg, tf->id.dev, tf->id.ino);
        }
    } else if (initial_scan && a->first_start && strcmp(in->c.start_at, "end") == 0) {
        start = (uint64_t)st.st_size;
        how = "at its end (start_at = end)";
    }
    if (capped) {
        close(fd);
        fd = tf->fd = -1;
    } else if (start && lseek(fd, (off_t)start, SEEK_SET) < 0) {
        start = 0;
    }
    tf->read_off = tf->line_off = tf->consumed = tf->committed = start;
    src->input = in->name;
    src->path = p2;
    src->id = tf->id;
    tf->src = src;
    tf->lps = lineproc_state_new(in->lp, path);
    event_base_init(&tf->base, a->host_name, p2, in->static_fields, in->nstatic);
    tf->base.skip_fields = !a->keep_fields;
    tf->state = capped ? TF_CLOSED : TF_ACTIVE;
    tf->waiting = capped;
    tf->last_data_ms = mono_ms();
    tf->size = st.st_size;
    tf->seq = ++a->sched.seq;
    pthread_mutex_lock(&a->status_mu);
    tf->next = a->files;
    a->files = tf;
    pthread_mutex_unlock(&a->status_mu);
    sched_index_path(a, tf);
    if (!capped)
        sched_dirty(a, tf);
    if (reg_set(a->reg, tf->path, &tf->id, tf->committed) != 0 ||
        reg_set_input(a->reg, tf->id.dev, tf->id.ino, in->name) != 0)
        reg_note_failure(a->reg, tf->path);
    if (capped) {
        LF_LOG(LF_DEBUG, "tail", "[%s] %s waits for a descriptor (max_open_files); it will be "
               "read %s at offset %llu", in->name, path, how, (unsigned long long)start);
        return tf;
    }
    a->nfiles_open++;
    METRIC_ADD(lf_metrics.files_opened, 1);
    METRIC_SET(lf_metrics.files_open, a->nfiles_open);
    LF_LOG(LF_INFO, "tail", "[%s] reading %s %s at offset %llu (inode %llu)", in->name, path, how,
           (unsigned long long)start, (unsigned long long)tf->id.ino);
    return tf;
}

void tail_dispatch(struct agent *a, struct tail_file *tf)
{
    struct event_batch *b = tf->cur;
    if (!b)
        return;
    tf->cur = NULL;
    if (b->n == 0 && b->end <= b->start) {
        batch_free(b);
        return;
    }
    pipeline_dispatch(a, tf, b);
}

/* What on_record() works for: lineproc's callback context, on the caller's stack for one
 * lineproc_feed()/lineproc_flush() call (tail thread). */
struct rec_ctx {
    struct agent *a;
    struct tail_file *tf;
};

static int on_record(void *ctx, struct event_builder *eb, const char *rec, size_t len,
                     uint64_t offset, uint64_t end)
{
    const struct rec_ctx *rc = ctx;
    struct tail_file *tf = rc->tf;
    struct agent *a = rc->a;
    if (!tf->cur) {
        tf->cur = batch_new(tf->src, a->host_name, (uint32_t)a->ac.batch_max_events);
        if (!tf->cur)
            return -1;
        tf->cur->start = tf->consumed;
        tf->cur->end = tf->consumed;
    }
    if (!eb) {
        METRIC_ADD(lf_metrics.filtered, 1);
    } else {
        if (eb->flags & EV_PARSE_FAILURE)
            METRIC_ADD(lf_metrics.parse_failures, 1);
        if (batch_add(tf->cur, &tf->base, eb, rec, len, offset, end, a->now_ms) != 0) {
            if (tf->cur->n == 0)
                return -1; /* out of memory with an empty batch: give up this read */
            tail_dispatch(a, tf);
            tf->cur = batch_new(tf->src, a->host_name, (uint32_t)a->ac.batch_max_events);
            if (!tf->cur)
                return -1;
            tf->cur->start = tf->consumed;
            if (batch_add(tf->cur, &tf->base, eb, rec, len, offset, end, a->now_ms) != 0)
                return -1;
        }
    }
    tf->cur->end = end;
    tf->consumed = end;
    if (tf->cur->n >= tf->cur->cap || tf->cur->bytes >= BATCH_MAX_BYTES)
        tail_dispatch(a, tf);
    return 0;
}

static int feed(struct agent *a, struct tail_file *tf, const char *line, size_t len, uint64_t off,
                uint64_t end, unsigned flags)
{
    if (len && line[len - 1] == '\r')
        len--; /* CRLF line endings */
    METRIC_ADD(lf_metrics.lines_read, 1);
    if (flags & LINE_TRUNCATED)
        METRIC_ADD(lf_metrics.truncated, 1);
    struct rec_ctx rc = {a, tf};
    return lineproc_feed(tf->in->lp, tf->lps, &a->eb, line, len, off, end, flags, a->now_ms,
                         on_record, &rc);
}

static int carry_set(struct tail_file *tf, const char *p, size_t n)
{
    if (n > tf->carry_cap) {
        size_t nc = tf->carry_cap ? tf->carry_cap : 256;
        while (nc < n)
            nc *= 2;
        char *nb = realloc(tf->carry, nc);
        if (!nb)
            return -1;
        tf->carry = nb;
        tf->carry_cap = nc;
    }
    if (n)
        memmove(tf->carry, p, n); /* carry is NULL until the first partial line */
    tf->carry_len = n;
    return 0;
}

/* Truncation (copytruncate): read the file again from offset 0. Batches of the old content
 * may still be in flight: their acks must not move `committed` back to old offsets (saved
 * with the new content's fingerprint, such an offset makes a restart resume in the middle of
 * the new content and lose its head). They are disowned (b->owner = NULL: pipeline-private,
 * outputs never read it) and pipeline_collect() frees them without committing their end. */
static void reset_to_start(struct agent *a, struct tail_file *tf, const char *why)
{
    LF_LOG(LF_INFO, "tail", "%s %s: reading it again from the start", tf->path, why);
    METRIC_ADD(lf_metrics.rotations, 1);
    struct rec_ctx rc = {a, tf};
    lineproc_flush(tf->in->lp, tf->lps, &a->eb, on_record, &rc);
    tail_dispatch(a, tf);
    for (struct event_batch *b = tf->fifo_head; b; b = b->next)
        b->owner = NULL;
    tf->carry_len = 0;
    tf->skipping = 0;
    tf->read_off = tf->line_off = tf->consumed = tf->committed = 0;
    lseek(tf->fd, 0, SEEK_SET);
    uint32_t got = 0;
    tail_fingerprint(tf->fd, FP_MAX, &tf->id.fp, &got);
    tf->id.fp_len = got;
    if (reg_set(a->reg, tf->path, &tf->id, 0) != 0)
        reg_note_failure(a->reg, tf->path);
}

/* A short fingerprint (the file had less than FP_MAX bytes when it was taken) grows with the
 * file, but only after its old prefix is checked: a small file truncated and rewritten past
 * our offset between two looks (copytruncate) keeps its size growing, so only its first bytes
 * tell. Before, the fingerprint was replaced by the new content's without that check (and
 * only at registry saves), the rewrite went unseen and the new head up to the old offset was
 * skipped. Costs one pread of at most FP_MAX bytes per read, only during a file's first KiB.
 * Returns 1 if the file was rewritten (it is then read again from its start). */
static int fp_refresh(struct agent *a, struct tail_file *tf, uint64_t size)
{
    uint64_t fp;
    uint32_t got;
    if (tf->id.fp_len > 0 &&
        (size < tf->id.fp_len || tail_fingerprint(tf->fd, tf->id.fp_len, &fp, &got) != 0 ||
         got != tf->id.fp_len || fp != tf->id.fp)) {
        reset_to_start(a, tf, "was truncated and rewritten (its first bytes changed)");
        sched_dirty(a, tf);
        return 1;
    }
    if (size > tf->id.fp_len && tail_fingerprint(tf->fd, FP_MAX, &fp, &got) == 0 &&
        got > tf->id.fp_len) {
        tf->id.fp = fp;
        tf->id.fp_len = got;
    }
    return 0;
}

int tail_read(struct agent *a, struct tail_file *tf, size_t max_bytes)
{
    if (tf->fd < 0)
        return 0;
    size_t maxline = (size_t)tf->in->c.max_line_bytes;
    if (rbuf_cap < maxline + READ_CHUNK) {
        char *nb = realloc(rbuf, maxline + READ_CHUNK);
        if (!nb)
            return -1;
        rbuf = nb;
        rbuf_cap = maxline + READ_CHUNK;
    }
    struct stat st;
    if (fstat(tf->fd, &st) == 0) {
        tf->size = st.st_size;
        if ((uint64_t)st.st_size < tf->read_off) {
            char why[96];
            snprintf(why, sizeof why, "was truncated (size %lld < offset %llu)",
                     (long long)st.st_size, (unsigned long long)tf->read_off);
            reset_to_start(a, tf, why);
        } else if (tf->id.fp_len < FP_MAX && (uint64_t)st.st_size > tf->read_off) {
            fp_refresh(a, tf, (uint64_t)st.st_size);
        }
    }
    size_t total = 0;
    a->now_ms = wall_ms();
    while (total < max_bytes) {
        size_t c = tf->skipping ? 0 : tf->carry_len;
        if (c)
            memcpy(rbuf, tf->carry, c);
        ssize_t n = read(tf->fd, rbuf + c, READ_CHUNK);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return 0;
            LF_LOG(LF_WARN, "tail", "read error on %s: %s", tf->path, strerror(errno));
            return -1;
        }
        if (n == 0)
            return 0;
        METRIC_ADD(lf_metrics.bytes_read, (unsigned long long)n);
        tf->last_data_ms = mono_ms();
        uint64_t base = tf->read_off - c; /* file offset of rbuf[0] */
        tf->read_off += (uint64_t)n;
        total += (size_t)n;
        char *p = rbuf, *end = rbuf + c + (size_t)n;
        if (tf->skipping) {
            char *q = memchr(p, '\n', (size_t)(end - p));
            if (!q) {
                tf->skip_len += (uint64_t)(end - p);
                continue;
            }
            /* The over-long line ends here: ship its head, commit past its end. */
            if (feed(a, tf, tf->carry, tf->carry_len, tf->line_off, base + (uint64_t)(q - rbuf) + 1,
                     LINE_TRUNCATED) != 0)
                return -1;
            tf->skipping = 0;
            tf->carry_len = 0;
            p = q + 1;
        }
        for (;;) {
            char *q = memchr(p, '\n', (size_t)(end - p));
            if (!q)
                break;
            uint64_t off = base + (uint64_t)(p - rbuf);
            if ((size_t)(q - p) > maxline) {
                size_t keep = utf8_valid_prefix(p, maxline);
                if (feed(a, tf, p, keep, off, base + (uint64_t)(q - rbuf) + 1, LINE_TRUNCATED) != 0)
                    return -1;
            } else if (feed(a, tf, p, (size_t)(q - p), off, base + (uint64_t)(q - rbuf) + 1, 0) != 0) {
                return -1;
            }
            p = q + 1;
        }
        size_t rest = (size_t)(end - p);
        tf->line_off = base + (uint64_t)(p - rbuf);
        if (rest > maxline) {
            if (carry_set(tf, p, utf8_valid_prefix(p, maxline)) != 0)
                return -1;
            tf->skipping = 1;
            tf->skip_len = rest - tf->carry_len;
        } else if (carry_set(tf, p, rest) != 0) {
            return -1;
        }
        if (!pipeline_has_room(a))
            break;
    }
    return 1;
}

void tail_flush_pending(struct agent *a, struct tail_file *tf, int at_close)
{
    a->now_ms = wall_ms();
    if (at_close && (tf->carry_len || tf->skipping)) {
        /* The file will not grow any more (deleted or rotated away and drained): its last
         * line has no newline but it is still a line. */
        feed(a, tf, tf->carry, tf->carry_len, tf->line_off, tf->read_off,
             tf->skipping ? LINE_TRUNCATED : 0);
        tf->carry_len = 0;
        tf->skipping = 0;
    }
    struct rec_ctx rc = {a, tf};
    lineproc_flush(tf->in->lp, tf->lps, &a->eb, on_record, &rc);
    tail_dispatch(a, tf);
}

void tail_close_fd(struct agent *a, struct tail_file *tf, const char *why)
{
    if (tf->fd < 0)
        return;
    int drained = tf->state == TF_DELETED || tf->state == TF_RENAMED;
    tail_flush_pending(a, tf, drained);
    close(tf->fd);
    tf->fd = -1;
    /* A partial line not shipped is read again on reopen. */
    tf->read_off = tf->line_off = tf->consumed;
    tf->carry_len = 0;
    tf->skipping = 0;
    if (tf->state == TF_ACTIVE)
        tf->state = TF_CLOSED; /* inactive: known, reopened when it changes */
    a->nfiles_open--;
    a->sched.reap = 1;
    METRIC_SET(lf_metrics.files_open, a->nfiles_open);
    LF_LOG(LF_INFO, "tail", "closed %s (%s) at offset %llu", tf->path, why,
           (unsigned long long)tf->consumed);
}

int tail_close_removed(struct agent *a, struct tail_file *tf, int64_t now, int64_t *next)
{
    long after = tf->in->c.close_removed_after_ms;
    if (tf->fd < 0 || (tf->state != TF_DELETED && tf->state != TF_RENAMED) || !tf->dirty ||
        after <= 0) {
        tf->removed_unread_ms = 0;
        return 0;
    }
    if (!tf->removed_unread_ms)
        tf->removed_unread_ms = now;
    if (now - tf->removed_unread_ms < after) {
        if (tf->removed_unread_ms + after < *next)
            *next = tf->removed_unread_ms + after;
        return 0;
    }
    struct stat st;
    uint64_t size = fstat(tf->fd, &st) == 0 ? (uint64_t)st.st_size : tf->read_off;
    uint64_t lost = size > tf->consumed ? size - tf->consumed : 0;
    LF_LOG(LF_ERROR, "tail", "closing %s %s with %llu bytes unread after close_removed_after "
           "(%ld ms): they are given up, so the disk space is freed (an output without a spool "
           "was holding reading back)", tf->path,
           tf->state == TF_DELETED ? "(deleted)" : "(rotated away)", (unsigned long long)lost,
           after);
    METRIC_ADD(lf_metrics.removed_given_up, 1);
    METRIC_ADD(lf_metrics.removed_bytes_given_up, lost);
    tf->dirty = 0;
    tail_close_fd(a, tf, "close_removed_after");
    return 1;
}

void tail_reap(struct agent *a)
{
    a->sched.reap = 0;
    struct tail_file **pp = &a->files;
    while (*pp) {
        struct tail_file *tf = *pp;
        /* Open files, files with batches in flight, and inactive-closed files (cheap; a change
         * reopens them at once) stay. Deleted or renamed-away files go once drained & acked. */
        if (tf->fd >= 0 || tf->fifo_head || tf->cur || tf->state == TF_ACTIVE ||
            tf->state == TF_CLOSED || (tf->waiting && tf->state == TF_RENAMED)) {
            pp = &tf->next;
            continue;
        }
        if (tf->state == TF_DELETED)
            reg_remove(a->reg, tf->id.dev, tf->id.ino);
        else if (reg_set(a->reg, tf->path, &tf->id, tf->committed) != 0)
            reg_note_failure(a->reg, tf->path);
        pthread_mutex_lock(&a->status_mu);
        *pp = tf->next;
        pthread_mutex_unlock(&a->status_mu);
        sched_forget(a, tf);
        lineproc_state_free(tf->lps);
        free((char *)tf->src->path);
        free(tf->src);
        free(tf->carry);
        free(tf->real);
        free(tf->path);
        free(tf);
    }
}

void tail_sync_registry(struct agent *a)
{
    for (struct tail_file *tf = a->files; tf; tf = tf->next) {
        if (tf->fd >= 0 && tf->id.fp_len < FP_MAX && tf->size > (int64_t)tf->id.fp_len)
            fp_refresh(a, tf, (uint64_t)tf->size);
        if (tf->state != TF_DELETED)
            if (reg_set(a->reg, tf->path, &tf->id, tf->committed) != 0)
                reg_note_failure(a->reg, tf->path);
    }
}

void tail_free_all(struct agent *a)
{
    while (a->files) {
        struct tail_file *tf = a->files;
        a->files = tf->next;
        if (tf->fd >= 0)
            close(tf->fd);
        /* An output left running at shutdown (outputs_abandoned) may still read these
         * (librdkafka sends without copying): the process is exiting, so leave them. */
        while (tf->fifo_head && !a->outputs_abandoned) {
            struct event_batch *b = tf->fifo_head;
            tf->fifo_head = b->next;
            batch_free(b);
        }
        batch_free(tf->cur);
        lineproc_state_free(tf->lps);
        if (!tf->fifo_head) { /* batches left for an abandoned output still point at src */
            free((char *)tf->src->path);
            free(tf->src);
        }
        free(tf->carry);
        free(tf->real);
        free(tf->path);
        free(tf);
    }
    free(rbuf);
    rbuf = NULL;
    rbuf_cap = 0;
    sched_free(a);
}

/* copytruncate safety net (rescan): the file's first bytes changed although its size did not
 * shrink below our offset (truncated and rewritten past it between two looks). */
int tail_check_rewritten(struct agent *a, struct tail_file *tf)
{
    if (tf->fd < 0 || tf->id.fp_len == 0)
        return 0;
    uint64_t fp;
    uint32_t got;
    if (tail_fingerprint(tf->fd, tf->id.fp_len, &fp, &got) != 0)
        return 0;
    if (got == tf->id.fp_len && fp == tf->id.fp)
        return 0;
    reset_to_start(a, tf, "was truncated and rewritten (its first bytes changed)");
    sched_dirty(a, tf);
    return 1;
}
