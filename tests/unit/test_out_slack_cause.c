/*
 * test_out_slack_cause.c - the Slack output's cause index (outputs/slack_cause.c) and path
 * templates, driven through the functions the output thread calls (sl_cause_extract,
 * sl_cause_add, sl_fold) on a hand-built state, and the cause as rendered by sl_format().
 * Proves: what a Spring Boot error becomes (class, message, root cause, own frames, logger),
 * which events are candidates, matching before and after by time, by trace id, never across
 * hosts or traces or beyond cause_window, one candidate per line, the ring's bound, and that
 * a hostile cause is escaped and within Slack's limits.
 *
 * floor: outputs
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outputs/slack.h"

static const struct fkey *K_LEVEL, *K_STACK, *K_LOGGER, *K_MSG, *K_TRACE, *K_TYPE;
static struct event_source src = {.input = "app", .path = "/var/log/app.log"};
static struct out_metrics M;
static struct output_env env = {.name = "slack", .type = "slack", .m = &M};
static char *from_v[] = {"app"};
static char *skip_v[] = {"java.", "jakarta.", "org.springframework."};
static char *group_v[] = {"host.name", "url.path"};

static struct slack_conf conf(void)
{
    return (struct slack_conf){.window_ms = 60000, .group_by = {group_v, 2}, .max_line_chars = 500,
                               .max_groups = 100, .group_path_ids = 1, .cause_from = {from_v, 1},
                               .cause_window_ms = 2000, .cause_wait_ms = 300, .cause_frames = 3,
                               .cause_frames_skip = {skip_v, 3}, .cause_ring = 8};
}

static void st_init(struct slack_out *st, const struct slack_conf *c)
{
    memset(st, 0, sizeof *st);
    st->conf = c;
    st->env = &env;
    assert_int_equal(sl_groups_init(st), 0);
    assert_int_equal(sl_cause_init(st), 0);
    assert_non_null(st->causes);
}

static void st_free(struct slack_out *st)
{
    sl_groups_free(st);
    sl_cause_free(st);
}

/* One Spring Boot-like event; NULL arguments leave the field out. */
static struct event_batch *app_event(const char *level, const char *stack, const char *trace,
                                     const char *type, int64_t ts)
{
    struct event_batch *b = batch_new(&src, "was-1", 1);
    struct event_builder eb;
    struct event_base base = {.host_name = "was-1", .path = src.path};
    eb_init(&eb);
    if (level)
        eb_add_str(&eb, K_LEVEL, level, strlen(level));
    if (stack)
        eb_add_str(&eb, K_STACK, stack, strlen(stack));
    if (trace)
        eb_add_str(&eb, K_TRACE, trace, strlen(trace));
    if (type)
        eb_add_str(&eb, K_TYPE, type, strlen(type));
    eb_add_str(&eb, K_LOGGER, "c.s.OrderController", 19);
    eb_add_str(&eb, K_MSG, "Request failed", 14);
    const char *line = "2026-12-06T10:00:00.100Z ERROR ... : Request failed";
    assert_int_equal(batch_add(b, &base, &eb, line, strlen(line), 0, 10, ts), 0);
    eb_free(&eb);
    return b;
}

static const char *STACK =
    "java.lang.IllegalStateException: order 42 has no lines\n"
    "\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:883)\n"
    "\tat java.base/java.lang.Thread.run(Thread.java:833)\n"
    "\tat app//com.shop.OrderService.place(OrderService.java:42)\n"
    "\tat jakarta.servlet.http.HttpServlet.service(HttpServlet.java:658)\n"
    "\tat com.shop.OrderController.create(OrderController.java:17)\n"
    "\tat com.shop.Native.call(Native Method)\n"
    "\tat com.shop.Fourth.x(Fourth.java:1)\n"
    "Caused by: java.lang.RuntimeException: wrapped\n"
    "\t... 4 more\n"
    "Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available\r\n"
    "\t... 9 more\n";

