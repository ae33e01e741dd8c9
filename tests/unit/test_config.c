/*
 * test_config.c - agent.conf reading (agent/base/config.c): sections and their lines, FILE:LINE
 * errors for unknown keys and bad values, ${VAR} / ${VAR:-default} expansion, sizes,
 * durations, booleans, lists, lines longer than inih's 200-byte buffer, comments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/base/config.h"

struct demo {
    const char *name;
    long n;
    uint64_t size;
    long dur;
    int flag;
    struct conf_list list;
    struct conf_kvlist kv;
    const char *mode;
};

static const struct conf_key demo_keys[] = {
    {"name", CT_STR, "dflt", offsetof(struct demo, name), "a name", NULL},
    {"n", CT_INT, "7", offsetof(struct demo, n), "a number", NULL},
    {"size", CT_SIZE, "1KiB", offsetof(struct demo, size), "a size", NULL},
    {"dur", CT_DURATION, "1s", offsetof(struct demo, dur), "a duration", NULL},
    {"flag", CT_BOOL, "false", offsetof(struct demo, flag), "a flag", NULL},
    {"list", CT_LIST, "", offsetof(struct demo, list), "a list", NULL},
    {"kv.", CT_PREFIX, NULL, offsetof(struct demo, kv), "prefixed", NULL},
    {"mode", CT_STR, "a", offsetof(struct demo, mode), "a|b", "a|b"},
    {NULL, 0, NULL, 0, NULL, NULL},
};

static int has_err(const struct conf_errs *e, const char *want)
{
    for (int i = 0; i < e->n; i++)
        if (strstr(e->msg[i], want))
            return 1;
    return 0;
}

static void dump(const struct conf_errs *e)
{
    for (int i = 0; i < e->n; i++)
        print_message("  err: %s\n", e->msg[i]);
}
#define ASSERT_ERR(e, want)                                                                  \
    do {                                                                                     \
        if (!has_err(e, want)) {                                                             \
            dump(e);                                                                         \
            fail_msg("no error containing '%s'", want);                                      \
        }                                                                                    \
    } while (0)

static void sections_entries_and_their_lines(void **s)
{
    (void)s;
    struct conf_errs errs = {0};
    struct conf *c = conf_load_string("t.conf",
        "; comment\n"
        "# comment\n"
        "[agent]\n"
        "name = a\n"
        "\n"
        "[input web]\n"
        "  paths = /x/*.log  \n"
        "[output kafka main]\n"
        "brokers = b:9092\n"
        "[output file]\n", &errs);
    assert_non_null(c);
    assert_int_equal(errs.n, 0);
    assert_int_equal(c->n, 4);
    assert_string_equal(c->s[0].type, "agent");
    assert_int_equal(c->s[0].line, 3);
    assert_int_equal(c->s[0].e[0].line, 4);
    assert_string_equal(c->s[1].type, "input");
    assert_string_equal(c->s[1].name, "web");
    assert_int_equal(c->s[1].line, 6);
    assert_string_equal(conf_find(&c->s[1], "paths")->value, "/x/*.log");
    assert_int_equal(conf_find(&c->s[1], "paths")->line, 7);
    assert_string_equal(c->s[2].subtype, "kafka");
    assert_string_equal(c->s[2].name, "main");
    assert_string_equal(c->s[3].subtype, "file");
    assert_string_equal(c->s[3].name, "file"); /* [output TYPE] is named after its type */
    assert_int_equal(c->s[3].line, 10);
    conf_free(c);
    conf_errs_free(&errs);
}

