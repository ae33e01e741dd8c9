/*
 * migrate_registry.c - Filebeat's registry (data/registry/filebeat) -> our registry.json, so
 * the first start resumes where Filebeat stopped.
 *
 * Filebeat's memlog store is the newest checkpoint `<txid>.json` (an array of {"_key", ...})
 * plus the operations in log.json after it: pairs of lines {"op":"set"|"remove","id":N} and
 * {"k":KEY,"v":VALUE}, applied while the ids follow each other (a torn last operation ends the
 * replay, as in Filebeat). Keys name the input and the file identity:
 *   filestream::<id>::native::<inode>-<device>      cursor.offset, meta.source
 *   filestream::<id>::fingerprint::<sha256 hex>      (Filebeat 8.x/9.x default)
 *   filebeat::logs::[<hash>-]native::<inode>-<device> offset, source (log and container)
 * A Filebeat entry is carried over only to a file that still exists, matches a converted
 * input (paths, not excluded) and has the same identity: device and inode, or the SHA-256 of
 * the same bytes. Anything else is reported and the file is read from its start (a file may
 * be shipped twice, never skipped). Several entries for one file (container streams, a
 * take-over) resume at the lowest offset for the same reason. Single-threaded (migrate).
 */
#include "agent/migrate.h"
#include "agent/agent.h"
#include "agent/registry.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The report quotes paths and keys out of Filebeat's registry and the file system: file names
 * are chosen by whoever writes the logs, so control characters (terminal escapes) are shown
 * as '?'. */
static void rep(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rep(FILE *f, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    for (char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\n')
            *p = '?';
        else if (*p == 0x7f)
            *p = '?';
    fputs(line, f);
}

struct cand { /* a file some converted input reads */
    char *path;
    struct stat st;
    uint64_t best;   /* lowest Filebeat offset found for it */
    int have;
    int input;       /* index in m->in */
    /* fingerprint of the last (offset, length) asked for: one read per file, not per entry */
    uint32_t fp_off, fp_len;
    int fp_state;    /* 0 not computed, 1 fp_hex valid, -1 too short or unreadable */
    char fp_hex[65];
};

static int excluded(const struct mig_fb_input *in, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (int i = 0; i < in->nexclude; i++)
        if (fnmatch(in->exclude[i], strchr(in->exclude[i], '/') ? path : base, 0) == 0)
            return 1;
    return 0;
}

static int collect(const struct migrate *m, struct cand **out, int *nout)
{
    for (int i = 0; i < m->nin; i++)
        for (int p = 0; p < m->in[i].npaths; p++) {
            glob_t g;
            if (glob(m->in[i].paths[p], 0, NULL, &g) != 0)
                continue;
            for (size_t k = 0; k < g.gl_pathc; k++) {
                struct stat st;
                if (stat(g.gl_pathv[k], &st) != 0 || !S_ISREG(st.st_mode) ||
                    excluded(&m->in[i], g.gl_pathv[k]))
                    continue;
                int dup = 0;
                for (int j = 0; j < *nout; j++)
                    dup |= (*out)[j].st.st_dev == st.st_dev && (*out)[j].st.st_ino == st.st_ino;
                if (dup)
                    continue;
                struct cand *nc = realloc(*out, (size_t)(*nout + 1) * sizeof *nc);
                if (!nc) {
                    globfree(&g);
                    return -1;
                }
                *out = nc;
                memset(&nc[*nout], 0, sizeof nc[*nout]);
                nc[*nout].path = strdup(g.gl_pathv[k]);
                nc[*nout].st = st;
                nc[*nout].input = i;
                if (!nc[*nout].path) {
                    globfree(&g);
                    return -1;
                }
                (*nout)++;
            }
            globfree(&g);
        }
    return 0;
}

/* Newest checkpoint + log.json replay into one object KEY -> value. */
static json_t *load_store(const char *dir, char *err, size_t errsz)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/meta.json", dir);
    json_t *meta = json_load_file(path, 0, NULL);
    const char *ver = json_string_value(json_object_get(meta, "version"));
    if (meta && (!ver || strcmp(ver, "1") != 0)) {
        snprintf(err, errsz, "%s: registry version %s is not supported (expected \"1\")", path,
                 ver ? ver : "?");
        json_decref(meta);
        return NULL;
    }
    json_decref(meta);
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errsz, "cannot open %s: %s", dir, strerror(errno));
        return NULL;
    }
    unsigned long long txid = 0;
    int have = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char *end;
        unsigned long long id = strtoull(de->d_name, &end, 10);
        if (end != de->d_name && strcmp(end, ".json") == 0 && (!have || id > txid)) {
            txid = id;
            have = 1;
        }
    }
    closedir(d);
    json_t *state = json_object();
    if (!state) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    if (have) {
        snprintf(path, sizeof path, "%s/%llu.json", dir, txid);
        json_error_t je;
        json_t *arr = json_load_file(path, 0, &je);
        if (!json_is_array(arr)) {
            snprintf(err, errsz, "%s:%d: %s", path, je.line, arr ? "not an array" : je.text);
            json_decref(arr);
            json_decref(state);
            return NULL;
        }
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e) {
            const char *k = json_string_value(json_object_get(e, "_key"));
            if (!k)
                continue;
            json_t *v = json_deep_copy(e);
            json_object_del(v, "_key");
            json_object_set_new(state, k, v);
        }
        json_decref(arr);
    }
    snprintf(path, sizeof path, "%s/log.json", dir);
    FILE *f = fopen(path, "r");
    if (!f && !have) {
        /* Filebeat 6.x-7.8 kept one data.json: an array of log-input states */
        snprintf(path, sizeof path, "%s/data.json", dir);
        json_t *arr = json_load_file(path, 0, NULL);
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e) {
            json_t *os = json_object_get(e, "FileStateOS");
            json_t *ino = json_object_get(os, "inode"), *dev = json_object_get(os, "device");
            if (!json_is_integer(ino) || !json_is_integer(dev))
                continue;
            char k[96];
            snprintf(k, sizeof k, "filebeat::logs::native::%lld-%lld",
                     (long long)json_integer_value(ino), (long long)json_integer_value(dev));
            json_object_set(state, k, e);
        }
        json_decref(arr);
        return state;
    }
    if (!f)
        return state;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long long expect = txid + 1;
    int first = 1;
    while ((n = getline(&line, &cap, f)) > 0) {
        json_t *act = json_loads(line, 0, NULL);
        const char *op = json_string_value(json_object_get(act, "op"));
        json_int_t id = json_integer_value(json_object_get(act, "id"));
        n = getline(&line, &cap, f);
        json_t *body = n > 0 ? json_loads(line, 0, NULL) : NULL;
        int ok = op && body && json_is_object(body);
        if (ok && (unsigned long long)id <= txid && have) {
            json_decref(act);
            json_decref(body);
            continue; /* older than the checkpoint */
        }
        if (ok && !have && first) /* no checkpoint: the log starts the store */
            expect = (unsigned long long)id;
        ok = ok && (unsigned long long)id == expect;
        if (ok) {
            const char *k = json_string_value(json_object_get(body, "k"));
            if (k && strcmp(op, "set") == 0 && json_object_get(body, "v"))
                json_object_set(state, k, json_object_get(body, "v"));
            else if (k && strcmp(op, "remove") == 0)
                json_object_del(state, k);
            expect++;
            first = 0;
        }
        json_decref(act);
        json_decref(body);
        if (!ok)
            break; /* a torn or out-of-sequence operation ends the log, as in Filebeat */
    }
    free(line);
    fclose(f);
    return state;
}

