/*
 * http_request.h - an HTTP request line ("GET /a?b HTTP/1.1") cut into ECS parts: method,
 * url.original (url.path, url.query), http.version. Shared by the built-in access parsers
 * (access.c) and nginx JSON layouts (nginx_json.c); inline because it is on the hot path of
 * nginx_combined. Pure: any thread.
 */
#ifndef LF_HTTP_REQUEST_H
#define LF_HTTP_REQUEST_H

#include <stddef.h>
#include <string.h>

struct http_span {
    const char *s;
    size_t n;
};

struct http_request {
    struct http_span method, url, path, query, version;
};

/* "GET /a?b HTTP/1.1" -> method, url (path, query), version. */
static inline void http_request_split(const char *s, size_t n, struct http_request *r)
{
    memset(r, 0, sizeof *r);
    if (n == 0 || (n == 1 && s[0] == '-'))
        return; /* "-": nginx had no request line (400, 408) */
    const char *sp = memchr(s, ' ', n);
    if (!sp) {
        r->url = (struct http_span){s, n}; /* not a request line: keep it as the URL, like grok */
    } else {
        size_t mlen = (size_t)(sp - s);
        const char *u = sp + 1;
        size_t ulen = n - mlen - 1;
        /* version: the last " HTTP/x" */
        for (size_t i = ulen; i >= 6; i--) {
            if (u[i - 6] == ' ' && !memcmp(u + i - 5, "HTTP/", 5)) {
                if (ulen > i)
                    r->version = (struct http_span){u + i, ulen - i};
                ulen = i - 6;
                break;
            }
        }
        r->method = (struct http_span){s, mlen};
        r->url = (struct http_span){u, ulen};
    }
    if (r->url.n) {
        const char *q = memchr(r->url.s, '?', r->url.n);
        size_t plen = q ? (size_t)(q - r->url.s) : r->url.n;
        if (plen)
            r->path = (struct http_span){r->url.s, plen};
        if (q && r->url.n - plen > 1)
            r->query = (struct http_span){q + 1, r->url.n - plen - 1};
    }
}

#endif
