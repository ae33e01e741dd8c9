/*
 * test_migrate.c - the pieces of `logferry migrate filebeat` below the command line:
 * reading filebeat.yml (agent/migrate_yaml.c: dotted keys as go-ucfg reads them, lines,
 * conflicts, hostile documents), Filebeat values and durations (migrate_core.c), conditions
 * (migrate_processors.c, checked against our own `when` compiler), the SHA-256 Filebeat
 * fingerprints files with (sha256.c, against Filebeat's own take-over fixture), and the
 * conversion of inputs and outputs with the sweep that reports what nothing consumed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/base/event.h"
#include "agent/migrate.h"
#include "agent/migrate_processors.h"
#include "agent/base/when.h"

static struct my_node *parse(const char *y, char *err, size_t errsz)
{
    return my_parse(y, strlen(y), err, errsz);
}

static void dotted_keys_are_paths_like_filebeat(void **state)
{
    (void)state;
    char err[256];
    struct my_node *a = parse("output.kafka.hosts: [a, b]\noutput:\n  kafka:\n    topic: t\n", err,
                              sizeof err);
    assert_non_null(a);
    struct my_node *h = my_path(a, "output.kafka.hosts");
    assert_non_null(h);
    assert_int_equal(h->kind, MY_SEQ);
    assert_int_equal(h->n, 2);
    assert_int_equal(h->line, 1);
    assert_string_equal(my_str(my_path(a, "output.kafka.topic")), "t");
    assert_int_equal(my_path(a, "output.kafka.topic")->line, 4);
    my_free(a);
}

static void same_setting_twice_is_an_error_with_both_lines(void **state)
{
    (void)state;
    char err[256];
    assert_null(parse("output.file.path: /a\noutput:\n  file:\n    path: /b\n", err, sizeof err));
    assert_non_null(strstr(err, "4: 'path' is already set on line 1"));
    assert_null(parse("a: 1\na.b: 2\n", err, sizeof err));
    assert_non_null(strstr(err, "2: 'a' is set on line 1"));
}

static void syntax_errors_name_the_line(void **state)
{
    (void)state;
    char err[256];
    assert_null(parse("a:\n  - x\n b: [1, 2\nc: 3\n", err, sizeof err));
    assert_true(atoi(err) >= 3);
    assert_null(parse("- a\n- b\n", err, sizeof err));
    assert_non_null(strstr(err, "must be a mapping"));
}

static void alias_bombs_are_refused(void **state)
{
    (void)state;
    char err[256];
    const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
    assert_null(parse(bomb, err, sizeof err));
    assert_non_null(strstr(err, "refused"));
    struct my_node *ok = parse("base: &b {x: 1}\nother: *b\n", err, sizeof err);
    assert_non_null(ok);
    assert_string_equal(my_str(my_path(ok, "other.x")), "1");
    my_free(ok);
}

static void scalars_nulls_and_booleans(void **state)
{
    (void)state;
    char err[256];
    struct my_node *r = parse("a: ~\nb: ''\nc: 'null'\nd: yes\ne: 'true'\nf: false\n", err,
                              sizeof err);
    assert_non_null(r);
    assert_null(my_str(my_get(r, "a")));
    assert_string_equal(my_str(my_get(r, "b")), "");
    assert_string_equal(my_str(my_get(r, "c")), "null");
    assert_int_equal(my_bool(my_get(r, "d")), 1);
    assert_int_equal(my_bool(my_get(r, "e")), -1); /* quoted: a string */
    assert_int_equal(my_bool(my_get(r, "f")), 0);
    my_free(r);
}

static void go_durations_in_our_syntax(void **state)
{
    (void)state;
    static const char *const cases[][2] = {{"1m30s", "90s"}, {"5", "5s"},  {"500ms", "500ms"},
                                           {"2h", "2h"},     {"0.1s", "100ms"}, {"5m", "5m"},
                                           {"0", "0s"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *d = mig_duration(cases[i][0]);
        assert_non_null(d);
        assert_string_equal(d, cases[i][1]);
        free(d);
    }
    assert_null(mig_duration("soon"));
    assert_null(mig_duration("-1s"));
    assert_null(mig_duration("10x"));
}

static void sha256_matches_filebeat_fingerprints(void **state)
{
    (void)state;
    unsigned char h[32];
    char hex[65];
    lf_sha256("abc", 3, h);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* 56 bytes: the padding spills into a second block */
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    lf_sha256(two, strlen(two), h);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* Filebeat's take-over fixture: its registry key is the SHA-256 of the first 64 bytes */
    char path[4096], buf[64];
    snprintf(path, sizeof path, "%s/tests/data/filebeat-registry/take-over/01.log",
             getenv("LOGFERRY_SOURCE_DIR") ? getenv("LOGFERRY_SOURCE_DIR") : LOGFERRY_SOURCE_DIR);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(buf, 1, sizeof buf, f), sizeof buf);
    fclose(f);
    lf_sha256(buf, sizeof buf, h);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    assert_string_equal(hex, "6fb3cb6c565bdba1354f64a42dd47ef937964019400dd571f25c2cd13a9fb5be");
}

