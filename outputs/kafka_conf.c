/*
 * kafka_conf.c - the Kafka output's settings: the config table, check(), and the
 * rd_kafka_conf_t built from them (defaults chosen so that no line is ever dropped).
 *
 * Runs at configuration time: check() on the CLI's thread (`logferry check`, before start),
 * kconf_build() from init() on the output's thread and from test(). Never prints the value
 * of a property that looks like a secret: librdkafka's own error text can quote the value,
 * so for those we replace its sentence with ours.
 */
#include "outputs/kafka_int.h"

#include "agent/base/log.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const struct conf_key kafka_conf_keys[] = {
    {"brokers", CT_STR, NULL, offsetof(struct kafka_conf, brokers),
     "bootstrap brokers, host:port[,host:port...]", NULL},
    {"topic", CT_STR, NULL, offsetof(struct kafka_conf, topic),
     "topic, or a template over event fields: logs-%{service.name} or "
     "logs-%{service.name:-misc} (default after ':-')", NULL},
    {"topic_fallback", CT_STR, "", offsetof(struct kafka_conf, topic_fallback),
     "topic for events whose template field is missing and has no default, or gives a name "
     "log content may not choose; empty = such events go to the dead-letter file", NULL},
    {"key", CT_STR, "", offsetof(struct kafka_conf, key),
     "event field used as the message key (partitioning, order per key), e.g. "
     "log.file.path or host.name; empty = no key", NULL},
    {"compression", CT_STR, "none", offsetof(struct kafka_conf, compression),
     "compression codec of the produced batches", "none|gzip|snappy|lz4|zstd"},
    {"kafka.", CT_PREFIX, NULL, offsetof(struct kafka_conf, props),
     "any librdkafka property, passed through (kafka.security.protocol = ssl, "
     "kafka.linger.ms = 20, ...); an unknown property is a check error with librdkafka's "
     "message; secret values are never printed", NULL},
    {NULL, 0, NULL, 0, NULL, NULL},
};

/* Our defaults, applied before the user's kafka.* so the user can override any of them.
 *  - idempotence + acks=all: the broker confirms only what every in-sync replica has, and
 *    retries never duplicate or reorder within a partition (max.in.flight <= 5).
 *  - message.timeout.ms=0: librdkafka never gives up on a message; while brokers are down
 *    the queue fills, send() stops taking new batches and the pipeline pauses reading.
 *  - reconnect.backoff.max.ms=1000: after an outage, flow resumes within about a second of
 *    the broker's return (the default ramps up to 10 s).
 *  - linger.ms=10: what logferry has in flight is bounded by the pipeline's budget, so a
 *    long linger makes throughput wait on the timer as soon as messages spread over
 *    partitions (a key): keyed, 50 ms gave 180,000 events/s, 10 ms 440,000, 5 ms 590,000;
 *    unkeyed, CPU per million events 1.0 at 50 ms, 1.14 at 10 ms, 1.47 at 5 ms
 *    (bench/kafka.sh, docs/kafka.md).
 *  - batch sizes: large batches per request for throughput; a queue bounded in bytes. */
static const char *const kconf_defaults[][2] = {
    {"client.id", "logferry"},
    {"enable.idempotence", "true"},
    {"acks", "all"},
    {"message.timeout.ms", "0"},
    {"max.in.flight.requests.per.connection", "5"},
    {"linger.ms", "10"},
    {"batch.num.messages", "10000"},
    {"batch.size", "1000000"},
    {"queue.buffering.max.messages", "200000"},
    {"queue.buffering.max.kbytes", "2097151"},
    {"reconnect.backoff.ms", "100"},
    {"reconnect.backoff.max.ms", "1000"},
    {"retry.backoff.ms", "100"},
    {"socket.keepalive.enable", "true"},
    {"log.connection.close", "false"}, /* brokers close idle connections: not worth a WARN */
    {"topic.metadata.refresh.interval.ms", "60000"},
};

