/*
 * slack_webhook.c - the message of `[output webhook]` as generic JSON, for receivers that are
 * not Slack (Alertmanager-style receivers, internal bots; Mattermost takes the Slack output
 * itself). The webhook output is the Slack output with this renderer: the same groups,
 * windows, causes, rate and silence notices, pacing, retries, Retry-After and masking.
 *
 *   {"kind": "first|summary|firing|reminder|resolved|silence|resumed",
 *    "count": N, "groups": G, "group": {"host.name": "was-1", "url.path": "/api/{id}"},
 *    "statuses": {"500": 3}, "first": "…Z", "last": "…Z",
 *    "cause": {"type", "message", "root", "frames": [...], "logger", "matched"},
 *    "causes": [{"cause": "NullPointerException at OrderService.java:42", "count": 30}],
 *    "rate": {"matching": 37, "of": 1204, "threshold": "2 %", "window_s": 300},
 *    "silence": {"input": "web", "host": "was-1", "last_file": "…", "last": "…Z"},
 *    "text": "the fallback text of the Slack message"}
 *
 * Log text goes through the JSON writer (escaped, invalid UTF-8 repaired); no Slack escaping
 * (the receiver is not Slack), except inside "text", which is the Slack fallback text.
 *
 * Threads: the sender thread (and unit tests). Pure functions of their arguments.
 */
#include "outputs/slack.h"
#include "agent/base/json.h"

#include <stdio.h>
#include <string.h>

static int jstr(struct buf *j, const char *key, const char *v)
{
    return buf_printf(j, ",\"%s\":", key) | json_write_string(j, v, strlen(v));
}

/* {"host.name":"was-1","url.path":"/x"} from the \x1f-separated values and group_by. */
static int group_obj(struct buf *j, const struct sl_msg *m, const char *vals)
{
    int rc = buf_adds(j, ",\"group\":{");
    const char *p = vals;
    for (int i = 0; m->group_by && i < m->group_by->n; i++) {
        const char *e = strchr(p, '\x1f');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        rc |= buf_adds(j, i ? "," : "") |
              json_write_string(j, m->group_by->v[i], strlen(m->group_by->v[i])) |
              buf_addc(j, ':') | json_write_string(j, p, n);
        if (!e)
            break;
        p = e + 1;
    }
    return rc | buf_addc(j, '}');
}

static int cause_obj(struct buf *j, const struct sl_sample *s)
{
    const struct sl_cause *c = s->cause;
    char key[SL_CAUSE_KEY];
    sl_cause_key(c, key, sizeof key);
    int rc = buf_adds(j, ",\"cause\":{\"summary\":") | json_write_string(j, key, strlen(key));
    rc |= jstr(j, "type", c->type) | jstr(j, "message", c->message) | jstr(j, "root", c->root) |
          jstr(j, "logger", c->logger) | jstr(j, "matched", s->cause_how) |
          buf_adds(j, ",\"frames\":[");
    for (int i = 0; i < c->nframes; i++)
        rc |= buf_adds(j, i ? "," : "") | json_write_string(j, c->frames[i], strlen(c->frames[i]));
    return rc | buf_adds(j, "]}");
}

