/*
 * slack_link.c - the "Open in Kibana" link of an alert (`kibana_url`): Discover on the data
 * view of logferry's saved objects (`kibana_data_view`, the id packaging/kibana ships),
 * filtered on the alert's host and path, over the alert's time range (a minute either side).
 *
 * Log content reaches the link (host, path), so it is escaped three times, innermost first:
 * for KQL inside double quotes (\ and "), for a rison string inside single quotes (! and '),
 * and for the URL (everything but unreserved characters percent-encoded). After that the
 * link contains no '<', '>', '|' or space, so it cannot break out of Slack's <URL|text>
 * syntax either.
 *
 * Threads: the sender thread (and unit tests). Pure functions of their arguments.
 */
#include "outputs/slack.h"
#include "agent/base/json.h"

#include <stdio.h>
#include <string.h>

/* KQL then rison escaping of one value, appended to b. */
static int kql_rison(struct buf *b, const char *s)
{
    int rc = 0;
    for (; *s && rc == 0; s++) {
        char c = *s;
        if (c == '\\' || c == '"')
            rc = buf_addc(b, '\\');
        if (rc == 0 && (c == '!' || c == '\''))
            rc = buf_addc(b, '!');
        if (rc == 0)
            rc = buf_addc(b, (unsigned char)c < 0x20 ? ' ' : c);
    }
    return rc;
}

static int url_encode(struct buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            rc = buf_addc(out, (char)c);
        else
            rc = buf_addc(out, '%') | buf_addc(out, hex[c >> 4]) | buf_addc(out, hex[c & 15]);
    }
    return rc;
}

int sl_kibana_link(const struct sl_msg *m, struct buf *out)
{
    if (!m->kibana_url || !*m->kibana_url || m->kind != SL_ALERT)
        return 0;
    const char *host = NULL, *path = NULL;
    if (m->has_sample && m->agg.count == 1) {
        host = m->sample.host;
        path = m->sample.path;
    } else {
        host = m->agg.nhosts == 1 && !m->agg.hosts_more ? m->agg.hosts[0] : NULL;
        path = m->agg.npaths == 1 && !m->agg.paths_other ? m->agg.paths[0].path : NULL;
    }
    char from[32], to[32];
    json_format_ts(m->agg.first_ms - 60000, from);
    json_format_ts(m->agg.last_ms + 60000, to);
    struct buf q;
    buf_init(&q, 8192);
    int rc = 0;
    if (host && *host)
        rc |= buf_adds(&q, "host.name:\"") | kql_rison(&q, host) | buf_adds(&q, "\"");
    if (path && *path)
        rc |= buf_adds(&q, q.len ? " and url.path:\"" : "url.path:\"") | kql_rison(&q, path) |
              buf_adds(&q, "\"");
    /* the rison state, then URL-encoded as a whole (the fragment is parsed by Kibana) */
    struct buf r;
    buf_init(&r, 16384);
    rc |= buf_printf(&r, "(time:(from:'%s',to:'%s'))", from, to);
    size_t g_len = r.len;
    rc |= buf_adds(&r, "(index:'") | kql_rison(&r, m->kibana_view ? m->kibana_view : "") |
          buf_adds(&r, "',query:(language:kuery,query:'") | buf_add(&r, q.p, q.len) |
          buf_adds(&r, "'))");
    size_t base = strlen(m->kibana_url);
    while (base && m->kibana_url[base - 1] == '/')
        base--;
    rc |= buf_add(out, m->kibana_url, base) | buf_adds(out, "/app/discover#/?_g=") |
          url_encode(out, r.p, g_len) | buf_adds(out, "&_a=") |
          url_encode(out, r.p + g_len, r.len - g_len);
    buf_free(&q);
    buf_free(&r);
    return rc ? -1 : 0;
}
