/*
 * es_conf.c - the [output elasticsearch] settings: the key table and check().
 *
 * Configuration time only (main thread). check() validates without touching the network or
 * creating anything; it only looks whether ca_file is readable. Secrets (password, api_key,
 * credentials inside host URLs) are never copied into error messages.
 */
#include "outputs/es.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define OFF(m) offsetof(struct es_conf, m)

const struct conf_key es_conf_keys[] = {
    {"hosts", CT_LIST, NULL, OFF(hosts),
     "Elasticsearch URLs, comma-separated (http[s]://host:port[/prefix]); requests go "
     "round-robin, a failing host is skipped for a while", NULL},
    {"index", CT_STR, NULL, OFF(index),
     "index name, strftime conversions over the event's @timestamp in UTC "
     "(default logferry-%Y.%m.%d); exclusive with data_stream", NULL},
    {"data_stream", CT_STR, NULL, OFF(data_stream),
     "write to this data stream (e.g. logs-logferry-default) instead of index", NULL},
    {"username", CT_STR, NULL, OFF(username), "basic authentication user", NULL},
    {"password", CT_STR, NULL, OFF(password),
     "basic authentication password (use ${VAR}); never logged", NULL},
    {"api_key", CT_STR, NULL, OFF(api_key),
     "API key sent as 'Authorization: ApiKey <value>' (the base64 id:key Elasticsearch "
     "returns as 'encoded'); never logged; exclusive with username", NULL},
    {"ca_file", CT_STR, NULL, OFF(ca_file), "PEM file of the CA that signed the servers' "
     "certificates (default: the system store)", NULL},
    {"tls_verify", CT_BOOL, "true", OFF(tls_verify),
     "verify the server certificate and host name", NULL},
    {"bulk_max_events", CT_INT, "2000", OFF(bulk_max_events),
     "documents per _bulk request at most", NULL},
    {"bulk_max_bytes", CT_SIZE, "5MiB", OFF(bulk_max_bytes),
     "uncompressed _bulk body size at most (a single larger document goes alone)", NULL},
    {"flush_interval", CT_DURATION, "1s", OFF(flush_interval_ms),
     "send a partial request after the oldest waiting document waited this long", NULL},
    {"workers", CT_INT, "2", OFF(workers), "concurrent _bulk requests", NULL},
    {"compression", CT_STR, "none", OFF(compression),
     "gzip: compress request bodies (Content-Encoding: gzip)", "none|gzip"},
    {"connect_timeout", CT_DURATION, "10s", OFF(connect_timeout_ms),
     "TCP+TLS connection timeout", NULL},
    {"timeout", CT_DURATION, "60s", OFF(timeout_ms),
     "whole request timeout; a timed-out request is retried", NULL},
    {"backoff_init", CT_DURATION, "250ms", OFF(backoff_init_ms),
     "first retry delay; doubles per attempt, with jitter", NULL},
    {"backoff_max", CT_DURATION, "30s", OFF(backoff_max_ms), "retry delay cap", NULL},
    {"template_name", CT_STR, "logferry", OFF(template_name),
     "setup: name of the index template and ILM policy", NULL},
    {"ilm_rollover_max_age", CT_STR, "1d", OFF(ilm_rollover_max_age),
     "setup: roll a data stream's backing index over after this age (data_stream only)",
     NULL},
    {"ilm_rollover_max_size", CT_STR, "50gb", OFF(ilm_rollover_max_size),
     "setup: ...or when its primary shards reach this size (data_stream only)", NULL},
    {"ilm_delete_after", CT_STR, "30d", OFF(ilm_delete_after),
     "setup: delete an index this long after its creation/rollover", NULL},
    {"shards", CT_INT, "1", OFF(shards), "setup: number_of_shards in the template", NULL},
    {"replicas", CT_INT, "1", OFF(replicas), "setup: number_of_replicas in the template", NULL},
    {NULL, 0, NULL, 0, NULL, NULL},
};

static int line_of(struct conf_section *s, const char *key)
{
    struct conf_entry *e = conf_find(s, key);
    return e ? e->line : s->line;
}

/* Elasticsearch index name rules (lowercase, none of \ / * ? " < > | space , # :, not
 * starting with - _ +). strftime conversions are allowed when `fmt` is set. */
static const char *bad_index(const char *n, int fmt)
{
    if (!*n)
        return "is empty";
    if (strlen(n) > 200)
        return "is longer than 200 bytes";
    if (*n == '-' || *n == '_' || *n == '+')
        return "starts with -, _ or +";
    for (const char *p = n; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '%' && fmt) {
            if (!p[1])
                return "ends with a lone %";
            p++;
            if (!strchr("YmdyjFGgVUWuwHMSIC", *p))
                return "uses a strftime conversion other than %Y %m %d %y %j %F %G %g %V %U %W %u %w %H %M %S %I %C";
            continue;
        }
        if (c < 0x21 || c >= 0x7f || strchr("\\/*?\"<>|,#:%", c))
            return "contains a character Elasticsearch forbids (space, \\ / * ? \" < > | , # :)";
        if (isupper(c))
            return "has upper-case letters (Elasticsearch index names are lower case)";
    }
    return NULL;
}

static int valid_es_time(const char *s)
{
    /* Elasticsearch time units: 30d, 12h, 90m, 3600s */
    if (!s || !isdigit((unsigned char)*s))
        return 0;
    while (isdigit((unsigned char)*s))
        s++;
    return (strcmp(s, "d") == 0 || strcmp(s, "h") == 0 || strcmp(s, "m") == 0 ||
            strcmp(s, "s") == 0);
}

