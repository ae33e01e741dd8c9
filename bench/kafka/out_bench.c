/*
 * out_bench.c - the Kafka output alone, without tail or parsers: builds batches of raw lines
 * (as the tail thread would, message only) and pushes them through out_kafka_desc into a
 * broker (mock_kafka), keeping at most INFLIGHT batches unacked like the pipeline's budget.
 * Prints events/s and CPU-seconds per million, with and without the output (the "build"
 * pass measures what batch building costs, so the difference is the output's own cost).
 *
 *   out_bench BOOTSTRAP TOPIC N LINES_FILE [kafka.X=V ...]
 *
 * Built and run by `bench/kafka.sh N output` against build/liblfcore.a; not part of the
 * test suite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "outputs/kafka_int.h"

extern const struct output_desc out_kafka_desc;

#define BATCH 2048
#define INFLIGHT 64

static long inflight;
static struct out_metrics metrics;

static void ack(const struct output_env *env, struct event_batch *b)
{
    (void)env;
    batch_free(b);
    inflight--;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: out_bench BOOTSTRAP TOPIC N LINES_FILE [kafka.X=V ...]\n");
        return 2;
    }
    long n = atol(argv[3]);
    FILE *f = fopen(argv[4], "r");
    if (!f) {
        perror(argv[4]);
        return 1;
    }
    char **lines = NULL;
    size_t nl = 0, cap = 0;
    char buf[65536];
    while (fgets(buf, sizeof buf, f)) {
        buf[strcspn(buf, "\n")] = '\0';
        if (nl == cap) {
            cap = cap ? cap * 2 : 1024;
            lines = realloc(lines, cap * sizeof *lines);
        }
        lines[nl++] = strdup(buf);
    }
    fclose(f);
    if (!nl)
        return 1;
    fkey_init_builtin();
    fkey_freeze();

    char text[8192];
    int len = snprintf(text, sizeof text, "[output kafka]\nbrokers = %s\ntopic = %s\n", argv[1],
                       argv[2]);
    for (int i = 5; i < argc && len < (int)sizeof text - 512; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq)
            len += snprintf(text + len, sizeof text - (size_t)len, "%.*s = %s\n",
                            (int)(eq - argv[i]), argv[i], eq + 1);
    }
    struct conf_errs errs = {0};
    struct conf *c = conf_load_string("bench.conf", text, &errs);
    struct kafka_conf kc = {0};
    conf_apply(c, &c->s[0], kafka_conf_keys, &kc, &errs);
    conf_report_unused(c, &c->s[0], &errs);
    out_kafka_desc.check(&kc, c, &c->s[0], &errs);
    for (int i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.msg[i]);
    if (errs.n)
        return 1;
    struct event_source src = {.input = "bench", .path = "/var/log/nginx/access.log"};
    struct output_env env = {.name = "bench", .type = "kafka", .data_dir = "/tmp",
                             .host_name = "bench", .shutdown_timeout_ms = 10000,
                             .m = &metrics, .ack = ack};
    struct event_base base = {.host_name = "bench", .path = src.path};
    struct event_builder eb;
    eb_init(&eb);

    for (int pass = 0; pass < 2; pass++) {
        int send = pass == 1;
        char err[512];
        void *st = NULL;
        if (send && !(st = out_kafka_desc.init(&kc, &env, err, sizeof err))) {
            fprintf(stderr, "init: %s\n", err);
            return 1;
        }
        double t0 = now(), c0 = cpu();
        uint64_t off = 0;
        for (long i = 0; i < n;) {
            struct event_batch *b = batch_new(&src, "bench", BATCH);
            for (int k = 0; k < BATCH && i < n; k++, i++) {
                const char *l = lines[i % nl];
                size_t ll = strlen(l);
                eb_reset(&eb);
                batch_add(b, &base, &eb, l, ll, off, off + ll + 1, 1764133262000);
                off += ll + 1;
            }
            if (!send) {
                batch_free(b);
                continue;
            }
            inflight++;
            out_kafka_desc.send(st, b);
            while (inflight >= INFLIGHT) {
                long w = out_kafka_desc.tick(st);
                if (inflight >= INFLIGHT && w > 0)
                    usleep((useconds_t)(w > 5 ? 5000 : w * 1000));
            }
        }
        if (send) {
            if (out_kafka_desc.flush(st, 60000) != 0)
                fprintf(stderr, "flush did not confirm everything\n");
            out_kafka_desc.destroy(st);
        }
        double dt = now() - t0, dc = cpu() - c0;
        printf("%s: %ld events in %.2f s = %.0f events/s, %.2f CPU-s per million%s\n",
               send ? "build+kafka" : "build only", n, dt, n / dt, dc / (n / 1e6),
               send ? "" : " (batch building alone)");
        if (send)
            printf("acked %llu, sent %llu, dead %llu, retried %llu\n",
                   (unsigned long long)METRIC_GET(metrics.events_acked),
                   (unsigned long long)METRIC_GET(metrics.events_sent),
                   (unsigned long long)METRIC_GET(metrics.events_dead),
                   (unsigned long long)METRIC_GET(metrics.events_retried));
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS %ld KiB\n", ru.ru_maxrss);
    eb_free(&eb);
    conf_free_target(kafka_conf_keys, &kc);
    conf_free(c);
    return 0;
}
