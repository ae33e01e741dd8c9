/*
 * logstash_conn.c - one connection to a Logstash beats input: host:port parsing, a
 * non-blocking TCP connect bounded by a timeout, TLS through OpenSSL (TLS 1.2+, the CA
 * bundle, the client certificate, certificate and host-name verification), and reads and
 * writes that never block past a deadline.
 *
 * Runs on the Logstash output's thread, and on the CLI's thread for check() (lj_tls_ctx)
 * and test-output. The socket is non-blocking so that every wait is a poll() with a bound:
 * the output thread must notice its shutdown deadline (env->giving_up) and a server that
 * stops answering. Error sentences name the host and the reason (OpenSSL's verification
 * result: "certificate has expired", "hostname mismatch", ...), never key material.
 */
#include "agent/base/clock.h"
#include "outputs/logstash.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int lj_host_parse(const char *s, struct lj_host *h, char *err, size_t errsz)
{
    memset(h, 0, sizeof *h);
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof h->name) {
        snprintf(err, errsz, "'%.64s': not a host[:port]", s);
        return -1;
    }
    memcpy(h->name, s, n + 1);
    const char *port = NULL;
    size_t hl;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || (close[1] && close[1] != ':')) {
            snprintf(err, errsz, "'%s': an IPv6 address is written [addr]:port", s);
            return -1;
        }
        hl = (size_t)(close - s - 1);
        memcpy(h->host, s + 1, hl);
        port = close[1] ? close + 2 : NULL;
    } else {
        const char *colon = strchr(s, ':');
        if (colon && strchr(colon + 1, ':')) {
            snprintf(err, errsz, "'%s': an IPv6 address is written [addr]:port", s);
            return -1;
        }
        hl = colon ? (size_t)(colon - s) : n;
        memcpy(h->host, s, hl);
        port = colon ? colon + 1 : NULL;
    }
    h->host[hl] = '\0';
    if (hl == 0) {
        snprintf(err, errsz, "'%s': the host name is empty", s);
        return -1;
    }
    if (!port) {
        snprintf(h->port, sizeof h->port, "%d", LJ_DEFAULT_PORT);
        return 0;
    }
    char *end;
    long p = strtol(port, &end, 10);
    if (!*port || *end || p < 1 || p > 65535) {
        snprintf(err, errsz, "'%s': the port must be 1 to 65535", s);
        return -1;
    }
    snprintf(h->port, sizeof h->port, "%ld", p);
    return 0;
}

/* The first error OpenSSL queued, as text. */
static const char *ossl_reason(void)
{
    unsigned long e = ERR_get_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return r ? r : "unknown OpenSSL error";
}

SSL_CTX *lj_tls_ctx(const struct lj_conf *lc, char *err, size_t errsz)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(err, errsz, "TLS: %s", ossl_reason());
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (lc->ca_file && *lc->ca_file &&
        SSL_CTX_load_verify_locations(ctx, lc->ca_file, NULL) != 1) {
        snprintf(err, errsz, "ca_file %s: %s", lc->ca_file, ossl_reason());
        goto fail;
    }
    if (lc->cert_file && *lc->cert_file) {
        if (SSL_CTX_use_certificate_chain_file(ctx, lc->cert_file) != 1) {
            snprintf(err, errsz, "cert_file %s: %s", lc->cert_file, ossl_reason());
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, lc->key_file, SSL_FILETYPE_PEM) != 1) {
            snprintf(err, errsz, "key_file %s: %s", lc->key_file, ossl_reason());
            goto fail;
        }
        if (SSL_CTX_check_private_key(ctx) != 1) {
            snprintf(err, errsz, "key_file %s does not match cert_file %s", lc->key_file,
                     lc->cert_file);
            ERR_clear_error();
            goto fail;
        }
    }
    SSL_CTX_set_verify(ctx, lj_verify_mode(lc) == LJ_VERIFY_NONE ? SSL_VERIFY_NONE
                                                                  : SSL_VERIFY_PEER, NULL);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* Waits until fd is ready for `ev` or the deadline passes. 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short ev, int64_t deadline_ms)
{
    for (;;) {
        int64_t left = deadline_ms - mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {fd, ev, 0};
        int r = poll(&p, 1, (int)(left > 1000000 ? 1000000 : left));
        if (r > 0)
            return 1;
        if (r == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

static int tcp_connect(const struct lj_host *h, int64_t deadline, char *err, size_t errsz)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(h->host, h->port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errsz, "%s: cannot resolve %s: %s", h->name, h->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    snprintf(err, errsz, "%s: no address", h->name);
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            snprintf(err, errsz, "%s: socket: %s", h->name, strerror(errno));
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS) {
            int w = wait_fd(fd, POLLOUT, deadline);
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (w == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
                break;
            snprintf(err, errsz, "%s: connect: %s", h->name,
                     w == 0 ? "timed out" : strerror(soerr ? soerr : errno));
        } else {
            snprintf(err, errsz, "%s: connect: %s", h->name, strerror(errno));
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    }
    return fd;
}

static int tls_handshake(struct lj_conn *c, const struct lj_host *h, SSL_CTX *ctx,
                         enum lj_verify v, int64_t deadline, char *err, size_t errsz)
{
    c->ssl = SSL_new(ctx);
    if (!c->ssl) {
        snprintf(err, errsz, "%s: TLS: %s", h->name, ossl_reason());
        return -1;
    }
    SSL_set_fd(c->ssl, c->fd);
    struct in6_addr a6;
    int is_ip = inet_pton(AF_INET, h->host, &a6) == 1 || inet_pton(AF_INET6, h->host, &a6) == 1;
    if (!is_ip)
        SSL_set_tlsext_host_name(c->ssl, h->host);
    if (v == LJ_VERIFY_FULL) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
        if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, h->host) != 1
                  : SSL_set1_host(c->ssl, h->host) != 1) {
            snprintf(err, errsz, "%s: TLS: cannot set the name to verify", h->name);
            return -1;
        }
    }
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(c->ssl);
        if (r == 1)
            return 0;
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            int w = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
            if (w == 1)
                continue;
            snprintf(err, errsz, "%s: TLS handshake %s", h->name,
                     w == 0 ? "timed out" : "failed");
            return -1;
        }
        long vr = SSL_get_verify_result(c->ssl);
        if (vr != X509_V_OK)
            snprintf(err, errsz, "%s: TLS: the server's certificate is refused: %s", h->name,
                     X509_verify_cert_error_string(vr));
        else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN)
            snprintf(err, errsz, "%s: TLS handshake: the server closed the connection (does "
                     "it want a client certificate, or speak TLS at all?)", h->name);
        else
            snprintf(err, errsz, "%s: TLS handshake: %s", h->name, ossl_reason());
        return -1;
    }
}