static void apply_fills_values_and_defaults(void **s)
{
    (void)s;
    struct conf_errs errs = {0};
    struct conf *c = conf_load_string("t.conf",
        "[x]\n"
        "n = -12\n"
        "size = 5MiB\n"
        "dur = 250ms\n"
        "flag = yes\n"
        "list = a, b ,,c\n"
        "kv.one = 1\n"
        "kv.two.deep = 2\n"
        "mode = b\n", &errs);
    struct demo d = {0};
    assert_int_equal(conf_apply(c, &c->s[0], demo_keys, &d, &errs), 0);
    assert_int_equal(conf_report_unused(c, &c->s[0], &errs), 0);
    assert_string_equal(d.name, "dflt");
    assert_int_equal(d.n, -12);
    assert_int_equal(d.size, 5u << 20);
    assert_int_equal(d.dur, 250);
    assert_int_equal(d.flag, 1);
    assert_int_equal(d.list.n, 3);
    assert_string_equal(d.list.v[0], "a");
    assert_string_equal(d.list.v[1], "b");
    assert_string_equal(d.list.v[2], "c");
    assert_int_equal(d.kv.n, 2);
    assert_string_equal(d.kv.v[1].key, "two.deep");
    assert_int_equal(d.kv.v[1].line, 8);
    assert_string_equal(d.mode, "b");
    conf_free_target(demo_keys, &d);
    conf_free(c);
    conf_errs_free(&errs);
}

static void errors_name_file_and_line(void **s)
{
    (void)s;
    struct conf_errs errs = {0};
    struct conf *c = conf_load_string("bad.conf",
        "[x]\n"
        "n = twelve\n"
        "size = 5 parsecs\n"
        "dur = soon\n"
        "flag = maybe\n"
        "mode = c\n"
        "colour = blue\n"
        "kv. = 3\n"
        "n = 3\n", &errs);
    struct demo d = {0};
    conf_apply(c, &c->s[0], demo_keys, &d, &errs);
    conf_report_unused(c, &c->s[0], &errs);
    ASSERT_ERR(&errs, "bad.conf:2: n: 'twelve' is not an integer");
    ASSERT_ERR(&errs, "bad.conf:3: size:");
    ASSERT_ERR(&errs, "bad.conf:4: dur:");
    ASSERT_ERR(&errs, "bad.conf:5: flag:");
    ASSERT_ERR(&errs, "bad.conf:6: mode: 'c' is not one of a|b");
    ASSERT_ERR(&errs, "bad.conf:7: unknown key 'colour' in [x]");
    ASSERT_ERR(&errs, "bad.conf:8: 'kv.' needs a name");
    ASSERT_ERR(&errs, "bad.conf:9: duplicate key 'n' (first set on line 2)");
    conf_free_target(demo_keys, &d);
    conf_free(c);
    conf_errs_free(&errs);
    c = conf_load_string("k.conf", "orphan = 1\n[x]\nthis line has no equals sign\n", &errs);
    ASSERT_ERR(&errs, "k.conf:1: key 'orphan' outside any [section]");
    ASSERT_ERR(&errs, "k.conf:3: syntax error");
    conf_free(c);
    conf_errs_free(&errs);
}

static void env_expansion(void **s)
{
    (void)s;
    char err[256];
    setenv("LF_T_SET", "value", 1);
    setenv("LF_T_EMPTY", "", 1);
    unsetenv("LF_T_UNSET");
    char *r = conf_expand_env("a ${LF_T_SET} b", err, sizeof err);
    assert_string_equal(r, "a value b");
    free(r);
    r = conf_expand_env("${LF_T_UNSET:-fallback}/${LF_T_SET:-x}", err, sizeof err);
    assert_string_equal(r, "fallback/value");
    free(r);
    r = conf_expand_env("${LF_T_EMPTY:-dflt}|${LF_T_EMPTY}|", err, sizeof err);
    assert_string_equal(r, "dflt||"); /* empty counts as unset for :- (as in the shell) */
    free(r);
    r = conf_expand_env("${LF_T_UNSET:-}x", err, sizeof err);
    assert_string_equal(r, "x");
    free(r);
    r = conf_expand_env("cost $5 and $ {x} ${LF_T_SET}$", err, sizeof err);
    assert_string_equal(r, "cost $5 and $ {x} value$");
    free(r);
    assert_null(conf_expand_env("${LF_T_UNSET}", err, sizeof err));
    assert_non_null(strstr(err, "LF_T_UNSET is not set"));
    assert_null(conf_expand_env("${LF_T_SET", err, sizeof err));
    assert_null(conf_expand_env("${}", err, sizeof err));
    assert_null(conf_expand_env("${A-B}", err, sizeof err));
    /* through the loader: the error names the line */
    struct conf_errs errs = {0};
    struct conf *c = conf_load_string("e.conf", "[x]\nname = ${LF_T_SET}\nn = ${LF_T_UNSET}\n", &errs);
    assert_string_equal(conf_find(&c->s[0], "name")->value, "value");
    ASSERT_ERR(&errs, "e.conf:3: n: environment variable LF_T_UNSET is not set");
    conf_free(c);
    conf_errs_free(&errs);
}

