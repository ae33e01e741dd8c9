/*
 * test_parser_spring.c - the spring_boot built-in (v2, v3 with offset, 3.2+ with
 * [application] and correlation) and the json built-in (logstash-logback-encoder and ECS
 * logger lines, flattening, arrays, non-JSON lines).
 *
 * floor: parsers
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_parser_util.h"

static void spring_v2_line(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, "[input app]\nparser = spring_boot\ntimezone = Asia/Seoul\n",
                             "app"),
                     0);
    tp_off = 0;
    assert_int_equal(tp_feed(&t, "2026-11-26 12:00:00.123  INFO 4242 --- [nio-8080-exec-1] "
                                 "c.d.Controller                           : hello world"),
                     0);
    assert_int_equal(t.n, 1);
    assert_false(tp_failed(&t, 0));
    /* no offset in the line: Asia/Seoul (UTC+9) */
    assert_string_equal(tp_str(&t, 0, "@timestamp"), "2026-11-26T03:00:00.123Z");
    assert_string_equal(tp_str(&t, 0, "log.level"), "INFO");
    assert_int_equal(tp_int(&t, 0, "process.pid"), 4242);
    assert_string_equal(tp_str(&t, 0, "process.thread.name"), "nio-8080-exec-1");
    assert_string_equal(tp_str(&t, 0, "log.logger"), "c.d.Controller");
    assert_string_equal(tp_str(&t, 0, "log.message"), "hello world");
    assert_non_null(strstr(tp_str(&t, 0, "message"), "2026-11-26 12:00:00.123  INFO"));
    tp_close(&t);
}

static void spring_v3_offset_and_32_application(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, "[input app]\nparser = spring_boot\n", "app"), 0);
    tp_off = 0;
    assert_int_equal(tp_feed(&t, "2026-11-26T12:00:00.123+09:00  WARN 7 --- [           main] "
                                 "o.s.b.StartupInfoLogger : Started in 1.2 s"),
                     0);
    assert_int_equal(tp_feed(&t, "2026-11-26T12:00:00.5Z ERROR 7 --- [orders] [nio-1-exec-2] "
                                 "c.e.OrderService : failed"),
                     0);
    assert_int_equal(tp_feed(&t, "2026-11-26T12:00:00.123456789-05:00 DEBUG 7 --- [orders] "
                                 "[main] [4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7] "
                                 "c.e.X : traced"),
                     0);
    assert_int_equal(tp_feed(&t, "2026-11-26T12:00:00.000+09:00  INFO 7 --- [main] "
                                 "[                                                 ] c.e.Y : "),
                     0);
    assert_int_equal(t.n, 4);
    for (int i = 0; i < 4; i++)
        assert_false(tp_failed(&t, i));
    assert_string_equal(tp_str(&t, 0, "@timestamp"), "2026-11-26T03:00:00.123Z");
    assert_string_equal(tp_str(&t, 0, "process.thread.name"), "main");
    assert_null(tp_path(t.rec[0].j, "service.name"));
    assert_string_equal(tp_str(&t, 1, "@timestamp"), "2026-11-26T12:00:00.500Z");
    assert_string_equal(tp_str(&t, 1, "service.name"), "orders");
    assert_string_equal(tp_str(&t, 1, "process.thread.name"), "nio-1-exec-2");
    assert_string_equal(tp_str(&t, 1, "log.level"), "ERROR");
    assert_string_equal(tp_str(&t, 2, "@timestamp"), "2026-11-26T17:00:00.123Z");
    assert_string_equal(tp_str(&t, 2, "trace.id"), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_string_equal(tp_str(&t, 2, "span.id"), "00f067aa0ba902b7");
    assert_string_equal(tp_str(&t, 2, "process.thread.name"), "main");
    assert_string_equal(tp_str(&t, 3, "process.thread.name"), "main");
    assert_null(tp_path(t.rec[3].j, "trace"));
    assert_string_equal(tp_str(&t, 3, "log.message"), "");
    tp_close(&t);
}

static void spring_stack_trace_with_multiline_java(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, "[input app]\nparser = spring_boot\nmultiline = java\n",
                             "app"),
                     0);
    tp_off = 0;
    tp_feed(&t, "2026-11-26 12:00:00.123 ERROR 4242 --- [nio-8080-exec-1] c.d.Controller : "
                "Request failed");
    tp_feed(&t, "java.lang.IllegalStateException: boom");
    tp_feed(&t, "\tat com.example.Svc.run(Svc.java:10)");
    tp_feed(&t, "Caused by: java.io.IOException: disk");
    tp_feed(&t, "\t... 3 more");
    tp_feed(&t, "2026-11-26 12:00:01.000  INFO 4242 --- [main] c.d.Other : next");
    assert_int_equal(t.n, 1);
    assert_int_equal(tp_flush(&t), 0);
    assert_int_equal(t.n, 2);
    assert_false(tp_failed(&t, 0));
    assert_true(t.rec[0].flags & EV_MULTILINE);
    assert_string_equal(tp_str(&t, 0, "log.message"), "Request failed");
    assert_string_equal(tp_str(&t, 0, "error.stack_trace"),
                        "java.lang.IllegalStateException: boom\n"
                        "\tat com.example.Svc.run(Svc.java:10)\n"
                        "Caused by: java.io.IOException: disk\n\t... 3 more");
    assert_non_null(strstr(tp_str(&t, 0, "message"), "Request failed\njava.lang.Illegal"));
    assert_null(tp_path(t.rec[1].j, "error"));
    tp_close(&t);
}

