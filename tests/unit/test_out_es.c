/*
 * test_out_es.c - the Elasticsearch output's wire format and configuration, as pure
 * functions: document ids, index names, _bulk bodies, response verdicts, config errors with
 * FILE:LINE, and the bodies `setup` sends. (Delivery against the stand-in is in
 * test_out_es_delivery.c.)
 *
 * floor: outputs
 */
#include "test_out_es_util.h"

#include <zlib.h>

#include "agent/base/compress.h"

/* ---- pure functions ---- */

static void doc_id_is_deterministic_and_distinct(void **state)
{
    (void)state;
    struct file_id a = {2049, 131, 0xfeed, 1024, 0}, b = a;
    char x[40], y[40];
    es_doc_id(&a, 4096, x);
    es_doc_id(&b, 4096, y);
    assert_string_equal(x, y);
    assert_int_equal(strlen(x), 16 + 1 + 4);
    assert_string_equal(x + 17, "1000");
    es_doc_id(&a, 4097, y);
    assert_string_not_equal(x, y);
    b.ino = 132;
    es_doc_id(&b, 4096, y);
    assert_string_not_equal(x, y);
    b = a;
    b.fp = 0xbeef;
    es_doc_id(&b, 4096, y);
    assert_string_not_equal(x, y);
    b = a;
    b.dev = 2050;
    es_doc_id(&b, 4096, y);
    assert_string_not_equal(x, y);
    /* with a uid, only the uid counts: the fingerprint of a growing small file changes */
    a.uid = b.uid = 77;
    b.fp = 0xdead;
    b.fp_len = 10;
    es_doc_id(&a, 4096, x);
    es_doc_id(&b, 4096, y);
    assert_string_equal(x, y);
    b.uid = 78;
    es_doc_id(&b, 4096, y);
    assert_string_not_equal(x, y);
}

static void index_name_is_strftime_over_utc_timestamp(void **state)
{
    (void)state;
    struct es_index_cache ic;
    size_t n;
    es_index_cache_init(&ic, "logs-%Y.%m.%d");
    /* 2025-11-26T23:59:59.999Z then one millisecond later */
    assert_string_equal(es_index_name(&ic, 1764201599999LL, &n), "logs-2025.11.26");
    assert_int_equal(n, strlen("logs-2025.11.26"));
    assert_string_equal(es_index_name(&ic, 1764201600000LL, &n), "logs-2025.11.27");
    assert_string_equal(es_index_name(&ic, 1764201599000LL, &n), "logs-2025.11.26");
    es_index_cache_init(&ic, "logs-%Y.%m.%d-%H");
    assert_string_equal(es_index_name(&ic, 1764201599999LL, &n), "logs-2025.11.26-23");
    assert_string_equal(es_index_name(&ic, 1764201600000LL, &n), "logs-2025.11.27-00");
    es_index_cache_init(&ic, "logs-logferry-default");
    assert_string_equal(es_index_name(&ic, 1764201600000LL, &n), "logs-logferry-default");
}

/* Issue 21 item 4: a log's @timestamp cannot make an index name Elasticsearch refuses; the
 * cache says so and the output dead-letters such documents instead of retrying forever. */
static void index_names_from_log_timestamps_are_checked(void **state)
{
    (void)state;
    assert_null(es_index_invalid("logs-2025.11.26", 15));
    assert_non_null(es_index_invalid("Logs", 4));
    assert_non_null(es_index_invalid("-1.12", 5));
    assert_non_null(es_index_invalid("_x", 2));
    assert_non_null(es_index_invalid("+x", 2));
    assert_non_null(es_index_invalid("..", 2));
    assert_non_null(es_index_invalid("a b", 3));
    assert_non_null(es_index_invalid("a\0b", 3));
    assert_non_null(es_index_invalid("a#b", 3));
    assert_non_null(es_index_invalid("a*b", 3));
    assert_non_null(es_index_invalid("", 0));
    static char longname[300];
    memset(longname, 'a', sizeof longname);
    assert_null(es_index_invalid(longname, 255));
    assert_non_null(es_index_invalid(longname, 256));
    struct es_index_cache ic;
    size_t n;
    es_index_cache_init(&ic, "%Y.%m.%d");
    es_index_name(&ic, 1764201599999LL, &n);
    assert_null(ic.invalid);
    /* year -1200: strftime writes "-1200.." */
    const char *name = es_index_name(&ic, -100000000000000LL, &n);
    assert_int_equal(name[0], '-');
    assert_non_null(ic.invalid);
    es_index_name(&ic, 1764201599999LL, &n);
    assert_null(ic.invalid);
}

