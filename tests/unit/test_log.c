/*
 * test_log.c - the agent's own logging (agent/base/log.h, agent/base/log.c, agent/base/log_once.h): the
 * LF_LOG macro and the record it writes, lf_mask_url() showing where a secret URL points and
 * nothing of its secret parts whatever its shape, and the bounded set of kinds logged once.
 *
 * lf_log_write() writes to descriptor 2: each test points it at a temporary file for the
 * duration of one call and reads the record back. Single-threaded.
 *
 * floor: base
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/base/log.h"
#include "agent/base/log_once.h"

static int saved_fd = -1;
static FILE *cap;

static void capture_begin(void)
{
    cap = tmpfile();
    assert_non_null(cap);
    fflush(stderr);
    saved_fd = dup(2);
    assert_true(saved_fd >= 0);
    assert_true(dup2(fileno(cap), 2) >= 0);
}

/* Ends the capture and returns what was written (static buffer). */
static const char *capture_end(void)
{
    static char out[8192];
    dup2(saved_fd, 2);
    close(saved_fd);
    saved_fd = -1;
    rewind(cap);
    size_t n = fread(out, 1, sizeof out - 1, cap);
    out[n] = '\0';
    fclose(cap);
    cap = NULL;
    return out;
}

static int side_effects;
static int count_call(void)
{
    return ++side_effects;
}

/* lf_log_level_evaluated_once: the issue-21 shape, a level with a side effect. Before the
 * fix the level expression ran twice: the counter went up by 2 and the second evaluation
 * chose the other level, so the record said DEBUG although INFO was chosen. */
static void lf_log_level_evaluated_once(void **s)
{
    (void)s;
    lf_log_level = LF_INFO;
    int retrying = 0;
    capture_begin();
    LF_LOG(retrying++ == 0 ? LF_INFO : LF_DEBUG, "test", "first retry");
    const char *out = capture_end();
    assert_int_equal(retrying, 1);
    assert_non_null(strstr(out, "INFO  [test] first retry"));
    assert_null(strstr(out, "DEBUG"));

    /* the second time the level is DEBUG, below lf_log_level: nothing printed, counted once */
    capture_begin();
    LF_LOG(retrying++ == 0 ? LF_INFO : LF_DEBUG, "test", "second retry");
    out = capture_end();
    assert_int_equal(retrying, 2);
    assert_string_equal(out, "");
}

/* lf_log_arguments_evaluated_once_or_not_at_all: message arguments run once when the level
 * is enabled, never when it is not (a costly argument is not paid for at debug level). */
static void lf_log_arguments_evaluated_once_or_not_at_all(void **s)
{
    (void)s;
    lf_log_level = LF_WARN;
    side_effects = 0;
    capture_begin();
    LF_LOG(LF_DEBUG, "test", "%d", count_call());
    LF_LOG(LF_WARN, "test", "call %d", count_call());
    const char *out = capture_end();
    assert_int_equal(side_effects, 1);
    assert_non_null(strstr(out, "WARN  [test] call 1\n"));
    lf_log_level = LF_INFO;
}

/* lf_log_escapes_control_bytes: a file name from a hostile log directory cannot put a raw
 * control byte (here an escape sequence and a newline) in the agent's log. */
static void lf_log_escapes_control_bytes(void **s)
{
    (void)s;
    capture_begin();
    LF_LOG(LF_INFO, "tail", "opened %s", "/var/log/a\x1b[2J\nb.log");
    const char *out = capture_end();
    assert_non_null(strstr(out, "opened /var/log/a\\x1B[2J\\x0Ab.log\n"));
    assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out)); /* one line */
}

static const char *mask(const char *url)
{
    static char out[160];
    return lf_mask_url(url, out, sizeof out);
}

static void mask_url_hides_query_without_path(void **state)
{
    (void)state;
    /* the shape issue 21 found printed whole in 3 log lines and the status page */
    assert_string_equal(mask("http://host:8080?token=SECRET"), "http://host:8080/…");
    assert_string_equal(mask("http://host:8080#SECRET"), "http://host:8080/…");
    assert_string_equal(mask("https://host?SECRET"), "https://host/…");
    assert_string_equal(mask("http://host:8080"), "http://host:8080");
}

static void mask_url_hides_userinfo_path_and_query(void **state)
{
    (void)state;
    assert_string_equal(mask("https://user:SECRET@es.example:9200"), "https://es.example:9200");
    assert_string_equal(mask("https://user:SEC@RET@es.example:9200/x"), "https://es.example:9200/…");
    assert_string_equal(mask("http://u:p@h/path?q=SECRET"), "http://h/…");
    assert_null(strstr(mask("https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXXabcd"),
                       "SECRET"));
    assert_string_equal(mask("https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXXabcd"),
                        "https://hooks.slack.com/…abcd");
    /* no scheme at all, and a "://" that is only in the query */
    assert_string_equal(mask("user:SECRET@host:1/x"), "host:1/…");
    assert_string_equal(mask("host?u=http://SECRET"), "host/…");
    /* bytes that cannot be in a host are not copied out as they are */
    assert_null(strchr(mask("http://ho\nst\x1b:1/"), '\n'));
    assert_string_equal(mask(""), "(none)");
    assert_string_equal(mask(NULL), "(none)");
}

static void mask_url_fits_small_buffers(void **state)
{
    (void)state;
    char out[8];
    lf_mask_url("https://averyveryverylonghost.example:9200/x?token=SECRET", out, sizeof out);
    assert_true(strlen(out) < sizeof out);
    assert_null(strstr(out, "SECRET"));
    char one[1];
    lf_mask_url("http://h?SECRET", one, sizeof one);
    assert_int_equal(one[0], '\0');
}

/* The set of kinds logged once is bounded: 64 kinds, then one "full" verdict, then silence
 * for new kinds while known ones stay known. */
static void log_once_set_is_bounded(void **state)
{
    (void)state;
    struct lf_once s = {0};
    char k[16];
    for (int i = 0; i < LF_ONCE_KINDS; i++) {
        snprintf(k, sizeof k, "%d", i);
        assert_int_equal(lf_once_check(&s, "400", k), LF_ONCE_FIRST);
        assert_int_equal(lf_once_check(&s, "400", k), LF_ONCE_SEEN);
    }
    assert_int_equal(lf_once_check(&s, "400", "new"), LF_ONCE_FULL);
    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof k, "n%d", i);
        assert_int_equal(lf_once_check(&s, "400", k), LF_ONCE_SEEN);
    }
    assert_int_equal(lf_once_check(&s, "400", "0"), LF_ONCE_SEEN);
    /* (a, b) is not (ab, "") */
    struct lf_once t = {0};
    assert_int_equal(lf_once_check(&t, "ab", NULL), LF_ONCE_FIRST);
    assert_int_equal(lf_once_check(&t, "a", "b"), LF_ONCE_FIRST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lf_log_level_evaluated_once),
        cmocka_unit_test(lf_log_arguments_evaluated_once_or_not_at_all),
        cmocka_unit_test(lf_log_escapes_control_bytes),
        cmocka_unit_test(mask_url_hides_query_without_path),
        cmocka_unit_test(mask_url_hides_userinfo_path_and_query),
        cmocka_unit_test(mask_url_fits_small_buffers),
        cmocka_unit_test(log_once_set_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