static void spring_non_matching_line_is_failure(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, "[input app]\nparser = spring_boot\n", "app"), 0);
    tp_off = 0;
    tp_feed(&t, "  .   ____          _            __ _ _");
    tp_feed(&t, "2026-02-30 12:00:00.123  INFO 1 --- [main] c.X : bad date");
    assert_true(tp_failed(&t, 0));
    assert_true(tp_failed(&t, 1));
    assert_string_equal(tp_str(&t, 1, "log.message"), "bad date");
    tp_close(&t);
}

static void json_logback_encoder_keys_map_to_ecs(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, "[input j]\nparser = json\n", "j"), 0);
    tp_off = 0;
    tp_feed(&t, "{\"@timestamp\":\"2026-11-26T12:00:00.123+09:00\",\"@version\":\"1\","
                "\"message\":\"Order placed\",\"logger_name\":\"c.e.Orders\","
                "\"thread_name\":\"http-1\",\"level\":\"WARN\",\"level_value\":30000,"
                "\"stack_trace\":\"java.lang.X: y\\n\\tat a.b(C.java:1)\","
                "\"mdc\":{\"user\":{\"id\":7,\"vip\":true}},\"tags\":[\"a\",\"b\"],"
                "\"ratio\":0.5,\"nothing\":null}");
    assert_int_equal(t.n, 1);
    assert_false(tp_failed(&t, 0));
    assert_string_equal(tp_str(&t, 0, "@timestamp"), "2026-11-26T03:00:00.123Z");
    assert_string_equal(tp_str(&t, 0, "log.level"), "WARN");
    assert_string_equal(tp_str(&t, 0, "log.logger"), "c.e.Orders");
    assert_string_equal(tp_str(&t, 0, "process.thread.name"), "http-1");
    assert_string_equal(tp_str(&t, 0, "error.stack_trace"), "java.lang.X: y\n\tat a.b(C.java:1)");
    assert_string_equal(tp_str(&t, 0, "log.message"), "Order placed");
    assert_int_equal(tp_int(&t, 0, "level_value"), 30000);
    assert_int_equal(tp_int(&t, 0, "mdc.user.id"), 7);
    assert_true(json_is_true(tp_path(t.rec[0].j, "mdc.user.vip")));
    json_t *tags = tp_path(t.rec[0].j, "tags");
    assert_true(json_is_array(tags));
    assert_int_equal(json_array_size(tags), 2);
    assert_true(json_real_value(tp_path(t.rec[0].j, "ratio")) == 0.5);
    assert_null(tp_path(t.rec[0].j, "nothing"));
    /* the raw line is the message, not the logger's text */
    assert_true(tp_str(&t, 0, "message")[0] == '{');
    tp_close(&t);
}

static void json_ecs_logger_dotted_keys(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, "[input j]\nparser = json\n", "j"), 0);
    tp_off = 0;
    tp_feed(&t, "{\"@timestamp\":\"2026-11-26T03:00:00.000Z\",\"log.level\":\"ERROR\","
                "\"message\":\"boom\",\"ecs.version\":\"1.2.0\",\"service.name\":\"orders\","
                "\"log.logger\":\"c.e.O\",\"error.type\":\"java.lang.X\",\"a..b\":1}");
    assert_false(tp_failed(&t, 0));
    assert_string_equal(tp_str(&t, 0, "log.level"), "ERROR");
    assert_string_equal(tp_str(&t, 0, "service.name"), "orders");
    assert_string_equal(tp_str(&t, 0, "error.type"), "java.lang.X");
    assert_string_equal(tp_str(&t, 0, "ecs.version"), "1.2.0");
    assert_string_equal(tp_str(&t, 0, "log.message"), "boom");
    assert_int_equal(tp_int(&t, 0, "a__b"), 1);
    tp_close(&t);
}

/* Spring Boot 3.4+ structured logging (ecs, logstash) and the tracing MDC keys. */
static void spring_structured_logging_fixture(void **s)
{
    (void)s;
    assert_true(tp_check_fixture("[input app]\nparser = json\n", "app", "spring-boot",
                                 "structured.log") > 30);
}

static void json_not_an_object_is_failure(void **s)
{
    (void)s;
    struct tp t;
    assert_int_equal(tp_open(&t, "[input j]\nparser = json\n", "j"), 0);
    tp_off = 0;
    tp_feed(&t, "plain text line");
    tp_feed(&t, "[1,2,3]");
    tp_feed(&t, "{\"truncated\": ");
    tp_feed(&t, "{\"@timestamp\":\"yesterday\",\"message\":\"m\"}");
    assert_int_equal(t.n, 4);
    for (int i = 0; i < 4; i++)
        assert_true(tp_failed(&t, i));
    assert_string_equal(tp_str(&t, 0, "message"), "plain text line");
    assert_string_equal(tp_str(&t, 3, "log.message"), "m");
    tp_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spring_v2_line),
        cmocka_unit_test(spring_v3_offset_and_32_application),
        cmocka_unit_test(spring_stack_trace_with_multiline_java),
        cmocka_unit_test(spring_non_matching_line_is_failure),
        cmocka_unit_test(json_logback_encoder_keys_map_to_ecs),
        cmocka_unit_test(json_ecs_logger_dotted_keys),
        cmocka_unit_test(json_not_an_object_is_failure),
        cmocka_unit_test(spring_structured_logging_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
