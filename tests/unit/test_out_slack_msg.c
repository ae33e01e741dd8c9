/*
 * test_out_slack_msg.c - rendering of Slack messages (outputs/slack_msg.c) and the
 * aggregation arithmetic (outputs/slack_agg.c): N× prefixes, summary wording, escaping of
 * hostile log content, and Slack's size limits, checked by decoding the payload with jansson.
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
#include <string.h>

#include "outputs/slack.h"

static void sample_fill(struct sl_sample *s, const char *path, const char *line)
{
    memset(s, 0, sizeof *s);
    s->ts_ms = 1795669706123;
    s->status = 500;
    snprintf(s->host, sizeof s->host, "was-1");
    snprintf(s->service, sizeof s->service, "orders");
    snprintf(s->file, sizeof s->file, "/var/log/nginx/access.log");
    snprintf(s->method, sizeof s->method, "GET");
    snprintf(s->path, sizeof s->path, "%s", path);
    snprintf(s->client, sizeof s->client, "10.1.2.3");
    snprintf(s->agent, sizeof s->agent, "curl/7.88");
    s->line = strdup(line);
    s->line_len = strlen(line);
}

/* Renders m; returns the decoded payload (caller json_decref) and the text in *text. */
static json_t *render(const struct sl_msg *m, struct buf *text)
{
    struct buf js;
    buf_init(text, 64 * 1024);
    buf_init(&js, 256 * 1024);
    assert_int_equal(sl_format(m, text, &js), 0);
    assert_int_equal(buf_cstr(text), 0);
    json_error_t e;
    json_t *doc = json_loadb(js.p, js.len, 0, &e);
    if (!doc)
        fail_msg("payload is not JSON: %s: %.*s", e.text, (int)js.len, js.p);
    buf_free(&js);
    return doc;
}

