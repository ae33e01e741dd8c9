/*
 * migrate_core.c - what every step of `logferry migrate filebeat` shares: the notes (what
 * was not carried over, with the line of filebeat.yml), writing a Filebeat value as an
 * agent.conf value, Filebeat durations, and the final sweep that reports every setting no
 * step consumed. Single-threaded (the migrate command).
 */
#include "agent/migrate.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void mig_note(struct migrate *m, enum mig_note_kind kind, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (m->nnotes == m->cap) {
        int nc = m->cap ? m->cap * 2 : 16;
        struct mig_note *nn = realloc(m->notes, (size_t)nc * sizeof *nn);
        if (!nn)
            return;
        m->notes = nn;
        m->cap = nc;
    }
    char *d = strdup(msg);
    if (!d)
        return;
    m->notes[m->nnotes] = (struct mig_note){kind, line, d, m->nnotes};
    m->nnotes++;
}

static void vnote(struct migrate *m, enum mig_note_kind kind, struct my_node *n, const char *fmt,
                  va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    my_take(n);
    mig_note(m, kind, n ? n->line : 0, "%s", msg);
}

void mig_drop(struct migrate *m, struct my_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vnote(m, MIG_DROP, n, fmt, ap);
    va_end(ap);
}

void mig_info(struct migrate *m, struct my_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vnote(m, MIG_INFO, n, fmt, ap);
    va_end(ap);
}

static int count(const struct migrate *m, enum mig_note_kind k)
{
    int c = 0;
    for (int i = 0; i < m->nnotes; i++)
        c += m->notes[i].kind == k;
    return c;
}

int mig_errors(const struct migrate *m) { return count(m, MIG_ERROR); }
int mig_drops(const struct migrate *m) { return count(m, MIG_DROP); }

/* Filebeat's own settings referenced as ${path.home} etc.; defaults are the Debian package's. */
static const char *setting_ref(struct migrate *m, const char *name, size_t len, int *is_default)
{
    char key[128];
    if (len >= sizeof key)
        return NULL;
    memcpy(key, name, len);
    key[len] = '\0';
    *is_default = 0;
    if (strcmp(key, "path.config") == 0)
        return m->config_dir;
    const char *v = my_str(my_path(m->root, key));
    if (v)
        return v;
    *is_default = 1;
    if (strcmp(key, "path.home") == 0)
        return "/usr/share/filebeat";
    if (strcmp(key, "path.data") == 0)
        return "/var/lib/filebeat";
    if (strcmp(key, "path.logs") == 0)
        return "/var/log/filebeat";
    return NULL;
}

static int expand(struct migrate *m, const struct my_node *n, const char *s, struct buf *o,
                  int depth)
{
    while (*s) {
        if (s[0] == '$' && s[1] == '{') {
            const char *end = strchr(s + 2, '}');
            if (!end)
                return buf_adds(o, s);
            const char *name = s + 2;
            size_t nlen = (size_t)(end - name);
            const char *colon = memchr(name, ':', nlen);
            size_t vlen = colon ? (size_t)(colon - name) : nlen;
            if (memchr(name, '.', vlen)) { /* a reference to another setting */
                int dflt;
                const char *v = setting_ref(m, name, vlen, &dflt);
                if (!v || depth > 8) {
                    mig_note(m, MIG_DROP, n ? n->line : 0, "${%.*s}: refers to a Filebeat "
                             "setting that is not set; left as an environment variable",
                             (int)vlen, name);
                    buf_add(o, s, (size_t)(end + 1 - s));
                } else {
                    if (dflt)
                        mig_note(m, MIG_INFO, n ? n->line : 0, "${%.*s} taken as %s (Filebeat's "
                                 "Debian package default)", (int)vlen, name, v);
                    if (expand(m, n, v, o, depth + 1) != 0)
                        return -1;
                }
            } else if (colon) { /* ${VAR:default} -> ${VAR:-default} */
                buf_add(o, s, (size_t)(colon - s));
                buf_adds(o, ":-");
                buf_add(o, colon + 1 + (colon[1] == '-'), (size_t)(end - colon - 1 - (colon[1] == '-')));
                buf_addc(o, '}');
            } else {
                buf_add(o, s, (size_t)(end + 1 - s));
            }
            s = end + 1;
            continue;
        }
        buf_addc(o, *s++);
    }
    return 0;
}

char *mig_value(struct migrate *m, const struct my_node *n, const char *s)
{
    struct buf o;
    buf_init(&o, 1 << 20);
    if (expand(m, n, s, &o, 0) != 0 || buf_cstr(&o) != 0) {
        buf_free(&o);
        return NULL;
    }
    const char *why = NULL;
    for (size_t i = 0; i < o.len; i++) {
        unsigned char c = (unsigned char)o.p[i];
        if (c == '\n' || c == '\r' || c == '\0')
            why = "it spans several lines";
        else if (c == ';' && i > 0 && isspace((unsigned char)o.p[i - 1]))
            why = "\" ;\" would start a comment in agent.conf";
    }
    if (o.len && (isspace((unsigned char)o.p[0]) || isspace((unsigned char)o.p[o.len - 1])))
        why = "leading or trailing spaces are not kept in agent.conf";
    if (why) {
        mig_note(m, MIG_DROP, n ? n->line : 0, "value cannot be written to agent.conf: %s", why);
        buf_free(&o);
        return NULL;
    }
    return o.p;
}

