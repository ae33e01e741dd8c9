/*
 * migrate_yaml.c - reads filebeat.yml with libyaml into a small tree (see migrate.h).
 *
 * Filebeat reads its configuration with go-ucfg, which treats a dotted key as a path:
 * `output.kafka.hosts: [...]` and `output: {kafka: {hosts: [...]}}` are the same setting, and
 * two keys naming the same path are merged. The tree is built the same way, so the converter
 * looks settings up one way only. The same path set twice to a scalar is an error with both
 * lines (go-ucfg would silently keep one of them). Aliases are expanded by copying, under a
 * node budget, so a hostile "billion laughs" file is refused instead of eating the memory.
 * Single-threaded (the migrate command).
 */
#include "agent/migrate.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MY_MAX_NODES 200000
#define MY_MAX_DEPTH 64

struct anchor {
    char *name;
    struct my_node *node;
};

struct builder {
    yaml_parser_t p;
    long nodes;
    struct anchor *anchors;
    int nanchors;
    char *err;
    size_t errsz;
};

static struct my_node *node_new(struct builder *b, enum my_kind k, int line)
{
    if (++b->nodes > MY_MAX_NODES) {
        snprintf(b->err, b->errsz, "%d: more than %d YAML nodes (alias expansion?): refused", line,
                 MY_MAX_NODES);
        return NULL;
    }
    struct my_node *n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(b->err, b->errsz, "%d: out of memory", line);
        return NULL;
    }
    n->kind = k;
    n->line = line;
    return n;
}

void my_free(struct my_node *n)
{
    if (!n)
        return;
    for (int i = 0; i < n->n; i++) {
        if (n->keys)
            free(n->keys[i]);
        my_free(n->kids[i]);
    }
    free(n->keys);
    free(n->kids);
    free(n->val);
    free(n);
}

static int grow(struct my_node *n)
{
    if (n->n < n->cap)
        return 0;
    int nc = n->cap ? n->cap * 2 : 4;
    struct my_node **nk = realloc(n->kids, (size_t)nc * sizeof *nk);
    if (!nk)
        return -1;
    n->kids = nk;
    if (n->kind == MY_MAP) {
        char **nkeys = realloc(n->keys, (size_t)nc * sizeof *nkeys);
        if (!nkeys)
            return -1;
        n->keys = nkeys;
    }
    n->cap = nc;
    return 0;
}

static int append(struct my_node *parent, const char *key, size_t klen, struct my_node *kid)
{
    if (grow(parent) != 0)
        return -1;
    if (parent->kind == MY_MAP) {
        char *k = strndup(key, klen);
        if (!k)
            return -1;
        parent->keys[parent->n] = k;
    }
    parent->kids[parent->n++] = kid;
    return 0;
}

static struct my_node *get_n(const struct my_node *map, const char *key, size_t klen)
{
    if (!map || map->kind != MY_MAP)
        return NULL;
    for (int i = 0; i < map->n; i++)
        if (strlen(map->keys[i]) == klen && memcmp(map->keys[i], key, klen) == 0)
            return map->kids[i];
    return NULL;
}

struct my_node *my_get(const struct my_node *map, const char *key)
{
    return get_n(map, key, strlen(key));
}

struct my_node *my_path(const struct my_node *root, const char *path)
{
    const struct my_node *n = root;
    while (n && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        n = get_n(n, path, len);
        path += len + (dot ? 1 : 0);
    }
    return (struct my_node *)n;
}

struct my_node *my_take(struct my_node *n)
{
    if (!n)
        return NULL;
    n->used = 1;
    for (int i = 0; i < n->n; i++)
        my_take(n->kids[i]);
    return n;
}

const char *my_str(const struct my_node *n)
{
    if (!n || n->kind != MY_SCALAR)
        return NULL;
    if (!n->quoted && (!*n->val || strcmp(n->val, "~") == 0 || strcmp(n->val, "null") == 0 ||
                       strcmp(n->val, "Null") == 0 || strcmp(n->val, "NULL") == 0))
        return NULL;
    return n->val;
}

int my_bool(const struct my_node *n)
{
    const char *s = my_str(n);
    if (!s || n->quoted)
        return -1;
    static const char *const t[] = {"true", "True", "TRUE", "yes", "on", "y", NULL};
    static const char *const f[] = {"false", "False", "FALSE", "no", "off", "n", NULL};
    for (int i = 0; t[i]; i++) {
        if (strcmp(s, t[i]) == 0)
            return 1;
        if (strcmp(s, f[i]) == 0)
            return 0;
    }
    return -1;
}

