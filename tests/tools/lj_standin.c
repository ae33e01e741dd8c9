/*
 * lj_standin.c - a Lumberjack v2 server stand-in (Logstash's beats input, as elastic/go-lumber
 * documents the protocol) for the Logstash output's tests and benchmark.
 *
 * Protocol (big-endian integers, every frame starting with the version byte '2'): the client
 * announces a window with '2' 'W' <count>, then sends `count` events as '2' 'J' <seq> <len>
 * <JSON> frames numbered 1..count, or wrapped in one '2' 'C' <len> <zlib stream> frame. We
 * answer '2' 'A' <seq>: the first seq events are processed. Anything else is a protocol
 * error: logged on stderr with the connection's number, and the connection is closed.
 *
 * Behaviours a test asks for (Logstash does each of them):
 *   --ack halves       while "working" on a window: a keep-alive ACK 0, then ACK half the
 *                      window, repeat it (Logstash repeats its last ACK as a keep-alive
 *                      while its pipeline is busy), then ACK all of it
 *   --drop-every N     every Nth window: process and ACK its first half, then close the
 *                      connection (a crash mid-window); the rest must come again
 *   --stall-after N    after N windows (0: from the start), read everything but never ACK
 *                      again (a hung server)
 *   --delay-ms N       wait N ms before processing each window (a busy pipeline)
 *   --tls-cert/--tls-key F   TLS; --tls-client-ca F also demands a client certificate (mTLS)
 * Events of ACKed windows are appended to --store (one JSON line each) before the ACK is
 * sent, so the store holds exactly what the server confirmed (plus, after a kill -9 between
 * the two, what it processed without confirming). --stats F gets counters after each window.
 *
 * Threads: the main thread accepts; one detached thread per connection. The store and the
 * counters are shared under one mutex.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_WINDOW 1000000u
#define MAX_FRAME (256u << 20)

static struct {
    int halves;
    long drop_every, stall_after, delay_ms;
    const char *store, *stats;
    SSL_CTX *ctx;
} opt;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static FILE *store_f;
static unsigned long long n_windows, n_events, n_conns, n_drops, n_errors, n_compressed;

struct conn {
    int fd;
    SSL *ssl;
    unsigned long id;
    /* buffered reads */
    unsigned char in[65536];
    size_t ilen, ipos;
};

static int raw_read(struct conn *c, void *p, size_t n)
{
    if (c->ssl) {
        int r = SSL_read(c->ssl, p, (int)n);
        return r > 0 ? r : -1;
    }
    ssize_t r;
    do
        r = recv(c->fd, p, n, 0);
    while (r < 0 && errno == EINTR);
    return r > 0 ? (int)r : -1;
}

static int read_full(struct conn *c, void *p, size_t n)
{
    unsigned char *d = p;
    while (n > 0) {
        if (c->ipos == c->ilen) {
            int r = raw_read(c, c->in, sizeof c->in);
            if (r <= 0)
                return -1;
            c->ilen = (size_t)r;
            c->ipos = 0;
        }
        size_t k = c->ilen - c->ipos < n ? c->ilen - c->ipos : n;
        memcpy(d, c->in + c->ipos, k);
        c->ipos += k;
        d += k;
        n -= k;
    }
    return 0;
}

