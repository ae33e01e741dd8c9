/*
 * es_setup.c - `logferry setup` and `logferry test-output` for the Elasticsearch output.
 *
 * Runs on the main thread, synchronously, outside the agent's run (the CLI calls it with a
 * checked config). setup PUTs an ILM policy and a composable index template named
 * template_name; PUT replaces, so running it again is harmless (idempotent). The template
 * maps the ECS fields logferry's parsers produce with their ECS types; any other string
 * field becomes a keyword (ignore_above 1024) through a dynamic template. test GETs / and
 * asks _has_privileges whether this user may write to the index.
 */
#include "outputs/es.h"
#include "outputs/es_http.h"
#include "outputs/output.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* The ECS fields logferry produces (agent/base/event.c's base fields, parsers/ builtins for
 * nginx/apache access logs and Spring Boot / logback / log4j2 application logs). Leaves are
 * "dotted.name:type"; the nesting is written by add_mapping(). */
static const char *const es_ecs_fields[] = {
    "@timestamp:date",
    "message:text",
    "tags:keyword",
    "labels:object",
    "host.name:keyword",
    "host.hostname:keyword",
    "input.type:keyword",
    "log.file.path:keyword",
    "log.offset:long",
    "log.flags:keyword",
    "log.level:keyword",
    "log.logger:keyword",
    "log.message:text",
    "log.origin.function:keyword",
    "event.duration:long",
    "event.dataset:keyword",
    "event.original:keyword_noindex",
    "service.name:keyword",
    "process.pid:long",
    "process.thread.name:keyword",
    "error.message:text",
    "error.type:keyword",
    "error.stack_trace:wildcard_text",
    "trace.id:keyword",
    "span.id:keyword",
    "transaction.id:keyword",
    "source.ip:ip",
    "source.address:keyword",
    "source.port:long",
    "client.ip:ip",
    "client.address:keyword",
    "user.name:keyword",
    "http.version:keyword",
    "http.request.method:keyword",
    "http.request.referrer:keyword",
    "http.request.bytes:long",
    "http.response.status_code:long",
    "http.response.body.bytes:long",
    "http.response.bytes:long",
    "url.original:keyword_text",
    "url.path:keyword",
    "url.query:keyword",
    "url.domain:keyword",
    "user_agent.original:keyword_text",
    NULL,
};

static int add_mapping(json_t *props, const char *dotted, const char *type)
{
    char name[128];
    snprintf(name, sizeof name, "%s", dotted);
    json_t *cur = props;
    char *save = NULL;
    char *part = strtok_r(name, ".", &save);
    while (part) {
        char *next = strtok_r(NULL, ".", &save);
        json_t *node = json_object_get(cur, part);
        if (!next) {
            json_t *m;
            if (strcmp(type, "text") == 0)
                m = json_pack("{s:s}", "type", "text");
            else if (strcmp(type, "keyword_noindex") == 0)
                m = json_pack("{s:s,s:b,s:b}", "type", "keyword", "index", 0, "doc_values", 0);
            else if (strcmp(type, "keyword_text") == 0) /* exact + full-text search */
                m = json_pack("{s:s,s:i,s:{s:{s:s}}}", "type", "keyword", "ignore_above", 8191,
                              "fields", "text", "type", "match_only_text");
            else if (strcmp(type, "wildcard_text") == 0)
                m = json_pack("{s:s,s:{s:{s:s}}}", "type", "wildcard", "fields", "text", "type",
                              "match_only_text");
            else if (strcmp(type, "keyword") == 0)
                m = json_pack("{s:s,s:i}", "type", "keyword", "ignore_above", 1024);
            else
                m = json_pack("{s:s}", "type", type);
            return m ? json_object_set_new(cur, part, m) : -1;
        }
        if (!node) {
            node = json_pack("{s:{}}", "properties");
            if (!node || json_object_set_new(cur, part, node) != 0)
                return -1;
        }
        cur = json_object_get(node, "properties");
        if (!cur)
            return -1;
        part = next;
    }
    return 0;
}

/* The index pattern the template applies to: the data stream's name, the literal index, or
 * the index format's text before its first conversion followed by '*'. */