static void sizes_durations_bools(void **s)
{
    (void)s;
    struct { const char *in; uint64_t want; } sz[] = {
        {"0", 0}, {"512", 512}, {"64KiB", 65536}, {"64k", 65536}, {"5MiB", 5u << 20},
        {"1GiB", 1u << 30}, {"2KB", 2000}, {"3MB", 3000000}, {"1GB", 1000000000},
        {"1.5KiB", 1536}, {"10 MiB", 10u << 20}, {"7b", 7},
    };
    for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++) {
        uint64_t v = 1;
        if (conf_parse_size(sz[i].in, &v) != 0 || v != sz[i].want)
            fail_msg("size '%s' -> %llu, wanted %llu", sz[i].in, (unsigned long long)v,
                     (unsigned long long)sz[i].want);
    }
    const char *badsz[] = {"", "x", "-1", "5 parsecs", "1TiB5", "1e30"};
    for (size_t i = 0; i < sizeof badsz / sizeof badsz[0]; i++) {
        uint64_t v;
        if (conf_parse_size(badsz[i], &v) == 0)
            fail_msg("size '%s' accepted", badsz[i]);
    }
    struct { const char *in; long want; } du[] = {
        {"250ms", 250}, {"1s", 1000}, {"10", 10000}, {"5m", 300000}, {"1h", 3600000},
        {"1.5s", 1500}, {"2d", 172800000},
    };
    for (size_t i = 0; i < sizeof du / sizeof du[0]; i++) {
        long v = -1;
        if (conf_parse_duration(du[i].in, &v) != 0 || v != du[i].want)
            fail_msg("duration '%s' -> %ld, wanted %ld", du[i].in, v, du[i].want);
    }
    const char *baddu[] = {"", "soon", "-1s", "5 fortnights", "1e20h"};
    for (size_t i = 0; i < sizeof baddu / sizeof baddu[0]; i++) {
        long v;
        if (conf_parse_duration(baddu[i], &v) == 0)
            fail_msg("duration '%s' accepted", baddu[i]);
    }
    int b;
    const char *t[] = {"true", "YES", "on", "1"}, *f[] = {"false", "No", "off", "0"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(conf_parse_bool(t[i], &b), 0);
        assert_int_equal(b, 1);
        assert_int_equal(conf_parse_bool(f[i], &b), 0);
        assert_int_equal(b, 0);
    }
    assert_int_equal(conf_parse_bool("maybe", &b), -1);
}

static void long_lines_keep_values_and_line_numbers(void **s)
{
    (void)s;
    /* A 1500-character regex value: longer than inih's 200-byte first buffer, with '[' at
     * many positions (one of them lands at the start of a continuation chunk). */
    char re[1600];
    size_t n = 0;
    while (n < 1500) {
        memcpy(re + n, "[a-z]+\\d{2,4}", 13);
        n += 13;
    }
    re[n] = '\0';
    for (int shift = 0; shift < 16; shift++) {
        char text[2000];
        snprintf(text, sizeof text, "[x]\nname = %.*s%s\n[y]\nbogus = 1\n", shift, "aaaaaaaaaaaaaaaa", re);
        struct conf_errs errs = {0};
        struct conf *c = conf_load_string("long.conf", text, &errs);
        assert_int_equal(errs.n, 0);
        assert_int_equal(c->n, 2);
        assert_string_equal(c->s[1].type, "y");
        assert_int_equal(c->s[1].line, 3);
        const char *v = conf_find(&c->s[0], "name")->value;
        assert_int_equal(strlen(v), (size_t)shift + n);
        assert_string_equal(v + shift, re);
        assert_int_equal(conf_find(&c->s[1], "bogus")->line, 4);
        conf_report_unused(c, &c->s[1], &errs);
        ASSERT_ERR(&errs, "long.conf:4: unknown key 'bogus'");
        conf_free(c);
        conf_errs_free(&errs);
    }
    /* the same through a real file (fgets path) */
    char path[] = "/tmp/lf_test_config_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "[x]\nname = %s\n\n[y]\nbogus = 1\n", re);
    fclose(f);
    struct conf_errs errs = {0};
    struct conf *c = conf_load(path, &errs);
    assert_int_equal(errs.n, 0);
    assert_int_equal(c->n, 2);
    assert_string_equal(conf_find(&c->s[0], "name")->value, re);
    assert_int_equal(c->s[1].line, 4);
    assert_int_equal(conf_find(&c->s[1], "bogus")->line, 5);
    conf_free(c);
    conf_errs_free(&errs);
    unlink(path);
}

