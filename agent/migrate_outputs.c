/*
 * migrate_outputs.c - Filebeat's `output.*` as one agent.conf [output TYPE] section:
 * elasticsearch, kafka, logstash, file. Filebeat allows exactly one enabled output; two are a
 * conflict reported as an error. A global drop_event becomes the output's `when`. Secrets
 * (passwords, API keys) are written to agent.conf as they were in filebeat.yml (a ${VAR}
 * stays a ${VAR}) and never appear in a note. Single-threaded (the migrate command).
 */
#include "agent/migrate.h"

#include <stdlib.h>
#include <string.h>

struct out_ctx {
    struct migrate *m;
    struct my_node *n;
    struct buf *b;
};

static struct my_node *opt(struct out_ctx *c, const char *path)
{
    return my_path(c->n, path);
}

static void kv(struct out_ctx *c, const char *key, const char *path)
{
    struct my_node *v = opt(c, path);
    if (!v)
        return;
    const char *s = my_str(my_take(v));
    if (s)
        mig_kv(c->m, c->b, v, key, s);
    else
        mig_drop(c->m, v, "%s: expected a single value", path);
}

static void dur(struct out_ctx *c, const char *key, const char *path)
{
    struct my_node *v = opt(c, path);
    if (!v)
        return;
    char *d = mig_duration(my_str(my_take(v)));
    if (d)
        buf_printf(c->b, "%s = %s\n", key, d);
    else
        mig_drop(c->m, v, "%s: not a duration", path);
    free(d);
}

/* hosts: a list (or one string) joined with sep; each element through fix (may be NULL). */
static void hosts(struct out_ctx *c, const char *key, const char *sep,
                  void (*fix)(struct out_ctx *, const char *, struct buf *))
{
    struct my_node *v = opt(c, "hosts");
    if (!v) {
        mig_note(c->m, MIG_ERROR, c->n->line, "output: no hosts");
        return;
    }
    my_take(v);
    struct buf o;
    buf_init(&o, 1 << 16);
    int cnt = v->kind == MY_SEQ ? v->n : 1;
    for (int i = 0; i < cnt; i++) {
        const char *h = my_str(v->kind == MY_SEQ ? v->kids[i] : v);
        if (!h)
            continue;
        if (o.len)
            buf_adds(&o, sep);
        if (fix)
            fix(c, h, &o);
        else
            buf_adds(&o, h);
    }
    if (buf_cstr(&o) == 0 && o.len)
        mig_kv(c->m, c->b, v, key, o.p);
    buf_free(&o);
}

static void es_host(struct out_ctx *c, const char *h, struct buf *o)
{
    const char *proto = my_str(my_take(opt(c, "protocol")));
    const char *path = my_str(my_take(opt(c, "path")));
    if (!strstr(h, "://"))
        buf_printf(o, "%s://", proto ? proto : "http");
    if (h[0] == '$')
        mig_info(c->m, opt(c, "hosts"), "hosts: '%s' is a variable; logferry needs URLs, so "
                 "%s:// was put in front (as Filebeat does for a host without a scheme): the "
                 "variable must not hold a scheme itself", h, proto ? proto : "http");
    buf_adds(o, h);
    /* Filebeat's default port when none is given */
    const char *hostpart = strstr(h, "://") ? strstr(h, "://") + 3 : h;
    const char *rb = strrchr(hostpart, ']');
    const char *colon = strrchr(rb ? rb : hostpart, ':');
    if (!colon && !strchr(hostpart, '/'))
        buf_adds(o, ":9200");
    if (path)
        buf_printf(o, "%s%s", path[0] == '/' ? "" : "/", path);
}

/* %{[field]} -> %{field}; NULL when the format uses what we cannot express (%{+date}). */
static char *fmt_fields(const char *s, int allow_date)
{
    struct buf o;
    buf_init(&o, 4096);
    while (*s) {
        if (s[0] == '%' && s[1] == '{') {
            const char *end = strchr(s, '}');
            if (!end)
                break;
            if (s[2] == '[' && end[-1] == ']') {
                buf_printf(&o, "%%{%.*s}", (int)(end - s - 4), s + 3);
            } else if (s[2] == '+' && allow_date) {
                /* Joda yyyy.MM.dd -> strftime */
                for (const char *p = s + 3; p < end; p++) {
                    if (!strncmp(p, "yyyy", 4)) buf_adds(&o, "%Y"), p += 3;
                    else if (!strncmp(p, "MM", 2)) buf_adds(&o, "%m"), p += 1;
                    else if (!strncmp(p, "dd", 2)) buf_adds(&o, "%d"), p += 1;
                    else if (!strncmp(p, "HH", 2)) buf_adds(&o, "%H"), p += 1;
                    else if (strchr(".-_", *p)) buf_addc(&o, *p);
                    else { buf_free(&o); return NULL; }
                }
            } else {
                buf_free(&o);
                return NULL;
            }
            s = end + 1;
            continue;
        }
        if (*s == '%')
            buf_addc(&o, '%');
        buf_addc(&o, *s++);
    }
    if (buf_cstr(&o) != 0) {
        buf_free(&o);
        return NULL;
    }
    return o.p;
}

