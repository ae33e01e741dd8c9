/*
 * test_parser_util.h - shared scaffolding of the parser/multiline/time unit tests: builds a
 * lineproc from an agent.conf text exactly as the core does (fkey_init_builtin, parsers_configure,
 * lineproc_new, fkey_freeze), feeds lines, and collects what out() produced: each event built
 * through batch_add() and its JSON parsed back with jansson, or a "filtered" mark.
 * Single-threaded test code.
 */
#ifndef TEST_PARSER_UTIL_H
#define TEST_PARSER_UTIL_H

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/base/clock.h"
#include "agent/base/config.h"
#include "agent/base/event.h"
#include "parsers/lineproc.h"
#include "parsers/parser.h"

#define TP_MAX 4096

struct tp_rec {
    int filtered;
    uint64_t offset, end;
    unsigned flags;
    json_t *j; /* parsed event JSON */
    char *json;
};

struct tp {
    struct conf *conf;
    struct conf_errs errs;
    struct lineproc *lp;
    struct lineproc_state *st;
    struct event_builder eb;
    struct event_source src;
    struct event_base base;
    struct event_batch *batch;
    struct tp_rec rec[TP_MAX];
    int n;
    int64_t now;
};

/* The path of the file the next tp_open() reads (container inputs take fields from it). */
static const char *tp_file_path = "/var/log/test.log";

/* The fake monotonic clock multiline deadlines read (tests move it by hand). */
static int64_t tp_clock_now;
static int64_t tp_clock(void)
{
    return tp_clock_now;
}

__attribute__((unused)) static int tp_out(void *ctx, struct event_builder *eb, const char *rec, size_t len,
                  uint64_t offset, uint64_t end)
{
    struct tp *t = ctx;
    if (t->n >= TP_MAX)
        return -1;
    struct tp_rec *r = &t->rec[t->n++];
    memset(r, 0, sizeof *r);
    r->offset = offset;
    r->end = end;
    if (!eb) {
        r->filtered = 1;
        return 0;
    }
    r->flags = eb->flags;
    if (t->batch->n == t->batch->cap) {
        batch_free(t->batch);
        t->batch = batch_new(&t->src, "testhost", 64);
    }
    if (batch_add(t->batch, &t->base, eb, rec, len, offset, end, 1000) != 0)
        return -1;
    const struct event *ev = &t->batch->ev[t->batch->n - 1];
    r->json = strndup(ev->json, ev->json_len);
    json_error_t err;
    r->j = json_loadb(ev->json, ev->json_len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!r->j) {
        fprintf(stderr, "invalid JSON from batch_add: %s\n%.*s", err.text, (int)ev->json_len,
                ev->json);
        return -1;
    }
    return 0;
}

/* Returns 0 and a ready struct tp, or -1 printing the configuration errors. `input` names
 * the [input NAME] to build. */
static int tp_open(struct tp *t, const char *conftext, const char *input)
{
    memset(t, 0, sizeof *t);
    fkey_reset();
    fkey_init_builtin();
    t->conf = conf_load_string("test.conf", conftext, &t->errs);
    if (!t->conf)
        return -1;
    parsers_configure(t->conf, &t->errs);
    for (int i = 0; i < t->conf->n; i++)
        if (!strcmp(t->conf->s[i].type, "input") && !strcmp(t->conf->s[i].name, input)) {
            struct conf_section *s = &t->conf->s[i];
            t->lp = lineproc_new(t->conf, s, &t->errs);
            for (int k = 0; k < s->n; k++)
                if (!s->e[k].used && strcmp(s->e[k].key, "paths") != 0 &&
                    strcmp(s->e[k].key, "max_line_bytes") != 0)
                    conf_err(&t->errs, "test.conf", s->e[k].line, "unclaimed key %s",
                             s->e[k].key);
        }
    fkey_freeze();
    for (int i = 0; i < t->errs.n; i++)
        fprintf(stderr, "config error: %s\n", t->errs.msg[i]);
    if (t->errs.n || !t->lp)
        return -1;
    t->st = lineproc_state_new(t->lp, tp_file_path);
    eb_init(&t->eb);
    t->src.input = input;
    t->src.path = tp_file_path;
    t->base.host_name = "testhost";
    t->base.path = tp_file_path;
    t->batch = batch_new(&t->src, "testhost", 64);
    t->now = 1000000;
    tp_clock_now = t->now;
    clock_set_for_test(tp_clock, NULL);
    return t->st && t->batch ? 0 : -1;
}

