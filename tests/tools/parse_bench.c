/*
 * parse_bench.c - micro benchmark of the parser path: N generated lines through
 * lineproc_feed() + batch_add() (the tail thread's whole per-line work minus the read), in
 * batches of 2048 events freed as the pipeline would. Prints ns/line and lines/s, and the
 * same for the raw path (no parser) for comparison.
 *
 *   parse_bench [-n LINES] [-p PARSER] [-r ROUNDS] [-x]   PARSER: nginx_combined (default),
 *                                         spring_boot, json, raw; -x: lineproc only, no batch_add
 *                                         (-b -p nginx_xff / nginx_json generate the lines of
 *                                         bench/nginx_layouts.conf's layouts)
 *   parse_bench -f FILE [-p PARSER] ...   the lines of FILE instead of generated ones (the
 *                                         generator repeats a few paths and agents, which
 *                                         flatters branch prediction; bench/run.sh's input
 *                                         does not)
 *   parse_bench -f FILE -F docker|cri ... a container input (format = ...) around the parser
 *   parse_bench ... -M                   with multiline = java
 *   parse_bench -c agent.conf -i INPUT < lines       prints the events as JSON (a debug aid;
 *                                                      `logferry parse` is the real tool)
 *   parse_bench -b -c agent.conf -i INPUT [-p GEN|-f FILE] ...   measures that input's
 *                                         parser (e.g. a layout against a hand-written
 *                                         pattern) on GEN's generated lines or FILE's
 *
 * Single-threaded; CPU time is measured with CLOCK_PROCESS_CPUTIME_ID and wall time with
 * CLOCK_MONOTONIC.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/base/config.h"
#include "agent/base/event.h"
#include "parsers/lineproc.h"

struct ctx {
    struct event_batch *b;
    struct event_source src;
    struct event_base base;
    unsigned long long events, bytes;
    int print;
    int parse_only;
};

static int out(void *vc, struct event_builder *eb, const char *rec, size_t len, uint64_t off,
               uint64_t end)
{
    struct ctx *c = vc;
    if (!eb)
        return 0;
    if (c->parse_only) {
        c->events++;
        return 0;
    }
    if (c->b->n == c->b->cap) {
        batch_free(c->b);
        c->b = batch_new(&c->src, "benchhost", 2048);
        if (!c->b)
            return -1;
    }
    if (batch_add(c->b, &c->base, eb, rec, len, off, end, 1764000000000) != 0)
        return -1;
    const struct event *ev = &c->b->ev[c->b->n - 1];
    c->events++;
    c->bytes += ev->json_len;
    if (c->print)
        fwrite(ev->json, 1, ev->json_len, stdout);
    return 0;
}

static double now(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *gen(const char *parser, long n, size_t *outlen)
{
    static const char *paths[] = {"/", "/api/v1/orders?id=42", "/static/app.js",
                                  "/health", "/api/v1/users/7/cart?x=1&y=2"};
    static const char *uas[] = {
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
        "Safari/537.36",
        "curl/8.4.0", "Go-http-client/1.1"};
    static const int status[] = {200, 200, 200, 304, 404, 502};
    static const char *xffs[] = {"\"203.0.113.7\"", "\"-\"", "\"198.51.100.2, 10.0.0.1\"",
                                 "\"10.1.2.3, 192.168.0.9, 203.0.113.200\""};
    size_t cap = (size_t)n * 320 + 1024, len = 0;
    char *d = malloc(cap);
    if (!d)
        return NULL;
    for (long i = 0; i < n; i++) {
        long sec = i / 1000; /* ~1000 lines per second of log time */
        int w;
        if (!strcmp(parser, "spring_boot"))
            w = snprintf(d + len, cap - len,
                         "2026-11-26 12:%02ld:%02ld.%03ld  INFO 4242 --- [nio-8080-exec-%ld] "
                         "c.e.d.OrderController                  : order %ld placed by user %ld\n",
                         sec / 60 % 60, sec % 60, i % 1000, i % 10, i, i % 977);
        else if (!strcmp(parser, "json"))
            w = snprintf(d + len, cap - len,
                         "{\"@timestamp\":\"2026-11-26T12:%02ld:%02ld.%03ld+09:00\",\"level\":"
                         "\"INFO\",\"logger_name\":\"c.e.Orders\",\"thread_name\":\"http-%ld\","
                         "\"message\":\"order %ld placed\",\"mdc\":{\"user\":%ld}}\n",
                         sec / 60 % 60, sec % 60, i % 1000, i % 10, i, i % 977);
        else if (!strcmp(parser, "nginx_json")) /* bench/nginx_layouts.conf's escape=json */
            w = snprintf(d + len, cap - len,
                         "{\"time_local\":\"26/Nov/2026:12:%02ld:%02ld +0900\",\"remote_addr\":"
                         "\"10.%ld.%ld.%ld\",\"remote_user\":\"\",\"request\":\"GET %s HTTP/1.1\","
                         "\"status\":\"%d\",\"body_bytes_sent\":\"%ld\",\"http_referer\":\"\","
                         "\"http_user_agent\":\"%s\"}\n",
                         sec / 60 % 60, sec % 60, i % 200, i / 7 % 250, i % 13, paths[i % 5],
                         status[i % 6], 100 + i % 5000, uas[i % 3]);
        else /* nginx_combined; nginx_xff adds nginx's "main" "$http_x_forwarded_for" */
            w = snprintf(d + len, cap - len,
                         "10.%ld.%ld.%ld - - [26/Nov/2026:12:%02ld:%02ld +0900] \"GET %s "
                         "HTTP/1.1\" %d %ld \"-\" \"%s\"%s%s\n",
                         i % 200, i / 7 % 250, i % 13, sec / 60 % 60, sec % 60, paths[i % 5],
                         status[i % 6], 100 + i % 5000, uas[i % 3],
                         strcmp(parser, "nginx_xff") ? "" : " ",
                         strcmp(parser, "nginx_xff") ? ""
                         : xffs[i % 4]);
        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
    }
    *outlen = len;
    return d;
}