/* Merges src (a map) into dst (a map) key by key; takes ownership of src. */
static int put(struct builder *b, struct my_node *map, const char *key, struct my_node *val);

static int merge(struct builder *b, struct my_node *dst, struct my_node *src)
{
    int rc = 0;
    for (int i = 0; i < src->n && rc == 0; i++) {
        rc = put(b, dst, src->keys[i], src->kids[i]);
        src->kids[i] = NULL;
    }
    for (int i = 0; i < src->n; i++) {
        free(src->keys[i]);
        my_free(src->kids[i]);
    }
    src->n = 0;
    my_free(src);
    return rc;
}

/* Inserts key (dotted: a path) into map; takes ownership of val. */
static int put(struct builder *b, struct my_node *map, const char *key, struct my_node *val)
{
    const char *dot = strchr(key, '.');
    size_t len = dot ? (size_t)(dot - key) : strlen(key);
    if (len == 0 || (dot && !dot[1])) { /* ".x" or "x.": not a path, keep as written */
        dot = NULL;
        len = strlen(key);
    }
    struct my_node *cur = get_n(map, key, len);
    if (dot) {
        if (!cur) {
            cur = node_new(b, MY_MAP, val->line);
            if (!cur || append(map, key, len, cur) != 0) {
                my_free(val);
                if (cur && b->err[0] == '\0')
                    snprintf(b->err, b->errsz, "%d: out of memory", val->line);
                return -1;
            }
        } else if (cur->kind != MY_MAP) {
            snprintf(b->err, b->errsz, "%d: '%.*s' is set on line %d and used as a section "
                     "here", val->line, (int)len, key, cur->line);
            my_free(val);
            return -1;
        }
        return put(b, cur, dot + 1, val);
    }
    if (!cur)
        return append(map, key, len, val) == 0 ? 0 : (my_free(val), -1);
    if (cur->kind == MY_MAP && val->kind == MY_MAP)
        return merge(b, cur, val);
    snprintf(b->err, b->errsz, "%d: '%s' is already set on line %d (conflicting values)",
             val->line, key, cur->line);
    my_free(val);
    return -1;
}

static struct my_node *copy(struct builder *b, const struct my_node *s, int line)
{
    struct my_node *n = node_new(b, s->kind, line);
    if (!n)
        return NULL;
    n->quoted = s->quoted;
    if (s->val && !(n->val = strdup(s->val)))
        goto fail;
    for (int i = 0; i < s->n; i++) {
        struct my_node *k = copy(b, s->kids[i], line);
        if (!k || append(n, s->keys ? s->keys[i] : "", s->keys ? strlen(s->keys[i]) : 0, k)) {
            my_free(k);
            goto fail;
        }
    }
    return n;
fail:
    my_free(n);
    return NULL;
}

static int event_line(const yaml_event_t *ev) { return (int)ev->start_mark.line + 1; }

static int remember(struct builder *b, const yaml_char_t *anchor, struct my_node *n)
{
    if (!anchor)
        return 0;
    /* A copy: the node itself may later be merged into another map and freed. */
    struct anchor *na = realloc(b->anchors, (size_t)(b->nanchors + 1) * sizeof *na);
    if (!na)
        return -1;
    b->anchors = na;
    struct my_node *c = copy(b, n, n->line);
    char *name = strdup((const char *)anchor);
    if (!c || !name) {
        my_free(c);
        free(name);
        return -1;
    }
    na[b->nanchors].name = name;
    na[b->nanchors].node = c;
    b->nanchors++;
    return 0;
}

