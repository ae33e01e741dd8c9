/*
 * log.c - formatting of the agent's own log records (see log.h). Any thread may log; the
 * only shared state is the level and the format flag, both set before threads start.
 */
#include "agent/base/log.h"
#include "agent/base/buf.h"
#include "agent/base/clock.h"
#include "agent/base/json.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
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

    int64_t now = wall_ms();
    time_t sec = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char ts[80];
    snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(now % 1000));

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

/* Copies what is safe to show of url[0..n): bytes that can appear in a host name or port,
 * anything else as '?' (the URL is configuration, but it may be ${VAR} from anywhere). */
static size_t mask_copy(char *out, size_t room, const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < room; i++) {
        unsigned char c = (unsigned char)s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
        out[k++] = ok ? (char)c : '?';
    }
    if (room)
        out[k] = '\0';
    return k;
}

const char *lf_mask_url(const char *url, char *out, size_t outsz)
{
    if (!outsz)
        return out;
    if (!url || !*url) {
        snprintf(out, outsz, "(none)");
        return out;
    }
    /* scheme: letters, digits, + . - before "://" (RFC 3986); else the URL has none */
    const char *host = url;
    size_t slen = 0;
    while (url[slen] && (isalnum((unsigned char)url[slen]) || url[slen] == '+' ||
                         url[slen] == '.' || url[slen] == '-'))
        slen++;
    if (slen > 0 && isalpha((unsigned char)url[0]) && strncmp(url + slen, "://", 3) == 0)
        host = url + slen + 3;
    else
        slen = 0;
    /* the authority ends at the first / ? or #: whatever follows (path, query, fragment) may
     * be the secret, whichever of them the URL has */
    size_t alen = strcspn(host, "/?#");
    /* userinfo ends at the last '@' of the authority (a password may hold an '@') */
    for (size_t i = alen; i > 0; i--)
        if (host[i - 1] == '@') {
            host += i;
            alen -= i;
            break;
        }
    const char *rest = host + alen;
    size_t rlen = strlen(rest);
    size_t k = 0;
    if (slen) {
        k += mask_copy(out, outsz, url, slen);
        if (k + 3 < outsz) {
            memcpy(out + k, "://", 4);
            k += 3;
        }
    }
    k += mask_copy(out + k, outsz - k, host, alen);
    if (rlen) {
        /* the last 4 characters tell two long webhook URLs apart; a short path or query
         * would give too much of itself away, so it is shown as "/…" alone */
        char tail[5] = "";
        if (rlen >= 24)
            mask_copy(tail, sizeof tail, rest + rlen - 4, 4);
        snprintf(out + k, outsz - k, "/…%s", tail);
    }
    return out;
}
