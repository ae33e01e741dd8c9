/*
 * registry.c - loading and atomically saving the registry (see registry.h); the journal of
 * changes between two saves is registry_journal.c. Tail thread only.
 * jansson is fine here: at most one write a second, off the hot path.
 */
#include "agent/registry.h"
#include "agent/registry_journal.h"
#include "agent/base/clock.h"
#include "agent/base/log.h"
#include "agent/base/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static void set_aside(struct registry *r, const char *why)
{
    char aside[4200];
    snprintf(aside, sizeof aside, "%s.corrupt-%lld", r->file, (long long)time(NULL));
    if (rename(r->file, aside) == 0)
        LF_LOG(LF_WARN, "registry", "%s is corrupt (%s); set aside as %s, starting with an empty "
               "registry", r->file, why, aside);
    else
        LF_LOG(LF_WARN, "registry", "%s is corrupt (%s) and could not be set aside: %s", r->file,
               why, strerror(errno));
}

/* Paths are bytes and not always UTF-8 (a file named in Latin-1, or hostile names); jansson
 * only takes UTF-8 strings. Such a path is stored hex-encoded as "path_hex" instead of
 * "path" (before, the entry was silently left out of the file, so the file was read again
 * from its beginning after every restart). */
static char *hex_encode(const char *s)
{
    static const char hx[] = "0123456789abcdef";
    size_t n = strlen(s);
    char *o = malloc(2 * n + 1);
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        o[2 * i] = hx[(unsigned char)s[i] >> 4];
        o[2 * i + 1] = hx[(unsigned char)s[i] & 15];
    }
    o[2 * n] = '\0';
    return o;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* NULL if not an even-length lowercase hex string of non-NUL bytes. */
static char *hex_decode(const char *h)
{
    size_t n = strlen(h);
    if (n == 0 || n % 2)
        return NULL;
    char *o = malloc(n / 2 + 1);
    if (!o)
        return NULL;
    for (size_t i = 0; i < n / 2; i++) {
        int a = hexval(h[2 * i]), b = hexval(h[2 * i + 1]);
        if (a < 0 || b < 0 || (a | b) == 0) {
            free(o);
            return NULL;
        }
        o[i] = (char)(a << 4 | b);
    }
    o[n / 2] = '\0';
    return o;
}

static int load(struct registry *r)
{
    json_error_t jerr;
    json_t *root = json_load_file(r->file, 0, &jerr);
    if (!root) {
        if (access(r->file, F_OK) != 0)
            return 0; /* first start */
        char why[300];
        snprintf(why, sizeof why, "line %d: %s", jerr.line, jerr.text);
        set_aside(r, why);
        return 0;
    }
    json_t *files = json_object_get(root, "files");
    if (!json_is_object(root) || !json_is_array(files)) {
        json_decref(root);
        set_aside(r, "no \"files\" array");
        return 0;
    }
    json_t *js = json_object_get(root, "journal_seq");
    if (json_is_integer(js) && json_integer_value(js) > 0)
        r->snap_seq = r->seq = (uint64_t)json_integer_value(js);
    json_t *cu = json_object_get(root, "caught_up_ms");
    if (json_is_integer(cu) && json_integer_value(cu) > 0)
        r->caught_up_ms = (int64_t)json_integer_value(cu);
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f) {
        const char *path = json_string_value(json_object_get(f, "path"));
        char *hexpath = NULL;
        if (!path) {
            const char *h = json_string_value(json_object_get(f, "path_hex"));
            path = hexpath = h ? hex_decode(h) : NULL;
        }
        json_t *dev = json_object_get(f, "dev"), *ino = json_object_get(f, "ino");
        json_t *off = json_object_get(f, "offset"), *fp = json_object_get(f, "fp");
        json_t *fpl = json_object_get(f, "fp_len");
        if (!path || !json_is_integer(dev) || !json_is_integer(ino) || !json_is_integer(off) ||
            !json_is_string(fp) || !json_is_integer(fpl) || json_integer_value(off) < 0) {
            LF_LOG(LF_WARN, "registry", "%s: skipping malformed entry #%zu", r->file, i);
            free(hexpath);
            continue;
        }
        const char *uid = json_string_value(json_object_get(f, "uid"));
        const char *input = json_string_value(json_object_get(f, "input"));
        struct file_id id = {(uint64_t)json_integer_value(dev), (uint64_t)json_integer_value(ino),
                             strtoull(json_string_value(fp), NULL, 16),
                             (uint32_t)json_integer_value(fpl),
                             uid ? strtoull(uid, NULL, 16) : 0};
        if (reg_set(r, path, &id, (uint64_t)json_integer_value(off)) != 0 ||
            (input && reg_set_input(r, id.dev, id.ino, input) != 0))
            reg_note_failure(r, path);
        free(hexpath);
    }
    json_decref(root);
    r->dirty = 0;
    return 0;
}

