/*
 * test_out_es_delivery.c - out_es_desc.init/send/tick/flush driven directly (no agent)
 * against tests/tools/es_standin.py: exactly-once across whole-request and per-item 429s
 * (only failed items resent), replays answered 409, dead letters, 413 splits, an outage,
 * basic and API-key auth, gzip, setup/test, the idle rule, a timeout after indexing.
 *
 * floor: outputs
 */
#include "test_out_es_util.h"

/* ---- against the stand-in ---- */

static void all_lines_indexed_once_across_whole_and_item_429s(void **state)
{
    (void)state;
    reset_store();
    struct standin s;
    const char *args[] = {"--fail-whole", "3", "--item-429-every", "7", "--item-429-times", "2", NULL};
    standin_start(&s, 0, args);
    struct es_cfg k;
    cfg_for(&k, &s, "bulk_max_events = 64\n");
    struct fake f;
    fake_init(&f, "es");
    int rc;
    struct event_batch **bs = run_output(&f, &k.ec, 10, 100, NULL, 20000, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(f.nacked, 10);
    assert_int_equal(f.double_ack, 0);
    assert_int_equal(stat_of(&s, "created"), 1000);
    assert_int_equal(stat_of(&s, "whole_failed"), 3);
    assert_int_equal(stat_of(&s, "item_429"), 2 * (1000 / 7));
    assert_true(stat_of(&s, "max_docs_per_request") <= 64);
    /* only the failed items were resent: every id was seen once, the multiples of 7 3 times */
    json_t *j = standin_get(&s, "/_standin/stats?attempts=1");
    json_t *att = json_object_get(j, "attempts");
    assert_int_equal(json_object_size(att), 1000);
    for (int n = 1; n <= 1000; n++) {
        char id[40];
        es_doc_id(&src.id, (uint64_t)n * 100, id);
        json_t *a = json_object_get(att, id);
        assert_non_null(a);
        assert_int_equal(json_integer_value(a), n % 7 == 0 ? 3 : 1);
    }
    json_decref(j);
    assert_int_equal(METRIC_GET(f.m.events_acked), 1000);
    assert_true(METRIC_GET(f.m.events_retried) >= 2 * (1000 / 7));

    /* the same lines again (a replay after kill -9): 409 for each, nothing new, all acked */
    struct fake f2;
    fake_init(&f2, "es");
    struct event_batch **bs2 = run_output(&f2, &k.ec, 10, 100, NULL, 20000, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(f2.nacked, 10);
    assert_int_equal(stat_of(&s, "created"), 1000);
    assert_int_equal(stat_of(&s, "conflicts"), 1000);
    assert_int_equal(METRIC_GET(f2.m.events_acked), 1000); /* 409 = already indexed */
    assert_int_equal(METRIC_GET(f2.m.events_dead), 0);
    free_batches(bs2, 10);
    free_batches(bs, 10);
    cfg_free(&k);
    standin_stop(&s);
}

static void refused_documents_go_to_dead_letter_file(void **state)
{
    (void)state;
    reset_store();
    struct standin s;
    const char *args[] = {"--reject-regex", "^line \\d*5 ", NULL};
    standin_start(&s, 0, args);
    struct es_cfg k;
    cfg_for(&k, &s, NULL);
    struct fake f;
    fake_init(&f, "es-dl");
    int rc;
    struct event_batch **bs = run_output(&f, &k.ec, 2, 50, NULL, 10000, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(f.nacked, 2);
    assert_int_equal(stat_of(&s, "created"), 90);
    assert_int_equal(stat_of(&s, "rejected"), 10);
    assert_int_equal(METRIC_GET(f.m.events_dead), 10);
    char p[400];
    snprintf(p, sizeof p, "%s/dead-letter/elasticsearch-es-dl.ndjson", tmpdir);
    FILE *fp = fopen(p, "r");
    assert_non_null(fp);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, fp)) {
        json_t *j = json_loads(line, 0, NULL);
        assert_non_null(j);
        assert_int_equal(json_integer_value(json_object_get(j, "status")), 400);
        assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "type")),
                            "mapper_parsing_exception");
        const char *msg = json_string_value(json_object_get(json_object_get(j, "document"), "message"));
        assert_non_null(msg);
        int num = atoi(msg + 5);
        assert_int_equal(num % 10, 5);
        n++;
        json_decref(j);
    }
    fclose(fp);
    assert_int_equal(n, 10);
    free_batches(bs, 2);
    cfg_free(&k);
    standin_stop(&s);
}

