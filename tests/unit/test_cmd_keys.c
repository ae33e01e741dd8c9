/*
 * test_cmd_keys.c - `logferry keys` (agent/cmd_keys.c): the check that every key of a config
 * table has help text and a default its type accepts, on tables made to fail it and on the
 * real ones; and the escaping that keeps any help text inside its Markdown cell and its roff
 * line. Single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/agent.h"
#include "agent/cmd_keys.h"
#include "outputs/output.h"
#include "parsers/lineproc.h"

/* Runs the check on `t` (after the tables in `seen`), returns the problem count and leaves
 * the messages in *msgs (malloc'd). */
static int check(const struct conf_key *t, const struct conf_key *const *seen, char **msgs)
{
    size_t len = 0;
    FILE *f = open_memstream(msgs, &len);
    assert_non_null(f);
    int n = keys_check_table("[demo]", t, seen, f);
    fclose(f);
    return n;
}

static void key_without_help_is_refused(void **state)
{
    (void)state;
    static const struct conf_key t[] = {
        {"fine", CT_STR, NULL, 0, "has help", NULL},
        {"spool", CT_STR, NULL, 0, NULL, NULL},
        {"spool_full", CT_STR, "block", 0, "", "block|drop"},
        {NULL, 0, NULL, 0, NULL, NULL},
    };
    char *m = NULL;
    assert_int_equal(check(t, NULL, &m), 2);
    assert_non_null(strstr(m, "[demo]: spool has no help text"));
    assert_non_null(strstr(m, "[demo]: spool_full has no help text"));
    assert_null(strstr(m, "fine"));
    free(m);
}

static void default_its_type_rejects_is_refused(void **state)
{
    (void)state;
    static const struct conf_key t[] = {
        {"d", CT_DURATION, "5x", 0, "h", NULL},
        {"i", CT_INT, "12a", 0, "h", NULL},
        {"b", CT_BOOL, "maybe", 0, "h", NULL},
        {"s", CT_SIZE, "lots", 0, "h", NULL},
        {"c", CT_STR, "sometimes", 0, "h", "always|never"},
        {"p.", CT_PREFIX, "x", 0, "h", NULL},
        {"q", CT_PREFIX, NULL, 0, "h", NULL}, /* no trailing '.' */
        {NULL, 0, NULL, 0, NULL, NULL},
    };
    char *m = NULL;
    assert_int_equal(check(t, NULL, &m), 7);
    assert_non_null(strstr(m, "d: the default '5x' is not a duration"));
    assert_non_null(strstr(m, "i: the default '12a' is not an integer"));
    assert_non_null(strstr(m, "b: the default 'maybe' is not a bool"));
    assert_non_null(strstr(m, "s: the default 'lots' is not a size"));
    assert_non_null(strstr(m, "c: the default 'sometimes' is not one of its choices"));
    assert_non_null(strstr(m, "p.: the default 'x' is given to a prefix key, which takes none"));
    assert_non_null(strstr(m, "q: a prefix key must end with '.'"));
    free(m);
}

static void valid_defaults_pass(void **state)
{
    (void)state;
    static const struct conf_key t[] = {
        {"d", CT_DURATION, "250ms", 0, "h", NULL},
        {"i", CT_INT, "-3", 0, "h", NULL},
        {"b", CT_BOOL, "yes", 0, "h", NULL},
        {"s", CT_SIZE, "16MiB", 0, "h", NULL},
        {"c", CT_STR, "never", 0, "h", "always|never"},
        {"e", CT_STR, "", 0, "h", "always|never"}, /* empty: unset */
        {"l", CT_LIST, "a, b", 0, "h", NULL},
        {"p.", CT_PREFIX, NULL, 0, "h", NULL},
        {NULL, 0, NULL, 0, NULL, NULL},
    };
    char *m = NULL;
    assert_int_equal(check(t, NULL, &m), 0);
    assert_string_equal(m, "");
    free(m);
}

static void key_declared_twice_in_a_section_is_refused(void **state)
{
    (void)state;
    static const struct conf_key first[] = {
        {"paths", CT_LIST, NULL, 0, "h", NULL},
        {NULL, 0, NULL, 0, NULL, NULL},
    };
    static const struct conf_key second[] = {
        {"paths", CT_LIST, NULL, 0, "h", NULL},
        {"x", CT_INT, "1", 0, "h", NULL},
        {"x", CT_INT, "1", 0, "h", NULL},
        {NULL, 0, NULL, 0, NULL, NULL},
    };
    const struct conf_key *const seen[] = {first, NULL};
    char *m = NULL;
    assert_int_equal(check(second, seen, &m), 2);
    assert_non_null(strstr(m, "paths is declared twice"));
    assert_non_null(strstr(m, "x is declared twice"));
    free(m);
}

/* What the README and the man page are generated from passes the check. */
static void shipped_tables_pass(void **state)
{
    (void)state;
    char *m = NULL;
    const struct conf_key *const input[] = {agent_conf_input_keys(), NULL};
    assert_int_equal(check(agent_conf_agent_keys(), NULL, &m), 0);
    free(m);
    assert_int_equal(check(agent_conf_input_keys(), NULL, &m), 0);
    free(m);
    assert_int_equal(check(lineproc_keys(), input, &m), 0);
    free(m);
    assert_int_equal(check(parsers_keys(), NULL, &m), 0);
    free(m);
    for (int i = 0; output_types[i]; i++) {
        const struct conf_key *const core[] = {agent_conf_output_keys(), NULL};
        assert_int_equal(check(output_types[i]->conf_table, core, &m), 0);
        free(m);
    }
}

static char *render(void (*fn)(FILE *, const char *), const char *s)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    fn(f, s);
    fclose(f);
    return out;
}

static void markdown_help_stays_in_its_cell(void **state)
{
    (void)state;
    char *o = render(keys_md_text, "a|b <script> & `x|y <z>` *bold* _bulk snake_case [l](u)\nnl");
    assert_string_equal(o, "a\\|b &lt;script&gt; &amp; `x\\|y <z>` \\*bold\\* \\_bulk snake_case "
                           "\\[l\\](u) nl");
    free(o);
    o = render(keys_md_text, "an odd ` backtick <b>");
    assert_string_equal(o, "an odd \\` backtick &lt;b&gt;");
    free(o);
}

static void roff_help_cannot_start_a_request(void **state)
{
    (void)state;
    char *o = render(keys_roff_text, ".so /etc/passwd \\fB - x");
    assert_string_equal(o, "\\&.so /etc/passwd \\efB \\- x");
    free(o);
    o = render(keys_roff_text, "'br");
    assert_string_equal(o, "\\&'br");
    free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_without_help_is_refused),
        cmocka_unit_test(default_its_type_rejects_is_refused),
        cmocka_unit_test(valid_defaults_pass),
        cmocka_unit_test(key_declared_twice_in_a_section_is_refused),
        cmocka_unit_test(shipped_tables_pass),
        cmocka_unit_test(markdown_help_stays_in_its_cell),
        cmocka_unit_test(roff_help_cannot_start_a_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
