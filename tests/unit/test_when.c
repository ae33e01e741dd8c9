/*
 * test_when.c - the condition language (agent/base/when.c): parsing, error columns, and
 * evaluation over events built the way the tail thread builds them (builder + batch_add).
 *
 * floor: base
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "agent/base/event.h"
#include "agent/base/when.h"

static const struct fkey *K_STATUS, *K_PATH, *K_METHOD, *K_SVC, *K_DUR, *K_OK, *K_STATUS_S,
    *K_BYTES;
static struct event_source src = {.input = "nginx", .path = "/var/log/nginx/access.log"};
static struct event_batch *B;

/* Event 0: GET /api/orders 500 (int status), service.name "orders", duration 1.5, ok false
 * Event 1: POST /health 200, status also as a string field "200", no service.name
 * Event 2: GET "/a\"b<c>" 503, bytes 0
 * Event 3: message only, nothing parsed */
static int setup(void **state)
{
    (void)state;
    fkey_init_builtin();
    K_STATUS = fkey_intern("http.response.status_code");
    K_PATH = fkey_intern("url.path");
    K_METHOD = fkey_intern("http.request.method");
    K_SVC = fkey_intern("service.name");
    K_DUR = fkey_intern("event.duration_s");
    K_OK = fkey_intern("labels.ok");
    K_STATUS_S = fkey_intern("labels.status_text");
    K_BYTES = fkey_intern("http.response.body.bytes");
    fkey_freeze();
    B = batch_new(&src, "was-1", 8);
    struct event_builder eb;
    eb_init(&eb);
    struct event_base base = {.host_name = "was-1", .path = src.path};
    const char *l0 = "GET /api/orders 500";
    eb_add_str(&eb, K_METHOD, "GET", 3);
    eb_add_str(&eb, K_PATH, "/api/orders", 11);
    eb_add_int(&eb, K_STATUS, 500);
    eb_add_str(&eb, K_SVC, "orders", 6);
    eb_add_float(&eb, K_DUR, 1.5);
    eb_add_bool(&eb, K_OK, 0);
    assert_int_equal(batch_add(B, &base, &eb, l0, strlen(l0), 0, 20, 1700000000000), 0);
    eb_reset(&eb);
    const char *l1 = "POST /health 200";
    eb_add_str(&eb, K_METHOD, "POST", 4);
    eb_add_str(&eb, K_PATH, "/health", 7);
    eb_add_int(&eb, K_STATUS, 200);
    eb_add_str(&eb, K_STATUS_S, "200", 3);
    eb_add_bool(&eb, K_OK, 1);
    assert_int_equal(batch_add(B, &base, &eb, l1, strlen(l1), 20, 37, 1700000000001), 0);
    eb_reset(&eb);
    const char *l2 = "GET /a\"b<c> 503";
    eb_add_str(&eb, K_METHOD, "GET", 3);
    eb_add_str(&eb, K_PATH, "/a\"b<c>", 7);
    eb_add_int(&eb, K_STATUS, 503);
    eb_add_int(&eb, K_BYTES, 0);
    assert_int_equal(batch_add(B, &base, &eb, l2, strlen(l2), 37, 53, 1700000000002), 0);
    eb_reset(&eb);
    const char *l3 = "just some text";
    assert_int_equal(batch_add(B, &base, &eb, l3, strlen(l3), 53, 68, 1700000000003), 0);
    eb_free(&eb);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    batch_free(B);
    fkey_reset();
    return 0;
}

/* Evaluates expr on events 0..3 and returns a bit mask of the matching ones. */
static unsigned eval_mask(const char *expr)
{
    char err[256];
    int pos;
    struct when *w = when_compile(expr, err, sizeof err, &pos);
    if (!w)
        fail_msg("'%s' did not compile: %s at column %d", expr, err, pos);
    unsigned m = 0;
    for (uint32_t i = 0; i < B->n; i++)
        if (when_eval(w, B, &B->ev[i]))
            m |= 1u << i;
    when_free(w);
    return m;
}

/* Returns the error column of a condition that must not compile; err receives the message. */
static int error_column(const char *expr, char *err, size_t errsz)
{
    int pos = -1;
    struct when *w = when_compile(expr, err, errsz, &pos);
    if (w) {
        when_free(w);
        fail_msg("'%s' compiled but should not", expr);
    }
    assert_true(err[0] != '\0');
    return pos;
}

static void numeric_comparisons_on_int_field(void **state)
{
    (void)state;
    assert_int_equal(eval_mask("http.response.status_code >= 500"), 0x5);
    assert_int_equal(eval_mask("http.response.status_code > 500"), 0x4);
    assert_int_equal(eval_mask("http.response.status_code < 500"), 0x2);
    assert_int_equal(eval_mask("http.response.status_code <= 500"), 0x3);
    assert_int_equal(eval_mask("http.response.status_code == 503"), 0x4);
    assert_int_equal(eval_mask("http.response.status_code != 503"), 0x3);
    assert_int_equal(eval_mask("http.response.status_code>=500"), 0x5); /* no spaces */
    assert_int_equal(eval_mask("http.response.status_code >= 499.5"), 0x5);
    assert_int_equal(eval_mask("http.response.body.bytes > -1"), 0x4);
}

