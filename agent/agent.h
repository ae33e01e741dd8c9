/*
 * agent.h - the daemon's state: its configuration, inputs, tracked files, output instances.
 *
 * Threads (see docs/ARCHITECTURE.md):
 *   - tail thread (the main thread): the event loop in loop.c. Owns every struct tail_file,
 *     the registry, every batch under construction, and the in-flight FIFOs.
 *   - watcher thread (watch.c): inotify -> pipe.
 *   - one thread per output (pipeline.c): pops batches, calls the output's send()/tick().
 *   - threads outputs start themselves (librdkafka, the Slack sender, the HTTP server).
 * The only state shared across them: the output queues (mutex + condvar each), the done
 * list of fully acked batches (mutex + eventfd to wake the tail thread), atomics in
 * lf_metrics, and the status snapshot (status_mu).
 */
#ifndef LF_AGENT_H
#define LF_AGENT_H

#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/base/clock.h"
#include "agent/base/config.h"
#include "agent/base/event.h"
#include "agent/registry.h"
#include "outputs/output.h"
#include "parsers/lineproc.h"

struct agent_conf {
    const char *name;
    const char *data_dir;
    const char *log_level;
    const char *log_format;
    long queue_max_events;
    uint64_t queue_max_bytes;
    long shutdown_timeout_ms;
    long registry_flush_ms;
    int registry_journal;
    long registry_journal_interval_ms;
    long rescan_interval_ms;
    long max_open_files;
    long batch_max_events;
    const char *http_listen;
};

struct input_conf {
    struct conf_list paths;
    struct conf_list exclude;
    const char *start_at;
    uint64_t max_line_bytes;
    long close_renamed_ms;
    long close_inactive_ms;
    long close_removed_after_ms; /* 0: never */
    struct conf_kvlist fields;
    long silence_ms;        /* read by the Slack outputs through output_env.conf */
    const char *silence_to;
};

struct input {
    const char *name;
    struct input_conf c;
    struct lineproc *lp;
    struct field *static_fields;
    int nstatic;
    int section_line;
};

enum tf_state { TF_ACTIVE, TF_RENAMED, TF_DELETED, TF_CLOSED /* fd closed, acks pending */ };

struct tail_file {
    struct input *in;
    struct event_source *src; /* shared with batches; path lives in it */
    char *path;
    char *real;               /* where a symlinked path leads (its directory is watched too) */
    int dir;                  /* watched directory id */
    int fd;
    struct file_id id;
    enum tf_state state;
    uint64_t read_off;        /* next byte to read from the file */
    uint64_t line_off;        /* file offset of carry[0] */
    char *carry;              /* partial line (at most max_line_bytes) */
    size_t carry_len, carry_cap;
    int skipping;             /* inside an over-long line: drop bytes until '\n' */
    uint64_t skip_len;
    struct lineproc_state *lps;
    struct event_base base;
    struct event_batch *cur;  /* batch being filled */
    uint64_t consumed;        /* end of the last record handed out (batches cover up to it) */
    /* in-flight batches, in file order */
    struct event_batch *fifo_head, *fifo_tail;
    uint64_t next_seq;
    uint64_t committed;       /* acked by every output */
    int dirty;                /* inotify said it changed, or unread data remains */
    int64_t last_data_ms;     /* monotonic ms of the last read that returned data */
    int64_t size;             /* last fstat size */
    uint32_t rename_cookie;
    int path_stale;           /* renamed to a name we did not see (moved out of watch) */
    int waiting;              /* wants a descriptor but max_open_files is reached: kept (and
                               * followed through renames) until it gets one */
    int64_t removed_unread_ms; /* monotonic ms it was first seen rotated or deleted with
                                * unread data (close_removed_after counts from there); 0: not */
    struct tail_file *next;
    /* sched.c's queues (tail thread): dirty list, timer heap, in-flight list, path index */
    uint64_t seq;             /* creation order: the newest of one path wins a lookup */
    struct tail_file *dprev, *dnext, *iprev, *inext, *hnext, *idnext;
    int dlinked, ilinked, hlinked, idlinked;
    size_t heap_ix;           /* 1-based place in the timer heap, 0 when not in it */
    int64_t timer_at;         /* its key: monotonic ms, never later than its next deadline */
    uint64_t hash;            /* of path, as indexed */
};

/* The tail thread's work queues (sched.c): a wake-up costs what is active, not what is
 * tracked. */
