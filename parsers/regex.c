/*
 * regex.c - the parser registry, custom [parser NAME] sections (PCRE2 named captures with
 * types, renames and a time field), type conversion, and the dispatch to the built-ins.
 *
 * Threads: parsers_configure(), parser_find() and parsers_free() run at configuration time
 * on the main thread; parser_run() runs on the tail thread with its own struct parse_run.
 * Compiled parsers are immutable once registered. The failure counter is a relaxed atomic
 * read by the metrics page.
 */
#include "parsers/parser.h"
#include "parsers/nginx_scan.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parsers/layout.h"
#include "parsers/lineproc.h"

static struct parser *registry;
static pcre2_match_context *mctx;

/* Backtracking budget of one match on log content: a hostile line must not stall the tail
 * thread. A match that runs out counts as not matching. */
#define PARSER_MATCH_LIMIT 200000

pcre2_match_context *parser_mctx(void)
{
    if (!mctx) {
        mctx = pcre2_match_context_create(NULL);
        if (mctx) {
            pcre2_set_match_limit(mctx, PARSER_MATCH_LIMIT);
            pcre2_set_depth_limit(mctx, 10000);
        }
    }
    return mctx;
}
static atomic_ullong failures;

void parser_count_failure(void)
{
    atomic_fetch_add_explicit(&failures, 1, memory_order_relaxed);
}

unsigned long long parsers_get_failures(void)
{
    return atomic_load_explicit(&failures, memory_order_relaxed);
}

pcre2_code *parser_compile(const char *pattern, uint32_t flags, char *err, size_t errsz)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, flags, &ec, &eo,
                                   NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        /* PCRE2's messages are short; truncating one to errsz is acceptable. */
        if (snprintf(err, errsz, "%s at offset %zu", (const char *)msg, (size_t)eo) < 0)
            err[0] = '\0';
        return NULL;
    }
    /* JIT failing (e.g. no executable memory) is not fatal: the interpreter still works. */
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

/* ---- conversions ---- */