static void spring_error_becomes_candidate_with_root_and_own_frames(void **state)
{
    (void)state;
    struct slack_conf c = conf();
    struct slack_out st;
    st_init(&st, &c);
    struct event_batch *b = app_event("ERROR", STACK, NULL, NULL, 1000);
    struct sl_cause k;
    assert_int_equal(sl_cause_extract(&st, b, &b->ev[0], &k, 5), 1);
    assert_string_equal(k.type, "java.lang.IllegalStateException");
    assert_string_equal(k.message, "order 42 has no lines");
    assert_string_equal(k.root,
                        "java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available");
    assert_int_equal(k.nframes, 3);
    assert_string_equal(k.frames[0], "com.shop.OrderService.place(OrderService.java:42)");
    assert_string_equal(k.frames[1], "com.shop.OrderController.create(OrderController.java:17)");
    assert_string_equal(k.frames[2], "com.shop.Native.call(Native Method)");
    assert_string_equal(k.where, "OrderService.java:42");
    assert_string_equal(k.logger, "c.s.OrderController");
    assert_string_equal(k.host, "was-1");
    char key[SL_CAUSE_KEY];
    sl_cause_key(&k, key, sizeof key);
    assert_string_equal(key, "SQLTransientConnectionException at OrderService.java:42");
    batch_free(b);

    /* error.type from the parser wins over the stack trace's first line */
    b = app_event("error", STACK, NULL, "com.shop.OrderFailed", 1000);
    assert_int_equal(sl_cause_extract(&st, b, &b->ev[0], &k, 5), 1);
    assert_string_equal(k.type, "com.shop.OrderFailed");
    batch_free(b);
    st_free(&st);
}

static void only_errors_and_stack_traces_are_candidates(void **state)
{
    (void)state;
    struct slack_conf c = conf();
    struct slack_out st;
    st_init(&st, &c);
    struct sl_cause k;
    struct event_batch *b = app_event("INFO", NULL, NULL, NULL, 1000);
    assert_int_equal(sl_cause_extract(&st, b, &b->ev[0], &k, 5), 0);
    batch_free(b);
    b = app_event("WARN", STACK, NULL, NULL, 1000); /* a stack trace makes it one */
    assert_int_equal(sl_cause_extract(&st, b, &b->ev[0], &k, 5), 1);
    batch_free(b);
    b = app_event("FATAL", NULL, NULL, NULL, 1000); /* no exception: its own message */
    assert_int_equal(sl_cause_extract(&st, b, &b->ev[0], &k, 5), 1);
    assert_string_equal(k.type, "");
    assert_string_equal(k.message, "Request failed");
    char key[SL_CAUSE_KEY];
    sl_cause_key(&k, key, sizeof key);
    assert_string_equal(key, "Request failed");
    batch_free(b);
    st_free(&st);
}

/* Folds one 500 of `host` on `path` at event time ts (ms), trace optional. */
static int fold(struct slack_out *st, const char *host, const char *path, int64_t ts,
                const char *trace, int64_t now)
{
    struct sl_line l = {0};
    char key[SL_KEY_MAX];
    int kl = snprintf(key, sizeof key, "%s\x1f%s\x1f", host, path);
    l.key = key;
    l.keylen = (size_t)kl;
    l.ts_ms = ts;
    l.status = 500;
    l.host = (struct sl_str){host, strlen(host)};
    l.path = (struct sl_str){path, strlen(path)};
    l.trace = (struct sl_str){trace, trace ? strlen(trace) : 0};
    return sl_fold(st, &l, now);
}

static struct sl_group *group_of(struct slack_out *st, const char *path)
{
    for (uint32_t i = 0; i < st->nbuckets; i++)
        for (struct sl_group *g = st->tab[i]; g; g = g->next)
            if (strstr(g->key, path))
                return g;
    return NULL;
}

static struct sl_cause cand(const char *host, const char *type, int64_t ts, const char *trace,
                            int64_t seen)
{
    struct sl_cause k;
    memset(&k, 0, sizeof k);
    snprintf(k.host, sizeof k.host, "%s", host);
    snprintf(k.type, sizeof k.type, "%s", type);
    snprintf(k.trace, sizeof k.trace, "%s", trace ? trace : "");
    k.ts_ms = ts;
    k.seen_ms = seen;
    return k;
}