static int valid_es_size(const char *s)
{
    if (!s || !isdigit((unsigned char)*s))
        return 0;
    while (isdigit((unsigned char)*s))
        s++;
    return strcmp(s, "b") == 0 || strcmp(s, "kb") == 0 || strcmp(s, "mb") == 0 ||
           strcmp(s, "gb") == 0 || strcmp(s, "tb") == 0;
}

int es_conf_check(const void *vconf, struct conf *c, struct conf_section *s,
                  struct conf_errs *errs)
{
    const struct es_conf *ec = vconf;
    const char *f = c->file;
    int n = 0;
    const char *why;

    if (ec->hosts.n == 0) {
        conf_err(errs, f, line_of(s, "hosts"), "[output %s] needs hosts = http://HOST:9200",
                 *s->name ? s->name : "elasticsearch");
        n++;
    }
    for (int i = 0; i < ec->hosts.n; i++) {
        const char *h = ec->hosts.v[i];
        if (strncmp(h, "http://", 7) != 0 && strncmp(h, "https://", 8) != 0) {
            /* print only what precedes a possible user:password@ */
            conf_err(errs, f, line_of(s, "hosts"),
                     "hosts: item %d does not start with http:// or https://", i + 1);
            n++;
        } else if (strchr(h, '?') || strchr(h, '#')) {
            conf_err(errs, f, line_of(s, "hosts"),
                     "hosts: item %d has a query or fragment; give scheme://host:port[/prefix]",
                     i + 1);
            n++;
        }
    }
    if (ec->index && ec->data_stream) {
        conf_err(errs, f, line_of(s, "data_stream"), "index and data_stream exclude each other");
        n++;
    }
    if (ec->index && (why = bad_index(ec->index, 1))) {
        conf_err(errs, f, line_of(s, "index"), "index: '%s' %s", ec->index, why);
        n++;
    }
    if (ec->data_stream && (why = bad_index(ec->data_stream, 0))) {
        conf_err(errs, f, line_of(s, "data_stream"), "data_stream: '%s' %s", ec->data_stream,
                 why);
        n++;
    }
    if ((ec->username != NULL) != (ec->password != NULL)) {
        conf_err(errs, f, line_of(s, ec->username ? "username" : "password"),
                 "username and password go together");
        n++;
    }
    if (ec->api_key && ec->username) {
        conf_err(errs, f, line_of(s, "api_key"), "api_key and username/password exclude each other");
        n++;
    }
    if (ec->api_key && (!*ec->api_key || strpbrk(ec->api_key, "\r\n"))) {
        conf_err(errs, f, line_of(s, "api_key"), "api_key is empty or spans lines");
        n++;
    }
    if (ec->ca_file && access(ec->ca_file, R_OK) != 0) {
        conf_err(errs, f, line_of(s, "ca_file"), "ca_file: cannot read %s", ec->ca_file);
        n++;
    }
    if (ec->bulk_max_events < 1 || ec->bulk_max_events > 100000) {
        conf_err(errs, f, line_of(s, "bulk_max_events"), "bulk_max_events: %ld is not in 1..100000",
                 ec->bulk_max_events);
        n++;
    }
    if (ec->bulk_max_bytes < 1024 || ec->bulk_max_bytes > (uint64_t)100 << 20) {
        conf_err(errs, f, line_of(s, "bulk_max_bytes"), "bulk_max_bytes: not in 1KiB..100MiB "
                 "(Elasticsearch refuses requests over http.max_content_length, 100mb)");
        n++;
    }
    if (ec->flush_interval_ms < 1) {
        conf_err(errs, f, line_of(s, "flush_interval"), "flush_interval must be positive");
        n++;
    }
    if (ec->workers < 1 || ec->workers > 16) {
        conf_err(errs, f, line_of(s, "workers"), "workers: %ld is not in 1..16", ec->workers);
        n++;
    }
    if (ec->compression && strcmp(ec->compression, "gzip") == 0 && !es_have_gzip()) {
        conf_err(errs, f, line_of(s, "compression"),
                 "compression = gzip: this logferry was built without zlib");
        n++;
    }
    if (ec->connect_timeout_ms < 1 || ec->timeout_ms < 1) {
        conf_err(errs, f, line_of(s, "timeout"), "timeouts must be positive");
        n++;
    }
    if (ec->backoff_init_ms < 1 || ec->backoff_max_ms < ec->backoff_init_ms) {
        conf_err(errs, f, line_of(s, "backoff_max"),
                 "backoff_init must be positive and backoff_max at least backoff_init");
        n++;
    }
    if (ec->template_name && (why = bad_index(ec->template_name, 0))) {
        conf_err(errs, f, line_of(s, "template_name"), "template_name: '%s' %s",
                 ec->template_name, why);
        n++;
    }
    if (!valid_es_time(ec->ilm_delete_after) || !valid_es_time(ec->ilm_rollover_max_age)) {
        conf_err(errs, f, line_of(s, "ilm_delete_after"),
                 "ilm_delete_after / ilm_rollover_max_age: give a number and d, h, m or s "
                 "(e.g. 30d)");
        n++;
    }
    if (!valid_es_size(ec->ilm_rollover_max_size)) {
        conf_err(errs, f, line_of(s, "ilm_rollover_max_size"),
                 "ilm_rollover_max_size: give a number and b, kb, mb, gb or tb (e.g. 50gb)");
        n++;
    }
    if (ec->shards < 1 || ec->shards > 1024 || ec->replicas < 0 || ec->replicas > 32) {
        conf_err(errs, f, line_of(s, "shards"), "shards must be 1..1024 and replicas 0..32");
        n++;
    }
    return n;
}
