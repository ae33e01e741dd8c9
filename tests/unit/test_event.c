/*
 * test_event.c - event serialization (agent/base/event.c): the JSON line batch_add() writes for
 * each event. Every line is parsed back with jansson with JSON_REJECT_DUPLICATES, so a key
 * written twice in one object (which Elasticsearch rejects) fails the test.
 * Covers: base ECS fields, dotted keys nested, keys sorted, a scalar that is also an object
 * prefix written as {"value":...}, duplicate keys, static fields, flags (log.flags, tags),
 * run-time (dynamic) keys, the batch cap, event_get().
 *
 * floor: base
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/base/event.h"

static struct event_source src = {.input = "app", .path = "/var/log/app.log"};
static struct event_builder eb;
static const struct fkey *K[16];
enum { K_STATUS, K_METHOD, K_URLPATH, K_USER, K_USERNAME, K_A, K_AB, K_ABC, K_ADASH, K_SVC,
       K_ENV, K_LVL, K_AX, K_NK };
static const char *knames[] = {"http.response.status_code", "http.request.method", "url.path",
                               "user", "user.name", "a", "a.b", "a.b.c", "a-c", "service.name",
                               "labels.env", "log.level", "a.x"};

static int setup(void **s)
{
    (void)s;
    fkey_init_builtin();
    for (int i = 0; i < K_NK; i++)
        K[i] = fkey_intern(knames[i]);
    fkey_freeze();
    eb_init(&eb);
    return 0;
}

static int teardown(void **s)
{
    (void)s;
    eb_free(&eb);
    fkey_reset();
    return 0;
}

static struct event_base base0 = {.host_name = "web-1", .path = "/var/log/app.log"};

/* Builds one event from eb with `base`, returns the parsed JSON (and its text). */
static json_t *build(const struct event_base *base, const char *msg, uint64_t off, char **text)
{
    struct event_batch *b = batch_new(&src, base->host_name, 4);
    assert_non_null(b);
    assert_int_equal(batch_add(b, base, &eb, msg, strlen(msg), off, off + strlen(msg) + 1,
                               1795669749325LL), 0);
    assert_int_equal(b->n, 1);
    const struct event *ev = &b->ev[0];
    assert_true(ev->json_len > 2);
    assert_int_equal(ev->json[ev->json_len - 1], '\n');
    assert_null(memchr(ev->json, '\n', ev->json_len - 1)); /* one line */
    json_error_t err;
    json_t *v = json_loadb(ev->json, ev->json_len, JSON_REJECT_DUPLICATES, &err);
    if (!v)
        fail_msg("invalid event JSON (%s): %.*s", err.text, (int)ev->json_len, ev->json);
    if (text) {
        *text = strndup(ev->json, ev->json_len);
    }
    batch_free(b);
    return v;
}

/* json_path("a.b.c") */
static json_t *json_path_impl(json_t *v, const char *p)
{
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", p);
    char *save = NULL;
    for (char *t = strtok_r(tmp, ".", &save); t && v; t = strtok_r(NULL, ".", &save))
        v = json_object_get(v, t);
    return v;
}
#define json_path json_path_impl

static const char *sget(json_t *root, const char *path)
{
    json_t *v = json_path(root, path);
    return v ? json_string_value(v) : NULL;
}


static void base_fields_are_ecs_and_nested(void **s)
{
    (void)s;
    eb_reset(&eb);
    char *text;
    json_t *v = build(&base0, "GET / 200", 1234, &text);
    assert_string_equal(sget(v, "@timestamp"), "2026-11-26T05:09:09.325Z");
    assert_string_equal(sget(v, "message"), "GET / 200");
    assert_string_equal(sget(v, "host.name"), "web-1");
    assert_string_equal(sget(v, "log.file.path"), "/var/log/app.log");
    assert_int_equal(json_integer_value(json_path(v, "log.offset")), 1234);
    assert_null(json_path(v, "log.flags"));
    assert_null(json_object_get(v, "tags"));
    /* keys in sorted order in the text */
    const char *order[] = {"\"@timestamp\"", "\"host\"", "\"log\"", "\"message\""};
    const char *prev = text;
    for (int i = 0; i < 4; i++) {
        const char *p = strstr(text, order[i]);
        assert_non_null(p);
        assert_true(p >= prev);
        prev = p;
    }
    free(text);
    json_decref(v);
}