int kconf_is_secret(const char *name)
{
    static const char *const words[] = {"password", "secret", "oauthbearer.config",
                                        "ssl.key.pem", "ssl_key", "token", "credential",
                                        "sasl.jaas"};
    char low[256];
    size_t n = strlen(name);
    if (n >= sizeof low)
        n = sizeof low - 1;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    low[n] = '\0';
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(low, words[i]))
            return 1;
    return 0;
}

/* rd_kafka_conf_set with an error text that is safe to print. */
static int set_prop(rd_kafka_conf_t *rc, const char *name, const char *value, char *err,
                    size_t errsz)
{
    char e[512];
    if (rd_kafka_conf_set(rc, name, value, e, sizeof e) == RD_KAFKA_CONF_OK)
        return 0;
    if (kconf_is_secret(name))
        snprintf(err, errsz, "librdkafka rejected the value (not shown: it is a secret)");
    else
        snprintf(err, errsz, "%s", e);
    return -1;
}

static int is_broker_prop(const char *k)
{
    return strcmp(k, "bootstrap.servers") == 0 || strcmp(k, "metadata.broker.list") == 0;
}

rd_kafka_conf_t *kconf_build(const struct kafka_conf *kc, int with_brokers, char *err,
                             size_t errsz)
{
    rd_kafka_conf_t *rc = rd_kafka_conf_new();
    char e[512];
    for (size_t i = 0; i < sizeof kconf_defaults / sizeof kconf_defaults[0]; i++)
        if (set_prop(rc, kconf_defaults[i][0], kconf_defaults[i][1], e, sizeof e) != 0) {
            snprintf(err, errsz, "default %s=%s: %s", kconf_defaults[i][0],
                     kconf_defaults[i][1], e);
            goto fail;
        }
    if (with_brokers && kc->brokers &&
        set_prop(rc, "bootstrap.servers", kc->brokers, e, sizeof e) != 0) {
        snprintf(err, errsz, "brokers: %s", e);
        goto fail;
    }
    if (kc->compression && set_prop(rc, "compression.codec", kc->compression, e, sizeof e) != 0) {
        snprintf(err, errsz, "compression: %s", e);
        goto fail;
    }
    for (int i = 0; i < kc->props.n; i++) {
        const struct conf_kv *kv = &kc->props.v[i];
        if (is_broker_prop(kv->key))
            continue; /* check() reports it; `brokers` is the one way to set them */
        if (set_prop(rc, kv->key, kv->value, e, sizeof e) != 0) {
            snprintf(err, errsz, "kafka.%s: %s", kv->key, e);
            goto fail;
        }
    }
    return rc;
fail:
    rd_kafka_conf_destroy(rc);
    return NULL;
}

void kconf_warn(const struct kafka_conf *kc, const char *name)
{
    for (int i = 0; i < kc->props.n; i++) {
        const char *k = kc->props.v[i].key, *v = kc->props.v[i].value;
        if ((!strcmp(k, "acks") || !strcmp(k, "request.required.acks")) &&
            strcmp(v, "all") != 0 && strcmp(v, "-1") != 0)
            LF_LOG(LF_WARN, "out.kafka", "[%s] kafka.%s = %s: Kafka may confirm lines that a "
                   "broker failure then loses (acks=all is the no-loss setting)", name, k, v);
        else if (!strcmp(k, "enable.idempotence") && strcmp(v, "true") != 0)
            LF_LOG(LF_WARN, "out.kafka", "[%s] kafka.enable.idempotence = %s: retries may then "
                   "duplicate or reorder lines", name, v);
        else if ((!strcmp(k, "message.timeout.ms") || !strcmp(k, "delivery.timeout.ms")) &&
                 strcmp(v, "0") != 0)
            LF_LOG(LF_WARN, "out.kafka", "[%s] kafka.%s = %s: messages that time out are "
                   "produced again by logferry (never dropped), possibly out of order", name, k,
                   v);
    }
}

