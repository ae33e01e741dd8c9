/*
 * convert.h - type coercions of captured fields (convert.c), shared by the regex type, the
 * layouts and the built-ins. Pure functions: any thread.
 */
#ifndef LF_CONVERT_H
#define LF_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "agent/base/event.h"

/* PT_DUR_*: a duration in seconds, ms or us (decimals allowed) stored as ns (ECS
 * event.duration); used by the layout compilers (layout.h). */
enum ptype { PT_STR, PT_INT, PT_FLOAT, PT_BOOL, PT_DUR_S, PT_DUR_MS, PT_DUR_US };

/* Converts text to a typed field of eb (enum ptype); on failure adds the string and sets
 * EV_PARSE_FAILURE. */
void conv_add_typed(struct event_builder *eb, const struct fkey *k, int type, const char *s,
                    size_t n);
/* Hand-written number parsing (no NUL needed; blanks around the value allowed). 0 on
 * success, -1 when s is not one. */
int conv_to_int(const char *s, size_t n, int64_t *out);
int conv_to_float(const char *s, size_t n, double *out);
int conv_to_bool(const char *s, size_t n, int *out);

#endif