static void parser_timestamp_wins_over_read_time(void **s)
{
    (void)s;
    eb_reset(&eb);
    eb.ts_ms = 86400000LL + 1;
    json_t *v = build(&base0, "x", 0, NULL);
    assert_string_equal(sget(v, "@timestamp"), "1970-01-02T00:00:00.001Z");
    json_decref(v);
}

static void dotted_keys_nest_and_types_are_kept(void **s)
{
    (void)s;
    eb_reset(&eb);
    eb_add_str(&eb, K[K_URLPATH], "/a\"b", 4);
    eb_add_int(&eb, K[K_STATUS], 503);
    eb_add_str(&eb, K[K_METHOD], "GET", 3);
    eb_add_float(&eb, K[K_LVL], 0.25);
    char *text;
    json_t *v = build(&base0, "line", 0, &text);
    assert_int_equal(json_integer_value(json_path(v, "http.response.status_code")), 503);
    assert_string_equal(sget(v, "http.request.method"), "GET");
    assert_string_equal(sget(v, "url.path"), "/a\"b");
    assert_true(json_real_value(json_path(v, "log.level")) == 0.25);
    /* log.level shares the "log" object with the base fields: one "log" key */
    assert_string_equal(sget(v, "log.file.path"), "/var/log/app.log");
    /* http.request before http.response inside "http" */
    assert_true(strstr(text, "\"request\"") < strstr(text, "\"response\""));
    free(text);
    json_decref(v);
}

/* batch_add sorts only what the builder saw arrive out of order: an ordered event, then one
 * whose last key sorts first, through the same builder, both come out nested once. */
static void late_out_of_order_key_is_still_sorted(void **s)
{
    (void)s;
    for (int pass = 0; pass < 2; pass++) {
        eb_reset(&eb);
        eb_add_str(&eb, K[K_METHOD], "GET", 3);
        eb_add_int(&eb, K[K_STATUS], 200);
        eb_add_str(&eb, K[K_URLPATH], "/x", 2);
        if (pass == 1)
            eb_add_str(&eb, K[K_AB], "early", 5); /* "a.b" sorts before "http..." */
        char *text;
        json_t *v = build(&base0, "line", 0, &text); /* JSON_REJECT_DUPLICATES: one "http" */
        assert_int_equal(json_integer_value(json_path(v, "http.response.status_code")), 200);
        assert_string_equal(sget(v, "url.path"), "/x");
        if (pass == 1) {
            assert_string_equal(sget(v, "a.b"), "early");
            assert_true(strstr(text, "\"a\"") < strstr(text, "\"http\""));
        }
        free(text);
        json_decref(v);
    }
}

static void scalar_and_object_conflict_becomes_value(void **s)
{
    (void)s;
    eb_reset(&eb);
    eb_add_str(&eb, K[K_USERNAME], "alice", 5);
    eb_add_str(&eb, K[K_USER], "u1", 2);
    eb_add_int(&eb, K[K_ABC], 3);
    eb_add_int(&eb, K[K_A], 1);
    eb_add_int(&eb, K[K_AB], 2);
    eb_add_int(&eb, K[K_AX], 4);
    json_t *v = build(&base0, "m", 0, NULL);
    assert_string_equal(sget(v, "user.value"), "u1");
    assert_string_equal(sget(v, "user.name"), "alice");
    assert_int_equal(json_integer_value(json_path(v, "a.value")), 1);
    assert_int_equal(json_integer_value(json_path(v, "a.b.value")), 2);
    assert_int_equal(json_integer_value(json_path(v, "a.b.c")), 3);
    assert_int_equal(json_integer_value(json_path(v, "a.x")), 4);
    json_decref(v);
}

static void keys_sorting_between_dash_and_dot_do_not_duplicate(void **s)
{
    (void)s;
    /* "a-c" sorts between "a" and "a.b" in plain strcmp order ('-' < '.'): the nested writer
     * must still keep everything under one "a" object. */
    eb_reset(&eb);
    eb_add_int(&eb, K[K_A], 1);
    eb_add_int(&eb, K[K_ADASH], 2);
    eb_add_int(&eb, K[K_AB], 3);
    json_t *v = build(&base0, "m", 0, NULL); /* JSON_REJECT_DUPLICATES */
    assert_int_equal(json_integer_value(json_path(v, "a.value")), 1);
    assert_int_equal(json_integer_value(json_object_get(v, "a-c")), 2);
    assert_int_equal(json_integer_value(json_path(v, "a.b")), 3);
    json_decref(v);
    /* the same with run-time keys (JSON log lines) */
    eb_reset(&eb);
    eb_add_int(&eb, eb_dynkey(&eb, "t", 1), 1);
    eb_add_int(&eb, eb_dynkey(&eb, "t-x", 3), 2);
    eb_add_int(&eb, eb_dynkey(&eb, "t.y", 3), 3);
    eb_add_int(&eb, eb_dynkey(&eb, "t!z", 3), 4);
    v = build(&base0, "m", 0, NULL);
    assert_int_equal(json_integer_value(json_path(v, "t.value")), 1);
    assert_int_equal(json_integer_value(json_path(v, "t.y")), 3);
    assert_int_equal(json_integer_value(json_object_get(v, "t-x")), 2);
    assert_int_equal(json_integer_value(json_object_get(v, "t!z")), 4);
    json_decref(v);
}

