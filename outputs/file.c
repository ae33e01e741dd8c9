/*
 * file.c - the NDJSON file output: append each event's JSON line to `path`, then ack.
 *
 * Runs on its output thread only. A write error (disk full, the file's filesystem gone) is
 * retried with a capped backoff and the batch is acked only once all of it is written, so a
 * full disk pauses the pipeline instead of losing lines. `fsync = true` makes the ack wait
 * for the data to be on disk (slower; off by default as Filebeat's file output).
 * Consecutive events are contiguous in the batch arena, so a batch usually goes out in a
 * handful of iovecs.
 *
 * Torn records: a write that fails after writing part of a chunk (ENOSPC mid-record) is
 * undone (the file is truncated back to where the chunk began) and the chunk is written again
 * whole, so the file never holds half an event that a later event is glued to. What no
 * truncation can undo (a kill -9 in the middle of a large writev, a crash) is repaired on the
 * next open: a last line without its newline is ended with one (logged, and counted in
 * `records_repaired`) so the first event of the new run starts on a line of its own. The torn
 * piece stays an invalid line; its event was never acknowledged and is shipped again whole.
 * A named pipe can be neither truncated nor read back: there, records are written whole, at
 * most PIPE_BUF bytes per write (atomic), so none is left cut in the pipe.
 */
#include "agent/base/clock.h"
#include "outputs/output.h"
#include "agent/base/log.h"
#include "outputs/out_state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

struct file_conf {
    const char *path;
    int fsync;
    const char *mode;
};

static const struct conf_key file_keys[] = {
    {"path", CT_STR, NULL, offsetof(struct file_conf, path),
     "NDJSON file to append to (parent directories are created)", NULL},
    {"fsync", CT_BOOL, "false", offsetof(struct file_conf, fsync),
     "fdatasync before acknowledging each batch", NULL},
    {"file_mode", CT_STR, "0640", offsetof(struct file_conf, mode), "permissions of a new file", NULL},
    {NULL, 0, NULL, 0, NULL, NULL},
};

struct file_out {
    const struct file_conf *conf;
    const struct output_env *env;
    int fd;
    mode_t mode;
    int need_nl;                    /* the file ends inside a record: end it before writing */
    int pipe;                       /* path is a FIFO: atomic writes of whole records */
    struct iovec work[IOV_MAX + 1]; /* the chunk being written ([0] may be that newline) */
};

static int file_check(const void *vconf, struct conf *c, struct conf_section *s,
                      struct conf_errs *errs)
{
    const struct file_conf *fc = vconf;
    if (!fc->path || !*fc->path) {
        conf_err(errs, c->file, s->line, "[output %s] needs path = FILE", s->name);
        return 1;
    }
    char *end;
    long m = strtol(fc->mode, &end, 8);
    if (*end || m < 0 || m > 0777) {
        struct conf_entry *e = conf_find(s, "file_mode");
        conf_err(errs, c->file, e ? e->line : s->line, "file_mode: '%s' is not an octal mode",
                 fc->mode);
        return 1;
    }
    return 0;
}

/* Creates the parent directories of path (like Filebeat's file output). */
static void make_parents(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0750);
            *p = '/';
        }
}

/* 1 if the regular file at path is not empty and does not end with a newline. */
static int ends_torn(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0;
    struct stat st;
    char c = '\n';
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        pread(fd, &c, 1, st.st_size - 1) != 1)
        c = '\n';
    close(fd);
    return c != '\n';
}

static int open_out(struct file_out *fo, char *err, size_t errsz)
{
    make_parents(fo->conf->path);
    fo->fd = open(fo->conf->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, fo->mode);
    if (fo->fd < 0) {
        snprintf(err, errsz, "cannot open %s: %s", fo->conf->path, strerror(errno));
        return -1;
    }
    struct stat st;
    fo->pipe = fstat(fo->fd, &st) == 0 && S_ISFIFO(st.st_mode);
    if (!fo->pipe && !fo->need_nl && ends_torn(fo->conf->path)) {
        fo->need_nl = 1;
        METRIC_ADD(fo->env->m->records_repaired, 1);
        LF_LOG(LF_WARN, "out.file", "[%s] %s ends with an unfinished record (an earlier run was "
               "killed while writing it); ending it with a newline: that line is not valid JSON, "
               "its event is written again whole", fo->env->name, fo->conf->path);
    }
    return 0;
}