/* Every mrkdwn/plain text in the payload, concatenated with \n, plus the fallback text. */
static void all_texts(json_t *doc, struct buf *out)
{
    buf_init(out, 1 << 20);
    buf_adds(out, json_string_value(json_object_get(doc, "text")));
    size_t i, j;
    json_t *b, *f;
    json_array_foreach(json_object_get(doc, "blocks"), i, b) {
        json_t *t = json_object_get(b, "text");
        if (t) {
            buf_addc(out, '\n');
            buf_adds(out, json_string_value(json_object_get(t, "text")));
        }
        json_array_foreach(json_object_get(b, "fields"), j, f) {
            buf_addc(out, '\n');
            buf_adds(out, json_string_value(json_object_get(f, "text")));
        }
        json_array_foreach(json_object_get(b, "elements"), j, f) {
            buf_addc(out, '\n');
            buf_adds(out, json_string_value(json_object_get(f, "text")));
        }
    }
    buf_cstr(out);
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Slack's limits: <= 50 blocks, section texts <= 3,000 chars, <= 10 fields of <= 2,000. */
static void assert_within_limits(json_t *doc)
{
    json_t *blocks = json_object_get(doc, "blocks");
    assert_true(json_is_array(blocks));
    assert_true(json_array_size(blocks) <= 50);
    size_t i, j;
    json_t *b, *f;
    json_array_foreach(blocks, i, b) {
        json_t *t = json_object_get(b, "text");
        if (t)
            assert_true(utf8_chars(json_string_value(json_object_get(t, "text"))) <= 3000);
        json_t *fields = json_object_get(b, "fields");
        assert_true(json_array_size(fields) <= 10);
        json_array_foreach(fields, j, f)
            assert_true(utf8_chars(json_string_value(json_object_get(f, "text"))) <= 2000);
    }
}

static void first_alert_names_every_detail(void **state)
{
    (void)state;
    struct sl_msg m;
    memset(&m, 0, sizeof m);
    sl_agg_init(&m.agg);
    sample_fill(&m.sample, "/api/orders", "10.1.2.3 - - \"GET /api/orders HTTP/1.1\" 500 12");
    m.has_sample = 1;
    m.ngroups = 1;
    m.window_s = 60;
    sl_agg_add(&m.agg, m.sample.ts_ms, 500, "/api/orders", "was-1", 1);
    struct buf text, all;
    json_t *doc = render(&m, &text);
    assert_string_equal(text.p, "1× HTTP 500 on was-1: GET /api/orders from 10.1.2.3 (service "
                                "orders, /var/log/nginx/access.log) at 2026-11-26T05:08:26.123Z");
    all_texts(doc, &all);
    const char *want[] = {"*Host*\nwas-1", "*Service*\norders", "*Status*\n500", "*Method*\nGET",
                          "*Path*\n/api/orders", "*Client*\n10.1.2.3",
                          "*File*\n/var/log/nginx/access.log", "*User agent*\ncurl/7.88",
                          "```10.1.2.3 - - \"GET /api/orders HTTP/1.1\" 500 12```"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(all.p, want[i]))
            fail_msg("missing %s in\n%s", want[i], all.p);
    assert_false(json_is_true(json_object_get(doc, "unfurl_links")));
    assert_within_limits(doc);
    json_decref(doc);
    buf_free(&all);
    buf_free(&text);
    sl_sample_free(&m.sample);
}

static void hostile_content_is_inert(void **state)
{
    (void)state;
    struct sl_msg m;
    memset(&m, 0, sizeof m);
    sl_agg_init(&m.agg);
    sample_fill(&m.sample, "/<!channel>/<https://x|y>", "GET /<!channel> \"<@U123>\" & <https://evil|click> \x1b[31m");
    snprintf(m.sample.agent, sizeof m.sample.agent, "<@U123> <!here> <!subteam^S1>");
    snprintf(m.sample.host, sizeof m.sample.host, "<!everyone>");
    snprintf(m.sample.service, sizeof m.sample.service, "a&b");
    m.has_sample = 1;
    m.ngroups = 1;
    sl_agg_add(&m.agg, m.sample.ts_ms, 500, m.sample.path, m.sample.host, 1);
    struct buf text, all;
    json_t *doc = render(&m, &text);
    all_texts(doc, &all);
    /* no raw angle bracket from the log survives anywhere: no mention, no link */
    const char *bad[] = {"<!channel>", "<@U123>", "<https://x|y>", "<https://evil|click>",
                         "<!here>", "<!everyone>", "<!subteam", "\x1b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (strstr(all.p, bad[i]))
            fail_msg("'%s' survived in\n%s", bad[i], all.p);
    assert_null(strchr(all.p, '<'));
    assert_null(strchr(all.p, '>'));
    assert_non_null(strstr(all.p, "&lt;!channel&gt;"));
    assert_non_null(strstr(all.p, "&lt;@U123&gt;"));
    assert_non_null(strstr(all.p, "&lt;https://x|y&gt;"));
    assert_non_null(strstr(all.p, "a&amp;b"));
    json_decref(doc);
    buf_free(&all);
    buf_free(&text);
    sl_sample_free(&m.sample);
}

static void summary_names_statuses_paths_and_times(void **state)
{
    (void)state;
    struct sl_msg m;
    memset(&m, 0, sizeof m);
    sl_agg_init(&m.agg);
    m.ngroups = 1;
    m.window_s = 60;
    int64_t t0 = 1795669706000;
    for (int i = 0; i < 30; i++)
        sl_agg_add(&m.agg, t0 + i * 1000, 500, "/a", "was-1", 1);
    for (int i = 0; i < 7; i++)
        sl_agg_add(&m.agg, t0 + 50000 + i, 503, "/b", "was-1", 1);
    struct buf text, all;
    json_t *doc = render(&m, &text);
    assert_string_equal(text.p, "37× HTTP 5xx on was-1 in the last 60 s: statuses 500 (30), "
                                "503 (7); top paths /a (30), /b (7); first "
                                "2026-11-26T05:08:26.000Z, last 2026-11-26T05:09:16.006Z");
    all_texts(doc, &all);
    assert_non_null(strstr(all.p, "*Statuses*\n• 500 (30)\n• 503 (7)"));
    assert_non_null(strstr(all.p, "*Top paths*\n• /a (30)\n• /b (7)"));
    assert_non_null(strstr(all.p, "*First*\n2026-11-26T05:08:26.000Z"));
    assert_non_null(strstr(all.p, "*Last*\n2026-11-26T05:09:16.006Z"));
    assert_within_limits(doc);
    json_decref(doc);
    buf_free(&all);
    buf_free(&text);
}

static void top_paths_sorted_and_rest_counted(void **state)
{
    (void)state;
    struct sl_agg a;
    sl_agg_init(&a);
    char p[32];
    uint64_t total = 0;
    for (int i = 0; i < 20; i++) { /* 20 paths, path i seen i+1 times: 8 tracked, rest other */
        snprintf(p, sizeof p, "/p%d", i);
        sl_agg_add(&a, 1000 + i, 500 + i % 12, p, "h", (uint64_t)i + 1);
        total += (uint64_t)i + 1;
    }
    assert_int_equal(a.count, total);
    uint64_t sum = a.paths_other, st = a.st_other;
    for (int i = 0; i < a.npaths; i++)
        sum += a.paths[i].n;
    for (int i = 0; i < a.nst; i++)
        st += a.st[i].n;
    assert_int_equal(sum, total); /* histograms are bounded but never lose a line */
    assert_int_equal(st, total);
    struct sl_msg m;
    memset(&m, 0, sizeof m);
    m.agg = a;
    m.ngroups = 3;
    struct buf text;
    json_t *doc = render(&m, &text);
    char want[64];
    snprintf(want, sizeof want, "%llu× HTTP 5xx/other on h", (unsigned long long)total);
    assert_memory_equal(text.p, want, strlen(want));
    assert_non_null(strstr(text.p, "(3 groups)"));
    assert_non_null(strstr(text.p, "top paths /p7 (8), /p6 (7), /p5 (6), other paths ("));
    json_decref(doc);
    buf_free(&text);
}

static void merge_keeps_exact_counts_and_times(void **state)
{
    (void)state;
    struct sl_agg a, b;
    sl_agg_init(&a);
    sl_agg_init(&b);
    sl_agg_add(&a, 5000, 500, "/x", "h1", 3);
    sl_agg_add(&b, 4000, 502, "/y", "h2", 4);
    sl_agg_add(&b, 9000, 500, "/x", "h2", 1);
    sl_agg_merge(&a, &b);
    assert_int_equal(a.count, 8);
    assert_int_equal(a.first_ms, 4000);
    assert_int_equal(a.last_ms, 9000);
    assert_int_equal(a.nhosts, 2);
    assert_int_equal(a.nst, 2);
    assert_int_equal(a.st[0].n, 4); /* 500: 3 + 1 */
}

static void long_line_cut_within_section_limit(void **state)
{
    (void)state;
    /* 2,800 characters that each escape to 4-5 (<, &): the section must still fit 3,000 */
    char line[2801];
    for (int i = 0; i < 2800; i++)
        line[i] = i % 2 ? '<' : '&';
    line[2800] = '\0';
    struct sl_msg m;
    memset(&m, 0, sizeof m);
    sl_agg_init(&m.agg);
    sample_fill(&m.sample, "/x", line);
    m.sample.line_cut = 1;
    m.has_sample = 1;
    sl_agg_add(&m.agg, 1, 500, "/x", "was-1", 1);
    struct buf text;
    json_t *doc = render(&m, &text);
    size_t i;
    json_t *b;
    int saw_code = 0;
    json_array_foreach(json_object_get(doc, "blocks"), i, b) {
        json_t *t = json_object_get(b, "text");
        if (!t)
            continue;
        const char *s = json_string_value(json_object_get(t, "text"));
        assert_true(utf8_chars(s) <= 3000);
        if (strstr(s, "```")) {
            saw_code = 1;
            assert_non_null(strstr(s, "(cut)"));
            assert_non_null(strstr(s, "…```")); /* cut marked, fence closed */
            /* never a half entity before the ellipsis */
            const char *e = strstr(s, "…```");
            assert_true(e[-1] == ';');
        }
    }
    assert_true(saw_code);
    json_decref(doc);
    buf_free(&text);
    sl_sample_free(&m.sample);
}

static void escape_counts_characters_not_bytes(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1024);
    const char *s = "éééééééééé"; /* 10 characters, 20 bytes */
    assert_int_equal(sl_escape(&b, s, strlen(s), 10), 0);
    buf_cstr(&b);
    assert_string_equal(b.p, s);
    buf_reset(&b);
    assert_int_equal(sl_escape(&b, s, strlen(s), 5), 0);
    buf_cstr(&b);
    assert_string_equal(b.p, "éééé…");
    buf_reset(&b);
    assert_int_equal(sl_escape(&b, "a\nb\tc\x7f", 6, 100), 0);
    buf_cstr(&b);
    assert_string_equal(b.p, "a b c "); /* control characters become spaces */
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_alert_names_every_detail),
        cmocka_unit_test(hostile_content_is_inert),
        cmocka_unit_test(summary_names_statuses_paths_and_times),
        cmocka_unit_test(top_paths_sorted_and_rest_counted),
        cmocka_unit_test(merge_keeps_exact_counts_and_times),
        cmocka_unit_test(long_line_cut_within_section_limit),
        cmocka_unit_test(escape_counts_characters_not_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