/* Issue 21 item 3: an answer of many tiny JSON values is not handed to jansson (4 MiB of
 * "{}," cost it hundreds of MB); strings do not count, escapes are followed. */
static void bulk_answer_with_too_many_values_is_refused_before_parsing(void **state)
{
    (void)state;
    assert_true(es_json_small("{\"a\":[1,2,3]}", strlen("{\"a\":[1,2,3]}"), 4));
    assert_false(es_json_small("{\"a\":[1,2,3]}", strlen("{\"a\":[1,2,3]}"), 3));
    assert_true(es_json_small("\"{[,{[,\\\"{[,\"", strlen("\"{[,{[,\\\"{[,\""), 0));
    static char big[30000];
    size_t n = 0;
    n += (size_t)snprintf(big, sizeof big, "{\"errors\":true,\"items\":[");
    while (n + 8 < sizeof big) {
        memcpy(big + n, "{},", 3);
        n += 3;
    }
    memcpy(big + n - 1, "]}", 2);
    n++;
    struct es_item_result res[2];
    char err[200];
    assert_int_equal(es_bulk_parse(big, n, res, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "more JSON values"));
    /* a real answer with errors and caused_by for 2 documents passes */
    const char *ok = "{\"errors\":true,\"items\":[{\"create\":{\"status\":201}},{\"create\":"
                     "{\"status\":400,\"error\":{\"type\":\"mapper_parsing_exception\",\"reason\":"
                     "\"failed, [x]\",\"caused_by\":{\"type\":\"illegal_argument_exception\","
                     "\"reason\":\"bad, {value}\"}}}}]}";
    assert_int_equal(es_bulk_parse(ok, strlen(ok), res, 2, err, sizeof err), 0);
    assert_int_equal(res[1].verdict, ES_DEAD);
}

static void bulk_body_is_create_action_then_event_json(void **state)
{
    (void)state;
    struct event_batch *b = make_batch(1, 3, NULL);
    struct es_index_cache ic;
    es_index_cache_init(&ic, "logs-%Y.%m.%d");
    struct buf body;
    buf_init(&body, 0);
    for (uint32_t i = 0; i < b->n; i++)
        assert_int_equal(es_bulk_append(&body, &ic, b, &b->ev[i]), 0);
    assert_true(body.len > 0 && body.p[body.len - 1] == '\n');
    /* 6 lines: action, source, action, source... */
    char *save = NULL;
    buf_cstr(&body);
    int line = 0;
    for (char *l = strtok_r(body.p, "\n", &save); l; l = strtok_r(NULL, "\n", &save), line++) {
        json_t *j = json_loads(l, 0, NULL);
        assert_non_null(j);
        if (line % 2 == 0) {
            json_t *c = json_object_get(j, "create");
            assert_non_null(c);
            assert_string_equal(json_string_value(json_object_get(c, "_index")), "logs-2025.11.26");
            char want[40];
            es_doc_id(&src.id, b->ev[line / 2].offset, want);
            assert_string_equal(json_string_value(json_object_get(c, "_id")), want);
        } else {
            char msg[64];
            snprintf(msg, sizeof msg, "line %d lorem ipsum", line / 2 + 1);
            assert_string_equal(json_string_value(json_object_get(j, "message")), msg);
        }
        json_decref(j);
    }
    assert_int_equal(line, 6);
    buf_free(&body);
    batch_free(b);
}