static void b64(const char *s, struct buf *o)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s);
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)u[i] << 16 | (i + 1 < n ? (unsigned)u[i + 1] << 8 : 0) |
                     (i + 2 < n ? u[i + 2] : 0);
        buf_addc(o, t[v >> 18 & 63]);
        buf_addc(o, t[v >> 12 & 63]);
        buf_addc(o, i + 1 < n ? t[v >> 6 & 63] : '=');
        buf_addc(o, i + 2 < n ? t[v & 63] : '=');
    }
}

static void ssl_common(struct out_ctx *c, const char *ca_key, const char *cert_key,
                       const char *key_key)
{
    struct my_node *en = opt(c, "ssl.enabled");
    if (en && my_bool(en) == 0) { /* TLS explicitly off: its other settings mean nothing */
        my_take(opt(c, "ssl"));
        return;
    }
    struct my_node *ca = opt(c, "ssl.certificate_authorities");
    if (ca) {
        my_take(ca);
        struct my_node *first = ca->kind == MY_SEQ ? (ca->n ? ca->kids[0] : NULL) : ca;
        if (ca->kind == MY_SEQ && ca->n > 1)
            mig_drop(c->m, ca, "ssl.certificate_authorities: only the first file is used "
                     "(concatenate them into one PEM file)");
        if (my_str(first))
            mig_kv(c->m, c->b, first, ca_key, my_str(first));
    }
    if (cert_key)
        kv(c, cert_key, "ssl.certificate");
    if (key_key)
        kv(c, key_key, "ssl.key");
    my_take(opt(c, "ssl.enabled"));
}

static void es(struct out_ctx *c)
{
    hosts(c, "hosts", ", ", es_host);
    kv(c, "username", "username");
    kv(c, "password", "password");
    struct my_node *ak = opt(c, "api_key");
    if (ak) {
        const char *s = my_str(my_take(ak));
        if (s && strchr(s, ':') && !strchr(s, '$')) { /* Filebeat's id:key -> ES's encoded */
            struct buf o;
            buf_init(&o, 4096);
            b64(s, &o);
            if (buf_cstr(&o) == 0)
                buf_printf(c->b, "api_key = %s\n", o.p);
            buf_free(&o);
        } else if (s && strchr(s, '$')) {
            mig_kv(c->m, c->b, ak, "api_key", s);
            mig_info(c->m, ak, "api_key: logferry sends the key as Elasticsearch's base64 "
                     "'encoded' form; make sure the variable holds that (Filebeat's is id:key)");
        }
    }
    if (opt(c, "api_key") && opt(c, "username"))
        mig_note(c->m, MIG_ERROR, opt(c, "api_key")->line,
                 "output.elasticsearch: api_key and username are both set (conflicting options)");
    struct my_node *ix = opt(c, "index");
    if (ix) {
        char *f = fmt_fields(my_str(my_take(ix)) ? my_str(ix) : "", 1);
        if (f && !strstr(f, "%{"))
            mig_kv(c->m, c->b, ix, "index", f);
        else
            mig_drop(c->m, ix, "index: refers to event fields; logferry's index is a strftime "
                     "pattern (default logs-logferry-%%Y.%%m.%%d)");
        free(f);
    }
    ssl_common(c, "ca_file", NULL, NULL);
    struct my_node *vm = opt(c, "ssl.verification_mode");
    if (vm) {
        const char *s = my_str(my_take(vm));
        if (s && strcmp(s, "none") == 0)
            buf_printf(c->b, "tls_verify = false\n");
        else if (s && strcmp(s, "full") && strcmp(s, "strict"))
            mig_drop(c->m, vm, "ssl.verification_mode %s: logferry verifies fully or not at all", s);
    }
    struct my_node *cert = opt(c, "ssl.certificate");
    if (cert)
        mig_drop(c->m, cert, "ssl.certificate/ssl.key: client certificates are not supported by "
                 "logferry's Elasticsearch output");
    my_take(opt(c, "ssl.key"));
    struct my_node *cl = opt(c, "compression_level");
    if (cl) {
        const char *s = my_str(my_take(cl));
        if (s && atoi(s) > 0)
            buf_printf(c->b, "compression = gzip\n");
    }
    kv(c, "workers", "worker");
    kv(c, "workers", "workers");
    kv(c, "bulk_max_events", "bulk_max_size");
    dur(c, "timeout", "timeout");
    dur(c, "backoff_init", "backoff.init");
    dur(c, "backoff_max", "backoff.max");
    struct my_node *v;
    if ((v = opt(c, "max_retries")))
        mig_info(c->m, v, "max_retries: logferry retries until delivered or dead-lettered");
    if ((v = opt(c, "pipeline")))
        mig_drop(c->m, v, "pipeline: ingest pipelines are not set by logferry");
    if ((v = opt(c, "loadbalance")))
        my_take(v);
    if ((v = opt(c, "allow_older_versions")))
        my_take(v); /* logferry's _bulk requests work with every version it supports */
    if ((v = opt(c, "preset")))
        mig_info(c->m, v, "preset: logferry's defaults are its own");
}

