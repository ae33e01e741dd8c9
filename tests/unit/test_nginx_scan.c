/*
 * test_nginx_scan.c - parsers/nginx_scan.c against PCRE2: on Filebeat's nginx fixtures,
 * on the benchmark's kind of line and on hand-made edge cases of the pattern (lazy groups,
 * escapes, missing optional fields, digit limits, NULs, bytes >= 0x80), the scanner must
 * either decline or give exactly PCRE2's captures; and it must not decline the ordinary
 * lines, or it would be dead code.
 *
 * floor: parsers
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../fuzz/nginx_scan_diff.h"

static struct scan_diff D;

static int check(const char *s, size_t n)
{
    char why[200];
    int r = scan_diff(&D, s, n, why, sizeof why);
    if (r < 0)
        fail_msg("%s on: %.*s", why, (int)n, s);
    return r;
}

static int checks(const char *s)
{
    return check(s, strlen(s));
}

static void t_fixtures_answered(void **state)
{
    (void)state;
    const char *src = getenv("LOGFERRY_SOURCE_DIR");
    const char *names[] = {"access.log", "test.log"};
    int answered = 0, lines = 0;
    for (int f = 0; f < 2; f++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/tests/data/filebeat-nginx/%s",
                 src && *src ? src : LOGFERRY_SOURCE_DIR, names[f]);
        FILE *fp = fopen(path, "rb");
        if (!fp)
            fail_msg("cannot read %s", path);
        char line[8192];
        while (fgets(line, sizeof line, fp)) {
            size_t n = strcspn(line, "\n");
            lines++;
            answered += check(line, n);
        }
        fclose(fp);
    }
    assert_true(lines > 5);
    /* Every fixture line that PCRE2 matches is an ordinary one: the scanner takes all of
     * them (count them so a scanner that declines everything fails here). */
    assert_true(answered >= lines - 2);
}

static void t_ordinary(void **state)
{
    (void)state;
    assert_int_equal(1, checks("122.180.196.105 - - [26/Nov/2026:08:00:00 +0000] \"GET "
                               "/api/v1/orders/89661 HTTP/2.0\" 200 9096 \"-\" \"Mozilla/5.0 "
                               "(Linux; Android 14)\" 0.007"));
    assert_int_equal(1, checks("::1 - alice [26/Nov/2026:08:00:00 +0900] \"POST /x?a=1 "
                               "HTTP/1.1\" 502 - \"https://r/\" \"curl/8\""));
    /* X-Forwarded-For lists, plain and quoted */
    assert_int_equal(1, checks("10.0.0.1, 8.8.8.8 1.2.3.4 - - [26/Nov/2026:08:00:00 +0000] "
                               "\"GET / HTTP/1.1\" 200 1 \"-\" \"ua\""));
    assert_int_equal(1, checks("\"10.0.0.1, 8.8.8.8\" 1.2.3.4 - - [26/Nov/2026:08:00:00 "
                               "+0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\" \"extra\" rt=0.1"));
    /* empty request, no referrer/agent, escapes inside quotes */
    assert_int_equal(1, checks("1.2.3.4 - - [t] \"\" 400 0"));
    assert_int_equal(1, checks("1.2.3.4 - - [t] \"GET /\\\"x HTTP/1.1\" 200 1 \"a\\\\\" \"b\\x22c\""));
}

static void t_edges(void **state)
{
    (void)state;
    static const char *const cases[] = {
        /* lazy group 1: several " - ", the first wins; user with spaces and dashes */
        "a - b - c - [t] \"r\" 200 1",
        "a - - - [t] \"r\" 200 1",
        "a -  [t] \"r\" 200 1",
        "a - [t] \"r\" 200 1",       /* no room for group 2's " [" */
        " - - [t] \"r\" 200 1",      /* group 1 would be empty */
        "a - b[t] \"r\" 200 1",      /* no space before '[' */
        "a - b [t \"r\" 200 1",      /* no ']' */
        "a - b [t]\"r\" 200 1",
        "a - b [t] \"r 200 1",       /* request never closes */
        "a - b [t] \"r\\\" 200 1",   /* escaped quote swallows the close */
        "a - b [t] \"r\\",           /* backslash last */
        "a - b [t] \"r\" 20 1",
        "a - b [t] \"r\" 2000 1",
        "a - b [t] \"r\" 200 ",
        "a - b [t] \"r\" 200 -",
        "a - b [t] \"r\" 200 --",
        "a - b [t] \"r\" 200 1234567890123456789012", /* more than 18 digits */
        "a - b [t] \"r\" 200 123456789012345678",
        "a - b [t] \"r\" 200 1x \"ref\" \"ua\"",
        "a - b [t] \"r\" 200 1 \"ref",                /* optional group does not close */
        "a - b [t] \"r\" 200 1 \"ref\"\"ua\"",
        "a - b [t] \"r\" 200 1 \"ref\" \"ua",
        "a - b [t] \"r\" 200 1  \"ref\"",
        "a - b [t]] \"r\" 200 1",
        "a - b [[t] \"r\" 200 1",
        "a ] - b [t] \"r\" 200 1",
        "a - b [t] \"r\" 200 1 \"\" \"\" \"\"",
        "a - b [t] \"r\" 200 1\r",
        "a - b [t] \"r\" 200 1\nmore",               /* LF where the pattern says '.' */
        "a - b [t] \"r\" 200 1\n",
        "a - b [t] \"r\\\n\" 200 1",                 /* '\\' before LF inside quotes */
        "a - b [t] \"r\" 200 1 \"x\\\ny\" \"u\"",
        "a\n - b\n [t\n] \"r\n\" 200 1 \"\n\" \"\n\"",  /* LF in classes: ordinary */
        "",
        "[",
        "a - b [",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        checks(cases[i]);
    /* LF inside [^...] classes is answered (joined multiline records), not declined */
    assert_int_equal(1, checks("a\n - b\n [t\n] \"r\n\" 200 1 \"\n\" \"\n\""));
    /* NUL and bytes >= 0x80 are ordinary bytes to the pattern */
    static const char nul[] = "a\0b - c\0 [t\0] \"r\0\xff\" 200 1 \"\xc3\xa9\" \"\x80\" \0";
    assert_int_equal(1, check(nul, sizeof nul - 1));
    /* every prefix of an ordinary line */
    const char *l = "1.2.3.4 - u [26/Nov/2026:08:00:00 +0000] \"GET /a HTTP/1.1\" 200 12 "
                    "\"r\\\"ef\" \"ua\" 0.1";
    for (size_t n = 0; n <= strlen(l); n++)
        check(l, n);
}

static int setup(void **state)
{
    (void)state;
    return scan_diff_init(&D);
}

static int teardown(void **state)
{
    (void)state;
    scan_diff_free(&D);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_fixtures_answered),
        cmocka_unit_test(t_ordinary),
        cmocka_unit_test(t_edges),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
