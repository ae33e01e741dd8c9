/*
 * test_log.c - the agent's own logging helpers: lf_mask_url() shows where a secret URL points
 * and nothing of its secret parts, whatever the URL's shape (issue 21 item 5).
 * Single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "agent/log.h"
#include "agent/log_once.h"

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
        cmocka_unit_test(mask_url_hides_query_without_path),
        cmocka_unit_test(mask_url_hides_userinfo_path_and_query),
        cmocka_unit_test(mask_url_fits_small_buffers),
        cmocka_unit_test(log_once_set_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
