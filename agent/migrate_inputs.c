/*
 * migrate_inputs.c - Filebeat's inputs, modules and global settings as agent.conf's [agent]
 * and [input NAME] sections (see migrate.h).
 *
 * Input types carried over: log, filestream, container (`format = docker|cri|auto`), and the
 * access filesets of the nginx and apache modules (our nginx_combined parser, which gives the
 * module's fields). Each input's paths, exclusions and filters are also kept in m->in for the
 * registry conversion. Single-threaded (the migrate command).
 */
#include "agent/migrate.h"
#include "agent/migrate_processors.h"

#include <ctype.h>
#include <stdarg.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>

struct in_ctx {
    struct migrate *m;
    struct my_node *n; /* the input's mapping */
    struct buf *b;     /* its section body */
    struct mig_fb_input *rec;
};

static int strv_add(char ***v, int *n, const char *s)
{
    char **nv = realloc(*v, (size_t)(*n + 1) * sizeof *nv);
    if (!nv)
        return -1;
    *v = nv;
    if (!(nv[*n] = strdup(s)))
        return -1;
    (*n)++;
    return 0;
}

static struct mig_fb_input *rec_new(struct migrate *m, const char *name, const char *type,
                                    const char *fb_id)
{
    struct mig_fb_input *ni = realloc(m->in, (size_t)(m->nin + 1) * sizeof *ni);
    if (!ni)
        return NULL;
    m->in = ni;
    struct mig_fb_input *r = &ni[m->nin++];
    memset(r, 0, sizeof *r);
    r->name = strdup(name);
    r->type = strdup(type);
    r->fb_id = strdup(fb_id ? fb_id : "");
    r->fp_length = 1024;
    return r;
}

/* A section name from the Filebeat id (or TYPE-N), unique among the inputs. */
static void input_name(struct migrate *m, const char *id, const char *type, char *out, size_t cap)
{
    char base[96];
    if (id && *id) {
        size_t j = 0;
        for (size_t i = 0; id[i] && j + 1 < sizeof base; i++)
            base[j++] = isalnum((unsigned char)id[i]) || strchr("-_.", id[i]) ? id[i] : '_';
        base[j] = '\0';
    } else {
        snprintf(base, sizeof base, "%s", type);
    }
    for (int k = 1;; k++) {
        if (k == 1 && id && *id)
            snprintf(out, cap, "%s", base);
        else
            snprintf(out, cap, "%s-%d", base, k);
        int clash = 0;
        for (int i = 0; i < m->nin; i++)
            clash |= strcmp(m->in[i].name, out) == 0;
        if (!clash)
            return;
    }
}

/* A list setting (or a single string) joined with ", "; each element converted. */
static char *join_list(struct in_ctx *c, struct my_node *n, const char *what, int regex)
{
    struct buf o;
    buf_init(&o, 1 << 20);
    int cnt = n->kind == MY_SEQ ? n->n : 1;
    for (int i = 0; i < cnt; i++) {
        struct my_node *e = n->kind == MY_SEQ ? n->kids[i] : n;
        const char *s = my_str(e);
        if (!s) {
            mig_drop(c->m, e, "%s: expected a list of strings", what);
            continue;
        }
        if (!regex && strchr(s, ',')) {
            mig_drop(c->m, e, "%s: '%s' contains a comma, which separates list entries in "
                     "agent.conf", what, s);
            continue;
        }
        if (o.len)
            buf_adds(&o, ", ");
        /* our regex lists split on commas outside (), [], {}: escape a bare one */
        int depth = 0;
        for (const char *p = s; *p; p++) {
            if (regex && *p == '\\' && p[1]) {
                buf_add(&o, p, 2);
                p++;
                continue;
            }
            if (*p == '(' || *p == '[' || *p == '{')
                depth++;
            if ((*p == ')' || *p == ']' || *p == '}') && depth)
                depth--;
            if (regex && *p == ',' && !depth)
                buf_addc(&o, '\\');
            buf_addc(&o, *p);
        }
    }
    my_take(n);
    if (buf_cstr(&o) != 0 || o.len == 0) {
        buf_free(&o);
        return NULL;
    }
    return o.p;
}

