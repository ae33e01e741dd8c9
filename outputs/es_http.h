/*
 * es_http.h - libcurl plumbing of the Elasticsearch output (private to outputs/es*.c).
 *
 * One struct es_http per output instance, used only on that output's thread (and on the
 * main thread by setup/test, with an instance of their own). It knows the hosts, how to
 * authenticate, and how to configure an easy handle for a request; connections are kept
 * alive in the multi handle's pool (asynchronous _bulk requests) or in the sync handle
 * (setup, test).
 */
#ifndef LF_OUT_ES_HTTP_H
#define LF_OUT_ES_HTTP_H

#include <curl/curl.h>
#include <stdint.h>

#include "agent/base/buf.h"
#include "agent/base/clock.h"
#include "outputs/es.h"

struct es_host {
    char *base;         /* scheme://[user:pass@]host:port[/prefix], no trailing '/' */
    char *bulk_url;     /* base + /_bulk?filter_path=... */
    char shown[160];    /* lf_mask_url(base): what logs may show */
    int64_t down_until; /* ms; skipped until then after a connection failure */
    int fails;
};

struct es_http {
    const struct es_conf *conf;
    struct es_host *hosts;
    int nhosts;
    int rr;
    struct curl_slist *hdr_bulk;    /* ndjson, no Expect, auth */
    struct curl_slist *hdr_bulk_gz; /* + Content-Encoding: gzip */
    struct curl_slist *hdr_json;    /* application/json, auth (setup/test) */
    char *auth_header;              /* "Authorization: ApiKey ..." (secret, secret.h memory) */
    struct curl_slist auth_node[3]; /* the last node of each list above: auth_header */
};

int es_http_init(struct es_http *h, const struct es_conf *conf, char *err, size_t errsz);
void es_http_free(struct es_http *h);

/* Next host to use: round-robin over the hosts that are not marked down; if all are down,
 * the one that comes back first. */
int es_http_pick(struct es_http *h, int64_t now);
/* A connection-level failure (refused, timeout, TLS) on host i / a success. */
void es_http_host_failed(struct es_http *h, int i, int64_t now);
void es_http_host_ok(struct es_http *h, int i);

/* Configures easy handle e for a request to URL with the common options (timeouts, TLS,
 * auth, keep-alive) and the response written into resp (capped by resp->max). body may be
 * NULL (GET). hdr: the header list to use. */
void es_http_prepare(struct es_http *h, CURL *e, const char *url, const char *method,
                     const char *body, size_t len, struct curl_slist *hdr, struct buf *resp);

/* Synchronous request for setup/test: tries each host in order until one answers at the HTTP
 * level. Returns 0 with *status and resp filled, or -1 with err (no host answered). */
int es_http_sync(struct es_http *h, const char *method, const char *path, const char *body,
                 size_t len, long *status, struct buf *resp, char *err, size_t errsz);

#endif
