/*
 * parser.h - private contract between lineproc.c and the parsers (parsers/ only).
 *
 * A `struct parser` is a named, immutable way of turning one record's text into fields: a
 * custom [parser NAME] section (regex.c) or a built-in (access.c: nginx_combined,
 * apache_common; spring.c: spring_boot; jsonlog.c: json). Parsers are created at
 * configuration time (single thread) and live in one registry until parsers_free().
 *
 * A `struct parse_run` is the mutable scratch a parser needs at run time: the PCRE2 match
 * data, the effective time zone and the time cache. There is one per lineproc_state (per
 * open file), owned by the tail thread, so no parser state is shared between threads.
 */
#ifndef LF_PARSER_H
#define LF_PARSER_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <stdint.h>

#include "agent/base/config.h"
#include "agent/base/event.h"
#include "parsers/timeparse.h"

enum parser_kind { PK_REGEX, PK_NGINX, PK_APACHE, PK_SPRING, PK_JSON };

/* PT_DUR_*: a duration in seconds, ms or us (decimals allowed) stored as ns (ECS
 * event.duration); used by the layout compilers (layout.h). */
enum ptype { PT_STR, PT_INT, PT_FLOAT, PT_BOOL, PT_DUR_S, PT_DUR_MS, PT_DUR_US };

struct pfield {
    uint32_t group;         /* capture number */
    const struct fkey *key; /* after rename */
    int type;               /* enum ptype */
};

struct parser {
    char *name;
    enum parser_kind kind;
    pcre2_code *re;
    pcre2_code *re2; /* access logs: the lines real servers write that re declines (an ident,
                      * a status of "-"); same captures, tried only when re fails */
    uint32_t ngroups;
    struct pfield *fields;
    int nfields;
    int time_group;       /* capture holding the time, -1 none */
    char *time_format;    /* NULL: ISO-8601 */
    struct lf_tz *tz;     /* [parser] timezone, owned; NULL = the input's / local */
    int scan;             /* nginx_combined: nginx_scan() may answer before PCRE2 */
    int ml_java;          /* from a layout that prints stack traces: multiline = java default */
    char *source;         /* a layout's regex, for `parse --explain`; NULL otherwise */
    struct parser *next;
};

struct parse_run {
    pcre2_match_data *md;
    const struct lf_tz *tz; /* zone for times without an offset */
    /* last $time_local text and its value: nginx times change once a second */
    char clf_key[26];
    int clf_valid;
    int64_t clf_ms;
    void *held; /* json_t kept alive until the event is built (jsonlog.c) */
};

/* Finds a parser by name (built-ins are compiled on first use). NULL when unknown. */
const struct parser *parser_find(const char *name);
/* Fills eb from rec (the whole record, possibly several lines joined by '\n'). Returns 0 when
 * the record matched (a failed type or time conversion still sets EV_PARSE_FAILURE), 1 when
 * it did not (EV_PARSE_FAILURE set, no fields). */
int parser_run(const struct parser *p, struct parse_run *pr, struct event_builder *eb,
               const char *rec, size_t len);
/* Releases what parser_run kept for the event just built (call after batch_add). */
void parser_run_release(struct parse_run *pr);

/* The match context every match on log content uses (backtracking limits). Created at
 * configuration time, read-only afterwards; freed by parsers_free(). */
pcre2_match_context *parser_mctx(void);
/* Compiles a regex with JIT; on error writes "<pcre2 message> at offset N" into err. */
pcre2_code *parser_compile(const char *pattern, uint32_t flags, char *err, size_t errsz);
/* Converts text to a typed field of eb; on failure adds the string and sets
 * EV_PARSE_FAILURE. */
void parser_add_typed(struct event_builder *eb, const struct fkey *k, int type, const char *s,
                      size_t n);
/* Hand-written number parsing (no NUL needed). 0 on success. */
int parser_to_int(const char *s, size_t n, int64_t *out);
int parser_to_float(const char *s, size_t n, double *out);
int parser_to_bool(const char *s, size_t n, int *out);

/* Built-in parsers (one per file). Return 0 matched, 1 not matched. */
int access_run(const struct parser *p, struct parse_run *pr, struct event_builder *eb,
               const char *rec, size_t len);
int spring_run(const struct parser *p, struct parse_run *pr, struct event_builder *eb,
               const char *rec, size_t len);
int jsonlog_run(const struct parser *p, struct parse_run *pr, struct event_builder *eb,
                const char *rec, size_t len);
/* Their patterns and keys (interned at configuration time). */
const char *access_pattern(enum parser_kind k);
const char *access_fallback_pattern(void);
const char *spring_pattern(void);
void access_keys_intern(void);
void spring_keys_intern(void);
void jsonlog_keys_intern(void);


/* Cumulative parse failures (all inputs); read by parsers_get_failures(). */
void parser_count_failure(void);
unsigned long long parsers_get_failures(void);

#endif