static void kv_node(struct in_ctx *c, const char *key, struct my_node *n)
{
    const char *s = my_str(n);
    if (s)
        mig_kv(c->m, c->b, n, key, s);
    else
        mig_drop(c->m, n, "%s: expected a single value", key);
    my_take(n);
}

static void duration_kv(struct in_ctx *c, const char *key, struct my_node *n)
{
    char *d = mig_duration(my_str(n));
    if (d)
        buf_printf(c->b, "%s = %s\n", key, d);
    else
        mig_drop(c->m, n, "%s: '%s' is not a duration", key, my_str(n) ? my_str(n) : "");
    free(d);
    my_take(n);
}

/* Filebeat's exclude_files are regexes on the path; ours are globs. The common shapes
 * (`\.gz$`, `.gz$`, `^/exact/path$`) translate exactly; others are notes. */
static char *regex_to_glob(const char *re)
{
    size_t n = strlen(re);
    if (n < 2 || re[n - 1] != '$')
        return NULL;
    int anchored = re[0] == '^';
    struct buf o;
    buf_init(&o, 4096);
    if (!anchored)
        buf_addc(&o, '*');
    for (size_t i = anchored; i + 1 < n; i++) {
        char ch = re[i];
        if (ch == '\\' && i + 2 < n && strchr(".-_/", re[i + 1])) {
            buf_addc(&o, re[++i]);
        } else if (ch == '.' && !anchored && i == 0 && re[1] == '*') {
            i++; /* ".*suffix$": the leading '*' already says it */
        } else if (ch == '.' && !anchored && i + 2 < n && re[i + 1] != '*' && i == 0) {
            buf_addc(&o, '.'); /* ".gz$": any char then gz; a dot in practice */
        } else if (isalnum((unsigned char)ch) || strchr("-_/", ch)) {
            buf_addc(&o, ch);
        } else {
            buf_free(&o);
            return NULL;
        }
    }
    if (buf_cstr(&o) != 0) {
        buf_free(&o);
        return NULL;
    }
    return o.p;
}

static void excludes(struct in_ctx *c, struct my_node *n)
{
    struct buf o;
    buf_init(&o, 1 << 16);
    int cnt = n->kind == MY_SEQ ? n->n : 1;
    for (int i = 0; i < cnt; i++) {
        struct my_node *e = n->kind == MY_SEQ ? n->kids[i] : n;
        const char *re = my_str(e);
        char *g = re ? regex_to_glob(re) : NULL;
        if (!g || strchr(g, ',')) {
            mig_drop(c->m, e, "exclude_files: regex '%s' has no glob equivalent", re ? re : "");
            free(g);
            continue;
        }
        buf_printf(&o, "%s%s", o.len ? ", " : "", g);
        strv_add(&c->rec->exclude, &c->rec->nexclude, g);
        free(g);
    }
    my_take(n);
    if (o.len && buf_cstr(&o) == 0)
        buf_printf(c->b, "exclude = %s\n", o.p);
    buf_free(&o);
}

static void paths(struct in_ctx *c, struct my_node *n)
{
    char *p = join_list(c, n, "paths", 0);
    if (p) {
        mig_kv(c->m, c->b, n, "paths", p);
        int cnt = n->kind == MY_SEQ ? n->n : 1;
        for (int i = 0; i < cnt; i++) {
            const char *s = my_str(n->kind == MY_SEQ ? n->kids[i] : n);
            char *v = s ? mig_value(c->m, n, s) : NULL;
            if (v)
                strv_add(&c->rec->paths, &c->rec->npaths, v);
            free(v);
        }
    }
    free(p);
}