static int parse_only;

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        perror(path);
        return NULL;
    }
    size_t cap = 1 << 20;
    char *d = malloc(cap);
    size_t n;
    while (d && (n = fread(d + *len, 1, cap - *len, fp)) > 0) {
        *len += n;
        if (*len == cap) {
            char *nd = realloc(d, cap *= 2);
            if (!nd)
                free(d);
            d = nd;
        }
    }
    fclose(fp);
    return d;
}

static int run(const char *conftext, const char *input, const char *data, size_t len,
               int print, double *wall, double *cpu, unsigned long long *events,
               unsigned long long *lines)
{
    struct conf_errs errs = {0};
    fkey_reset();
    fkey_init_builtin();
    struct conf *c = conf_load_string("bench.conf", conftext, &errs);
    if (!c)
        return -1;
    parsers_configure(c, &errs);
    struct lineproc *lp = NULL;
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->s[i].type, "input") && !strcmp(c->s[i].name, input))
            lp = lineproc_new(c, &c->s[i], &errs);
    fkey_freeze();
    if (errs.n || !lp) {
        for (int i = 0; i < errs.n; i++)
            fprintf(stderr, "%s\n", errs.msg[i]);
        if (!lp)
            fprintf(stderr, "no [input %s]\n", input);
        return -1;
    }
    struct lineproc_state *st = lineproc_state_new(lp, NULL);
    struct event_builder eb;
    eb_init(&eb);
    struct ctx cx = {0};
    cx.src.input = input;
    cx.src.path = "/var/log/nginx/access.log";
    event_base_init(&cx.base, "benchhost", cx.src.path, NULL, 0);
    cx.print = print;
    cx.parse_only = parse_only;
    cx.b = batch_new(&cx.src, "benchhost", 2048);
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    uint64_t off = 0;
    unsigned long long nl = 0;
    for (const char *p = data; p < data + len;) {
        const char *e = memchr(p, '\n', (size_t)(data + len - p));
        size_t l = e ? (size_t)(e - p) : (size_t)(data + len - p);
        uint64_t end = off + l + (e ? 1 : 0);
        if (lineproc_feed(lp, st, &eb, p, l, off, end, 0, 1, out, &cx) != 0) {
            fprintf(stderr, "feed failed at offset %llu\n", (unsigned long long)off);
            break;
        }
        nl++;
        off = end;
        p += l + 1;
    }
    lineproc_flush(lp, st, &eb, out, &cx);
    *wall = now(CLOCK_MONOTONIC) - w0;
    *cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    *events = cx.events;
    *lines = nl;
    batch_free(cx.b);
    eb_free(&eb);
    lineproc_state_free(st);
    lineproc_free(lp);
    parsers_free();
    conf_free(c);
    conf_errs_free(&errs);
    fkey_reset();
    return 0;
}

