/*
 * migrate_processors.c - Filebeat `processors` and their `when` conditions, as far as
 * agent.conf can say the same thing: add_fields becomes static fields, drop_event becomes a
 * `when` on every output (an event no output takes is dropped), add_host_metadata is what
 * logferry does anyway (host.name), drop_fields of fields logferry never produces needs
 * nothing. Everything else is a note. Single-threaded (the migrate command).
 */
#include "agent/migrate_processors.h"

#include <stdlib.h>
#include <string.h>

/* Fields Filebeat adds and logferry does not: dropping them needs no setting. */
static int never_produced(const char *f)
{
    static const char *const pre[] = {"agent", "ecs", "input", "cloud", "container", "kubernetes",
                                      "log.file.device_id", "log.file.inode",
                                      "log.file.fingerprint", "host.os", "host.id",
                                      "host.architecture", "host.ip", "host.mac",
                                      "host.hostname", "host.containerized", "stream", NULL};
    for (int i = 0; pre[i]; i++) {
        size_t n = strlen(pre[i]);
        if (strncmp(f, pre[i], n) == 0 && (f[n] == '\0' || f[n] == '.'))
            return 1;
    }
    return 0;
}

/* A when-language string literal (one line: \n \t \r escaped); -1 for other control bytes. */
static int quote(struct buf *b, const char *s)
{
    buf_addc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            buf_addc(b, '\\');
        if (c == '\n' || c == '\t' || c == '\r') {
            buf_addc(b, '\\');
            buf_addc(b, c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
            continue;
        }
        if (c < 0x20 || c == 0x7f)
            return -1;
        buf_addc(b, (char)c);
    }
    buf_addc(b, '"');
    return 0;
}

static int is_number(const char *s)
{
    char *end;
    if (!*s)
        return 0;
    strtod(s, &end);
    return *end == '\0';
}

/* Flattens {a: {b: 1}} (go-ucfg split "a.b") into leaves "a.b" -> node. */
typedef int (*leaf_fn)(struct buf *b, const char *field, const struct my_node *v, void *arg);

static int leaves(const struct my_node *n, char *path, size_t len, size_t cap, leaf_fn fn,
                  struct buf *b, void *arg, int *count)
{
    if (n->kind != MY_MAP) {
        if (*count)
            buf_adds(b, " and ");
        (*count)++;
        return fn(b, path, n, arg);
    }
    for (int i = 0; i < n->n; i++) {
        int w = snprintf(path + len, cap - len, "%s%s", len ? "." : "", n->keys[i]);
        if (w < 0 || len + (size_t)w >= cap)
            return -1;
        if (leaves(n->kids[i], path, len + (size_t)w, cap, fn, b, arg, count) != 0)
            return -1;
        path[len] = '\0';
    }
    return 0;
}

static int cmp_leaf(struct buf *b, const char *field, const struct my_node *v, void *arg)
{
    const char *op = arg;
    const char *s = my_str(v);
    if (!s || !mig_field_name_ok(field))
        return -1;
    buf_printf(b, "%s %s ", field, op);
    if (strcmp(op, "==") == 0 && !v->quoted && is_number(s))
        return buf_adds(b, s);
    if (strcmp(op, "contains") == 0) {
        /* substring: a regex of the escaped literal */
        b->len -= strlen("contains ");
        buf_adds(b, "=~ ");
        struct buf re;
        buf_init(&re, 1 << 16);
        for (const char *p = s; *p; p++) {
            if (strchr("\\^$.|?*+()[]{}", *p))
                buf_addc(&re, '\\');
            buf_addc(&re, *p);
        }
        int rc = buf_cstr(&re) == 0 ? quote(b, re.p) : -1;
        buf_free(&re);
        return rc;
    }
    return quote(b, s);
}

static int range_leaf(struct buf *b, const char *field, const struct my_node *v, void *arg)
{
    (void)arg;
    /* leaves() reached "field.gte" etc.: split the operator off the end */
    const char *dot = strrchr(field, '.');
    if (!dot)
        return -1;
    static const char *const ops[][2] = {{"gte", ">="}, {"gt", ">"}, {"lte", "<="}, {"lt", "<"}};
    const char *s = my_str(v);
    if (!s || !is_number(s) || !mig_field_name_ok(field))
        return -1;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(dot + 1, ops[i][0]) == 0) {
            buf_printf(b, "%.*s %s %s", (int)(dot - field), field, ops[i][1], s);
            return 0;
        }
    return -1;
}

