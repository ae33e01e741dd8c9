/*
 * test_log.c - the LF_LOG macro and the record it writes (agent/log.h, agent/log.c).
 *
 * lf_log_write() writes to descriptor 2: each test points it at a temporary file for the
 * duration of one call and reads the record back.
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

#include "agent/log.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lf_log_level_evaluated_once),
        cmocka_unit_test(lf_log_arguments_evaluated_once_or_not_at_all),
        cmocka_unit_test(lf_log_escapes_control_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
