/*
 * layout_common.c - what the layout compilers share: building the regex (escaped literals,
 * numbered groups, the regex of a time format), the field map, installing the result as an
 * ordinary regex-type parser, and printing it for `logferry parse --explain`.
 *
 * Threads: configuration time only (main thread); `parse --explain` on the CLI thread.
 */
#include "parsers/layout.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lb_init(struct layout_build *b)
{
    memset(b, 0, sizeof *b);
    b->time_group = -1;
}

int lb_fail(struct layout_build *b, const char *fmt, ...)
{
    if (!b->err[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->err, sizeof b->err, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void put(struct layout_build *b, const char *s, size_t n)
{
    if (b->len + n >= sizeof b->re) {
        b->overflow = 1;
        return;
    }
    memcpy(b->re + b->len, s, n);
    b->len += n;
    b->re[b->len] = '\0';
}

void lb_raw(struct layout_build *b, const char *s)
{
    put(b, s, strlen(s));
}

void lb_lit(struct layout_build *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        /* PCRE2 lets any ASCII non-alphanumeric be escaped; bytes >= 0x80 and letters stand
         * for themselves. A NUL cannot come from a C string. */
        if (c < 0x80 && !(c >= '0' && c <= '9') && !((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
            if (c < 0x20) {
                char x[8];
                snprintf(x, sizeof x, "\\x%02x", c);
                put(b, x, 4);
            } else {
                char x[2] = {'\\', (char)c};
                put(b, x, 2);
            }
        } else {
            put(b, s + i, 1);
        }
    }
}

uint32_t lb_group(struct layout_build *b)
{
    put(b, "(", 1);
    return ++b->ngroups;
}

void lb_field(struct layout_build *b, uint32_t g, const char *key, int type)
{
    if (b->nf >= LAYOUT_FIELDS_MAX) {
        b->overflow = 1;
        return;
    }
    struct layout_field *f = &b->f[b->nf++];
    f->group = g;
    snprintf(f->key, sizeof f->key, "%s", key);
    f->type = type;
}

void lb_time_regex(struct layout_build *b, const char *fmt)
{
    for (const char *f = fmt; *f; f++) {
        if (*f == ' ') {
            lb_raw(b, " +");
            continue;
        }
        if (*f != '%' || !f[1]) {
            lb_lit(b, f, 1);
            continue;
        }
        switch (*++f) {
        case 'Y': lb_raw(b, "-?\\d{4}"); break;
        case 'y': case 'd': case 'H': case 'I': case 'M': lb_raw(b, "\\d{1,2}"); break;
        case 'm': lb_raw(b, "\\d{1,2}"); break;
        case 'e': lb_raw(b, " ?\\d{1,2}"); break;
        case 'j': lb_raw(b, "\\d{1,3}"); break;
        /* %S takes an implicit fraction unless the format spells its separator next */
        case 'S':
            lb_raw(b, f[1] == '.' || f[1] == ',' ? "\\d{2}" : "\\d{2}(?:[.,]\\d{1,9})?");
            break;
        case 'T': lb_raw(b, "\\d{2}:\\d{2}:\\d{2}(?:[.,]\\d{1,9})?"); break;
        case 'F': lb_raw(b, "-?\\d{4}-\\d{2}-\\d{2}"); break;
        case 'f': lb_raw(b, "\\d{1,9}"); break;
        case 'b': case 'h': lb_raw(b, "[A-Za-z]{3}"); break;
        case 'B': case 'a': case 'A': lb_raw(b, "[A-Za-z]+"); break;
        case 'p': lb_raw(b, "[AaPp][Mm]"); break;
        case 'z': lb_raw(b, "(?:Z|[+-]\\d{2}(?::?\\d{2})?)"); break;
        case 'Z': lb_raw(b, "[A-Za-z][A-Za-z0-9_/+-]*"); break;
        case 's': lb_raw(b, "-?\\d{1,12}(?:\\.\\d{1,9})?"); break;
        case 'Q': lb_raw(b, "-?\\d{1,15}"); break;
        case '%': lb_raw(b, "%"); break;
        default: lb_lit(b, f, 1); break;
        }
    }
}

/* Length of the valid UTF-8 prefix of s (strict: no overlongs, surrogates or > U+10FFFF),
 * as PCRE2_UTF requires of a pattern. */
static size_t utf8_prefix(const unsigned char *s)
{
    size_t i = 0;
    while (s[i]) {
        unsigned c = s[i];
        size_t l = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (!l)
            return i;
        for (size_t k = 1; k < l; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
        if ((c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] > 0x9F) ||
            (c == 0xF0 && s[i + 1] < 0x90) || (c == 0xF4 && s[i + 1] > 0x8F))
            return i;
        i += l;
    }
    return i;
}

int layout_compile(struct layout_build *b, enum layout_kind k, const char *text)
{
    lb_init(b);
    /* the regex is compiled in UTF mode: a layout that is not UTF-8 cannot become one */
    size_t tl = strlen(text), ok = utf8_prefix((const unsigned char *)text);
    if (ok != tl)
        return lb_fail(b, "the layout is not valid UTF-8 at column %zu", ok + 1);
    int r;
    switch (k) {
    case LAYOUT_LOGBACK: r = layout_logback(b, text, 0); break;
    case LAYOUT_LOG4J2: r = layout_logback(b, text, 1); break;
    case LAYOUT_NGINX: r = layout_nginx(b, text); break;
    default: r = layout_apache(b, text); break;
    }
    if (r == 0 && b->overflow)
        r = lb_fail(b, "the layout is too long (at most %d fields, %d bytes of regex)",
                    LAYOUT_FIELDS_MAX, LAYOUT_RE_MAX);
    if (r == 0 && !b->builtin && !b->json && b->nf == 0)
        r = lb_fail(b, "the layout has no field to extract");
    return r;
}

int layout_install(const struct layout_build *b, struct parser *p, char *err, size_t errsz)
{
    if (b->json)
        return nginx_json_attach(p, b, err, errsz);
    p->type = &parser_type_regex;
    p->re = parser_compile(b->re, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, err, errsz);
    if (!p->re)
        return -1;
    pcre2_pattern_info(p->re, PCRE2_INFO_CAPTURECOUNT, &p->ngroups);
    p->fields = calloc((size_t)b->nf + 1, sizeof *p->fields);
    if (!p->fields) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    p->nfields = 0;
    for (int i = 0; i < b->nf; i++) {
        const struct fkey *k = fkey_intern(b->f[i].key);
        if (!k) {
            snprintf(err, errsz, "'%s' is not a usable field name", b->f[i].key);
            return -1;
        }
        p->fields[p->nfields++] = (struct pfield){b->f[i].group, k, b->f[i].type};
    }
    p->time_group = b->time_group;
    if (b->time_group >= 0 && b->time_format[0]) {
        if (tp_check_format(b->time_format, err, errsz) != 0)
            return -1;
        p->time_format = strdup(b->time_format);
        if (!p->time_format) {
            snprintf(err, errsz, "out of memory");
            return -1;
        }
    }
    if (b->zone[0]) {
        p->tz = lf_tz_load(b->zone, err, errsz);
        if (!p->tz)
            return -1;
    }
    p->ml_java = b->throwable;
    p->source = strdup(b->re); /* for --explain only; NULL just prints less */
    return b->xff_group ? nginx_xff_attach(p, b, err, errsz) : 0;
}

static const char *type_name(int t)
{
    switch (t) {
    case PT_INT: return "int";
    case PT_FLOAT: return "float";
    case PT_BOOL: return "bool";
    case PT_DUR_S: return "seconds->ns";
    case PT_DUR_MS: return "ms->ns";
    case PT_DUR_US: return "us->ns";
    default: return "string";
    }
}

void layout_explain(const struct parser *p, FILE *f)
{
    if (p->type == &parser_type_nginx_json) {
        nginx_json_explain(p, f);
        return;
    }
    if (p->type != &parser_type_regex && p->type != &parser_type_nginx_xff) {
        fprintf(f, "parser %s: built in (%s)\n", p->name,
                p->type->explain ? p->type->explain : "not compiled from a layout");
        return;
    }
    fprintf(f, "parser %s: regex %s\n", p->name, p->source ? p->source : "(not kept)");
    for (int i = 0; i < p->nfields; i++)
        fprintf(f, "  group %-3u -> %-36s %s%s\n", p->fields[i].group, p->fields[i].key->name,
                (int)p->fields[i].group == p->time_group ? "time " : "",
                (int)p->fields[i].group == p->time_group
                    ? (p->time_format ? p->time_format : "ISO-8601")
                    : type_name(p->fields[i].type));
    if (p->tz)
        fprintf(f, "  zone of times without an offset: %s\n", lf_tz_name(p->tz));
    if (p->type == &parser_type_nginx_xff)
        fprintf(f, "  source.address, source.ip, nginx.access.remote_ip_list: Filebeat's rule "
                   "over $http_x_forwarded_for then $remote_addr\n");
    if (p->ml_java)
        fprintf(f, "  multiline = java by default (the layout prints stack traces)\n");
}
