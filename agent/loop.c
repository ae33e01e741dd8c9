/*
 * loop.c - the tail thread's event loop: the agent's main thread while it runs.
 *
 * One poll(2) over three descriptors: the watcher's record pipe (inotify), the pipeline's ack
 * eventfd, and a signalfd. No busy polling: between wake-ups it sleeps until the next timer
 * (registry flush, rescan, multiline timeout, closing a rotated file, the 30 s summary).
 * Each wake-up: take signals, apply inotify records (mark files dirty, open, rename,
 * delete), collect acks (commit offsets), then read dirty files while the pipeline has room,
 * dispatching each file's batch as soon as its read reaches the end of the data, so a line
 * reaches the outputs within microseconds of the inotify event that announced it.
 */
#include "agent/agent.h"
#include "agent/base/agent_id.h"
#include "agent/http.h"
#include "agent/base/log.h"
#include "agent/base/metrics.h"
#include "agent/watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <glob.h>
#include <sys/inotify.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_SLICE (1u << 20) /* per file per turn, for fairness between files */

static atomic_int giving_up;

/* Discovery's high-water mark (registry.h: caught_up_ms), advanced through the watcher's
 * fence (watch.h): at most one touch outstanding; when its record comes back and the rescans
 * it may have asked for are done, every file born before the touch has been registered. An
 * overflow between touch and record poisons it (events were dropped): it is not taken. */
static struct {
    int out;         /* a touch whose record has not come back */
    int poisoned;    /* the queue overflowed since the touch */
    int seen;        /* its record came back in this turn */
    int64_t at_ms;   /* the fence file's mtime after the touch */
    int64_t next;    /* monotonic ms: no new touch before (one per registry_flush) */
} fence;

static void fence_issue(struct agent *a, int64_t now)
{
    if (fence.out || now < fence.next)
        return;
    fence.next = now + a->ac.registry_flush_ms;
    if (watch_fence(&fence.at_ms) == 0) {
        fence.out = 1;
        fence.poisoned = 0;
    }
}

/* After the turn's rescan: takes the fence if it came back whole and no directory is still
 * waiting for its watch (its files are found by the rescan that follows the watch). */
static void fence_take(struct agent *a)
{
    if (!fence.seen)
        return;
    fence.seen = 0;
    int ok = fence.out && !fence.poisoned;
    fence.out = 0;
    for (int i = 0; ok && i < a->ndirs; i++)
        ok = a->dirs[i].added != 0 && a->dirs[i].added != 2;
    if (ok && fence.at_ms > a->reg->caught_up_ms)
        a->reg->caught_up_ms = fence.at_ms; /* saved with the next registry write */
}

