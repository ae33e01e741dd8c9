/*
 * test_out_kafka.c - the Kafka output driven directly (init/send/tick/flush/destroy) against
 * librdkafka's mock cluster in this process, with a fake core whose ack() counts per batch.
 * A consumer reads every partition back from the beginning to check what arrived.
 * Single-threaded apart from librdkafka's own threads.
 *
 * floor: outputs
 */
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


/* ---- fixtures ---- */

static const struct fkey *FK_SERVICE;
static rd_kafka_t *mock_rk;
static rd_kafka_mock_cluster_t *mc;
static const char *boot;
static char tmpdir[64];

#define MAXB 256
static struct {
    struct event_batch *b;
    int acks;
} acked[MAXB];
static int nack;

static void fake_ack(const struct output_env *env, struct event_batch *b)
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

static int acks_of(struct event_batch *b)
{
    for (int i = 0; i < nack; i++)
        if (acked[i].b == b)
            return acked[i].acks;
    return 0;
}

static struct out_metrics metrics;
static struct event_source src = {.input = "in", .path = "/var/log/app.log"};
static struct output_env env = {
    .name = "k", .type = "kafka", .host_name = "host1", .shutdown_timeout_ms = 5000,
    .m = &metrics, .ack = fake_ack,
};

static int64_t mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Events "line N lorem ipsum" for N in [first, first+count); service.name = svc[i % nsvc]
 * (NULL entry = no field). A message of `big` bytes replaces event number `bigat`. */
static struct event_batch *make_batch_n(int first, int count, const char *const *svc,
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
        if (first + i == bigat) {
            memset(line + n, 'x', big - (size_t)n);
            len = big;
        }
        assert_int_equal(batch_add(b, &base, &eb, line, len, (uint64_t)(first + i) * 100,
                                   (uint64_t)(first + i + 1) * 100, 1764133262000), 0);
    }
    eb_free(&eb);
    return b;
}