struct tail_sched {
    struct tail_file *dirty_head, *dirty_tail;
    size_t ndirty;
    struct tail_file **heap;
    size_t nheap, cap;
    struct tail_file *inflight;
    struct tail_file **buckets;
    size_t nbuckets, nindexed;
    struct tail_file **id_buckets; /* by device + inode, same size as buckets */
    size_t nid_buckets;
    int broken;               /* the index could not be allocated: lookups walk the list */
    uint64_t seq;
    int reap;                 /* a file may have become freeable: tail_reap() has work */
};

struct output_inst {
    const struct output_desc *desc;
    struct conf_section *sec;
    void *conf;               /* desc->conf_size bytes filled by desc->conf_table */
    struct when *when;
    struct output_env env;
    struct out_metrics m;
    void *st;
    pthread_t thread;
    int started;
    /* queue of dispatched batches (ring of pointers) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct event_batch **ring;
    size_t ring_cap, head, count;
    int stop;
    int64_t stop_deadline;    /* monotonic ms: flush() gets what is left of it */
    atomic_int finished;      /* the thread has flushed and is returning */
    struct agent *agent;
    /* events, bytes and batches handed to this output (ring or send) and not acked by it:
     * past a quarter of the budget, an output with a spool takes new batches there */
    atomic_long held_events, held_batches;
    atomic_ullong held_bytes;
    /* the disk spool (pipeline_spool.c), NULL without one; the queue below is under mu */
    struct output_common common;
    struct spool *sp;
    struct event_batch **spq; /* batches for the spool thread, ring_cap of them */
    size_t spq_head, spq_count, sp_busy; /* sp_busy: taken by the spool thread, not synced */
    pthread_cond_t sp_cv;
    pthread_t sp_thread;
    int sp_started, sp_stop;
    atomic_int sp_finished;
};

struct dir_watch {
    char *path;
    int added;
};

struct agent {
    char *conf_path;
    struct conf *conf;
    struct agent_conf ac;
    char host_name[256];
    struct input *inputs;
    int ninputs;
    struct output_inst *outs;
    int nouts;
    int keep_fields; /* some output reads event fields or message (output_desc.uses_fields) */
    struct dir_watch *dirs;
    int ndirs;
    struct registry *reg;
    struct tail_file *files;
    struct tail_sched sched;
    int nfiles_open;
    int files_waiting;        /* a file could not be opened for max_open_files */
    int first_start;          /* no registry existed: start_at applies */
    /* pipeline budget */
    long q_events;
    uint64_t q_bytes;
    long q_batches;
    long q_max_batches;
    int ack_fd;               /* eventfd: an output acked a batch's last pending count */
    /* status */
    pthread_mutex_t status_mu;
    int64_t started_ms;
    volatile int stopping;
    int reloading;            /* SIGHUP: stopping in order to start again */
    int outputs_abandoned;    /* shutdown left an output thread behind: never free its batches */
    int64_t now_ms;            /* wall clock of the current read (read time of events) */
    struct event_builder eb;   /* scratch for the tail thread */
};

/* Configuration (agent_conf.c). Loads and validates `path` into a; every problem goes to
 * errs as FILE:LINE; output instances get their confs ready for init. Returns the number of
 * errors. */
int agent_configure(struct agent *a, const char *path, struct conf_errs *errs);
void agent_unconfigure(struct agent *a);
/* One screen summary of a configured agent (for `check`). */
void agent_print_summary(const struct agent *a, FILE *out);

/* The config tables of agent_conf.c, for `logferry keys` (cmd_keys.c): [agent], the
 * [input] keys read here (lineproc_keys() has the rest), and the keys of every [output]
 * besides its type's table (`when`). NULL-name terminated. */
const struct conf_key *agent_conf_agent_keys(void);
const struct conf_key *agent_conf_input_keys(void);
const struct conf_key *agent_conf_output_keys(void);

/* Pipeline (pipeline.c). */
int pipeline_start(struct agent *a, char *err, size_t errsz);
/* Hands a batch to every output; takes ownership (the pipeline frees it after the last ack
 * via the tail thread). */
void pipeline_dispatch(struct agent *a, struct tail_file *tf, struct event_batch *b);
/* Pops fully acked batches from the head of every file's FIFO, advancing committed offsets
 * and releasing budget; returns how many batches completed. Tail thread only. */
