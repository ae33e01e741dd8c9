/*
 * es_http.c - hosts, authentication, TLS and request options for the Elasticsearch output.
 *
 * Owned by one output instance and touched only by its thread (setup/test build their own on
 * the main thread). Secrets: the password goes to curl through CURLOPT_PASSWORD and the API
 * key into a header list; neither is ever formatted into a log line or an error. Host URLs
 * are shown only through lf_mask_url(), which drops user:password@.
 */
#include "outputs/es_http.h"

#include "agent/base/clock.h"
#include "agent/base/log.h"
#include "agent/base/secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct curl_slist *add_hdr(struct curl_slist *l, const char *h, int *bad)
{
    struct curl_slist *n = curl_slist_append(l, h);
    if (!n)
        *bad = 1;
    return n ? n : l;
}

int es_http_init(struct es_http *h, const struct es_conf *conf, char *err, size_t errsz)
{
    memset(h, 0, sizeof *h);
    h->conf = conf;
    if (conf->hosts.n < 1) {
        snprintf(err, errsz, "no hosts configured");
        return -1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errsz, "curl_global_init failed");
        return -1;
    }
    h->hosts = calloc((size_t)(conf->hosts.n ? conf->hosts.n : 1), sizeof *h->hosts);
    if (!h->hosts)
        goto oom;
    for (int i = 0; i < conf->hosts.n; i++) {
        const char *u = conf->hosts.v[i];
        size_t n = strlen(u);
        while (n > 0 && u[n - 1] == '/')
            n--;
        struct es_host *hs = &h->hosts[h->nhosts];
        static const char bulk[] = "/_bulk?filter_path=errors,items.*.error,items.*.status";
        /* a host URL may hold user:password@: kept out of core dumps (secret.h) */
        hs->base = lf_secret_strndup(u, n);
        hs->bulk_url = lf_secret_alloc(n + sizeof bulk);
        if (!hs->base || !hs->bulk_url) {
            lf_secret_free(hs->base);
            lf_secret_free(hs->bulk_url);
            goto oom;
        }
        memcpy(hs->bulk_url, u, n);
        memcpy(hs->bulk_url + n, bulk, sizeof bulk);
        lf_mask_url(hs->base, hs->shown, sizeof hs->shown);
        h->nhosts++;
    }
    if (conf->api_key) {
        static const char pfx[] = "Authorization: ApiKey ";
        size_t kl = strlen(conf->api_key);
        h->auth_header = lf_secret_alloc(sizeof pfx + kl);
        if (!h->auth_header)
            goto oom;
        memcpy(h->auth_header, pfx, sizeof pfx - 1);
        memcpy(h->auth_header + sizeof pfx - 1, conf->api_key, kl + 1);
    }
    int bad = 0;
    struct curl_slist **lists[3] = {&h->hdr_bulk, &h->hdr_bulk_gz, &h->hdr_json};
    for (int i = 0; i < 3; i++) {
        struct curl_slist *l = NULL;
        l = add_hdr(l, i < 2 ? "Content-Type: application/x-ndjson" : "Content-Type: application/json", &bad);
        l = add_hdr(l, "Expect:", &bad); /* no 100-continue round trip on big bodies */
        if (i == 1)
            l = add_hdr(l, "Content-Encoding: gzip", &bad);
        if (h->auth_header && l) {
            /* our own last node pointing at the non-dumped key: curl_slist_append would
             * have copied it to the heap (curl only reads the list) */
            struct curl_slist *t = l;
            while (t->next)
                t = t->next;
            h->auth_node[i].data = h->auth_header;
            h->auth_node[i].next = NULL;
            t->next = &h->auth_node[i];
        }
        *lists[i] = l;
    }
    if (bad)
        goto oom;
    return 0;
oom:
    snprintf(err, errsz, "out of memory");
    es_http_free(h);
    return -1;
}

