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
 * the registry's last save was never seen by the previous run: it is read from its start.
 */
#include "agent/agent.h"
#include "agent/log.h"
#include "agent/metrics.h"
#include "agent/watch.h"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int input_matches(const struct input *in, const char *path);
void agent_collect_dirs(struct agent *a);

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
 * append to a rotated file is read too). */
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
    int found = 0;
    if (!tf->path_stale) {
        snprintf(now, sizeof now, "%s", tf->path); /* the rename was seen: path is current */
        found = 1;
    } else {
        struct dir_cache dc = {0};
        char dirs[2][4096];
        int nd = rotation_dirs(tf->src->path, dirs);
        for (int i = 0; i < nd && !found; i++)
            found = find_in_dir(&dc, dirs[i], tf->id.dev, tf->id.ino, now, sizeof now) == 0;
        dir_cache_free(&dc);
    }
    struct stat st;
    if (!found || stat(now, &st) != 0 || (uint64_t)st.st_size <= tf->read_off) {
        tf->waiting = 0; /* gone, or nothing unread: it may be reaped */
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
    }
    tf->dirty = 1;
    LF_LOG(LF_INFO, "tail", "%s: rotated away while closed; draining it from offset %llu", now,
           (unsigned long long)tf->read_off);
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
        tf->dirty = 1;
        return;
    }
    if (tf) {
        /* The path now names another file: the one we had was rotated away unseen. */
        tf->state = TF_RENAMED;
        tf->path_stale = 1;
        tf->dirty = 1;
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
static void seed_copy(struct agent *a, const char *path, const struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return;
    const struct reg_entry *best = NULL;
    for (int i = 0; i < a->reg->n; i++) {
        const struct reg_entry *e = &a->reg->e[i];
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
    LF_LOG(LF_INFO, "tail", "%s is a copy of %s (same first bytes): reading it from that file's "
           "committed offset %llu", path, best->path, (unsigned long long)best->offset);
    reg_set(a->reg, path, &id, best->offset);
}

struct sibling_base {
    struct input *in;
    char dir[4096];
    char base[256];
};

/* Files named like a tailed file plus a suffix (app.log.1, app.log-20261206, 0.log.2026...),
 * that no glob matches, that the registry does not know, and that were born after the
 * registry's last save: written while the agent was stopped (or after its last commit before
 * a crash) and rotated before it could see them, such as the middle generation of two
 * rotations while it was stopped. Read from their start, then closed. Runs at start only: a
 * running agent follows renames through inotify. */
static void scan_siblings(struct agent *a)
{
    int64_t since = a->reg->loaded_mtime_ms;
    if (!since)
        return;
    size_t n = 0, cap = 0;
    struct sibling_base *v = NULL;
    for (struct tail_file *tf = a->files; tf; tf = tf->next) {
        if (tf->state == TF_DELETED || tf->path_stale)
            continue;
        const char *names[2] = {tf->path, tf->real};
        for (int k = 0; k < 2; k++) {
            if (!names[k])
                continue;
            const char *slash = strrchr(names[k], '/');
            if (!slash || strlen(slash + 1) >= sizeof v->base)
                continue;
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 16;
                struct sibling_base *nv = realloc(v, nc * sizeof *nv);
                if (!nv)
                    goto out;
                v = nv;
                cap = nc;
            }
            v[n].in = tf->in;
            snprintf(v[n].dir, sizeof v[n].dir, "%.*s", (int)(slash - names[k]), names[k]);
            snprintf(v[n].base, sizeof v[n].base, "%s", slash + 1);
            n++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        DIR *d = opendir(v[i].dir[0] ? v[i].dir : "/");
        if (!d)
            continue;
        size_t bl = strlen(v[i].base);
        struct dirent *de;
        while ((de = readdir(d))) {
            if (strncmp(de->d_name, v[i].base, bl) != 0 || !de->d_name[bl])
                continue;
            char path[4096];
            struct stat st;
            if ((size_t)snprintf(path, sizeof path, "%s/%s", v[i].dir, de->d_name) >= sizeof path ||
                scan_input_for(a, path) || stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
                tail_find_id(a, (uint64_t)st.st_dev, (uint64_t)st.st_ino) ||
                reg_find(a->reg, (uint64_t)st.st_dev, (uint64_t)st.st_ino) ||
                born_ms(path, &st) <= since)
                continue;
            seed_copy(a, path, &st);
            struct tail_file *tf = tail_open(a, v[i].in, scan_dir_of(a, path), path, 0);
            if (!tf)
                continue;
            tf->state = TF_RENAMED; /* drained, then closed after close_renamed */
            LF_LOG(LF_INFO, "tail", "[%s] %s appeared while the agent was stopped and was "
                   "rotated away from %s/%s before it was read; reading it", v[i].in->name, path,
                   v[i].dir, v[i].base);
        }
        closedir(d);
    }
out:
    free(v);
}

void scan_rescan(struct agent *a, int initial)
{
    agent_collect_dirs(a);
    scan_request_watches(a);
    /* Rotated files waiting for a descriptor go first: rotation's next step may delete them. */
    for (struct tail_file *tf = a->files; tf; tf = tf->next)
        if (tf->waiting && tf->fd < 0 && tf->state == TF_RENAMED)
            scan_reopen_rotated(a, tf);
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
        if (tf->fd < 0 || tf->state != TF_ACTIVE)
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
        tf->dirty = 1;
    }
    sweep_registry(a);
    if (initial && !a->first_start)
        scan_siblings(a);
}
