/*
 * parsers.c - the table of built-in parser types and the registry of parser instances.
 * Add one row per built-in type (its file defines the struct parser_type); the registry
 * sets a built-in up on first use, holds the [parser] sections parser_conf.c registers, and
 * runs any parser through its type.
 *
 * Threads: parser_find(), parser_register(), parser_setup() and parsers_free() run at
 * configuration time on the main thread; parser_run() and parser_run_release() run on the
 * tail thread with its own struct parse_run. Instances are immutable once registered. The
 * failure counter is a relaxed atomic read by the metrics page.
 */
#include "parsers/parser.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/lineproc.h"

extern const struct parser_type parser_type_nginx;
extern const struct parser_type parser_type_apache;
extern const struct parser_type parser_type_spring;
extern const struct parser_type parser_type_json;

const struct parser_type *const parser_types[] = {
    &parser_type_nginx,  /* access.c: nginx_combined */
    &parser_type_apache, /* access.c: apache_common */
    &parser_type_spring, /* spring.c: spring_boot */
    &parser_type_json,   /* jsonlog.c: json */
    NULL,
};

static struct parser *registry;
static atomic_ullong failures;

const struct parser_type *parser_type_find(const char *name)
{
    for (int i = 0; parser_types[i]; i++)
        if (strcmp(parser_types[i]->name, name) == 0)
            return parser_types[i];
    return NULL;
}

void parser_types_intern(void)
{
    for (int i = 0; parser_types[i]; i++)
        if (parser_types[i]->keys_intern)
            parser_types[i]->keys_intern();
}

int parser_setup(struct parser *p)
{
    const struct parser_type *t = p->type;
    char err[256];
    /* a bug in a built-in pattern fails here: caught by the unit tests */
    if (t->pattern) {
        p->re = parser_compile(t->pattern, 0, err, sizeof err);
        if (!p->re)
            return -1;
        pcre2_pattern_info(p->re, PCRE2_INFO_CAPTURECOUNT, &p->ngroups);
    }
    if (t->fallback) {
        p->re2 = parser_compile(t->fallback, 0, err, sizeof err);
        if (!p->re2)
            return -1;
    }
    if (t->keys_intern)
        t->keys_intern();
    return t->setup ? t->setup(p) : 0;
}

void parser_register(struct parser *p)
{
    p->next = registry;
    registry = p;
}

void parser_destroy(struct parser *p)
{
    if (!p)
        return;
    if (p->type && p->type->free)
        p->type->free(p);
    free(p->name);
    pcre2_code_free(p->re);
    pcre2_code_free(p->re2);
    free(p->fields);
    free(p->time_format);
    free(p->source);
    lf_tz_free(p->tz);
    free(p);
}

const struct parser *parser_find(const char *name)
{
    for (struct parser *p = registry; p; p = p->next)
        if (!strcmp(p->name, name))
            return p;
    const struct parser_type *t = parser_type_find(name);
    if (!t)
        return NULL;
    struct parser *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->type = t;
    p->time_group = -1;
    p->name = strdup(name);
    if (!p->name || parser_setup(p) != 0) {
        parser_destroy(p);
        return NULL;
    }
    parser_register(p);
    return p;
}

void parser_count_failure(void)
{
    atomic_fetch_add_explicit(&failures, 1, memory_order_relaxed);
}

unsigned long long parsers_get_failures(void)
{
    return atomic_load_explicit(&failures, memory_order_relaxed);
}

int parser_run(const struct parser *p, struct parse_run *pr, struct event_builder *eb,
               const char *rec, size_t len)
{
    pr->held_type = p->type;
    int r = p->type->run(p, pr, eb, rec, len);
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

void parser_run_release(struct parse_run *pr)
{
    if (pr->held && pr->held_type && pr->held_type->release)
        pr->held_type->release(pr);
    pr->held = NULL;
}

void parsers_free(void)
{
    parser_mctx_free();
    while (registry) {
        struct parser *n = registry->next;
        parser_destroy(registry);
        registry = n;
    }
}
