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
enum layout_builtin { LAYOUT_BUILTIN_NONE, LAYOUT_BUILTIN_NGINX };

/* How a value of an access-log layout looks in the line and what it becomes
 * (layout_access.c compiles them into the regex; nginx_json.c converts JSON values). */
enum layout_vkind {
    V_STR,      /* text; "-" kept */
    V_DASH,     /* text; "-" = absent */
    V_INT,      /* digits; "-" = absent */
    V_DUR_S, V_DUR_MS, V_DUR_US, /* a duration; "-" = absent */
    V_ADDR,     /* source.address, and source.ip when it reads as one */
    V_XFF,      /* $http_x_forwarded_for: Filebeat's source rule with the address (xff.h) */
    V_REQUEST,  /* "GET /p?q HTTP/1.1" */
    V_PROTO,    /* "HTTP/1.1" -> http.version */
    V_TLS,      /* "TLSv1.3" -> tls.version */
    V_QUERY,    /* Apache %q: "?a=b" or "" */
    V_IGNORE,   /* printed but worth nothing (ident) */
    V_TIME,     /* time with the entry's format */
};

/* A key of an nginx `escape=json` layout whose value is one variable. */
struct layout_jfield {
    char path[96];  /* dotted path of the key in the JSON object */
    int kind;       /* enum layout_vkind */
    char key[96];   /* the ECS field ("" for kinds that name their own) */
    char time_format[32]; /* V_TIME: "" = ISO-8601 */
};

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
    /* nginx: groups of $http_x_forwarded_for and of the address ($remote_addr: the IP
     * group and the other one), 0 none; with xff_group the source fields come from xff.c */
    uint32_t xff_group, addr_group[2];
    /* nginx escape=json (json = 1, an nginx_json parser): the keys holding one variable */
    struct layout_jfield jf[LAYOUT_FIELDS_MAX];
    int njf;
    int json;
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
/* nginx escape=json: the template (after nginx.conf unquoting) into b->jf. */
int layout_nginx_json(struct layout_build *b, const char *fmt);

/* The types layouts make beyond the regex type, and what they keep per instance (priv). */
extern const struct parser_type parser_type_nginx_xff;  /* nginx_xff.c */
extern const struct parser_type parser_type_nginx_json; /* nginx_json.c */
int nginx_xff_attach(struct parser *p, const struct layout_build *b, char *err, size_t errsz);
int nginx_json_attach(struct parser *p, const struct layout_build *b, char *err, size_t errsz);
/* `parse --explain` of an nginx_json parser: its key map. */
void nginx_json_explain(const struct parser *p, FILE *f);

/* Fills p from a compiled layout: regex, fields, time (the regex type, or nginx_xff with an
 * X-Forwarded-For list; nginx_json for an escape=json layout). 0, or -1 with a sentence in
 * err. */
int layout_install(const struct layout_build *b, struct parser *p, char *err, size_t errsz);
/* Writes what the layout compiled to (regex, groups, fields, types, time) for
 * `logferry parse --explain`. */
void layout_explain(const struct parser *p, FILE *f);

#endif
