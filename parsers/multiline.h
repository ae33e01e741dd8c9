/*
 * multiline.h - joining lines into records (parsers/ only).
 *
 * `struct ml_conf` is part of an immutable struct lineproc (configuration time);
 * `struct ml_pending` is the record being assembled for one file, owned by the tail thread.
 *
 * Semantics (Filebeat's): a line is a *continuation* when it matches multiline.pattern
 * (inverted by multiline.negate), or, with `multiline = java`, when it looks like a stack
 * trace line. match = after: a continuation joins the record before it, any other line
 * starts a new record. match = before: a continuation joins the record that follows, so a
 * record ends with its first non-continuation line. Lines are joined with '\n'.
 */
#ifndef LF_MULTILINE_H
#define LF_MULTILINE_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <stdint.h>

#include "agent/base/buf.h"

enum ml_mode { ML_NONE = 0, ML_JAVA, ML_PATTERN };

struct ml_conf {
    enum ml_mode mode;
    pcre2_code *re; /* ML_PATTERN */
    int negate;
    int before; /* match = before */
    long max_lines;
    long timeout_ms;
    uint64_t max_bytes;
};

struct ml_pending {
    struct buf rec;     /* the joined text, capped at max_bytes */
    int active;
    uint64_t off, end;  /* first line's offset, last line's end */
    long nlines;        /* lines in the record, kept or dropped */
    unsigned flags;     /* EV_TRUNCATED | EV_MULTILINE */
    int64_t deadline;   /* monotonic ms */
};

/* 1 if the line continues a record under m's rules. */
int ml_is_continuation(const struct ml_conf *m, pcre2_match_data *md, const char *line,
                       size_t len);
/* A stack-trace line of a Java log (indented line, Caused by:, Suppressed:, Wrapped by:,
 * exception class line). With multiline = java an empty line is held until the next line:
 * before a stack-trace line it joins the record (Spring Boot's %wEx opens a trace with one),
 * after a joined trace it is absorbed by it (%wEx closes it with one), anywhere else it is
 * an event of its own (lineproc.c). */
int ml_java_line(const char *s, size_t n);

/* Starts a record with this line / appends one. Return 0, -1 when out of memory. */
int ml_start(const struct ml_conf *m, struct ml_pending *p, const char *line, size_t len,
             uint64_t off, uint64_t end, int truncated, int64_t now_ms);
int ml_append(const struct ml_conf *m, struct ml_pending *p, const char *line, size_t len,
              uint64_t end, int truncated, int64_t now_ms);
/* Forgets the record after it was emitted (gives big buffers back). */
void ml_clear(struct ml_pending *p);

#endif