static int write_full(struct conn *c, const void *p, size_t n)
{
    if (c->ssl)
        return SSL_write(c->ssl, p, (int)n) == (int)n ? 0 : -1;
    const char *s = p;
    while (n > 0) {
        ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static uint32_t u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int send_ack(struct conn *c, uint32_t seq)
{
    unsigned char f[6] = {'2', 'A', (unsigned char)(seq >> 24), (unsigned char)(seq >> 16),
                          (unsigned char)(seq >> 8), (unsigned char)seq};
    return write_full(c, f, sizeof f);
}

/* One event: offsets into the window's event bytes. */
struct ev {
    size_t off, len;
};

struct window {
    unsigned char *data; /* JSON payloads, back to back */
    size_t len, cap;
    struct ev *ev;
    uint32_t n, cap_ev;
};

static int win_add(struct window *w, const unsigned char *p, size_t n)
{
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 65536;
        while (cap < w->len + n)
            cap *= 2;
        unsigned char *d = realloc(w->data, cap);
        if (!d)
            return -1;
        w->data = d;
        w->cap = cap;
    }
    if (w->n == w->cap_ev) {
        uint32_t cap = w->cap_ev ? w->cap_ev * 2 : 1024;
        struct ev *e = realloc(w->ev, cap * sizeof *e);
        if (!e)
            return -1;
        w->ev = e;
        w->cap_ev = cap;
    }
    memcpy(w->data + w->len, p, n);
    w->ev[w->n++] = (struct ev){w->len, n};
    w->len += n;
    return 0;
}

/* Parses J frames from mem[0..n) into w; every frame's seq must be the next one. */
static int parse_j(struct conn *c, const unsigned char *m, size_t n, struct window *w,
                   uint32_t count)
{
    size_t i = 0;
    while (i < n) {
        if (n - i < 10 || m[i] != '2' || m[i + 1] != 'J') {
            fprintf(stderr, "lj_standin: conn %lu: bad frame inside a compressed frame\n", c->id);
            return -1;
        }
        uint32_t seq = u32(m + i + 2), len = u32(m + i + 6);
        if (seq != w->n + 1 || seq > count || len > n - i - 10) {
            fprintf(stderr, "lj_standin: conn %lu: J frame seq %u len %u (expected seq %u)\n",
                    c->id, seq, len, w->n + 1);
            return -1;
        }
        if (win_add(w, m + i + 10, len) != 0)
            return -1;
        i += 10 + len;
    }
    return 0;
}

static int inflate_all(const unsigned char *in, size_t n, unsigned char **out, size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK)
        return -1;
    size_t cap = n * 4 + 4096, len = 0;
    unsigned char *o = malloc(cap);
    int rc = Z_OK;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    while (o && rc != Z_STREAM_END) {
        if (len == cap) {
            if (cap >= MAX_FRAME * 4u)
                break;
            unsigned char *p = realloc(o, cap * 2);
            if (!p)
                break;
            o = p;
            cap *= 2;
        }
        z.next_out = o + len;
        z.avail_out = (uInt)(cap - len);
        rc = inflate(&z, Z_NO_FLUSH);
        len = cap - z.avail_out;
        if (rc != Z_OK && rc != Z_STREAM_END)
            break;
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(o);
        return -1;
    }
    *out = o;
    *outlen = len;
    return 0;
}

static void write_stats_locked(void)
{
    if (!opt.stats)
        return;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", opt.stats);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    fprintf(f, "{\"windows\":%llu,\"events\":%llu,\"conns\":%llu,\"drops\":%llu,"
            "\"errors\":%llu,\"compressed\":%llu}\n", n_windows, n_events, n_conns, n_drops,
            n_errors, n_compressed);
    fclose(f);
    rename(tmp, opt.stats);
}

/* Appends events [a, b) of w to the store and counts them. */
static void process(struct window *w, uint32_t a, uint32_t b)
{
    pthread_mutex_lock(&mu);
    if (store_f) {
        for (uint32_t i = a; i < b; i++) {
            fwrite(w->data + w->ev[i].off, 1, w->ev[i].len, store_f);
            fputc('\n', store_f);
        }
        fflush(store_f);
    }
    n_events += b - a;
    pthread_mutex_unlock(&mu);
}

