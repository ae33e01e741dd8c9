/*
 * bulk_sink.c - a _bulk endpoint that only counts and acknowledges, for bench/es.sh.
 *
 *   bulk_sink [-p PORT] [-f PORTFILE]
 *
 * Listens on 127.0.0.1, one thread per connection, HTTP/1.1 keep-alive. Every POST is read
 * whole (Content-Length), its documents counted (newlines / 2: action + source pairs; gzip
 * bodies are inflated first when built with zlib, LOGFERRY_HAVE_ZLIB) and answered {"errors":false,"items":[]}, which
 * is what logferry's fast path needs. GET /_sink/stats answers {"docs":N,"requests":N,
 * "bytes":N}. Costs a few hundred ns per document, so the benchmark measures the shipper.
 * Not a model of Elasticsearch (that is es_standin.py): no item statuses, no auth, no limits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef LOGFERRY_HAVE_ZLIB
#include <zlib.h>

/* Newlines in a gzip body, inflated through a small window (nothing kept). */
static unsigned long long gz_newlines(const char *p, size_t n)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return 0;
    zs.next_in = (Bytef *)p;
    zs.avail_in = (uInt)n;
    unsigned long long nl = 0;
    char out[65536];
    int rc;
    do {
        zs.next_out = (Bytef *)out;
        zs.avail_out = sizeof out;
        rc = inflate(&zs, Z_NO_FLUSH);
        size_t got = sizeof out - zs.avail_out;
        for (const char *q = out; (q = memchr(q, '\n', (size_t)(out + got - q))); q++)
            nl++;
    } while (rc == Z_OK);
    inflateEnd(&zs);
    return nl;
}
#else
static unsigned long long gz_newlines(const char *p, size_t n)
{
    (void)p;
    (void)n;
    return 0; /* cannot happen: logferry refuses compression = gzip without zlib */
}
#endif

static atomic_ullong docs, requests, bytes;

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void reply(int fd, const char *body)
{
    char hdr[256];
    int n = snprintf(hdr, sizeof hdr, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "X-elastic-product: Elasticsearch\r\nContent-Length: %zu\r\n\r\n",
                     strlen(body));
    if (send_all(fd, hdr, (size_t)n) == 0)
        send_all(fd, body, strlen(body));
}

static void *conn_main(void *arg)
{
    int fd = (int)(intptr_t)arg;
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return NULL;
    }
    for (;;) {
        /* read until the end of the headers */
        char *eoh = NULL;
        while (!(eoh = len ? memmem(buf, len, "\r\n\r\n", 4) : NULL)) {
            if (len == cap)
                goto done; /* absurd headers */
            ssize_t r = recv(fd, buf + len, cap - len, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                goto done;
            len += (size_t)r;
        }
        size_t hlen = (size_t)(eoh - buf) + 4;
        size_t clen = 0;
        int gz = 0, get = strncmp(buf, "GET ", 4) == 0;
        for (char *p = buf; p < eoh; p++) {
            if (*p != '\n')
                continue;
            if (strncasecmp(p + 1, "content-length:", 15) == 0)
                clen = strtoull(p + 16, NULL, 10);
            else if (strncasecmp(p + 1, "content-encoding:", 17) == 0 &&
                     strstr(p + 18, "gzip") && strstr(p + 18, "gzip") < eoh)
                gz = 1;
        }
        if (hlen + clen > cap) {
            size_t nc = cap;
            while (nc < hlen + clen)
                nc *= 2;
            char *nb = realloc(buf, nc);
            if (!nb)
                goto done;
            buf = nb;
            cap = nc;
        }
        while (len < hlen + clen) {
            ssize_t r = recv(fd, buf + len, cap - len, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                goto done;
            len += (size_t)r;
        }
        if (get) {
            char body[160];
            snprintf(body, sizeof body, "{\"docs\":%llu,\"requests\":%llu,\"bytes\":%llu}",
                     (unsigned long long)atomic_load(&docs),
                     (unsigned long long)atomic_load(&requests),
                     (unsigned long long)atomic_load(&bytes));
            reply(fd, body);
        } else {
            unsigned long long nl = 0;
            if (gz) {
                nl = gz_newlines(buf + hlen, clen);
            } else {
                const char *p = buf + hlen, *end = buf + hlen + clen;
                while ((p = memchr(p, '\n', (size_t)(end - p)))) {
                    nl++;
                    p++;
                }
            }
            atomic_fetch_add(&docs, nl / 2);
            atomic_fetch_add(&requests, 1);
            atomic_fetch_add(&bytes, clen);
            reply(fd, "{\"took\":0,\"errors\":false,\"items\":[]}");
        }
        memmove(buf, buf + hlen + clen, len - hlen - clen);
        len -= hlen + clen;
    }
done:
    free(buf);
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    int port = 0;
    const char *portfile = NULL;
    int c;
    while ((c = getopt(argc, argv, "p:f:")) != -1) {
        if (c == 'p')
            port = atoi(optarg);
        else if (c == 'f')
            portfile = optarg;
        else {
            fprintf(stderr, "usage: bulk_sink [-p PORT] [-f PORTFILE]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 64) != 0) {
        perror("bulk_sink: bind/listen");
        return 1;
    }
    socklen_t sl = sizeof sa;
    getsockname(ls, (struct sockaddr *)&sa, &sl);
    if (portfile) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", portfile);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%d\n", ntohs(sa.sin_port)) < 0 || fclose(f) != 0 ||
            rename(tmp, portfile) != 0) {
            perror("bulk_sink: port file");
            return 1;
        }
    } else {
        printf("%d\n", ntohs(sa.sin_port));
        fflush(stdout);
    }
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            perror("bulk_sink: accept");
            return 1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t t;
        if (pthread_create(&t, NULL, conn_main, (void *)(intptr_t)fd) != 0) {
            close(fd);
            continue;
        }
        pthread_detach(t);
    }
}
