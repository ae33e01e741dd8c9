/*
 * http.c - the observability endpoint: listen-address parsing, the libmicrohttpd daemon and
 * its routes, and the /healthz rule (see http.h).
 *
 * Threads: lf_http_start()/lf_http_stop() run on the main thread; libmicrohttpd answers
 * every request on its one internal polling thread, which reads lf_status_json() (it takes
 * the core's status lock briefly) and lf_metrics (atomics). Nothing here is written after
 * start except by libmicrohttpd itself.
 *
 * Exposure: the default is loopback. When bound to loopback, requests whose Host header is
 * not a loopback name are refused (421), so a web page cannot read /status through DNS
 * rebinding. Responses are never cached, carry nosniff, and the HTML page a CSP that forbids
 * every script and external asset.
 */
#include "agent/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/base/buf.h"
#include "agent/base/clock.h"
#include "agent/base/log.h"
#include "agent/base/metrics.h"
#include "agent/health.h"
#include "agent/status.h"
#include "agent/status_page.h"

#ifdef HAVE_MICROHTTPD
#include <microhttpd.h>
#endif

/* Responses are built in memory; /status of an agent reading thousands of files is the
 * largest. Past this cap the request fails with 500 instead of growing without bound. */
#define HTTP_MAX_RESPONSE (32u << 20)

static int parse_port(const char *s, int *port)
{
    if (!*s || strlen(s) > 5)
        return -1;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (v > 65535)
        return -1;
    *port = (int)v;
    return 0;
}

int lf_http_parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len,
                         int *all_ifaces, char *err, size_t errsz)
{
    char host[64] = "";
    const char *portstr;
    int port;
    memset(ss, 0, sizeof *ss);
    *all_ifaces = 0;
    if (!listen || !*listen) {
        snprintf(err, errsz, "http_listen is empty");
        return -1;
    }
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':' || (size_t)(close - listen - 1) >= sizeof host) {
            snprintf(err, errsz, "http_listen \"%s\": expected [IPv6]:PORT", listen);
            return -1;
        }
        memcpy(host, listen + 1, (size_t)(close - listen - 1));
        host[close - listen - 1] = '\0';
        portstr = close + 2;
    } else {
        const char *colon = strrchr(listen, ':');
        if (!colon) {
            portstr = listen; /* "5066": a port alone stays on loopback */
            snprintf(host, sizeof host, "127.0.0.1");
        } else {
            if ((size_t)(colon - listen) >= sizeof host || memchr(listen, ':', (size_t)(colon - listen))) {
                snprintf(err, errsz, "http_listen \"%s\": write IPv6 addresses as [ADDR]:PORT",
                         listen);
                return -1;
            }
            memcpy(host, listen, (size_t)(colon - listen));
            host[colon - listen] = '\0';
            portstr = colon + 1;
        }
    }
    if (parse_port(portstr, &port) != 0) {
        snprintf(err, errsz, "http_listen \"%s\": \"%s\" is not a port (0-65535)", listen,
                 portstr);
        return -1;
    }
    if (strcmp(host, "") == 0 || strcmp(host, "*") == 0)
        snprintf(host, sizeof host, "0.0.0.0");
    else if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");

    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        *len = sizeof *in4;
        *all_ifaces = in4->sin_addr.s_addr == htonl(INADDR_ANY);
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof *in6;
        *all_ifaces = IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
    } else {
        snprintf(err, errsz,
                 "http_listen \"%s\": \"%s\" is not a numeric IPv4/IPv6 address (or localhost)",
                 listen, host);
        return -1;
    }
    return 0;
}

#ifdef HAVE_MICROHTTPD

static int addr_is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    if (ss->ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
    return 0;
}

static struct MHD_Daemon *http_daemon;

#define HTTP_IDLE_S 2
static int http_loopback; /* bound to loopback: enforce loopback Host headers */

/* Host header "127.0.0.1:5066", "[::1]:5066", "localhost" ... */
static int host_is_loopback(const char *host)
{
    char h[64];
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        if (!close || (size_t)(close - host - 1) >= sizeof h)
            return 0;
        memcpy(h, host + 1, (size_t)(close - host - 1));
        h[close - host - 1] = '\0';
        struct in6_addr a6;
        return inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
    }
    size_t n = strcspn(host, ":");
    if (n >= sizeof h)
        return 0;
    memcpy(h, host, n);
    h[n] = '\0';
    if (strcasecmp(h, "localhost") == 0)
        return 1;
    struct in_addr a4;
    return inet_pton(AF_INET, h, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned code, const char *ctype,
                               struct buf *body)
{
    struct MHD_Response *r;
    if (body->len)
        r = MHD_create_response_from_buffer(body->len, body->p, MHD_RESPMEM_MUST_FREE);
    else
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) {
        buf_free(body);
        return MHD_NO;
    }
    if (body->len)
        body->p = NULL; /* libmicrohttpd frees it */
    body->len = body->cap = 0;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (strncmp(ctype, "text/html", 9) == 0)
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'none'; style-src 'unsafe-inline'; "
                                "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result text_reply(struct MHD_Connection *c, unsigned code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum MHD_Result text_reply(struct MHD_Connection *c, unsigned code, const char *fmt, ...)
{
    struct buf b;
    buf_init(&b, 4096);
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    buf_adds(&b, tmp);
    buf_addc(&b, '\n');
    return respond(c, code, "text/plain; charset=utf-8", &b);
}