static void conditions_compile_as_our_when(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"equals: {http.response.status_code: 200}", "http.response.status_code == 200"},
        {"equals: {service.name: 'shop'}", "service.name == \"shop\""},
        {"contains: {message: 'a.b\"c'}", "message =~ \"a\\\\.b\\\"c\""},
        {"regexp: {url.path: '^/health$'}", "url.path =~ \"^/health$\""},
        {"range: {http.response.status_code: {gte: 500, lt: 600}}",
         "http.response.status_code >= 500 and http.response.status_code < 600"},
        {"has_fields: [a.b, c]", "a and c"}, /* placeholder, checked below */
        {"not: {equals: {a: 1}}", "not (a == 1)"},
        {"or: [{equals: {a: 1}}, {regexp: {b: x}}]", "(a == 1) or (b =~ \"x\")"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256];
        struct my_node *c = parse(cases[i][0], err, sizeof err);
        assert_non_null(c);
        struct buf b;
        buf_init(&b, 4096);
        assert_int_equal(mig_condition(c, &b), 0);
        assert_int_equal(buf_cstr(&b), 0);
        if (strncmp(cases[i][0], "has_fields", 10) == 0)
            assert_string_equal(b.p, "a.b and c");
        else
            assert_string_equal(b.p, cases[i][1]);
        int pos;
        struct when *w = when_compile(b.p, err, sizeof err, &pos);
        if (!w)
            fail_msg("'%s' does not compile: %s (column %d)", b.p, err, pos);
        when_free(w);
        buf_free(&b);
        my_free(c);
    }
    char err[256];
    struct my_node *c = parse("network: {source.ip: private}", err, sizeof err);
    struct buf b;
    buf_init(&b, 4096);
    assert_int_equal(mig_condition(c, &b), -1);
    buf_free(&b);
    my_free(c);
}

/* Runs inputs + outputs + sweep over a document; returns the agent.conf text. */
static char *convert(const char *yml, struct migrate *m)
{
    char err[256];
    memset(m, 0, sizeof *m);
    m->yml_path = "filebeat.yml";
    m->config_dir = strdup("/etc/filebeat");
    buf_init(&m->agent, 1 << 20);
    buf_init(&m->inputs, 1 << 20);
    buf_init(&m->outputs, 1 << 20);
    m->root = parse(yml, err, sizeof err);
    assert_non_null(m->root);
    assert_int_equal(mig_inputs(m), 0);
    assert_int_equal(mig_outputs(m), 0);
    mig_sweep(m);
    struct buf all;
    buf_init(&all, 0);
    buf_cstr(&all); /* storage even when all three are empty */
    buf_printf(&all, "%.*s%.*s%.*s", (int)m->agent.len, m->agent.p ? m->agent.p : "",
               (int)m->inputs.len, m->inputs.p ? m->inputs.p : "", (int)m->outputs.len,
               m->outputs.p ? m->outputs.p : "");
    buf_cstr(&all);
    return all.p;
}

static int has_note(const struct migrate *m, enum mig_note_kind k, int line, const char *part)
{
    for (int i = 0; i < m->nnotes; i++)
        if (m->notes[i].kind == k && m->notes[i].line == line && strstr(m->notes[i].msg, part))
            return 1;
    return 0;
}

static void values_keep_variables_and_refuse_comments(void **state)
{
    (void)state;
    struct migrate m;
    char *out = convert("output.file:\n  path: ${path.config}/out\n  filename: x\n"
                        "filebeat.inputs:\n- type: log\n  paths: ['/a/*.log']\n"
                        "  include_lines: ['x ;y']\n  fields: {pw: '${PW:secret}', n: 1}\n", &m);
    assert_non_null(strstr(out, "path = /etc/filebeat/out/x\n"));
    assert_non_null(strstr(out, "fields.fields.pw = ${PW:-secret}\n"));
    assert_null(strstr(out, "include_lines"));
    assert_true(has_note(&m, MIG_DROP, 7, "would start a comment"));
    assert_true(has_note(&m, MIG_INFO, 8, "strings"));
    free(out);
    mig_free(&m);
}

static void unknown_settings_are_reported_with_their_line(void **state)
{
    (void)state;
    struct migrate m;
    char *out = convert("filebeat.inputs:\n- type: log\n  paths: [/a]\n  frobnicate: 3\n"
                        "- type: journald\n  id: j\nmonitoring.enabled: true\n"
                        "output.console: {pretty: true}\n", &m);
    assert_true(has_note(&m, MIG_DROP, 4, "filebeat.inputs[0].frobnicate: no logferry equivalent"));
    assert_true(has_note(&m, MIG_DROP, 5, "input type 'journald'"));
    assert_true(has_note(&m, MIG_DROP, 7, "monitoring: no logferry equivalent"));
    assert_true(has_note(&m, MIG_DROP, 8, "output.console: not supported"));
    assert_int_equal(mig_errors(&m), 0);
    free(out);
    mig_free(&m);
}

