/*
 * spool_bench.c - the disk spool's own cost, for bench/spool.sh: events written to a spool
 * (grouped, one fdatasync per group) and read back and acknowledged, against the same
 * batches built and freed without a spool, in one invocation.
 *
 *   spool_bench -d DIR [-n EVENTS] [-b BATCH] [-l JSON_BYTES] [-g GROUP]
 *
 * Prints one line of key=value: events, baseline CPU seconds, spool CPU seconds (write+read),
 * events/s through the spool (wall clock), the extra CPU seconds per million events, and the
 * peak bytes on disk. Single-threaded: the writer, the reader and the acks run in turn, as
 * the agent's spool thread and output thread would, without their hand-offs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "agent/spool.h"

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct event_source src = {.input = "bench", .path = "/var/log/bench.log",
                                  .id = {.dev = 1, .ino = 2, .uid = 3}};

/* A batch of n events whose JSON is `json` (the same bytes each time: copying is the cost). */
static struct event_batch *make(const char *json, size_t len, uint32_t n, uint64_t first)
{
    struct event_batch *b = batch_new(&src, "bench-host", n);
    for (uint32_t i = 0; i < n; i++) {
        struct event *ev = &b->ev[i];
        memset(ev, 0, sizeof *ev);
        ev->offset = (first + i) * len;
        ev->end = ev->offset + len;
        ev->ts_ms = 1700000000000LL + (int64_t)(first + i);
        ev->json = json;
        ev->json_len = (uint32_t)len;
    }
    b->n = n;
    return b;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    long events = 2000000, batch = 2048, jlen = 300, group = 16;
    int c;
    while ((c = getopt(argc, argv, "d:n:b:l:g:")) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'n': events = atol(optarg); break;
        case 'b': batch = atol(optarg); break;
        case 'l': jlen = atol(optarg); break;
        case 'g': group = atol(optarg); break;
        default: return 2;
        }
    }
    if (!dir || events < 1 || batch < 1 || jlen < 8 || group < 1) {
        fprintf(stderr, "usage: spool_bench -d DIR [-n EVENTS] [-b BATCH] [-l JSON_BYTES] [-g GROUP]\n");
        return 2;
    }
    char *json = malloc((size_t)jlen);
    for (long i = 0; i < jlen - 1; i++)
        json[i] = (char)('a' + i % 26);
    json[jlen - 1] = '\n';

    /* baseline: the batches alone */
    double c0 = cpu_s();
    volatile uint64_t sink = 0;
    for (long done = 0; done < events; done += batch) {
        struct event_batch *b = make(json, (size_t)jlen, (uint32_t)batch, (uint64_t)done);
        sink += b->n;
        batch_free(b);
    }
    double base = cpu_s() - c0;

    struct spool *sp;
    char err[256] = "";
    struct spool_conf sc = {.max_bytes = (uint64_t)8 << 30};
    if (spool_open(&sp, dir, "bench", &sc, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double w0 = wall_s();
    c0 = cpu_s();
    uint64_t read_back = 0, peak = 0;
    long done = 0;
    while (done < events) {
        for (long g = 0; g < group && done < events; g++, done += batch) {
            struct event_batch *b = make(json, (size_t)jlen, (uint32_t)batch, (uint64_t)done);
            if (spool_append(sp, b, 1, NULL) != 0) {
                fprintf(stderr, "append failed\n");
                return 1;
            }
            batch_free(b);
        }
        if (spool_sync(sp) != 0) {
            fprintf(stderr, "sync failed\n");
            return 1;
        }
        struct spool_stats st;
        spool_get_stats(sp, &st);
        if (st.bytes > peak)
            peak = st.bytes;
        struct event_batch *r;
        while ((r = spool_next(sp))) {
            read_back += r->n;
            spool_ack(sp, r);
        }
    }
    spool_maintain(sp);
    double spool_cpu = cpu_s() - c0, wall = wall_s() - w0;
    spool_close(sp, 0);
    if (read_back != (uint64_t)done) {
        fprintf(stderr, "read back %llu of %ld events\n", (unsigned long long)read_back, done);
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("events=%ld baseline_cpu_s=%.3f spool_cpu_s=%.3f spool_events_per_s=%.0f "
           "extra_cpu_s_per_million=%.3f peak_disk_bytes=%llu peak_rss_kib=%ld\n",
           done, base, spool_cpu, (double)done / wall, (spool_cpu - base) * 1e6 / (double)done,
           (unsigned long long)peak, ru.ru_maxrss);
    free(json);
    (void)sink;
    return 0;
}
