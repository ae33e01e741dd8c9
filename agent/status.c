/*
 * status.c - lf_status_json(): the running agent as JSON (shape in status.h).
 *
 * The tail thread owns the files it describes, so the snapshot is taken under status_mu,
 * which the tail thread holds while it changes the list of files (it registers the agent
 * here at start and unregisters it before tearing down). Offsets are read without the tail
 * thread's cooperation: 64-bit loads of values it writes, good enough for a status page.
 */
#include "agent/agent.h"
#include "agent/http.h"
#include "agent/status.h"
#include "agent/base/json.h"

#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct agent *running;

void lf_status_register(struct agent *a)
{
    pthread_mutex_lock(&reg_mu);
    running = a;
    pthread_mutex_unlock(&reg_mu);
    lf_metrics_set_status_provider(a ? lf_status_json : NULL);
}

static const char *state_name(int s)
{
    return s == OUT_OK ? "ok" : s == OUT_RETRYING ? "retrying" : "failed";
}

static const char *tf_state(const struct tail_file *tf)
{
    switch (tf->state) {
    case TF_ACTIVE: return "open";
    case TF_RENAMED: return "renamed";
    case TF_DELETED: return "deleted";
    case TF_CLOSED: return "closed";
    }
    return "?";
}

json_t *lf_status_json(void)
{
    pthread_mutex_lock(&reg_mu);
    struct agent *a = running;
    if (!a) {
        pthread_mutex_unlock(&reg_mu);
        return NULL;
    }
    json_t *files = json_array();
    pthread_mutex_lock(&a->status_mu);
    for (struct tail_file *tf = a->files; tf; tf = tf->next) {
        char fp[20];
        snprintf(fp, sizeof fp, "%016llx", (unsigned long long)tf->id.fp);
        int64_t lag = tf->size - (int64_t)tf->committed;
        json_array_append_new(files, json_pack("{s:s, s:o, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:s}",
            "input", tf->in->name, "path", lf_json_string_lossy(tf->path), "dev", (json_int_t)tf->id.dev,
            "ino", (json_int_t)tf->id.ino, "fingerprint", fp, "size", (json_int_t)tf->size,
            "read_offset", (json_int_t)tf->read_off, "committed_offset", (json_int_t)tf->committed,
            "lag_bytes", (json_int_t)(lag > 0 ? lag : 0), "state", tf_state(tf)));
    }
    pthread_mutex_unlock(&a->status_mu);
    json_t *outs = json_array();
    for (int i = 0; i < a->nouts; i++) {
        struct output_inst *o = &a->outs[i];
        struct out_metrics *m = &o->m;
        json_t *oj = json_pack(
            "{s:s, s:s, s:s, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
            "name", o->env.name, "type", o->desc->type, "state", state_name(METRIC_GET(m->state)),
            "state_since_ms", (json_int_t)METRIC_GET(m->state_since_ms),
            "last_error", lf_json_string_lossy(m->last_error),
            "queue_batches", (json_int_t)o->count,
            "events_sent", (json_int_t)METRIC_GET(m->events_sent),
            "events_acked", (json_int_t)METRIC_GET(m->events_acked),
            "events_retried", (json_int_t)METRIC_GET(m->events_retried),
            "events_dead", (json_int_t)METRIC_GET(m->events_dead),
            "events_skipped", (json_int_t)METRIC_GET(m->events_skipped),
            "events_rerouted", (json_int_t)METRIC_GET(m->events_rerouted),
            "responses_refused", (json_int_t)METRIC_GET(m->responses_refused),
            "alerts_sent", (json_int_t)METRIC_GET(m->alerts_sent),
            "alerts_folded", (json_int_t)METRIC_GET(m->alerts_folded),
            "records_repaired", (json_int_t)METRIC_GET(m->records_repaired));
        json_t *extra = o->desc->status && o->st ? o->desc->status(o->st) : NULL;
        if (oj && extra)
            json_object_update(oj, extra);
        json_decref(extra);
        json_t *spool = pipeline_spool_status(o);
        if (oj && spool)
            json_object_update(oj, spool);
        json_decref(spool);
        json_array_append_new(outs, oj);
    }
    json_t *root = json_pack("{s:s, s:s, s:I, s:s, s:o, s:o, s:{s:I, s:I, s:I, s:I}, s:o, s:o}",
        "name", a->host_name, "version", LOGFERRY_VERSION,
        "uptime_s", (json_int_t)((wall_ms() - a->started_ms) / 1000), "config", a->conf_path,
        "files", files, "outputs", outs,
        "queue", "events", (json_int_t)METRIC_GET(lf_metrics.queue_events),
        "bytes", (json_int_t)METRIC_GET(lf_metrics.queue_bytes),
        "max_events", (json_int_t)a->ac.queue_max_events,
        "max_bytes", (json_int_t)a->ac.queue_max_bytes,
        "alerts", lf_status_alerts(), "series", lf_status_series());
    pthread_mutex_unlock(&reg_mu);
    return root;
}
