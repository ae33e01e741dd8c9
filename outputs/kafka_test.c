/*
 * kafka_test.c - `logferry test-output` for the Kafka output (Filebeat's `test output`).
 *
 * Creates a producer with the configured settings, asks the cluster for metadata (the
 * topic's when it is fixed, the brokers' when it is a template) and answers in one sentence:
 * reachable or not, and whether the topic exists, has leaders and may be written. Runs on the
 * CLI's thread; produces nothing.
 */
#include "outputs/kafka_int.h"

#include "agent/base/log.h"

#include <stdio.h>
#include <string.h>

#define KAFKA_TEST_TIMEOUT_MS 5000

/* Connection failures are the answer, said once in msg: librdkafka's lines go to debug. */
static void test_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    (void)level;
    LF_LOG(LF_DEBUG, "out.kafka", "test-output: librdkafka %s: %s", fac, buf);
}

int kafka_test(const void *vconf, const struct output_env *env, char *msg, size_t msgsz)
{
    const struct kafka_conf *kc = vconf;
    char err[512];
    (void)env;
    if (!kc->brokers || !*kc->brokers || !kc->topic) {
        snprintf(msg, msgsz, "brokers and topic must be set");
        return -1;
    }
    rd_kafka_conf_t *rc = kconf_build(kc, 1, err, sizeof err);
    if (!rc) {
        snprintf(msg, msgsz, "invalid settings: %s", err);
        return -1;
    }
    rd_kafka_conf_set_log_cb(rc, test_log);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, rc, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(rc);
        snprintf(msg, msgsz, "cannot create a Kafka producer: %s", err);
        return -1;
    }
    struct ktpl t;
    int fixed = 0;
    if (ktpl_compile(kc->topic ? kc->topic : "", &t, err, sizeof err) == 0) {
        fixed = t.kind == KTPL_STATIC;
        ktpl_free(&t);
    }
    rd_kafka_topic_t *rkt = fixed ? rd_kafka_topic_new(rk, kc->topic, NULL) : NULL;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, KAFKA_TEST_TIMEOUT_MS);
    int rc2 = -1;
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(msg, msgsz, "brokers %s not reachable within %d s: %s", kc->brokers,
                 KAFKA_TEST_TIMEOUT_MS / 1000, rd_kafka_err2str(e));
    } else if (!fixed) {
        snprintf(msg, msgsz, "brokers %s reachable (%d brokers); the topic is a template (%s), "
                 "so each topic is checked when first written", kc->brokers, md->broker_cnt,
                 kc->topic);
        rc2 = 0;
    } else if (md->topic_cnt < 1) {
        snprintf(msg, msgsz, "brokers %s reachable but returned no metadata for topic %s",
                 kc->brokers, kc->topic);
    } else {
        const struct rd_kafka_metadata_topic *mt = &md->topics[0];
        int leaders = 0;
        for (int i = 0; i < mt->partition_cnt; i++)
            if (mt->partitions[i].leader >= 0 && mt->partitions[i].err == 0)
                leaders++;
        if (mt->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
            snprintf(msg, msgsz, "brokers %s reachable, but not authorized for topic %s: not "
                     "writable", kc->brokers, kc->topic);
        } else if (mt->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            snprintf(msg, msgsz, "brokers %s reachable, but topic %s does not exist (writable "
                     "only if the cluster creates topics automatically)", kc->brokers, kc->topic);
        } else if (mt->err) {
            snprintf(msg, msgsz, "brokers %s reachable, topic %s: %s", kc->brokers, kc->topic,
                     rd_kafka_err2str(mt->err));
        } else if (leaders < mt->partition_cnt || mt->partition_cnt == 0) {
            snprintf(msg, msgsz, "brokers %s reachable, topic %s has %d of %d partitions with "
                     "a leader: not fully writable", kc->brokers, kc->topic, leaders,
                     mt->partition_cnt);
        } else {
            snprintf(msg, msgsz, "brokers %s reachable (%d brokers), topic %s has %d "
                     "partitions with leaders: writable", kc->brokers, md->broker_cnt,
                     kc->topic, mt->partition_cnt);
            rc2 = 0;
        }
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return rc2;
}
