/*
 * test_container.c - container inputs (format = docker | cri | auto, parsers/container.c
 * through lineproc): Filebeat's own docker/CRI reader cases, Spring Boot output with %wEx
 * stack traces as the application writes it and as Docker and Kubernetes store its stdout,
 * the fields a runtime file's path gives, JSON unescaping, split lines that never end, and
 * the cap on a rejoined line.
 *
 * floor: parsers
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "parsers/container.h"
#include "test_parser_util.h"

#define CID "3f4e6a0c2b1d5e7f9a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f"
#define DOCKER_PATH "/var/lib/docker/containers/" CID "/" CID "-json.log"
#define K8S_PATH "/var/log/containers/orders-7d9f8b6c5-x2x9q_shop_orders-" CID ".log"

static const char *SPRING = "[input app]\nparser = spring_boot\nmultiline = java\n"
                            "timezone = UTC\n";

static void beats_docker_json_cases(void **s)
{
    (void)s;
    tp_file_path = "/var/log/test.log";
    assert_true(tp_check_fixture("[input c]\nformat = docker\n", "c", "beats-container",
                                 "docker.log") >= 20);
    /* auto reads a json-file line as docker */
    assert_true(tp_check_fixture("[input c]\nformat = auto\n", "c", "beats-container",
                                 "docker.log") >= 20);
}

static void beats_cri_cases(void **s)
{
    (void)s;
    tp_file_path = "/var/log/test.log";
    assert_true(tp_check_fixture("[input c]\nformat = cri\n", "c", "beats-container",
                                 "cri.log") >= 20);
    assert_true(tp_check_fixture("[input c]\nformat = auto\n", "c", "beats-container",
                                 "cri.log") >= 20);
}

/* moby's json-file encodings and containerd's CRI writer forms (see their SOURCE.md). */
static void moby_and_containerd_cases(void **s)
{
    (void)s;
    tp_file_path = "/var/log/test.log";
    assert_true(tp_check_fixture("[input c]\nformat = docker\n", "c", "moby-containerd",
                                 "docker.log") >= 36);
    assert_true(tp_check_fixture("[input c]\nformat = cri\n", "c", "moby-containerd",
                                 "cri.log") >= 20);
}

static void spring_boot_wex_traces_are_one_event(void **s)
{
    (void)s;
    tp_file_path = "/var/log/app/app.log";
    int n = tp_check_fixture(SPRING, "app", "spring-boot", "app.log");
    assert_true(n > 40);
}

static void spring_boot_on_docker_stdout(void **s)
{
    (void)s;
    tp_file_path = DOCKER_PATH;
    char conf[256];
    snprintf(conf, sizeof conf, "%sformat = docker\n", SPRING);
    assert_true(tp_check_fixture(conf, "app", "spring-boot", "docker-app.log") > 70);
    snprintf(conf, sizeof conf, "%sformat = auto\n", SPRING);
    assert_true(tp_check_fixture(conf, "app", "spring-boot", "docker-app.log") > 70);
}

static void spring_boot_on_kubernetes_cri(void **s)
{
    (void)s;
    tp_file_path = K8S_PATH;
    char conf[256];
    snprintf(conf, sizeof conf, "%sformat = cri\n", SPRING);
    assert_true(tp_check_fixture(conf, "app", "spring-boot", "cri-app.log") > 90);
}

static void identity_from_runtime_paths(void **s)
{
    (void)s;
    struct ctr_source cs;
    ctr_source_from_path(DOCKER_PATH, &cs);
    assert_string_equal(cs.id, CID);
    assert_string_equal(cs.pod, "");
    ctr_source_from_path(DOCKER_PATH ".1", &cs); /* rotated by the driver */
    assert_string_equal(cs.id, CID);
    ctr_source_from_path(K8S_PATH, &cs);
    assert_string_equal(cs.pod, "orders-7d9f8b6c5-x2x9q");
    assert_string_equal(cs.ns, "shop");
    assert_string_equal(cs.name, "orders");
    assert_string_equal(cs.id, CID);
    ctr_source_from_path("/var/log/pods/shop_orders-7d9f8b6c5-x2x9q_0f1e2d3c-aaaa-bbbb-cccc-"
                         "0123456789ab/orders/0.log", &cs);
    assert_string_equal(cs.pod, "orders-7d9f8b6c5-x2x9q");
    assert_string_equal(cs.ns, "shop");
    assert_string_equal(cs.name, "orders");
    assert_string_equal(cs.id, "");
    /* look-alikes give nothing */
    ctr_source_from_path("/var/log/containers/no_id_here.log", &cs);
    assert_string_equal(cs.pod, "");
    ctr_source_from_path("/var/lib/docker/containers/abc/abc-json.log", &cs);
    assert_string_equal(cs.id, "");
    ctr_source_from_path("app.log", &cs);
    assert_string_equal(cs.id, "");
}

