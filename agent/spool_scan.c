/*
 * spool_scan.c - reading a spool's segments back with damage in them: the replay at start
 * (spool_recover: torn tails cut, damaged records counted and skipped, never fatal) and
 * `logferry check` (spool_check_dir: the same walk, changing nothing).
 *
 * Threads: spool_recover runs in spool_open (the main thread, before the output starts);
 * spool_read_good also serves the reader (the output's thread, under the spool's mutex);
 * spool_check_dir runs in the CLI.
 *
 * Damage is skipped, not fatal: a record whose body fails its CRC is stepped over (its header
 * says how long it is); a header that fails its own CRC is searched past, for the next offset
 * holding a good header and body. Memory stays bounded by one record (SPOOL_REC_MAX) and a
 * 64 KiB search window.
 */
#include "agent/spool_int.h"
#include "agent/base/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void spool_seg_path(const char *dir, uint64_t id, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s/%016" PRIx64 ".seg", dir, id);
}

static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    char *p = buf;
    while (n) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

/* A good record at pos: header parses, fits below limit, body CRC matches. 1 with *h (and
 * *body when asked), 0 not good, -1 read error. *fits says whether the header was good but
 * the body runs past limit (a torn record). */
static int good_at(int fd, uint64_t pos, uint64_t limit, struct spool_hdr *h,
                   struct spool_buf *body, int *fits)
{
    unsigned char hb[SPOOL_HDR_BYTES];
    *fits = 1;
    if (limit - pos < SPOOL_HDR_BYTES) {
        *fits = 0;
        return 0;
    }
    if (pread_all(fd, hb, sizeof hb, pos) < 0)
        return -1;
    if (spool_hdr_parse(hb, h) < 0)
        return 0;
    if (limit - pos - SPOOL_HDR_BYTES < h->len) {
        *fits = 0;
        return 0;
    }
    if (body->cap < h->len) {
        char *nb = realloc(body->p, h->len);
        if (!nb)
            return -1;
        body->p = nb;
        body->cap = h->len;
    }
    if (pread_all(fd, body->p, h->len, pos + SPOOL_HDR_BYTES) < 0)
        return -1;
    return spool_body_ok(h, body->p) ? 1 : 0;
}

int spool_read_good(int fd, uint64_t *off, uint64_t limit, struct spool_hdr *h,
                    struct spool_buf *body, struct spool_damage *dmg)
{
    uint64_t pos = *off;
    if (pos >= limit)
        return 0;
    int fits;
    int r = good_at(fd, pos, limit, h, body, &fits);
    if (r != 0)
        return r;
    if (!fits) { /* a record cut short at the end: a write a crash interrupted */
        dmg->torn = 1;
        return 0;
    }
    /* A well-formed header whose body fails the CRC: step over it; else search on. */
    unsigned char hb[SPOOL_HDR_BYTES];
    struct spool_hdr hh;
    uint64_t next = pos + 1;
    if (pread_all(fd, hb, sizeof hb, pos) == 0 && spool_hdr_parse(hb, &hh) == 0)
        next = pos + SPOOL_HDR_BYTES + hh.len;
    static const unsigned char magic[4] = {'L', 'F', 'S', '1'};
    unsigned char win[65536];
    while (next < limit) {
        size_t n = limit - next < sizeof win ? (size_t)(limit - next) : sizeof win;
        if (pread_all(fd, win, n, next) < 0)
            return -1;
        size_t i = 0;
        for (; i + 4 <= n; i++) {
            if (memcmp(win + i, magic, 4) != 0)
                continue;
            r = good_at(fd, next + i, limit, h, body, &fits);
            if (r < 0)
                return -1;
            if (r == 1) {
                dmg->records++;
                dmg->bytes += next + i - pos;
                *off = next + i;
                return 1;
            }
        }
        if (n < sizeof win)
            break;
        next += n - 3; /* a magic split across windows is seen in the next one */
    }
    /* nothing good after pos: the rest is damage, cut at replay */
    dmg->records++;
    dmg->bytes += limit - pos;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The segment numbers in dir, sorted; *n of them. NULL with *n 0 when none (or no dir). */
static uint64_t *list_segs(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    uint64_t *ids = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *s = e->d_name;
        if (strlen(s) != 20 || strcmp(s + 16, ".seg") != 0 || strspn(s, "0123456789abcdef") != 16)
            continue;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            uint64_t *ni = realloc(ids, nc * sizeof *ni);
            if (!ni)
                break;
            ids = ni;
            cap = nc;
        }
        ids[(*n)++] = strtoull(s, NULL, 16);
    }
    closedir(d);
    if (*n)
        qsort(ids, *n, sizeof *ids, cmp_u64);
    return ids;
}

/* Walks one segment: counts its good records into seg and its damage into dmg; returns
 * where the good data ends (-1 on a read error: nothing is cut then). */
