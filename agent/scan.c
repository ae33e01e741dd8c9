/*
 * scan.c - discovery: which files the agent reads, found by glob, by registry entry, by
 * identity after a rotation it did not see, and by name next to a tailed file.
 *
 * Tail thread only (called from loop.c: at start, at every rescan, and from the inotify
 * handler for paths that appeared or moved). It owns no state of its own beyond one scan's
 * directory index; it opens files through tail_open() and marks them for draining.
 *
 * The promise it keeps: a registry entry is a promise that the file it names will be read to
 * its end. At every rescan (so at start and after a reload, which is a start), each entry
 * whose file is not tracked is looked for by identity (device + inode, then its fingerprint)
 * under its recorded path, under any name in that path's directory, and, for a symlink, in
 * its target's directory; if it still holds bytes past the committed offset it is opened and
 * drained, whatever its name is now and whether or not a glob matches it. At start, a file
 * whose name extends a tailed file's name (app.log.1 next to app.log) and that was born after
 * the registry's caught_up_ms (registry.h) was perhaps never seen by the previous run: it is
 * read from its start.
 */
#include "agent/agent.h"
#include "agent/base/log.h"
#include "agent/base/metrics.h"
#include "agent/watch.h"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


int scan_dir_of(struct agent *a, const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    const char *d = dirname(tmp);
    for (int i = 0; i < a->ndirs; i++)
        if (strcmp(a->dirs[i].path, d) == 0)
            return i;
    return -1;
}

struct input *scan_input_for(struct agent *a, const char *path)
{
    for (int i = 0; i < a->ninputs; i++)
        if (input_matches(&a->inputs[i], path))
            return &a->inputs[i];
    return NULL;
}

/* One directory's regular files by inode, read once per scan: finding a moved file is a
 * binary search instead of a readdir and a stat per entry (thousands of registry entries in
 * one directory made that quadratic). */
struct ino_name {
    uint64_t ino;
    char *name;
};
struct dir_ix {
    char *dir;
    struct ino_name *v;
    size_t n;
};
struct dir_cache {
    struct dir_ix *d;
    size_t n;
};

static int ino_cmp(const void *x, const void *y)
{
    uint64_t a = ((const struct ino_name *)x)->ino, b = ((const struct ino_name *)y)->ino;
    return a < b ? -1 : a > b;
}

static const struct dir_ix *dir_index(struct dir_cache *dc, const char *dir)
{
    for (size_t i = 0; i < dc->n; i++)
        if (strcmp(dc->d[i].dir, dir) == 0)
            return &dc->d[i];
    struct dir_ix *nd = realloc(dc->d, (dc->n + 1) * sizeof *nd);
    if (!nd)
        return NULL;
    dc->d = nd;
    struct dir_ix *ix = &dc->d[dc->n];
    memset(ix, 0, sizeof *ix);
    ix->dir = strdup(dir);
    if (!ix->dir)
        return NULL;
    dc->n++;
    DIR *d = opendir(dir);
    if (!d)
        return ix; /* empty: nothing there can be found */
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if ((de->d_type != DT_REG && de->d_type != DT_UNKNOWN) || strcmp(de->d_name, ".") == 0 ||
            strcmp(de->d_name, "..") == 0)
            continue;
        if (ix->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct ino_name *nv = realloc(ix->v, nc * sizeof *nv);
            if (!nv)
                break;
            ix->v = nv;
            cap = nc;
        }
        char *nm = strdup(de->d_name);
        if (!nm)
            break;
        ix->v[ix->n].ino = (uint64_t)de->d_ino;
        ix->v[ix->n].name = nm;
        ix->n++;
    }
    closedir(d);
    if (ix->n) /* qsort(NULL, 0, ...) is undefined */
        qsort(ix->v, ix->n, sizeof *ix->v, ino_cmp);
    return ix;
}

static void dir_cache_free(struct dir_cache *dc)
{
    for (size_t i = 0; i < dc->n; i++) {
        for (size_t j = 0; j < dc->d[i].n; j++)
            free(dc->d[i].v[j].name);
        free(dc->d[i].v);
        free(dc->d[i].dir);
    }
    free(dc->d);
    dc->d = NULL;
    dc->n = 0;
}