/* multiline.* settings, from the input itself or a `parsers: - multiline:` entry. */
static void multiline(struct in_ctx *c, struct my_node *ml)
{
    my_take(ml);
    const char *type = my_str(my_get(ml, "type"));
    if (type && strcmp(type, "pattern") != 0) {
        mig_drop(c->m, ml, "multiline.type %s: only the pattern type is carried over", type);
        return;
    }
    struct my_node *pat = my_get(ml, "pattern");
    if (!my_str(pat)) {
        mig_drop(c->m, ml, "multiline: no pattern");
        return;
    }
    kv_node(c, "multiline.pattern", pat);
    struct my_node *v;
    if ((v = my_get(ml, "negate"))) {
        int t = my_bool(v);
        if (t < 0)
            mig_drop(c->m, v, "multiline.negate: expected true or false");
        else
            buf_printf(c->b, "multiline.negate = %s\n", t ? "true" : "false");
    }
    if ((v = my_get(ml, "match")))
        kv_node(c, "multiline.match", v);
    if ((v = my_get(ml, "max_lines")))
        kv_node(c, "multiline.max_lines", v);
    if ((v = my_get(ml, "timeout")))
        duration_kv(c, "multiline.timeout", v);
    static const char *const other[] = {"flush_pattern", "count_lines", "skip_newline", NULL};
    for (int i = 0; other[i]; i++)
        if ((v = my_get(ml, other[i])))
            mig_drop(c->m, v, "multiline.%s: not carried over", other[i]);
}

static void parsers(struct in_ctx *c, struct my_node *list, int *have_ml, int *have_fmt)
{
    my_take(list);
    if (list->kind != MY_SEQ) {
        mig_drop(c->m, list, "parsers: expected a list");
        return;
    }
    for (int i = 0; i < list->n; i++) {
        struct my_node *p = list->kids[i];
        const char *name = p->kind == MY_MAP && p->n == 1 ? p->keys[0] : "";
        struct my_node *cfg = p->kind == MY_MAP && p->n == 1 ? p->kids[0] : NULL;
        if (strcmp(name, "multiline") == 0) {
            if ((*have_ml)++) {
                mig_note(c->m, MIG_ERROR, p->line, "multiline is configured twice for this input "
                         "(conflicting options)");
                continue;
            }
            multiline(c, cfg);
        } else if (strcmp(name, "container") == 0) {
            struct my_node *fn = my_get(cfg, "format");
            const char *stream = my_str(my_get(cfg, "stream"));
            mig_kv(c->m, c->b, fn ? fn : p, "format", my_str(fn) ? my_str(fn) : "auto");
            (*have_fmt)++;
            if (stream && strcmp(stream, "all") != 0)
                mig_drop(c->m, my_get(cfg, "stream"), "container stream %s: logferry reads both "
                         "streams", stream);
        } else if (strcmp(name, "ndjson") == 0) {
            buf_printf(c->b, "parser = json\n");
            mig_info(c->m, p, "ndjson parser: logferry's json parser merges the keys at the top "
                     "level (Filebeat's target/overwrite_keys options are not carried over)");
        } else {
            mig_drop(c->m, p, "parser %s: not carried over", name);
        }
    }
}

/* Settings Filebeat needs and logferry does by itself (inotify, its own registry cleanup). */
static const char *const harmless[] = {
    "scan_frequency", "prospector.scanner.check_interval", "harvester_buffer_size",
    "backoff", "max_backoff", "backoff_factor", "clean_removed", "clean_inactive",
    "allow_deprecated_use", "symlinks", "prospector.scanner.symlinks", "take_over",
    "file_identity", "prospector.scanner.fingerprint", "rotation", "harvester_limit",
    "close_removed", "close.on_state_change.removed", "close_renamed",
    "close.on_state_change.renamed", "encoding", NULL};