int main(int argc, char **argv)
{
    long n = 1000000;
    int rounds = 3;
    const char *parser = "nginx_combined", *conffile = NULL, *input = NULL, *file = NULL;
    const char *format = NULL;
    int opt, ml = 0, bench_conf = 0;
    while ((opt = getopt(argc, argv, "n:p:r:c:i:f:F:Mxb")) != -1) {
        switch (opt) {
        case 'n': n = atol(optarg); break;
        case 'p': parser = optarg; break;
        case 'r': rounds = atoi(optarg); break;
        case 'c': conffile = optarg; break;
        case 'i': input = optarg; break;
        case 'x': parse_only = 1; break;
        case 'f': file = optarg; break;
        case 'F': format = optarg; break;
        case 'M': ml = 1; break;
        case 'b': bench_conf = 1; break;
        default:
            fprintf(stderr, "usage: parse_bench [-n LINES] [-p PARSER] [-r ROUNDS] | -c CONF -i "
                            "INPUT < lines\n");
            return 2;
        }
    }
    double wall, cpu;
    unsigned long long ev, nl;
    static char conf[1 << 16];
    if (conffile) {
        FILE *fp = fopen(conffile, "r");
        if (!fp || !input) {
            fprintf(stderr, "need a readable -c CONF and -i INPUT\n");
            return 2;
        }
        size_t cl = fread(conf, 1, sizeof conf - 1, fp);
        conf[cl] = '\0';
        fclose(fp);
    }
    if (conffile && !bench_conf) {
        static char data[1 << 24];
        size_t dl = fread(data, 1, sizeof data, stdin);
        return run(conf, input, data, dl, 1, &wall, &cpu, &ev, &nl) ? 1 : 0;
    }
    size_t len = 0;
    char *data = file ? slurp(file, &len) : gen(parser, n, &len);
    if (!data)
        return 1;
    if (!bench_conf) {
        snprintf(conf, sizeof conf, "[input bench]\n%s%s\n%s%s\n%s",
                 strcmp(parser, "raw") ? "parser = " : "", strcmp(parser, "raw") ? parser : "",
                 format ? "format = " : "", format ? format : "", ml ? "multiline = java\n" : "");
        input = "bench";
    } else if (!input) {
        fprintf(stderr, "-b needs -c CONF -i INPUT\n");
        return 2;
    }
    for (int r = 0; r < rounds; r++) {
        if (run(conf, input, data, len, 0, &wall, &cpu, &ev, &nl) != 0)
            return 1;
        printf("%-14s %llu lines -> %llu events: %.0f ns/line wall, %.0f ns/line cpu, "
               "%.2f M lines/s, %.3f CPU-s per million\n",
               bench_conf ? input : parser, nl, ev, wall * 1e9 / (double)nl, cpu * 1e9 / (double)nl,
               (double)nl / wall / 1e6, cpu * 1e6 / (double)nl);
    }
    free(data);
    return 0;
}