/* Looks for the regular file dev/ino in dir; 0 and its path in out if found. */
static int find_in_dir(struct dir_cache *dc, const char *dir, uint64_t dev, uint64_t ino,
                       char *out, size_t outsz)
{
    const struct dir_ix *ix = dir_index(dc, dir);
    if (!ix || !ix->n)
        return -1;
    struct ino_name key = {ino, NULL};
    const struct ino_name *hit = bsearch(&key, ix->v, ix->n, sizeof *ix->v, ino_cmp);
    if (!hit)
        return -1;
    /* hard links share the inode: any of the names will do, the first is as good */
    while (hit > ix->v && hit[-1].ino == ino)
        hit--;
    for (; hit < ix->v + ix->n && hit->ino == ino; hit++) {
        struct stat st;
        if ((size_t)snprintf(out, outsz, "%s/%s", dir, hit->name) >= outsz)
            continue;
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_dev == dev &&
            (uint64_t)st.st_ino == ino)
            return 0;
    }
    return -1;
}

/* The directories a file once at `path` may have been rotated within: path's own directory
 * and, when path is a symlink (Kubernetes' /var/log/containers), its target's directory
 * (where the runtime rotates the target: 0.log -> 0.log.20261206-...). Returns how many. */
static int rotation_dirs(const char *path, char dirs[2][4096])
{
    int n = 0;
    snprintf(dirs[0], sizeof dirs[0], "%s", path);
    char *slash = strrchr(dirs[0], '/');
    if (!slash)
        return 0;
    *slash = '\0';
    n = 1;
    char target[4096];
    char *rp = realpath(path, NULL);
    if (rp) {
        snprintf(target, sizeof target, "%s", rp);
        free(rp);
    } else {
        /* a dangling link (its target rotated away and not recreated yet) */
        ssize_t l = readlink(path, target, sizeof target - 1);
        if (l <= 0)
            return n;
        target[l] = '\0';
        if (target[0] != '/') {
            char rel[4096];
            if ((size_t)snprintf(rel, sizeof rel, "%s/%s", dirs[0], target) >= sizeof rel)
                return n;
            snprintf(target, sizeof target, "%s", rel);
        }
    }
    char *ts = strrchr(target, '/');
    if (!ts || ts == target)
        return n;
    *ts = '\0';
    if (strcmp(target, dirs[0]) != 0)
        snprintf(dirs[n++], sizeof dirs[0], "%s", target);
    return n;
}

/* Where the file of registry entry e is now: 0 and its path in out (and st) when found with
 * the same identity and first bytes, -1 when it is gone or its inode now holds another file,
 * -2 when it is there but cannot be read (the entry is kept). */
