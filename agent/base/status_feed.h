/*
 * status_feed.h - what the outputs feed to the status page: recent alert texts and the last
 * hour per minute (status_alerts.c, status_series.c).
 *
 * Ground floor, so that an output (the Slack/webhook output is the one that sees every 5xx
 * and sends every alert) can feed the page without knowing the daemon; the daemon's
 * lf_status_json() (agent/status.h) reads both back. Thread-safe: writers are output
 * threads, readers the HTTP thread and `logferry status`; one mutex each.
 */
#ifndef LF_STATUS_FEED_H
#define LF_STATUS_FEED_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/base/must_check.h"

/* Recent alert texts for the status page. Keeps the last 20; `text` is copied. */
void lf_status_note_alert(const char *text);
/* [{"time", "text"}] oldest first; a new reference (caller json_decref()s). */
LF_MUST_CHECK json_t *lf_status_alerts(void);

/* The last hour per minute for the page's charts: kind "events" (name: an input), "5xx" (an
 * alert group), "alerts" (an output). name is copied (cut to 127 bytes, invalid UTF-8 as
 * '?'). lf_status_series(): [{"kind", "name", "per_minute": [60 counts, oldest first]}]. */
void lf_status_series_add(const char *kind, const char *name, size_t namelen, uint64_t n);
LF_MUST_CHECK json_t *lf_status_series(void);

#endif