static void float_and_bool_fields(void **state)
{
    (void)state;
    assert_int_equal(eval_mask("event.duration_s > 1"), 0x1);
    assert_int_equal(eval_mask("event.duration_s == 1.5"), 0x1);
    assert_int_equal(eval_mask("event.duration_s < 1.25e0"), 0x0);
    assert_int_equal(eval_mask("labels.ok == true"), 0x2);
    assert_int_equal(eval_mask("labels.ok == false"), 0x1);
    assert_int_equal(eval_mask("labels.ok != true"), 0x1); /* absent: false, not "not true" */
}

static void string_field_compared_as_number(void **state)
{
    (void)state;
    /* a status captured as text still compares numerically */
    assert_int_equal(eval_mask("labels.status_text >= 200"), 0x2);
    assert_int_equal(eval_mask("labels.status_text < 200"), 0x0);
    /* a non-numeric string never satisfies a numeric comparison */
    assert_int_equal(eval_mask("url.path > 0"), 0x0);
    assert_int_equal(eval_mask("url.path != 0"), 0x0);
}

static void string_comparisons(void **state)
{
    (void)state;
    assert_int_equal(eval_mask("http.request.method == \"GET\""), 0x5);
    assert_int_equal(eval_mask("http.request.method != \"GET\""), 0x2);
    assert_int_equal(eval_mask("http.request.method < \"H\""), 0x5);
    assert_int_equal(eval_mask("http.request.method >= \"POST\""), 0x2);
    assert_int_equal(eval_mask("url.path == \"/a\\\"b<c>\""), 0x4); /* escaped quote */
    /* a number field compared with a string uses its decimal form */
    assert_int_equal(eval_mask("http.response.status_code == \"500\""), 0x1);
    assert_int_equal(eval_mask("host.name == \"was-1\""), 0xf);
    assert_int_equal(eval_mask("log.file.path == \"/var/log/nginx/access.log\""), 0xf);
}

static void string_escapes_decode(void **state)
{
    (void)state;
    assert_int_equal(eval_mask("message =~ \"^just\\tsome\""), 0x0);
    assert_int_equal(eval_mask("message =~ \"^just\\\\s\""), 0x8); /* \\ is one \ */
    assert_int_equal(eval_mask("message =~ \"^just\\ssome\""), 0x8); /* \s kept for the regex */
}

static void regex_matches(void **state)
{
    (void)state;
    assert_int_equal(eval_mask("url.path =~ \"^/api/\""), 0x1);
    assert_int_equal(eval_mask("url.path =~ \"health$\""), 0x2);
    assert_int_equal(eval_mask("http.response.status_code =~ \"^5\\d\\d$\""), 0x5);
    assert_int_equal(eval_mask("message =~ \"(?i)JUST\""), 0x8);
    assert_int_equal(eval_mask("service.name =~ \".*\""), 0x1); /* absent field: false */
}

static void presence_and_boolean_logic(void **state)
{
    (void)state;
    assert_int_equal(eval_mask("service.name"), 0x1);
    assert_int_equal(eval_mask("not service.name"), 0xe);
    assert_int_equal(eval_mask("message"), 0xf);
    assert_int_equal(eval_mask("http.response.status_code >= 500 and not (url.path =~ \"^/a\")"),
                     0x0 | 0x0);
    assert_int_equal(eval_mask("http.response.status_code >= 500 and not url.path =~ \"^/api\""),
                     0x4);
    assert_int_equal(eval_mask("url.path == \"/health\" or http.response.status_code == 503"),
                     0x6);
    /* and binds tighter than or */
    assert_int_equal(eval_mask("service.name or labels.ok and http.response.status_code == 503"),
                     0x1);
    assert_int_equal(eval_mask("(service.name or labels.ok) and http.response.status_code < 503"),
                     0x3);
    assert_int_equal(eval_mask("not not service.name"), 0x1);
    assert_int_equal(eval_mask("((((message))))"), 0xf);
}

static void missing_field_compares_false(void **state)
{
    (void)state;
    assert_int_equal(eval_mask("no.such.field == 1"), 0x0);
    assert_int_equal(eval_mask("no.such.field != 1"), 0x0);
    assert_int_equal(eval_mask("no.such.field != \"x\""), 0x0);
    assert_int_equal(eval_mask("not no.such.field"), 0xf);
}

static void keywords_need_word_boundaries(void **state)
{
    (void)state;
    /* "android" and "order" are field names, not "and"/"or" */
    assert_int_equal(eval_mask("android or order"), 0x0);
    assert_int_equal(eval_mask("notes or message"), 0xf);
}

