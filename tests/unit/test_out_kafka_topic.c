/*
 * test_out_kafka_topic.c - the Kafka output's topic templates (outputs/kafka_topic.c):
 * compiling and rendering, the names log content may not pick, routing by a field with
 * defaults, the handle cache outgrown, a missing field and hostile values sent to
 * topic_fallback. Fixtures in test_out_kafka_util.h.
 *
 * floor: outputs
 */
#include "test_out_kafka_util.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kafka_topic_template_compiles_and_renders),
        cmocka_unit_test(kafka_topic_names_log_content_cannot_use),
        cmocka_unit_test_setup(kafka_topic_template_routes_by_field_default_and_dead_letters_bad_names,
                               test_setup),
        cmocka_unit_test_setup(kafka_many_templated_topics_outgrow_the_handle_cache, test_setup),
        cmocka_unit_test_setup(kafka_missing_field_without_default_uses_topic_fallback, test_setup),
        cmocka_unit_test_setup(kafka_hostile_template_values_go_to_topic_fallback, test_setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