static void kafka_host(struct out_ctx *c, const char *h, struct buf *o)
{
    (void)c;
    buf_adds(o, h);
}

static void kafka(struct out_ctx *c)
{
    hosts(c, "brokers", ",", kafka_host);
    struct my_node *t = opt(c, "topic");
    if (t) {
        char *f = fmt_fields(my_str(my_take(t)) ? my_str(t) : "", 0);
        if (f)
            mig_kv(c->m, c->b, t, "topic", f);
        else
            mig_drop(c->m, t, "topic: format not carried over");
        free(f);
    } else {
        mig_note(c->m, MIG_ERROR, c->n->line, "output.kafka: no topic");
    }
    struct my_node *v;
    if ((v = opt(c, "topics")))
        mig_drop(c->m, v, "topics: rule-based topics are not carried over (use a topic template "
                 "over a field)");
    if ((v = opt(c, "key"))) {
        const char *s = my_str(my_take(v));
        size_t n = s ? strlen(s) : 0;
        char field[256];
        snprintf(field, sizeof field, "%.*s", n > 5 ? (int)(n - 5) : 0, n > 5 ? s + 3 : "");
        if (n > 5 && !strncmp(s, "%{[", 3) && !strcmp(s + n - 2, "]}") &&
            mig_field_name_ok(field))
            mig_kv(c->m, c->b, v, "key", field);
        else
            mig_drop(c->m, v, "key: only a single %%{[field]} is carried over");
    }
    if ((v = opt(c, "partition")))
        mig_drop(c->m, v, "partition: logferry uses librdkafka's partitioner (by key)");
    kv(c, "compression", "compression");
    kv(c, "kafka.compression.level", "compression_level");
    kv(c, "kafka.client.id", "client_id");
    kv(c, "kafka.message.max.bytes", "max_message_bytes");
    if ((v = opt(c, "required_acks"))) {
        const char *s = my_str(my_take(v));
        if (s && strcmp(s, "-1"))
            mig_drop(c->m, v, "required_acks %s: logferry always waits for all in-sync replicas "
                     "(acks=all)", s);
    }
    int sasl = opt(c, "username") != NULL;
    int tls = opt(c, "ssl") && my_bool(opt(c, "ssl.enabled")) != 0;
    if (sasl) {
        kv(c, "kafka.sasl.username", "username");
        kv(c, "kafka.sasl.password", "password");
        struct my_node *mn = my_take(opt(c, "sasl.mechanism"));
        mig_kv(c->m, c->b, mn ? mn : c->n, "kafka.sasl.mechanism",
               my_str(mn) ? my_str(mn) : "PLAIN");
    }
    if (sasl || tls)
        buf_printf(c->b, "kafka.security.protocol = %s\n",
                   sasl ? (tls ? "SASL_SSL" : "SASL_PLAINTEXT") : "SSL");
    ssl_common(c, "kafka.ssl.ca.location", "kafka.ssl.certificate.location",
               "kafka.ssl.key.location");
    kv(c, "kafka.ssl.key.password", "ssl.key_passphrase");
    if ((v = opt(c, "ssl.verification_mode"))) {
        const char *s = my_str(my_take(v));
        if (s && strcmp(s, "none") == 0)
            buf_printf(c->b, "kafka.enable.ssl.certificate.verification = false\n");
    }
    static const char *const info[] = {"version", "worker", "bulk_max_size", "timeout",
                                        "broker_timeout", "keep_alive", "metadata",
                                        "channel_buffer_size", "bulk_flush_frequency", NULL};
    for (int i = 0; info[i]; i++)
        if ((v = opt(c, info[i])))
            mig_info(c->m, v, "%s: tuning left to librdkafka's defaults (settable as kafka.*)",
                     info[i]);
}