static void index_pattern(const struct es_conf *c, char *out, size_t outsz)
{
    if (c->data_stream) {
        snprintf(out, outsz, "%s", c->data_stream);
        return;
    }
    const char *ix = c->index ? c->index : "logferry-%Y.%m.%d";
    const char *pc = strchr(ix, '%');
    if (!pc)
        snprintf(out, outsz, "%s", ix);
    else
        snprintf(out, outsz, "%.*s*", (int)(pc - ix), ix);
}

json_t *es_setup_policy(const struct es_conf *c)
{
    json_t *hot = c->data_stream
                      ? json_pack("{s:s,s:{s:{s:s,s:s}}}", "min_age", "0ms", "actions", "rollover",
                                  "max_age", c->ilm_rollover_max_age, "max_primary_shard_size",
                                  c->ilm_rollover_max_size)
                      : json_pack("{s:s,s:{}}", "min_age", "0ms", "actions");
    return json_pack("{s:{s:{s:o,s:{s:s,s:{s:{}}}},s:{s:s}}}", "policy", "phases", "hot", hot,
                     "delete", "min_age", c->ilm_delete_after, "actions", "delete", "_meta",
                     "managed_by", "logferry");
}

json_t *es_setup_template(const struct es_conf *c)
{
    char pat[256];
    index_pattern(c, pat, sizeof pat);
    json_t *props = json_object();
    for (int i = 0; props && es_ecs_fields[i]; i++) {
        char f[128];
        snprintf(f, sizeof f, "%s", es_ecs_fields[i]);
        char *colon = strrchr(f, ':');
        *colon = '\0';
        if (add_mapping(props, f, colon + 1) != 0) {
            json_decref(props);
            return NULL;
        }
    }
    json_t *t = json_pack(
        "{s:[s],s:i,s:{s:{s:s,s:i,s:i,s:s},s:{s:[{s:{s:s,s:{s:s,s:i}}}],s:o}},s:{s:s,s:s}}",
        "index_patterns", pat, "priority", 200, "template", "settings",
        "index.lifecycle.name", c->template_name, "index.number_of_shards", (int)c->shards,
        "index.number_of_replicas", (int)c->replicas, "index.codec", "best_compression",
        "mappings", "dynamic_templates", "strings_as_keyword", "match_mapping_type", "string",
        "mapping", "type", "keyword", "ignore_above", 1024, "properties", props, "_meta",
        "managed_by", "logferry", "version", LOGFERRY_VERSION);
    if (t && c->data_stream)
        json_object_set_new(t, "data_stream", json_object());
    return t;
}

static int put_json(struct es_http *h, const char *path, json_t *doc, long *status,
                    struct buf *resp, char *err, size_t errsz)
{
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (!body) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    int rc = es_http_sync(h, "PUT", path, body, strlen(body), status, resp, err, errsz);
    free(body);
    return rc;
}

static void reason_of(const struct buf *resp, char *out, size_t outsz)
{
    out[0] = '\0';
    json_t *r = resp->len ? json_loadb(resp->p, resp->len, 0, NULL) : NULL;
    json_t *e = json_object_get(r, "error");
    const char *s = json_is_object(e) ? json_string_value(json_object_get(e, "reason"))
                                      : json_string_value(e);
    es_sanitize(s ? s : "", out, outsz);
    json_decref(r);
}

