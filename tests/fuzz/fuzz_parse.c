/*
 * fuzz_parse.c - libFuzzer target for the line path: container decoding and rejoining
 * (format = docker | cri | auto), multiline joining, filters, every
 * built-in parser and a custom [parser] with types and a time field, then batch_add()'s JSON
 * writer. Every event produced must be valid JSON (checked with jansson) and nothing may
 * crash, leak or read out of bounds (ASan/UBSan).
 *
 * Input: the first byte picks the input (and so the parser and multiline mode); the rest is
 * split on '\n' into lines fed with growing offsets; a line starting with \x01 advances the
 * clock past the multiline timeout. Build: cmake -DLOGFERRY_FUZZ=ON -DCMAKE_C_COMPILER=clang.
 * Run:   build-fuzz/fuzz_parse -max_total_time=300 tests/fuzz/corpus-parse
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "agent/base/clock.h"
#include "agent/base/config.h"
#include "agent/base/event.h"
#include "parsers/lineproc.h"
#include "parsers/parser.h"

static const char CONF[] =
    "[parser kv]\n"
    "pattern = ^(?<ts>\\S+) (?<lvl>\\w+) n=(?<n>\\S*) f=(?<f>\\S*) b=(?<b>\\S*)(?<rest>.*)$\n"
    "types = n:int f:float b:bool\n"
    "rename = lvl:log.level n:http.response.status_code rest:log.message\n"
    "time_field = ts\n"
    "time_format = %Y-%m-%dT%H:%M:%S%z\n"
    "[input nginx]\nparser = nginx_combined\n"
    "[input apache]\nparser = apache_common\n"
    "[input spring]\nparser = spring_boot\nmultiline = java\nmultiline.max_lines = 20\n"
    "[input json]\nparser = json\n"
    "[input kv]\nparser = kv\nmultiline.pattern = ^\\s\nmultiline.max_bytes = 2KiB\n"
    "timezone = Europe/Berlin\n"
    "[input before]\nmultiline.pattern = \\\\$\nmultiline.match = before\n"
    "include_lines = a, b{1,2}\nexclude_lines = zz\n"
    "[input jsonml]\nparser = json\nmultiline.pattern = ^[}\\]]\nmultiline.negate = true\n"
    "multiline.match = before\n"
    "[input docker]\nformat = docker\nparser = spring_boot\nmultiline = java\n"
    "max_line_bytes = 300\n"
    "[input cri]\nformat = cri\nparser = nginx_combined\nmax_line_bytes = 200\n"
    "[input auto]\nformat = auto\nmultiline = java\nmultiline.max_bytes = 1KiB\n"
    "[parser xff]\nnginx_log_format = '\"$http_x_forwarded_for\" $remote_addr - [$time_local] "
    "\"$request\" $status'\n"
    "[input xff]\nparser = xff\n"
    "[parser nj]\nnginx_log_format = escape=json '{\"t\":\"$time_iso8601\",\"a\":\"$remote_addr\","
    "\"x\":\"$http_x_forwarded_for\",\"r\":\"$request\",\"s\":$status,\"rt\":$request_time}'\n"
    "[input nj]\nparser = nj\n";

static const char *const INPUTS[] = {"nginx", "apache", "spring", "json", "kv", "before",
                                     "jsonml", "docker", "cri", "auto", "xff", "nj"};
#define NINPUTS (sizeof INPUTS / sizeof INPUTS[0])

static struct lineproc *lps[NINPUTS];
static struct event_builder eb;
static struct event_source src = {.input = "fuzz", .path = "/var/log/fuzz.log"};
static struct event_base base; /* event_base_init: as the agent builds it */

/* LOGFERRY_FUZZ_STRICT=1 also rejects duplicate keys (Elasticsearch refuses them); off by
 * default until agent/base/event.c orders keys so that "a.b-x" ('-' < '.') cannot split the
 * members of "a.b.*" (seed regress_dotted_key_order shows it). */
static size_t strict;
static int64_t fake_now;
static int64_t fake_clock(void)
{
    return fake_now;
}

struct ctx {
    struct event_batch *b;
    uint64_t last_end;
};

static int out(void *vc, struct event_builder *e, const char *rec, size_t len, uint64_t off,
               uint64_t end)
{
    struct ctx *c = vc;
    if (off > end || end < c->last_end)
        abort(); /* ranges must move forward */
    c->last_end = end;
    if (!e)
        return 0;
    if (c->b->n == c->b->cap) {
        batch_free(c->b);
        c->b = batch_new(&src, "fuzzhost", 16);
    }
    if (batch_add(c->b, &base, e, rec, len, off, end, 1) != 0)
        return 0;
    const struct event *ev = &c->b->ev[c->b->n - 1];
    json_error_t err;
    json_t *j = json_loadb(ev->json, ev->json_len, JSON_ALLOW_NUL | strict, &err);
    if (!j || !json_is_object(j)) {
        fprintf(stderr, "invalid JSON (%s): %.*s\n", err.text, (int)ev->json_len, ev->json);
        abort();
    }
    json_decref(j);
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct conf_errs errs = {0};
    fkey_init_builtin();
    struct conf *c = conf_load_string("fuzz.conf", CONF, &errs);
    parsers_configure(c, &errs);
    for (size_t i = 0; i < NINPUTS; i++)
        for (int s = 0; s < c->n; s++)
            if (!strcmp(c->s[s].type, "input") && !strcmp(c->s[s].name, INPUTS[i]))
                lps[i] = lineproc_new(c, &c->s[s], &errs);
    fkey_freeze();
    for (int i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.msg[i]);
    if (errs.n)
        abort();
    conf_errs_free(&errs);
    /* lineprocs keep no pointer into the conf */
    conf_free(c);
    eb_init(&eb);
    event_base_init(&base, "fuzzhost", "/var/log/fuzz.log", NULL, 0);
    clock_set_for_test(fake_clock, NULL);
    const char *st = getenv("LOGFERRY_FUZZ_STRICT");
    strict = st && *st == '1' ? JSON_REJECT_DUPLICATES : 0;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct lineproc *lp = lps[data[0] % NINPUTS];
    /* a Kubernetes link name: container inputs add their kubernetes.* and container.* */
    struct lineproc_state *st = lineproc_state_new(
        lp, "/var/log/containers/web-1_prod_nginx-"
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log");
    struct ctx c = {batch_new(&src, "fuzzhost", 16), 0};
    if (!st || !c.b)
        abort();
    const char *p = (const char *)data + 1, *e = (const char *)data + size;
    uint64_t off = 0;
    int64_t now = 1000;
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(e - p);
        if (l && p[0] == '\x01')
            now += 5000;
        uint64_t end = off + l + (nl ? 1 : 0);
        unsigned fl = (l && p[0] == '\x02') ? LINE_TRUNCATED : 0;
        fake_now = now;
        lineproc_feed(lp, st, &eb, p, l, off, end, fl, now, out, &c);
        off = end;
        p += l + (nl ? 1 : 0);
        now += 1;
    }
    lineproc_flush(lp, st, &eb, out, &c);
    if (lineproc_pending_offset(st) != UINT64_MAX || lineproc_deadline(st) != 0)
        abort();
    lineproc_state_free(st);
    batch_free(c.b);
    return 0;
}