static void response_fast_path_and_item_verdicts(void **state)
{
    (void)state;
    const char *ok = "{\"errors\":false,\"items\":[{\"create\":{\"status\":201}}]}";
    const char *ok2 = "{\"took\":3, \"errors\" : false,\"items\":[]}";
    const char *bad = "{\"took\":3,\"errors\":true,\"items\":["
                      "{\"create\":{\"status\":201}},"
                      "{\"create\":{\"status\":409,\"error\":{\"type\":\"version_conflict_engine_exception\",\"reason\":\"exists\"}}},"
                      "{\"create\":{\"status\":429,\"error\":{\"type\":\"es_rejected_execution_exception\",\"reason\":\"busy\"}}},"
                      "{\"create\":{\"status\":400,\"error\":{\"type\":\"mapper_parsing_exception\",\"reason\":\"bad\\nfield\",\"caused_by\":{\"reason\":\"why\"}}}},"
                      "{\"create\":{\"status\":403,\"error\":{\"type\":\"cluster_block_exception\",\"reason\":\"read-only\"}}},"
                      "{\"create\":{\"status\":403,\"error\":{\"type\":\"security_exception\",\"reason\":\"no\"}}},"
                      "{\"create\":{\"status\":503,\"error\":{\"type\":\"unavailable_shards_exception\",\"reason\":\"x\"}}},"
                      "{\"create\":{\"status\":404,\"error\":{\"type\":\"index_not_found_exception\",\"reason\":\"y\"}}}]}";
    assert_int_equal(es_bulk_all_ok(ok, strlen(ok)), 1);
    assert_int_equal(es_bulk_all_ok(ok2, strlen(ok2)), 1);
    assert_int_equal(es_bulk_all_ok(bad, strlen(bad)), 0);
    struct es_item_result r[8];
    char err[128];
    assert_int_equal(es_bulk_parse(bad, strlen(bad), r, 8, err, sizeof err), 0);
    enum es_verdict want[8] = {ES_DONE, ES_DONE, ES_RETRY, ES_DEAD, ES_RETRY, ES_DEAD, ES_RETRY, ES_DEAD};
    for (int i = 0; i < 8; i++)
        assert_int_equal(r[i].verdict, want[i]);
    assert_string_equal(r[3].type, "mapper_parsing_exception");
    assert_null(strchr(r[3].reason, '\n')); /* sanitized: log content can't forge log lines */
    assert_non_null(strstr(r[3].reason, "why"));
    /* wrong item count: the caller must retry the whole request */
    assert_int_equal(es_bulk_parse(bad, strlen(bad), r, 7, err, sizeof err), -1);
    assert_int_equal(es_bulk_parse("nope", 4, r, 1, err, sizeof err), -1);
}

static void config_check_reports_file_line_errors(void **state)
{
    (void)state;
    struct es_cfg k;
    int nerr;
    assert_int_equal(cfg_load(&k, "hosts = http://127.0.0.1:9200\n", &nerr), 0);
    assert_int_equal(k.ec.bulk_max_events, 2000);
    assert_int_equal(k.ec.bulk_max_bytes, 5 << 20);
    assert_int_equal(k.ec.workers, 2);
    cfg_free(&k);
    const char *bad[] = {
        "index = logs\n",                                             /* no hosts */
        "hosts = ftp://x\n",                                          /* scheme */
        "hosts = http://x:9200\nindex = Logs-%Y\n",                   /* upper case */
        "hosts = http://x:9200\nindex = logs-%T\n",                   /* ':' conversion */
        "hosts = http://x:9200\nindex = a\ndata_stream = b\n",        /* exclusive */
        "hosts = http://x:9200\nusername = u\n",                      /* no password */
        "hosts = http://x:9200\nusername = u\npassword = p\napi_key = k\n",
        "hosts = http://x:9200\nworkers = 0\n",
        "hosts = http://x:9200\nbulk_max_bytes = 200MiB\n",
        "hosts = http://x:9200\nca_file = /nonexistent/ca.pem\n",
        "hosts = http://x:9200\nilm_delete_after = 30 days\n",
        "hosts = http://x:9200\nno_such_key = 1\n",
        "hosts = http://x:9200\ncompression = brotli\n",
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        assert_int_equal(cfg_load(&k, bad[i], &nerr), -1);
        assert_true(nerr >= 1);
        cfg_free(&k);
    }
    /* gzip is accepted exactly when this build has zlib */
    int rc = cfg_load(&k, "hosts = http://x:9200\ncompression = gzip\n", &nerr);
    assert_int_equal(rc, es_have_gzip() ? 0 : -1);
    cfg_free(&k);
}