static void on_watch(struct agent *a, const struct watch_rec *r, int *need_rescan)
{
    if (r->mask & WATCH_OVERFLOW) {
        LF_LOG(LF_WARN, "watch", "inotify queue overflowed; rescanning every file");
        *need_rescan |= SCAN_LOST_EVENTS;
        fence.poisoned = 1;
        return;
    }
    if (r->mask & WATCH_FENCE) {
        fence.seen = 1;
        return;
    }
    if (r->dir < 0 || r->dir >= a->ndirs)
        return;
    if (r->mask & (WATCH_ADDED | WATCH_FAILED)) {
        a->dirs[r->dir].added = (r->mask & WATCH_ADDED) ? 1 : -1;
        *need_rescan |= 1; /* catch files created before the watch existed */
        return;
    }
    if (r->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
        a->dirs[r->dir].added = 0; /* watch again if it comes back */
        *need_rescan |= 1;
        return;
    }
    if (!r->name[0])
        return;
    if ((r->mask & IN_ISDIR) && (r->mask & (IN_CREATE | IN_MOVED_TO))) {
        *need_rescan |= 1; /* a new (dated) directory a glob may match: expand and watch it now */
        return;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", a->dirs[r->dir].path, r->name);
    struct tail_file *tf = tail_find_path(a, path);
    if (!tf && (tf = tail_find_real(a, path)) != NULL) {
        /* an event on a symlink's target: appends mark it dirty; a rename is followed; a
         * new file there is looked at through the symlink's own path (src->path) */
        if (tf->state != TF_ACTIVE || tf->path_stale) {
            scan_consider(a, tf->src->path, 0);
        } else if (r->mask & (IN_MODIFY | IN_ATTRIB)) {
            sched_dirty(a, tf);
        } else if (r->mask & IN_MOVED_FROM) {
            /* the target was rotated: follow it under its new name (MOVED_TO, by cookie) */
            tf->state = TF_RENAMED;
            tf->path_stale = 1;
            tf->rename_cookie = r->cookie;
            sched_dirty(a, tf);
            METRIC_ADD(lf_metrics.rotations, 1);
        } else {
            scan_consider(a, tf->src->path, 0);
        }
        return;
    }
    struct stat pst;
    if (tf && (r->mask & IN_DELETE) && stat(path, &pst) == 0 &&
        (uint64_t)pst.st_dev == tf->id.dev && (uint64_t)pst.st_ino == tf->id.ino)
        tf = NULL; /* stale event: the path names this file now (the deleted file was already
                    * replaced by it, through scan_consider() or a rescan) */
    /* A rename seen late (the agent lagged) may concern a file created and renamed since the
     * last look: only the file still at `path` is known here, and it did not move. */
    static uint32_t unseen_cookie;
    static struct input *unseen_in;
    if (r->mask & IN_MOVED_FROM) {
        struct stat st;
        if (tf && stat(path, &st) == 0 && (uint64_t)st.st_ino == tf->id.ino &&
            (uint64_t)st.st_dev == tf->id.dev)
            tf = NULL; /* the one at path now is still there: another file moved */
        struct input *from_in = tf ? NULL : scan_input_for(a, path);
        if (from_in) {
            unseen_in = from_in;
            unseen_cookie = r->cookie;
        }
        if (tf) {
            tf->state = TF_RENAMED;
            tf->path_stale = 1;
            tf->rename_cookie = r->cookie;
            sched_dirty(a, tf);
            METRIC_ADD(lf_metrics.rotations, 1);
            LF_LOG(LF_INFO, "tail", "%s was renamed; reading it to its end", path);
        }
        return;
    }
    if (r->mask & IN_MOVED_TO) {
        for (struct tail_file *t = a->files; t; t = t->next)
            if (t->path_stale && t->rename_cookie && t->rename_cookie == r->cookie) {
                struct stat nst;
                if (stat(path, &nst) == 0 && ((uint64_t)nst.st_dev != t->id.dev ||
                                              (uint64_t)nst.st_ino != t->id.ino)) {
                    /* Events applied late: the MOVED_FROM was pinned on a later generation
                     * that held the name when we looked, while the file renamed here is an
                     * earlier one we never tracked. Read that one; t moved elsewhere and is
                     * found by identity. */
                    t->rename_cookie = 0;
                    struct tail_file *nt = tail_open(a, t->in, r->dir, path, 0);
                    if (nt && nt != t && (nt->state == TF_ACTIVE || nt->waiting))
                        nt->state = TF_RENAMED;
                    scan_reopen_rotated(a, t);
                    return;
                }
                char *np = strdup(path);
                if (np) {
                    free(t->path);
                    t->path = np;
                    sched_index_path(a, t);
                }
                t->path_stale = 0;
                t->rename_cookie = 0;
                if (input_matches(t->in, path) && t->state == TF_RENAMED)
                    /* renamed to a name we tail anyway; a closed one stays closed (but
                     * known), so that tail_open() reopens it when it changes */
                    t->state = t->fd >= 0 ? TF_ACTIVE : TF_CLOSED;
                sched_dirty(a, t);
                if (reg_set(a->reg, t->path, &t->id, t->committed) != 0)
                    reg_note_failure(a->reg, t->path);
                scan_reopen_rotated(a, t);
                return;
            }
        if (unseen_cookie && r->cookie == unseen_cookie && !scan_input_for(a, path)) {
            /* Created and rotated away before we opened it: read it under its new name. */
            unseen_cookie = 0;
            struct tail_file *nt = tail_open(a, unseen_in, r->dir, path, 0);
            if (nt && (nt->state == TF_ACTIVE || nt->waiting)) { /* waiting: max_open_files */
                nt->state = TF_RENAMED;
                LF_LOG(LF_INFO, "tail", "%s was rotated away before it was opened; reading it "
                       "to its end", path);
            }
            return;
        }
        scan_consider(a, path, 0);
        return;
    }
    if (r->mask & IN_DELETE) {
        if (tf) {
            tf->state = TF_DELETED;
            tf->path_stale = 1;
            sched_dirty(a, tf);
            LF_LOG(LF_INFO, "tail", "%s was deleted; draining what is left", path);
        }
        return;
    }
    if (r->mask & IN_CREATE) {
        scan_consider(a, path, 0);
        return;
    }
    if (r->mask & (IN_MODIFY | IN_ATTRIB)) {
        if (tf && tf->fd >= 0)
            sched_dirty(a, tf);
        else
            scan_consider(a, path, 0);
    }
}

static int64_t min_t(int64_t a, int64_t b) { return a < b ? a : b; }

/* With files waiting for a descriptor, an open file idle for EVICT_IDLE_MS gives up its slot
 * (it is reopened when it changes), so every file gets read, not just the first thousand. */
#define EVICT_IDLE_MS 250

/* One file's timers (it came out of the heap): closing it when idle, deleted and drained, or
 * rotated away and drained, and flushing a multiline event past its deadline; then its next
 * deadline goes back into the heap. What two walks over every file did at every wake-up
 * (idle closes, multiline deadlines), now only for the files whose time has come. */
static void file_timers(struct agent *a, struct tail_file *tf, int64_t now, int evict)
{
    int64_t next = INT64_MAX;
    if (tf->fd >= 0 && !tf->dirty) { /* a dirty file is re-armed after its read */
        int64_t idle = now - tf->last_data_ms;
        if (tf->state == TF_DELETED) {
            tail_close_fd(a, tf, "deleted, drained");
        } else if (tf->state == TF_RENAMED) {
            if (idle >= tf->in->c.close_renamed_ms) {
                /* one last read: a late append to a file we get no events for any more */
                uint64_t before = tf->read_off;
                tail_read(a, tf, 1u << 20);
                tail_dispatch(a, tf);
                if (tf->read_off != before)
                    sched_dirty(a, tf);
                else
                    tail_close_fd(a, tf, "rotated away, drained");
            } else {
                next = tf->last_data_ms + tf->in->c.close_renamed_ms;
            }
        } else if (idle >= tf->in->c.close_inactive_ms || (evict && idle >= EVICT_IDLE_MS)) {
            tail_close_fd(a, tf, evict ? "idle, its slot is needed (max_open_files)" : "inactive");
        } else {
            long limit = evict && EVICT_IDLE_MS < tf->in->c.close_inactive_ms ? EVICT_IDLE_MS
                                                                              : tf->in->c.close_inactive_ms;
            next = tf->last_data_ms + limit;
        }
    }
    if (tf->lps) {
        int64_t d = lineproc_deadline(tf->lps);
        if (d && d <= now) {
            tail_flush_pending(a, tf, 0);
            d = lineproc_deadline(tf->lps);
        }
        if (d && d > now)
            next = min_t(next, d);
    }
    if (next != INT64_MAX)
        sched_arm(a, tf, next);
}

/* The files whose timers are due. A file whose deadline moved later since it was armed
 * comes out early and is armed again for its real deadline; the count bounds the turn. */
static void run_timers(struct agent *a, int64_t now, int evict)
{
    static int was_evicting;
    if (evict && !was_evicting) /* every open file's idle limit just became EVICT_IDLE_MS */
        sched_arm_all(a, now);
    was_evicting = evict;
    size_t budget = a->sched.nheap;
    struct tail_file *tf;
    while (budget-- > 0 && (tf = sched_due(a, now)) != NULL)
        file_timers(a, tf, now, evict);
}

/* close_removed_after: a rotated or deleted file whose reading is held back (a dirty file,
 * so the timer heap does not hold it) is closed once it has been gone that long. A walk of
 * every file, but at most once a second: a pointer chase per file, tens of microseconds for
 * ten thousand files, against a bound counted in minutes or hours. */
static void removed_sweep(struct agent *a, int64_t now, int64_t *next)
{
    static int64_t walked, soonest = INT64_MAX;
    if (now - walked >= 1000 || now >= soonest) {
        soonest = INT64_MAX;
        for (struct tail_file *tf = a->files; tf; tf = tf->next)
            tail_close_removed(a, tf, now, &soonest);
        walked = now;
    }
    if (soonest != INT64_MAX) /* only a file being held wakes the loop for this */
        *next = min_t(*next, soonest);
}

void agent_save_registry(struct agent *a)
{
    static int failing;
    char err[512];
    tail_sync_registry(a);
    if (reg_save(a->reg, err, sizeof err) != 0) {
        if (!failing)
            LF_LOG(LF_ERROR, "registry", "%s; offsets are not being saved (shipping goes on; "
                   "retrying every flush)", err);
        failing = 1;
    } else if (failing) {
        LF_LOG(LF_INFO, "registry", "registry saved again");
        failing = 0;
    }
}

/* Validates the configuration file as it is now, in a child process (`logferry check`), so the
 * running agent's process-wide state (interned keys, parsers) is never touched by a config
 * that may be broken. Its FILE:LINE errors go to our stderr. Returns 1 when valid. */
static int reload_check(struct agent *a)
{
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        pthread_sigmask(SIG_SETMASK, &none, NULL);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 1);
        execl("/proc/self/exe", "logferry", "check", "--strict", "-c", a->conf_path, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int setup_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    signal(SIGPIPE, SIG_IGN);
    /* Blocked before any thread starts, so every thread inherits the mask and only the
     * signalfd sees these signals. */
    if (pthread_sigmask(SIG_BLOCK, set, NULL) != 0)
        return -1;
    return signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* max_open_files log files plus sockets, pipes and the registry need descriptors: lift the
 * soft limit to the hard one and say so when the cap cannot fit. */
static void raise_nofile(const struct agent *a)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY &&
        (rlim_t)a->ac.max_open_files + 256 + LF_HTTP_MAX_CONNS > rl.rlim_cur)
        LF_LOG(LF_WARN, "agent", "max_open_files = %ld but the descriptor limit is %llu: raise "
               "LimitNOFILE or lower max_open_files", a->ac.max_open_files,
               (unsigned long long)rl.rlim_cur);
}

