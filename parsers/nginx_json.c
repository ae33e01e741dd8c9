/*
 * nginx_json.c - the parser type of an nginx `log_format NAME escape=json '{...}'` layout:
 * each line is one JSON object; a key whose value in the layout is one variable
 * ("status": "$status", "rt": $request_time) becomes that variable's ECS field, converted as
 * the text layouts convert it (numbers, durations in ns, the request line cut into method,
 * URL and version, the time into @timestamp, source.address/source.ip, Filebeat's rule when
 * $http_x_forwarded_for is logged too). nginx writes an empty value ("") where the text
 * layouts print "-": both mean absent. Any other key (literal text, several variables, a key
 * the layout did not have) is kept under its own dotted path, as the json parser keeps it.
 *
 * Off the headline benchmark's path: jansson decodes the line; the tree is kept alive in
 * parse_run->held until the event is built (strings are borrowed from it).
 *
 * Threads: attached at configuration time (main thread); run on the tail thread with its
 * own struct parse_run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/http_request.h"
#include "parsers/jsonlog.h"
#include "parsers/layout.h"
#include "parsers/xff.h"

struct nj_field {
    char *path;
    int kind; /* enum layout_vkind */
    const struct fkey *key;
    char *time_format; /* V_TIME: NULL = ISO-8601 */
};

struct nginx_json {
    struct nj_field *f;
    int n;
    int xff; /* an X-Forwarded-For key: Filebeat's rule with the address */
};

static const struct fkey *K_METHOD, *K_URL, *K_PATH, *K_QUERY, *K_VERSION, *K_TLS, *K_ADDR,
    *K_IP;

static void nj_keys_intern(void)
{
    K_METHOD = fkey_intern("http.request.method");
    K_URL = fkey_intern("url.original");
    K_PATH = fkey_intern("url.path");
    K_QUERY = fkey_intern("url.query");
    K_VERSION = fkey_intern("http.version");
    K_TLS = fkey_intern("tls.version");
    K_ADDR = fkey_intern("source.address");
    K_IP = fkey_intern("source.ip");
    xff_keys_intern();
}

static void nj_free(struct parser *p)
{
    struct nginx_json *m = p->priv;
    if (!m)
        return;
    for (int i = 0; i < m->n; i++) {
        free(m->f[i].path);
        free(m->f[i].time_format);
    }
    free(m->f);
    free(m);
    p->priv = NULL;
}

int nginx_json_attach(struct parser *p, const struct layout_build *b, char *err, size_t errsz)
{
    struct nginx_json *m = calloc(1, sizeof *m);
    p->type = &parser_type_nginx_json;
    p->priv = m;
    if (!m || !(m->f = calloc((size_t)b->njf + 1, sizeof *m->f))) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    nj_keys_intern();
    for (int i = 0; i < b->njf; i++) {
        const struct layout_jfield *j = &b->jf[i];
        struct nj_field *f = &m->f[m->n++];
        f->kind = j->kind;
        f->path = strdup(j->path);
        f->key = j->key[0] ? fkey_intern(j->key) : NULL;
        if (j->kind == V_TIME && j->time_format[0] &&
            (tp_check_format(j->time_format, err, errsz) != 0 ||
             !(f->time_format = strdup(j->time_format))))
            return -1;
        if (!f->path || (j->key[0] && !f->key)) {
            snprintf(err, errsz, "'%s' is not a usable field name", j->key);
            return -1;
        }
        m->xff |= j->kind == V_XFF;
    }
    return 0;
}

/* What a run collects before it can apply the address rule. */
struct nj_run {
    const struct nginx_json *m;
    struct parse_run *pr;
    struct http_span addr, xff;
};

static void add_span(struct event_builder *eb, const struct fkey *k, struct http_span v)
{
    if (v.n)
        eb_add_str(eb, k, v.s, v.n);
}