static void setup_bodies_map_ecs_types(void **state)
{
    (void)state;
    struct es_cfg k;
    int nerr;
    assert_int_equal(cfg_load(&k, "hosts = http://x:9200\ndata_stream = logs-logferry-default\n"
                                  "ilm_delete_after = 7d\n", &nerr), 0);
    json_t *t = es_setup_template(&k.ec);
    assert_non_null(t);
    json_t *p = json_object_get(json_object_get(json_object_get(t, "template"), "mappings"),
                                "properties");
    json_t *sc = json_object_get(json_object_get(json_object_get(json_object_get(
        json_object_get(p, "http"), "properties"), "response"), "properties"), "status_code");
    assert_string_equal(json_string_value(json_object_get(sc, "type")), "long");
    json_t *ip = json_object_get(json_object_get(json_object_get(p, "source"), "properties"), "ip");
    assert_string_equal(json_string_value(json_object_get(ip, "type")), "ip");
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "@timestamp"), "type")), "date");
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "message"), "type")), "text");
    assert_non_null(json_object_get(t, "data_stream"));
    assert_string_equal(json_string_value(json_array_get(json_object_get(t, "index_patterns"), 0)),
                        "logs-logferry-default");
    json_decref(t);
    json_t *pol = es_setup_policy(&k.ec);
    json_t *ph = json_object_get(json_object_get(pol, "policy"), "phases");
    assert_string_equal(json_string_value(json_object_get(json_object_get(ph, "delete"), "min_age")), "7d");
    assert_non_null(json_object_get(json_object_get(json_object_get(ph, "hot"), "actions"), "rollover"));
    json_decref(pol);
    cfg_free(&k);
}

/* _bulk bodies are gzip (RFC 1952, as Content-Encoding: gzip says) made by libdeflate: zlib,
 * what Elasticsearch's side stands for here, inflates them to the very body, twice in a row
 * with the same compressor (the output keeps one for its life). */
static void gzip_body_inflates_to_the_body(void **state)
{
    (void)state;
    struct buf body, gz;
    buf_init(&body, 0);
    buf_init(&gz, 0);
    for (int i = 0; i < 2000; i++) {
        char line[160];
        int n = snprintf(line, sizeof line, "{\"create\":{\"_id\":\"%08d\"}}\n{\"message\":"
                         "\"GET /api/%d HTTP/1.1\"}\n", i, i % 37);
        assert_int_equal(buf_add(&body, line, (size_t)n), 0);
    }
    struct lf_compressor *z = lf_compressor_new(1);
    assert_non_null(z);
    for (int round = 0; round < 2; round++) {
        char err[128];
        assert_int_equal(es_gzip(z, body.p, body.len, &gz, err, sizeof err), 0);
        assert_true(gz.len > 10 && gz.len < body.len / 4);
        assert_int_equal((unsigned char)gz.p[0], 0x1f);
        assert_int_equal((unsigned char)gz.p[1], 0x8b);
        char *back = malloc(body.len + 1);
        assert_non_null(back);
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
        zs.next_in = (Bytef *)gz.p;
        zs.avail_in = (uInt)gz.len;
        zs.next_out = (Bytef *)back;
        zs.avail_out = (uInt)body.len + 1;
        assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
        assert_int_equal(zs.total_out, body.len);
        assert_memory_equal(back, body.p, body.len);
        inflateEnd(&zs);
        free(back);
    }
    char err[128];
    assert_int_equal(es_gzip(NULL, body.p, body.len, &gz, err, sizeof err), -1);
    lf_compressor_free(z);
    buf_free(&body);
    buf_free(&gz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(doc_id_is_deterministic_and_distinct),
        cmocka_unit_test(index_name_is_strftime_over_utc_timestamp),
        cmocka_unit_test(index_names_from_log_timestamps_are_checked),
        cmocka_unit_test(bulk_answer_with_too_many_values_is_refused_before_parsing),
        cmocka_unit_test(bulk_body_is_create_action_then_event_json),
        cmocka_unit_test(gzip_body_inflates_to_the_body),
        cmocka_unit_test(response_fast_path_and_item_verdicts),
        cmocka_unit_test(config_check_reports_file_line_errors),
        cmocka_unit_test(setup_bodies_map_ecs_types),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