struct registry *reg_open(const char *dir, char *err, size_t errsz)
{
    if (mkdir_p(dir) != 0) {
        snprintf(err, errsz, "cannot create data_dir %s: %s", dir, strerror(errno));
        return NULL;
    }
    struct registry *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    r->dir = strdup(dir);
    size_t n = strlen(dir) + 32;
    r->file = malloc(n);
    r->jfile = malloc(n);
    if (!r->dir || !r->file || !r->jfile) {
        reg_close(r);
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    snprintf(r->file, n, "%s/registry.json", dir);
    snprintf(r->jfile, n, "%s/registry.journal", dir);
    struct stat st;
    if (stat(r->file, &st) == 0)
        r->loaded_mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    load(r);
    struct rj_replay_stats rs;
    rj_replay(r, &rs);
    if (rs.applied) {
        LF_LOG(LF_INFO, "registry", "resumed %ld offset update(s) from %s (acknowledged after "
               "registry.json was saved)", rs.applied, r->jfile);
        r->dirty = 1;
    }
    return r;
}

void reg_close(struct registry *r)
{
    if (!r)
        return;
    reg_journal_stop(r);
    for (int i = 0; i < r->n; i++) {
        free(r->e[i].path);
        free(r->e[i].input);
    }
    free(r->e);
    free(r->dir);
    free(r->file);
    free(r->jfile);
    free(r);
}

struct reg_entry *reg_find(struct registry *r, uint64_t dev, uint64_t ino)
{
    for (int i = 0; i < r->n; i++)
        if (r->e[i].id.dev == dev && r->e[i].id.ino == ino)
            return &r->e[i];
    return NULL;
}

void reg_note_failure(struct registry *r, const char *path)
{
    METRIC_ADD(lf_metrics.registry_errors, 1);
    if (!r->set_failed)
        LF_LOG(LF_WARN, "registry", "out of memory recording the offset of %s; it is recorded "
               "again before the next save", path);
    r->set_failed = 1;
}

int reg_set(struct registry *r, const char *path, const struct file_id *id, uint64_t offset)
{
    struct reg_entry *e = reg_find(r, id->dev, id->ino);
    if (!e) {
        if (r->n == r->cap) {
            int nc = r->cap ? r->cap * 2 : 16;
            struct reg_entry *ne = realloc(r->e, (size_t)nc * sizeof *ne);
            if (!ne)
                return -1;
            r->e = ne;
            r->cap = nc;
        }
        e = &r->e[r->n++];
        memset(e, 0, sizeof *e);
        e->jslot = -1;
    }
    int changed = 0;
    if (!e->path || strcmp(e->path, path) != 0) {
        char *p = strdup(path);
        if (!p)
            return -1;
        free(e->path);
        e->path = p;
        changed = 1;
    }
    /* field by field: the struct's padding is not ours to compare */
    if (e->offset != offset || e->id.dev != id->dev || e->id.ino != id->ino ||
        e->id.fp != id->fp || e->id.fp_len != id->fp_len || e->id.uid != id->uid) {
        e->updated_ms = wall_ms();
        changed = 1;
    }
    e->id = *id;
    e->offset = offset;
    r->dirty = 1;
    if (changed && r->j)
        rj_note_change(r, (int)(e - r->e));
    return 0;
}

void reg_remove(struct registry *r, uint64_t dev, uint64_t ino)
{
    for (int i = 0; i < r->n; i++)
        if (r->e[i].id.dev == dev && r->e[i].id.ino == ino) {
            if (r->j)
                rj_note_remove(r, i, dev, ino);
            free(r->e[i].path);
            free(r->e[i].input);
            r->e[i] = r->e[--r->n];
            r->dirty = 1;
            return;
        }
}

int reg_set_input(struct registry *r, uint64_t dev, uint64_t ino, const char *input)
{
    struct reg_entry *e = reg_find(r, dev, ino);
    if (!e || (e->input && strcmp(e->input, input) == 0))
        return e ? 0 : -1;
    char *p = strdup(input);
    if (!p)
        return -1;
    free(e->input);
    e->input = p;
    r->dirty = 1;
    if (r->j)
        rj_note_change(r, (int)(e - r->e));
    return 0;
}

/* registry.json now covers every change: the journal before it is of no more use. */
static void journal_covered(struct registry *r)
{
    r->snap_seq = r->seq;
    if (r->j) {
        rj_snapshot_done(r);
    } else if (r->journal_on_disk) {
        if (unlink(r->jfile) == 0 || errno == ENOENT)
            r->journal_on_disk = 0;
    }
}

int reg_save(struct registry *r, char *err, size_t errsz)
{
    if (!r->dirty) {
        if (!r->j && r->journal_on_disk) /* a clean stop right after a save */
            journal_covered(r);
        return 0;
    }
    if (r->j)
        rj_save_attempted(r);
    json_t *files = json_array();
    for (int i = 0; i < r->n; i++) {
        char fp[20], uid[20];
        snprintf(fp, sizeof fp, "%016llx", (unsigned long long)r->e[i].id.fp);
        snprintf(uid, sizeof uid, "%016llx", (unsigned long long)r->e[i].id.uid);
        json_t *o = json_pack("{s:I, s:I, s:s, s:i, s:s, s:I, s:I}",
            "dev", (json_int_t)r->e[i].id.dev,
            "ino", (json_int_t)r->e[i].id.ino, "fp", fp, "fp_len", (int)r->e[i].id.fp_len,
            "uid", uid,
            "offset", (json_int_t)r->e[i].offset, "updated_ms", (json_int_t)r->e[i].updated_ms);
        json_t *jp = json_string(r->e[i].path); /* NULL when not valid UTF-8 */
        const char *pkey = "path";
        if (!jp) {
            char *h = hex_encode(r->e[i].path);
            jp = h ? json_string(h) : NULL;
            free(h);
            pkey = "path_hex";
        }
        /* the *_new calls take their argument even when they fail */
        int bad = !o || !jp;
        if (!bad && r->e[i].input) {
            /* not UTF-8 (a hostile section name cannot get here: config keys are checked,
             * but be safe): left out, the entry then falls back to matching by name */
            json_t *ji = json_string(r->e[i].input);
            if (ji)
                bad = json_object_set_new(o, "input", ji) != 0;
        }
        if (!bad) {
            bad = json_object_set_new(o, pkey, jp) != 0;
            jp = NULL;
        }
        if (!bad) {
            bad = json_array_append_new(files, o) != 0;
            o = NULL;
        }
        if (bad) {
            json_decref(o);
            json_decref(jp);
            json_decref(files);
            snprintf(err, errsz, "out of memory");
            METRIC_ADD(lf_metrics.registry_errors, 1);
            return -1;
        }
    }
    json_t *root = json_pack("{s:i, s:I, s:o}", "version", 1, "journal_seq", (json_int_t)r->seq,
                             "files", files);
    if (root && r->caught_up_ms > 0 &&
        json_object_set_new(root, "caught_up_ms", json_integer((json_int_t)r->caught_up_ms)) != 0) {
        json_decref(root);
        root = NULL;
    }
    char *text = root ? json_dumps(root, JSON_INDENT(1)) : NULL;
    json_decref(root);
    if (!text) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", r->file);
    int rc = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            goto out;
        }
        done += (size_t)w;
    }
    if (write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
        snprintf(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    close(fd);
    if (rename(tmp, r->file) != 0) {
        snprintf(err, errsz, "cannot rename %s over %s: %s", tmp, r->file, strerror(errno));
        unlink(tmp);
        goto out;
    }
    int dfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    r->dirty = 0;
    journal_covered(r);
    r->set_failed = 0;
    METRIC_ADD(lf_metrics.registry_writes, 1);
    rc = 0;
out:
    if (rc != 0)
        METRIC_ADD(lf_metrics.registry_errors, 1);
    free(text);
    return rc;
}
