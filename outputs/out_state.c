/*
 * out_state.c - every output's state bookkeeping (see out_state.h): the state, the time it
 * changed, the last error, and the capped doubling backoff. Runs on whichever thread the
 * output reports from; one writer per output.
 */
#include "agent/base/clock.h"
#include "outputs/out_state.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

void out_state_set(struct out_metrics *m, int state, const char *fmt, ...)
{
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m->last_error, sizeof m->last_error, fmt, ap);
        va_end(ap);
    }
    if (METRIC_GET(m->state) != state) {
        METRIC_SET(m->state, state);
        METRIC_SET(m->state_since_ms, wall_ms());
    }
}

void out_state_note(struct out_metrics *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->last_error, sizeof m->last_error, fmt, ap);
    va_end(ap);
}

long out_backoff_next(long *next_ms, long min_ms, long max_ms)
{
    long d = *next_ms < min_ms ? min_ms : *next_ms;
    *next_ms = d > max_ms / 2 ? max_ms : d * 2;
    return d;
}