static int hex_of_file(const char *path, uint32_t off, uint32_t len, char hex[65])
{
    if (len == 0 || len > (1u << 20))
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    unsigned char *b = malloc(len);
    ssize_t got = b ? pread(fd, b, len, off) : -1;
    close(fd);
    if (got != (ssize_t)len) {
        free(b);
        return -1;
    }
    unsigned char h[32];
    lf_sha256(b, len, h);
    free(b);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    return 0;
}

/* The fingerprint settings of the Filebeat input with this id (default 0/1024). */
static void fp_settings(const struct migrate *m, const char *id, size_t idlen, uint32_t *off,
                        uint32_t *len)
{
    *off = 0;
    *len = 1024;
    for (int i = 0; i < m->nin; i++)
        if (strlen(m->in[i].fb_id) == idlen && memcmp(m->in[i].fb_id, id, idlen) == 0) {
            *off = m->in[i].fp_offset;
            *len = m->in[i].fp_length;
        }
}

int mig_registry(const struct migrate *m, const char *fb_dir, const char *data_dir, FILE *rf,
                 char *err, size_t errsz)
{
    char ours[4200];
    snprintf(ours, sizeof ours, "%s/registry.json", data_dir);
    if (access(ours, F_OK) == 0) {
        snprintf(err, errsz, "%s exists: logferry has already run with this data_dir; not "
                 "overwriting its registry", ours);
        return -1;
    }
    json_t *state = load_store(fb_dir, err, errsz);
    if (!state)
        return -1;
    struct cand *c = NULL;
    int nc = 0, carried = 0, rc = -1;
    struct registry *r = NULL;
    if (collect(m, &c, &nc) != 0) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(state, key, v) {
        int fs = strncmp(key, "filestream::", 12) == 0;
        int lg = strncmp(key, "filebeat::logs::", 16) == 0;
        if (!fs && !lg) {
            rep(rf, "registry: %s: not a file state (skipped)\n", key);
            continue;
        }
        json_t *ttl = json_object_get(v, "ttl");
        if (json_is_integer(ttl) && (json_integer_value(ttl) == 0 ||
                                     json_integer_value(ttl) == -2)) {
            rep(rf, "registry: %s: removed or taken over by another input in Filebeat "
                    "(skipped)\n", key);
            continue;
        }
        const char *src = fs ? json_string_value(json_object_get(json_object_get(v, "meta"),
                                                                 "source"))
                             : json_string_value(json_object_get(v, "source"));
        json_t *offj = fs ? json_object_get(json_object_get(v, "cursor"), "offset")
                          : json_object_get(v, "offset");
        if (!json_is_integer(offj) || json_integer_value(offj) < 0) {
            rep(rf, "registry: %s: no acknowledged offset: %s is read from its start\n", key,
                    src ? src : "the file");
            continue;
        }
        uint64_t off = (uint64_t)json_integer_value(offj);
        const char *nat = strstr(key, "native::");
        const char *fpk = strstr(key, "::fingerprint::");
        struct cand *hit = NULL;
        if (nat) {
            unsigned long long ino, dev;
            if (sscanf(nat + 8, "%llu-%llu", &ino, &dev) != 2) {
                rep(rf, "registry: %s: unreadable identity (skipped)\n", key);
                continue;
            }
            for (int i = 0; i < nc && !hit; i++)
                if ((unsigned long long)c[i].st.st_ino == ino &&
                    (unsigned long long)c[i].st.st_dev == dev)
                    hit = &c[i];
        } else if (fpk && fs) {
            const char *hex = fpk + 15;
            uint32_t fo, fl;
            fp_settings(m, key + 12, (size_t)(fpk - key - 12), &fo, &fl);
            for (int i = 0; i < nc && !hit; i++) {
                if (c[i].fp_state == 0 || c[i].fp_off != fo || c[i].fp_len != fl) {
                    c[i].fp_off = fo;
                    c[i].fp_len = fl;
                    c[i].fp_state = (uint64_t)c[i].st.st_size >= (uint64_t)fo + fl &&
                                    hex_of_file(c[i].path, fo, fl, c[i].fp_hex) == 0 ? 1 : -1;
                }
                if (c[i].fp_state == 1 && strncmp(c[i].fp_hex, hex, 64) == 0)
                    hit = &c[i];
            }
        } else {
            rep(rf, "registry: %s: identity kind not supported (only native and "
                    "fingerprint): %s is read from its start\n", key, src ? src : "the file");
            continue;
        }
        if (!hit) {
            rep(rf, "registry: %s: %s no longer exists with the same identity or is not "
                    "read by the converted inputs (skipped)\n", key, src ? src : "the file");
            continue;
        }
        if (off > (uint64_t)hit->st.st_size) {
            rep(rf, "registry: %s: %s is shorter (%lld bytes) than Filebeat's offset %llu "
                    "(truncated since): read from its start\n", key, hit->path,
                    (long long)hit->st.st_size, (unsigned long long)off);
            hit->have = -1;
            continue;
        }
        if (hit->have == 1 && off != hit->best)
            rep(rf, "registry: %s: several Filebeat entries (offsets %llu and %llu); "
                    "resuming at the lower one, so nothing is skipped\n", hit->path,
                    (unsigned long long)hit->best, (unsigned long long)off);
        if (hit->have == 0 || (hit->have == 1 && off < hit->best)) {
            hit->best = off;
            hit->have = 1;
        }
        if (src && strcmp(src, hit->path) != 0)
            rep(rf, "registry: %s: Filebeat read it as %s; found (same identity) at %s\n",
                    key, src, hit->path);
    }
    r = reg_open(data_dir, err, errsz);
    if (!r)
        goto out;
    for (int i = 0; i < nc; i++) {
        if (c[i].have == 0)
            rep(rf, "registry: %s: no matching Filebeat entry: read from its start ([input %s])\n",
                c[i].path, m->in[c[i].input].name);
        if (c[i].have != 1)
            continue;
        int fd = open(c[i].path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            rep(rf, "registry: %s: cannot open: %s (read from its start)\n", c[i].path,
                    strerror(errno));
            continue;
        }
        struct file_id id = {(uint64_t)c[i].st.st_dev, (uint64_t)c[i].st.st_ino, 0, 0, 0};
        uint32_t want = c[i].st.st_size < 1024 ? (uint32_t)c[i].st.st_size : 1024;
        int ok = tail_fingerprint(fd, want, &id.fp, &id.fp_len) == 0;
        close(fd);
        if (!ok || reg_set(r, c[i].path, &id, c[i].best) != 0) {
            snprintf(err, errsz, "%s: cannot fingerprint or record it", c[i].path);
            goto out;
        }
        rep(rf, "registry: %s: resumes at byte %llu of %lld ([input %s])\n", c[i].path,
                (unsigned long long)c[i].best, (long long)c[i].st.st_size, m->in[c[i].input].name);
        carried++;
    }
    r->dirty = 1;
    if (reg_save(r, err, errsz) != 0)
        goto out;
    /* Run as root for a service that runs as its own user (the package's logferry): the
     * registry must belong to data_dir's owner, or the agent could not replace it. */
    struct stat dst;
    if (geteuid() == 0 && stat(data_dir, &dst) == 0 && dst.st_uid != 0 &&
        chown(ours, dst.st_uid, dst.st_gid) != 0) {
        snprintf(err, errsz, "cannot give %s to data_dir's owner (uid %u): %s", ours,
                 (unsigned)dst.st_uid, strerror(errno));
        goto out;
    }
    rc = carried;
out:
    reg_close(r);
    for (int i = 0; i < nc; i++)
        free(c[i].path);
    free(c);
    json_decref(state);
    return rc;
}
