/*
 * when.h - the routing condition language, usable on every output (`when = ...`).
 *
 *   http.response.status_code >= 500 and not (url.path =~ "^/health")
 *
 * Comparisons == != < <= > >= on numbers and strings, =~ (PCRE2 regex, JIT), and, or, not,
 * parentheses, and a bare field name for presence. Ground floor: evaluates over a built
 * event through event_get(). A compiled condition is immutable and may be evaluated from
 * several threads at once (match data is per thread).
 */
#ifndef LF_WHEN_H
#define LF_WHEN_H

#include <stddef.h>

#include "agent/base/event.h"

struct when;

/* Compiles expr. On error returns NULL, writes a sentence into err and the 1-based column of
 * the problem into *errpos. */
struct when *when_compile(const char *expr, char *err, size_t errsz, int *errpos);
/* 1 if the event matches, 0 otherwise (a missing field compares false). */
int when_eval(const struct when *w, const struct event_batch *b, const struct event *ev);
void when_free(struct when *w);

#endif