static void too_large_request_is_split_until_accepted(void **state)
{
    (void)state;
    reset_store();
    struct standin s;
    const char *args[] = {"--max-bytes", "6000", NULL};
    standin_start(&s, 0, args);
    struct es_cfg k;
    /* one huge document that can never fit goes to the dead letters */
    cfg_for(&k, &s, "bulk_max_events = 500\n");
    struct fake f;
    fake_init(&f, "es-413");
    int rc;
    struct event_batch **bs = run_output(&f, &k.ec, 2, 100, NULL, 20000, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(f.nacked, 2);
    assert_int_equal(stat_of(&s, "created"), 200);
    assert_true(stat_of(&s, "too_large") >= 2);
    assert_true(stat_of(&s, "max_docs_per_request") < 100);
    free_batches(bs, 2);
    char pad[7000];
    memset(pad, 'x', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    pad[0] = ' ';
    struct fake f2;
    fake_init(&f2, "es-413b");
    bs = run_output(&f2, &k.ec, 1, 1, pad, 20000, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(f2.nacked, 1);
    assert_int_equal(METRIC_GET(f2.m.events_dead), 1);
    free_batches(bs, 1);
    cfg_free(&k);
    standin_stop(&s);
}

static void server_down_then_up_delivers_everything(void **state)
{
    (void)state;
    reset_store();
    /* find a free port by starting and stopping the stand-in */
    struct standin s;
    standin_start(&s, 0, NULL);
    int port = s.port;
    standin_stop(&s);
    struct es_cfg k;
    cfg_for(&k, &s, "bulk_max_events = 50\nworkers = 2\n");
    struct fake f;
    fake_init(&f, "es-down");
    char err[256];
    void *st = out_es_desc.init(&k.ec, &f.env, err, sizeof err);
    assert_non_null(st);
    struct event_batch *b = make_batch(1, 100, NULL);
    out_es_desc.send(st, b); /* two requests: does not block with workers = 2 */
    assert_int_equal(out_es_desc.flush(st, 300), -1);
    assert_int_equal(f.nacked, 0);
    assert_int_equal(METRIC_GET(f.m.state), OUT_RETRYING);
    standin_start(&s, port, NULL);
    assert_int_equal(out_es_desc.flush(st, 20000), 0);
    assert_int_equal(f.nacked, 1);
    assert_int_equal(METRIC_GET(f.m.state), OUT_OK);
    assert_int_equal(stat_of(&s, "created"), 100);
    out_es_desc.destroy(st);
    batch_free(b);
    cfg_free(&k);
    standin_stop(&s);
}

static void basic_and_api_key_auth_are_sent(void **state)
{
    (void)state;
    reset_store();
    struct standin s;
    const char *args[] = {"--user", "elastic", "--password", "s3cret", NULL};
    standin_start(&s, 0, args);
    struct es_cfg k;
    int rc;
    struct fake f;
    /* wrong password: nothing acked, 401s counted, then the right one delivers */
    cfg_for(&k, &s, "username = elastic\npassword = wrong\n");
    fake_init(&f, "es-auth");
    struct event_batch **bs = run_output(&f, &k.ec, 1, 10, NULL, 300, &rc);
    assert_int_equal(rc, -1);
    assert_int_equal(f.nacked, 0);
    assert_true(stat_of(&s, "auth_failures") >= 1);
    assert_null(strstr(f.m.last_error, "wrong")); /* the password is never shown */
    free_batches(bs, 1);
    cfg_free(&k);
    cfg_for(&k, &s, "username = elastic\npassword = s3cret\n");
    fake_init(&f, "es-auth");
    bs = run_output(&f, &k.ec, 1, 10, NULL, 10000, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(f.nacked, 1);
    assert_int_equal(stat_of(&s, "created"), 10);
    free_batches(bs, 1);
    cfg_free(&k);
    standin_stop(&s);

    reset_store();
    const char *args2[] = {"--api-key", "aWQ6a2V5", NULL};
    standin_start(&s, 0, args2);
    cfg_for(&k, &s, "api_key = aWQ6a2V5\n");
    fake_init(&f, "es-key");
    bs = run_output(&f, &k.ec, 1, 10, NULL, 10000, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(f.nacked, 1);
    assert_int_equal(stat_of(&s, "created"), 10);
    assert_int_equal(stat_of(&s, "auth_failures"), 0);
    free_batches(bs, 1);
    cfg_free(&k);
    standin_stop(&s);
}

static void gzip_bodies_are_accepted(void **state)
{
    (void)state;
    if (!es_have_gzip()) {
        fprintf(stderr, "  (built without zlib: compression = gzip is refused by check())\n");
        skip();
    }
    reset_store();
    struct standin s;
    const char *args[] = {"--require-gzip", NULL};
    standin_start(&s, 0, args);
    struct es_cfg k;
    cfg_for(&k, &s, "compression = gzip\nbulk_max_events = 100\n");
    struct fake f;
    fake_init(&f, "es-gz");
    int rc;
    struct event_batch **bs = run_output(&f, &k.ec, 3, 100, NULL, 10000, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(f.nacked, 3);
    assert_int_equal(stat_of(&s, "created"), 300);
    assert_true(stat_of(&s, "gzip_requests") >= 3);
    free_batches(bs, 3);
    cfg_free(&k);
    standin_stop(&s);
}

static void setup_installs_template_and_policy_and_test_reports_version(void **state)
{
    (void)state;
    reset_store();
    struct standin s;
    standin_start(&s, 0, NULL);
    struct es_cfg k;
    cfg_for(&k, &s, "template_name = lf\n");
    struct fake f;
    fake_init(&f, "es");
    char msg[512];
    assert_int_equal(out_es_desc.setup(&k.ec, &f.env, msg, sizeof msg), 0);
    assert_non_null(strstr(msg, "logs-*"));
    assert_int_equal(out_es_desc.setup(&k.ec, &f.env, msg, sizeof msg), 0); /* idempotent */
    json_t *j = standin_get(&s, "/_standin/setup");
    json_t *t = json_object_get(json_object_get(j, "templates"), "lf");
    assert_non_null(t);
    assert_string_equal(json_string_value(json_array_get(json_object_get(t, "index_patterns"), 0)),
                        "logs-*");
    assert_non_null(json_object_get(json_object_get(j, "policies"), "lf"));
    json_decref(j);
    assert_int_equal(out_es_desc.test(&k.ec, &f.env, msg, sizeof msg), 0);
    assert_non_null(strstr(msg, "8.11.0"));
    cfg_free(&k);
    standin_stop(&s);
    /* nothing listening: test says so */
    cfg_for(&k, &s, NULL);
    assert_int_equal(out_es_desc.test(&k.ec, &f.env, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "not reachable"));
    cfg_free(&k);
}

/* The server indexes the documents but answers after the client's timeout: the retry gets
 * 409 for each (same _id) and nothing is stored twice. */
static void timeout_after_indexing_is_retried_without_duplicates(void **state)
{
    (void)state;
    reset_store();
    struct standin s;
    const char *args[] = {"--delay-ms", "1500", NULL};
    standin_start(&s, 0, args);
    struct es_cfg k;
    cfg_for(&k, &s, "bulk_max_events = 100\n");
    k.ec.timeout_ms = 300;
    struct fake f;
    fake_init(&f, "es-slow");
    char err[256];
    void *st = out_es_desc.init(&k.ec, &f.env, err, sizeof err);
    assert_non_null(st);
    struct event_batch *b = make_batch(1, 200, NULL);
    out_es_desc.send(st, b);
    assert_int_equal(out_es_desc.flush(st, 1000), -1); /* every attempt times out */
    assert_int_equal(f.nacked, 0);
    assert_true(strstr(f.m.last_error, "imeout") != NULL);
    standin_config(&s, "{\"delay_ms\": 0}");
    assert_int_equal(out_es_desc.flush(st, 20000), 0);
    assert_int_equal(f.nacked, 1);
    assert_int_equal(stat_of(&s, "created"), 200);
    assert_true(stat_of(&s, "conflicts") > 0); /* the slow server had indexed them */
    out_es_desc.destroy(st);
    batch_free(b);
    cfg_free(&k);
    standin_stop(&s);
}

/* flush_interval is an hour and bulk_max_events 1000: only the rule "send a partial request
 * at once when nothing is outstanding" can deliver these 10 documents, with send() and
 * tick() alone (no flush); tick() never asks to sleep long (the core calls it again only
 * after the delay it returns). */
static void partial_request_goes_at_once_when_nothing_is_outstanding(void **state)
{
    (void)state;
    reset_store();
    struct standin s;
    standin_start(&s, 0, NULL);
    struct es_cfg k;
    cfg_for(&k, &s, "bulk_max_events = 1000\n");
    k.ec.flush_interval_ms = 3600 * 1000L;
    struct fake f;
    fake_init(&f, "es-tick");
    char err[256];
    void *st = out_es_desc.init(&k.ec, &f.env, err, sizeof err);
    assert_non_null(st);
    struct event_batch *b = make_batch(1, 10, NULL);
    out_es_desc.send(st, b);
    for (int i = 0; i < 5000 && f.nacked < 1; i++) {
        long ms = out_es_desc.tick(st);
        assert_true(ms >= 0 && ms <= 10);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(f.nacked, 1);
    assert_int_equal(f.double_ack, 0);
    assert_int_equal(stat_of(&s, "created"), 10);
    assert_int_equal(out_es_desc.tick(st), 10); /* idle: the short wake-up */
    assert_int_equal(out_es_desc.flush(st, 1000), 0);
    out_es_desc.destroy(st);
    batch_free(b);
    cfg_free(&k);
    standin_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(all_lines_indexed_once_across_whole_and_item_429s),
        cmocka_unit_test(refused_documents_go_to_dead_letter_file),
        cmocka_unit_test(too_large_request_is_split_until_accepted),
        cmocka_unit_test(server_down_then_up_delivers_everything),
        cmocka_unit_test(basic_and_api_key_auth_are_sent),
        cmocka_unit_test(gzip_bodies_are_accepted),
        cmocka_unit_test(setup_installs_template_and_policy_and_test_reports_version),
        cmocka_unit_test(timeout_after_indexing_is_retried_without_duplicates),
        cmocka_unit_test(partial_request_goes_at_once_when_nothing_is_outstanding),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