int pipeline_collect(struct agent *a);
int pipeline_has_room(const struct agent *a);
/* Stopping is three calls, so that the tail thread can go on committing acks and reading
 * signals meanwhile (shutdown.c): _begin asks every output thread to send what is queued
 * (nothing more once env->giving_up is set), then to flush() within what is left until
 * deadline_ms (monotonic), and to wake the tail thread through ack_fd when done;
 * _running counts the threads not done yet; _end destroys the outputs whose threads are done
 * and leaves the others running (the process is about to exit; their batches are never
 * freed). */
void pipeline_stop_begin(struct agent *a, int64_t deadline_ms);
int pipeline_stop_running(const struct agent *a);
void pipeline_stop_end(struct agent *a);
/* The three in one, waiting up to timeout_ms (tests). */
void pipeline_stop(struct agent *a, long timeout_ms);
long pipeline_inflight(const struct agent *a);
/* Disk spools (pipeline_spool.c). _open, from pipeline_start, opens each output's spool and
 * replays it; _start its writer thread. _divert, under o->mu on the tail thread, says whether
 * a batch goes to the spool rather than the ring. _ring_to_spool moves a failing output's
 * queued batches to its spool (stopping: they then count as delivered). _next, on the output
 * thread, gives the next batch to send from the spool, if any is due. */
struct spool;
int pipeline_spool_open(struct agent *a, struct output_inst *o, char *err, size_t errsz);
int pipeline_spool_start(struct output_inst *o, char *err, size_t errsz);
int pipeline_spool_divert(struct output_inst *o);
void pipeline_spool_push(struct output_inst *o, struct event_batch *b);
/* o is done with b (acked, or spooled): the last output done wakes the tail thread. */
void pipeline_batch_done(struct output_inst *o, struct event_batch *b);
/* A thread of o (its own, its spool's) is returning: sets *finished, wakes the tail thread. */
void pipeline_thread_done(struct output_inst *o, atomic_int *finished);
/* Counts b as held (sign 1) or no longer held (-1) by o. */
void pipeline_held_add(struct output_inst *o, const struct event_batch *b, int sign);
void pipeline_ring_to_spool(struct agent *a);
int pipeline_spool_due(struct output_inst *o);
struct event_batch *pipeline_spool_next(struct output_inst *o);
void pipeline_spool_stop_begin(struct output_inst *o);
void pipeline_spool_close(struct output_inst *o, int abandoned);
/* The spool's figures as "spool_*" members for the output's status object (NULL: none).
 * HTTP thread. */
struct json_t *pipeline_spool_status(struct output_inst *o);
/* `logferry check`: reads every output's spool without changing it and reports each segment
 * (damage is reported, not an error: the next start skips it). */
void pipeline_spool_check(struct agent *a, FILE *out);

/* Tail (tail.c). */
struct tail_file *tail_open(struct agent *a, struct input *in, int dir, const char *path,
                            int initial_scan);
/* Reads up to max_bytes from tf; returns 1 if more data may remain, 0 at EOF, -1 on error. */
int tail_read(struct agent *a, struct tail_file *tf, size_t max_bytes);
void tail_flush_pending(struct agent *a, struct tail_file *tf, int at_close);
void tail_dispatch(struct agent *a, struct tail_file *tf);
void tail_close_fd(struct agent *a, struct tail_file *tf, const char *why);
/* close_removed_after: closes tf if it was rotated or deleted with unread data longer ago than
 * that (logged as an error with the bytes given up, counted), else lowers *next to when it
 * would be. 1 when closed. */
int tail_close_removed(struct agent *a, struct tail_file *tf, int64_t now, int64_t *next);
/* Frees tail_files that are closed and have nothing in flight. */
void tail_reap(struct agent *a);
struct tail_file *tail_find_path(struct agent *a, const char *path);
/* A file reached through a symlink that leads (or led) to `real`: the active one if any,
 * else one rotated away from there; NULL if none. */
struct tail_file *tail_find_real(struct agent *a, const char *real);
/* Adds a directory to watch (symlink targets); returns its id. */
int agent_add_dir(struct agent *a, const char *dir);
struct tail_file *tail_find_id(struct agent *a, uint64_t dev, uint64_t ino);
int tail_fingerprint(int fd, uint32_t len, uint64_t *fp, uint32_t *got);
void tail_sync_registry(struct agent *a);
/* Frees every tracked file and the read buffer (at unconfigure; tests). */
void tail_free_all(struct agent *a);
/* 1 when path matches one of the input's globs and none of its excludes (agent_conf.c). */
int input_matches(const struct input *in, const char *path);
/* Collects the directories every input's globs need watched (agent_conf.c). */
void agent_collect_dirs(struct agent *a);