static void cause_after_the_line_releases_the_waiting_first_alert(void **state)
{
    (void)state;
    struct slack_conf c = conf();
    struct slack_out st;
    st_init(&st, &c);
    assert_int_equal(fold(&st, "was-1", "/a", 10000, NULL, 100), 1);
    struct sl_group *g = group_of(&st, "/a");
    assert_non_null(g);
    assert_int_equal(g->first_wait, 400); /* now + cause_wait */
    assert_int_equal(sl_next_due(&st, 100), 400);
    struct sl_cause k = cand("was-2", "x.OtherHost", 10100, NULL, 150);
    assert_int_equal(sl_cause_add(&st, &k), 0); /* another host: never */
    k = cand("was-1", "x.TooLate", 13500, NULL, 160);
    assert_int_equal(sl_cause_add(&st, &k), 0); /* 2.5 s after the line's second */
    assert_null(g->first.cause);
    k = cand("was-1", "x.Right", 10100, NULL, 200);
    assert_int_equal(sl_cause_add(&st, &k), 1);
    assert_non_null(g->first.cause);
    assert_string_equal(g->first.cause->type, "x.Right");
    assert_string_equal(g->first.cause_how, "logged in the same second");
    assert_int_equal(sl_next_due(&st, 200), 0);
    st_free(&st);
}

static void cause_before_the_line_is_attached_at_once(void **state)
{
    (void)state;
    struct slack_conf c = conf();
    struct slack_out st;
    st_init(&st, &c);
    struct sl_cause k = cand("was-1", "x.Before", 9900, NULL, 90);
    assert_int_equal(sl_cause_add(&st, &k), 0);
    assert_int_equal(fold(&st, "was-1", "/b", 10000, NULL, 100), 1);
    struct sl_group *g = group_of(&st, "/b");
    assert_non_null(g->first.cause);
    assert_string_equal(g->first.cause->type, "x.Before");
    assert_string_equal(g->first.cause_how, "logged -100 ms from the request");
    assert_int_equal(g->first_wait, 0);
    /* that candidate is used: the next line of the group waits for its own */
    assert_int_equal(fold(&st, "was-1", "/b", 10000, NULL, 110), 2);
    assert_int_equal(g->npend, 1);
    assert_int_equal(g->agg.ncauses, 0);
    k = cand("was-1", "x.Second", 10050, NULL, 120);
    assert_int_equal(sl_cause_add(&st, &k), 0);
    assert_int_equal(g->npend, 0);
    assert_int_equal(g->agg.ncauses, 1);
    assert_int_equal(g->agg.causes[0].n, 1);
    assert_string_equal(g->agg.causes[0].key, "Second");
    st_free(&st);
}

static void trace_id_beats_time_and_never_crosses_traces(void **state)
{
    (void)state;
    struct slack_conf c = conf();
    struct slack_out st;
    st_init(&st, &c);
    struct sl_cause k = cand("was-1", "x.Right", 8500, "aaaa", 50);
    sl_cause_add(&st, &k);
    k = cand("was-1", "x.Decoy", 10000, "bbbb", 99);
    sl_cause_add(&st, &k);
    assert_int_equal(fold(&st, "was-1", "/t", 10000, "aaaa", 100), 1);
    struct sl_group *g = group_of(&st, "/t");
    assert_string_equal(g->first.cause->type, "x.Right");
    assert_string_equal(g->first.cause_how, "same trace.id");
    /* another trace id: waits, and only its own trace (or none) may answer */
    assert_int_equal(fold(&st, "was-1", "/u", 10000, "cccc", 100), 1);
    g = group_of(&st, "/u");
    assert_null(g->first.cause);
    assert_true(g->first_wait > 0);
    st_free(&st);
}

