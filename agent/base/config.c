/*
 * config.c - reading agent.conf with inih and applying config tables (see config.h).
 *
 * inih gives us sections and key/value pairs but not line numbers, so we feed it through our
 * own line reader that counts lines; the count at the time the handler runs is the line of
 * the entry. Debian's inih lets us lift its 200-byte line limit at run time, which long
 * regex patterns need.
 */
#include "agent/base/config.h"
#include "agent/base/secret.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void conf_err(struct conf_errs *errs, const char *file, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char full[1400];
    if (line > 0)
        snprintf(full, sizeof full, "%s:%d: %s", file ? file : "?", line, msg);
    else
        snprintf(full, sizeof full, "%s: %s", file ? file : "?", msg);
    if (errs->n == errs->cap) {
        int nc = errs->cap ? errs->cap * 2 : 8;
        char **nm = realloc(errs->msg, (size_t)nc * sizeof *nm);
        if (!nm)
            return;
        errs->msg = nm;
        errs->cap = nc;
    }
    char *d = strdup(full);
    if (d)
        errs->msg[errs->n++] = d;
}

void conf_errs_free(struct conf_errs *errs)
{
    for (int i = 0; i < errs->n; i++)
        free(errs->msg[i]);
    free(errs->msg);
    errs->msg = NULL;
    errs->n = errs->cap = 0;
}

char *conf_expand_env(const char *in, char *err, size_t errsz)
{
    size_t cap = strlen(in) + 64, len = 0;
    char *out = malloc(cap);
    if (!out) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    for (const char *p = in; *p;) {
        const char *val = NULL;
        size_t vlen = 0;
        char one = *p;
        if (p[0] == '$' && p[1] == '{') {
            const char *end = strchr(p + 2, '}');
            if (!end) {
                snprintf(err, errsz, "unterminated ${ in value");
                free(out);
                return NULL;
            }
            const char *dflt = NULL;
            size_t nlen = (size_t)(end - (p + 2));
            const char *sep = strstr(p + 2, ":-");
            if (sep && sep < end) {
                dflt = sep + 2;
                nlen = (size_t)(sep - (p + 2));
            }
            char name[256];
            if (nlen == 0 || nlen >= sizeof name) {
                snprintf(err, errsz, "bad variable name in ${...}");
                free(out);
                return NULL;
            }
            memcpy(name, p + 2, nlen);
            name[nlen] = '\0';
            for (size_t i = 0; i < nlen; i++)
                if (!(isalnum((unsigned char)name[i]) || name[i] == '_')) {
                    snprintf(err, errsz, "bad variable name '%s' in ${...}", name);
                    free(out);
                    return NULL;
                }
            const char *ev = getenv(name);
            if (ev && (*ev || !dflt)) {
                val = ev;
                vlen = strlen(ev);
            } else if (dflt) {
                val = dflt;
                vlen = (size_t)(end - dflt);
            } else {
                snprintf(err, errsz, "environment variable %s is not set (use ${%s:-default})",
                         name, name);
                free(out);
                return NULL;
            }
            p = end + 1;
        } else {
            val = &one;
            vlen = 1;
            p++;
        }
        if (len + vlen + 1 > cap) {
            cap = (len + vlen + 1) * 2;
            char *n2 = realloc(out, cap);
            if (!n2) {
                free(out);
                snprintf(err, errsz, "out of memory");
                return NULL;
            }
            out = n2;
        }
        memcpy(out + len, val, vlen);
        len += vlen;
    }
    out[len] = '\0';
    return out;
}

/* ---- loading ---- */

struct load_ctx {
    struct conf *c;
    struct conf_errs *errs;
    int lineno;
    int section_line;
    char cur_section[512];
    /* reader state */
    FILE *fp;
    const char *str;
    int at_line_start; /* the next chunk the reader returns begins a new line */
};

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static struct conf_section *add_section(struct load_ctx *lc, const char *hdr, int line)
{
    struct conf *c = lc->c;
    if (c->n == c->cap) {
        int nc = c->cap ? c->cap * 2 : 8;
        struct conf_section *ns = realloc(c->s, (size_t)nc * sizeof *ns);
        if (!ns)
            return NULL;
        c->s = ns;
        c->cap = nc;
    }
    struct conf_section *s = &c->s[c->n++];
    memset(s, 0, sizeof *s);
    s->line = line;
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", hdr);
    char *words[4] = {0};
    int nw = 0;
    for (char *tok = strtok(tmp, " \t"); tok && nw < 4; tok = strtok(NULL, " \t"))
        words[nw++] = tok;
    s->type = strdup(nw > 0 ? words[0] : "");
    if (nw > 0 && strcmp(words[0], "output") == 0) {
        s->subtype = strdup(nw > 1 ? words[1] : "");
        s->name = strdup(nw > 2 ? words[2] : (nw > 1 ? words[1] : ""));
    } else {
        s->subtype = strdup("");
        s->name = strdup(nw > 1 ? words[1] : "");
    }
    if (nw > 3 || (nw == 3 && strcmp(words[0], "output") != 0))
        conf_err(lc->errs, c->file, line, "section header [%s] has too many words", hdr);
    return s;
}

