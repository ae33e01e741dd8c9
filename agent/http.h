/*
 * http.h - the agent's observability endpoint (libmicrohttpd) and the renderers behind it.
 *
 * lf_http_start() runs one libmicrohttpd daemon with its own polling thread; every request is
 * answered on that thread from lf_status_json() (agent/status.h) and lf_metrics
 * (agent/base/metrics.h), both of which are safe to read from any thread:
 *   GET /         compact HTML status page (status_page.c), no external assets
 *   GET /status   lf_status_json() as JSON
 *   GET /metrics  Prometheus text exposition format 0.0.4 (metrics.c)
 *   GET /healthz  200 "ok ..." or 503 "unhealthy: <reason>" (lf_health_eval)
 * Anything else is 404; methods other than GET/HEAD are 405.
 *
 * The renderers are pure functions of a status object so they can be tested without a
 * running agent. When the core is built without libmicrohttpd (HAVE_MICROHTTPD undefined),
 * lf_http_start() fails with a sentence saying so; the renderers still exist.
 */
#ifndef LF_HTTP_H
#define LF_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

#include <jansson.h>

#include "agent/base/buf.h"

/* Default port when http_listen names none. */
#define LF_HTTP_DEFAULT_PORT 5066
/* Connections the endpoint holds at once (an idle one is closed after 2 s): enough that
 * /healthz answers while a local user holds 200 idle ones. Counted in the descriptors the
 * agent keeps besides max_open_files. */
#define LF_HTTP_MAX_CONNS 256
/* An output may be "retrying" this long before /healthz answers 503. */
#define LF_HEALTH_RETRY_BUDGET_MS (5L * 60 * 1000)

/* Parses an http_listen value:
 *   "127.0.0.1:5066", "[::1]:5066"  that address (numeric IPv4/IPv6 only)
 *   "localhost:5066"                127.0.0.1
 *   "5066"                          127.0.0.1:5066 (a port alone stays on loopback)
 *   ":5066"                         0.0.0.0:5066, every interface (*all_ifaces = 1)
 * Port 0 asks the kernel for a free port (tests). Fills ss/len; returns 0, or -1 with a
 * sentence in err. Pure; usable by `logferry check`. */
int lf_http_parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len,
                         int *all_ifaces, char *err, size_t errsz);

/* Starts the endpoint on `listen`. Warns (LF_WARN, "http") when it listens on every
 * interface. Returns 0, or -1 with a sentence in err (bad address, port in use, built
 * without libmicrohttpd). Call once from the main thread; not re-entrant. */
int lf_http_start(const char *listen, char *err, size_t errsz);
/* Stops the daemon and joins its thread (in-flight requests finish). Safe when not started. */
void lf_http_stop(void);
/* The bound port (useful after listening on port 0), or 0 when not running. */
int lf_http_port(void);

/* /healthz rule, a pure function of a status object (NULL = agent not running):
 * healthy when every output is "ok", or "retrying" for at most budget_ms (by
 * state_since_ms against now_ms). Unhealthy when an output is "failed", retrying beyond the
 * budget, in an unknown state, or when status is NULL. Returns 200 or 503 and writes a
 * one-line reason (which outputs, since when, their last_error) into reason. */
int lf_health_eval(const json_t *status, long long now_ms, long budget_ms, char *reason,
                   size_t reasonsz);

/* Appends the Prometheus exposition of lf_metrics plus the per-output and per-file series
 * taken from status (may be NULL) to b. Returns 0, or -1 when b's cap was hit. (metrics.c) */
int lf_metrics_prometheus(struct buf *b, const json_t *status);

/* Logs one INFO line (component "metrics") with the counters that changed since the last
 * call (their deltas over the period), the gauges that are not zero, per-output deltas and
 * states other than ok, and the total lag (Filebeat's "Non-zero metrics in the last 30s").
 * Nothing is logged when every counter is unchanged and every gauge is zero. Called by the
 * core's loop thread only (keeps the previous snapshot in static storage). (metrics.c) */
void lf_metrics_log_summary(long period_ms);
/* Forgets the previous snapshot (tests; a restarted core). */
void lf_metrics_summary_reset(void);

/* Appends the HTML status page for status (may be NULL: "agent not running"). Every string
 * taken from status is HTML-escaped. Returns 0, or -1 when b's cap was hit.
 * (status_page.c) */
int lf_status_page_html(struct buf *b, const json_t *status, long long now_ms);
/* Appends s HTML-escaped (& < > " ' and control characters); invalid UTF-8 becomes U+FFFD. */
int lf_html_escape(struct buf *b, const char *s);

/* `logferry status -c FILE [--json]` (cmd_status.c). Exit status: 0 when the agent
 * answered, 3 when it did not (the registry was shown instead), 2 on a usage error or an
 * unreadable file; other problems in agent.conf are noted and ignored. */
int cmd_status(int argc, char **argv);

#endif