static void outside_window_never_matches(void **state)
{
    (void)state;
    struct slack_conf c = conf();
    struct slack_out st;
    st_init(&st, &c);
    struct sl_cause k = cand("was-1", "x.Old", 7000, NULL, 50);
    sl_cause_add(&st, &k); /* 3 s before the line's second */
    k = cand("was-1", "x.Later", 13001, NULL, 60);
    sl_cause_add(&st, &k); /* 2.002 s after its end */
    assert_int_equal(fold(&st, "was-1", "/w", 10000, NULL, 100), 1);
    assert_null(group_of(&st, "/w")->first.cause);
    st_free(&st);
}

static void ring_is_bounded_per_host(void **state)
{
    (void)state;
    struct slack_conf c = conf();
    struct slack_out st;
    st_init(&st, &c);
    for (int i = 0; i < 1000; i++) {
        char host[32];
        snprintf(host, sizeof host, "h%d", i % 20); /* more hosts than rings */
        struct sl_cause k = cand(host, "x.E", 10000 + i, NULL, i);
        sl_cause_add(&st, &k);
    }
    /* the newest candidates of the most recent host are there; only 8 per host are kept */
    struct sl_cause k = cand("h19", "x.Fresh", 20000, NULL, 2000);
    sl_cause_add(&st, &k);
    assert_int_equal(fold(&st, "h19", "/r", 20000, NULL, 2001), 1);
    assert_string_equal(group_of(&st, "/r")->first.cause->type, "x.Fresh");
    st_free(&st);
}

