/*
 * watch.c - the watcher thread (see watch.h). Threads: the watcher thread calls every
 * inotifytools function; the tail thread only enqueues requests and reads the pipe.
 */
#include "agent/watch.h"
#include "agent/base/log.h"
#include "agent/base/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <inotifytools/inotify.h>
#include <inotifytools/inotifytools.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_EVENTS (IN_CREATE | IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | \
                    IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

struct req {
    int dir;
    char *path;
    struct req *next;
};

static pthread_t thr;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct req *reqs;
static atomic_int stopping;
static int pipefd[2] = {-1, -1};
static int started;
static int fence_fd = -1; /* DATA_DIR/watch.fence, touched by the tail thread */
static int fence_wd = -1; /* its watch (written before the thread starts, then read-only) */

/* wd -> our dir id */
static int *wd_map;
static int wd_cap;

static void emit(const struct watch_rec *r)
{
    /* Records are < PIPE_BUF, so each write is atomic. A full pipe means the tail thread is
     * far behind: block rather than drop (the tail thread always drains eventually). */
    for (;;) {
        ssize_t w = write(pipefd[1], r, sizeof *r);
        if (w == (ssize_t)sizeof *r)
            return;
        if (w < 0 && errno == EINTR)
            continue;
        if (atomic_load(&stopping))
            return;
        usleep(1000);
    }
}

static void apply_requests(void)
{
    pthread_mutex_lock(&mu);
    struct req *list = reqs;
    reqs = NULL;
    pthread_mutex_unlock(&mu);
    while (list) {
        struct req *q = list;
        list = q->next;
        struct watch_rec r = {.dir = q->dir, .mask = WATCH_ADDED};
        if (!inotifytools_watch_file(q->path, DIR_EVENTS)) {
            int e = inotifytools_error();
            LF_LOG(LF_WARN, "watch", "cannot watch directory %s: %s (the periodic rescan still "
                   "finds its files)", q->path, strerror(e));
            r.mask = WATCH_FAILED;
        } else {
            int wd = inotifytools_wd_from_filename(q->path);
            if (wd < 0) { /* libinotifytools names directory watches "DIR/" */
                char ws[4096];
                snprintf(ws, sizeof ws, "%s/", q->path);
                wd = inotifytools_wd_from_filename(ws);
            }
            if (wd >= wd_cap) {
                int nc = wd_cap ? wd_cap : 64;
                while (nc <= wd)
                    nc *= 2;
                int *nm = realloc(wd_map, (size_t)nc * sizeof *nm);
                if (nm) {
                    for (int i = wd_cap; i < nc; i++)
                        nm[i] = -1;
                    wd_map = nm;
                    wd_cap = nc;
                }
            }
            if (wd >= 0 && wd < wd_cap)
                wd_map[wd] = q->dir;
        }
        emit(&r);
        free(q->path);
        free(q);
    }
}

static void *watch_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "lf-watch"); /* for top -H, ps -L, gdb */
    while (!atomic_load(&stopping)) {
        apply_requests();
        /* 1 s timeout: requests and the stop flag are seen within a second. */
        struct inotify_event *ev = inotifytools_next_event(1);
        if (!ev)
            continue;
        struct watch_rec r = {.dir = -1, .mask = ev->mask, .cookie = ev->cookie};
        if (ev->mask & IN_Q_OVERFLOW) {
            r.mask = WATCH_OVERFLOW;
            METRIC_ADD(lf_metrics.inotify_overflows, 1);
            emit(&r);
            continue;
        }
        if (ev->wd == fence_wd && fence_wd >= 0) {
            if (ev->mask & IN_ATTRIB) {
                r.mask = WATCH_FENCE;
                emit(&r);
            }
            continue;
        }
        if (ev->wd >= 0 && ev->wd < wd_cap)
            r.dir = wd_map[ev->wd];
        if (r.dir < 0)
            continue;
        if (ev->len)
            snprintf(r.name, sizeof r.name, "%s", ev->name);
        emit(&r);
    }
    return NULL;
}

int watch_start(const char *fence_path, char *err, size_t errsz)
{
    if (!inotifytools_initialize()) {
        snprintf(err, errsz, "inotify initialisation failed: %s (check fs.inotify.max_user_instances)",
                 strerror(inotifytools_error()));
        return -1;
    }
    if (fence_path) {
        /* Without a fence the agent still runs: the registry then records no caught-up
         * time and a restart falls back to the registry file's mtime (the old rule). */
        fence_fd = open(fence_path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fence_fd >= 0 && inotifytools_watch_file(fence_path, IN_ATTRIB))
            fence_wd = inotifytools_wd_from_filename(fence_path);
        if (fence_wd < 0) {
            LF_LOG(LF_WARN, "watch", "cannot watch %s: %s (after a crash, files rotated just "
                   "before it may be missed)", fence_path, strerror(errno));
            if (fence_fd >= 0)
                close(fence_fd);
            fence_fd = -1;
        }
    }
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        snprintf(err, errsz, "pipe: %s", strerror(errno));
        return -1;
    }
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    fcntl(pipefd[1], F_SETPIPE_SZ, 1 << 20);
    atomic_store(&stopping, 0);
    if (pthread_create(&thr, NULL, watch_main, NULL) != 0) {
        snprintf(err, errsz, "cannot start the watcher thread");
        return -1;
    }
    started = 1;
    return pipefd[0];
}

int watch_add_dir(int dir, const char *path)
{
    struct req *q = calloc(1, sizeof *q);
    if (!q)
        return -1;
    q->dir = dir;
    q->path = strdup(path);
    if (!q->path) {
        free(q);
        return -1;
    }
    pthread_mutex_lock(&mu);
    q->next = reqs;
    reqs = q;
    pthread_mutex_unlock(&mu);
    return 0;
}

int watch_fence(int64_t *at_ms)
{
    struct stat st;
    if (fence_fd < 0 || futimens(fence_fd, NULL) != 0 || fstat(fence_fd, &st) != 0)
        return -1;
    *at_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    return 0;
}

int watch_next(struct watch_rec *r)
{
    ssize_t n = read(pipefd[0], r, sizeof *r);
    return n == (ssize_t)sizeof *r;
}

void watch_stop(void)
{
    if (!started)
        return;
    atomic_store(&stopping, 1);
    pthread_join(thr, NULL);
    started = 0;
    inotifytools_cleanup();
    close(pipefd[0]);
    close(pipefd[1]);
    pipefd[0] = pipefd[1] = -1;
    while (reqs) {
        struct req *q = reqs;
        reqs = q->next;
        free(q->path);
        free(q);
    }
    free(wd_map);
    wd_map = NULL;
    wd_cap = 0;
    if (fence_fd >= 0)
        close(fence_fd);
    fence_fd = fence_wd = -1;
}