int lj_conn_open(struct lj_conn *c, const struct lj_host *h, SSL_CTX *ctx, enum lj_verify v,
                 long timeout_ms, char *err, size_t errsz)
{
    memset(c, 0, sizeof *c);
    int64_t deadline = mono_ms() + timeout_ms;
    c->fd = tcp_connect(h, deadline, err, errsz);
    if (c->fd < 0)
        return -1;
    if (ctx && tls_handshake(c, h, ctx, v, deadline, err, errsz) != 0) {
        lj_conn_close(c);
        return -1;
    }
    return 0;
}

void lj_conn_close(struct lj_conn *c)
{
    if (c->ssl) {
        SSL_free(c->ssl); /* no close_notify: the peer may be gone, and we never wait */
        c->ssl = NULL;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->rlen = 0;
}

int lj_conn_write(struct lj_conn *c, const void *p, size_t n, int64_t deadline_ms, char *err,
                  size_t errsz)
{
    const char *s = p;
    while (n > 0) {
        short want = POLLOUT;
        ssize_t w;
        if (c->ssl) {
            ERR_clear_error();
            int chunk = n > (1u << 30) ? (1 << 30) : (int)n;
            int r = SSL_write(c->ssl, s, chunk);
            if (r > 0) {
                w = r;
            } else {
                int e = SSL_get_error(c->ssl, r);
                if (e == SSL_ERROR_WANT_READ)
                    want = POLLIN;
                else if (e != SSL_ERROR_WANT_WRITE) {
                    snprintf(err, errsz, "TLS write: %s",
                             e == SSL_ERROR_SYSCALL ? strerror(errno) : ossl_reason());
                    return -1;
                }
                w = 0;
            }
        } else {
            w = send(c->fd, s, n, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK) {
                    snprintf(err, errsz, "write: %s", strerror(errno));
                    return -1;
                }
                w = 0;
            }
        }
        s += w;
        n -= (size_t)w;
        if (n > 0 && w == 0) {
            int r = wait_fd(c->fd, want, deadline_ms);
            if (r <= 0) {
                snprintf(err, errsz, "write: %s", r == 0 ? "timed out (the server reads "
                         "nothing)" : strerror(errno));
                return -1;
            }
        }
    }
    return 0;
}

int lj_conn_read_ack(struct lj_conn *c, long wait_ms, uint32_t *seq, char *err, size_t errsz)
{
    int64_t deadline = mono_ms() + wait_ms;
    for (;;) {
        /* One ACK per call, in the order they came: with windows pipelined, each ACK belongs
         * to the oldest window not yet complete, so none may be skipped. */
        int nacks;
        long used = lj_parse_acks(c->rbuf, c->rlen < 6 ? c->rlen : 6, seq, &nacks, err, errsz);
        if (used < 0)
            return -1;
        if (nacks) {
            memmove(c->rbuf, c->rbuf + used, c->rlen - (size_t)used);
            c->rlen -= (size_t)used;
            return 1;
        }
        ssize_t r;
        short want = POLLIN;
        if (c->ssl) {
            ERR_clear_error();
            int n = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(sizeof c->rbuf - c->rlen));
            if (n > 0) {
                r = n;
            } else {
                int e = SSL_get_error(c->ssl, n);
                if (e == SSL_ERROR_WANT_WRITE)
                    want = POLLOUT;
                else if (e != SSL_ERROR_WANT_READ) {
                    if (e == SSL_ERROR_SSL)
                        snprintf(err, errsz, "TLS: %s", ossl_reason());
                    else
                        snprintf(err, errsz, "%s", e == SSL_ERROR_ZERO_RETURN ||
                                 (e == SSL_ERROR_SYSCALL && errno == 0)
                                 ? "the server closed the connection" : "TLS read failed");
                    return -1;
                }
                r = -1;
                errno = EAGAIN;
            }
        } else {
            r = recv(c->fd, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen, 0);
            if (r == 0) {
                snprintf(err, errsz, "the server closed the connection");
                return -1;
            }
        }
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                snprintf(err, errsz, "read: %s", strerror(errno));
                return -1;
            }
            int w = wait_fd(c->fd, want, deadline);
            if (w < 0) {
                snprintf(err, errsz, "poll: %s", strerror(errno));
                return -1;
            }
            if (w == 0)
                return 0;
            continue;
        }
        c->rlen += (size_t)r; /* parsed at the top: ACKs that came with a close count first */
    }
}
