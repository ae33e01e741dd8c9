/*
 * registry.h - what has been delivered, per file: identity, last known path, and the offset
 * up to which every output has acknowledged. Persisted in DATA_DIR/registry.json.
 *
 * Owned by the tail thread (the only reader and writer while the agent runs); reg_save()
 * runs on it too, at most every registry_flush and at shutdown. The file is replaced
 * atomically: write a temporary file, fsync it, rename it over, fsync the directory, so a
 * crash or power loss leaves either the old or the new registry, never a torn one.
 */
#ifndef LF_REGISTRY_H
#define LF_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "agent/base/event.h"

struct reg_entry {
    char *path;
    struct file_id id;
    uint64_t offset;
    int64_t updated_ms; /* wall clock of the last change */
    char *input;        /* name of the [input] that read it (NULL in registries before it) */
};

struct registry {
    char *dir;
    char *file; /* DIR/registry.json */
    struct reg_entry *e;
    int n, cap;
    int dirty;
    int64_t loaded_mtime_ms; /* mtime of registry.json when it was loaded (0: none) */
    /* Discovery's high-water mark (wall ms, file-time clock): every file that existed in a
     * watched directory at this time had been registered when it was recorded (loop.c
     * advances it through the watcher's fence). A file born before it and not in the
     * registry was seen and needs nothing; one born after it may never have been seen.
     * Loaded from and saved with registry.json; 0 when the file predates it (restarts then
     * fall back to loaded_mtime_ms). */
    int64_t caught_up_ms;
};

/* Loads DIR/registry.json (a missing file is an empty registry). A corrupt file is renamed
 * to registry.json.corrupt-<time> with a warning and the registry starts empty. Returns NULL
 * only when out of memory or DIR cannot be created (err says why). */
struct registry *reg_open(const char *dir, char *err, size_t errsz);
void reg_close(struct registry *r);

/* Entry for dev+ino, or NULL. The caller checks the fingerprint. */
struct reg_entry *reg_find(struct registry *r, uint64_t dev, uint64_t ino);
/* Creates or updates the entry of id (matched by dev+ino). */
int reg_set(struct registry *r, const char *path, const struct file_id *id, uint64_t offset);
void reg_remove(struct registry *r, uint64_t dev, uint64_t ino);
/* Records which input reads dev+ino's file: after a restart a rotated file whose name no
 * glob matches any more is still drained by the input it belongs to. */
int reg_set_input(struct registry *r, uint64_t dev, uint64_t ino, const char *input);

/* Writes the registry if dirty. 0 = written (or nothing to do), -1 = failed (err says why;
 * the registry stays dirty and the next call retries). */
int reg_save(struct registry *r, char *err, size_t errsz);

#endif