int agent_run(struct agent *a)
{
    char err[1024];
    int rc = 1;
    sigset_t set;
    int sfd = setup_signals(&set);
    if (sfd < 0) {
        LF_LOG(LF_ERROR, "agent", "signalfd: %s", strerror(errno));
        return 1;
    }
    /* start_at applies on the first start only (no registry yet): after a restart, files
     * without an entry appeared while the agent was down and are read from the beginning. */
    char regpath[4200];
    snprintf(regpath, sizeof regpath, "%s/registry.json", a->ac.data_dir);
    a->first_start = access(regpath, F_OK) != 0;
    a->reg = reg_open(a->ac.data_dir, err, sizeof err);
    if (!a->reg) {
        LF_LOG(LF_ERROR, "agent", "%s", err);
        close(sfd);
        return 1;
    }
    a->first_start = a->first_start && !a->reg->journal_on_disk; /* killed before a first save */
    if (a->ac.registry_journal &&
        reg_journal_start(a->reg, a->ac.registry_journal_interval_ms, err, sizeof err) != 0)
        LF_LOG(LF_ERROR, "registry", "%s; offsets are committed at each registry_flush only",
               err);
    agent_identity_init(a->ac.data_dir, a->host_name);
    raise_nofile(a);
    eb_init(&a->eb);
    pthread_mutex_init(&a->status_mu, NULL);
    a->started_ms = wall_ms();
    atomic_store(&giving_up, 0);
    /* Queue the initial watches before the watcher starts: it applies them before it first
     * blocks, so the first scan does not wait for its one-second poll. */
    agent_collect_dirs(a);
    scan_request_watches(a);
    char fencepath[4200];
    snprintf(fencepath, sizeof fencepath, "%s/watch.fence", a->ac.data_dir);
    memset(&fence, 0, sizeof fence);
    int wfd = watch_start(fencepath, err, sizeof err);
    if (wfd < 0) {
        LF_LOG(LF_ERROR, "agent", "%s", err);
        goto out;
    }
    /* First start: rotated files already there are history, not ours to read (start_at);
     * from now on every file born is either registered or a sibling found at a restart. */
    if (a->first_start && watch_fence(&fence.at_ms) == 0)
        a->reg->caught_up_ms = fence.at_ms;
    for (int i = 0; i < a->nouts; i++)
        a->outs[i].env.giving_up = &giving_up;
    if (pipeline_start(a, err, sizeof err) != 0) {
        LF_LOG(LF_ERROR, "agent", "%s", err);
        goto out;
    }
    if (a->ac.http_listen && *a->ac.http_listen &&
        lf_http_start(a->ac.http_listen, err, sizeof err) != 0) {
        LF_LOG(LF_ERROR, "agent", "http_listen %s: %s; running without the HTTP endpoint",
               a->ac.http_listen, err);
    }
    lf_status_register(a);
    LF_LOG(LF_INFO, "agent", "logferry %s started as %s (config %s, data_dir %s)",
           LOGFERRY_VERSION, a->host_name, a->conf_path, a->ac.data_dir);

    /* Watch first, then scan: a file created in between is seen by one or the other. */
    int64_t wait_until = mono_ms() + 2000;
    for (;;) {
        int pending = 0;
        for (int i = 0; i < a->ndirs; i++)
            pending += a->dirs[i].added == 2;
        if (!pending || mono_ms() > wait_until)
            break;
        struct pollfd p = {wfd, POLLIN, 0};
        poll(&p, 1, 50);
        struct watch_rec r;
        int dummy = 0;
        while (watch_next(&r))
            on_watch(a, &r, &dummy);
    }
    scan_rescan(a, SCAN_INITIAL);

    int64_t now = mono_ms();
    int64_t next_flush = now + a->ac.registry_flush_ms;
    int64_t next_rescan = now + a->ac.rescan_interval_ms;
    int64_t next_summary = now + 30000;
    int64_t stop_deadline = 0;
    int64_t paused_since = 0;
    for (;;) {
        now = mono_ms();
        int64_t next = min_t(next_rescan, next_summary);
        if (a->reg->dirty)
            next = min_t(next, next_flush);
        int64_t jdue = reg_journal_tick(a->reg, now); /* what the last turn committed */
        if (jdue)
            next = min_t(next, jdue);
        run_timers(a, now, a->files_waiting);
        next = min_t(next, sched_next(a));
        removed_sweep(a, now, &next);
        if (stop_deadline)
            next = min_t(next, stop_deadline);
        int any_dirty = sched_any_dirty(a);
        int room = pipeline_has_room(a);
        int slots_freed = a->files_waiting && a->nfiles_open < a->ac.max_open_files;
        int timeout = ((any_dirty && room) || slots_freed) && !a->stopping
                          ? 0 : (int)(next > now ? next - now : 0);
        struct pollfd pfd[3] = {{wfd, POLLIN, 0}, {a->ack_fd, POLLIN, 0}, {sfd, POLLIN, 0}};
        int pr = poll(pfd, 3, timeout);
        if (pr < 0 && errno != EINTR) {
            LF_LOG(LF_ERROR, "agent", "poll: %s", strerror(errno));
            break;
        }
        /* The drain's deadline counts from here, when the signal is seen: `now` was read
         * before poll(), which may have slept for seconds. */
        int64_t woke = mono_ms();
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
            if (si.ssi_signo == SIGHUP) {
                if (a->stopping)
                    continue;
                if (!reload_check(a)) {
                    LF_LOG(LF_ERROR, "agent", "SIGHUP: %s has errors (above); keeping the "
                           "running configuration", a->conf_path);
                    continue;
                }
                /* Drain everything in flight, commit, then start again on the new file: no
                 * line is lost (the registry) and none is shipped twice (all was acked). */
                LF_LOG(LF_INFO, "agent", "SIGHUP: %s is valid; draining %ld batch(es), then "
                       "reloading", a->conf_path, pipeline_inflight(a));
                a->stopping = 1;
                a->reloading = 1;
                stop_deadline = woke + a->ac.shutdown_timeout_ms;
                for (struct tail_file *tf = a->files; tf; tf = tf->next)
                    tail_dispatch(a, tf);
                pipeline_ring_to_spool(a); /* a failing output's queue need not hold the stop */
                continue;
            }
            if (a->reloading) {
                /* a stop asked during a reload's drain: the same drain, then exit */
                LF_LOG(LF_INFO, "agent", "SIGTERM during the reload: stopping instead");
                a->reloading = 0;
                continue;
            }
            if (a->stopping) {
                LF_LOG(LF_WARN, "agent", "second signal: exiting now (only acknowledged offsets "
                       "are committed)");
                atomic_store(&giving_up, 1);
                stop_deadline = woke;
                continue;
            }
            a->stopping = 1;
            stop_deadline = woke + a->ac.shutdown_timeout_ms;
            LF_LOG(LF_INFO, "agent", "%s: stopping reading, draining %ld batch(es) within %ld ms",
                   si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM", pipeline_inflight(a),
                   a->ac.shutdown_timeout_ms);
            for (struct tail_file *tf = a->files; tf; tf = tf->next)
                tail_dispatch(a, tf);
            pipeline_ring_to_spool(a);
        }
        scan_request_watches(a); /* directories added since (symlink targets) */
        int need_rescan = 0;
        struct watch_rec r;
        while (watch_next(&r))
            on_watch(a, &r, &need_rescan);
        pipeline_collect(a);
        if (a->stopping) {
            /* Offsets acknowledged during the drain are saved as in normal running, so a
             * supervisor's SIGKILL in a long drain does not lose them. */
            now = mono_ms();
            if ((now >= next_flush || reg_journal_full(a->reg)) && a->reg->dirty) {
                agent_save_registry(a);
                next_flush = now + a->ac.registry_flush_ms;
            }
            if (pipeline_inflight(a) == 0 || now >= stop_deadline)
                break;
            continue;
        }
        if (a->files_waiting && a->nfiles_open < a->ac.max_open_files) {
            a->files_waiting = 0; /* slots freed: open the waiting files now */
            scan_waiting(a);
        }
        if (need_rescan || mono_ms() >= next_rescan) {
            scan_rescan(a, need_rescan & SCAN_LOST_EVENTS);
            next_rescan = mono_ms() + a->ac.rescan_interval_ms;
            a->sched.reap = 1; /* a periodic look at every file, should a hint be missed */
        }
        fence_take(a);
        if (a->reg->dirty)
            fence_issue(a, mono_ms());
        /* Read: every dirty file gets a slice per turn while the pipeline has room. */
        if (pipeline_has_room(a)) {
            if (paused_since) {
                METRIC_ADD(lf_metrics.backpressure_ms, (unsigned long long)(mono_ms() - paused_since));
                paused_since = 0;
            }
            /* Each file dirty now gets one slice; one with more to read goes to the back. */
            int64_t t = mono_ms();
            for (size_t i = a->sched.ndirty; i > 0 && a->sched.dirty_head; i--) {
                struct tail_file *tf = a->sched.dirty_head;
                if (tf->fd < 0) {
                    sched_clean(a, tf);
                    continue;
                }
                if (!pipeline_has_room(a))
                    break;
                int more = tail_read(a, tf, READ_SLICE);
                if (more <= 0)
                    sched_clean(a, tf);
                else
                    sched_requeue(a, tf);
                if (more < 0)
                    tail_close_fd(a, tf, "read error");
                tail_dispatch(a, tf);
                sched_arm(a, tf, t); /* its idle and multiline deadlines moved */
            }
        } else if (!paused_since) {
            paused_since = mono_ms();
        }
        if (a->sched.reap)
            tail_reap(a);
        now = mono_ms();
        if ((now >= next_flush || reg_journal_full(a->reg)) && a->reg->dirty) {
            agent_save_registry(a);
            next_flush = now + a->ac.registry_flush_ms;
        }
        if (now >= next_summary) {
            lf_metrics_log_summary(30000);
            next_summary = now + 30000;
        }
    }
    if (!stop_deadline) /* poll failed: stop as for SIGTERM */
        stop_deadline = mono_ms() + a->ac.shutdown_timeout_ms;
    if (pipeline_inflight(a) > 0) {
        LF_LOG(LF_WARN, "agent", "shutdown_timeout: %ld batch(es) not acknowledged; they will be "
               "read again after the restart", pipeline_inflight(a));
        atomic_store(&giving_up, 1); /* a send() stuck retrying returns now */
    }
    if (a->reg->dirty)
        agent_save_registry(a); /* what the drain committed, before the outputs' flush */
    lf_status_register(NULL);
    lf_http_stop();
    agent_stop_outputs(a, sfd, stop_deadline, &giving_up);
    reg_journal_stop(a->reg); /* its last group written; the save below removes the file */
    agent_save_registry(a);
    rc = a->reloading ? AGENT_RELOAD : 0;
    LF_LOG(LF_INFO, "agent", a->reloading ? "stopped for reload" : "stopped");
out:
    watch_stop();
    tail_free_all(a);
    eb_free(&a->eb);
    reg_close(a->reg);
    a->reg = NULL;
    if (a->ack_fd > 0 && !a->outputs_abandoned) /* an abandoned output may still ack */
        close(a->ack_fd);
    close(sfd);
    return rc;
}