static void *file_init(const void *vconf, const struct output_env *env, char *err, size_t errsz)
{
    struct file_out *fo = calloc(1, sizeof *fo);
    if (!fo) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    fo->conf = vconf;
    fo->env = env;
    fo->fd = -1;
    fo->mode = (mode_t)strtol(fo->conf->mode, NULL, 8);
    if (open_out(fo, err, errsz) != 0) {
        free(fo);
        return NULL;
    }
    return fo;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Size of the regular file behind fd, or -1 (a FIFO, a character device: nothing to undo). */
static off_t reg_size(int fd)
{
    struct stat st;
    return fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : -1;
}

/* Writes the chunk iov[0..n) (whole records) fully. On an error after part of it was
 * written, the part is cut off again (or, if that fails, the torn record is ended by a
 * newline before the next attempt) and the chunk is retried whole, with a capped backoff:
 * backpressure. Returns -1 only when shutdown gave up on it (env->giving_up): the batch is
 * then not acknowledged. */
static int write_chunk(struct file_out *fo, const struct iovec *iov, int n)
{
    long backoff = 0;
    int logged = 0;
    for (;;) {
        int k = 0;
        if (fo->need_nl)
            fo->work[k++] = (struct iovec){(void *)"\n", 1};
        memcpy(fo->work + k, iov, (size_t)n * sizeof *iov);
        struct iovec *w = fo->work;
        int left = n + k, had_nl = k;
        off_t start = reg_size(fo->fd);
        int e = 0;
        while (left > 0) {
            /* the chunk holds up to IOV_MAX records plus the repairing newline: more than
             * IOV_MAX at once is EINVAL, so the newline's chunk goes in two writes */
            ssize_t r = fo->fd >= 0 ? writev(fo->fd, w, left < IOV_MAX ? left : IOV_MAX) : -1;
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                e = fo->fd >= 0 ? errno : EBADF;
                break;
            }
            if (k && r > 0) {
                fo->need_nl = 0; /* the newline went first */
                k = 0;
            }
            while (left > 0 && (size_t)r >= w[0].iov_len) {
                r -= (ssize_t)w[0].iov_len;
                w++;
                left--;
            }
            if (left > 0 && r > 0) {
                w[0].iov_base = (char *)w[0].iov_base + r;
                w[0].iov_len -= (size_t)r;
            }
        }
        if (left == 0)
            break;
        /* Undo the part of the chunk that went out: the retry writes it whole. */
        if (start >= 0 && reg_size(fo->fd) > start)
            fo->need_nl = ftruncate(fo->fd, start) != 0 || had_nl;
        if (!logged)
            LF_LOG(LF_ERROR, "out.file", "[%s] write to %s failed: %s; retrying (reading is "
                   "paused until it succeeds)", fo->env->name, fo->conf->path, strerror(e));
        logged = 1;
        out_state_set(fo->env->m, OUT_RETRYING, "write %s: %s", fo->conf->path, strerror(e));
        long delay = out_backoff_next(&backoff, 100, 5000);
        for (long slept = 0; slept < delay; slept += 100) {
            if (fo->env->giving_up && atomic_load(fo->env->giving_up))
                return -1;
            sleep_ms(100);
        }
        if (fo->fd < 0) {
            char err[256];
            open_out(fo, err, sizeof err);
        }
    }
    if (logged) {
        LF_LOG(LF_INFO, "out.file", "[%s] writing to %s again", fo->env->name, fo->conf->path);
        out_state_set(fo->env->m, OUT_OK, NULL);
    }
    return 0;
}

static void file_send(void *st, struct event_batch *b)
{
    struct file_out *fo = st;
    struct iovec iov[IOV_MAX];
    int n = 0;
    uint64_t sent = 0, skipped = 0;
    size_t chunk = 0; /* bytes in iov (counted for pipes only) */
    for (uint32_t i = 0; i < b->n; i++) {
        const struct event *ev = &b->ev[i];
        if (!output_wants(fo->env, b, ev)) {
            skipped++;
            continue;
        }
        sent++;
        if (fo->pipe) {
            /* A pipe cannot be truncated back: write whole records at most PIPE_BUF at a
             * time, which the kernel writes all or nothing, so a kill -9 or a reload in the
             * middle of a write leaves no half record for the next run to glue onto (only a
             * single record larger than PIPE_BUF can still be cut). */
            if (n > 0 && chunk + ev->json_len > PIPE_BUF) {
                if (write_chunk(fo, iov, n) != 0)
                    return;
                n = 0;
                chunk = 0;
            }
            chunk += ev->json_len;
        }
        if (n > 0 && (char *)iov[n - 1].iov_base + iov[n - 1].iov_len == ev->json) {
            iov[n - 1].iov_len += ev->json_len;
            continue;
        }
        if (n == IOV_MAX) {
            if (write_chunk(fo, iov, n) != 0)
                return; /* shutdown gave up: not acknowledged, read again after the restart */
            n = 0;
        }
        iov[n].iov_base = (void *)ev->json;
        iov[n].iov_len = ev->json_len;
        n++;
    }
    if (n && write_chunk(fo, iov, n) != 0)
        return;
    if (fo->conf->fsync && sent)
        while (fdatasync(fo->fd) != 0 && errno == EINTR)
            ;
    METRIC_ADD(fo->env->m->events_sent, sent);
    METRIC_ADD(fo->env->m->events_acked, sent);
    METRIC_ADD(fo->env->m->events_skipped, skipped);
    METRIC_ADD(fo->env->m->batches_acked, 1);
    fo->env->ack(fo->env, b);
}

static int file_flush(void *st, long timeout_ms)
{
    (void)timeout_ms;
    struct file_out *fo = st;
    if (fo->fd >= 0)
        fdatasync(fo->fd);
    return 0;
}

static void file_destroy(void *st)
{
    struct file_out *fo = st;
    if (!fo)
        return;
    if (fo->fd >= 0)
        close(fo->fd);
    free(fo);
}

static int file_test(const void *vconf, const struct output_env *env, char *msg, size_t msgsz)
{
    const struct file_conf *fc = vconf;
    (void)env;
    int fd = open(fc->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(msg, msgsz, "cannot open %s for appending: %s", fc->path, strerror(errno));
        return -1;
    }
    close(fd);
    snprintf(msg, msgsz, "%s is writable", fc->path);
    return 0;
}

/* The file output writes ev->json and nothing else of an event. */
static int file_uses_fields(const void *conf)
{
    (void)conf;
    return 0;
}

const struct output_desc out_file_desc = {
    .type = "file",
    .conf_table = file_keys,
    .conf_size = sizeof(struct file_conf),
    .check = file_check,
    .init = file_init,
    .send = file_send,
    .flush = file_flush,
    .destroy = file_destroy,
    .test = file_test,
    .uses_fields = file_uses_fields,
};