static void inline_comments_are_not_values(void **s)
{
    (void)s;
    struct conf_errs errs = {0};
    struct conf *c = conf_load_string("c.conf",
        "[x]\n"
        "name = shop ; the service\n"
        "list = a,b   ; two\n"
        "mode = a;b\n"                      /* no space: part of the value */
        "n = 5 # hash is not an inline comment\n", &errs);
    assert_string_equal(conf_find(&c->s[0], "name")->value, "shop");
    assert_string_equal(conf_find(&c->s[0], "list")->value, "a,b");
    assert_string_equal(conf_find(&c->s[0], "mode")->value, "a;b");
    assert_string_equal(conf_find(&c->s[0], "n")->value, "5 # hash is not an inline comment");
    conf_free(c);
    conf_errs_free(&errs);
}

/* Batches keep each event's fields and message only when an output reads them
 * (output_desc.uses_fields, or a `when`): file and Elasticsearch do not; a Kafka topic
 * template or key does. */
static void fields_are_kept_only_when_an_output_reads_them(void **s)
{
    (void)s;
    static const struct {
        const char *outputs;
        int keep;
    } cases[] = {
        {"[output file]\npath = /tmp/lf-keep-out.json\n", 0},
        {"[output file]\npath = /tmp/lf-keep-out.json\nwhen = http.response.status_code >= 500\n", 1},
        {"[output elasticsearch]\nhosts = http://127.0.0.1:9\n", 0},
        {"[output kafka]\nbrokers = 127.0.0.1:9\ntopic = logs\n", 0},
        {"[output kafka]\nbrokers = 127.0.0.1:9\ntopic = logs-%{service.name}\n", 1},
        {"[output kafka]\nbrokers = 127.0.0.1:9\ntopic = logs\nkey = source.ip\n", 1},
        {"[output kafka]\nbrokers = 127.0.0.1:9\ntopic = logs\nkey = host.name\n", 0},
        {"[output file]\npath = /tmp/lf-keep-out.json\n[output slack]\n", 1},
    };
    char dir[] = "/tmp/lf_test_keep_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/agent.conf", dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "[agent]\ndata_dir = %s\n[input a]\npaths = %s/*.log\n%s", dir, dir,
                cases[i].outputs);
        fclose(f);
        struct agent a;
        memset(&a, 0, sizeof a);
        struct conf_errs errs = {0};
        int n = agent_configure(&a, path, &errs);
        dump(&errs);
        assert_int_equal(n, 0);
        if (a.keep_fields != cases[i].keep)
            fail_msg("case %zu: keep_fields %d, want %d", i, a.keep_fields, cases[i].keep);
        agent_unconfigure(&a);
        conf_errs_free(&errs);
    }
    unlink(path);
    rmdir(dir);
}

static void missing_file_is_an_error(void **s)
{
    (void)s;
    struct conf_errs errs = {0};
    assert_null(conf_load("/nonexistent/agent.conf", &errs));
    ASSERT_ERR(&errs, "/nonexistent/agent.conf: cannot open");
    conf_errs_free(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sections_entries_and_their_lines),
        cmocka_unit_test(apply_fills_values_and_defaults),
        cmocka_unit_test(errors_name_file_and_line),
        cmocka_unit_test(env_expansion),
        cmocka_unit_test(sizes_durations_bools),
        cmocka_unit_test(long_lines_keep_values_and_line_numbers),
        cmocka_unit_test(inline_comments_are_not_values),
        cmocka_unit_test(fields_are_kept_only_when_an_output_reads_them),
        cmocka_unit_test(missing_file_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