static void path_ids_become_templates(void **state)
{
    (void)state;
    char out[SL_PATH_MAX];
    const char *cases[][2] = {
        {"/orders/123/items/9", "/orders/{id}/items/{id}"},
        {"/u/3f2504e0-4f89-11d3-9a0c-0305e82c3301/x", "/u/{id}/x"},
        {"/blob/deadbeef42", "/blob/{id}"},
        {"/blob/deadbee", "/blob/deadbee"}, /* hex under 8 characters is a word */
        {"/api/v2/orders/", "/api/v2/orders/"},
        {"/search?q=123", "/search"},
        {"/", "/"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = sl_path_template(cases[i][0], strlen(cases[i][0]), out, sizeof out);
        assert_string_equal(out, cases[i][1]);
        assert_int_equal(n, strlen(cases[i][1]));
    }
    /* a long path is cut within the buffer, never past it */
    char longp[1000];
    for (int i = 0; i < 999; i++)
        longp[i] = i % 4 == 0 ? '/' : '7';
    longp[999] = '\0';
    size_t n = sl_path_template(longp, strlen(longp), out, sizeof out);
    assert_true(n < sizeof out);
    assert_int_equal(strlen(out), n);
}

static void hostile_cause_is_escaped_and_within_limits(void **state)
{
    (void)state;
    struct sl_msg m;
    memset(&m, 0, sizeof m);
    sl_agg_init(&m.agg);
    sl_agg_add(&m.agg, 1795669706000, 500, "/x", "was-1", 1);
    m.has_sample = 1;
    m.sample.status = 500;
    snprintf(m.sample.host, sizeof m.sample.host, "was-1");
    snprintf(m.sample.path, sizeof m.sample.path, "/x");
    m.sample.cause = calloc(1, sizeof *m.sample.cause);
    struct sl_cause *k = m.sample.cause;
    snprintf(k->type, sizeof k->type, "<!channel>");
    memset(k->message, '<', sizeof k->message - 1); /* each becomes &lt;: 4x the size */
    memset(k->root, '&', sizeof k->root - 1);
    snprintf(k->logger, sizeof k->logger, "```x``` <@U123>");
    k->nframes = SL_CAUSE_FRAMES_MAX;
    for (int i = 0; i < k->nframes; i++)
        memset(k->frames[i], '>', sizeof k->frames[i] - 1);
    snprintf(m.sample.cause_how, sizeof m.sample.cause_how, "same trace.id");
    struct buf text, js;
    buf_init(&text, 64 * 1024);
    buf_init(&js, 256 * 1024);
    assert_int_equal(sl_format(&m, &text, &js), 0);
    json_t *doc = json_loadb(js.p, js.len, 0, NULL);
    assert_non_null(doc);
    size_t i;
    json_t *b;
    int found = 0;
    json_array_foreach(json_object_get(doc, "blocks"), i, b) {
        json_t *t = json_object_get(b, "text");
        const char *s = t ? json_string_value(json_object_get(t, "text")) : NULL;
        if (!s)
            continue;
        assert_true(strlen(s) < 3000 * 4); /* bytes; characters below */
        size_t chars = 0;
        for (const char *p = s; *p; p++)
            chars += ((unsigned char)*p & 0xC0) != 0x80;
        assert_true(chars < 3000);
        assert_null(strchr(s, '<'));
        assert_null(strchr(s, '>'));
        if (strncmp(s, "*Cause*", 7) == 0) {
            found = 1;
            assert_non_null(strstr(s, "&lt;!channel&gt;"));
            assert_null(strstr(s + 3, "```x```"));
        }
    }
    assert_true(found);
    buf_cstr(&text);
    assert_null(strchr(text.p, '<'));
    json_decref(doc);
    buf_free(&text);
    buf_free(&js);
    sl_sample_free(&m.sample);
}

static int setup(void **state)
{
    (void)state;
    fkey_init_builtin();
    K_LEVEL = fkey_intern("log.level");
    K_STACK = fkey_intern("error.stack_trace");
    K_LOGGER = fkey_intern("log.logger");
    K_MSG = fkey_intern("log.message");
    K_TRACE = fkey_intern("trace.id");
    K_TYPE = fkey_intern("error.type");
    fkey_freeze();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fkey_reset();
    return 0;
}

/* Issue 16: a cause input that joins stack traces holds the exception until the next record
 * or multiline.timeout; the first alert waits cause_wait plus that, so the shipped defaults
 * (300 ms, 1 s) attach a late exception. Inputs that join nothing add nothing. */
static void first_alert_waits_for_the_cause_inputs_multiline_timeout(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"[input app]\npaths = /x\nparser = spring_boot\nmultiline = java\n", "1300"},
        {"[input app]\npaths = /x\nmultiline = java\nmultiline.timeout = 2s\n", "2300"},
        {"[input app]\npaths = /x\nmultiline.pattern = ^\\s\n", "1300"},
        {"[parser lb]\nlogback_pattern = %d %msg%n\n[input app]\npaths = /x\nparser = lb\n",
         "1300"},
        {"[input app]\npaths = /x\nparser = spring_boot\n", "300"},
        {"[input other]\npaths = /x\nmultiline = java\n[input app]\npaths = /y\n", "300"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct conf_errs errs = {0};
        struct conf *cf = conf_load_string("t.conf", cases[i][0], &errs);
        assert_non_null(cf);
        struct output_env e = env;
        e.conf = cf;
        struct slack_conf c = conf();
        struct slack_out st;
        memset(&st, 0, sizeof st);
        st.conf = &c;
        st.env = &e;
        assert_int_equal(sl_groups_init(&st), 0);
        assert_int_equal(sl_cause_init(&st), 0);
        assert_int_equal(st.cause_wait_ms, atol(cases[i][1]));
        assert_int_equal(fold(&st, "was-1", "/a", 10000, NULL, 100), 1);
        assert_int_equal(group_of(&st, "/a")->first_wait, 100 + atol(cases[i][1]));
        st_free(&st);
        conf_free(cf);
        conf_errs_free(&errs);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spring_error_becomes_candidate_with_root_and_own_frames),
        cmocka_unit_test(only_errors_and_stack_traces_are_candidates),
        cmocka_unit_test(cause_after_the_line_releases_the_waiting_first_alert),
        cmocka_unit_test(first_alert_waits_for_the_cause_inputs_multiline_timeout),
        cmocka_unit_test(cause_before_the_line_is_attached_at_once),
        cmocka_unit_test(trace_id_beats_time_and_never_crosses_traces),
        cmocka_unit_test(outside_window_never_matches),
        cmocka_unit_test(ring_is_bounded_per_host),
        cmocka_unit_test(path_ids_become_templates),
        cmocka_unit_test(hostile_cause_is_escaped_and_within_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