static void one_input(struct migrate *m, struct my_node *n, int idx, struct buf *gfields)
{
    if (n->kind != MY_MAP) {
        mig_drop(m, n, "filebeat.inputs[%d]: expected a mapping", idx);
        return;
    }
    struct my_node *tn = my_get(n, "type");
    if (!tn)
        tn = my_get(n, "input_type"); /* Filebeat 5.x */
    const char *type = tn ? my_str(tn) : "log";
    if (!type)
        type = "log";
    my_take(tn);
    struct my_node *en = my_get(n, "enabled");
    if (en && my_bool(my_take(en)) == 0) {
        mig_info(m, n, "filebeat.inputs[%d] (%s) is disabled: not converted", idx, type);
        return;
    }
    if (strcmp(type, "log") && strcmp(type, "filestream") && strcmp(type, "container")) {
        mig_drop(m, n, "filebeat.inputs[%d]: input type '%s' is not supported by logferry "
                 "(log, filestream and container are)", idx, type);
        return;
    }
    const char *id = my_str(my_take(my_get(n, "id")));
    char name[128];
    input_name(m, strcmp(type, "filestream") == 0 ? id : NULL, type, name, sizeof name);
    struct buf b;
    buf_init(&b, 1 << 20);
    struct in_ctx c = {m, n, &b, rec_new(m, name, type, strcmp(type, "filestream") == 0 ? id : "")};
    if (!c.rec) {
        buf_free(&b);
        return;
    }
    struct my_node *v;
    if ((v = my_get(n, "paths")))
        paths(&c, v);
    else
        mig_note(m, MIG_ERROR, n->line, "filebeat.inputs[%d]: no paths", idx);
    if ((v = my_get(n, "exclude_files")))
        excludes(&c, v);
    if ((v = my_get(n, "tail_files"))) {
        if (my_bool(v) == 1)
            buf_printf(&b, "start_at = end\n");
        my_take(v);
    }
    if ((v = my_get(n, "ignore_inactive"))) {
        const char *s = my_str(v);
        if (s && strcmp(s, "since_last_start") == 0)
            buf_printf(&b, "start_at = end\n"), my_take(v);
    }
    if ((v = my_get(n, "max_bytes")) || (v = my_path(n, "message_max_bytes")))
        kv_node(&c, "max_line_bytes", v);
    if ((v = my_get(n, "close_inactive")) || (v = my_path(n, "close.on_state_change.inactive")))
        duration_kv(&c, "close_inactive", v);
    int have_ml = 0, have_fmt = 0;
    if ((v = my_get(n, "multiline"))) {
        have_ml++;
        multiline(&c, v);
    }
    if ((v = my_get(n, "parsers")))
        parsers(&c, v, &have_ml, &have_fmt);
    if (strcmp(type, "container") == 0 && !have_fmt) {
        struct my_node *fn = my_take(my_get(n, "format"));
        mig_kv(m, &b, fn ? fn : n, "format", my_str(fn) ? my_str(fn) : "auto");
        const char *stream = my_str(v = my_get(n, "stream"));
        if (stream && strcmp(stream, "all") != 0)
            mig_drop(m, v, "container stream %s: logferry reads both streams", stream);
        my_take(v);
    }
    if ((v = my_get(n, "json"))) {
        buf_printf(&b, "parser = json\n");
        mig_info(m, v, "json.*: logferry's json parser merges the keys at the top level");
    }
    if ((v = my_get(n, "include_lines"))) {
        char *l = join_list(&c, v, "include_lines", 1);
        if (l)
            mig_kv(m, &b, v, "include_lines", l);
        free(l);
    }
    if ((v = my_get(n, "exclude_lines"))) {
        char *l = join_list(&c, v, "exclude_lines", 1);
        if (l)
            mig_kv(m, &b, v, "exclude_lines", l);
        free(l);
    }
    struct my_node *fields = my_get(n, "fields");
    if (fields) {
        int under_root = my_bool(my_take(my_get(n, "fields_under_root"))) == 1;
        mig_fields(m, fields, under_root ? "" : "fields", &b);
    } else if ((v = my_get(n, "fields_under_root"))) {
        my_take(v);
    }
    if ((v = my_get(n, "tags")))
        mig_drop(m, v, "tags: logferry has no per-input tags (use a static field instead)");
    struct buf pf;
    buf_init(&pf, 1 << 20);
    mig_processors(m, my_get(n, "processors"), &pf, 0);
    /* one note per input naming what it does not need, so nothing goes unmentioned */
    char seen[512] = "";
    int first_line = 0;
    for (int i = 0; harmless[i]; i++)
        if ((v = my_path(n, harmless[i])) && !v->used) {
            const char *enc = strcmp(harmless[i], "encoding") == 0 ? my_str(v) : NULL;
            if (enc && strcmp(enc, "plain") && strcmp(enc, "utf-8") && strcmp(enc, "utf8")) {
                mig_drop(m, v, "encoding %s: logferry reads UTF-8 (invalid bytes are repaired)",
                         enc);
                continue;
            }
            if (!first_line || v->line < first_line)
                first_line = v->line;
            size_t l = strlen(seen);
            snprintf(seen + l, sizeof seen - l, "%s%s", l ? ", " : "", harmless[i]);
            my_take(v);
        }
    if (seen[0])
        mig_note(m, MIG_INFO, first_line, "[input %s]: %s: not needed by logferry (inotify, "
                 "device+inode+first-bytes identity; renamed and removed files are drained, "
                 "then closed)", name, seen);
    if ((v = my_path(n, "prospector.scanner.fingerprint"))) {
        const struct my_node *o = my_get(v, "offset"), *l = my_get(v, "length");
        if (my_str(o))
            c.rec->fp_offset = (uint32_t)strtoul(my_str(o), NULL, 10);
        if (my_str(l))
            c.rec->fp_length = (uint32_t)strtoul(my_str(l), NULL, 10);
    }
    buf_printf(&m->inputs, "\n[input %s]\n", name);
    if (b.len)
        buf_add(&m->inputs, b.p, b.len);
    if (pf.len)
        buf_add(&m->inputs, pf.p, pf.len);
    if (gfields->len)
        buf_add(&m->inputs, gfields->p, gfields->len);
    buf_free(&pf);
    buf_free(&b);
}

