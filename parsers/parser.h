/*
 * parser.h - private contract between lineproc.c and the parsers (parsers/ only).
 *
 * A `struct parser_type` is one kind of parser: a row of the type table in parsers.c (the
 * built-ins: access.c's nginx_combined and apache_common, spring.c's spring_boot,
 * jsonlog.c's json) or a type used only by [parser NAME] sections (regex.c: a PCRE2 pattern
 * with a field table, what `pattern =` and the layouts compile to; nginx_xff.c and
 * nginx_json.c, made from nginx layouts, see layout.h). Adding a built-in
 * parser is one new file defining its `struct parser_type` and one row in parsers.c
 * (docs/HACKING.md, "Adding a parser").
 *
 * A `struct parser` is a named, immutable instance of a type: created at configuration time
 * (single thread) by parser_conf.c (a [parser] section) or parser_find() (a built-in on
 * first use), kept in parsers.c's registry until parsers_free().
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
#include "parsers/convert.h"
#include "parsers/timeparse.h"

struct pfield {
    uint32_t group;         /* capture number */
    const struct fkey *key; /* after rename */
    int type;               /* enum ptype */
};

struct parser;
struct parse_run;

/* One kind of parser. Every function runs at configuration time on the main thread except
 * run and release, which run on the tail thread with that file's own parse_run. */
struct parser_type {
    /* `parser = NAME` of a built-in; NULL for a type only [parser] sections make */
    const char *name;
    /* compiled into parser.re / parser.re2 (no PCRE2_UTF) when a built-in is set up; NULL:
     * none */
    const char *pattern;
    const char *fallback;
    /* interns the ECS keys the type writes (fkey_intern: configuration time only) */
    void (*keys_intern)(void);
    /* after the patterns: anything else an instance needs (NULL: nothing); 0 or -1 */
    int (*setup)(struct parser *p);
    /* fills eb from rec (the whole record); 0 matched, 1 did not */
    int (*run)(const struct parser *p, struct parse_run *pr, struct event_builder *eb,
               const char *rec, size_t len);
    /* releases what run kept in pr->held for the event just built (NULL: nothing kept) */
    void (*release)(struct parse_run *pr);
    /* frees parser.priv (NULL: priv unused) */
    void (*free)(struct parser *p);
    /* every line carries its UTC offset (access logs): an input's timezone is moot */
    int zone_in_line;
    /* `parse --explain` of a type that is not a regex: what it reads */
    const char *explain;
};

struct parser {
    char *name;
    const struct parser_type *type;
    void *priv;     /* the type's own state, freed by type->free */
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
    void *held; /* what a run keeps alive until the event is built (jsonlog.c's json_t) */
    const struct parser_type *held_type; /* whose release() frees held */
};

/* ---- parsers.c: the type table and the registry ---- */

/* The built-in types, NULL-terminated (parsers.c). */
extern const struct parser_type *const parser_types[];
/* The type of a built-in by its name; NULL when unknown. */
const struct parser_type *parser_type_find(const char *name);
/* Interns the keys of every built-in type (configuration time). */
void parser_types_intern(void);
/* Sets p (name and type filled in) up as an instance of its type: compiles the type's
 * patterns, interns its keys, calls its setup. 0, or -1 (a bug in a built-in pattern). */
int parser_setup(struct parser *p);
/* Adds p to the registry, which takes ownership. */
void parser_register(struct parser *p);
/* Frees p and everything it owns (NULL is fine). */
void parser_destroy(struct parser *p);
/* Finds a parser by name (built-ins are set up on first use). NULL when unknown. */
const struct parser *parser_find(const char *name);
/* Fills eb from rec (the whole record, possibly several lines joined by '\n'). Returns 0 when
 * the record matched (a failed type or time conversion still sets EV_PARSE_FAILURE), 1 when
 * it did not (EV_PARSE_FAILURE set, no fields). */
int parser_run(const struct parser *p, struct parse_run *pr, struct event_builder *eb,
               const char *rec, size_t len);
/* Releases what parser_run kept for the event just built (call after batch_add). */
void parser_run_release(struct parse_run *pr);

/* ---- match.c: what every PCRE2 match on log content shares ---- */

/* The match context every match on log content uses (backtracking limits). Created at
 * configuration time, read-only afterwards; freed by parsers_free(). */
pcre2_match_context *parser_mctx(void);
void parser_mctx_free(void);
/* Compiles a regex with JIT; on error writes "<pcre2 message> at offset N" into err. */
pcre2_code *parser_compile(const char *pattern, uint32_t flags, char *err, size_t errsz);

/* ---- the types defined outside parsers.c's table ---- */

/* regex.c: a PCRE2 pattern with a field table (custom patterns and layouts) */
extern const struct parser_type parser_type_regex;
/* Its run, which types built on it (nginx_xff.c) call first: the match stays in pr->md. */
int regex_run(const struct parser *p, struct parse_run *pr, struct event_builder *eb,
              const char *rec, size_t len);


/* Cumulative parse failures (all inputs); read by parsers_get_failures(). */
void parser_count_failure(void);
unsigned long long parsers_get_failures(void);

#endif
