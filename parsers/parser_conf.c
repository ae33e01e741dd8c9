/*
 * parser_conf.c - [parser NAME] sections: a PCRE2 `pattern` with `types`, `rename`,
 * `time_field`, `time_format`, `timezone`, or a layout (logback_pattern, log4j2_pattern,
 * nginx_log_format, apache_log_format) compiled by layout_*.c; each becomes a parser of the
 * regex type (regex.c), or of a built-in type when a layout is one (nginx's `combined`).
 *
 * Threads: configuration time only (main thread).
 */
#include "parsers/parser.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/layout.h"
#include "parsers/lineproc.h"

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

/* `logferry keys parser` and the generated docs read the table through this. */
const struct conf_key *parsers_keys(void) { return parser_keys; }

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
        p->type = parser_type_find("nginx_combined"); /* the only layout a built-in reads */
        if (!p->type || parser_setup(p) != 0) {
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
    parser_register(p);
    p = NULL;
out:
    parser_destroy(p);
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
    p->type = &parser_type_regex;
    p->time_group = -1;
    p->name = strdup(s->name);
    p->re = parser_compile(pc.pattern, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, err, sizeof err);
    if (!p->re) {
        conf_err(errs, c->file, line_of(s, "pattern"), "pattern: %s", err);
        parser_destroy(p);
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
        parser_destroy(p);
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
    parser_register(p);
    return nerr;
}

int parsers_configure(struct conf *c, struct conf_errs *errs)
{
    int nerr = 0;
    parser_mctx();
    parser_types_intern();
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->s[i].type, "parser") == 0)
            nerr += configure_one(c, &c->s[i], errs);
    return nerr;
}