static struct event_batch *make_batch(int first, int count, const char *const *svc, int nsvc,
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

static void load(struct loaded *l, const char *extra)
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

static void unload(struct loaded *l)
{
    conf_free_target(kafka_conf_keys, &l->kc);
    conf_errs_free(&l->errs);
    conf_free(l->c);
}

static void *start(struct loaded *l)
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
static void drive(void *st, int want, long ms)
{
    int64_t end = mono() + ms;
    while (nack < want && mono() < end) {
        long t = out_kafka_desc.tick(st);
        usleep((useconds_t)((t > 20 ? 20 : t < 1 ? 1 : t) * 1000));
    }
}

/* Consumes every partition of topic from the beginning; fills seen[n] with how many times
 * "line n" arrived and checks the numbers are increasing within each partition. */
static int consume(const char *topic, int *seen, int max, int *in_order)
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

static int group_setup(void **state)
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

static int group_teardown(void **state)
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

static int test_setup(void **state)
{
    (void)state;
    nack = 0;
    memset(&metrics, 0, sizeof metrics);
    return 0;
}

/* ---- tests ---- */

static void kafka_delivers_every_event_once_in_order_and_acks_each_batch_once(void **state)
{
    (void)state;
    rd_kafka_mock_topic_create(mc, "t-order", 1, 1);
    struct loaded l;
    load(&l, "topic = t-order\ncompression = lz4");
    void *st = start(&l);
    struct event_batch *b[20];
    for (int i = 0; i < 20; i++) {
        b[i] = make_batch(i * 500, 500, NULL, 0, -1, 0);
        out_kafka_desc.send(st, b[i]);
    }
    drive(st, 20, 15000);
    assert_int_equal(out_kafka_desc.flush(st, 5000), 0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(acks_of(b[i]), 1);
    assert_int_equal(nack, 20);
    assert_int_equal(METRIC_GET(metrics.events_acked), 10000);
    out_kafka_desc.destroy(st);
    static int seen[10000];
    memset(seen, 0, sizeof seen);
    int in_order;
    assert_int_equal(consume("t-order", seen, 10000, &in_order), 10000);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(seen[i], 1);
    assert_true(in_order);
    for (int i = 0; i < 20; i++)
        batch_free(b[i]);
    unload(&l);
}

static void kafka_broker_down_holds_acks_then_delivers_all_after_return(void **state)
{
    (void)state;
    rd_kafka_mock_topic_create(mc, "t-down", 2, 1);
    struct loaded l;
    load(&l, "topic = t-down\nkey = log.file.path");
    void *st = start(&l);
    struct event_batch *first = make_batch(0, 100, NULL, 0, -1, 0);
    out_kafka_desc.send(st, first);
    drive(st, 1, 10000);
    assert_int_equal(acks_of(first), 1);
    rd_kafka_mock_broker_set_down(mc, 1);
    struct event_batch *b[5];
    for (int i = 0; i < 5; i++) {
        b[i] = make_batch(100 + i * 100, 100, NULL, 0, -1, 0);
        out_kafka_desc.send(st, b[i]);
    }
    int64_t end = mono() + 3000;
    while (mono() < end) {
        out_kafka_desc.tick(st);
        usleep(20000);
    }
    assert_int_equal(nack, 1); /* nothing acked while the broker is down */
    rd_kafka_mock_broker_set_up(mc, 1);
    drive(st, 6, 15000);
    assert_int_equal(out_kafka_desc.flush(st, 5000), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(acks_of(b[i]), 1);
    out_kafka_desc.destroy(st);
    static int seen[600];
    memset(seen, 0, sizeof seen);
    int in_order;
    assert_int_equal(consume("t-down", seen, 600, &in_order), 600);
    for (int i = 0; i < 600; i++)
        assert_int_equal(seen[i], 1);
    assert_true(in_order); /* one key: one partition, in file order */
    batch_free(first);
    for (int i = 0; i < 5; i++)
        batch_free(b[i]);
    unload(&l);
}

/* librdkafka's queue holds 50 messages and the broker answers slowly: send() meets
 * QUEUE_FULL again and again, waits, leaves the rest to tick(), and nothing is dropped or
 * reordered. */
static void kafka_full_queue_waits_and_delivers_everything_in_order(void **state)
{
    (void)state;
    rd_kafka_mock_topic_create(mc, "t-full", 1, 1);
    rd_kafka_mock_broker_set_rtt(mc, 1, 50);
    struct loaded l;
    load(&l, "topic = t-full\nkafka.queue.buffering.max.messages = 50\nkafka.linger.ms = 5");
    void *st = start(&l);
    struct event_batch *b[10];
    for (int i = 0; i < 10; i++) {
        b[i] = make_batch(i * 120, 120, NULL, 0, -1, 0);
        out_kafka_desc.send(st, b[i]);
    }
    drive(st, 10, 30000);
    assert_int_equal(out_kafka_desc.flush(st, 10000), 0);
    rd_kafka_mock_broker_set_rtt(mc, 1, 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(acks_of(b[i]), 1);
    assert_int_equal(METRIC_GET(metrics.events_acked), 1200);
    out_kafka_desc.destroy(st);
    static int seen[1200];
    memset(seen, 0, sizeof seen);
    int in_order;
    assert_int_equal(consume("t-full", seen, 1200, &in_order), 1200);
    for (int i = 0; i < 1200; i++)
        assert_int_equal(seen[i], 1);
    assert_true(in_order);
    for (int i = 0; i < 10; i++)
        batch_free(b[i]);
    unload(&l);
}

static void kafka_injected_produce_errors_are_retried_without_loss(void **state)
{
    (void)state;
    rd_kafka_mock_topic_create(mc, "t-err", 1, 1);
    struct loaded l;
    load(&l, "topic = t-err");
    void *st = start(&l);
    rd_kafka_mock_push_request_errors(mc, 0 /* Produce */, 4,
                                      RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                      RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                      RD_KAFKA_RESP_ERR__TRANSPORT);
    struct event_batch *b[4];
    for (int i = 0; i < 4; i++) {
        b[i] = make_batch(i * 250, 250, NULL, 0, -1, 0);
        out_kafka_desc.send(st, b[i]);
    }
    drive(st, 4, 20000);
    assert_int_equal(out_kafka_desc.flush(st, 5000), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(acks_of(b[i]), 1);
    out_kafka_desc.destroy(st);
    static int seen[1000];
    memset(seen, 0, sizeof seen);
    int in_order;
    assert_int_equal(consume("t-err", seen, 1000, &in_order), 1000);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(seen[i], 1); /* idempotence: retries add no duplicates */
    assert_true(in_order);
    for (int i = 0; i < 4; i++)
        batch_free(b[i]);
    unload(&l);
}

static char *slurp(const char *path)
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

static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

static void kafka_oversized_event_goes_to_dead_letter_and_the_rest_flows(void **state)
{
    (void)state;
    rd_kafka_mock_topic_create(mc, "t-big", 1, 1);
    struct loaded l;
    load(&l, "topic = t-big\nkafka.message.max.bytes = 5000");
    void *st = start(&l);
    struct event_batch *b = make_batch(0, 50, NULL, 0, 7, 20000);
    out_kafka_desc.send(st, b);
    drive(st, 1, 10000);
    assert_int_equal(acks_of(b), 1);
    assert_int_equal(METRIC_GET(metrics.events_dead), 1);
    assert_int_equal(METRIC_GET(metrics.events_acked), 49);
    out_kafka_desc.destroy(st);
    char path[256];
    snprintf(path, sizeof path, "%s/dead-letter/kafka-k.ndjson", tmpdir);
    char *dl = slurp(path);
    assert_non_null(dl);
    assert_int_equal(count_lines(dl), 1);
    assert_non_null(strstr(dl, "\"reason\":\"message too large\""));
    assert_non_null(strstr(dl, "\"topic\":\"t-big\""));
    assert_non_null(strstr(dl, "\"event\":{"));
    assert_non_null(strstr(dl, "\"message\":\"line 7 lorem"));
    unlink(path);
    static int seen[50];
    memset(seen, 0, sizeof seen);
    int in_order;
    assert_int_equal(consume("t-big", seen, 50, &in_order), 49);
    for (int i = 0; i < 50; i++)
        assert_int_equal(seen[i], i == 7 ? 0 : 1);
    batch_free(b);
    unload(&l);
}

/* The broker refuses a Produce request for a reason retrying cannot fix: its messages go to
 * the dead-letter file (delivery-report path), later ones flow. (The mock cannot refuse a
 * topic in its metadata the way a real broker does, so the refusal is injected on Produce.) */
static void kafka_broker_refusal_is_dead_lettered_and_later_events_flow(void **state)
{
    (void)state;
    rd_kafka_mock_topic_create(mc, "t-auth", 1, 1);
    struct loaded l;
    load(&l, "topic = t-auth\nkafka.topic.metadata.refresh.interval.ms = 1000");
    void *st = start(&l);
    struct event_batch *first = make_batch(0, 10, NULL, 0, -1, 0);
    out_kafka_desc.send(st, first); /* connects; nothing injected yet */
    drive(st, 1, 10000);
    assert_int_equal(acks_of(first), 1);
    rd_kafka_mock_push_request_errors(mc, 0 /* Produce */, 1,
                                      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    struct event_batch *a = make_batch(10, 10, NULL, 0, -1, 0);
    out_kafka_desc.send(st, a);
    drive(st, 2, 10000);
    assert_int_equal(acks_of(a), 1);
    assert_int_equal(METRIC_GET(metrics.events_dead), 10);
    /* librdkafka holds the topic as unauthorized until its next metadata refresh */
    int64_t end = mono() + 2500;
    while (mono() < end) {
        out_kafka_desc.tick(st);
        usleep(20000);
    }
    struct event_batch *b = make_batch(20, 10, NULL, 0, -1, 0);
    out_kafka_desc.send(st, b);
    drive(st, 3, 10000);
    assert_int_equal(acks_of(b), 1);
    assert_int_equal(METRIC_GET(metrics.events_acked), 20);
    out_kafka_desc.destroy(st);
    char path[256];
    snprintf(path, sizeof path, "%s/dead-letter/kafka-k.ndjson", tmpdir);
    char *dl = slurp(path);
    assert_int_equal(count_lines(dl), 10);
    assert_non_null(strstr(dl, "\"reason\":\"topic authorization failed\""));
    assert_non_null(strstr(dl, "\"topic\":\"t-auth\""));
    unlink(path);
    static int seen[30];
    memset(seen, 0, sizeof seen);
    int in_order;
    assert_int_equal(consume("t-auth", seen, 30, &in_order), 20);
    for (int i = 0; i < 30; i++)
        assert_int_equal(seen[i], i >= 10 && i < 20 ? 0 : 1);
    batch_free(first);
    batch_free(a);
    batch_free(b);
    unload(&l);
}

static void kafka_topic_template_routes_by_field_default_and_dead_letters_bad_names(void **state)
{
    (void)state;
    rd_kafka_mock_topic_create(mc, "logs-api", 1, 1);
    rd_kafka_mock_topic_create(mc, "logs-web", 1, 1);
    rd_kafka_mock_topic_create(mc, "logs-misc", 1, 1);
    struct loaded l;
    load(&l, "topic = logs-%{service.name:-misc}\nkey = service.name");
    void *st = start(&l);
    static const char *const svc[] = {"api", "web", NULL, "bad name/../x"};
    struct event_batch *b = make_batch(0, 400, svc, 4, -1, 0);
    out_kafka_desc.send(st, b);
    drive(st, 1, 10000);
    assert_int_equal(acks_of(b), 1);
    assert_int_equal(METRIC_GET(metrics.events_dead), 100);
    out_kafka_desc.destroy(st);
    const char *topics[] = {"logs-api", "logs-web", "logs-misc"};
    for (int t = 0; t < 3; t++) {
        static int seen[400];
        memset(seen, 0, sizeof seen);
        int in_order;
        assert_int_equal(consume(topics[t], seen, 400, &in_order), 100);
        for (int i = 0; i < 400; i++)
            assert_int_equal(seen[i], i % 4 == t ? 1 : 0);
        assert_true(in_order);
    }
    char path[256];
    snprintf(path, sizeof path, "%s/dead-letter/kafka-k.ndjson", tmpdir);
    char *dl = slurp(path);
    assert_int_equal(count_lines(dl), 100);
    assert_non_null(strstr(dl, "\"reason\":\"invalid topic from template\""));
    assert_non_null(strstr(dl, "\"topic\":\"logs-bad name/../x\""));
    unlink(path);
    batch_free(b);
    unload(&l);
}

/* A template fanning out to more topics than the handle cache holds (256, restarted at 3/4):
 * every event still reaches its own topic. */
static void kafka_many_templated_topics_outgrow_the_handle_cache(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "topic = many-%{log.offset}");
    void *st = start(&l);
    struct event_batch *b = make_batch(0, 250, NULL, 0, -1, 0);
    out_kafka_desc.send(st, b);
    drive(st, 1, 30000);
    assert_int_equal(acks_of(b), 1);
    assert_int_equal(METRIC_GET(metrics.events_acked), 250);
    assert_int_equal(METRIC_GET(metrics.events_dead), 0);
    out_kafka_desc.destroy(st);
    static int seen[250];
    memset(seen, 0, sizeof seen);
    int in_order;
    assert_int_equal(consume("many-24900", seen, 250, &in_order), 1); /* event 249 */
    assert_int_equal(seen[249], 1);
    batch_free(b);
    unload(&l);
}

static void kafka_missing_field_without_default_uses_topic_fallback(void **state)
{
    (void)state;
    rd_kafka_mock_topic_create(mc, "fallback", 1, 1);
    rd_kafka_mock_topic_create(mc, "svc-api", 1, 1);
    struct loaded l;
    load(&l, "topic = svc-%{service.name}\ntopic_fallback = fallback");
    void *st = start(&l);
    static const char *const svc[] = {"api", NULL};
    struct event_batch *b = make_batch(0, 10, svc, 2, -1, 0);
    out_kafka_desc.send(st, b);
    drive(st, 1, 10000);
    assert_int_equal(acks_of(b), 1);
    assert_int_equal(METRIC_GET(metrics.events_dead), 0);
    out_kafka_desc.destroy(st);
    static int seen[10];
    int in_order;
    memset(seen, 0, sizeof seen);
    assert_int_equal(consume("fallback", seen, 10, &in_order), 5);
    for (int i = 0; i < 10; i++)
        assert_int_equal(seen[i], i % 2);
    batch_free(b);
    unload(&l);
}

static void kafka_fatal_error_rebuilds_the_producer_and_loses_nothing(void **state)
{
    (void)state;
    rd_kafka_mock_topic_create(mc, "t-fatal", 1, 1);
    struct loaded l;
    load(&l, "topic = t-fatal");
    void *st = start(&l);
    struct event_batch *first = make_batch(0, 100, NULL, 0, -1, 0);
    out_kafka_desc.send(st, first);
    drive(st, 1, 10000);
    assert_int_equal(acks_of(first), 1);
    rd_kafka_mock_broker_set_down(mc, 1);
    struct event_batch *b[3];
    for (int i = 0; i < 3; i++) {
        b[i] = make_batch(100 + i * 100, 100, NULL, 0, -1, 0);
        out_kafka_desc.send(st, b[i]);
    }
    /* what an idempotent producer does when it cannot go on (e.g. a sequence gap) */
    assert_int_equal(rd_kafka_test_fatal_error(((struct kafka_out *)st)->rk,
                                               RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                               "unit test"), 0);
    int64_t end = mono() + 1500;
    while (mono() < end) {
        out_kafka_desc.tick(st);
        usleep(20000);
    }
    assert_int_equal(nack, 1);
    rd_kafka_mock_broker_set_up(mc, 1);
    drive(st, 4, 15000);
    assert_int_equal(out_kafka_desc.flush(st, 5000), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(acks_of(b[i]), 1);
    assert_true(METRIC_GET(metrics.events_retried) >= 300);
    out_kafka_desc.destroy(st);
    static int seen[400];
    memset(seen, 0, sizeof seen);
    int in_order;
    consume("t-fatal", seen, 400, &in_order);
    for (int i = 0; i < 400; i++)
        assert_true(seen[i] >= 1);
    batch_free(first);
    for (int i = 0; i < 3; i++)
        batch_free(b[i]);
    unload(&l);
}

static void kafka_flush_with_brokers_down_times_out_and_acks_nothing(void **state)
{
    (void)state;
    rd_kafka_mock_topic_create(mc, "t-flush", 1, 1);
    struct loaded l;
    load(&l, "topic = t-flush");
    void *st = start(&l);
    rd_kafka_mock_broker_set_down(mc, 1);
    struct event_batch *b = make_batch(0, 100, NULL, 0, -1, 0);
    out_kafka_desc.send(st, b);
    assert_int_not_equal(out_kafka_desc.flush(st, 1000), 0);
    assert_int_equal(acks_of(b), 0);
    out_kafka_desc.destroy(st);
    rd_kafka_mock_broker_set_up(mc, 1);
    batch_free(b); /* after destroy: librdkafka holds no pointer into it any more */
    unload(&l);
}

static void kafka_batch_without_wanted_events_is_acked_at_once(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "topic = t-order");
    void *st = start(&l);
    /* `when` is still a placeholder in the core (every event wanted), so an empty batch
     * stands for "nothing wanted" here. */
    struct event_batch *b = batch_new(&src, "host1", 4);
    out_kafka_desc.send(st, b);
    assert_int_equal(acks_of(b), 1);
    assert_int_equal(METRIC_GET(metrics.batches_acked), 1);
    assert_int_equal(out_kafka_desc.flush(st, 1000), 0);
    out_kafka_desc.destroy(st);
    batch_free(b);
    unload(&l);
}

static int errs_contain(const struct conf_errs *e, const char *s)
{
    for (int i = 0; i < e->n; i++)
        if (strstr(e->msg[i], s))
            return 1;
    return 0;
}

static void kafka_check_names_line_and_librdkafka_message_and_never_a_secret(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "topic = logs-%{service.name\n"          /* line 3 */
             "kafka.no.such.property = 1\n"           /* line 4 */
             "kafka.acks = banana\n"                  /* line 5 */
             "kafka.sasl.password = hunter2\n"        /* line 6 */
             "kafka.bootstrap.servers = x:1\n"        /* line 7 */
             "compression = brotli\n");               /* line 8 */
    for (int i = 0; i < l.errs.n; i++)
        fprintf(stderr, "  %s\n", l.errs.msg[i]);
    assert_true(errs_contain(&l.errs, "t.conf:3: topic: unterminated %{"));
    assert_true(errs_contain(&l.errs, "t.conf:4: kafka.no.such.property: No such configuration "
                                      "property"));
    assert_true(errs_contain(&l.errs, "t.conf:5: kafka.acks: "));
    assert_true(errs_contain(&l.errs, "t.conf:7: kafka.bootstrap.servers: set the brokers"));
    assert_true(errs_contain(&l.errs, "t.conf:8: compression: 'brotli' is not one of"));
    for (int i = 0; i < l.errs.n; i++)
        assert_null(strstr(l.errs.msg[i], "hunter2"));
    unload(&l);
    /* settings valid alone but not together: found by the trial rd_kafka_new */
    load(&l, "topic = t\nkafka.acks = 1");
    assert_true(errs_contain(&l.errs, "t.conf:1: [output kafka]: librdkafka: "));
    unload(&l);
    assert_true(kconf_is_secret("sasl.password"));
    assert_true(kconf_is_secret("ssl.key.password"));
    assert_true(kconf_is_secret("sasl.oauthbearer.config"));
    assert_true(kconf_is_secret("sasl.oauthbearer.client.secret"));
    assert_false(kconf_is_secret("sasl.username"));
    assert_false(kconf_is_secret("linger.ms"));
}

static void kafka_test_output_reports_reachable_and_writable_or_not(void **state)
{
    (void)state;
    rd_kafka_mock_topic_create(mc, "t-test", 3, 1);
    struct loaded l;
    load(&l, "topic = t-test");
    char msg[512];
    assert_int_equal(out_kafka_desc.test(&l.kc, &env, msg, sizeof msg), 0);
    assert_non_null(strstr(msg, "writable"));
    assert_non_null(strstr(msg, "3 partitions"));
    unload(&l);
    struct conf_errs errs = {0};
    struct conf *c = conf_load_string("t.conf", "[output kafka]\nbrokers = 127.0.0.1:1\n"
                                      "topic = t\nkafka.socket.timeout.ms = 1000\n", &errs);
    struct kafka_conf kc = {0};
    conf_apply(c, &c->s[0], kafka_conf_keys, &kc, &errs);
    assert_int_not_equal(out_kafka_desc.test(&kc, &env, msg, sizeof msg), 0);
    assert_non_null(strstr(msg, "not reachable"));
    conf_free_target(kafka_conf_keys, &kc);
    conf_errs_free(&errs);
    conf_free(c);
}

static void kafka_topic_template_compiles_and_renders(void **state)
{
    (void)state;
    struct ktpl t;
    char err[128], out[300];
    const char *missing = NULL;
    assert_int_equal(ktpl_compile("a-%{host.name}-100%%", &t, err, sizeof err), 0);
    assert_int_equal(t.kind, KTPL_BATCH);
    static const char *const svc[] = {"api"};
    struct event_batch *b = make_batch(0, 1, svc, 1, -1, 0);
    size_t len;
    assert_int_equal(ktpl_render(&t, b, &b->ev[0], out, sizeof out, &len, &missing), 0);
    assert_string_equal(out, "a-host1-100%");
    assert_int_equal(len, 12);
    ktpl_free(&t);
    assert_int_equal(ktpl_compile("%{log.offset}", &t, err, sizeof err), 0);
    assert_int_equal(t.kind, KTPL_EVENT);
    assert_int_equal(ktpl_render(&t, b, &b->ev[0], out, sizeof out, &len, &missing), 0);
    assert_string_equal(out, "0");
    ktpl_free(&t);
    assert_int_equal(ktpl_compile("x-%{nope}", &t, err, sizeof err), 0);
    assert_int_equal(ktpl_render(&t, b, &b->ev[0], out, sizeof out, &len, &missing), 1);
    assert_string_equal(missing, "nope");
    ktpl_free(&t);
    assert_int_equal(ktpl_compile("x-%{}", &t, err, sizeof err), -1);
    assert_int_equal(ktpl_compile("plain", &t, err, sizeof err), 0);
    assert_int_equal(t.kind, KTPL_STATIC);
    ktpl_free(&t);
    assert_true(ktopic_valid("logs-api.v1_x", 13));
    assert_false(ktopic_valid("..", 2));
    assert_false(ktopic_valid("a b", 3));
    batch_free(b);
}

/* Issue 21 item 4: what log content may not make a topic of. */
static void kafka_topic_names_log_content_cannot_use(void **state)
{
    (void)state;
    assert_null(ktopic_invalid("payments", 8));
    assert_null(ktopic_invalid("a_b", 3));
    assert_non_null(ktopic_invalid("payments\0", 9)); /* NUL: was used as "payments" */
    assert_non_null(ktopic_invalid("pay\nments", 9));
    assert_non_null(ktopic_invalid("__consumer_offsets", 18));
    assert_non_null(ktopic_invalid("__x", 3));
    assert_non_null(ktopic_invalid(".", 1));
    assert_non_null(ktopic_invalid("", 0));
    assert_non_null(ktopic_invalid("caf\xc3\xa9", 5));
    static char longname[251];
    memset(longname, 'a', 250);
    assert_null(ktopic_invalid(longname, 249));
    assert_non_null(ktopic_invalid(longname, 250));
    /* the rendered length keeps a value's NUL byte, so the check sees it */
    struct ktpl t;
    char err[128], out[300];
    const char *missing = NULL;
    size_t len;
    assert_int_equal(ktpl_compile("%{service.name}", &t, err, sizeof err), 0);
    static const char *const svc[] = {"payments\0"};
    static const size_t svclen[] = {9};
    struct event_batch *b = make_batch_n(0, 1, svc, svclen, 1, -1, 0);
    assert_int_equal(ktpl_render(&t, b, &b->ev[0], out, sizeof out, &len, &missing), 0);
    assert_int_equal(len, 9);
    assert_non_null(ktopic_invalid(out, len));
    ktpl_free(&t);
    batch_free(b);
}

/* A template value with a NUL byte, an internal topic name, characters Kafka refuses: never
 * a truncated or internal topic; topic_fallback gets them, counted in events_rerouted. */
static void kafka_hostile_template_values_go_to_topic_fallback(void **state)
{
    (void)state;
    rd_kafka_mock_topic_create(mc, "payments", 1, 1);
    rd_kafka_mock_topic_create(mc, "fb", 1, 1);
    rd_kafka_mock_topic_create(mc, "__consumer_offsets", 1, 1);
    struct loaded l;
    load(&l, "topic = %{service.name}\ntopic_fallback = fb");
    void *st = start(&l);
    static const char *const svc[] = {"payments", "payments\0", "__consumer_offsets",
                                      "pay\x01ments", "pay ments"};
    static const size_t svclen[] = {8, 9, 18, 9, 9};
    struct event_batch *b = make_batch_n(0, 100, svc, svclen, 5, -1, 0);
    out_kafka_desc.send(st, b);
    drive(st, 1, 10000);
    assert_int_equal(acks_of(b), 1);
    assert_int_equal(METRIC_GET(metrics.events_dead), 0);
    assert_int_equal(METRIC_GET(metrics.events_rerouted), 80);
    out_kafka_desc.destroy(st);
    static int seen[100];
    int in_order;
    memset(seen, 0, sizeof seen);
    assert_int_equal(consume("payments", seen, 100, &in_order), 20);
    for (int i = 0; i < 100; i++)
        assert_int_equal(seen[i], i % 5 == 0);
    memset(seen, 0, sizeof seen);
    assert_int_equal(consume("fb", seen, 100, &in_order), 80);
    for (int i = 0; i < 100; i++)
        assert_int_equal(seen[i], i % 5 != 0);
    assert_true(in_order);
    memset(seen, 0, sizeof seen);
    assert_int_equal(consume("__consumer_offsets", seen, 100, &in_order), 0);
    batch_free(b);
    unload(&l);
}

/* Issue 21 item 6: 200 distinct dead-letter kinds (a templated topic from log content) log
 * at most the table's 64 and one line saying further kinds are not logged; every event is
 * still dead-lettered and counted. */
static void kafka_dead_letter_kinds_logged_are_bounded(void **state)
{
    (void)state;
    struct loaded l;
    load(&l, "topic = %{service.name}");
    void *st = start(&l);
    static char names[200][16];
    static const char *svc[200];
    for (int i = 0; i < 200; i++) {
        snprintf(names[i], sizeof names[i], "bad name %d", i);
        svc[i] = names[i];
    }
    struct event_batch *b = make_batch(0, 200, svc, 200, -1, 0);
    char logpath[256];
    snprintf(logpath, sizeof logpath, "%s/stderr.log", tmpdir);
    fflush(stderr);
    int saved = dup(2);
    FILE *lf = fopen(logpath, "w");
    assert_non_null(lf);
    dup2(fileno(lf), 2);
    out_kafka_desc.send(st, b);
    drive(st, 1, 10000);
    dup2(saved, 2);
    close(saved);
    fclose(lf);
    assert_int_equal(acks_of(b), 1);
    assert_int_equal(METRIC_GET(metrics.events_dead), 200);
    out_kafka_desc.destroy(st);
    char *log = slurp(logpath);
    int kinds = 0, full = 0;
    for (const char *p = log; (p = strstr(p, "logged once per reason and topic")); p++)
        kinds++;
    for (const char *p = log; (p = strstr(p, "further kinds are not logged")); p++)
        full++;
    assert_int_equal(kinds, LF_ONCE_KINDS + 1); /* 64 first ones, and the one that found it full */
    assert_int_equal(full, 1);
    unlink(logpath);
    char path[256];
    snprintf(path, sizeof path, "%s/dead-letter/kafka-k.ndjson", tmpdir);
    assert_int_equal(count_lines(slurp(path)), 200);
    unlink(path);
    batch_free(b);
    unload(&l);
}

/* Without topic_fallback the same events are dead-lettered with the reason. */
static void kafka_hostile_template_values_without_fallback_are_dead_lettered(void **state)
{
    (void)state;
    rd_kafka_mock_topic_create(mc, "billing", 1, 1);
    struct loaded l;
    load(&l, "topic = %{service.name}");
    void *st = start(&l);
    static const char *const svc[] = {"billing", "billing\0", "__transaction_state"};
    static const size_t svclen[] = {7, 8, 19};
    struct event_batch *b = make_batch_n(0, 30, svc, svclen, 3, -1, 0);
    out_kafka_desc.send(st, b);
    drive(st, 1, 10000);
    assert_int_equal(acks_of(b), 1);
    assert_int_equal(METRIC_GET(metrics.events_dead), 20);
    assert_int_equal(METRIC_GET(metrics.events_rerouted), 0);
    out_kafka_desc.destroy(st);
    static int seen[30];
    int in_order;
    memset(seen, 0, sizeof seen);
    assert_int_equal(consume("billing", seen, 30, &in_order), 10);
    for (int i = 0; i < 30; i++)
        assert_int_equal(seen[i], i % 3 == 0);
    char path[256];
    snprintf(path, sizeof path, "%s/dead-letter/kafka-k.ndjson", tmpdir);
    char *dl = slurp(path);
    assert_int_equal(count_lines(dl), 20);
    assert_non_null(strstr(dl, "\"error\":\"NUL byte in topic name\""));
    assert_non_null(strstr(dl, "\"error\":\"internal topic name (leading __)\""));
    unlink(path);
    batch_free(b);
    unload(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kafka_topic_template_compiles_and_renders),
        cmocka_unit_test(kafka_topic_names_log_content_cannot_use),
        cmocka_unit_test_setup(kafka_hostile_template_values_go_to_topic_fallback, test_setup),
        cmocka_unit_test_setup(kafka_hostile_template_values_without_fallback_are_dead_lettered,
                               test_setup),
        cmocka_unit_test_setup(kafka_dead_letter_kinds_logged_are_bounded, test_setup),
        cmocka_unit_test_setup(kafka_check_names_line_and_librdkafka_message_and_never_a_secret,
                               test_setup),
        cmocka_unit_test_setup(kafka_delivers_every_event_once_in_order_and_acks_each_batch_once,
                               test_setup),
        cmocka_unit_test_setup(kafka_broker_down_holds_acks_then_delivers_all_after_return,
                               test_setup),
        cmocka_unit_test_setup(kafka_full_queue_waits_and_delivers_everything_in_order,
                               test_setup),
        cmocka_unit_test_setup(kafka_injected_produce_errors_are_retried_without_loss,
                               test_setup),
        cmocka_unit_test_setup(kafka_oversized_event_goes_to_dead_letter_and_the_rest_flows,
                               test_setup),
        cmocka_unit_test_setup(
            kafka_topic_template_routes_by_field_default_and_dead_letters_bad_names, test_setup),
        cmocka_unit_test_setup(kafka_broker_refusal_is_dead_lettered_and_later_events_flow,
                               test_setup),
        cmocka_unit_test_setup(kafka_many_templated_topics_outgrow_the_handle_cache,
                               test_setup),
        cmocka_unit_test_setup(kafka_missing_field_without_default_uses_topic_fallback,
                               test_setup),
        cmocka_unit_test_setup(kafka_fatal_error_rebuilds_the_producer_and_loses_nothing,
                               test_setup),
        cmocka_unit_test_setup(kafka_flush_with_brokers_down_times_out_and_acks_nothing,
                               test_setup),
        cmocka_unit_test_setup(kafka_batch_without_wanted_events_is_acked_at_once, test_setup),
        cmocka_unit_test_setup(kafka_test_output_reports_reachable_and_writable_or_not,
                               test_setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
