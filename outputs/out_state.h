/*
 * out_state.h - the state every output reports (up / retrying / failed, since when, the
 * last error) and the capped doubling backoff they retry with: one helper, so /status,
 * /metrics and the status page read every output alike.
 *
 * Threads: the writers run on the output's own thread (or, for Slack, its sender thread):
 * one writer per output. The HTTP thread reads state and state_since_ms as atomics and
 * last_error as plain bytes (it may see a torn string; it is never a secret).
 */
#ifndef LF_OUT_STATE_H
#define LF_OUT_STATE_H

#include "agent/base/metrics.h"

/* Sets m->state (and state_since_ms, wall-clock ms, when it changes) and, when fmt is not
 * NULL, m->last_error (cut at its 255 bytes). */
void out_state_set(struct out_metrics *m, int state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets m->last_error only: a new reason for the state the output is already in. */
void out_state_note(struct out_metrics *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Capped doubling backoff. *next_ms holds the delay the next failure waits (0 after a
 * success: out_backoff_reset). Returns the delay to wait now, at least min_ms, and doubles
 * *next_ms up to max_ms. The same counter may be stepped with other bounds (Slack's long
 * backoff after a 4xx): the delay returned is never shorter than *next_ms. */
long out_backoff_next(long *next_ms, long min_ms, long max_ms);

static inline void out_backoff_reset(long *next_ms)
{
    *next_ms = 0;
}

#endif