static void duplicates_first_wins_and_base_fields_win(void **s)
{
    (void)s;
    eb_reset(&eb);
    eb_add_str(&eb, K[K_METHOD], "GET", 3);
    eb_add_str(&eb, K[K_METHOD], "POST", 4);
    eb_add_str(&eb, FK_MESSAGE, "forged", 6);                       /* a parser's "message" */
    eb_add_str(&eb, eb_dynkey(&eb, "host.name", 9), "forged", 6);  /* a JSON log's host.name */
    eb_add_str(&eb, eb_dynkey(&eb, "url.path", 8), "/dyn", 4);      /* dynamic == interned */
    eb_add_str(&eb, K[K_URLPATH], "/static", 7);
    json_t *v = build(&base0, "real", 0, NULL);
    assert_string_equal(sget(v, "http.request.method"), "GET");
    assert_string_equal(sget(v, "message"), "real");
    assert_string_equal(sget(v, "host.name"), "web-1");
    assert_non_null(sget(v, "url.path"));
    json_decref(v);
}

static void static_fields_nest_and_parser_fields_win(void **s)
{
    (void)s;
    struct field st[2] = {
        {K[K_SVC], FV_STR, 0, 4, {.s = "shop"}},
        {K[K_ENV], FV_STR, 0, 4, {.s = "prod"}},
    };
    struct event_base b = base0;
    b.static_fields = st;
    b.nstatic = 2;
    eb_reset(&eb);
    json_t *v = build(&b, "m", 0, NULL);
    assert_string_equal(sget(v, "service.name"), "shop");
    assert_string_equal(sget(v, "labels.env"), "prod");
    json_decref(v);
    eb_reset(&eb);
    eb_add_str(&eb, K[K_SVC], "from-parser", 11);
    v = build(&b, "m", 0, NULL);
    assert_string_equal(sget(v, "service.name"), "from-parser");
    json_decref(v);
}