int mig_condition(const struct my_node *c, struct buf *b)
{
    if (!c || c->kind != MY_MAP || c->n != 1)
        return -1;
    const char *op = c->keys[0];
    const struct my_node *arg = c->kids[0];
    char path[256] = "";
    int count = 0;
    if (strcmp(op, "equals") == 0 && arg->kind == MY_MAP)
        return leaves(arg, path, 0, sizeof path, cmp_leaf, b, "==", &count);
    if (strcmp(op, "contains") == 0 && arg->kind == MY_MAP)
        return leaves(arg, path, 0, sizeof path, cmp_leaf, b, "contains", &count);
    if (strcmp(op, "regexp") == 0 && arg->kind == MY_MAP)
        return leaves(arg, path, 0, sizeof path, cmp_leaf, b, "=~", &count);
    if (strcmp(op, "range") == 0 && arg->kind == MY_MAP)
        return leaves(arg, path, 0, sizeof path, range_leaf, b, NULL, &count);
    if (strcmp(op, "has_fields") == 0 && arg->kind == MY_SEQ && arg->n) {
        for (int i = 0; i < arg->n; i++) {
            const char *f = my_str(arg->kids[i]);
            if (!mig_field_name_ok(f))
                return -1;
            buf_printf(b, "%s%s", i ? " and " : "", f);
        }
        return 0;
    }
    if ((strcmp(op, "or") == 0 || strcmp(op, "and") == 0) && arg->kind == MY_SEQ && arg->n) {
        for (int i = 0; i < arg->n; i++) {
            buf_printf(b, "%s(", i ? (op[0] == 'o' ? " or " : " and ") : "");
            if (mig_condition(arg->kids[i], b) != 0)
                return -1;
            buf_addc(b, ')');
        }
        return 0;
    }
    if (strcmp(op, "not") == 0) {
        buf_adds(b, "not (");
        if (mig_condition(arg, b) != 0)
            return -1;
        buf_addc(b, ')');
        return 0;
    }
    return -1; /* network, equals on lists, ... */
}

/* Appends "fields.PREFIX.KEY = value" lines for a map of fields. */
int mig_fields(struct migrate *m, struct my_node *map, const char *prefix, struct buf *out)
{
    if (!map || map->kind != MY_MAP)
        return -1;
    for (int i = 0; i < map->n; i++) {
        struct my_node *v = map->kids[i];
        char key[512];
        snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", map->keys[i]);
        if (!mig_field_name_ok(map->keys[i])) {
            mig_drop(m, v, "fields: '%s' is not a field name logferry can write "
                     "(letters, digits, _ @ . -)", map->keys[i]);
            continue;
        }
        if (v->kind == MY_MAP) {
            mig_fields(m, v, key, out);
            continue;
        }
        const char *s = my_str(v);
        if (!s) {
            mig_drop(m, v, "%s: a list or empty value cannot be a static field in agent.conf",
                     key);
            continue;
        }
        char full[600];
        snprintf(full, sizeof full, "fields.%s", key);
        if (!v->quoted && (is_number(s) || my_bool(v) >= 0))
            mig_note(m, MIG_INFO, v->line, "%s: shipped as the string \"%s\" (logferry's static "
                     "fields are strings)", full, s);
        mig_kv(m, out, v, full, s);
        my_take(v);
    }
    my_take(map);
    return 0;
}

void mig_processors(struct migrate *m, struct my_node *list, struct buf *fields, int global)
{
    if (!list)
        return;
    if (list->kind != MY_SEQ) {
        mig_drop(m, list, "processors: expected a list");
        return;
    }
    my_take(list);
    list->used = 1;
    for (int i = 0; i < list->n; i++) {
        struct my_node *p = list->kids[i];
        if (p->kind != MY_MAP || p->n != 1) {
            mig_drop(m, p, "processors[%d]: expected one processor name", i);
            continue;
        }
        const char *name = p->keys[0];
        struct my_node *cfg = p->kids[0];
        struct my_node *when = my_get(cfg, "when");
        if (strcmp(name, "add_host_metadata") == 0) {
            mig_info(m, p, "add_host_metadata: logferry sets host.name on every event (other "
                     "host.* fields are not added)");
        } else if (strcmp(name, "add_fields") == 0 && !when) {
            struct my_node *tgt = my_get(cfg, "target");
            const char *t = tgt ? my_str(tgt) : "fields";
            if (!t)
                t = "";
            if (mig_fields(m, my_get(cfg, "fields"), t, fields) != 0)
                mig_drop(m, p, "add_fields: expected a 'fields' mapping");
            my_take(p);
        } else if (strcmp(name, "drop_event") == 0 && when) {
            struct buf c;
            buf_init(&c, 1 << 16);
            if (!global) {
                mig_drop(m, p, "drop_event inside an input: logferry's conditions are per output; "
                         "not carried over");
            } else if (mig_condition(when, &c) != 0 || buf_cstr(&c) != 0) {
                mig_drop(m, p, "drop_event: its condition cannot be written as a logferry `when`");
            } else {
                struct buf w;
                buf_init(&w, 1 << 16);
                if (m->drop_when)
                    buf_printf(&w, "%s and ", m->drop_when);
                buf_printf(&w, "not (%s)", c.p);
                if (buf_cstr(&w) == 0) {
                    free(m->drop_when);
                    m->drop_when = w.p;
                } else {
                    buf_free(&w);
                }
                mig_info(m, p, "drop_event: carried over as `when` on the output");
            }
            buf_free(&c);
        } else if (strcmp(name, "drop_fields") == 0 && !when) {
            struct my_node *f = my_get(cfg, "fields");
            int all = f && f->kind == MY_SEQ;
            for (int j = 0; all && j < f->n; j++)
                all = my_str(f->kids[j]) && never_produced(my_str(f->kids[j]));
            if (all)
                mig_info(m, p, "drop_fields: logferry never adds these fields");
            else
                mig_drop(m, p, "drop_fields: logferry cannot remove fields it produces");
        } else {
            mig_drop(m, p, "processor %s%s: not carried over", name, when ? " (with when)" : "");
        }
    }
}
