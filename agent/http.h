/*
 * http.h - the metrics and status endpoint ([agent] http_listen). Runs its own thread(s);
 * reads only lf_metrics and lf_status_json().
 */
#ifndef LF_HTTP_H
#define LF_HTTP_H

#include <stddef.h>

/* listen: "127.0.0.1:5066", "[::1]:5066", or a port alone (loopback). 0 or -1 + err. */
int lf_http_start(const char *listen, char *err, size_t errsz);
void lf_http_stop(void);

/* One log line with the counters that changed during the last period (Filebeat-style). */
void lf_metrics_log_summary(long period_ms);

#endif