int es_setup(const void *vconf, const struct output_env *env, char *msg, size_t msgsz)
{
    const struct es_conf *c = vconf;
    (void)env;
    struct es_http h;
    char err[300], why[200];
    if (es_http_init(&h, c, err, sizeof err) != 0) {
        snprintf(msg, msgsz, "%s", err);
        return -1;
    }
    struct buf resp;
    buf_init(&resp, 1 << 20);
    int rc = -1;
    long st = 0;
    char path[300], pat[256];
    index_pattern(c, pat, sizeof pat);
    json_t *pol = es_setup_policy(c), *tpl = es_setup_template(c);
    snprintf(path, sizeof path, "/_ilm/policy/%s", c->template_name);
    if (put_json(&h, path, pol, &st, &resp, err, sizeof err) != 0) {
        snprintf(msg, msgsz, "ILM policy not installed: %s", err);
        goto out;
    }
    if (st != 200) {
        reason_of(&resp, why, sizeof why);
        snprintf(msg, msgsz, "ILM policy %s refused: HTTP %ld %s", c->template_name, st, why);
        goto out;
    }
    snprintf(path, sizeof path, "/_index_template/%s", c->template_name);
    if (put_json(&h, path, tpl, &st, &resp, err, sizeof err) != 0) {
        snprintf(msg, msgsz, "index template not installed: %s", err);
        goto out;
    }
    if (st != 200) {
        reason_of(&resp, why, sizeof why);
        snprintf(msg, msgsz, "index template %s refused: HTTP %ld %s", c->template_name, st,
                 why);
        goto out;
    }
    snprintf(msg, msgsz, "installed ILM policy %s (delete after %s%s%s) and index template %s "
             "for %s%s", c->template_name, c->ilm_delete_after,
             c->data_stream ? ", rollover at " : "", c->data_stream ? c->ilm_rollover_max_age : "",
             c->template_name, pat, c->data_stream ? " (data stream)" : "");
    rc = 0;
out:
    json_decref(pol);
    json_decref(tpl);
    buf_free(&resp);
    es_http_free(&h);
    return rc;
}

int es_test(const void *vconf, const struct output_env *env, char *msg, size_t msgsz)
{
    const struct es_conf *c = vconf;
    (void)env;
    struct es_http h;
    char err[300];
    if (es_http_init(&h, c, err, sizeof err) != 0) {
        snprintf(msg, msgsz, "%s", err);
        return -1;
    }
    struct buf resp;
    buf_init(&resp, 1 << 20);
    long st = 0;
    int rc = -1;
    char pat[256];
    index_pattern(c, pat, sizeof pat);
    if (es_http_sync(&h, "GET", "/", NULL, 0, &st, &resp, err, sizeof err) != 0) {
        snprintf(msg, msgsz, "not reachable: %s", err);
        goto out;
    }
    if (st != 200) {
        char why[200];
        reason_of(&resp, why, sizeof why);
        snprintf(msg, msgsz, "reachable but GET / answered HTTP %ld%s%s%s", st, *why ? " (" : "",
                 why, *why ? ")" : "");
        goto out;
    }
    json_t *root = json_loadb(resp.p, resp.len, 0, NULL);
    char ver[64], cluster[128];
    es_sanitize(json_string_value(json_object_get(json_object_get(root, "version"), "number")),
                ver, sizeof ver);
    es_sanitize(json_string_value(json_object_get(root, "cluster_name")), cluster,
                sizeof cluster);
    json_decref(root);
    size_t n = (size_t)snprintf(msg, msgsz, "reachable: Elasticsearch %s, cluster %s",
                                *ver ? ver : "(unknown version)", *cluster ? cluster : "(unnamed)");
    if (n >= msgsz)
        n = msgsz - 1;
    rc = 0;
    /* May we write? Ask _has_privileges for create_doc on the pattern (security enabled);
     * a 4xx means security is off or the user may not ask: then we cannot tell. */
    json_t *q = json_pack("{s:[{s:[s],s:[s]}]}", "index", "names", pat, "privileges",
                          "create_doc");
    char *body = q ? json_dumps(q, JSON_COMPACT) : NULL;
    json_decref(q);
    if (body && es_http_sync(&h, "POST", "/_security/user/_has_privileges", body, strlen(body),
                             &st, &resp, err, sizeof err) == 0 && st == 200) {
        json_t *r = json_loadb(resp.p, resp.len, 0, NULL);
        int all = json_is_true(json_object_get(r, "has_all_requested"));
        json_decref(r);
        snprintf(msg + n, msgsz - n, "; %s create_doc on %s", all ? "may" : "may NOT", pat);
        if (!all)
            rc = -1;
    } else {
        snprintf(msg + n, msgsz - n, "; cannot tell whether %s is writable (security disabled "
                 "or _has_privileges refused)", pat);
    }
    free(body);
out:
    buf_free(&resp);
    es_http_free(&h);
    return rc;
}
