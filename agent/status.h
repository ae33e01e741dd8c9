/*
 * status.h - a point-in-time picture of the running agent, for /status, /healthz, the HTML
 * page and `logferry status`.
 *
 * The daemon (agent/status.c) implements lf_status_json(); it is safe to call from any thread
 * while the agent runs (it takes the core's status lock briefly). Shape:
 *
 *   {"name": "was-1", "version": "0.1.0", "uptime_s": 12, "config": "/etc/logferry/agent.conf",
 *    "files": [{"input": "nginx", "path": "/var/log/nginx/access.log", "dev": 2049,
 *               "ino": 1234, "fingerprint": "9f2c...", "size": 1048576, "read_offset": 1048000,
 *               "committed_offset": 1040000, "lag_bytes": 8576, "state": "open|renamed|deleted"}],
 *    "outputs": [{"name": "kafka", "type": "kafka", "state": "ok|retrying|failed",
 *                 "state_since_ms": 1700000000000, "last_error": "...",
 *                 "queue_batches": 3, "events_acked": 100, "events_dead": 0, ...}],
 *    "queue": {"events": 10, "bytes": 65536, "max_events": 100000, "max_bytes": 16777216},
 *    "alerts": [{"time": "...", "text": "1× HTTP 500 on was-1 ..."}],
 *    "series": [{"kind": "events|5xx|alerts", "name": "nginx", "per_minute": [60 counts]}]}
 *
 * Returns a new reference (caller json_decref()s), or NULL when the agent is not running.
 */
#ifndef LF_STATUS_H
#define LF_STATUS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/base/status_feed.h"

json_t *lf_status_json(void);

#endif
