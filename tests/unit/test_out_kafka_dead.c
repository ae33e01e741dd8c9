/*
 * test_out_kafka_dead.c - the Kafka output's dead letters (outputs/kafka_dead.c,
 * kafka_track.c) against librdkafka's mock cluster: an oversized event and a broker's
 * refusal are dead-lettered while the rest flows, hostile template values without a
 * fallback are dead-lettered, and the kinds of dead letter logged stay bounded.
 * Fixtures in test_out_kafka_util.h.
 *
 * floor: outputs
 */
#include "test_out_kafka_util.h"

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

/* Without topic_fallback, hostile template values (test_out_kafka_topic.c sends them to the
 * fallback) are dead-lettered with the reason. */
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
        cmocka_unit_test_setup(kafka_oversized_event_goes_to_dead_letter_and_the_rest_flows,
                               test_setup),
        cmocka_unit_test_setup(kafka_broker_refusal_is_dead_lettered_and_later_events_flow,
                               test_setup),
        cmocka_unit_test_setup(kafka_hostile_template_values_without_fallback_are_dead_lettered,
                               test_setup),
        cmocka_unit_test_setup(kafka_dead_letter_kinds_logged_are_bounded, test_setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
