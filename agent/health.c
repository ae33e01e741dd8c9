/*
 * health.c - the /healthz rule (health.h). Pure; any thread.
 */
#include "agent/health.h"

#include <stdio.h>
#include <string.h>

#include "agent/base/buf.h"

int lf_health_eval(const json_t *status, long long now_ms, long budget_ms, char *reason,
                   size_t reasonsz)
{
    if (!status) {
        snprintf(reason, reasonsz, "unhealthy: the agent is not running");
        return 503;
    }
    const json_t *outs = json_object_get(status, "outputs");
    struct buf bad, note;
    buf_init(&bad, reasonsz);
    buf_init(&note, reasonsz);
    size_t n = json_array_size(outs), retrying = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(outs, i);
        const char *name = json_string_value(json_object_get(o, "name"));
        const char *st = json_string_value(json_object_get(o, "state"));
        const char *lerr = json_string_value(json_object_get(o, "last_error"));
        json_t *since_j = json_object_get(o, "state_since_ms");
        long long since = json_is_integer(since_j) ? (long long)json_integer_value(since_j)
                                                   : now_ms;
        long long for_s = (now_ms - since) / 1000;
        name = name ? name : "?";
        lerr = lerr && *lerr ? lerr : "no error text";
        if (st && strcmp(st, "ok") == 0)
            continue;
        if (st && strcmp(st, "retrying") == 0 && now_ms - since <= budget_ms) {
            retrying++;
            buf_printf(&note, "%s%s retrying for %llds", note.len ? ", " : "", name, for_s);
            continue;
        }
        if (st && strcmp(st, "retrying") == 0)
            buf_printf(&bad, "%soutput %s retrying for %llds (budget %lds): %s",
                       bad.len ? "; " : "", name, for_s, budget_ms / 1000, lerr);
        else if (st && strcmp(st, "failed") == 0)
            buf_printf(&bad, "%soutput %s failed %llds ago: %s", bad.len ? "; " : "", name,
                       for_s, lerr);
        else
            buf_printf(&bad, "%soutput %s in unknown state \"%.32s\"", bad.len ? "; " : "",
                       name, st ? st : "(none)");
    }
    int code;
    if (bad.len) {
        snprintf(reason, reasonsz, "unhealthy: %.*s", (int)bad.len, bad.p);
        code = 503;
    } else if (retrying) {
        snprintf(reason, reasonsz, "ok: %zu output(s), %.*s (within the %lds budget)", n,
                 (int)note.len, note.p, budget_ms / 1000);
        code = 200;
    } else {
        snprintf(reason, reasonsz, "ok: %zu output(s) healthy", n);
        code = 200;
    }
    buf_free(&bad);
    buf_free(&note);
    return code;
}
