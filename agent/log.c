/*
 * log.c - formatting of the agent's own log records (see log.h). Any thread may log; the
 * only shared state is the level and the format flag, both set before threads start.
 */
#include "agent/log.h"
#include "agent/buf.h"
#include "agent/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int lf_log_level = LF_INFO;
static int log_json;

static const char *level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

int lf_log_parse_level(const char *s)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    if (strcmp(s, "warning") == 0)
        return LF_WARN;
    return -1;
}

void lf_log_set_json(int on) { log_json = on; }

void lf_log_write(enum lf_level lvl, const char *comp, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof msg)
        n = sizeof msg - 1;

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[80];
    snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(tv.tv_usec / 1000));

    char line[4096];
    struct buf b = {line, 0, sizeof line, sizeof line};
    if (log_json) {
        buf_printf(&b, "{\"@timestamp\":\"%s\",\"log\":{\"level\":\"%s\",\"logger\":\"%s\"},"
                       "\"message\":",
                   ts, level_names[lvl], comp);
        json_write_string(&b, msg, (size_t)n);
        buf_add(&b, "}\n", 2);
    } else {
        /* file names are attacker-controlled: no control byte reaches the terminal raw */
        buf_printf(&b, "%s %-5s [%s] ", ts, level_names[lvl], comp);
        for (int i = 0; i < n; i++) {
            unsigned char c = (unsigned char)msg[i];
            if (c < 0x20 || c == 0x7F)
                buf_printf(&b, "\\x%02X", c);
            else
                buf_addc(&b, (char)c);
        }
        buf_addc(&b, '\n');
    }
    if (b.len == 0 || b.p[b.len - 1] != '\n') { /* truncated: end the record anyway */
        if (b.len == b.cap)
            b.len--;
        b.p[b.len++] = '\n';
    }
    ssize_t w = write(2, b.p, b.len);
    (void)w;
}

const char *lf_mask_url(const char *url, char *out, size_t outsz)
{
    if (!url || !*url) {
        snprintf(out, outsz, "(none)");
        return out;
    }
    const char *p = strstr(url, "://");
    const char *host = p ? p + 3 : url;
    const char *slash = strchr(host, '/');
    size_t hlen = slash ? (size_t)(slash - host) : strlen(host);
    const char *at = memchr(host, '@', hlen); /* drop user:password@ */
    if (at) {
        hlen -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    size_t len = strlen(url);
    const char *tail = len >= 4 ? url + len - 4 : url;
    snprintf(out, outsz, "%.*s%.*s/…%s", p ? (int)(p + 3 - url) : 0, url, (int)hlen, host,
             slash ? tail : "");
    return out;
}