static void flags_become_log_flags_and_tags(void **s)
{
    (void)s;
    struct { unsigned f; const char *flags; int tag; } cases[] = {
        {EV_TRUNCATED, "[\"truncated\"]", 0},
        {EV_MULTILINE, "[\"multiline\"]", 0},
        {EV_TRUNCATED | EV_MULTILINE, "[\"truncated\", \"multiline\"]", 0},
        {EV_PARSE_FAILURE, NULL, 1},
        {EV_PARSE_FAILURE | EV_TRUNCATED, "[\"truncated\"]", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eb_reset(&eb);
        eb.flags = cases[i].f;
        eb_add_str(&eb, K[K_LVL], "ERROR", 5); /* log.level next to log.flags */
        json_t *v = build(&base0, "m", 0, NULL);
        json_t *fl = json_path(v, "log.flags");
        if (cases[i].flags) {
            char *d = json_dumps(fl, JSON_COMPACT);
            char want[64];
            snprintf(want, sizeof want, "%s", cases[i].flags);
            /* compare ignoring spaces */
            char *w = want, *o = want;
            for (; *w; w++)
                if (*w != ' ')
                    *o++ = *w;
            *o = '\0';
            assert_string_equal(d, want);
            free(d);
        } else {
            assert_null(fl);
        }
        json_t *tags = json_object_get(v, "tags");
        if (cases[i].tag) {
            assert_true(json_is_array(tags));
            assert_string_equal(json_string_value(json_array_get(tags, 0)), "parse_failure");
        } else {
            assert_null(tags);
        }
        assert_string_equal(sget(v, "log.level"), "ERROR");
        json_decref(v);
    }
}

static void hostile_message_and_values_stay_valid_json(void **s)
{
    (void)s;
    char msg[64];
    for (int i = 0; i < 64; i++)
        msg[i] = (char)(i * 37 + 128);
    msg[10] = '\0';
    msg[20] = '"';
    msg[21] = '\\';
    eb_reset(&eb);
    eb_add_str(&eb, K[K_METHOD], msg, sizeof msg);
    struct event_batch *b = batch_new(&src, "h\"ost", 2);
    struct event_base base = {.host_name = "h\"ost", .path = "/p\x01\xff"};
    assert_int_equal(batch_add(b, &base, &eb, msg, sizeof msg, 0, 65, 0), 0);
    json_error_t err;
    json_t *v = json_loadb(b->ev[0].json, b->ev[0].json_len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!v)
        fail_msg("%s", err.text);
    assert_int_equal(json_string_length(json_object_get(v, "message")) >= sizeof msg, 1);
    json_decref(v);
    batch_free(b);
}

/* The skeleton cache (event.c) writes an event whose key sequence it has seen from the
 * pieces it kept: every subset of a set of awkward keys (scalar/object conflicts, '-'
 * sorting before '.'), each built several times, in an order that makes slots collide,
 * must always give the same text, valid and without duplicate keys, holding every value. */
static void skeleton_reuse_gives_identical_json(void **s)
{
    (void)s;
    static const int ks[] = {K_USER, K_USERNAME, K_A, K_AB, K_ABC, K_ADASH, K_STATUS, K_LVL};
    enum { NK = sizeof ks / sizeof ks[0], NSUB = 1 << NK };
    static const char sval[] = "v\"\\\x01\xff\xc3\xa9-0123456789abcdef";
    char **first = calloc(NSUB, sizeof *first);
    assert_non_null(first);
    for (int pass = 0; pass < 3; pass++) {
        for (int j = 0; j < NSUB; j++) {
            int m = pass == 1 ? NSUB - 1 - j : (j * 37) % NSUB; /* three different orders */
            eb_reset(&eb);
            for (int k = 0; k < NK; k++) {
                if (!(m & (1 << k)))
                    continue;
                if (k % 2)
                    eb_add_int(&eb, K[ks[k]], (int64_t)k * -1000003);
                else
                    eb_add_str(&eb, K[ks[k]], sval, sizeof sval - 1);
            }
            char *text;
            json_t *v = build(&base0, "msg \"q\"", 7, &text);
            assert_int_equal(json_integer_value(json_path(v, "log.offset")), 7);
            json_decref(v);
            if (!first[m]) {
                first[m] = text;
                continue;
            }
            if (strcmp(first[m], text) != 0)
                fail_msg("subset %d pass %d:\n%s%s", m, pass, first[m], text);
            free(text);
        }
    }
    for (int m = 0; m < NSUB; m++)
        free(first[m]);
    free(first);
}

/* Integers written from the skeleton path (the second build of a key sequence) and the
 * first path alike, at the digit-count edges. */
static void integers_at_digit_edges(void **s)
{
    (void)s;
    static const int64_t vals[] = {0, 9, 10, 99, 100, 999, 1000, -1, -10, -99, 1234567890123LL,
                                   INT64_MAX, INT64_MIN, INT64_MIN + 1, 9999999999999999LL};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        for (int rep = 0; rep < 2; rep++) {
            eb_reset(&eb);
            eb_add_int(&eb, K[K_STATUS], vals[i]);
            char *text;
            json_t *v = build(&base0, "m", 0, &text);
            json_t *n = json_path(v, "http.response.status_code");
            if (!json_is_integer(n) || json_integer_value(n) != vals[i])
                fail_msg("%lld written as %s", (long long)vals[i], text);
            free(text);
            json_decref(v);
        }
    }
}

/* With skip_fields (no output reads fields or message) the JSON is the same, byte for
 * byte, and the event carries neither fields nor message. */
