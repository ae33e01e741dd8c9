/*
 * test_out_kafka_conf.c - the Kafka output's configuration check (outputs/kafka_conf.c)
 * and `logferry test-output` (kafka_test.c): errors name the line and librdkafka's message
 * and never a secret; test-output says reachable and writable, or why not.
 * Fixtures in test_out_kafka_util.h.
 *
 * floor: outputs
 */
#include "test_out_kafka_util.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(kafka_check_names_line_and_librdkafka_message_and_never_a_secret,
                               test_setup),
        cmocka_unit_test_setup(kafka_test_output_reports_reachable_and_writable_or_not, test_setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