void es_http_free(struct es_http *h)
{
    for (int i = 0; i < h->nhosts; i++) {
        lf_secret_free(h->hosts[i].base);
        lf_secret_free(h->hosts[i].bulk_url);
    }
    free(h->hosts);
    struct curl_slist *lists[3] = {h->hdr_bulk, h->hdr_bulk_gz, h->hdr_json};
    for (int i = 0; i < 3; i++) {
        for (struct curl_slist *l = lists[i]; l; l = l->next)
            if (l->next == &h->auth_node[i])
                l->next = NULL; /* ours, not curl's to free */
        curl_slist_free_all(lists[i]);
    }
    lf_secret_free(h->auth_header); /* wiped */
    memset(h, 0, sizeof *h);
}

int es_http_pick(struct es_http *h, int64_t now)
{
    int best = 0;
    for (int k = 0; k < h->nhosts; k++) {
        int i = (h->rr + k) % h->nhosts;
        if (h->hosts[i].down_until <= now) {
            h->rr = (i + 1) % h->nhosts;
            return i;
        }
        if (h->hosts[i].down_until < h->hosts[best].down_until)
            best = i;
    }
    return best;
}

void es_http_host_failed(struct es_http *h, int i, int64_t now)
{
    struct es_host *hs = &h->hosts[i];
    if (hs->fails < 5)
        hs->fails++;
    hs->down_until = now + (500L << hs->fails); /* 1s .. 16s */
}

void es_http_host_ok(struct es_http *h, int i)
{
    h->hosts[i].fails = 0;
    h->hosts[i].down_until = 0;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    struct buf *b = ud;
    size_t n = sz * nm;
    if (buf_add(b, p, n) != 0)
        return 0; /* over the cap: curl fails the transfer (CURLE_WRITE_ERROR) */
    return n;
}

void es_http_prepare(struct es_http *h, CURL *e, const char *url, const char *method,
                     const char *body, size_t len, struct curl_slist *hdr, struct buf *resp)
{
    const struct es_conf *c = h->conf;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
    if (c->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
    if (c->username) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, c->username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, c->password);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
    /* Only gzip is asked for (libcurl would otherwise offer and decode every encoding it
     * has); the caller's write callback caps what the decoded answer may grow to. */
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    if (body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, strcmp(method, "POST") == 0 ||
                                                       strcmp(method, "GET") == 0
                                                   ? NULL
                                                   : method);
}

int es_http_sync(struct es_http *h, const char *method, const char *path, const char *body,
                 size_t len, long *status, struct buf *resp, char *err, size_t errsz)
{
    CURL *e = curl_easy_init();
    if (!e) {
        snprintf(err, errsz, "curl_easy_init failed");
        return -1;
    }
    char cerr[CURL_ERROR_SIZE];
    int rc = -1;
    for (int i = 0; i < h->nhosts; i++) {
        struct buf url;
        buf_init(&url, 0);
        if (buf_printf(&url, "%s%s", h->hosts[i].base, path) != 0 || buf_cstr(&url) != 0) {
            lf_secret_wipe(url.p, url.cap);
            buf_free(&url);
            snprintf(err, errsz, "out of memory");
            break;
        }
        buf_reset(resp);
        cerr[0] = '\0';
        es_http_prepare(h, e, url.p, method, body, len, h->hdr_json, resp);
        /* the CLI (setup, test-output) does not ignore SIGPIPE as the agent does: let curl
         * do it around the transfer (a TLS write to a closed socket would kill us) */
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 0L);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, cerr);
        CURLcode cc = curl_easy_perform(e);
        lf_secret_wipe(url.p, url.cap); /* base may hold user:password@ */
        buf_free(&url);
        if (cc == CURLE_OK) {
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
            rc = 0;
            break;
        }
        /* curl's message may contain the URL; it never contains the password (which is
         * not in the URL unless the user wrote it there, hence we show only `shown`) */
        snprintf(err, errsz, "%s: %s", h->hosts[i].shown, curl_easy_strerror(cc));
    }
    curl_easy_cleanup(e);
    return rc;
}