/* Filebeat's default Logstash port when none is given. */
static void ls_host(struct out_ctx *c, const char *h, struct buf *o)
{
    (void)c;
    const char *rb = strrchr(h, ']');
    buf_adds(o, h);
    if (!strchr(rb ? rb : h, ':'))
        buf_adds(o, ":5044");
}

static void logstash(struct out_ctx *c)
{
    hosts(c, "hosts", ", ", ls_host);
    struct my_node *v;
    if ((v = opt(c, "loadbalance"))) {
        int b = my_bool(my_take(v));
        if (b >= 0)
            buf_printf(c->b, "loadbalance = %s\n", b ? "true" : "false");
    }
    kv(c, "compression_level", "compression_level");
    kv(c, "window", "bulk_max_size");
    dur(c, "timeout", "timeout");
    ssl_common(c, "ca_file", "cert_file", "key_file");
    if ((v = opt(c, "ssl.verification_mode"))) {
        const char *s = my_str(my_take(v));
        if (s && (!strcmp(s, "full") || !strcmp(s, "strict")))
            buf_printf(c->b, "ssl_verify = full\n");
        else if (s && (!strcmp(s, "certificate") || !strcmp(s, "none")))
            buf_printf(c->b, "ssl_verify = %s\n", s);
    }
    kv(c, "beat_name", "index");
    static const char *const info[] = {"worker", "ttl", "pipelining", "slow_start",
                                       "max_retries", "backoff", NULL};
    for (int i = 0; info[i]; i++)
        if ((v = opt(c, info[i])))
            mig_info(c->m, v, "%s: logferry's Logstash output manages this itself", info[i]);
}

static void file(struct out_ctx *c)
{
    const char *dir = my_str(my_take(opt(c, "path")));
    const char *name = my_str(my_take(opt(c, "filename")));
    if (!dir) {
        mig_note(c->m, MIG_ERROR, c->n->line, "output.file: no path");
        return;
    }
    char full[4096];
    snprintf(full, sizeof full, "%s/%s", dir, name ? name : "filebeat");
    mig_kv(c->m, c->b, c->n, "path", full);
    struct my_node *v;
    if ((v = opt(c, "permissions"))) {
        const char *s = my_str(my_take(v));
        if (s && strspn(s, "01234567") == strlen(s) && strlen(s) <= 4)
            buf_printf(c->b, "file_mode = %s%s\n", s[0] == '0' ? "" : "0", s);
        else
            mig_drop(c->m, v, "permissions: expected an octal mode such as 0600");
    }
    static const char *const info[] = {"rotate_every_kb", "number_of_files", "rotate_on_startup",
                                       "codec", NULL};
    for (int i = 0; info[i]; i++)
        if ((v = opt(c, info[i])))
            mig_info(c->m, v, "%s: logferry appends to one file (rotate it with logrotate "
                     "copytruncate)", info[i]);
}

int mig_outputs(struct migrate *m)
{
    struct my_node *outs = my_get(m->root, "output");
    static const struct {
        const char *type;
        void (*fn)(struct out_ctx *);
    } table[] = {{"elasticsearch", es}, {"kafka", kafka}, {"logstash", logstash}, {"file", file}};
    int enabled = 0, first_line = 0;
    for (int i = 0; outs && outs->kind == MY_MAP && i < outs->n; i++) {
        struct my_node *o = outs->kids[i];
        const char *type = outs->keys[i];
        struct my_node *en = my_get(o, "enabled");
        if (en && my_bool(en) == 0) {
            my_take(o);
            continue;
        }
        my_take(en);
        if (enabled++) {
            mig_note(m, MIG_ERROR, o->line, "output.%s: a second enabled output (the first is on "
                     "line %d); Filebeat allows one (conflicting options)", type, first_line);
            my_take(o);
            continue;
        }
        first_line = o->line;
        size_t k = 0;
        while (k < sizeof table / sizeof table[0] && strcmp(table[k].type, type) != 0)
            k++;
        if (k == sizeof table / sizeof table[0]) {
            mig_drop(m, o, "output.%s: not supported by logferry (elasticsearch, kafka, logstash "
                     "and file are)", type);
            continue;
        }
        struct buf b;
        buf_init(&b, 1 << 20);
        struct out_ctx c = {m, o, &b};
        table[k].fn(&c);
        buf_printf(&m->outputs, "\n[output %s]\n", type);
        if (b.len)
            buf_add(&m->outputs, b.p, b.len);
        if (m->drop_when)
            mig_kv(m, &m->outputs, NULL, "when", m->drop_when);
        buf_free(&b);
    }
    if (!enabled)
        mig_note(m, MIG_DROP, 0, "no output is configured: add an [output TYPE] section");
    return 0;
}