static int locate(struct dir_cache *dc, const struct reg_entry *e, char *out, size_t outsz,
                  struct stat *st)
{
    /* an entry at its end under its own path (a drained rotated file): nothing to verify */
    if (stat(e->path, st) == 0 && S_ISREG(st->st_mode) && (uint64_t)st->st_dev == e->id.dev &&
        (uint64_t)st->st_ino == e->id.ino && (uint64_t)st->st_size <= e->offset) {
        snprintf(out, outsz, "%s", e->path);
        return 0;
    }
    int found = stat(e->path, st) == 0 && S_ISREG(st->st_mode) &&
                (uint64_t)st->st_dev == e->id.dev && (uint64_t)st->st_ino == e->id.ino;
    if (found) {
        snprintf(out, outsz, "%s", e->path);
    } else {
        char dirs[2][4096];
        int nd = rotation_dirs(e->path, dirs);
        for (int i = 0; i < nd && !found; i++)
            found = find_in_dir(dc, dirs[i], e->id.dev, e->id.ino, out, outsz) == 0;
        if (!found || stat(out, st) != 0)
            return -1;
    }
    int fd = open(out, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -2;
    uint64_t fp = 0;
    uint32_t got = 0;
    int same = (uint64_t)st->st_size >= e->id.fp_len &&
               tail_fingerprint(fd, e->id.fp_len, &fp, &got) == 0 && got == e->id.fp_len &&
               fp == e->id.fp;
    close(fd);
    return same ? 0 : -1;
}

/* The input a registry entry belongs to: the one recorded with it, else (registries written
 * before inputs were recorded) the one whose glob matches its name or the name it extends
 * (app.log.1 -> app.log, access.log-20261206 -> access.log). */
static struct input *entry_input(struct agent *a, const struct reg_entry *e, const char *now)
{
    if (e->input)
        for (int i = 0; i < a->ninputs; i++)
            if (strcmp(a->inputs[i].name, e->input) == 0)
                return &a->inputs[i];
    const char *names[2] = {e->path, now};
    for (int k = 0; k < 2; k++) {
        struct input *in = scan_input_for(a, names[k]);
        if (in)
            return in;
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s", names[k]);
        char *base = strrchr(tmp, '/');
        for (char *p = tmp + strlen(tmp); base && p > base + 1; p--)
            if (*p == '.' || *p == '-' || *p == '_') {
                char c = *p;
                *p = '\0';
                in = scan_input_for(a, tmp);
                *p = c;
                if (in)
                    return in;
            }
    }
    return NULL;
}

/* Registry entries of files not tracked now (see the top of the file). Entries whose file is
 * gone (or whose inode holds another file) are dropped; entries at their end are kept (a late
 * append to a rotated file is read too). Costs a stat per entry, plus a directory listing
 * when an entry is not under its path: it runs at start and at the periodic rescan only, not
 * at the rescans inotify asks for. */
static void sweep_registry(struct agent *a)
{
    struct dir_cache dc = {0};
    for (int i = 0; i < a->reg->n;) {
        const struct reg_entry *e = &a->reg->e[i];
        uint64_t dev = e->id.dev, ino = e->id.ino, off = e->offset;
        if (tail_find_id(a, dev, ino)) {
            i++;
            continue;
        }
        char now[4096];
        struct stat st;
        int r = locate(&dc, e, now, sizeof now, &st);
        if (r == -1) {
            reg_remove(a->reg, dev, ino); /* the last entry moved to i: look at it next */
            continue;
        }
        struct input *in = r == 0 && (uint64_t)st.st_size > off ? entry_input(a, e, now) : NULL;
        if (!in) {
            i++;
            continue;
        }
        char was[4096];
        snprintf(was, sizeof was, "%s", e->path); /* tail_open() may move or free entries */
        struct tail_file *tf = tail_open(a, in, scan_dir_of(a, now), now, 0);
        if (tf && tf->id.dev == dev && tf->id.ino == ino) {
            if (scan_input_for(a, now) != in) /* a rotated name: drain, then close */
                tf->state = TF_RENAMED;
            LF_LOG(LF_INFO, "tail", "[%s] %s%s%s has %llu unread bytes past its committed "
                   "offset %llu; %s", in->name, now, strcmp(was, now) ? " (registry: " : "",
                   strcmp(was, now) ? was : "", (unsigned long long)((uint64_t)st.st_size - off),
                   (unsigned long long)off, tf->fd >= 0 ? "draining it" :
                   "draining it when a descriptor is free (max_open_files)");
            if (strcmp(was, now))
                LF_LOG(LF_DEBUG, "tail", "(registry path was %s)", was);
        }
        if (i < a->reg->n && a->reg->e[i].id.dev == dev && a->reg->e[i].id.ino == ino)
            i++;
    }
    dir_cache_free(&dc);
}

/* A file closed for inactivity, or waiting for a descriptor, was rotated away: without this
 * its last lines were never read. Reopen it under its new name (found by identity when the
 * rename was not seen) and drain it like any rotated file. */
void scan_reopen_rotated(struct agent *a, struct tail_file *tf)
{
    if (tf->fd >= 0 || tf->state != TF_RENAMED)
        return;
    char now[4096];
    struct stat st;
    /* The path is checked, not trusted: events are applied late under load, and tail_open()
     * of a name that now holds another file would open that file instead. */
    int found = !tf->path_stale && stat(tf->path, &st) == 0 &&
                (uint64_t)st.st_dev == tf->id.dev && (uint64_t)st.st_ino == tf->id.ino;
    if (found) {
        snprintf(now, sizeof now, "%s", tf->path);
    } else {
        struct dir_cache dc = {0};
        char dirs[2][4096];
        int nd = rotation_dirs(tf->src->path, dirs);
        for (int i = 0; i < nd && !found; i++)
            found = find_in_dir(&dc, dirs[i], tf->id.dev, tf->id.ino, now, sizeof now) == 0;
        dir_cache_free(&dc);
    }
    if (!found || stat(now, &st) != 0 || (uint64_t)st.st_size <= tf->read_off) {
        tf->waiting = 0; /* gone, or nothing unread: it may be reaped */
        a->sched.reap = 1;
        return;
    }
    tf->state = TF_CLOSED; /* tail_open() reopens closed files it already knows */
    tail_open(a, tf->in, tf->dir, now, 0);
    tf->state = TF_RENAMED;
    if (tf->fd < 0) {
        tf->waiting = 1; /* max_open_files: kept, and opened when a slot frees */
        return;
    }
    char *np = strdup(now);
    if (np) {
        free(tf->path);
        tf->path = np;
        tf->path_stale = 0;
        sched_index_path(a, tf);
    }
    sched_dirty(a, tf);
    LF_LOG(LF_INFO, "tail", "%s: rotated away while closed; draining it from offset %llu", now,
           (unsigned long long)tf->read_off);
}

/* A closed file (inactive, or waiting for a descriptor) whose path no longer names it was
 * rotated away unseen: its events were dropped (inotify overflow) or it was renamed before
 * the events that would have told were applied. Followed by identity like any file rotated
 * while closed; before, it kept its old path, nothing looked at it again and its unread
 * lines were lost until a restart (the torture_max_open_files_rotation ASan loss). Returns 1
 * when it was rotated away. */
static int follow_moved(struct agent *a, struct tail_file *tf)
{
    struct stat st;
    if (tf->fd >= 0 || tf->state != TF_CLOSED)
        return 0;
    if (!tf->path_stale && stat(tf->path, &st) == 0 && (uint64_t)st.st_dev == tf->id.dev &&
        (uint64_t)st.st_ino == tf->id.ino)
        return 0;
    tf->state = TF_RENAMED;
    tf->path_stale = 1;
    METRIC_ADD(lf_metrics.rotations, 1);
    scan_reopen_rotated(a, tf);
    return 1;
}

void scan_waiting(struct agent *a)
{
    for (int pass = 0; pass < 2; pass++)
        for (struct tail_file *tf = a->files; tf; tf = tf->next) {
            if (!tf->waiting || tf->fd >= 0)
                continue;
            if (a->nfiles_open >= a->ac.max_open_files) {
                a->files_waiting = 1; /* idle files give up their slots (close_idle) */
                return;
            }
            if (pass == 0 && tf->state == TF_RENAMED)
                scan_reopen_rotated(a, tf);
            else if (pass == 1 && tf->state == TF_CLOSED && !follow_moved(a, tf)) {
                tf->waiting = 0; /* set again if the cap refuses it */
                scan_consider(a, tf->path, 0);
            }
        }
}

void scan_consider(struct agent *a, const char *path, int initial)
{
    struct input *in = scan_input_for(a, path);
    if (!in)
        return;
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    struct tail_file *tf = tail_find_path(a, path);
    if (tf && tf->id.dev == (uint64_t)st.st_dev && tf->id.ino == (uint64_t)st.st_ino) {
        /* A closed (inactive) file is reopened only when it has something new. */
        if (tf->fd < 0 && (uint64_t)st.st_size != tf->read_off)
            tail_open(a, in, tf->dir, path, 0);
        sched_dirty(a, tf);
        return;
    }
    if (tf) {
        /* The path now names another file: the one we had was rotated away unseen. */
        tf->state = TF_RENAMED;
        tf->path_stale = 1;
        sched_dirty(a, tf);
        METRIC_ADD(lf_metrics.rotations, 1);
        scan_reopen_rotated(a, tf);
    }
    tail_open(a, in, scan_dir_of(a, path), path, initial);
}

void scan_request_watches(struct agent *a)
{
    for (int i = 0; i < a->ndirs; i++) {
        /* A directory that could not be watched (it did not exist yet: the application
         * creates it later, or it was deleted and is back) is retried once it exists;
         * before, it stayed unwatched for good and its files were read only by the rescan. */
        struct stat st;
        if (a->dirs[i].added == -1 && stat(a->dirs[i].path, &st) == 0 && S_ISDIR(st.st_mode))
            a->dirs[i].added = 0;
        if (a->dirs[i].added == 0) {
            a->dirs[i].added = 2; /* requested */
            /* libinotifytools records a directory watch under "DIR/" (it appends the slash)
             * and inotifytools_wd_from_filename("DIR") finds nothing, so watch.c could not
             * map the watch descriptor to our dir id and dropped every event: files were
             * only read by the rescan. Ask for the directory with its trailing slash. */
            char d[4096];
            size_t l = strlen(a->dirs[i].path);
            snprintf(d, sizeof d, "%s%s", a->dirs[i].path,
                     l && a->dirs[i].path[l - 1] == '/' ? "" : "/");
            watch_add_dir(i, d);
        }
    }
}

/* Birth time of st's file in ms (statx), else its mtime: when it was created, or at least
 * last written. */
static int64_t born_ms(const char *path, const struct stat *st)
{
    struct statx sx;
    if (statx(AT_FDCWD, path, 0, STATX_BTIME, &sx) == 0 && (sx.stx_mask & STATX_BTIME))
        return (int64_t)sx.stx_btime.tv_sec * 1000 + sx.stx_btime.tv_nsec / 1000000;
    return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

/* A copytruncate copy holds a tailed file's content as it was: when its first bytes match a
 * registry entry's fingerprint, what that entry committed was shipped already, so the copy
 * is read from there (only the lines written since the last commit). Seeds a registry entry
 * for the copy that tail_open() resumes from; with several matches the smallest offset wins
 * (a duplicate rather than a loss). */
struct reg_snap {
    struct file_id id;
    uint64_t offset;
};

static void seed_copy(struct agent *a, const struct reg_snap *snap, int nsnap, const char *path,
                      const struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return;
    const struct reg_snap *best = NULL;
    for (int i = 0; i < nsnap; i++) {
        const struct reg_snap *e = &snap[i];
        uint64_t fp;
        uint32_t got;
        if (e->id.fp_len == 0 || (uint64_t)st->st_size < e->id.fp_len ||
            tail_fingerprint(fd, e->id.fp_len, &fp, &got) != 0 || got != e->id.fp_len ||
            fp != e->id.fp)
            continue;
        if (!best || e->offset < best->offset)
            best = e;
    }
    close(fd);
    if (!best || best->offset > (uint64_t)st->st_size)
        return;
    struct file_id id = {(uint64_t)st->st_dev, (uint64_t)st->st_ino, best->id.fp, best->id.fp_len, 0};
    LF_LOG(LF_INFO, "tail", "%s is a copy of inode %llu (same first bytes): reading it from "
           "that file's committed offset %llu", path, (unsigned long long)best->id.ino,
           (unsigned long long)best->offset);
    if (reg_set(a->reg, path, &id, best->offset) != 0)
        reg_note_failure(a->reg, path);
}

struct sibling_base {
    struct input *in;
    const char *dir;  /* points into the tail_file's path (not NUL-terminated there) */
    size_t dirlen;
    const char *base; /* NUL-terminated: the rest of that path */
};

static int base_cmp(const void *x, const void *y)
{
    const struct sibling_base *a = x, *b = y;
    size_t n = a->dirlen < b->dirlen ? a->dirlen : b->dirlen;
    int c = memcmp(a->dir, b->dir, n);
    if (c || a->dirlen != b->dirlen)
        return c ? c : (a->dirlen < b->dirlen ? -1 : 1);
    return strcmp(a->base, b->base);
}

static int u64_cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* Files named like a tailed file plus a suffix (app.log.1, app.log-20261206, 0.log.2026...)
 * that no glob matches, that no tracked file and no registry entry knows (so they were never
 * read), and that were born at or after `since`: at start, the registry's caught_up_ms, the
 * moment up to which the previous run had registered every file born (a file born later was
 * perhaps never seen: created while the agent was stopped, or by a rotation just before a
 * crash whose events it had not applied yet, then rotated again). Registries without it fall
 * back to their file's mtime, which missed that second case: a save after the birth, before
 * the events were applied. Read from their start, then closed. One readdir per directory;
 * bases and known inodes are looked up by binary search. */
static void scan_siblings(struct agent *a, int64_t since, const struct reg_snap *snap, int nsnap)
{
    size_t n = 0, cap = 0, nk = 0;
    struct sibling_base *v = NULL;
    uint64_t *known = NULL;
    for (struct tail_file *tf = a->files; tf; tf = tf->next) {
        /* and the name it was opened under (the live name a glob matched): after a rotation
         * it names no tracked file any more, yet its siblings are still to be looked for */
        int gone = tf->state == TF_DELETED || tf->path_stale;
        const char *names[3] = {gone ? NULL : tf->path, gone ? NULL : tf->real, tf->src->path};
        for (int k = 0; k < 3; k++) {
            const char *slash = names[k] ? strrchr(names[k], '/') : NULL;
            if (!slash || !slash[1])
                continue;
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 64;
                struct sibling_base *nv = realloc(v, nc * sizeof *nv);
                if (!nv)
                    goto out;
                v = nv;
                cap = nc;
            }
            v[n++] = (struct sibling_base){tf->in, names[k], (size_t)(slash - names[k]), slash + 1};
        }
    }
    if (!n)
        goto out;
    qsort(v, n, sizeof *v, base_cmp);
    /* inodes already known: tracked files and registry entries (one device in practice; the
     * device is checked again with tail_find_id/reg_find on a hit) */
    int nfiles = 0;
    for (struct tail_file *tf = a->files; tf; tf = tf->next)
        nfiles++;
    known = malloc(((size_t)nfiles + (size_t)a->reg->n + 1) * sizeof *known);
    if (!known)
        goto out;
    for (struct tail_file *tf = a->files; tf; tf = tf->next)
        known[nk++] = tf->id.ino;
    for (int i = 0; i < a->reg->n; i++)
        known[nk++] = a->reg->e[i].id.ino;
    qsort(known, nk, sizeof *known, u64_cmp);
    for (size_t i = 0; i < n;) {
        size_t j = i; /* v[i..j) share a directory */
        while (j < n && v[j].dirlen == v[i].dirlen && memcmp(v[j].dir, v[i].dir, v[i].dirlen) == 0)
            j++;
        char dir[4096];
        snprintf(dir, sizeof dir, "%.*s", (int)v[i].dirlen, v[i].dir);
        DIR *d = opendir(dir[0] ? dir : "/");
        struct dirent *de;
        while (d && (de = readdir(d))) {
            uint64_t ino = (uint64_t)de->d_ino;
            if (bsearch(&ino, known, nk, sizeof *known, u64_cmp))
                continue;
            /* the tailed name it extends: a prefix ending before '.', '-' or '_' */
            const struct sibling_base *hit = NULL;
            char nm[256];
            snprintf(nm, sizeof nm, "%s", de->d_name);
            for (char *p = nm + 1; *p && !hit; p++) {
                if (*p != '.' && *p != '-' && *p != '_')
                    continue;
                char c = *p;
                *p = '\0';
                struct sibling_base key = {NULL, v[i].dir, v[i].dirlen, nm};
                hit = bsearch(&key, v + i, j - i, sizeof *v, base_cmp);
                *p = c;
            }
            char path[4096];
            struct stat st;
            if (!hit ||
                (size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path ||
                scan_input_for(a, path) || stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
                tail_find_id(a, (uint64_t)st.st_dev, (uint64_t)st.st_ino) ||
                reg_find(a->reg, (uint64_t)st.st_dev, (uint64_t)st.st_ino) ||
                born_ms(path, &st) < since)
                continue;
            struct input *in = hit->in;
            seed_copy(a, snap, nsnap, path, &st);
            struct tail_file *tf = tail_open(a, in, scan_dir_of(a, path), path, 0);
            if (!tf)
                continue;
            tf->state = TF_RENAMED; /* drained, then closed after close_renamed */
            LF_LOG(LF_INFO, "tail", "[%s] %s was rotated away from %s/%s before it was read; "
                   "reading it", in->name, path, dir, hit->base);
        }
        if (d)
            closedir(d);
        i = j;
    }
out:
    free(known);
    free(v);
}

void scan_rescan(struct agent *a, int flags)
{
    int initial = flags & SCAN_INITIAL;
    int siblings = initial ? !a->first_start && (a->reg->caught_up_ms || a->reg->loaded_mtime_ms)
                           : (flags & SCAN_LOST_EVENTS) && a->reg->caught_up_ms;
    agent_collect_dirs(a);
    scan_request_watches(a);
    /* The registry as the last run left it: opening files below replaces the fingerprints
     * of rewritten ones, and a copytruncate copy is recognised by the old one (siblings). */
    struct reg_snap *snap = NULL;
    int nsnap = 0;
    if (siblings && a->reg->n > 0 &&
        (snap = malloc((size_t)a->reg->n * sizeof *snap)) != NULL)
        for (; nsnap < a->reg->n; nsnap++) {
            snap[nsnap].id = a->reg->e[nsnap].id;
            snap[nsnap].offset = a->reg->e[nsnap].offset;
        }
    /* Rotated files waiting for a descriptor go first: rotation's next step may delete them. */
    scan_waiting(a);
    for (int i = 0; i < a->ninputs; i++) {
        struct input *in = &a->inputs[i];
        for (int j = 0; j < in->c.paths.n; j++) {
            glob_t g;
            if (glob(in->c.paths.v[j], 0, NULL, &g) != 0)
                continue;
            for (size_t k = 0; k < g.gl_pathc; k++)
                if (scan_input_for(a, g.gl_pathv[k]) == in)
                    scan_consider(a, g.gl_pathv[k], initial);
            globfree(&g);
        }
    }
    for (struct tail_file *tf = a->files; tf; tf = tf->next) {
        if (tf->fd < 0) {
            follow_moved(a, tf); /* files opened by it are put in front: not seen here */
            continue;
        }
        if (tf->state != TF_ACTIVE)
            continue;
        struct stat st, fst;
        if (stat(tf->path, &st) != 0 || (uint64_t)st.st_ino != tf->id.ino ||
            (uint64_t)st.st_dev != tf->id.dev) {
            int gone = fstat(tf->fd, &fst) == 0 && fst.st_nlink == 0;
            tf->state = gone ? TF_DELETED : TF_RENAMED;
            tf->path_stale = 1;
            LF_LOG(LF_INFO, "tail", "%s was %s (found by rescan); draining it", tf->path,
                   gone ? "deleted" : "rotated away");
        } else {
            tail_check_rewritten(a, tf);
        }
        sched_dirty(a, tf);
    }
    static int64_t last_sweep;
    if (initial || mono_ms() - last_sweep >= a->ac.rescan_interval_ms) {
        sweep_registry(a);
        last_sweep = mono_ms();
    }
    /* At start, and after events were dropped (a file created and rotated away meanwhile
     * is known to nothing else). Not at every rescan: it also reads every copytruncate copy
     * made while running from its start, duplicates of the whole file at every rotation;
     * after an overflow that is the price of not losing one. The mark does not advance past
     * an overflow before this ran (loop.c: the fence is poisoned). */
    if (siblings)
        scan_siblings(a, a->reg->caught_up_ms ? a->reg->caught_up_ms : a->reg->loaded_mtime_ms,
                      snap, nsnap);
    free(snap);
}
