/*
 * health.h - the /healthz rule: whether the running agent is healthy, from its status object.
 *
 * Daemon floor; a pure function, used by the HTTP thread (GET /healthz), the status page's
 * banner and `logferry status`.
 */
#ifndef LF_HEALTH_H
#define LF_HEALTH_H

#include <jansson.h>
#include <stddef.h>

/* An output may be "retrying" this long before /healthz answers 503. */
#define LF_HEALTH_RETRY_BUDGET_MS (5L * 60 * 1000)

/* /healthz rule, a pure function of a status object (NULL = agent not running):
 * healthy when every output is "ok", or "retrying" for at most budget_ms (by
 * state_since_ms against now_ms). Unhealthy when an output is "failed", retrying beyond the
 * budget, in an unknown state, or when status is NULL. Returns 200 or 503 and writes a
 * one-line reason (which outputs, since when, their last_error) into reason. */
int lf_health_eval(const json_t *status, long long now_ms, long budget_ms, char *reason,
                   size_t reasonsz);

#endif