static void errors_report_column(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(error_column("", err, sizeof err), 1);
    assert_int_equal(error_column("   ", err, sizeof err), 4);
    /* 1-based column of the offending token */
    assert_int_equal(error_column("status >=", err, sizeof err), 10);
    assert_non_null(strstr(err, "after '>='"));
    assert_int_equal(error_column("status >= 500 and", err, sizeof err), 18);
    assert_int_equal(error_column("(status >= 500", err, sizeof err), 15);
    assert_non_null(strstr(err, "')'"));
    assert_int_equal(error_column("status >= 500)", err, sizeof err), 14);
    assert_int_equal(error_column("status = 500", err, sizeof err), 8);
    assert_int_equal(error_column("status >= 500 500", err, sizeof err), 15);
    assert_int_equal(error_column("path == \"abc", err, sizeof err), 9);
    assert_non_null(strstr(err, "unterminated"));
    assert_int_equal(error_column("status >= 5x0", err, sizeof err), 11);
    assert_int_equal(error_column("path =~ 5", err, sizeof err), 9);
    assert_int_equal(error_column("ok < true", err, sizeof err), 4);
    assert_int_equal(error_column("a..b == 1", err, sizeof err), 2);
    assert_int_equal(error_column("a. == 1", err, sizeof err), 2);
    assert_int_equal(error_column("x == 1 && y", err, sizeof err), 8);
    assert_int_equal(error_column("and x", err, sizeof err), 1);
    /* regex error points into the literal */
    assert_int_equal(error_column("path =~ \"ab(c\"", err, sizeof err), 14);
    assert_non_null(strstr(err, "regex"));
}

static void deep_nesting_is_refused_not_crashing(void **state)
{
    (void)state;
    char expr[1024], err[256];
    size_t n = 0;
    for (int i = 0; i < 200; i++)
        expr[n++] = '(';
    memcpy(expr + n, "message", 8);
    int pos = 0;
    struct when *w = when_compile(expr, err, sizeof err, &pos);
    assert_null(w);
    assert_true(pos >= 1 && pos <= 200);
    n = 0;
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(expr + n, sizeof expr - n, "not ");
    snprintf(expr + n, sizeof expr - n, "message");
    assert_null(when_compile(expr, err, sizeof err, &pos));
}

static void hostile_regex_is_bounded(void **state)
{
    (void)state;
    /* catastrophic backtracking stops at the match limit and counts as no match */
    char line[64];
    memset(line, 'a', 40);
    strcpy(line + 40, "!");
    struct event_batch *b = batch_new(&src, "was-1", 1);
    struct event_builder eb;
    eb_init(&eb);
    struct event_base base = {.host_name = "was-1", .path = src.path};
    assert_int_equal(batch_add(b, &base, &eb, line, strlen(line), 0, 42, 1), 0);
    char err[256];
    int pos;
    struct when *w = when_compile("message =~ \"^(a+)+$\"", err, sizeof err, &pos);
    assert_non_null(w);
    assert_int_equal(when_eval(w, b, &b->ev[0]), 0);
    when_free(w);
    eb_free(&eb);
    batch_free(b);
}

struct thr_arg {
    const struct when *w;
    int hits;
};

static void *eval_thread(void *v)
{
    struct thr_arg *a = v;
    for (int r = 0; r < 20000; r++)
        for (uint32_t i = 0; i < B->n; i++)
            a->hits += when_eval(a->w, B, &B->ev[i]);
    return NULL;
}

static void concurrent_evaluation_agrees(void **state)
{
    (void)state;
    char err[256];
    int pos;
    struct when *w = when_compile("url.path =~ \"^/(api|a)\" and http.response.status_code >= 500",
                                  err, sizeof err, &pos);
    assert_non_null(w);
    pthread_t t[4];
    struct thr_arg a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (struct thr_arg){w, 0};
        assert_int_equal(pthread_create(&t[i], NULL, eval_thread, &a[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].hits, 2 * 20000);
    }
    when_free(w);
}

static void null_condition_matches_everything(void **state)
{
    (void)state;
    assert_int_equal(when_eval(NULL, B, &B->ev[3]), 1);
    when_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numeric_comparisons_on_int_field),
        cmocka_unit_test(float_and_bool_fields),
        cmocka_unit_test(string_field_compared_as_number),
        cmocka_unit_test(string_comparisons),
        cmocka_unit_test(string_escapes_decode),
        cmocka_unit_test(regex_matches),
        cmocka_unit_test(presence_and_boolean_logic),
        cmocka_unit_test(missing_field_compares_false),
        cmocka_unit_test(keywords_need_word_boundaries),
        cmocka_unit_test(errors_report_column),
        cmocka_unit_test(deep_nesting_is_refused_not_crashing),
        cmocka_unit_test(hostile_regex_is_bounded),
        cmocka_unit_test(concurrent_evaluation_agrees),
        cmocka_unit_test(null_condition_matches_everything),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