static void skipping_fields_changes_nothing_in_the_json(void **s)
{
    (void)s;
    struct field st[1] = {{K[K_SVC], FV_STR, 0, 4, {.s = "shop"}}};
    struct event_base keep = base0, skip = base0;
    keep.static_fields = skip.static_fields = st;
    keep.nstatic = skip.nstatic = 1;
    skip.skip_fields = 1;
    static const char line[] = "GET /x \"q\" \xff";
    char *texts[2];
    for (int k = 0; k < 2; k++) {
        eb_reset(&eb);
        eb_add_str(&eb, K[K_METHOD], line, 3);
        eb_add_str_clean(&eb, K[K_URLPATH], line + 4, 2);
        eb_add_int(&eb, K[K_STATUS], 503);
        const char *scratch = eb_strdup(&eb, "alice", 5);
        eb_add_str(&eb, K[K_USERNAME], scratch, 5);
        struct event_batch *b = batch_new(&src, "web-1", 2);
        assert_int_equal(batch_add(b, k ? &skip : &keep, &eb, line, sizeof line - 1, 10, 40,
                                   1795669749325LL), 0);
        const struct event *ev = &b->ev[0];
        texts[k] = strndup(ev->json, ev->json_len);
        if (k) {
            assert_null(ev->message);
            assert_int_equal(ev->nfields, 0);
            struct field f;
            assert_int_equal(event_get(b, ev, "message", &f), 0);
        } else {
            assert_int_equal(ev->nfields, 5);
        }
        batch_free(b);
    }
    assert_string_equal(texts[0], texts[1]);
    json_error_t err;
    json_t *v = json_loads(texts[1], 0, &err);
    assert_non_null(v);
    assert_string_equal(sget(v, "service.name"), "shop");
    assert_string_equal(sget(v, "user.name"), "alice");
    json_decref(v);
    free(texts[0]);
    free(texts[1]);
}

static void batch_holds_cap_events_each_one_line(void **s)
{
    (void)s;
    struct event_batch *b = batch_new(&src, "web-1", 100);
    char line[200];
    uint64_t off = 0;
    for (int i = 0; i < 100; i++) {
        eb_reset(&eb);
        eb_add_int(&eb, K[K_STATUS], 200 + i);
        int n = snprintf(line, sizeof line, "line %d %.*s", i, i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        assert_int_equal(batch_add(b, &base0, &eb, line, (size_t)n, off, off + (uint64_t)n + 1, 0), 0);
        off += (uint64_t)n + 1;
    }
    eb_reset(&eb);
    assert_int_equal(batch_add(b, &base0, &eb, "x", 1, off, off + 2, 0), -1); /* full */
    assert_int_equal(b->n, 100);
    for (uint32_t i = 0; i < b->n; i++) {
        json_error_t err;
        json_t *v = json_loadb(b->ev[i].json, b->ev[i].json_len, JSON_REJECT_DUPLICATES, &err);
        assert_non_null(v);
        assert_int_equal(json_integer_value(json_path(v, "http.response.status_code")), 200 + (int)i);
        assert_int_equal(b->ev[i].message_len, strlen(json_string_value(json_object_get(v, "message"))));
        json_decref(v);
        struct field f;
        assert_int_equal(event_get(b, &b->ev[i], "log.offset", &f), 1);
        assert_int_equal(f.v.i, (int64_t)b->ev[i].offset);
        assert_int_equal(event_get(b, &b->ev[i], "http.response.status_code", &f), 1);
        assert_int_equal(f.v.i, 200 + (int)i);
        assert_int_equal(event_get(b, &b->ev[i], "no.such", &f), 0);
    }
    batch_free(b);
}

static void big_message_gets_its_own_chunk(void **s)
{
    (void)s;
    size_t n = 3 << 20;
    char *m = malloc(n);
    memset(m, 0x01, n); /* worst case: every byte becomes \u0001 */
    struct event_batch *b = batch_new(&src, "web-1", 2);
    eb_reset(&eb);
    assert_int_equal(batch_add(b, &base0, &eb, m, n, 0, n + 1, 0), 0);
    json_error_t err;
    json_t *v = json_loadb(b->ev[0].json, b->ev[0].json_len, 0, &err);
    assert_non_null(v);
    assert_int_equal(json_string_length(json_object_get(v, "message")), n);
    json_decref(v);
    batch_free(b);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(base_fields_are_ecs_and_nested),
        cmocka_unit_test(parser_timestamp_wins_over_read_time),
        cmocka_unit_test(dotted_keys_nest_and_types_are_kept),
        cmocka_unit_test(scalar_and_object_conflict_becomes_value),
        cmocka_unit_test(keys_sorting_between_dash_and_dot_do_not_duplicate),
        cmocka_unit_test(late_out_of_order_key_is_still_sorted),
        cmocka_unit_test(duplicates_first_wins_and_base_fields_win),
        cmocka_unit_test(static_fields_nest_and_parser_fields_win),
        cmocka_unit_test(flags_become_log_flags_and_tags),
        cmocka_unit_test(hostile_message_and_values_stay_valid_json),
        cmocka_unit_test(skeleton_reuse_gives_identical_json),
        cmocka_unit_test(integers_at_digit_edges),
        cmocka_unit_test(skipping_fields_changes_nothing_in_the_json),
        cmocka_unit_test(batch_holds_cap_events_each_one_line),
        cmocka_unit_test(big_message_gets_its_own_chunk),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