/* Collects config errors only (for tests of bad configurations). Returns the error count;
 * the messages stay in t->errs. */
__attribute__((unused)) static int tp_conf_errors(struct tp *t, const char *conftext, const char *input)
{
    memset(t, 0, sizeof *t);
    fkey_reset();
    fkey_init_builtin();
    t->conf = conf_load_string("test.conf", conftext, &t->errs);
    parsers_configure(t->conf, &t->errs);
    for (int i = 0; i < t->conf->n; i++)
        if (!strcmp(t->conf->s[i].type, "input") && !strcmp(t->conf->s[i].name, input))
            t->lp = lineproc_new(t->conf, &t->conf->s[i], &t->errs);
    for (int i = 0; i < t->conf->n; i++) /* as agent_conf.c does */
        if (!strcmp(t->conf->s[i].type, "parser"))
            conf_report_unused(t->conf, &t->conf->s[i], &t->errs);
    return t->errs.n;
}

__attribute__((unused)) static int tp_has_error(const struct tp *t, const char *needle)
{
    for (int i = 0; i < t->errs.n; i++)
        if (strstr(t->errs.msg[i], needle))
            return 1;
    return 0;
}

static void tp_close(struct tp *t)
{
    for (int i = 0; i < t->n; i++) {
        json_decref(t->rec[i].j);
        free(t->rec[i].json);
    }
    if (t->st)
        lineproc_state_free(t->st);
    lineproc_free(t->lp);
    parsers_free();
    if (t->batch)
        batch_free(t->batch);
    eb_free(&t->eb);
    conf_free(t->conf);
    conf_errs_free(&t->errs);
    fkey_reset();
}

/* A [parser p] made of `parser_lines` must be refused with an error containing `err`, on
 * its line (test.conf:2). */
__attribute__((unused)) static void tp_expect_parser_error(const char *parser_lines,
                                                           const char *err)
{
    char conf[1024];
    snprintf(conf, sizeof conf, "[parser p]\n%s\n[input in]\nparser = p\n", parser_lines);
    struct tp t;
    assert_true(tp_conf_errors(&t, conf, "in") > 0);
    if (!tp_has_error(&t, err)) {
        for (int k = 0; k < t.errs.n; k++)
            fprintf(stderr, "  got: %s\n", t.errs.msg[k]);
        fail_msg("no error containing \"%s\"", err);
    }
    assert_true(tp_has_error(&t, "test.conf:2: "));
    tp_close(&t);
}

/* Feeds one line at the running file offset (line + '\n'). */
static uint64_t tp_off;
__attribute__((unused)) static int tp_feed(struct tp *t, const char *line)
{
    size_t n = strlen(line);
    uint64_t off = tp_off;
    tp_off += n + 1;
    tp_clock_now = t->now;
    return lineproc_feed(t->lp, t->st, &t->eb, line, n, off, tp_off, 0, t->now, tp_out, t);
}

__attribute__((unused)) static int tp_flush(struct tp *t)
{
    return lineproc_flush(t->lp, t->st, &t->eb, tp_out, t);
}

/* Value at a dotted path of a nested JSON object (NULL if absent). */
static json_t *tp_path(json_t *o, const char *dotted)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", dotted);
    json_t *cur = o;
    char *save = NULL;
    for (char *c = strtok_r(buf, ".", &save); c && cur; c = strtok_r(NULL, ".", &save)) {
        json_t *next = json_object_get(cur, c);
        /* a scalar that is also a prefix is written as {"value": x, ...} */
        cur = next;
    }
    if (cur && json_is_object(cur) && json_object_get(cur, "value"))
        cur = json_object_get(cur, "value");
    return cur;
}

__attribute__((unused)) static const char *tp_str(const struct tp *t, int i, const char *path)
{
    json_t *v = tp_path(t->rec[i].j, path);
    return v && json_is_string(v) ? json_string_value(v) : NULL;
}

__attribute__((unused)) static long long tp_int(const struct tp *t, int i, const char *path)
{
    json_t *v = tp_path(t->rec[i].j, path);
    return v && json_is_integer(v) ? (long long)json_integer_value(v) : -999999;
}