static void docker_unescaping(void **s)
{
    (void)s;
    struct buf sc = {0};
    struct ctr_line cl;
    const char *l = "{\"log\":\"a\\\"b\\\\c\\/d\\te \\u003cx\\u0026\\u00e9 \\ud83d\\ude00 "
                    "\\ud800!\\r\\n\",\"stream\":\"stderr\",\"time\":\"2026-01-02T03:04:05.678Z\"}";
    assert_int_equal(ctr_decode(CTR_DOCKER, l, strlen(l), &sc, NULL, &cl), 0);
    const char *want = "a\"b\\c/d\te <x&\xc3\xa9 \xf0\x9f\x98\x80 \xef\xbf\xbd!";
    assert_int_equal(cl.len, strlen(want));
    assert_memory_equal(cl.text, want, cl.len);
    assert_int_equal(cl.stream, CTR_STDERR);
    assert_false(cl.partial);
    assert_int_equal(cl.ts_ms, 1767323045678LL);
    /* not the driver's: bad escape, raw control byte, trailing garbage, log not a string,
     * unknown stream, truncated */
    static const char *const bad[] = {
        "{\"log\":\"a\\x\\n\",\"stream\":\"stdout\",\"time\":\"2026-01-02T03:04:05Z\"}",
        "{\"log\":\"a\tb\\n\",\"stream\":\"stdout\",\"time\":\"2026-01-02T03:04:05Z\"}",
        "{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":\"2026-01-02T03:04:05Z\"} x",
        "{\"log\":1,\"stream\":\"stdout\",\"time\":\"2026-01-02T03:04:05Z\"}",
        "{\"log\":\"a\\n\",\"stream\":\"stdin\",\"time\":\"2026-01-02T03:04:05Z\"}",
        "{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":\"2026-01-02T03:0",
        "{\"log\":\"a\\n\",\"stream\":\"stdout\",\"attrs\":{\"k\":[1,{\"x\":nul}]},"
        "\"time\":\"2026-01-02T03:04:05Z\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ctr_decode(CTR_DOCKER, bad[i], strlen(bad[i]), &sc, NULL, &cl), -1);
    const char *ok = "{ \"attrs\" : {\"k\":[1,-2.5e3,true,null,{\"x\":\"y\"}]}, \"log\":\"\","
                     "\"stream\":\"stdout\",\"time\":\"2026-01-02T03:04:05Z\" }";
    assert_int_equal(ctr_decode(CTR_DOCKER, ok, strlen(ok), &sc, NULL, &cl), 0);
    assert_true(cl.partial); /* no "\n": a piece */
    buf_free(&sc);
}

/* CRI-O writes its time with an offset, containerd in UTC; an empty F line is an empty
 * line; a tag with extensions (F:x) is still a tag; a stream other than stdout/stderr is not
 * CRI. */
static void cri_line_forms(void **s)
{
    (void)s;
    struct buf sc = {0};
    struct ctr_line cl;
    const char *l = "2021-05-17T19:43:06.552584864-07:00 stderr F boom";
    assert_int_equal(ctr_decode(CTR_CRI, l, strlen(l), &sc, NULL, &cl), 0);
    assert_int_equal(cl.ts_ms, 1621305786552LL);
    assert_int_equal(cl.stream, CTR_STDERR);
    assert_int_equal(cl.len, 4);
    assert_memory_equal(cl.text, "boom", 4);
    l = "2021-05-17T19:43:06Z stdout F";
    assert_int_equal(ctr_decode(CTR_AUTO, l, strlen(l), &sc, NULL, &cl), 0);
    assert_int_equal(cl.len, 0);
    assert_false(cl.partial);
    l = "2021-05-17T19:43:06Z stdout P:x half";
    assert_int_equal(ctr_decode(CTR_CRI, l, strlen(l), &sc, NULL, &cl), 0);
    assert_true(cl.partial);
    assert_memory_equal(cl.text, "half", 4);
    l = "2021-05-17T19:43:06Z stdin F x";
    assert_int_equal(ctr_decode(CTR_CRI, l, strlen(l), &sc, NULL, &cl), -1);
    l = "yesterday stdout F x";
    assert_int_equal(ctr_decode(CTR_CRI, l, strlen(l), &sc, NULL, &cl), -1);
    buf_free(&sc);
}

/* A P piece that never gets its F: shipped at the file's close, marked truncated, covering
 * its bytes; the lines before it are not held back by it. */
static void partial_line_without_end_is_flushed_truncated(void **s)
{
    (void)s;
    tp_file_path = "/var/log/test.log";
    struct tp t;
    assert_int_equal(tp_open(&t, "[input c]\nformat = cri\n", "c"), 0);
    tp_off = 0;
    assert_int_equal(tp_feed(&t, "2026-01-02T03:04:05Z stdout F one"), 0);
    assert_int_equal(tp_feed(&t, "2026-01-02T03:04:05Z stdout P two-a"), 0);
    assert_int_equal(tp_feed(&t, "2026-01-02T03:04:06Z stdout P two-b"), 0);
    assert_int_equal(t.n, 1);
    assert_int_equal(lineproc_pending_offset(t.st), 34);
    assert_int_equal(tp_flush(&t), 0);
    assert_int_equal(t.n, 2);
    assert_string_equal(tp_str(&t, 1, "message"), "two-atwo-b");
    assert_true(t.rec[1].flags & EV_TRUNCATED);
    assert_int_equal(t.rec[1].offset, 34);
    assert_int_equal(t.rec[1].end, tp_off);
    assert_string_equal(tp_str(&t, 1, "@timestamp"), "2026-01-02T03:04:05.000Z");
    tp_close(&t);
}

/* A rejoined line is capped at the input's max_line_bytes (cut on a UTF-8 boundary, marked
 * truncated) and shipped as soon as the cap is reached; the rest of its pieces is passed
 * over up to its last one. A stream change ends a piece run. */
static void rejoined_line_is_capped_and_streams_do_not_mix(void **s)
{
    (void)s;
    tp_file_path = "/var/log/test.log";
    struct tp t;
    assert_int_equal(tp_open(&t, "[input c]\nformat = docker\nmax_line_bytes = 64\n", "c"), 0);
    tp_off = 0;
    char line[256];
    uint64_t cut_end = 0;
    for (int i = 0; i < 5; i++) {
        snprintf(line, sizeof line,
                 "{\"log\":\"%d-\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\","
                 "\"stream\":\"stdout\",\"time\":\"2026-01-02T03:04:05Z\"}", i);
        assert_int_equal(tp_feed(&t, line), 0);
        if (i == 3) /* 4 x 18 bytes > 64: shipped with the 4th piece */
            cut_end = tp_off;
        assert_int_equal(t.n, i >= 3 ? 1 : 0);
    }
    assert_int_equal(tp_feed(&t, "{\"log\":\"end\\n\",\"stream\":\"stdout\","
                                 "\"time\":\"2026-01-02T03:04:05Z\"}"), 0);
    assert_int_equal(t.n, 1); /* the last piece ends the skipped run, no event of its own */
    assert_true(t.rec[0].flags & EV_TRUNCATED);
    const char *m = tp_str(&t, 0, "message");
    assert_true(strlen(m) <= 64 && strlen(m) >= 60);
    assert_int_equal(t.rec[0].offset, 0);
    assert_int_equal(t.rec[0].end, cut_end);
    /* the next line is read again as a line of its own */
    assert_int_equal(tp_feed(&t, "{\"log\":\"next\\n\",\"stream\":\"stdout\","
                                 "\"time\":\"2026-01-02T03:04:05Z\"}"), 0);
    assert_int_equal(t.n, 2);
    assert_string_equal(tp_str(&t, 1, "message"), "next");
    assert_false(t.rec[1].flags & EV_TRUNCATED);
    /* stdout piece, then a stderr line: the piece is shipped alone, truncated */
    uint64_t o = tp_off;
    assert_int_equal(tp_feed(&t, "{\"log\":\"half\",\"stream\":\"stdout\","
                                 "\"time\":\"2026-01-02T03:04:05Z\"}"), 0);
    assert_int_equal(tp_feed(&t, "{\"log\":\"err\\n\",\"stream\":\"stderr\","
                                 "\"time\":\"2026-01-02T03:04:05Z\"}"), 0);
    assert_int_equal(t.n, 4);
    assert_string_equal(tp_str(&t, 2, "message"), "half");
    assert_true(t.rec[2].flags & EV_TRUNCATED);
    assert_int_equal(t.rec[2].offset, o);
    assert_string_equal(tp_str(&t, 3, "stream"), "stderr");
    assert_false(t.rec[3].flags & EV_TRUNCATED);
    tp_close(&t);
}

static void bad_format_value_is_a_config_error(void **s)
{
    (void)s;
    struct tp t;
    assert_true(tp_conf_errors(&t, "[input c]\nformat = podman\n", "c") > 0);
    assert_true(tp_has_error(&t, "format: 'podman' is not one of docker|cri|auto"));
    tp_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(beats_docker_json_cases),
        cmocka_unit_test(beats_cri_cases),
        cmocka_unit_test(moby_and_containerd_cases),
        cmocka_unit_test(spring_boot_wex_traces_are_one_event),
        cmocka_unit_test(spring_boot_on_docker_stdout),
        cmocka_unit_test(spring_boot_on_kubernetes_cri),
        cmocka_unit_test(identity_from_runtime_paths),
        cmocka_unit_test(docker_unescaping),
        cmocka_unit_test(cri_line_forms),
        cmocka_unit_test(partial_line_without_end_is_flushed_truncated),
        cmocka_unit_test(rejoined_line_is_capped_and_streams_do_not_mix),
        cmocka_unit_test(bad_format_value_is_a_config_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
