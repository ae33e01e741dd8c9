/*
 * test_out_state.c - outputs/out_state.c, the state every output reports and its backoff:
 * the state's time moves only when the state changes, an error is kept (and cut to the
 * field) until replaced, and the backoff doubles to its cap, resets, and keeps the longer
 * delay when one counter is stepped with two bounds (Slack's 5xx and 4xx). Single-threaded.
 *
 * floor: outputs
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "outputs/out_state.h"

static void state_since_moves_only_on_a_change(void **state)
{
    (void)state;
    static struct out_metrics m;
    out_state_set(&m, OUT_RETRYING, "host %s down", "es1");
    assert_int_equal(METRIC_GET(m.state), OUT_RETRYING);
    assert_string_equal(m.last_error, "host es1 down");
    long long since = METRIC_GET(m.state_since_ms);
    assert_true(since > 0);
    METRIC_SET(m.state_since_ms, 1); /* a marker: the same state must not touch it */
    out_state_set(&m, OUT_RETRYING, "host %s down", "es2");
    assert_int_equal(METRIC_GET(m.state_since_ms), 1);
    assert_string_equal(m.last_error, "host es2 down");
    out_state_set(&m, OUT_OK, NULL);
    assert_int_equal(METRIC_GET(m.state), OUT_OK);
    assert_true(METRIC_GET(m.state_since_ms) > 1);
    assert_string_equal(m.last_error, "host es2 down"); /* the last error stays shown */
}

static void error_is_cut_to_the_field(void **state)
{
    (void)state;
    static struct out_metrics m;
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    out_state_note(&m, "%s", big);
    assert_int_equal(strlen(m.last_error), sizeof m.last_error - 1);
    assert_int_equal(METRIC_GET(m.state), OUT_OK); /* a note leaves the state alone */
}

static void backoff_doubles_to_its_cap_and_resets(void **state)
{
    (void)state;
    long next = 0;
    long want[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal(out_backoff_next(&next, 100, 5000), want[i]);
    out_backoff_reset(&next);
    assert_int_equal(out_backoff_next(&next, 100, 5000), 100);
}

static void backoff_with_two_bounds_never_shortens(void **state)
{
    (void)state;
    long next = 0;
    assert_int_equal(out_backoff_next(&next, 1000, 60000), 1000);
    /* a refusal: the long backoff's floor */
    assert_int_equal(out_backoff_next(&next, 30000, 300000), 30000);
    assert_int_equal(out_backoff_next(&next, 30000, 300000), 60000);
    assert_int_equal(out_backoff_next(&next, 30000, 300000), 120000);
    /* then a 5xx: the delay already reached is kept once, then the short cap holds */
    assert_int_equal(out_backoff_next(&next, 1000, 60000), 240000);
    assert_int_equal(out_backoff_next(&next, 1000, 60000), 60000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(state_since_moves_only_on_a_change),
        cmocka_unit_test(error_is_cut_to_the_field),
        cmocka_unit_test(backoff_doubles_to_its_cap_and_resets),
        cmocka_unit_test(backoff_with_two_bounds_never_shortens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
