/*
 * layout.h - parsers compiled from an application's own layout (parsers/ only): a logback
 * or Log4j2 PatternLayout, an nginx log_format, an Apache/Tomcat LogFormat. Each compiler
 * turns the layout into one PCRE2 pattern with numbered groups, the ECS field (and type) of
 * each group, the group holding the time and its strptime-style format, so that the result
 * is an ordinary parser of the regex type (regex.c): run time costs what a hand-written pattern costs.
 *
 * Everything here runs at configuration time on the main thread; a struct layout_build is
 * the compiler's scratch on the caller's stack and owns nothing on the heap.
 */
#ifndef LF_LAYOUT_H
#define LF_LAYOUT_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "parsers/parser.h"

#define LAYOUT_RE_MAX 8192
#define LAYOUT_FIELDS_MAX 64

enum layout_kind { LAYOUT_LOGBACK, LAYOUT_LOG4J2, LAYOUT_NGINX, LAYOUT_APACHE };
/* A layout a built-in parser already reads (layout_build.builtin). */
enum layout_builtin { LAYOUT_BUILTIN_NONE, LAYOUT_BUILTIN_NGINX, LAYOUT_BUILTIN_JSON };

struct layout_field {
    uint32_t group;
    char key[96];
    int type; /* enum ptype */
};

struct layout_build {
    char re[LAYOUT_RE_MAX];
    size_t len;
    uint32_t ngroups;
    struct layout_field f[LAYOUT_FIELDS_MAX];
    int nf;
    int time_group;       /* -1 none */
    char time_format[128]; /* "" = ISO-8601 */
    char zone[64];        /* zone named by the layout (%d{..., Asia/Seoul}), "" none */
    int throwable;        /* the layout can print a stack trace: multiline = java */
    int builtin;          /* enum layout_builtin: the caller uses that built-in instead */
    int overflow;
    char err[256];        /* first error: "what at column N" */
};

void lb_init(struct layout_build *b);
/* Appends regex text as is / a literal (escaped). */
void lb_raw(struct layout_build *b, const char *s);
void lb_lit(struct layout_build *b, const char *s, size_t n);
/* Opens a capture group and returns its number. */
uint32_t lb_group(struct layout_build *b);
/* Declares that group g fills ECS field key with type (several fields may share a group). */
void lb_field(struct layout_build *b, uint32_t g, const char *key, int type);
/* Sets the first error (later ones are dropped); returns -1. */
int lb_fail(struct layout_build *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends the regex matching what strptime-style fmt (timeparse.h) prints. */
void lb_time_regex(struct layout_build *b, const char *fmt);

/* Java DateTimeFormatter/SimpleDateFormat letters (s[0..n)) -> a timeparse.h format in out.
 * 0, or -1 with b->err naming the letter and `column`. */
int layout_java_time(struct layout_build *b, int column, const char *s, size_t n, char *out,
                     size_t outsz);
/* The compilers: 0, or -1 with b->err naming the unsupported word/variable and its column. */
int layout_logback(struct layout_build *b, const char *text, int log4j2);
int layout_nginx(struct layout_build *b, const char *text);
int layout_apache(struct layout_build *b, const char *text);
int layout_compile(struct layout_build *b, enum layout_kind k, const char *text);

/* Fills p (type regex) from a compiled layout: regex, fields, time. 0, or -1 with a
 * sentence in err. */
int layout_install(const struct layout_build *b, struct parser *p, char *err, size_t errsz);
/* Writes what the layout compiled to (regex, groups, fields, types, time) for
 * `logferry parse --explain`. */
void layout_explain(const struct parser *p, FILE *f);

#endif
