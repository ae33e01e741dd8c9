/*
 * test_out_slack_link.c - the "Open in Kibana" link (outputs/slack_link.c) and where it
 * appears: the URL's shape (Discover, data view, time range a minute either side), hostile
 * host and path values escaped for KQL, rison and the URL (so no '<', '>', '|', space or
 * quote survives to break Slack's <URL|text>), the link in the Slack message and the webhook
 * JSON, and no link without kibana_url or on notices.
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
#include <stdlib.h>
#include <string.h>

#include "outputs/slack.h"

static void msg_init(struct sl_msg *m, const char *host, const char *path)
{
    memset(m, 0, sizeof *m);
    sl_agg_init(&m->agg);
    sl_agg_add(&m->agg, 1795669706000, 500, path, host, 1);
    m->has_sample = 1;
    m->sample.ts_ms = 1795669706000;
    m->sample.status = 500;
    snprintf(m->sample.host, sizeof m->sample.host, "%s", host);
    snprintf(m->sample.path, sizeof m->sample.path, "%s", path);
    m->kibana_url = "https://kibana.example/";
    m->kibana_view = "logferry-data-view";
}

static void pct_decode(const char *s, char *out)
{
    while (*s) {
        if (*s == '%' && s[1] && s[2]) {
            unsigned v;
            sscanf(s + 1, "%2x", &v);
            *out++ = (char)v;
            s += 3;
        } else {
            *out++ = *s++;
        }
    }
    *out = '\0';
}

static void link_is_discover_on_host_path_and_time(void **state)
{
    (void)state;
    struct sl_msg m;
    msg_init(&m, "was-1", "/api/orders");
    struct buf b;
    buf_init(&b, 1 << 16);
    assert_int_equal(sl_kibana_link(&m, &b), 0);
    assert_int_equal(buf_cstr(&b), 0);
    assert_true(strncmp(b.p, "https://kibana.example/app/discover#/?_g=", 41) == 0);
    char dec[4096];
    pct_decode(b.p, dec);
    assert_non_null(strstr(dec, "_g=(time:(from:'2026-11-26T05:07:26.000Z',to:'2026-11-26T05:09:26.000Z'))"));
    assert_non_null(strstr(dec, "&_a=(index:'logferry-data-view',query:(language:kuery,"
                                "query:'host.name:\"was-1\" and url.path:\"/api/orders\"'))"));
    buf_free(&b);
}

static void hostile_values_cannot_escape_the_link(void **state)
{
    (void)state;
    struct sl_msg m;
    msg_init(&m, "was-1", "/a'b\"c!<https://evil|x> y");
    struct buf b;
    buf_init(&b, 1 << 16);
    assert_int_equal(sl_kibana_link(&m, &b), 0);
    assert_int_equal(buf_cstr(&b), 0);
    assert_null(strpbrk(b.p + strlen("https://kibana.example/app/discover#/?"), "<>| '\"!"));
    char dec[4096];
    pct_decode(b.p, dec);
    /* KQL escapes the quote, rison escapes ' and ! with ! */
    assert_non_null(strstr(dec, "url.path:\"/a!'b\\\"c!!<https://evil|x> y\"'"));
    buf_free(&b);

    /* in the Slack message: one <URL|Open in Kibana>, the rest escaped as always */
    struct buf text, js;
    buf_init(&text, 1 << 16);
    buf_init(&js, 1 << 18);
    assert_int_equal(sl_format(&m, &text, &js), 0);
    json_t *doc = json_loadb(js.p, js.len, 0, NULL);
    assert_non_null(doc);
    size_t i;
    json_t *blk;
    int links = 0;
    json_array_foreach(json_object_get(doc, "blocks"), i, blk) {
        json_t *t = json_object_get(blk, "text");
        const char *s = t ? json_string_value(json_object_get(t, "text")) : NULL;
        if (s && strstr(s, "|Open in Kibana>")) {
            links++;
            assert_true(s[0] == '<');
            assert_null(strchr(s + 1, '<'));
        }
    }
    assert_int_equal(links, 1);
    json_decref(doc);

    /* the webhook JSON carries it as "kibana" */
    assert_int_equal(sl_format_webhook(&m, &text, &js), 0);
    doc = json_loadb(js.p, js.len, 0, NULL);
    assert_non_null(doc);
    assert_true(strncmp(json_string_value(json_object_get(doc, "kibana")), "https://kibana.example/app/discover", 35) == 0);
    json_decref(doc);
    buf_free(&text);
    buf_free(&js);
}

static void no_link_without_kibana_url_or_on_notices(void **state)
{
    (void)state;
    struct sl_msg m;
    msg_init(&m, "was-1", "/x");
    m.kibana_url = NULL;
    struct buf b;
    buf_init(&b, 1 << 16);
    assert_int_equal(sl_kibana_link(&m, &b), 0);
    assert_int_equal(b.len, 0);
    msg_init(&m, "was-1", "/x");
    m.kind = SL_FIRING;
    assert_int_equal(sl_kibana_link(&m, &b), 0);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(link_is_discover_on_host_path_and_time),
        cmocka_unit_test(hostile_values_cannot_escape_the_link),
        cmocka_unit_test(no_link_without_kibana_url_or_on_notices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