static int alert_fields(struct buf *j, const struct sl_msg *m)
{
    const struct sl_agg *a = &m->agg;
    char ts[32];
    int rc = buf_printf(j, ",\"groups\":%d", m->ngroups);
    if (m->ngroups == 1 && m->group[0])
        rc |= group_obj(j, m, m->group);
    rc |= buf_adds(j, ",\"statuses\":{");
    for (int i = 0; i < a->nst; i++)
        rc |= buf_printf(j, "%s\"%ld\":%llu", i ? "," : "", a->st[i].status,
                         (unsigned long long)a->st[i].n);
    if (a->st_other)
        rc |= buf_printf(j, "%s\"other\":%llu", a->nst ? "," : "",
                         (unsigned long long)a->st_other);
    rc |= buf_addc(j, '}');
    json_format_ts(a->first_ms, ts);
    rc |= jstr(j, "first", ts);
    json_format_ts(a->last_ms, ts);
    rc |= jstr(j, "last", ts);
    if (m->has_sample && m->sample.cause)
        rc |= cause_obj(j, &m->sample);
    rc |= buf_adds(j, ",\"causes\":[");
    for (int i = 0; i < a->ncauses; i++)
        rc |= buf_adds(j, i ? ",{\"cause\":" : "{\"cause\":") |
              json_write_string(j, a->causes[i].key, strlen(a->causes[i].key)) |
              buf_printf(j, ",\"count\":%llu}", (unsigned long long)a->causes[i].n);
    if (a->causes_other)
        rc |= buf_printf(j, "%s{\"cause\":\"other\",\"count\":%llu}", a->ncauses ? "," : "",
                         (unsigned long long)a->causes_other);
    rc |= buf_addc(j, ']');
    if (m->kibana_url && *m->kibana_url) {
        struct buf link;
        buf_init(&link, 64 * 1024);
        if (sl_kibana_link(m, &link) == 0 && link.len)
            rc |= buf_adds(j, ",\"kibana\":") | json_write_string(j, link.p, link.len);
        buf_free(&link);
    }
    if (m->has_sample)
        rc |= jstr(j, "host", m->sample.host) | jstr(j, "path", m->sample.path) |
              (m->sample.line ? buf_adds(j, ",\"line\":") |
                                    json_write_string(j, m->sample.line, m->sample.line_len)
                              : 0);
    return rc;
}

static int notice_fields(struct buf *j, const struct sl_msg *m)
{
    const struct sl_notice *n = &m->notice;
    char ts[32];
    json_format_ts(n->since_wall_ms, ts);
    if (n->kind == SL_SILENCE || n->kind == SL_RESUMED)
        return buf_adds(j, ",\"silence\":{\"input\":") |
               json_write_string(j, n->label, strlen(n->label)) | jstr(j, "host", n->host) |
               jstr(j, "last_file", n->path) | jstr(j, "last", ts) |
               buf_printf(j, ",\"after_s\":%ld}", n->window_s);
    int rc = group_obj(j, m, n->label);
    char thr[48] = "";
    if (m->thr && m->thr->ratio)
        snprintf(thr, sizeof thr, "%g %%", m->thr->pct);
    else if (m->thr)
        snprintf(thr, sizeof thr, "%llu", (unsigned long long)m->thr->count);
    rc |= buf_printf(j, ",\"rate\":{\"matching\":%llu,\"of\":%llu", (unsigned long long)n->num,
                     (unsigned long long)n->den) |
          jstr(j, "threshold", thr) | buf_printf(j, ",\"window_s\":%ld", n->window_s) |
          jstr(j, "since", ts) | buf_addc(j, '}');
    return rc;
}

int sl_format_webhook(const struct sl_msg *m, struct buf *text, struct buf *json)
{
    static const char *const kinds[] = {"", "firing", "reminder", "resolved", "silence",
                                        "resumed"};
    struct buf slack;
    buf_init(&slack, 256 * 1024);
    int rc = sl_format(m, text, &slack); /* for its fallback text */
    buf_free(&slack);
    if (rc != 0)
        return -1;
    buf_reset(json);
    const char *kind = m->kind != SL_ALERT ? kinds[m->kind]
                       : (m->agg.count == 1 && m->has_sample) ? "first" : "summary";
    rc = buf_adds(json, "{\"kind\":") | json_write_string(json, kind, strlen(kind)) |
         buf_printf(json, ",\"count\":%llu", (unsigned long long)m->agg.count);
    rc |= m->kind == SL_ALERT ? alert_fields(json, m) : notice_fields(json, m);
    rc |= buf_adds(json, ",\"text\":") | json_write_string(json, text->p, text->len) |
          buf_addc(json, '}');
    return rc ? -1 : 0;
}