__attribute__((unused)) static int tp_failed(const struct tp *t, int i)
{
    json_t *tags = tp_path(t->rec[i].j, "tags");
    if (!tags || !json_is_array(tags))
        return 0;
    for (size_t k = 0; k < json_array_size(tags); k++)
        if (json_is_string(json_array_get(tags, k)) &&
            !strcmp(json_string_value(json_array_get(tags, k)), "parse_failure"))
            return 1;
    return 0;
}

static char *tp_read_all(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *d = malloc(1 << 20);
    if (!d) {
        fclose(fp);
        return NULL;
    }
    *n = fread(d, 1, (1 << 20) - 1, fp);
    d[*n] = '\0';
    fclose(fp);
    return d;
}

/* The fixtures live in the repository (tests/data/, each folder with its SOURCE.md), so the
 * suite runs on a clone with nothing beside it. */
static const char *tp_data_dir(char *buf, size_t sz)
{
    const char *src = getenv("LOGFERRY_SOURCE_DIR");
    snprintf(buf, sz, "%s/tests/data", src && *src ? src : LOGFERRY_SOURCE_DIR);
    return buf;
}

/* Feeds tests/data/SET/NAME through the [input INPUT] of conftext exactly as the tail would
 * (the byte offsets of each line), flushes, and compares the events with
 * SET/NAME-expected.ndjson: one object per event in order, every key a dotted field that
 * must be equal, `null` a field that must be absent, "tags" compared whole (no "tags": the
 * event must have none, so no parse_failure). Fails the test
 * on the first difference; returns the number of fields compared. */
__attribute__((unused)) static int tp_check_fixture(const char *conftext, const char *input,
                                                     const char *set, const char *name)
{
    char dir[512], path[1024];
    tp_data_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/%s/%s", dir, set, name);
    size_t n = 0;
    char *log = tp_read_all(path, &n);
    if (!log)
        fail_msg("cannot read %s", path);
    snprintf(path, sizeof path, "%s/%s/%s-expected.ndjson", dir, set, name);
    size_t en;
    char *exp = tp_read_all(path, &en);
    assert_non_null(exp);

    struct tp t;
    assert_int_equal(tp_open(&t, conftext, input), 0);
    uint64_t off = 0;
    for (char *p = log; p < log + n;) {
        char *nl = memchr(p, '\n', (size_t)(log + n - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(log + n - p);
        uint64_t end = off + l + (nl ? 1 : 0);
        size_t ll = l && p[l - 1] == '\r' ? l - 1 : l; /* as tail.c's feed() */
        assert_int_equal(lineproc_feed(t.lp, t.st, &t.eb, p, ll, off, end, 0, 1, tp_out, &t), 0);
        off = end;
        p += l + 1;
    }
    assert_int_equal(tp_flush(&t), 0);
    int line = 0, checked = 0;
    for (char *p = exp; *p; line++) {
        char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        json_error_t err;
        json_t *e = json_loadb(p, l, 0, &err);
        if (!e)
            fail_msg("%s-expected.ndjson line %d: %s", name, line + 1, err.text);
        if (line >= t.n)
            fail_msg("%s: %d events, the expectation has more", name, t.n);
        assert_false(t.rec[line].filtered);
        if (!json_object_get(e, "tags") && json_object_get(t.rec[line].j, "tags"))
            fail_msg("%s/%s event %d: tagged, none expected\n%s", set, name, line + 1,
                     t.rec[line].json);
        const char *key;
        json_t *want;
        json_object_foreach(e, key, want) {
            json_t *got = !strcmp(key, "tags") ? json_object_get(t.rec[line].j, "tags")
                                               : tp_path(t.rec[line].j, key);
            int ok = json_is_null(want) ? got == NULL : got && json_equal(got, want);
            if (!ok) {
                char *ws = json_dumps(want, JSON_ENCODE_ANY);
                char *gs = got ? json_dumps(got, JSON_ENCODE_ANY) : strdup("(absent)");
                fail_msg("%s/%s event %d field %s: want %s got %s\n%s", set, name, line + 1, key,
                         ws, gs, t.rec[line].json);
            }
            checked++;
        }
        json_decref(e);
        p += l + (nl ? 1 : 0);
    }
    if (line != t.n)
        fail_msg("%s/%s: %d events, %d expected", set, name, t.n, line);
    tp_close(&t);
    free(log);
    free(exp);
    return checked;
}

#endif
