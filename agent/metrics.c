/*
 * metrics.c - the agent's counters and the periodic summary line.
 */
#include "agent/http.h"
#include "agent/log.h"
#include "agent/metrics.h"

struct agent_metrics lf_metrics;

void lf_metrics_log_summary(long period_ms)
{
    static unsigned long long last_lines, last_events;
    unsigned long long lines = METRIC_GET(lf_metrics.lines_read);
    unsigned long long events = METRIC_GET(lf_metrics.events);
    if (lines != last_lines || events != last_events)
        LF_LOG(LF_INFO, "metrics", "last %lds: lines_read=%llu events=%llu", period_ms / 1000,
               lines - last_lines, events - last_events);
    last_lines = lines;
    last_events = events;
}
