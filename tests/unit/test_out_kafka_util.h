/*
 * test_out_kafka_util.h - fixtures shared by the Kafka output's unit tests
 * (test_out_kafka.c: delivery and acks; test_out_kafka_dead.c: dead letters;
 * test_out_kafka_topic.c: topic templates and names; test_out_kafka_conf.c: check and
 * test-output): librdkafka's mock cluster in the test's own process, a fake core whose
 * ack() counts per batch, numbered batches built through the real batch_add(), config
 * through the real table, and a consumer that reads every partition back.
 * Single-threaded apart from librdkafka's own threads.
 */
#ifndef TEST_OUT_KAFKA_UTIL_H
#define TEST_OUT_KAFKA_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/base/log.h"
#include "outputs/kafka_int.h"

extern const struct output_desc out_kafka_desc;


/* ---- fixtures ---- */

static const struct fkey *FK_SERVICE __attribute__((unused));
static rd_kafka_t *mock_rk __attribute__((unused));
static rd_kafka_mock_cluster_t *mc __attribute__((unused));
static const char *boot __attribute__((unused));
static char tmpdir[64] __attribute__((unused));

#define MAXB 256
static struct {
    struct event_batch *b;
    int acks;
} acked[MAXB] __attribute__((unused));
static int nack __attribute__((unused));

static inline void fake_ack(const struct output_env *env, struct event_batch *b)
{
    (void)env;
    for (int i = 0; i < nack; i++)
        if (acked[i].b == b) {
            acked[i].acks++;
            return;
        }
    assert_true(nack < MAXB);
    acked[nack].b = b;
    acked[nack++].acks = 1;
}

static inline int acks_of(struct event_batch *b)
{
    for (int i = 0; i < nack; i++)
        if (acked[i].b == b)
            return acked[i].acks;
    return 0;
}

static struct out_metrics metrics __attribute__((unused));
static struct event_source src __attribute__((unused)) = {.input = "in", .path = "/var/log/app.log"};
static struct output_env env __attribute__((unused)) = {
    .name = "k", .type = "kafka", .host_name = "host1", .shutdown_timeout_ms = 5000,
    .m = &metrics, .ack = fake_ack,
};

static inline int64_t mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Events "line N lorem ipsum" for N in [first, first+count); service.name = svc[i % nsvc]
 * (NULL entry = no field). A message of `big` bytes replaces event number `bigat`. */
static inline struct event_batch *make_batch_n(int first, int count, const char *const *svc,
                                        const size_t *svclen, int nsvc, int bigat, size_t big)
{
    struct event_batch *b = batch_new(&src, "host1", (uint32_t)count);
    struct event_builder eb;
    eb_init(&eb);
    struct event_base base = {.host_name = "host1", .path = src.path};
    static char line[100000];
    for (int i = 0; i < count; i++) {
        eb_reset(&eb);
        if (svc && svc[i % nsvc])
            eb_add_str(&eb, FK_SERVICE, svc[i % nsvc],
                       svclen ? svclen[i % nsvc] : strlen(svc[i % nsvc]));
        int n = snprintf(line, sizeof line, "line %d lorem ipsum dolor sit amet", first + i);
        size_t len = (size_t)n;
        if (first + i == bigat && big > (size_t)n && big <= sizeof line) {
            memset(line + n, 'x', big - (size_t)n);
            len = big;
        }
        assert_int_equal(batch_add(b, &base, &eb, line, len, (uint64_t)(first + i) * 100,
                                   (uint64_t)(first + i + 1) * 100, 1764133262000), 0);
    }
    eb_free(&eb);
    return b;
}

static inline struct event_batch *make_batch(int first, int count, const char *const *svc, int nsvc,
                                      int bigat, size_t big)
{
    return make_batch_n(first, count, svc, NULL, nsvc, bigat, big);
}

/* Loads an [output kafka] section and fills a kafka_conf through the real table. */
struct loaded {
    struct conf *c;
    struct kafka_conf kc;
    struct conf_errs errs;
};

static inline void load(struct loaded *l, const char *extra)
{
    char text[4096];
    snprintf(text, sizeof text, "[output kafka]\nbrokers = %s\n%s\n", boot, extra);
    memset(l, 0, sizeof *l);
    l->c = conf_load_string("t.conf", text, &l->errs);
    assert_non_null(l->c);
    conf_apply(l->c, &l->c->s[0], kafka_conf_keys, &l->kc, &l->errs);
    conf_report_unused(l->c, &l->c->s[0], &l->errs);
    out_kafka_desc.check(&l->kc, l->c, &l->c->s[0], &l->errs);
}

static inline void unload(struct loaded *l)
{
    conf_free_target(kafka_conf_keys, &l->kc);
    conf_errs_free(&l->errs);
    conf_free(l->c);
}