/* Line reader that counts lines and notices section headers (inih does not tell us the line
 * of a section, and calls the handler for none when a section is empty). */
static char *reader(char *str, int num, void *stream)
{
    struct load_ctx *lc = stream;
    char *r;
    if (lc->fp) {
        r = fgets(str, num, lc->fp);
    } else {
        if (!*lc->str)
            return NULL;
        const char *nl = strchr(lc->str, '\n');
        size_t n = nl ? (size_t)(nl - lc->str + 1) : strlen(lc->str);
        if (n > (size_t)num - 1)
            n = (size_t)num - 1;
        memcpy(str, lc->str, n);
        str[n] = '\0';
        lc->str += n;
        r = str;
    }
    if (!r)
        return NULL;
    /* inih reads a line longer than its buffer (200 bytes at first) in several calls, the
     * later ones continuing the same line. Only a chunk that starts a line counts as a line
     * and may be a section header; counting every chunk shifted the line numbers of every
     * later error, and a '[' at the start of a continuation made a bogus section. */
    int starts_line = lc->at_line_start;
    size_t rl = strlen(r);
    lc->at_line_start = rl > 0 && r[rl - 1] == '\n';
    if (!starts_line)
        return r;
    lc->lineno++;
    char *p = str;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '[') {
        char *e = strchr(p, ']');
        if (e) {
            char hdr[512];
            size_t n = (size_t)(e - p - 1);
            if (n >= sizeof hdr)
                n = sizeof hdr - 1;
            memcpy(hdr, p + 1, n);
            hdr[n] = '\0';
            char *h = trim(hdr);
            snprintf(lc->cur_section, sizeof lc->cur_section, "%s", h);
            add_section(lc, h, lc->lineno);
        }
    }
    return r;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *lc = user;
    struct conf *c = lc->c;
    (void)section;
    if (c->n == 0) {
        conf_err(lc->errs, c->file, lc->lineno, "key '%s' outside any [section]", name);
        return 1;
    }
    struct conf_section *s = &c->s[c->n - 1];
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->e[i].key, name) == 0) {
            conf_err(lc->errs, c->file, lc->lineno, "duplicate key '%s' (first set on line %d)",
                     name, s->e[i].line);
            return 1;
        }
    char err[256];
    char *x = conf_expand_env(value, err, sizeof err);
    if (!x)
        conf_err(lc->errs, c->file, lc->lineno, "%s: %s", name, err);
    /* Any value may be a secret (password, api_key, a URL with a token): it lives in memory
     * core dumps leave out, and the copies made on the way (inih's line buffer, the
     * expansion) are wiped. */
    char *v = lf_secret_strdup(x ? x : "");
    if (x) {
        lf_secret_wipe(x, strlen(x));
        free(x);
    }
    lf_secret_wipe((char *)value, strlen(value)); /* inih's own, writable, line buffer */
    if (!v)
        return 0;
    if (s->n == s->cap) {
        int nc = s->cap ? s->cap * 2 : 8;
        struct conf_entry *ne = realloc(s->e, (size_t)nc * sizeof *ne);
        if (!ne) {
            lf_secret_free(v);
            return 0;
        }
        s->e = ne;
        s->cap = nc;
    }
    s->e[s->n++] = (struct conf_entry){strdup(name), v, lc->lineno, 0};
    return 1;
}

static struct conf *load(const char *name, FILE *fp, const char *str, struct conf_errs *errs)
{
    struct conf *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->file = strdup(name);
    struct load_ctx lc = {.c = c, .errs = errs, .fp = fp, .str = str, .at_line_start = 1};
    ini_use_stack = false;
    ini_allow_realloc = true;
    ini_max_line = 64 * 1024;
    ini_allow_multiline = false;
    int rc = ini_parse_stream(reader, &lc, handler, &lc);
    if (rc > 0)
        conf_err(errs, name, rc, "syntax error (expected [section] or key = value)");
    else if (rc < 0)
        conf_err(errs, name, 0, "cannot parse (out of memory)");
    return c;
}

