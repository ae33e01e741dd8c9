/*
 * log_once.h - "log this kind of event once": a bounded set of the kinds already logged.
 *
 * Ground floor, used by the outputs' dead-letter writers (an Elasticsearch status and error
 * type, a Kafka reason and topic). Kinds can come from log content (a templated topic), so
 * the set is bounded: once it is full, one line says so and no new kind is logged any more
 * (every event is still counted and written to the dead-letter file). Not thread-safe: one
 * set per owner thread.
 */
#ifndef LF_LOG_ONCE_H
#define LF_LOG_ONCE_H

#include <stdint.h>

#define LF_ONCE_KINDS 64

struct lf_once {
    uint64_t h[LF_ONCE_KINDS]; /* hashes of the kinds logged */
    int n;
    int full;                  /* the "no more kinds are logged" line was written */
};

enum lf_once_verdict {
    LF_ONCE_SEEN = 0,    /* logged before, or the set is full: say nothing */
    LF_ONCE_FIRST = 1,   /* a new kind: log it */
    LF_ONCE_FULL = 2,    /* a new kind and the set just ran out: log that no more will be */
};

/* Looks up the kind made of a and b (either may be NULL). */
enum lf_once_verdict lf_once_check(struct lf_once *s, const char *a, const char *b);

#endif