static inline void *start(struct loaded *l)
{
    for (int i = 0; i < l->errs.n; i++)
        fprintf(stderr, "%s\n", l->errs.msg[i]);
    assert_int_equal(l->errs.n, 0);
    char err[512] = "";
    void *st = out_kafka_desc.init(&l->kc, &env, err, sizeof err);
    if (!st)
        fprintf(stderr, "init: %s\n", err);
    assert_non_null(st);
    return st;
}

/* Ticks until `want` batches are acked or ms pass. */
static inline void drive(void *st, int want, long ms)
{
    int64_t end = mono() + ms;
    while (nack < want && mono() < end) {
        long t = out_kafka_desc.tick(st);
        usleep((useconds_t)((t > 20 ? 20 : t < 1 ? 1 : t) * 1000));
    }
}

/* Consumes every partition of topic from the beginning; fills seen[n] with how many times
 * "line n" arrived and checks the numbers are increasing within each partition. */
static inline int consume(const char *topic, int *seen, int max, int *in_order)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", boot, err, sizeof err);
    rd_kafka_conf_set(c, "enable.partition.eof", "true", err, sizeof err);
    rd_kafka_conf_set(c, "group.id", "t", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    assert_non_null(rk);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md;
    assert_int_equal(rd_kafka_metadata(rk, 0, rkt, &md, 5000), 0);
    int np = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_topic_partition_list_t *pl = rd_kafka_topic_partition_list_new(np);
    for (int p = 0; p < np; p++)
        rd_kafka_topic_partition_list_add(pl, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(rk, pl), 0);
    rd_kafka_topic_partition_list_destroy(pl);
    int eofs = 0, total = 0;
    int last[64];
    for (int p = 0; p < 64; p++)
        last[p] = -1;
    *in_order = 1;
    int64_t end = mono() + 15000;
    while (eofs < np && mono() < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eofs++;
        } else if (!m->err) {
            const char *p = memmem(m->payload, m->len, "\"message\":\"line ", 16);
            assert_non_null(p);
            int n = atoi(p + 16);
            if (n >= 0 && n < max)
                seen[n]++;
            if (m->partition < 64) {
                if (n <= last[m->partition])
                    *in_order = 0;
                last[m->partition] = n;
            }
            total++;
        }
        rd_kafka_message_destroy(m);
    }
    assert_int_equal(eofs, np);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return total;
}

static inline int group_setup(void **state)
{
    (void)state;
    fkey_init_builtin();
    FK_SERVICE = fkey_intern("service.name");
    fkey_freeze();
    lf_log_level = LF_WARN;
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "log_level", "2", err, sizeof err);
    mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    mc = rd_kafka_mock_cluster_new(mock_rk, 1);
    boot = rd_kafka_mock_cluster_bootstraps(mc);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lfkafka.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    env.data_dir = tmpdir;
    return 0;
}

static inline int group_teardown(void **state)
{
    (void)state;
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mock_rk);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return 1;
    fkey_reset();
    return 0;
}

static inline int test_setup(void **state)
{
    (void)state;
    nack = 0;
    memset(&metrics, 0, sizeof metrics);
    return 0;
}


static inline char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[200000];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static inline int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}


static inline int errs_contain(const struct conf_errs *e, const char *s)
{
    for (int i = 0; i < e->n; i++)
        if (strstr(e->msg[i], s))
            return 1;
    return 0;
}


/* Sends n batches of `per` numbered events each, numbers from `first` on, into b[0..n). */
static inline void send_batches(void *st, struct event_batch **b, int n, int first, int per)
{
    for (int i = 0; i < n; i++) {
        b[i] = make_batch(first + i * per, per, NULL, 0, -1, 0);
        out_kafka_desc.send(st, b[i]);
    }
}

/* Each of b[0..n) was acked exactly once. */
static inline void assert_acked_once(struct event_batch **b, int n)
{
    for (int i = 0; i < n; i++)
        assert_int_equal(acks_of(b[i]), 1);
}

static inline void free_batches(struct event_batch **b, int n)
{
    for (int i = 0; i < n; i++)
        batch_free(b[i]);
}

/* Ticks for ms, whatever is acked meanwhile (an outage that must hold the acks). */
static inline void tick_for(void *st, long ms)
{
    int64_t end = mono() + ms;
    while (mono() < end) {
        out_kafka_desc.tick(st);
        usleep(20000);
    }
}

/* Topic holds "line 0" .. "line n-1" exactly once each, in order within each partition. */
static inline void assert_topic_has_each_once_in_order(const char *topic, int n)
{
    int *seen = calloc((size_t)n, sizeof *seen);
    assert_non_null(seen);
    int in_order;
    assert_int_equal(consume(topic, seen, n, &in_order), n);
    for (int i = 0; i < n; i++)
        assert_int_equal(seen[i], 1);
    assert_true(in_order);
    free(seen);
}

#endif