int parser_to_int(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i == n)
        return -1;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int parser_to_float(const char *s, size_t n, double *out)
{
    char tmp[64];
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= sizeof tmp)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!(isdigit((unsigned char)s[i]) || strchr("+-.eE", s[i])))
            return -1; /* no "nan", "inf", hex floats */
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    if (end != tmp + n || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int parser_to_bool(const char *s, size_t n, int *out)
{
    static const char *const t[] = {"true", "yes", "1"}, *const f[] = {"false", "no", "0"};
    for (int i = 0; i < 3; i++) {
        if (strlen(t[i]) == n && !strncasecmp(s, t[i], n)) {
            *out = 1;
            return 0;
        }
        if (strlen(f[i]) == n && !strncasecmp(s, f[i], n)) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

void parser_add_typed(struct event_builder *eb, const struct fkey *k, int type, const char *s,
                      size_t n)
{
    int ok = -1;
    switch (type) {
    case PT_INT: {
        int64_t v;
        if (parser_to_int(s, n, &v) == 0)
            ok = eb_add_int(eb, k, v) == 0 ? 0 : 1;
        break;
    }
    case PT_FLOAT: {
        double v;
        if (parser_to_float(s, n, &v) == 0)
            ok = eb_add_float(eb, k, v) == 0 ? 0 : 1;
        break;
    }
    case PT_BOOL: {
        int v;
        if (parser_to_bool(s, n, &v) == 0)
            ok = eb_add_bool(eb, k, v) == 0 ? 0 : 1;
        break;
    }
    case PT_DUR_S:
    case PT_DUR_MS:
    case PT_DUR_US: {
        double v;
        static const double ns[] = {1e9, 1e6, 1e3};
        if (parser_to_float(s, n, &v) == 0 && v >= 0 && v < 9e9)
            ok = eb_add_int(eb, k, llround(v * ns[type - PT_DUR_S])) == 0 ? 0 : 1;
        break;
    }
    default:
        eb_add_str(eb, k, s, n);
        return;
    }
    if (ok < 0) {
        eb_add_str(eb, k, s, n);
        eb->flags |= EV_PARSE_FAILURE;
    }
}

/* ---- custom parsers ---- */

static int regex_run(const struct parser *p, struct parse_run *pr, struct event_builder *eb,
                     const char *rec, size_t len)
{
    int rc = pcre2_match(p->re, (PCRE2_SPTR)rec, len, 0, 0, pr->md, parser_mctx());
    if (rc <= 0)
        return 1;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(pr->md);
    uint32_t npairs = pcre2_get_ovector_count(pr->md);
    for (int i = 0; i < p->nfields; i++) {
        uint32_t g = p->fields[i].group;
        if (g >= npairs || ov[2 * g] == PCRE2_UNSET)
            continue;
        const char *s = rec + ov[2 * g];
        size_t n = ov[2 * g + 1] - ov[2 * g];
        if ((int)g == p->time_group) {
            int64_t ms;
            int r = p->time_format ? tp_parse(p->time_format, s, n, pr->tz, &ms)
                                   : tp_parse_iso(s, n, pr->tz, &ms);
            if (r == 0) {
                eb->ts_ms = ms;
                continue;
            }
            eb->flags |= EV_PARSE_FAILURE; /* kept as a string under its name */
        }
        parser_add_typed(eb, p->fields[i].key, p->fields[i].type, s, n);
    }
    return 0;
}

int parser_run(const struct parser *p, struct parse_run *pr, struct event_builder *eb,
               const char *rec, size_t len)
{
    int r;
    switch (p->kind) {
    case PK_REGEX: r = regex_run(p, pr, eb, rec, len); break;
    case PK_NGINX:
    case PK_APACHE: r = access_run(p, pr, eb, rec, len); break;
    case PK_SPRING: r = spring_run(p, pr, eb, rec, len); break;
    case PK_JSON: r = jsonlog_run(p, pr, eb, rec, len); break;
    default: r = 1;
    }
    if (r != 0) {
        eb->n = 0; /* a line that did not match keeps only its message */
        eb->ts_ms = 0;
    }
    if (r != 0 || (eb->flags & EV_PARSE_FAILURE)) {
        eb->flags |= EV_PARSE_FAILURE;
        parser_count_failure();
    }
    return r;
}

/* ---- configuration ---- */

struct parser_conf {
    const char *pattern, *types, *rename, *time_field, *time_format, *timezone;
    const char *layout[4]; /* enum layout_kind */
};

static const struct conf_key parser_keys[] = {
    {"pattern", CT_STR, NULL, offsetof(struct parser_conf, pattern),
     "PCRE2 regex with named groups (?<name>...); each group becomes a field", NULL},
    {"types", CT_STR, NULL, offsetof(struct parser_conf, types),
     "space-separated group:type with type int, float or bool (default string)", NULL},
    {"rename", CT_STR, NULL, offsetof(struct parser_conf, rename),
     "space-separated group:dotted.field, e.g. status:http.response.status_code", NULL},
    {"time_field", CT_STR, NULL, offsetof(struct parser_conf, time_field),
     "group whose text becomes @timestamp", NULL},
    {"time_format", CT_STR, NULL, offsetof(struct parser_conf, time_format),
     "strptime-style format of time_field (default ISO-8601), e.g. %d/%b/%Y:%H:%M:%S %z", NULL},
    {"timezone", CT_STR, NULL, offsetof(struct parser_conf, timezone),
     "zone of times without an offset (tz name like Asia/Seoul; default the host's)", NULL},
    {"logback_pattern", CT_STR, NULL, offsetof(struct parser_conf, layout[LAYOUT_LOGBACK]),
     "instead of pattern: a logback (Spring Boot) pattern, e.g. %d [%thread] %-5level %logger "
     "- %msg%n", NULL},
    {"log4j2_pattern", CT_STR, NULL, offsetof(struct parser_conf, layout[LAYOUT_LOG4J2]),
     "instead of pattern: a Log4j2 PatternLayout pattern", NULL},
    {"nginx_log_format", CT_STR, NULL, offsetof(struct parser_conf, layout[LAYOUT_NGINX]),
     "instead of pattern: an nginx log_format layout ('$remote_addr - ...'; combined; "
     "escape=json '{...}')", NULL},
    {"apache_log_format", CT_STR, NULL, offsetof(struct parser_conf, layout[LAYOUT_APACHE]),
     "instead of pattern: an Apache/Tomcat LogFormat ('%h %l %u %t \"%r\" %>s %b'; common; "
     "combined)", NULL},
    {NULL, 0, NULL, 0, NULL, NULL},
};

const struct conf_key *parsers_keys(void) { return parser_keys; }

static void parser_free_one(struct parser *p)
{
    if (!p)
        return;
    free(p->name);
    pcre2_code_free(p->re);
    pcre2_code_free(p->re2);
    free(p->fields);
    free(p->time_format);
    free(p->source);
    lf_tz_free(p->tz);
    free(p);
}

/* Looks "group:value" pairs up in a space-separated list: returns the value for `group`. */
static const char *pair_lookup(const char *list, const char *group, size_t *vlen)
{
    if (!list)
        return NULL;
    size_t gl = strlen(group);
    const char *p = list;
    while (*p) {
        while (*p && isspace((unsigned char)*p))
            p++;
        const char *tok = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        const char *colon = memchr(tok, ':', (size_t)(p - tok));
        if (colon && (size_t)(colon - tok) == gl && !strncmp(tok, group, gl)) {
            *vlen = (size_t)(p - colon - 1);
            return colon + 1;
        }
    }
    return NULL;
}

/* Every group named in a pair list must exist; every pair must be well-formed. */
static int check_pairs(struct conf *c, int line, const char *what, const char *list,
                       const pcre2_code *re, struct conf_errs *errs)
{
    int nerr = 0;
    const char *p = list;
    while (p && *p) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *tok = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        char t[256];
        snprintf(t, sizeof t, "%.*s", (int)(p - tok), tok);
        char *colon = strchr(t, ':');
        if (!colon || colon == t || !colon[1]) {
            conf_err(errs, c->file, line, "%s: '%s' is not group:value", what, t);
            nerr++;
            continue;
        }
        *colon = '\0';
        if (pcre2_substring_number_from_name(re, (PCRE2_SPTR)t) < 0) {
            conf_err(errs, c->file, line, "%s: the pattern has no group named '%s'", what, t);
            nerr++;
        }
    }
    return nerr;
}

static int line_of(struct conf_section *s, const char *key)
{
    struct conf_entry *e = conf_find(s, key);
    return e ? e->line : s->line;
}

static int builtin_setup(struct parser *p);

/* A [parser] with logback_pattern, log4j2_pattern, nginx_log_format or apache_log_format:
 * compiled by layout_*.c into what `pattern` would have been (or handed to a built-in). */
static int configure_layout(struct conf *c, struct conf_section *s, struct parser_conf *pc,
                            enum layout_kind lk, struct conf_errs *errs)
{
    static const char *const key[] = {"logback_pattern", "log4j2_pattern", "nginx_log_format",
                                      "apache_log_format"};
    static const char *const other[] = {"types", "rename", "time_field", "time_format"};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        if (conf_find(s, other[i])) {
            conf_err(errs, c->file, line_of(s, other[i]),
                     "%s does not apply to %s (the layout says it)", other[i], key[lk]);
            return 1;
        }
    struct layout_build *b = malloc(sizeof *b);
    struct parser *p = calloc(1, sizeof *p);
    char err[512];
    int nerr = 0;
    if (!b || !p) {
        conf_err(errs, c->file, s->line, "out of memory");
        nerr = 1;
        goto out;
    }
    p->time_group = -1;
    p->name = strdup(s->name);
    if (layout_compile(b, lk, pc->layout[lk]) != 0) {
        conf_err(errs, c->file, line_of(s, key[lk]), "%s: %s", key[lk], b->err);
        nerr = 1;
        goto out;
    }
    if (b->builtin != LAYOUT_BUILTIN_NONE) {
        p->kind = b->builtin == LAYOUT_BUILTIN_NGINX ? PK_NGINX : PK_JSON;
        if (builtin_setup(p) != 0) {
            conf_err(errs, c->file, line_of(s, key[lk]), "%s: built-in parser failed", key[lk]);
            nerr = 1;
            goto out;
        }
    } else if (layout_install(b, p, err, sizeof err) != 0) {
        conf_err(errs, c->file, line_of(s, key[lk]), "%s: %s", key[lk], err);
        nerr = 1;
        goto out;
    }
    if (pc->timezone) { /* the section's timezone wins over a zone in the layout */
        lf_tz_free(p->tz);
        p->tz = lf_tz_load(pc->timezone, err, sizeof err);
        if (!p->tz) {
            conf_err(errs, c->file, line_of(s, "timezone"), "timezone: %s", err);
            nerr = 1;
        }
    }
    p->next = registry;
    registry = p;
    p = NULL;
out:
    parser_free_one(p);
    free(b);
    return nerr;
}

static int configure_one(struct conf *c, struct conf_section *s, struct conf_errs *errs)
{
    struct parser_conf pc = {0};
    /* unknown keys of [parser] sections are reported by the core (conf_report_unused) */
    int nerr = conf_apply(c, s, parser_keys, &pc, errs);
    if (!*s->name) {
        conf_err(errs, c->file, s->line, "[parser] needs a name: [parser NAME]");
        return nerr + 1;
    }
    if (parser_find(s->name) != NULL) {
        conf_err(errs, c->file, s->line, "parser '%s' is already defined (or built in)",
                 s->name);
        return nerr + 1;
    }
    int nlayouts = 0, lk = -1;
    for (int i = 0; i < 4; i++)
        if (pc.layout[i])
            nlayouts++, lk = i;
    if (nlayouts + (pc.pattern != NULL) > 1) {
        conf_err(errs, c->file, s->line, "[parser %s]: choose one of pattern, logback_pattern, "
                 "log4j2_pattern, nginx_log_format, apache_log_format", s->name);
        return nerr + 1;
    }
    if (lk >= 0)
        return nerr + configure_layout(c, s, &pc, (enum layout_kind)lk, errs);
    if (!pc.pattern) {
        conf_err(errs, c->file, s->line, "[parser %s] needs a pattern (or a layout: "
                 "logback_pattern, log4j2_pattern, nginx_log_format, apache_log_format)",
                 s->name);
        return nerr + 1;
    }
    char err[512];
    struct parser *p = calloc(1, sizeof *p);
    if (!p)
        return nerr + 1;
    p->kind = PK_REGEX;
    p->time_group = -1;
    p->name = strdup(s->name);
    p->re = parser_compile(pc.pattern, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, err, sizeof err);
    if (!p->re) {
        conf_err(errs, c->file, line_of(s, "pattern"), "pattern: %s", err);
        parser_free_one(p);
        return nerr + 1;
    }
    pcre2_pattern_info(p->re, PCRE2_INFO_CAPTURECOUNT, &p->ngroups);
    nerr += check_pairs(c, line_of(s, "types"), "types", pc.types, p->re, errs);
    nerr += check_pairs(c, line_of(s, "rename"), "rename", pc.rename, p->re, errs);
    uint32_t namecount, entsz;
    PCRE2_SPTR table;
    pcre2_pattern_info(p->re, PCRE2_INFO_NAMECOUNT, &namecount);
    pcre2_pattern_info(p->re, PCRE2_INFO_NAMEENTRYSIZE, &entsz);
    pcre2_pattern_info(p->re, PCRE2_INFO_NAMETABLE, &table);
    if (namecount == 0) {
        conf_err(errs, c->file, line_of(s, "pattern"),
                 "pattern: no named group (?<name>...): it would add no field");
        nerr++;
    }
    p->fields = calloc(namecount ? namecount : 1, sizeof *p->fields);
    if (!p->fields) {
        parser_free_one(p);
        return nerr + 1;
    }
    for (uint32_t i = 0; i < namecount; i++) {
        const unsigned char *ent = table + i * entsz;
        uint32_t g = (uint32_t)ent[0] << 8 | ent[1];
        const char *gname = (const char *)ent + 2;
        char keyname[256];
        size_t vl;
        const char *rn = pair_lookup(pc.rename, gname, &vl);
        snprintf(keyname, sizeof keyname, "%.*s", rn ? (int)vl : (int)strlen(gname),
                 rn ? rn : gname);
        int type = PT_STR;
        const char *ty = pair_lookup(pc.types, gname, &vl);
        if (ty) {
            if (vl == 3 && !strncmp(ty, "int", 3))
                type = PT_INT;
            else if (vl == 5 && !strncmp(ty, "float", 5))
                type = PT_FLOAT;
            else if (vl == 4 && !strncmp(ty, "bool", 4))
                type = PT_BOOL;
            else if (!(vl == 6 && !strncmp(ty, "string", 6))) {
                conf_err(errs, c->file, line_of(s, "types"),
                         "types: '%.*s' for group '%s' is not int, float, bool or string",
                         (int)vl, ty, gname);
                nerr++;
            }
        }
        const struct fkey *k = fkey_intern(keyname);
        static const char *const reserved[] = {"message", "@timestamp", "tags", "host.name",
                                               "log.offset", "log.file.path", "log.flags"};
        int res = 0;
        for (size_t r = 0; r < sizeof reserved / sizeof reserved[0]; r++)
            res |= !strcmp(keyname, reserved[r]);
        if (!k || res) {
            conf_err(errs, c->file, line_of(s, rn ? "rename" : "pattern"),
                     "field name '%s' (group '%s') is not usable: not a dotted name, or "
                     "reserved (message, @timestamp, tags, host.name, log.*)", keyname, gname);
            nerr++;
            continue;
        }
        p->fields[p->nfields++] = (struct pfield){g, k, type};
        if (pc.time_field && !strcmp(pc.time_field, gname))
            p->time_group = (int)g;
    }
    if (pc.time_field && p->time_group < 0) {
        conf_err(errs, c->file, line_of(s, "time_field"),
                 "time_field: the pattern has no group named '%s'", pc.time_field);
        nerr++;
    }
    if (pc.time_format) {
        if (!pc.time_field) {
            conf_err(errs, c->file, line_of(s, "time_format"), "time_format needs time_field");
            nerr++;
        } else if (tp_check_format(pc.time_format, err, sizeof err) != 0) {
            conf_err(errs, c->file, line_of(s, "time_format"), "time_format: %s", err);
            nerr++;
        }
        p->time_format = strdup(pc.time_format);
    }
    if (pc.timezone) {
        p->tz = lf_tz_load(pc.timezone, err, sizeof err);
        if (!p->tz) {
            conf_err(errs, c->file, line_of(s, "timezone"), "timezone: %s", err);
            nerr++;
        }
    }
    p->next = registry;
    registry = p;
    return nerr;
}

int parsers_configure(struct conf *c, struct conf_errs *errs)
{
    int nerr = 0;
    parser_mctx();
    access_keys_intern();
    spring_keys_intern();
    jsonlog_keys_intern();
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->s[i].type, "parser") == 0)
            nerr += configure_one(c, &c->s[i], errs);
    return nerr;
}