/* Reads one node whose first event is ev (consumed). NULL on error (b->err set). */
static struct my_node *read_node(struct builder *b, yaml_event_t *ev, int depth)
{
    int line = event_line(ev);
    if (depth > MY_MAX_DEPTH) {
        snprintf(b->err, b->errsz, "%d: nested deeper than %d levels", line, MY_MAX_DEPTH);
        return NULL;
    }
    if (ev->type == YAML_ALIAS_EVENT) {
        for (int i = b->nanchors - 1; i >= 0; i--)
            if (strcmp(b->anchors[i].name, (const char *)ev->data.alias.anchor) == 0)
                return copy(b, b->anchors[i].node, line);
        snprintf(b->err, b->errsz, "%d: unknown alias *%s", line, ev->data.alias.anchor);
        return NULL;
    }
    if (ev->type == YAML_SCALAR_EVENT) {
        struct my_node *n = node_new(b, MY_SCALAR, line);
        if (!n)
            return NULL;
        n->val = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
        n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
        if (!n->val || remember(b, ev->data.scalar.anchor, n) != 0) {
            my_free(n);
            snprintf(b->err, b->errsz, "%d: out of memory", line);
            return NULL;
        }
        return n;
    }
    int is_map = ev->type == YAML_MAPPING_START_EVENT;
    if (!is_map && ev->type != YAML_SEQUENCE_START_EVENT) {
        snprintf(b->err, b->errsz, "%d: unexpected YAML event", line);
        return NULL;
    }
    const yaml_char_t *anchor = is_map ? ev->data.mapping_start.anchor
                                       : ev->data.sequence_start.anchor;
    struct my_node *n = node_new(b, is_map ? MY_MAP : MY_SEQ, line);
    if (!n)
        return NULL;
    for (;;) {
        yaml_event_t e;
        if (!yaml_parser_parse(&b->p, &e)) {
            snprintf(b->err, b->errsz, "%d: %s", (int)b->p.problem_mark.line + 1,
                     b->p.problem ? b->p.problem : "YAML syntax error");
            goto fail;
        }
        if (e.type == YAML_MAPPING_END_EVENT || e.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&e);
            break;
        }
        if (!is_map) {
            struct my_node *kid = read_node(b, &e, depth + 1);
            yaml_event_delete(&e);
            if (!kid)
                goto fail;
            if (append(n, "", 0, kid) != 0) {
                my_free(kid);
                goto fail;
            }
            continue;
        }
        int kline = event_line(&e);
        if (e.type != YAML_SCALAR_EVENT) {
            snprintf(b->err, b->errsz, "%d: a mapping key must be a plain string", kline);
            yaml_event_delete(&e);
            goto fail;
        }
        char *key = strndup((const char *)e.data.scalar.value, e.data.scalar.length);
        yaml_event_delete(&e);
        if (!key)
            goto fail;
        if (!yaml_parser_parse(&b->p, &e)) {
            snprintf(b->err, b->errsz, "%d: %s", (int)b->p.problem_mark.line + 1,
                     b->p.problem ? b->p.problem : "YAML syntax error");
            free(key);
            goto fail;
        }
        struct my_node *val = read_node(b, &e, depth + 1);
        yaml_event_delete(&e);
        if (!val) {
            free(key);
            goto fail;
        }
        val->line = kline; /* report settings at their key */
        int rc = put(b, n, key, val);
        free(key);
        if (rc != 0)
            goto fail;
    }
    if (remember(b, anchor, n) != 0)
        goto fail;
    return n;
fail:
    if (!b->err[0])
        snprintf(b->err, b->errsz, "%d: out of memory", line);
    my_free(n);
    return NULL;
}

struct my_node *my_parse(const char *text, size_t len, char *err, size_t errsz)
{
    struct builder b = {.err = err, .errsz = errsz};
    err[0] = '\0';
    if (!yaml_parser_initialize(&b.p)) {
        snprintf(err, errsz, "0: cannot initialise libyaml");
        return NULL;
    }
    yaml_parser_set_input_string(&b.p, (const unsigned char *)text, len);
    struct my_node *root = NULL;
    yaml_event_t e;
    int done = 0;
    while (!done) {
        if (!yaml_parser_parse(&b.p, &e)) {
            snprintf(err, errsz, "%d: %s%s%s", (int)b.p.problem_mark.line + 1,
                     b.p.problem ? b.p.problem : "YAML syntax error",
                     b.p.context ? " " : "", b.p.context ? b.p.context : "");
            my_free(root);
            root = NULL;
            break;
        }
        switch (e.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_SCALAR_EVENT:
        case YAML_ALIAS_EVENT:
            if (root) {
                snprintf(err, errsz, "%d: more than one YAML document", event_line(&e));
                my_free(root);
                root = NULL;
                done = 2;
                break;
            }
            root = read_node(&b, &e, 0);
            if (!root)
                done = 2;
            break;
        default:
            break;
        }
        yaml_event_delete(&e);
    }
    yaml_parser_delete(&b.p);
    for (int i = 0; i < b.nanchors; i++) {
        free(b.anchors[i].name);
        my_free(b.anchors[i].node);
    }
    free(b.anchors);
    if (done == 1 && !root) { /* an empty file is an empty configuration */
        struct builder b2 = {.err = err, .errsz = errsz};
        root = node_new(&b2, MY_MAP, 1);
    }
    if (root && root->kind == MY_SCALAR && !my_str(root)) {
        my_free(root);
        struct builder b2 = {.err = err, .errsz = errsz};
        root = node_new(&b2, MY_MAP, 1);
    }
    if (root && root->kind != MY_MAP) {
        snprintf(err, errsz, "%d: the top level of filebeat.yml must be a mapping", root->line);
        my_free(root);
        root = NULL;
    }
    return root;
}
