/*
 * jsonlog.c - the built-in json parser: one JSON object per record (logstash-logback-encoder,
 * ECS loggers such as ecs-logging-java), merged into the event.
 *
 * Nested objects are flattened into dotted keys ({"a":{"b":1}} -> a.b); arrays are kept as
 * raw JSON (FV_JSON); null values are skipped. logback-encoder keys at the top level map to
 * ECS: level -> log.level, logger_name -> log.logger, thread_name -> process.thread.name,
 * stack_trace -> error.stack_trace, message -> log.message (`message` itself always stays
 * the raw record), traceId/trace_id -> trace.id, spanId/span_id -> span.id (Micrometer
 * Tracing's MDC keys, OpenTelemetry's), @timestamp -> the event time. Spring Boot 3.4+
 * structured logging (`ecs` writes ECS names already, `logstash` the encoder's) needs no more. Keys seen only at run time become
 * builder-owned dynamic keys (at most 64 per event; further unknown keys are dropped from the
 * fields but stay in `message`). A record that is not a JSON object is a parse failure.
 *
 * Off the hot path of the benchmarks, so jansson does the decoding; the decoded tree is kept
 * alive in parse_run->held until the event is built (strings are borrowed from it).
 *
 * Threads: run on the tail thread with its own struct parse_run.
 */
#include "parsers/jsonlog.h"

#include <stdio.h>
#include <string.h>

static const struct fkey *K_LEVEL, *K_LOGGER, *K_THREAD, *K_STACK, *K_MSG, *K_TRACE, *K_SPAN;

static void jsonlog_keys_intern(void)
{
    K_LEVEL = fkey_intern("log.level");
    K_LOGGER = fkey_intern("log.logger");
    K_THREAD = fkey_intern("process.thread.name");
    K_STACK = fkey_intern("error.stack_trace");
    K_MSG = fkey_intern("log.message");
    K_TRACE = fkey_intern("trace.id");
    K_SPAN = fkey_intern("span.id");
}

#define MAX_DEPTH 16

static const struct fkey *mapped(const char *k)
{
    if (!strcmp(k, "level"))
        return K_LEVEL;
    if (!strcmp(k, "logger_name"))
        return K_LOGGER;
    if (!strcmp(k, "thread_name"))
        return K_THREAD;
    if (!strcmp(k, "stack_trace"))
        return K_STACK;
    if (!strcmp(k, "message"))
        return K_MSG;
    /* Micrometer Tracing's MDC keys (Boot 3 structured logging, logstash-logback-encoder)
     * and OpenTelemetry's */
    if (!strcmp(k, "traceId") || !strcmp(k, "trace_id"))
        return K_TRACE;
    if (!strcmp(k, "spanId") || !strcmp(k, "span_id"))
        return K_SPAN;
    return NULL;
}

/* A dotted name with an empty component (".a", "a..b", "a.") cannot be nested sensibly:
 * its dots become underscores. */
static void sanitize(char *k, size_t n)
{
    int bad = n == 0 || k[0] == '.' || k[n - 1] == '.' || strstr(k, "..") != NULL;
    if (bad)
        for (size_t i = 0; i < n; i++)
            if (k[i] == '.')
                k[i] = '_';
}

void jsonlog_add_value(struct event_builder *eb, const struct fkey *k, json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        eb_add_str(eb, k, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        eb_add_int(eb, k, (int64_t)json_integer_value(v));
        break;
    case JSON_REAL:
        eb_add_float(eb, k, json_real_value(v));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        eb_add_bool(eb, k, json_is_true(v));
        break;
    case JSON_NULL:
        break;
    case JSON_ARRAY:
    case JSON_OBJECT: {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s) {
            const char *c = eb_strdup(eb, s, strlen(s));
            if (c)
                eb_add_json(eb, k, c, strlen(c));
            free(s);
        }
        break;
    }
    }
}

void jsonlog_walk(struct event_builder *eb, json_t *obj, char *prefix, size_t plen, int depth,
                  jsonlog_leaf_fn leaf, void *ctx)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        size_t kl = strlen(key);
        if (plen + 1 + kl >= JSONLOG_MAX_KEY)
            continue;
        size_t n = plen;
        if (plen)
            prefix[n++] = '.';
        memcpy(prefix + n, key, kl);
        n += kl;
        prefix[n] = '\0';
        if (json_is_object(v) && depth + 1 < MAX_DEPTH) {
            jsonlog_walk(eb, v, prefix, n, depth + 1, leaf, ctx);
            prefix[plen] = '\0';
            continue;
        }
        if (!leaf || !leaf(ctx, eb, prefix, n, key, depth, v)) {
            sanitize(prefix, n);
            const struct fkey *fk = eb_dynkey(eb, prefix, n);
            if (fk)
                jsonlog_add_value(eb, fk, v);
        }
        prefix[plen] = '\0';
    }
}

/* The json type's own leaves: @timestamp and the logback-encoder keys at the top level. */
static int jsonlog_leaf(void *ctx, struct event_builder *eb, const char *path, size_t n,
                        const char *key, int depth, json_t *v)
{
    struct parse_run *pr = ctx;
    (void)path, (void)n;
    if (depth != 0)
        return 0;
    if (!strcmp(key, "@timestamp")) {
        int64_t ms;
        if (json_is_string(v) &&
            tp_parse_iso(json_string_value(v), json_string_length(v), pr->tz, &ms) == 0)
            eb->ts_ms = ms;
        else
            eb->flags |= EV_PARSE_FAILURE;
        return 1;
    }
    const struct fkey *fk = mapped(key);
    if (!fk)
        return 0;
    jsonlog_add_value(eb, fk, v);
    return 1;
}

static int jsonlog_run(const struct parser *p, struct parse_run *pr, struct event_builder *eb,
                       const char *rec, size_t len)
{
    (void)p;
    json_error_t jerr;
    json_t *root = json_loadb(rec, len, 0, &jerr);
    if (!root)
        return 1;
    if (!json_is_object(root)) {
        json_decref(root);
        return 1;
    }
    pr->held = root;
    char prefix[JSONLOG_MAX_KEY];
    prefix[0] = '\0';
    jsonlog_walk(eb, root, prefix, 0, 0, jsonlog_leaf, pr);
    return 0;
}

static void jsonlog_release(struct parse_run *pr)
{
    json_decref((json_t *)pr->held);
    pr->held = NULL;
}

const struct parser_type parser_type_json = {
    .name = "json",
    .keys_intern = jsonlog_keys_intern,
    .run = jsonlog_run,
    .release = jsonlog_release,
    .explain = "json: each line parsed as JSON, keys as written",
};