static enum MHD_Result route(void *cls, struct MHD_Connection *c, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **con_cls)
{
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return text_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD are served");
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (http_loopback && host && !host_is_loopback(host))
        return text_reply(c, 421, "this endpoint answers only to loopback host names");

    struct buf b;
    buf_init(&b, HTTP_MAX_RESPONSE);
    int known = 1, rc = 0;
    unsigned code = MHD_HTTP_OK;
    const char *ctype = "text/plain; charset=utf-8";
    json_t *st = NULL;
    if (strcmp(url, "/metrics") == 0) {
        st = lf_status_json();
        rc = lf_metrics_prometheus(&b, st);
        ctype = "text/plain; version=0.0.4; charset=utf-8";
    } else if (strcmp(url, "/healthz") == 0) {
        char reason[1024];
        st = lf_status_json();
        code = (unsigned)lf_health_eval(st, wall_ms(), LF_HEALTH_RETRY_BUDGET_MS, reason,
                                        sizeof reason);
        rc = buf_printf(&b, "%s\n", reason);
    } else if (strcmp(url, "/status") == 0) {
        st = lf_status_json();
        ctype = "application/json";
        if (!st) {
            code = MHD_HTTP_SERVICE_UNAVAILABLE;
            rc = buf_adds(&b, "{\"error\":\"the agent is not running\"}\n");
        } else {
            char *txt = json_dumps(st, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
            rc = txt ? buf_adds(&b, txt) | buf_addc(&b, '\n') : -1;
            free(txt);
        }
    } else if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0) {
        st = lf_status_json();
        rc = lf_status_page_html(&b, st, wall_ms());
        ctype = "text/html; charset=utf-8";
    } else {
        known = 0;
    }
    json_decref(st);
    if (!known) {
        buf_free(&b);
        return text_reply(c, MHD_HTTP_NOT_FOUND, "not found; try /, /status, /metrics, /healthz");
    }
    if (rc != 0) {
        buf_free(&b);
        LF_LOG(LF_WARN, "http", "response for %s exceeded %u bytes or memory ran out", url,
               HTTP_MAX_RESPONSE);
        return text_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "response too large");
    }
    return respond(c, code, ctype, &b);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    LF_LOG(LF_WARN, "http", "%s", msg);
}

int lf_http_start(const char *listen, char *err, size_t errsz)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int all;
    if (http_daemon) {
        snprintf(err, errsz, "the HTTP endpoint is already running");
        return -1;
    }
    if (lf_http_parse_listen(listen, &ss, &len, &all, err, errsz) != 0)
        return -1;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    uint16_t port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                  : ((struct sockaddr_in6 *)&ss)->sin6_port);
    http_loopback = addr_is_loopback(&ss);
    errno = 0;
    /* Idle connections must not starve /healthz: with 32 slots and a 10 s idle timeout, 40
     * idle connections from a local user delayed it by 9.7 s. Slots are cheap (one
     * descriptor, and a memory pool only while a request is read), and an idle one is closed
     * after HTTP_IDLE_S. */
    http_daemon = MHD_start_daemon(flags, port, NULL, NULL, route, NULL,
                                   MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                                   MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                   MHD_OPTION_CONNECTION_LIMIT, (unsigned)LF_HTTP_MAX_CONNS,
                                   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_S,
                                   MHD_OPTION_END);
    if (!http_daemon) {
        snprintf(err, errsz, "cannot listen on %s for the HTTP endpoint: %s", listen,
                 errno ? strerror(errno) : "libmicrohttpd refused to start");
        return -1;
    }
    if (all)
        LF_LOG(LF_WARN, "http",
               "http_listen %s listens on every interface: /status shows file paths and "
               "errors to anyone who can reach port %d; prefer 127.0.0.1",
               listen, lf_http_port());
    LF_LOG(LF_INFO, "http", "serving /, /status, /metrics, /healthz on %s (port %d)", listen,
           lf_http_port());
    return 0;
}

void lf_http_stop(void)
{
    if (http_daemon) {
        MHD_stop_daemon(http_daemon);
        http_daemon = NULL;
    }
}

int lf_http_port(void)
{
    if (!http_daemon)
        return 0;
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(http_daemon, MHD_DAEMON_INFO_BIND_PORT);
    return i ? (int)i->port : 0;
}

#else /* !HAVE_MICROHTTPD */

int lf_http_start(const char *listen, char *err, size_t errsz)
{
    snprintf(err, errsz,
             "http_listen = %s, but this logferry was built without libmicrohttpd "
             "(install libmicrohttpd-dev and rebuild)",
             listen);
    return -1;
}

void lf_http_stop(void) {}
int lf_http_port(void) { return 0; }

#endif
