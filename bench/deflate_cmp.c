/*
 * deflate_cmp.c - zlib against libdeflate on logferry's own payloads (issue 15): the
 * Logstash output's windows (2048 events as J frames, zlib format) and the Elasticsearch
 * output's _bulk bodies (5 MiB of NDJSON, gzip format), each at the levels we would use.
 * Input: an NDJSON file of events (the file output's, from bench/deflate_cmp.sh). Prints,
 * per codec and level, MB/s of input compressed, CPU-seconds per million events and the
 * compressed size as a share of the input. Single-threaded; built by deflate_cmp.sh.
 */
#include <libdeflate.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct chunk {
    const char *p;
    size_t n;
    size_t events;
};

static int zlib_one(const struct chunk *c, unsigned char *out, size_t cap, int level, int gzip,
                    size_t *olen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, gzip ? 31 : 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    z.next_in = (Bytef *)c->p;
    z.avail_in = (uInt)c->n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *olen = z.total_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}

static void run(const char *what, struct chunk *ch, size_t nch, size_t events, size_t bytes,
                int gzip, int level, int use_libdeflate, int reps)
{
    size_t cap = 0;
    for (size_t i = 0; i < nch; i++)
        if (ch[i].n > cap)
            cap = ch[i].n;
    cap = cap + cap / 8 + 4096;
    unsigned char *out = malloc(cap);
    struct libdeflate_compressor *ld = use_libdeflate ? libdeflate_alloc_compressor(level) : NULL;
    double best = 1e9;
    size_t total_out = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = cpu_s();
        total_out = 0;
        for (size_t i = 0; i < nch; i++) {
            size_t olen = 0;
            if (ld) {
                olen = gzip ? libdeflate_gzip_compress(ld, ch[i].p, ch[i].n, out, cap)
                            : libdeflate_zlib_compress(ld, ch[i].p, ch[i].n, out, cap);
                if (!olen)
                    abort();
            } else if (zlib_one(&ch[i], out, cap, level, gzip, &olen) != 0) {
                abort();
            }
            total_out += olen;
        }
        double t = cpu_s() - t0;
        if (t < best)
            best = t;
    }
    printf("%-26s %-10s level %d: %7.1f MB/s  %5.2f CPU-s per million events  size %4.1f%%\n",
           what, ld ? "libdeflate" : "zlib", level, bytes / best / 1e6, best * 1e6 / events,
           100.0 * total_out / bytes);
    if (ld)
        libdeflate_free_compressor(ld);
    free(out);
}

/* Cuts buf into chunks of `per` events (or `maxbytes`), optionally as J frames. */
static size_t cut(const char *buf, size_t n, size_t per, size_t maxbytes, int jframes,
                  struct chunk **out, char **store)
{
    size_t cap = 16, nch = 0;
    struct chunk *ch = malloc(cap * sizeof *ch);
    char *s = malloc(n + (n / 40 + 1) * 10 + 1); /* room for 10-byte J headers */
    size_t w = 0, i = 0;
    while (i < n) {
        if (nch == cap)
            ch = realloc(ch, (cap *= 2) * sizeof *ch);
        ch[nch] = (struct chunk){s + w, 0, 0};
        size_t start = w;
        while (i < n && ch[nch].events < per && w - start < maxbytes) {
            const char *nl = memchr(buf + i, '\n', n - i);
            size_t len = nl ? (size_t)(nl - (buf + i)) + 1 : n - i;
            if (jframes) {
                uint32_t seq = (uint32_t)ch[nch].events + 1, l = (uint32_t)len - 1;
                unsigned char h[10] = {'2', 'J', seq >> 24, seq >> 16, seq >> 8, seq,
                                       l >> 24, l >> 16, l >> 8, l};
                memcpy(s + w, h, 10);
                w += 10;
                memcpy(s + w, buf + i, len - 1);
                w += len - 1;
            } else {
                memcpy(s + w, buf + i, len);
                w += len;
            }
            i += len;
            ch[nch].events++;
        }
        ch[nch].n = w - start;
        nch++;
    }
    *out = ch;
    *store = s;
    return nch;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: deflate_cmp EVENTS.ndjson [reps]\n");
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    FILE *f = fopen(argv[1], "rb");
    if (!f)
        return 1;
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(n);
    if (fread(buf, 1, n, f) != n)
        return 1;
    fclose(f);
    size_t events = 0;
    for (size_t i = 0; i < n; i++)
        events += buf[i] == '\n';
    struct chunk *ch;
    char *s;
    size_t nch = cut(buf, n, 2048, SIZE_MAX, 1, &ch, &s);
    size_t bytes = 0;
    for (size_t i = 0; i < nch; i++)
        bytes += ch[i].n;
    printf("%zu events, %zu windows of 2048 (J frames, %.1f MB)\n", events, nch, bytes / 1e6);
    int lv[] = {1, 3, 6};
    for (int k = 0; k < 3; k++) {
        run("logstash window (zlib)", ch, nch, events, bytes, 0, lv[k], 0, reps);
        run("logstash window (zlib)", ch, nch, events, bytes, 0, lv[k], 1, reps);
    }
    free(ch);
    free(s);
    nch = cut(buf, n, SIZE_MAX, 5u << 20, 0, &ch, &s);
    bytes = 0;
    for (size_t i = 0; i < nch; i++)
        bytes += ch[i].n;
    printf("%zu _bulk bodies of <= 5 MiB (%.1f MB; the action lines are left out)\n", nch,
           bytes / 1e6);
    for (int k = 0; k < 3; k++) {
        run("es _bulk body (gzip)", ch, nch, events, bytes, 1, lv[k], 0, reps);
        run("es _bulk body (gzip)", ch, nch, events, bytes, 1, lv[k], 1, reps);
    }
    free(ch);
    free(s);
    free(buf);
    return 0;
}