struct conf *conf_load(const char *path, struct conf_errs *errs)
{
    /* Read whole into non-dumped memory (stdio would keep the text, secrets included, in a
     * heap buffer that outlives fclose). A pipe or FIFO works too: the buffer doubles. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        conf_err(errs, path, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    size_t cap = 16384, len = 0;
    char *text = lf_secret_alloc(cap);
    const char *why = NULL;
    while (text) {
        if (len == cap) {
            char *bigger = cap < ((size_t)16 << 20) ? lf_secret_alloc(cap * 2) : NULL;
            if (!bigger) {
                why = cap < ((size_t)16 << 20) ? "out of memory" : "larger than 16 MiB";
                break;
            }
            memcpy(bigger, text, len);
            lf_secret_free(text);
            text = bigger;
            cap *= 2;
        }
        ssize_t r = read(fd, text + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            why = strerror(errno);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (!text || why) {
        conf_err(errs, path, 0, "cannot read: %s", text ? why : "out of memory");
        lf_secret_free(text);
        return NULL;
    }
    text[len] = '\0';
    struct conf *c = load(path, NULL, text, errs);
    lf_secret_free(text);
    return c;
}

struct conf *conf_load_string(const char *name, const char *text, struct conf_errs *errs)
{
    return load(name, NULL, text, errs);
}

void conf_free(struct conf *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n; i++) {
        struct conf_section *s = &c->s[i];
        for (int j = 0; j < s->n; j++) {
            free(s->e[j].key);
            lf_secret_free(s->e[j].value);
        }
        free(s->e);
        free(s->type);
        free(s->name);
        free(s->subtype);
    }
    free(c->s);
    free(c->file);
    free(c);
}

struct conf_entry *conf_find(struct conf_section *s, const char *key)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->e[i].key, key) == 0)
            return &s->e[i];
    return NULL;
}

/* ---- value parsers ---- */

int conf_parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return -1;
    while (isspace((unsigned char)*end))
        end++;
    double mul = 1;
    if (!*end || !strcasecmp(end, "b")) mul = 1;
    else if (!strcasecmp(end, "kib") || !strcasecmp(end, "k")) mul = 1024.0;
    else if (!strcasecmp(end, "mib") || !strcasecmp(end, "m")) mul = 1024.0 * 1024;
    else if (!strcasecmp(end, "gib") || !strcasecmp(end, "g")) mul = 1024.0 * 1024 * 1024;
    else if (!strcasecmp(end, "kb")) mul = 1e3;
    else if (!strcasecmp(end, "mb")) mul = 1e6;
    else if (!strcasecmp(end, "gb")) mul = 1e9;
    else return -1;
    double r = v * mul;
    if (r > 1e18)
        return -1;
    *out = (uint64_t)r;
    return 0;
}

int conf_parse_duration(const char *s, long *ms_out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return -1;
    while (isspace((unsigned char)*end))
        end++;
    double mul;
    if (!*end || !strcmp(end, "s")) mul = 1000;
    else if (!strcmp(end, "ms")) mul = 1;
    else if (!strcmp(end, "m") || !strcmp(end, "min")) mul = 60000;
    else if (!strcmp(end, "h")) mul = 3600000;
    else if (!strcmp(end, "d")) mul = 86400000;
    else return -1;
    double r = v * mul;
    if (r > 1e15)
        return -1;
    *ms_out = (long)r;
    return 0;
}

int conf_parse_bool(const char *s, int *out)
{
    static const char *t[] = {"true", "yes", "on", "1"}, *f[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (!strcasecmp(s, t[i])) { *out = 1; return 0; }
        if (!strcasecmp(s, f[i])) { *out = 0; return 0; }
    }
    return -1;
}

int conf_split_list(const char *s, struct conf_list *out)
{
    out->v = NULL;
    out->n = 0;
    char *dup = strdup(s);
    if (!dup)
        return -1;
    int cap = 0;
    char *save = NULL;
    for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *t = trim(tok);
        if (!*t)
            continue;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 4;
            char **nv = realloc(out->v, (size_t)cap * sizeof *nv);
            if (!nv) {
                free(dup);
                conf_list_free(out);
                return -1;
            }
            out->v = nv;
        }
        out->v[out->n++] = lf_secret_strdup(t); /* a URL may hold user:password@ */
    }
    lf_secret_wipe(dup, strlen(s));
    free(dup);
    return 0;
}

