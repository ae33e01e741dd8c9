/*
 * jsonlog.h - the JSON helpers of the json parser (jsonlog.c) that another JSON-shaped type
 * reuses (nginx_json.c: nginx escape=json layouts): flattening an object into dotted keys
 * and adding one JSON value as a field. Tail thread, on the caller's parse_run.
 */
#ifndef LF_JSONLOG_H
#define LF_JSONLOG_H

#include <jansson.h>

#include "parsers/parser.h"

#define JSONLOG_MAX_KEY 512

/* Called for every leaf (a value that is not an object, or one nested too deep) with its
 * dotted path (path[0..n), NUL-terminated; the caller may not keep it) and its own key.
 * Returns 1 when it added the leaf itself, 0 to have it added under its path as written. */
typedef int (*jsonlog_leaf_fn)(void *ctx, struct event_builder *eb, const char *path,
                               size_t n, const char *key, int depth, json_t *v);

/* Walks obj, prefix[0..plen) being its path (prefix has JSONLOG_MAX_KEY bytes). A leaf the
 * callback declines becomes a builder-owned dynamic key (dots that would make an empty
 * component become underscores). */
void jsonlog_walk(struct event_builder *eb, json_t *obj, char *prefix, size_t plen, int depth,
                  jsonlog_leaf_fn leaf, void *ctx);
/* Adds v under k: strings, numbers and booleans as such, arrays and objects as raw JSON,
 * null not at all. Strings are borrowed from v (kept alive in parse_run.held). */
void jsonlog_add_value(struct event_builder *eb, const struct fkey *k, json_t *v);

#endif