static void add_value(struct nj_run *r, struct event_builder *eb, const struct nj_field *f,
                      const char *s, size_t n)
{
    int absent = n == 0 || (n == 1 && s[0] == '-');
    switch (f->kind) {
    case V_STR: eb_add_str(eb, f->key, s, n); break;
    case V_DASH:
        if (!absent)
            eb_add_str(eb, f->key, s, n);
        break;
    case V_INT: case V_DUR_S: case V_DUR_MS: case V_DUR_US:
        if (!absent)
            conv_add_typed(eb, f->key,
                           f->kind == V_INT ? PT_INT : PT_DUR_S + (f->kind - V_DUR_S), s, n);
        break;
    case V_ADDR: r->addr = (struct http_span){s, n}; break;
    case V_XFF: r->xff = (struct http_span){s, n}; break;
    case V_REQUEST: {
        struct http_request rq;
        http_request_split(s, n, &rq);
        add_span(eb, K_METHOD, rq.method);
        add_span(eb, K_URL, rq.url);
        add_span(eb, K_PATH, rq.path);
        add_span(eb, K_QUERY, rq.query);
        add_span(eb, K_VERSION, rq.version);
        break;
    }
    case V_PROTO:
    case V_TLS: {
        const char *pre = f->kind == V_PROTO ? "HTTP/" : "TLSv";
        size_t pl = strlen(pre);
        if (n > pl && !memcmp(s, pre, pl))
            eb_add_str(eb, f->kind == V_PROTO ? K_VERSION : K_TLS, s + pl, n - pl);
        break;
    }
    case V_TIME: {
        int64_t ms;
        int rc = f->time_format ? tp_parse(f->time_format, s, n, r->pr->tz, &ms)
                                : tp_parse_iso(s, n, r->pr->tz, &ms);
        if (rc == 0)
            eb->ts_ms = ms;
        else
            eb->flags |= EV_PARSE_FAILURE;
        break;
    }
    default: break;
    }
}

static int nj_leaf(void *ctx, struct event_builder *eb, const char *path, size_t n,
                   const char *key, int depth, json_t *v)
{
    struct nj_run *r = ctx;
    (void)key, (void)depth;
    int done = 0;
    for (int i = 0; i < r->m->n; i++) {
        const struct nj_field *f = &r->m->f[i];
        if (strlen(f->path) != n || memcmp(f->path, path, n) != 0)
            continue;
        char num[48];
        const char *s;
        size_t sn;
        if (json_is_string(v)) {
            s = json_string_value(v);
            sn = json_string_length(v);
        } else if (json_is_integer(v) || json_is_real(v)) { /* a variable written bare */
            int w = json_is_integer(v)
                        ? snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v))
                        : snprintf(num, sizeof num, "%.17g", json_real_value(v));
            /* fields borrow their text until batch_add: the builder keeps this copy */
            sn = w > 0 && (size_t)w < sizeof num ? (size_t)w : 0;
            s = eb_strdup(eb, num, sn);
            if (!s || f->kind == V_ADDR || f->kind == V_XFF)
                return 0;
        } else {
            return 0; /* null, an array: as written */
        }
        add_value(r, eb, f, s, sn);
        done = 1;
    }
    return done;
}

static int nj_run(const struct parser *p, struct parse_run *pr, struct event_builder *eb,
                  const char *rec, size_t len)
{
    json_error_t jerr;
    json_t *root = json_loadb(rec, len, 0, &jerr);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return 1;
    }
    pr->held = root;
    struct nj_run r = {.m = p->priv, .pr = pr};
    char prefix[JSONLOG_MAX_KEY];
    prefix[0] = '\0';
    jsonlog_walk(eb, root, prefix, 0, 0, nj_leaf, &r);
    if (r.m->xff) {
        struct xff_list l;
        l.n = 0;
        xff_split(r.xff.s ? r.xff.s : "", r.xff.n, &l);
        xff_split(r.addr.s ? r.addr.s : "", r.addr.n, &l);
        xff_add(eb, &l);
    } else if (r.addr.n) {
        int ip = xff_is_ip(r.addr.s, r.addr.n);
        eb_add_str(eb, K_ADDR, r.addr.s, r.addr.n);
        if (ip)
            eb_add_str_clean(eb, K_IP, r.addr.s, r.addr.n);
    }
    return 0;
}

void nginx_json_explain(const struct parser *p, FILE *f)
{
    static const char *const kinds[] = {
        [V_REQUEST] = "request line -> http.request.method, url.*, http.version",
        [V_PROTO] = "-> http.version", [V_TLS] = "-> tls.version",
        [V_XFF] = "X-Forwarded-For -> source.* by Filebeat's rule",
        [V_ADDR] = "-> source.address, source.ip", [V_TIME] = "-> @timestamp"};
    const struct nginx_json *m = p->priv;
    fprintf(f, "parser %s: nginx escape=json; keys not listed are kept as written\n", p->name);
    for (int i = 0; m && i < m->n; i++) {
        const struct nj_field *x = &m->f[i];
        const char *k = (size_t)x->kind < sizeof kinds / sizeof kinds[0] ? kinds[x->kind] : NULL;
        fprintf(f, "  key %-24s %s%s\n", x->path, k ? k : "-> ", k ? "" : x->key->name);
    }
}

static void nj_release(struct parse_run *pr)
{
    json_decref((json_t *)pr->held);
    pr->held = NULL;
}

const struct parser_type parser_type_nginx_json = {
    .name = NULL, /* made by nginx_log_format escape=json layouts only */
    .keys_intern = nj_keys_intern,
    .run = nj_run,
    .release = nj_release,
    .free = nj_free,
    .explain = "nginx escape=json: each line parsed as JSON, keys mapped by the layout",
};