/* Module filesets carried over, with the Linux paths Filebeat's modules default to. */
struct fileset {
    const char *module, *fileset, *parser, *paths;
};
static const struct fileset filesets[] = {
    {"nginx", "access", "nginx_combined", "/var/log/nginx/access.log*"},
    {"nginx", "error", NULL, "/var/log/nginx/error.log*"},
    {"apache", "access", "nginx_combined",
     "/var/log/apache2/access.log*, /var/log/apache2/other_vhosts_access.log*, "
     "/var/log/httpd/access_log*"},
    {"apache", "error", NULL, "/var/log/apache2/error.log*, /var/log/httpd/error_log*"},
    {NULL, NULL, NULL, NULL},
};

/* A note about a module setting: in filebeat.yml (its line) or in a modules.d file, whose
 * tree was parsed behind a one-line wrapper (hence line - 1). */
static void mod_note(struct migrate *m, enum mig_note_kind kind, const char *where,
                     struct my_node *n, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void mod_note(struct migrate *m, enum mig_note_kind kind, const char *where,
                     struct my_node *n, const char *fmt, ...)
{
    char msg[800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    my_take(n);
    if (strchr(where, '/'))
        mig_note(m, kind, 0, "%s:%d: %s", where, n->line - 1, msg);
    else
        mig_note(m, kind, n->line, "%s", msg);
}

static void one_module(struct migrate *m, struct my_node *mod, const char *where,
                       struct buf *gfields)
{
    if (mod->kind != MY_MAP) {
        mod_note(m, MIG_DROP, where, mod, "expected a module mapping");
        return;
    }
    struct my_node *mn = my_take(my_get(mod, "module"));
    const char *name = my_str(mn);
    if (!name) {
        mod_note(m, MIG_ERROR, where, mod, "a module entry without `module:`");
        return;
    }
    if (my_bool(my_get(mod, "enabled")) == 0) {
        my_take(mod);
        return;
    }
    my_take(my_get(mod, "enabled"));
    for (int i = 0; i < mod->n; i++) {
        struct my_node *fs = mod->kids[i];
        const char *fsname = mod->keys[i];
        if (fs->used)
            continue;
        const struct fileset *f = NULL;
        for (int k = 0; filesets[k].module; k++)
            if (strcmp(filesets[k].module, name) == 0 && strcmp(filesets[k].fileset, fsname) == 0)
                f = &filesets[k];
        struct my_node *en = my_get(fs, "enabled");
        if (en && my_bool(en) == 0) {
            my_take(fs);
            continue;
        }
        if (!f) {
            mod_note(m, MIG_DROP, where, fs, "module %s, fileset %s: not supported by logferry",
                     name, fsname);
            continue;
        }
        my_take(en);
        char iname[128];
        char base[96];
        snprintf(base, sizeof base, "%s-%s", name, fsname);
        input_name(m, base, base, iname, sizeof iname);
        struct buf b;
        buf_init(&b, 1 << 20);
        struct in_ctx c = {m, fs, &b, rec_new(m, iname, "log", "")};
        if (!c.rec) {
            buf_free(&b);
            return;
        }
        struct my_node *vp = my_path(fs, "var.paths");
        if (vp)
            paths(&c, vp);
        else {
            buf_printf(&b, "paths = %s\n", f->paths);
            char tmp[512];
            snprintf(tmp, sizeof tmp, "%s", f->paths);
            for (char *save = NULL, *t = strtok_r(tmp, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
                strv_add(&c.rec->paths, &c.rec->npaths, t);
        }
        /* Filebeat's modules leave compressed rotations alone */
        buf_printf(&b, "exclude = *.gz\n");
        strv_add(&c.rec->exclude, &c.rec->nexclude, "*.gz");
        if (f->parser)
            buf_printf(&b, "parser = %s\n", f->parser);
        else
            mod_note(m, MIG_DROP, where, my_get(fs, "enabled") ? my_get(fs, "enabled") : fs,
                     "module %s, fileset %s: no built-in parser; the lines are shipped unparsed "
                     "(message only)", name, fsname);
        buf_printf(&b, "fields.event.module = %s\nfields.event.dataset = %s.%s\n", name, name,
                   fsname);
        struct my_node *inp = my_get(fs, "input");
        if (inp) {
            struct my_node *v;
            if ((v = my_get(inp, "exclude_files")))
                excludes(&c, v);
            if ((v = my_get(inp, "close_inactive")))
                duration_kv(&c, "close_inactive", v);
            if ((v = my_get(inp, "fields")))
                mig_fields(m, v, my_bool(my_take(my_get(inp, "fields_under_root"))) == 1 ? ""
                           : "fields", &b);
        }
        buf_printf(&m->inputs, "\n[input %s]\n", iname);
        if (b.len)
            buf_add(&m->inputs, b.p, b.len);
        if (gfields->len)
            buf_add(&m->inputs, gfields->p, gfields->len);
        buf_free(&b);
    }
}

static void module_files(struct migrate *m, struct my_node *cm, struct buf *gfields)
{
    struct my_node *pn = my_get(cm, "path");
    const char *pat = my_str(pn);
    my_take(cm);
    if (!pat)
        return;
    char *p = mig_value(m, pn, pat);
    if (!p)
        return;
    glob_t g;
    if (glob(p, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            char err[512];
            size_t n;
            char *text = mig_read_file(g.gl_pathv[i], &n, err, sizeof err);
            if (!text) {
                mig_note(m, MIG_ERROR, 0, "%s", err);
                continue;
            }
            /* a modules.d file is a list; my_parse wants a mapping at the top */
            size_t wl = n + 8;
            char *wrapped = malloc(wl);
            struct my_node *doc = NULL;
            if (wrapped) {
                memcpy(wrapped, "m:\n", 3);
                memcpy(wrapped + 3, text, n + 1);
                doc = my_parse(wrapped, n + 3, err, sizeof err);
                free(wrapped);
            }
            free(text);
            if (!doc) {
                int eline = atoi(err);
                const char *colon = strchr(err, ':');
                mig_note(m, MIG_ERROR, 0, "%s:%d:%s", g.gl_pathv[i], eline > 1 ? eline - 1 : 1,
                         colon ? colon + 1 : err);
                continue;
            }
            struct my_node *list = my_get(doc, "m");
            for (int k = 0; list && list->kind == MY_SEQ && k < list->n; k++)
                one_module(m, list->kids[k], g.gl_pathv[i], gfields);
            mig_sweep_tree(m, list, g.gl_pathv[i], -1);
            my_free(doc);
        }
        globfree(&g);
    }
    free(p);
}

static void globals(struct migrate *m)
{
    struct my_node *r = m->root, *v;
    if ((v = my_get(r, "name")))
        mig_kv(m, &m->agent, v, "name", my_str(my_take(v)) ? my_str(v) : "");
    if ((v = my_path(r, "logging.level"))) {
        const char *l = my_str(my_take(v));
        if (l && strcmp(l, "warning") == 0)
            l = "warn";
        if (l && (!strcmp(l, "error") || !strcmp(l, "warn") || !strcmp(l, "info") ||
                  !strcmp(l, "debug")))
            buf_printf(&m->agent, "log_level = %s\n", l);
        else
            mig_drop(m, v, "logging.level %s: not a logferry log level", l ? l : "");
    }
    if ((v = my_path(r, "logging.json")) && my_bool(my_take(v)) == 1)
        buf_printf(&m->agent, "log_format = json\n");
    struct my_node *http = my_get(r, "http");
    if (http && my_bool(my_get(http, "enabled")) == 1) {
        const char *host = my_str(my_get(http, "host"));
        const char *port = my_str(my_get(http, "port"));
        char listen[300];
        snprintf(listen, sizeof listen, "%s:%s", host ? host : "127.0.0.1", port ? port : "5066");
        mig_kv(m, &m->agent, http, "http_listen", listen);
        my_take(http);
        mig_info(m, http, "http: the endpoint serves logferry's /metrics, /status, /healthz "
                 "(not Filebeat's /stats)");
    } else if (http) {
        my_take(http);
    }
    static const char *const info[][2] = {
        {"setup", "setup.*: run `logferry setup` for Elasticsearch templates and policies"},
        {"filebeat.registry", "filebeat.registry: logferry keeps its own registry in data_dir"},
        {"path", "path.*: logferry keeps its state in [agent] data_dir"},
        {"queue", "queue.*: logferry's queue is [agent] queue_max_events / queue_max_bytes"},
        {"filebeat.shutdown_timeout", "filebeat.shutdown_timeout: see [agent] shutdown_timeout"},
        {"max_procs", "max_procs: logferry uses one reading thread plus one per output"},
        {"logging", "logging.*: logferry logs to stderr (journald under systemd)"},
        {"filebeat.overwrite_pipelines", "filebeat.overwrite_pipelines: logferry parses on the "
                                         "host, no ingest pipelines"},
        {NULL, NULL}};
    for (int i = 0; info[i][0]; i++)
        if ((v = my_path(r, info[i][0])) && !v->used) {
            /* settings we did not map above, under a section that only tunes Filebeat */
            int anything = 0;
            for (int k = 0; k < v->n; k++)
                anything |= !v->kids[k]->used;
            if (anything || v->kind == MY_SCALAR)
                mig_info(m, v, "%s", info[i][1]);
            my_take(v);
        }
}

int mig_inputs(struct migrate *m)
{
    globals(m);
    /* global fields and processors apply to every input */
    struct buf gf;
    buf_init(&gf, 1 << 20);
    struct my_node *v;
    if ((v = my_get(m->root, "fields")))
        mig_fields(m, v, my_bool(my_take(my_get(m->root, "fields_under_root"))) == 1 ? ""
                   : "fields", &gf);
    if ((v = my_get(m->root, "tags")))
        mig_drop(m, v, "tags: logferry has no tags setting (use a static field instead)");
    mig_processors(m, my_get(m->root, "processors"), &gf, 1);
    struct my_node *list = my_path(m->root, "filebeat.inputs");
    if (!list)
        list = my_path(m->root, "filebeat.prospectors"); /* Filebeat 5.x */
    if (list && list->kind != MY_SEQ)
        mig_note(m, MIG_ERROR, list->line, "filebeat.inputs: expected a list of inputs");
    for (int i = 0; list && list->kind == MY_SEQ && i < list->n; i++)
        one_input(m, list->kids[i], i, &gf);
    struct my_node *mods = my_path(m->root, "filebeat.modules");
    if (mods && mods->kind != MY_SEQ)
        mig_note(m, MIG_ERROR, mods->line, "filebeat.modules: expected a list of modules");
    for (int i = 0; mods && mods->kind == MY_SEQ && i < mods->n; i++)
        one_module(m, mods->kids[i], "filebeat.modules", &gf);
    struct my_node *cm = my_path(m->root, "filebeat.config.modules");
    if (cm)
        module_files(m, cm, &gf);
    if ((v = my_path(m->root, "filebeat.config.inputs")))
        mig_drop(m, v, "filebeat.config.inputs: external input files are not read; convert "
                 "each one and paste its [input] sections");
    buf_free(&gf);
    return 0;
}