static void kafka_and_elasticsearch_outputs(void **state)
{
    (void)state;
    struct migrate m;
    char *out = convert("output.kafka:\n  hosts: [k1:9092, k2:9092]\n  topic: '%{[fields.t]}'\n"
                        "  key: '%{[host.name]}'\n  username: u\n  password: ${P}\n"
                        "  ssl.certificate_authorities: [/ca.pem]\n  required_acks: -1\n", &m);
    assert_non_null(strstr(out, "brokers = k1:9092,k2:9092\n"));
    assert_non_null(strstr(out, "topic = %{fields.t}\n"));
    assert_non_null(strstr(out, "key = host.name\n"));
    assert_non_null(strstr(out, "kafka.sasl.mechanism = PLAIN\n"));
    assert_non_null(strstr(out, "kafka.security.protocol = SASL_SSL\n"));
    assert_non_null(strstr(out, "kafka.ssl.ca.location = /ca.pem\n"));
    assert_int_equal(mig_drops(&m), 0);
    free(out);
    mig_free(&m);
    out = convert("output.elasticsearch:\n  hosts: [es:9200, 'localhost']\n  api_key: 'id:key'\n"
                  "  path: /es\n", &m);
    assert_non_null(strstr(out, "hosts = http://es:9200/es, http://localhost:9200/es\n"));
    assert_non_null(strstr(out, "api_key = aWQ6a2V5\n")); /* base64("id:key") */
    free(out);
    mig_free(&m);
    out = convert("output.elasticsearch:\n  hosts: [es]\n  api_key: a\n  username: b\n", &m);
    assert_int_equal(mig_errors(&m), 1);
    free(out);
    mig_free(&m);
}

static void logstash_defaults_and_tls_off(void **state)
{
    (void)state;
    struct migrate m;
    char *out = convert("output.logstash:\n  hosts: [ls1, 'ls2:6000', '[::1]']\n"
                        "  ssl.enabled: false\n  ssl.certificate_authorities: [/ca.pem]\n", &m);
    assert_non_null(strstr(out, "hosts = ls1:5044, ls2:6000, [::1]:5044\n"));
    assert_null(strstr(out, "ca_file"));
    assert_int_equal(mig_drops(&m), 0);
    free(out);
    mig_free(&m);
}

/* filebeat.yml is the operator's, but a key or value must still never become a second line
 * (a section or a key) of agent.conf. */
static void keys_and_values_cannot_inject_lines(void **state)
{
    (void)state;
    struct migrate m;
    char *out = convert("filebeat.inputs:\n- type: log\n  paths: [/a]\n"
                        "  fields: {\"x\\n[output file]\\npath\": 1, ok: 2}\n"
                        "processors:\n- drop_event.when.equals: {message: \"a\\n[b]\"}\n"
                        "output.kafka:\n  hosts: [k]\n  topic: t\n  key: \"%{[a\\nb]}\"\n"
                        "  sasl.mechanism: \"PLAIN\\n[output file]\"\n  username: u\n", &m);
    assert_non_null(strstr(out, "fields.fields.ok = 2\n"));
    assert_non_null(strstr(out, "when = not (message == \"a\\n[b]\")\n"));
    /* every line is a section header or KEY = VALUE */
    int sections = 0;
    for (char *line = out; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len && line[0] == '[')
            sections++;
        else if (len)
            assert_non_null(memmem(line, len, " = ", 3));
        line += len + (nl ? 1 : 0);
    }
    assert_int_equal(sections, 2); /* [input log-1], [output kafka] */
    assert_true(has_note(&m, MIG_DROP, 4, "not a field name"));
    assert_true(has_note(&m, MIG_DROP, 10, "key: only a single"));
    free(out);
    mig_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dotted_keys_are_paths_like_filebeat),
        cmocka_unit_test(same_setting_twice_is_an_error_with_both_lines),
        cmocka_unit_test(syntax_errors_name_the_line),
        cmocka_unit_test(alias_bombs_are_refused),
        cmocka_unit_test(scalars_nulls_and_booleans),
        cmocka_unit_test(go_durations_in_our_syntax),
        cmocka_unit_test(sha256_matches_filebeat_fingerprints),
        cmocka_unit_test(conditions_compile_as_our_when),
        cmocka_unit_test(values_keep_variables_and_refuse_comments),
        cmocka_unit_test(unknown_settings_are_reported_with_their_line),
        cmocka_unit_test(kafka_and_elasticsearch_outputs),
        cmocka_unit_test(logstash_defaults_and_tls_off),
        cmocka_unit_test(keys_and_values_cannot_inject_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
