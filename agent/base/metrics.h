/*
 * metrics.h - the agent's counters, shared by every thread.
 *
 * Ground floor. Plain relaxed atomics: each counter has one writer in practice, readers (the
 * HTTP /metrics page, the 30-second summary line) only need eventually-consistent values.
 * Per-output counters live in struct out_metrics, owned by the core's output instance and
 * handed to the output in its struct output_env.
 */
#ifndef LF_METRICS_H
#define LF_METRICS_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>

#include "agent/base/buf.h"

#define METRIC_ADD(c, v) atomic_fetch_add_explicit(&(c), (v), memory_order_relaxed)
#define METRIC_SET(c, v) atomic_store_explicit(&(c), (v), memory_order_relaxed)
#define METRIC_GET(c) atomic_load_explicit(&(c), memory_order_relaxed)

struct agent_metrics {
    atomic_ullong lines_read;      /* complete lines cut from files */
    atomic_ullong bytes_read;
    atomic_ullong events;          /* events produced (after multiline and filters) */
    atomic_ullong filtered;        /* records dropped by include/exclude_lines */
    atomic_ullong parse_failures;
    atomic_ullong truncated;
    atomic_ullong files_opened;
    atomic_llong files_open;
    atomic_ullong rotations;       /* renames and truncations noticed */
    atomic_ullong registry_writes;
    atomic_ullong registry_errors;
    atomic_ullong registry_journal_cut_bytes; /* torn or corrupt journal tails cut at start */
    atomic_llong queue_events;     /* events in flight (dispatched, not fully acked) */
    atomic_llong queue_bytes;
    atomic_ullong backpressure_ms; /* time reading was paused for lack of queue room */
    atomic_ullong inotify_overflows;
    atomic_ullong removed_given_up;       /* rotated/deleted files closed with unread data */
    atomic_ullong removed_bytes_given_up; /* (close_removed_after) and the bytes not read */
};

extern struct agent_metrics lf_metrics;

enum out_state { OUT_OK = 0, OUT_RETRYING = 1, OUT_FAILED = 2 };

struct out_metrics {
    atomic_ullong events_sent;     /* events handed to the destination */
    atomic_ullong events_acked;    /* confirmed by the destination */
    atomic_ullong events_retried;  /* resend attempts of events */
    atomic_ullong events_dead;     /* dead-lettered */
    atomic_ullong events_skipped;  /* not matched by `when` */
    atomic_ullong events_rerouted; /* sent to a fallback topic: the template's name was illegal */
    atomic_ullong responses_refused; /* answers over their bound or in an unasked encoding */
    atomic_ullong batches_acked;
    atomic_ullong alerts_sent;     /* slack: messages posted */
    atomic_ullong alerts_folded;   /* slack: matching lines folded into summaries */
    atomic_ullong records_repaired; /* file: torn last records ended on open */
    atomic_int state;              /* enum out_state */
    atomic_llong state_since_ms;
    char last_error[256];          /* written by the output thread only; may be torn on read */
};

/* The status object's provider: returns a new reference to the status (agent/status.h's
 * shape) or NULL when nothing runs. The ground floor cannot call the daemon, so the daemon
 * registers lf_status_json() here when it starts (NULL when it stops); tests may register
 * their own. Set from the main thread; read by the thread that logs the summary. */
void lf_metrics_set_status_provider(json_t *(*provider)(void));

/* Appends the Prometheus exposition of lf_metrics plus the per-output and per-file series
 * taken from status (may be NULL) to b. Returns 0, or -1 when b's cap was hit. */
int lf_metrics_prometheus(struct buf *b, const json_t *status);

/* Logs one INFO line (component "metrics") with the counters that changed since the last
 * call (their deltas over the period), the gauges that are not zero, per-output deltas and
 * states other than ok (from the status provider's object), and the total lag (Filebeat's
 * "Non-zero metrics in the last 30s"). Nothing is logged when every counter is unchanged and
 * every gauge is zero. Called by the core's loop thread only (keeps the previous snapshot in
 * static storage). */
void lf_metrics_log_summary(long period_ms);
/* Forgets the previous snapshot (tests; a restarted core). */
void lf_metrics_summary_reset(void);

#endif
