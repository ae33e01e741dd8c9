/*
 * es_dlq.c - the Elasticsearch output's dead letters: documents Elasticsearch refused for
 * good, written with its reason to <data_dir>/dead-letter/elasticsearch-<name>.ndjson.
 *
 * Owned by one output instance, used only on its thread. Lines are collected per _bulk
 * response (es_dlq_add) and written durably (write + fdatasync) by es_dlq_flush before the
 * batches they belong to may be acknowledged; a write error (disk full) is retried forever,
 * pausing the output rather than losing a document. Each kind (status + error type) is
 * logged once; every document counts in events_dead.
 */
#include "outputs/es.h"

#include "agent/base/clock.h"
#include "agent/base/json.h"
#include "agent/base/log.h"
#include "agent/base/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define COMP "out.es"

static void nap(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void es_dlq_init(struct es_dlq *q, const char *data_dir, const char *name,
                 struct out_metrics *m)
{
    memset(q, 0, sizeof *q);
    q->fd = -1;
    q->name = name;
    q->m = m;
    buf_init(&q->lines, 0);
    snprintf(q->dir, sizeof q->dir, "%s/dead-letter", data_dir ? data_dir : ".");
    snprintf(q->path, sizeof q->path, "%s/elasticsearch-%s.ndjson", q->dir, name);
}

/* "<what> <path>: <strerror>" into the output's last_error (truncated as needed). */
static void set_err(struct es_dlq *q, const char *what, const char *path)
{
    char *le = q->m->last_error;
    size_t n = sizeof q->m->last_error;
    int k = snprintf(le, n, "%s ", what);
    if (k > 0 && (size_t)k < n) {
        size_t room = n - (size_t)k;
        const char *e = strerror(errno);
        size_t pl = strlen(path), el = strlen(e);
        size_t keep = room > el + 3 ? room - el - 3 : 0;
        if (pl > keep) /* keep the end of the path: the file name */
            path += pl - keep;
        snprintf(le + k, room, "%s: %s", path, e);
    }
}

static int dlq_open(struct es_dlq *q)
{
    if (q->fd >= 0)
        return 0;
    if (mkdir(q->dir, 0750) != 0 && errno != EEXIST) {
        set_err(q, "mkdir", q->dir);
        return -1;
    }
    q->fd = open(q->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (q->fd < 0) {
        set_err(q, "open", q->path);
        return -1;
    }
    return 0;
}

void es_dlq_add(struct es_dlq *q, const struct event_batch *b, const struct event *ev,
                const char *index, size_t ilen, int status, const char *type,
                const char *reason)
{
    char now[32], id[40];
    json_format_ts(wall_ms(), now);
    es_doc_id(&b->src->id, ev->offset, id);
    size_t jl = ev->json_len;
    while (jl > 0 && (ev->json[jl - 1] == '\n' || ev->json[jl - 1] == '\r'))
        jl--;
    size_t len0 = q->lines.len;
    struct buf *o = &q->lines;
    while (buf_printf(o, "{\"@timestamp\":\"%s\",\"output\":", now) != 0 ||
           json_write_string(o, q->name, strlen(q->name)) != 0 ||
           buf_printf(o, ",\"status\":%d,\"error\":{\"type\":", status) != 0 ||
           json_write_string(o, type, strlen(type)) != 0 || buf_adds(o, ",\"reason\":") != 0 ||
           json_write_string(o, reason, strlen(reason)) != 0 ||
           buf_printf(o, "},\"_index\":\"%.*s\",\"_id\":\"%s\",\"document\":", (int)ilen, index,
                      id) != 0 ||
           buf_add(o, ev->json, jl) != 0 || buf_adds(o, "}\n") != 0) {
        o->len = len0; /* drop the partial line, wait for memory, write it again */
        LF_LOG(LF_ERROR, COMP, "[%s] out of memory for a dead letter; waiting", q->name);
        nap(100);
    }
    METRIC_ADD(q->m->events_dead, 1);
    char st[16];
    snprintf(st, sizeof st, "%d", status);
    enum lf_once_verdict v = lf_once_check(&q->logged, st, type);
    if (v != LF_ONCE_SEEN)
        LF_LOG(LF_WARN, COMP, "[%s] Elasticsearch refused a document (%d %s: %s); it and the "
               "next ones of this kind go to %s (counted in events_dead, logged once)",
               q->name, status, *type ? type : "-", reason, q->path);
    if (v == LF_ONCE_FULL)
        LF_LOG(LF_WARN, COMP, "[%s] %d kinds of dead letters logged: further kinds are not "
               "logged (they are counted in events_dead and written to %s)", q->name,
               LF_ONCE_KINDS, q->path);
}

void es_dlq_flush(struct es_dlq *q)
{
    if (q->lines.len == 0)
        return;
    long d = 100;
    int logged = 0;
    size_t off = 0;
    for (;;) {
        if (dlq_open(q) == 0) {
            while (off < q->lines.len) {
                ssize_t w = write(q->fd, q->lines.p + off, q->lines.len - off);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w < 0) {
                    set_err(q, "write", q->path);
                    break;
                }
                off += (size_t)w;
            }
            if (off == q->lines.len && fdatasync(q->fd) == 0)
                break;
            if (off == q->lines.len)
                set_err(q, "fdatasync", q->path);
        }
        if (!logged)
            LF_LOG(LF_ERROR, COMP, "[%s] cannot write dead letters: %s; retrying (the output "
                   "waits: no document is dropped)", q->name, q->m->last_error);
        logged = 1;
        nap(d);
        d = d < 5000 ? d * 2 : 5000;
    }
    if (logged)
        LF_LOG(LF_INFO, COMP, "[%s] dead letters written again to %s", q->name, q->path);
    buf_reset(&q->lines);
}

void es_dlq_close(struct es_dlq *q)
{
    if (q->fd >= 0)
        close(q->fd);
    q->fd = -1;
    buf_free(&q->lines);
}