void mig_kv(struct migrate *m, struct buf *b, const struct my_node *n, const char *key,
            const char *value)
{
    char *v = mig_value(m, n, value);
    if (!v)
        return;
    buf_printf(b, "%s = %s\n", key, v);
    free(v);
}

int mig_field_name_ok(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_@.-", *s))
            return 0;
    return 1;
}

char *mig_duration(const char *s)
{
    if (!s || !*s)
        return NULL;
    double total_ms = 0;
    const char *p = s;
    char *end;
    double v = strtod(p, &end);
    if (end != p && *end == '\0') { /* a bare number: seconds */
        if (v < 0)
            return NULL;
        total_ms = v * 1000;
    } else {
        while (*p) {
            v = strtod(p, &end);
            if (end == p || v < 0)
                return NULL;
            p = end;
            double unit;
            if (strncmp(p, "ms", 2) == 0) {
                unit = 1;
                p += 2;
            } else if (strncmp(p, "us", 2) == 0 || strncmp(p, "µs", 3) == 0) {
                unit = 0.001;
                p += p[0] == 'u' ? 2 : 3;
            } else if (strncmp(p, "ns", 2) == 0) {
                unit = 0.000001;
                p += 2;
            } else if (*p == 'h') {
                unit = 3600000;
                p++;
            } else if (*p == 'm') {
                unit = 60000;
                p++;
            } else if (*p == 's') {
                unit = 1000;
                p++;
            } else {
                return NULL;
            }
            total_ms += v * unit;
        }
    }
    if (total_ms > 1e15)
        return NULL;
    long long ms = (long long)(total_ms + 0.5);
    char out[48];
    if (ms % 3600000 == 0 && ms)
        snprintf(out, sizeof out, "%lldh", ms / 3600000);
    else if (ms % 60000 == 0 && ms)
        snprintf(out, sizeof out, "%lldm", ms / 60000);
    else if (ms % 1000 == 0)
        snprintf(out, sizeof out, "%llds", ms / 1000);
    else
        snprintf(out, sizeof out, "%lldms", ms);
    return strdup(out);
}

#define MIG_MAX_YAML (16u << 20)

char *mig_read_file(const char *path, size_t *len, char *err, size_t errsz)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errsz, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(MIG_MAX_YAML + 1);
    size_t n = buf ? fread(buf, 1, MIG_MAX_YAML + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!buf || n > MIG_MAX_YAML || bad) {
        snprintf(err, errsz, "%s: %s", path, !buf ? "out of memory" : bad ? "read error"
                                                 : "larger than 16 MiB");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int any_used(const struct my_node *n)
{
    if (n->used)
        return 1;
    for (int i = 0; i < n->n; i++)
        if (any_used(n->kids[i]))
            return 1;
    return 0;
}

static void sweep(struct migrate *m, struct my_node *n, char *path, size_t len, size_t cap,
                  const char *file, int line_adj)
{
    if (n->used)
        return;
    if (len && !any_used(n)) {
        if (file)
            mig_note(m, MIG_DROP, 0, "%s:%d: %s: no logferry equivalent", file,
                     n->line + line_adj, path);
        else
            mig_drop(m, n, "%s: no logferry equivalent", path);
        my_take(n);
        return;
    }
    for (int i = 0; i < n->n; i++) {
        int w = n->kind == MY_MAP ? snprintf(path + len, cap - len, "%s%s", len ? "." : "",
                                             n->keys[i])
                                  : snprintf(path + len, cap - len, "[%d]", i);
        size_t nl = w < 0 ? len : len + (size_t)w;
        if (nl >= cap)
            nl = cap - 1;
        sweep(m, n->kids[i], path, nl, cap, file, line_adj);
        path[len] = '\0';
    }
}

void mig_sweep_tree(struct migrate *m, struct my_node *root, const char *file, int line_adj)
{
    char path[512] = "";
    if (root)
        sweep(m, root, path, 0, sizeof path, file, line_adj);
}

void mig_sweep(struct migrate *m)
{
    mig_sweep_tree(m, m->root, NULL, 0);
}

void mig_free(struct migrate *m)
{
    my_free(m->root);
    buf_free(&m->agent);
    buf_free(&m->inputs);
    buf_free(&m->outputs);
    free(m->global_fields);
    free(m->drop_when);
    free(m->config_dir);
    for (int i = 0; i < m->nnotes; i++)
        free(m->notes[i].msg);
    free(m->notes);
    for (int i = 0; i < m->nin; i++) {
        struct mig_fb_input *in = &m->in[i];
        free(in->name);
        free(in->fb_id);
        free(in->type);
        for (int j = 0; j < in->npaths; j++)
            free(in->paths[j]);
        free(in->paths);
        for (int j = 0; j < in->nexclude; j++)
            free(in->exclude[j]);
        free(in->exclude);
    }
    free(m->in);
    memset(m, 0, sizeof *m);
}