static const struct {
    const char *name;
    enum parser_kind kind;
} builtins[] = {
    {"nginx_combined", PK_NGINX},
    {"apache_common", PK_APACHE},
    {"spring_boot", PK_SPRING},
    {"json", PK_JSON},
};

const struct parser *parser_find(const char *name)
{
    for (struct parser *p = registry; p; p = p->next)
        if (!strcmp(p->name, name))
            return p;
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        if (strcmp(builtins[i].name, name) != 0)
            continue;
        struct parser *p = calloc(1, sizeof *p);
        if (!p)
            return NULL;
        p->kind = builtins[i].kind;
        p->time_group = -1;
        p->name = strdup(name);
        if (builtin_setup(p) != 0) {
            parser_free_one(p);
            return NULL;
        }
        p->next = registry;
        registry = p;
        return p;
    }
    return NULL;
}

/* Compiles p->kind's built-in pattern and interns its keys. */
static int builtin_setup(struct parser *p)
{
    const char *pat = p->kind == PK_SPRING ? spring_pattern()
                      : p->kind == PK_JSON ? NULL : access_pattern(p->kind);
    if (pat) {
        char err[256];
        p->re = parser_compile(pat, 0, err, sizeof err);
        if (!p->re) /* a bug in a built-in pattern: caught by the unit tests */
            return -1;
        pcre2_pattern_info(p->re, PCRE2_INFO_CAPTURECOUNT, &p->ngroups);
        if (p->kind == PK_NGINX || p->kind == PK_APACHE) {
            p->re2 = parser_compile(access_fallback_pattern(), 0, err, sizeof err);
            if (!p->re2)
                return -1;
        }
    }
    p->scan = p->kind == PK_NGINX && nginx_scan_usable();
    if (p->kind == PK_NGINX || p->kind == PK_APACHE)
        access_keys_intern();
    else if (p->kind == PK_SPRING)
        spring_keys_intern();
    else
        jsonlog_keys_intern();
    return 0;
}

void parsers_free(void)
{
    pcre2_match_context_free(mctx);
    mctx = NULL;
    while (registry) {
        struct parser *n = registry->next;
        parser_free_one(registry);
        registry = n;
    }
}
