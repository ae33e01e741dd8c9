/*
 * registry.h - what has been delivered, per file: identity, last known path, and the offset
 * up to which every output has acknowledged. Persisted in DATA_DIR/registry.json.
 *
 * Owned by the tail thread (the only reader and writer while the agent runs); reg_save()
 * runs on it too, at most every registry_flush and at shutdown. The file is replaced
 * atomically: write a temporary file, fsync it, rename it over, fsync the directory, so a
 * crash or power loss leaves either the old or the new registry, never a torn one.
 *
 * Between two saves, every change is also appended to DATA_DIR/registry.journal
 * (agent/registry_journal.c) by a writer thread, lf-journal, one fdatasync per group of at
 * most 20 ms of changes: after a kill -9 the agent resumes from registry.json plus the
 * journal, so it re-sends what was in flight, not what was acknowledged since the last save.
 * Each save empties the journal; a clean stop removes it.
 */
#ifndef LF_REGISTRY_H
#define LF_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "agent/base/event.h"
#include "agent/base/must_check.h"

struct reg_entry {
    char *path;
    struct file_id id;
    uint64_t offset;
    int64_t updated_ms; /* wall clock of the last change */
    char *input;        /* name of the [input] that read it (NULL in registries before it) */
    int jslot;          /* journal: index in the list of changes not yet journaled, or -1 */
};

struct reg_journal; /* agent/registry_journal.c */

struct registry {
    char *dir;
    char *file; /* DIR/registry.json */
    struct reg_entry *e;
    int n, cap;
    int dirty;
    int set_failed;          /* reg_note_failure() logged since the last good save */
    int64_t loaded_mtime_ms; /* mtime of registry.json when it was loaded (0: none) */
    /* Discovery's high-water mark (wall ms, file-time clock): every file that existed in a
     * watched directory at this time had been registered when it was recorded (loop.c
     * advances it through the watcher's fence). A file born before it and not in the
     * registry was seen and needs nothing; one born after it may never have been seen.
     * Loaded from and saved with registry.json; 0 when the file predates it (restarts then
     * fall back to loaded_mtime_ms). */
    int64_t caught_up_ms;
    char *jfile;         /* DIR/registry.journal */
    struct reg_journal *j; /* the running journal (NULL: off or stopped) */
    uint64_t seq;        /* last journal record's sequence number (assigned or replayed) */
    uint64_t snap_seq;   /* the last one registry.json covers ("journal_seq") */
    int journal_on_disk; /* registry.journal may exist: the next save empties or removes it */
};

/* Loads DIR/registry.json (a missing file is an empty registry). A corrupt file is renamed
 * to registry.json.corrupt-<time> with a warning and the registry starts empty. Returns NULL
 * only when out of memory or DIR cannot be created (err says why). */
LF_MUST_CHECK struct registry *reg_open(const char *dir, char *err, size_t errsz);
void reg_close(struct registry *r);

/* Entry for dev+ino, or NULL. The caller checks the fingerprint. */
struct reg_entry *reg_find(struct registry *r, uint64_t dev, uint64_t ino);
/* Creates or updates the entry of id (matched by dev+ino). */
LF_MUST_CHECK int reg_set(struct registry *r, const char *path, const struct file_id *id, uint64_t offset);
void reg_remove(struct registry *r, uint64_t dev, uint64_t ino);
/* What a caller does when reg_set()/reg_set_input() failed (out of memory): counts
 * registry_errors and logs once until the next good save. Nothing is lost: the entry keeps
 * its older offset (a restart reads again from there), and agent_save_registry() records
 * every tracked file again before each save. */
void reg_note_failure(struct registry *r, const char *path);
/* Records which input reads dev+ino's file: after a restart a rotated file whose name no
 * glob matches any more is still drained by the input it belongs to. */
LF_MUST_CHECK int reg_set_input(struct registry *r, uint64_t dev, uint64_t ino, const char *input);

/* Writes the registry if dirty. 0 = written (or nothing to do), -1 = failed (err says why;
 * the registry stays dirty and the next call retries). After a successful write the journal
 * is emptied (running) or removed (stopped or off). */
LF_MUST_CHECK int reg_save(struct registry *r, char *err, size_t errsz);

/* The journal (agent/registry_journal.c). reg_open() always replays an existing journal;
 * reg_journal_start() opens it for appending and starts the lf-journal writer thread, from
 * then on every change is journaled, at most one group (one fdatasync) per group_ms
 * (registry_journal_interval, default 20). Tail thread; 0 ok, -1 (err says why) runs without. */
int reg_journal_start(struct registry *r, long group_ms, char *err, size_t errsz);
/* Hands the changes made since the last group to the writer once group_ms have passed since
 * the previous hand-over (and the writer has taken it: while it is slow, changes coalesce,
 * one record per changed file). now_ms: a monotonic clock. Returns when the next group is
 * due (0: nothing pending), for the caller's poll timeout. */
int64_t reg_journal_tick(struct registry *r, int64_t now_ms);
/* 1 when the journal has grown past its compaction size since the last save: the caller
 * saves now instead of at the next registry_flush. */
int reg_journal_full(const struct registry *r);
/* Hands over what is pending, waits until the writer has written and synced it, stops the
 * thread. The next reg_save() removes the file. Called by reg_close() if still running. */
void reg_journal_stop(struct registry *r);

#endif
