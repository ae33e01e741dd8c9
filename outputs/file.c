/*
 * file.c - the NDJSON file output: append each event's JSON line to `path`, then ack.
 *
 * Runs on its output thread only. A write error (disk full, the file's filesystem gone) is
 * retried with a capped backoff and the batch is acked only once all of it is written, so a
 * full disk pauses the pipeline instead of losing lines. `fsync = true` makes the ack wait
 * for the data to be on disk (slower; off by default as Filebeat's file output).
 * Consecutive events are contiguous in the batch arena, so a batch usually goes out in a
 * handful of iovecs.
 */
#include "outputs/output.h"
#include "agent/log.h"

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
    {"path", CT_STR, NULL, offsetof(struct file_conf, path), "NDJSON file to append to", NULL},
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

static int open_out(struct file_out *fo, char *err, size_t errsz)
{
    make_parents(fo->conf->path);
    fo->fd = open(fo->conf->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, fo->mode);
    if (fo->fd < 0) {
        snprintf(err, errsz, "cannot open %s: %s", fo->conf->path, strerror(errno));
        return -1;
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
    fo->mode = (mode_t)strtol(fo->conf->mode, NULL, 8);
    if (open_out(fo, err, errsz) != 0) {
        free(fo);
        return NULL;
    }
    return fo;
}

static long long wall_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Writes iov fully, retrying forever on errors (backpressure). */
static void write_all(struct file_out *fo, struct iovec *iov, int n)
{
    long backoff = 100;
    int logged = 0;
    while (n > 0) {
        ssize_t w = fo->fd >= 0 ? writev(fo->fd, iov, n) : -1;
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            if (!logged)
                LF_LOG(LF_ERROR, "out.file", "[%s] write to %s failed: %s; retrying (reading is "
                       "paused until it succeeds)", fo->env->name, fo->conf->path, strerror(e));
            logged = 1;
            snprintf(fo->env->m->last_error, sizeof fo->env->m->last_error, "write %s: %s",
                     fo->conf->path, strerror(e));
            if (METRIC_GET(fo->env->m->state) != OUT_RETRYING) {
                METRIC_SET(fo->env->m->state, OUT_RETRYING);
                METRIC_SET(fo->env->m->state_since_ms, wall_now_ms());
            }
            sleep_ms(backoff);
            backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
            if (fo->fd < 0) {
                char err[256];
                open_out(fo, err, sizeof err);
            }
            continue;
        }
        while (n > 0 && (size_t)w >= iov[0].iov_len) {
            w -= (ssize_t)iov[0].iov_len;
            iov++;
            n--;
        }
        if (n > 0 && w > 0) {
            iov[0].iov_base = (char *)iov[0].iov_base + w;
            iov[0].iov_len -= (size_t)w;
        }
    }
    if (logged) {
        LF_LOG(LF_INFO, "out.file", "[%s] writing to %s again", fo->env->name, fo->conf->path);
        METRIC_SET(fo->env->m->state, OUT_OK);
        METRIC_SET(fo->env->m->state_since_ms, wall_now_ms());
    }
}

static void file_send(void *st, struct event_batch *b)
{
    struct file_out *fo = st;
    struct iovec iov[IOV_MAX];
    int n = 0;
    uint64_t sent = 0, skipped = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        const struct event *ev = &b->ev[i];
        if (!output_wants(fo->env, b, ev)) {
            skipped++;
            continue;
        }
        sent++;
        if (n > 0 && (char *)iov[n - 1].iov_base + iov[n - 1].iov_len == ev->json) {
            iov[n - 1].iov_len += ev->json_len;
            continue;
        }
        if (n == IOV_MAX) {
            write_all(fo, iov, n);
            n = 0;
        }
        iov[n].iov_base = (void *)ev->json;
        iov[n].iov_len = ev->json_len;
        n++;
    }
    if (n)
        write_all(fo, iov, n);
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