/* Discovery (scan.c), tail thread only. scan_rescan() globs every input, follows files
 * rotated unseen, and drains every registry entry whose file still holds unread bytes; with
 * SCAN_INITIAL (the first scan of a run) or SCAN_LOST_EVENTS (after an inotify overflow)
 * it also reads the rotated siblings born since the registry's caught_up_ms that nothing
 * knows (rotated while stopped, or while events were being dropped). */
#define SCAN_INITIAL 1
#define SCAN_LOST_EVENTS 2
void scan_rescan(struct agent *a, int flags);
/* A path that appeared or changed and that we may not track yet. */
void scan_consider(struct agent *a, const char *path, int initial);
/* Reopens (or keeps waiting for a descriptor) a closed file found rotated away. */
void scan_reopen_rotated(struct agent *a, struct tail_file *tf);
/* Opens files waiting for a descriptor (max_open_files) while slots are free, rotated ones
 * first. */
void scan_waiting(struct agent *a);
/* Asks the watcher for every directory not watched yet. */
void scan_request_watches(struct agent *a);
struct input *scan_input_for(struct agent *a, const char *path);
int scan_dir_of(struct agent *a, const char *path);
/* copytruncate safety net: 1 if tf's first bytes changed (it is then read from 0). */
int tail_check_rewritten(struct agent *a, struct tail_file *tf);

/* Work queues (sched.c), tail thread only. */
/* Marks tf as having work to read (sets tf->dirty; links it when it has a descriptor). */
void sched_dirty(struct agent *a, struct tail_file *tf);
/* Clears tf->dirty and unlinks it. */
void sched_clean(struct agent *a, struct tail_file *tf);
/* Moves a dirty file to the end of the list (it has more to read: its turn comes again). */
void sched_requeue(struct agent *a, struct tail_file *tf);
int sched_any_dirty(const struct agent *a);
/* Makes tf's timer fire at `at` (monotonic ms) or earlier; -1 when out of memory. */
int sched_arm(struct agent *a, struct tail_file *tf, int64_t at);
void sched_arm_all(struct agent *a, int64_t at);
/* Pops a file whose timer is due at `now` (NULL when none); the caller re-arms it. */
struct tail_file *sched_due(struct agent *a, int64_t now);
/* The earliest timer (INT64_MAX when none). */
int64_t sched_next(const struct agent *a);
/* tf's FIFO became non-empty / empty. */
void sched_inflight(struct agent *a, struct tail_file *tf);
void sched_settled(struct agent *a, struct tail_file *tf);
/* (Re)indexes tf under tf->path; call after every change of tf->path. */
void sched_index_path(struct agent *a, struct tail_file *tf);
/* 0 and the newest tracked, not stale, not deleted file at path (or NULL) in *out; -1 when
 * there is no index (the caller walks the list). */
int sched_find_path(const struct agent *a, const char *path, struct tail_file **out);
/* 0 and the newest tracked, not deleted file dev+ino (or NULL) in *out; -1 without an index. */
int sched_find_id(const struct agent *a, uint64_t dev, uint64_t ino, struct tail_file **out);
/* Takes tf out of every queue (before it is freed). */
void sched_forget(struct agent *a, struct tail_file *tf);
void sched_free(struct agent *a);

/* Loop (loop.c). Returns 0 after SIGTERM/SIGINT, AGENT_RELOAD after a valid SIGHUP (the
 * caller re-executes itself), 1 on a start-up error. */
#define AGENT_RELOAD 3
int agent_run(struct agent *a);
/* Writes the committed offsets to data_dir/registry.json (logs a failure once). Tail thread. */
void agent_save_registry(struct agent *a);

/* Shutdown (shutdown.c): the outputs flush and are destroyed within what is left until
 * deadline_ms (monotonic), while the tail thread commits their acks and reads signals from
 * sfd (a second one ends the wait); sets *giving_up when the deadline passes. */
void agent_stop_outputs(struct agent *a, int sfd, int64_t deadline_ms, atomic_int *giving_up);

/* Status (status.c): makes lf_status_json() describe `a` (NULL: nothing running) and hands
 * it to the ground floor's metrics as their status provider. Main thread. */
void lf_status_register(struct agent *a);



#endif
