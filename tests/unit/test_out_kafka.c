/*
 * test_out_kafka.c - the Kafka output's delivery, driven directly (init/send/tick/flush/
 * destroy) against librdkafka's mock cluster in this process: every event once and in
 * order, each batch acked exactly once, brokers down and back, a full queue, injected
 * produce errors, a fatal error that rebuilds the producer, a flush that times out.
 * Fixtures in test_out_kafka_util.h.
 *
 * floor: outputs
 */
#include "test_out_kafka_util.h"

/* ---- tests ---- */

static void kafka_delivers_every_event_once_in_order_and_acks_each_batch_once(void **state)
{
    (void)state;
    rd_kafka_mock_topic_create(mc, "t-order", 1, 1);
    struct loaded l;
    load(&l, "topic = t-order\ncompression = lz4");
    void *st = start(&l);
    struct event_batch *b[20];
    send_batches(st, b, 20, 0, 500);
    drive(st, 20, 15000);
    assert_int_equal(out_kafka_desc.flush(st, 5000), 0);
    assert_acked_once(b, 20);
    assert_int_equal(nack, 20);
    assert_int_equal(METRIC_GET(metrics.events_acked), 10000);
    out_kafka_desc.destroy(st);
    assert_topic_has_each_once_in_order("t-order", 10000);
    free_batches(b, 20);
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
    send_batches(st, b, 5, 100, 100);
    tick_for(st, 3000);
    assert_int_equal(nack, 1); /* nothing acked while the broker is down */
    rd_kafka_mock_broker_set_up(mc, 1);
    drive(st, 6, 15000);
    assert_int_equal(out_kafka_desc.flush(st, 5000), 0);
    assert_acked_once(b, 5);
    out_kafka_desc.destroy(st);
    /* one key: one partition, in file order */
    assert_topic_has_each_once_in_order("t-down", 600);
    batch_free(first);
    free_batches(b, 5);
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
    send_batches(st, b, 10, 0, 120);
    drive(st, 10, 30000);
    assert_int_equal(out_kafka_desc.flush(st, 10000), 0);
    rd_kafka_mock_broker_set_rtt(mc, 1, 0);
    assert_acked_once(b, 10);
    assert_int_equal(METRIC_GET(metrics.events_acked), 1200);
    out_kafka_desc.destroy(st);
    assert_topic_has_each_once_in_order("t-full", 1200);
    free_batches(b, 10);
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
    send_batches(st, b, 4, 0, 250);
    drive(st, 4, 20000);
    assert_int_equal(out_kafka_desc.flush(st, 5000), 0);
    assert_acked_once(b, 4);
    out_kafka_desc.destroy(st);
    /* idempotence: retries add no duplicates */
    assert_topic_has_each_once_in_order("t-err", 1000);
    free_batches(b, 4);
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
    send_batches(st, b, 3, 100, 100);
    /* what an idempotent producer does when it cannot go on (e.g. a sequence gap) */
    assert_int_equal(rd_kafka_test_fatal_error(((struct kafka_out *)st)->rk,
                                               RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                               "unit test"), 0);
    tick_for(st, 1500);
    assert_int_equal(nack, 1);
    rd_kafka_mock_broker_set_up(mc, 1);
    drive(st, 4, 15000);
    assert_int_equal(out_kafka_desc.flush(st, 5000), 0);
    assert_acked_once(b, 3);
    assert_true(METRIC_GET(metrics.events_retried) >= 300);
    out_kafka_desc.destroy(st);
    static int seen[400];
    memset(seen, 0, sizeof seen);
    int in_order;
    consume("t-fatal", seen, 400, &in_order);
    for (int i = 0; i < 400; i++)
        assert_true(seen[i] >= 1);
    batch_free(first);
    free_batches(b, 3);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(kafka_delivers_every_event_once_in_order_and_acks_each_batch_once,
                               test_setup),
        cmocka_unit_test_setup(kafka_broker_down_holds_acks_then_delivers_all_after_return,
                               test_setup),
        cmocka_unit_test_setup(kafka_full_queue_waits_and_delivers_everything_in_order, test_setup),
        cmocka_unit_test_setup(kafka_injected_produce_errors_are_retried_without_loss, test_setup),
        cmocka_unit_test_setup(kafka_fatal_error_rebuilds_the_producer_and_loses_nothing,
                               test_setup),
        cmocka_unit_test_setup(kafka_flush_with_brokers_down_times_out_and_acks_nothing,
                               test_setup),
        cmocka_unit_test_setup(kafka_batch_without_wanted_events_is_acked_at_once, test_setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
