/*
 * watch.h - inotify through libinotifytools, on a thread of its own.
 *
 * libinotifytools exposes no file descriptor to poll, only a blocking
 * inotifytools_next_event(), and it is not thread-safe. So one watcher thread owns it: it
 * blocks for events and forwards each as a fixed-size record through a pipe that the tail
 * thread polls (an inotify wake-up reaches the tail thread in microseconds, which is what
 * the first-alert latency rests on). Requests to watch a new directory are queued to the
 * watcher, which applies them between events (within a second at most) and then sends a
 * WATCH_ADDED record so the tail thread can scan that directory without a race.
 *
 * Watches are on directories, not files: a directory watch sees creations, renames and
 * deletions of the files a glob will match, and the modifications of every file in it.
 *
 * The fence (issue 12): one file of our own (DATA_DIR/watch.fence) is watched on the same
 * inotify instance. The kernel queues one instance's events in order, so when the tail
 * thread touches the fence and later reads the WATCH_FENCE record, it has read every event
 * of every watched directory that happened before the touch: discovery has caught up to
 * that moment (what the registry's caught_up_ms records).
 */
#ifndef LF_WATCH_H
#define LF_WATCH_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define WATCH_OVERFLOW 0x80000000u /* mask bit: the kernel queue overflowed; rescan */
#define WATCH_ADDED 0x40000000u    /* mask bit: directory `dir` is now watched */
#define WATCH_FAILED 0x20000000u   /* mask bit: directory `dir` could not be watched */
#define WATCH_FENCE 0x10000000u    /* mask bit: the fence file was touched (dir is -1) */

struct watch_rec {
    int dir;       /* id given to watch_add_dir(), -1 for overflow */
    uint32_t mask; /* IN_* bits or WATCH_* */
    uint32_t cookie;
    char name[256];
};

/* Starts the watcher thread. fence_path (may be NULL: no fence) is created if missing and
 * watched before the thread starts, so no touch of it can go unseen. Returns the read end of
 * the record pipe (non-blocking), or -1 with err filled. */
int watch_start(const char *fence_path, char *err, size_t errsz);
/* Touches the fence file (tail thread). Returns 0 and the file's new mtime in ms (the
 * kernel's clock for file times, the one birth times are taken from) in *at_ms, or -1 when
 * there is no fence. */
int watch_fence(int64_t *at_ms);
/* Asks the watcher to watch directory `path` under id `dir`. */
int watch_add_dir(int dir, const char *path);
/* Reads one record from the pipe; 1 = got one, 0 = none pending. */
int watch_next(struct watch_rec *r);
void watch_stop(void);

#endif