static void *serve(void *arg)
{
    struct conn *c = arg;
    struct window w;
    memset(&w, 0, sizeof w);
    unsigned char *frame = NULL;
    if (opt.ctx) {
        c->ssl = SSL_new(opt.ctx);
        SSL_set_fd(c->ssl, c->fd);
        if (SSL_accept(c->ssl) != 1) {
            unsigned long e = ERR_get_error();
            fprintf(stderr, "lj_standin: conn %lu: TLS handshake failed: %s\n", c->id,
                    e ? ERR_reason_error_string(e) : "closed");
            goto out;
        }
    }
    for (;;) {
        unsigned char h[6];
        if (read_full(c, h, 6) != 0)
            break;
        if (h[0] != '2' || h[1] != 'W' || u32(h + 2) == 0 || u32(h + 2) > MAX_WINDOW) {
            fprintf(stderr, "lj_standin: conn %lu: expected a window frame, got 0x%02x 0x%02x\n",
                    c->id, h[0], h[1]);
            pthread_mutex_lock(&mu);
            n_errors++;
            pthread_mutex_unlock(&mu);
            break;
        }
        uint32_t count = u32(h + 2);
        w.n = 0;
        w.len = 0;
        int bad = 0;
        while (w.n < count && !bad) {
            unsigned char fh[2];
            if (read_full(c, fh, 2) != 0) {
                bad = 2;
                break;
            }
            if (fh[0] == '2' && fh[1] == 'J') {
                unsigned char sl[8];
                if (read_full(c, sl, 8) != 0) {
                    bad = 2;
                    break;
                }
                uint32_t seq = u32(sl), len = u32(sl + 4);
                if (seq != w.n + 1 || len > MAX_FRAME) {
                    fprintf(stderr, "lj_standin: conn %lu: J frame seq %u (expected %u) len %u\n",
                            c->id, seq, w.n + 1, len);
                    bad = 1;
                    break;
                }
                unsigned char *p = realloc(frame, len ? len : 1);
                if (!p || read_full(c, p, len) != 0) {
                    frame = p ? p : frame;
                    bad = 2;
                    break;
                }
                frame = p;
                if (win_add(&w, frame, len) != 0)
                    bad = 1;
            } else if (fh[0] == '2' && fh[1] == 'C') {
                unsigned char l4[4];
                if (read_full(c, l4, 4) != 0) {
                    bad = 2;
                    break;
                }
                uint32_t len = u32(l4);
                unsigned char *p = len <= MAX_FRAME ? realloc(frame, len ? len : 1) : NULL;
                if (!p || read_full(c, p, len) != 0) {
                    frame = p ? p : frame;
                    bad = 2;
                    break;
                }
                frame = p;
                unsigned char *plain;
                size_t plen;
                if (inflate_all(frame, len, &plain, &plen) != 0) {
                    fprintf(stderr, "lj_standin: conn %lu: bad zlib stream\n", c->id);
                    bad = 1;
                    break;
                }
                if (parse_j(c, plain, plen, &w, count) != 0)
                    bad = 1;
                free(plain);
                pthread_mutex_lock(&mu);
                n_compressed++;
                pthread_mutex_unlock(&mu);
            } else {
                fprintf(stderr, "lj_standin: conn %lu: unknown frame 0x%02x 0x%02x\n", c->id,
                        fh[0], fh[1]);
                bad = 1;
            }
        }
        if (bad) {
            if (bad == 1) {
                pthread_mutex_lock(&mu);
                n_errors++;
                pthread_mutex_unlock(&mu);
            }
            break;
        }
        pthread_mutex_lock(&mu);
        unsigned long long wn = ++n_windows;
        write_stats_locked();
        pthread_mutex_unlock(&mu);
        if (opt.stall_after >= 0 && wn > (unsigned long long)opt.stall_after)
            continue; /* hung: read on, confirm nothing */
        if (opt.drop_every > 0 && wn % (unsigned long long)opt.drop_every == 0) {
            uint32_t half = count / 2;
            process(&w, 0, half);
            if (half)
                send_ack(c, half);
            pthread_mutex_lock(&mu);
            n_drops++;
            write_stats_locked();
            pthread_mutex_unlock(&mu);
            break;
        }
        if (opt.delay_ms > 0)
            nanosleep(&(struct timespec){opt.delay_ms / 1000, opt.delay_ms % 1000 * 1000000L},
                      NULL);
        int err = 0;
        if (opt.halves && count >= 2) {
            err |= send_ack(c, 0); /* keep-alive before any progress */
            process(&w, 0, count / 2);
            err |= send_ack(c, count / 2);
            err |= send_ack(c, count / 2); /* keep-alive repeat */
            process(&w, count / 2, count);
            err |= send_ack(c, count);
        } else {
            process(&w, 0, count);
            err |= send_ack(c, count);
        }
        pthread_mutex_lock(&mu);
        write_stats_locked();
        pthread_mutex_unlock(&mu);
        if (err)
            break;
    }
out:
    if (c->ssl)
        SSL_free(c->ssl);
    close(c->fd);
    free(frame);
    free(w.data);
    free(w.ev);
    free(c);
    return NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: lj_standin [--port N] [--port-file F] [--store F] [--stats F]\n"
            "  [--ack whole|halves] [--drop-every N] [--stall-after N] [--delay-ms N]\n"
            "  [--tls-cert F --tls-key F [--tls-client-ca F]]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int port = 0;
    opt.stall_after = -1;
    const char *port_file = NULL, *cert = NULL, *key = NULL, *client_ca = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        if (!strcmp(a, "--port"))
            port = atoi(v);
        else if (!strcmp(a, "--port-file"))
            port_file = v;
        else if (!strcmp(a, "--store"))
            opt.store = v;
        else if (!strcmp(a, "--stats"))
            opt.stats = v;
        else if (!strcmp(a, "--ack"))
            opt.halves = !strcmp(v, "halves");
        else if (!strcmp(a, "--drop-every"))
            opt.drop_every = atol(v);
        else if (!strcmp(a, "--stall-after"))
            opt.stall_after = atol(v);
        else if (!strcmp(a, "--delay-ms"))
            opt.delay_ms = atol(v);
        else if (!strcmp(a, "--tls-cert"))
            cert = v;
        else if (!strcmp(a, "--tls-key"))
            key = v;
        else if (!strcmp(a, "--tls-client-ca"))
            client_ca = v;
        else
            usage();
        i++;
    }
    signal(SIGPIPE, SIG_IGN);
    if (cert) {
        opt.ctx = SSL_CTX_new(TLS_server_method());
        SSL_CTX_set_min_proto_version(opt.ctx, TLS1_2_VERSION);
        if (SSL_CTX_use_certificate_chain_file(opt.ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(opt.ctx, key, SSL_FILETYPE_PEM) != 1) {
            fprintf(stderr, "lj_standin: cannot load %s / %s\n", cert, key);
            return 1;
        }
        if (client_ca) {
            if (SSL_CTX_load_verify_locations(opt.ctx, client_ca, NULL) != 1) {
                fprintf(stderr, "lj_standin: cannot load %s\n", client_ca);
                return 1;
            }
            SSL_CTX_set_verify(opt.ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                               NULL);
        }
    }
    if (opt.store && !(store_f = fopen(opt.store, "a"))) {
        perror(opt.store);
        return 1;
    }
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 64) != 0) {
        perror("lj_standin: bind");
        return 1;
    }
    socklen_t sl = sizeof sa;
    getsockname(ls, (struct sockaddr *)&sa, &sl);
    pthread_mutex_lock(&mu);
    write_stats_locked();
    pthread_mutex_unlock(&mu);
    if (port_file) {
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (!f)
            return 1;
        fprintf(f, "%d\n", ntohs(sa.sin_port));
        fclose(f);
        rename(tmp, port_file);
    }
    unsigned long id = 0;
    for (;;) {
        int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            perror("lj_standin: accept");
            return 1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->id = ++id;
        pthread_mutex_lock(&mu);
        n_conns++;
        write_stats_locked();
        pthread_mutex_unlock(&mu);
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &at, serve, c) != 0) {
            close(fd);
            free(c);
        }
        pthread_attr_destroy(&at);
    }
}