void conf_list_free(struct conf_list *l)
{
    for (int i = 0; i < l->n; i++)
        lf_secret_free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* ---- tables ---- */

static int set_value(struct conf *c, const struct conf_key *k, const char *val, int line,
                     void *target, struct conf_errs *errs)
{
    char *dst = (char *)target + k->off;
    switch (k->type) {
    case CT_STR:
        if (k->choices) {
            char ch[256];
            snprintf(ch, sizeof ch, "%s", k->choices);
            int ok = 0;
            char *save = NULL;
            for (char *t = strtok_r(ch, "|", &save); t; t = strtok_r(NULL, "|", &save))
                if (strcmp(t, val) == 0)
                    ok = 1;
            if (!ok) {
                conf_err(errs, c->file, line, "%s: '%s' is not one of %s", k->name, val, k->choices);
                return 1;
            }
        }
        *(const char **)dst = val;
        return 0;
    case CT_INT: {
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (end == val || *end || errno) {
            conf_err(errs, c->file, line, "%s: '%s' is not an integer", k->name, val);
            return 1;
        }
        *(long *)dst = v;
        return 0;
    }
    case CT_SIZE:
        if (conf_parse_size(val, (uint64_t *)dst) != 0) {
            conf_err(errs, c->file, line, "%s: '%s' is not a size (e.g. 512, 64KiB, 5MiB)",
                     k->name, val);
            return 1;
        }
        return 0;
    case CT_DURATION:
        if (conf_parse_duration(val, (long *)dst) != 0) {
            conf_err(errs, c->file, line, "%s: '%s' is not a duration (e.g. 250ms, 1s, 5m)",
                     k->name, val);
            return 1;
        }
        return 0;
    case CT_BOOL:
        if (conf_parse_bool(val, (int *)dst) != 0) {
            conf_err(errs, c->file, line, "%s: '%s' is not true or false", k->name, val);
            return 1;
        }
        return 0;
    case CT_LIST: {
        struct conf_list *l = (struct conf_list *)dst;
        conf_list_free(l);
        if (conf_split_list(val, l) != 0) {
            conf_err(errs, c->file, line, "%s: out of memory", k->name);
            return 1;
        }
        return 0;
    }
    case CT_PREFIX:
        return 0;
    }
    return 0;
}

int conf_apply(struct conf *c, struct conf_section *s, const struct conf_key *table,
               void *target, struct conf_errs *errs)
{
    int nerr = 0;
    for (const struct conf_key *k = table; k->name; k++) {
        if (k->type == CT_PREFIX) {
            struct conf_kvlist *kv = (struct conf_kvlist *)((char *)target + k->off);
            size_t pl = strlen(k->name);
            for (int i = 0; i < s->n; i++) {
                struct conf_entry *e = &s->e[i];
                if (e->used || strncmp(e->key, k->name, pl) != 0)
                    continue;
                if (!e->key[pl]) {
                    conf_err(errs, c->file, e->line, "'%s' needs a name after the prefix", e->key);
                    nerr++;
                    e->used = 1;
                    continue;
                }
                struct conf_kv *nv = realloc(kv->v, (size_t)(kv->n + 1) * sizeof *nv);
                if (!nv)
                    continue;
                kv->v = nv;
                kv->v[kv->n++] = (struct conf_kv){e->key + pl, e->value, e->line};
                e->used = 1;
            }
            continue;
        }
        struct conf_entry *e = NULL;
        for (int i = 0; i < s->n; i++)
            if (!s->e[i].used && strcmp(s->e[i].key, k->name) == 0)
                e = &s->e[i];
        if (e) {
            e->used = 1;
            nerr += set_value(c, k, e->value, e->line, target, errs);
        } else if (k->def) {
            nerr += set_value(c, k, k->def, s->line, target, errs);
        }
    }
    return nerr;
}

void conf_free_target(const struct conf_key *table, void *target)
{
    for (const struct conf_key *k = table; k->name; k++) {
        char *dst = (char *)target + k->off;
        if (k->type == CT_LIST)
            conf_list_free((struct conf_list *)dst);
        else if (k->type == CT_PREFIX) {
            struct conf_kvlist *kv = (struct conf_kvlist *)dst;
            free(kv->v);
            kv->v = NULL;
            kv->n = 0;
        }
    }
}

int conf_report_unused(struct conf *c, struct conf_section *s, struct conf_errs *errs)
{
    int n = 0;
    for (int i = 0; i < s->n; i++)
        if (!s->e[i].used) {
            conf_err(errs, c->file, s->e[i].line, "unknown key '%s' in [%s%s%s]", s->e[i].key,
                     s->type, *s->name ? " " : "", s->name);
            n++;
        }
    return n;
}