static int valid_field_name(const char *s)
{
    if (!*s || *s == '.')
        return 0;
    for (const char *p = s; *p; p++) {
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.' || *p == '@'))
            return 0;
        if (*p == '.' && (p[1] == '.' || p[1] == '\0'))
            return 0;
    }
    return 1;
}

static int line_of(struct conf_section *s, const char *key)
{
    struct conf_entry *e = conf_find(s, key);
    return e ? e->line : s->line;
}

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk; (void)level; (void)fac; (void)buf;
}

int kafka_check(const void *vconf, struct conf *c, struct conf_section *s,
                struct conf_errs *errs)
{
    const struct kafka_conf *kc = vconf;
    int nerr = 0;
    if (!kc->brokers || !*kc->brokers) {
        conf_err(errs, c->file, s->line, "[output %s] needs brokers = host:port[,host:port]",
                 s->name);
        nerr++;
    }
    if (!kc->topic || !*kc->topic) {
        conf_err(errs, c->file, s->line, "[output %s] needs topic = NAME or a template such as "
                 "logs-%%{service.name}", s->name);
        nerr++;
    } else {
        struct ktpl t;
        char e[256];
        if (ktpl_compile(kc->topic, &t, e, sizeof e) != 0) {
            conf_err(errs, c->file, line_of(s, "topic"), "topic: %s", e);
            nerr++;
        } else {
            if (t.kind == KTPL_STATIC && !ktopic_valid(t.p[0].lit, t.p[0].litlen)) {
                conf_err(errs, c->file, line_of(s, "topic"),
                         "topic: '%s' is not a valid Kafka topic name (1-249 characters of "
                         "A-Z a-z 0-9 . _ -)", kc->topic);
                nerr++;
            }
            ktpl_free(&t);
        }
    }
    if (kc->topic_fallback && *kc->topic_fallback &&
        !ktopic_valid(kc->topic_fallback, strlen(kc->topic_fallback))) {
        conf_err(errs, c->file, line_of(s, "topic_fallback"),
                 "topic_fallback: '%s' is not a valid Kafka topic name", kc->topic_fallback);
        nerr++;
    }
    if (kc->key && *kc->key && !valid_field_name(kc->key)) {
        conf_err(errs, c->file, line_of(s, "key"), "key: '%s' is not a field name (such as "
                 "log.file.path or host.name)", kc->key);
        nerr++;
    }
    /* Every kafka.* property on a scratch conf: librdkafka says what it thinks. */
    rd_kafka_conf_t *scratch = rd_kafka_conf_new();
    int prop_errs = 0;
    for (int i = 0; i < kc->props.n; i++) {
        const struct conf_kv *kv = &kc->props.v[i];
        char e[512];
        if (is_broker_prop(kv->key)) {
            conf_err(errs, c->file, kv->line, "kafka.%s: set the brokers with `brokers =`",
                     kv->key);
            prop_errs++;
            continue;
        }
        if (set_prop(scratch, kv->key, kv->value, e, sizeof e) != 0) {
            conf_err(errs, c->file, kv->line, "kafka.%s: %s", kv->key, e);
            prop_errs++;
        }
    }
    rd_kafka_conf_destroy(scratch);
    nerr += prop_errs;
    /* Settings that are each valid but not together (idempotence needs acks=all...) are
     * found only by rd_kafka_new: create a producer without brokers (no connection is made)
     * and destroy it at once. */
    if (!prop_errs) {
        char e[512];
        rd_kafka_conf_t *rc = kconf_build(kc, 0, e, sizeof e);
        if (rc)
            rd_kafka_conf_set_log_cb(rc, quiet_log); /* "no bootstrap.servers": we know */
        if (!rc) {
            conf_err(errs, c->file, s->line, "[output %s]: %s", s->name, e);
            nerr++;
        } else {
            rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, rc, e, sizeof e);
            if (!rk) {
                rd_kafka_conf_destroy(rc);
                conf_err(errs, c->file, s->line, "[output %s]: librdkafka: %s", s->name, e);
                nerr++;
            } else {
                rd_kafka_destroy(rk);
            }
        }
    }
    return nerr;
}