static int64_t walk_seg(int fd, uint64_t size, struct spool_seg *seg, struct spool_damage *dmg)
{
    uint64_t off = 0;
    struct spool_hdr h;
    struct spool_buf body = {0};
    for (;;) {
        int r = spool_read_good(fd, &off, size, &h, &body, dmg);
        if (r <= 0) {
            free(body.p);
            return r < 0 ? -1 : (int64_t)off;
        }
        if (seg->nrec == 0)
            seg->first_ms = h.ms;
        seg->nrec++;
        seg->nev += h.nev;
        off += SPOOL_HDR_BYTES + h.len;
    }
}

int spool_recover(struct spool *sp, char *err, size_t errsz)
{
    size_t n;
    uint64_t *ids = list_segs(sp->dir, &n);
    struct spool_damage total = {0};
    uint64_t torn = 0, segs = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        spool_seg_path(sp->dir, ids[i], path, sizeof path);
        sp->next_id = ids[i] + 1;
        int fd = open(path, O_RDWR | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            LF_LOG(LF_ERROR, "spool", "spool %s: cannot read %s: %s (left alone)", sp->name,
                   path, strerror(errno));
            if (fd >= 0)
                close(fd);
            continue;
        }
        struct spool_seg *seg = calloc(1, sizeof *seg);
        if (!seg) {
            close(fd);
            free(ids);
            snprintf(err, errsz, "out of memory");
            return -1;
        }
        seg->id = ids[i];
        struct spool_damage d = {0};
        int64_t good = walk_seg(fd, (uint64_t)st.st_size, seg, &d);
        if (good < 0) {
            LF_LOG(LF_ERROR, "spool", "spool %s: cannot read %s: %s (left alone)", sp->name,
                   path, strerror(errno));
            close(fd);
            free(seg);
            continue;
        }
        if ((uint64_t)good < (uint64_t)st.st_size && ftruncate(fd, good) != 0)
            LF_LOG(LF_WARN, "spool", "spool %s: cannot cut %s at %" PRId64 ": %s", sp->name,
                   path, good, strerror(errno));
        close(fd);
        total.records += d.records;
        total.bytes += d.bytes;
        torn += d.torn;
        if (seg->nrec == 0) {
            unlink(path);
            free(seg);
            continue;
        }
        seg->bytes = seg->synced = (uint64_t)good;
        seg->nrec_synced = seg->nrec;
        seg->nev_synced = seg->nev;
        seg->sealed = 1;
        seg->recovered = 1;
        if (sp->tail)
            sp->tail->next = seg;
        else
            sp->head = seg;
        sp->tail = seg;
        sp->bytes += seg->bytes;
        sp->unread += seg->nrec;
        sp->recs_live += seg->nrec;
        sp->ev_live += seg->nev;
        segs++;
    }
    free(ids);
    sp->corrupt_records += total.records;
    sp->corrupt_bytes += total.bytes;
    sp->torn_tails += torn;
    if (segs)
        LF_LOG(LF_INFO, "spool", "spool %s: replaying %" PRIu64 " events in %" PRIu64
               " records from %" PRIu64 " segments (%" PRIu64 " bytes)", sp->name, sp->ev_live,
               sp->recs_live, segs, sp->bytes);
    if (total.records || torn)
        LF_LOG(LF_ERROR, "spool", "spool %s: skipped %" PRIu64 " damaged records or stretches "
               "(%" PRIu64 " bytes) and cut %" PRIu64 " torn tails; the good records are "
               "delivered", sp->name, total.records, total.bytes, torn);
    (void)err;
    (void)errsz;
    return 0;
}

int spool_check_dir(const char *dir, FILE *out)
{
    size_t n;
    uint64_t *ids = list_segs(dir, &n);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        spool_seg_path(dir, ids[i], path, sizeof path);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            fprintf(out, "  %s: cannot read: %s\n", path, strerror(errno));
            if (fd >= 0)
                close(fd);
            bad++;
            continue;
        }
        struct spool_seg seg = {0};
        struct spool_damage d = {0};
        int64_t good = walk_seg(fd, (uint64_t)st.st_size, &seg, &d);
        close(fd);
        fprintf(out, "  %s: %" PRIu64 " records, %" PRIu64 " events", path, seg.nrec, seg.nev);
        if (good < 0)
            fprintf(out, ", read error\n");
        else if (d.records || d.torn)
            fprintf(out, ", %" PRIu64 " damaged records or stretches (%" PRIu64 " bytes)%s\n",
                    d.records, d.bytes, d.torn ? ", a torn tail (cut at the next start)" : "");
        else
            fprintf(out, ", ok\n");
        bad += (int)d.records + d.torn + (good < 0);
    }
    free(ids);
    return bad;
}
