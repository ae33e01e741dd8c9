/*
 * http.h - the agent's observability endpoint (libmicrohttpd) and the renderers behind it.
 *
 * lf_http_start() runs one libmicrohttpd daemon with its own polling thread; every request is
 * answered on that thread from lf_status_json() (agent/status.h) and lf_metrics
 * (agent/base/metrics.h), both of which are safe to read from any thread:
 *   GET /         compact HTML status page (agent/status_page.h), no external assets
 *   GET /status   lf_status_json() as JSON
 *   GET /metrics  Prometheus text exposition format 0.0.4 (lf_metrics_prometheus())
 *   GET /healthz  200 "ok ..." or 503 "unhealthy: <reason>" (agent/health.h)
 * Anything else is 404; methods other than GET/HEAD are 405.
 *
 * The renderers (agent/health.h, agent/status_page.h, lf_metrics_prometheus() in
 * agent/base/metrics.h) are pure functions of a status object so they can be tested without a running agent. When
 * the core is built without libmicrohttpd (HAVE_MICROHTTPD undefined), lf_http_start()
 * fails with a sentence saying so; the renderers still exist.
 */
#ifndef LF_HTTP_H
#define LF_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

/* Default port when http_listen names none. */
#define LF_HTTP_DEFAULT_PORT 5066
/* Connections the endpoint holds at once (an idle one is closed after 2 s): enough that
 * /healthz answers while a local user holds 200 idle ones. Counted in the descriptors the
 * agent keeps besides max_open_files. */
#define LF_HTTP_MAX_CONNS 256

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

#endif
