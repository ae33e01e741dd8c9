/*
 * test_metrics_http.c - the HTTP endpoint over a real loopback socket (agent/http.c), the
 * HTML page's escaping (agent/status_page.c), http_listen parsing, and `logferry status`
 * (agent/cmd_status.c) against the endpoint and against a registry when no agent answers.
 *
 * lf_status_json() is a fake returning `fake_status` (see test_metrics.c for why that is
 * safe to link). The server listens on 127.0.0.1 port 0 (a free port the kernel picks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/base/json.h"
#include "agent/base/metrics.h"
#include "agent/cmd.h"
#include "agent/health.h"
#include "agent/http.h"
#include "agent/status_page.h"
#include "agent/base/metrics.h"
#include "agent/status.h"

static json_t *fake_status;
json_t *lf_status_json(void) { return fake_status ? json_incref(fake_status) : NULL; }

/* A status whose strings are hostile: markup, quotes, a control character (jansson
 * holds only valid UTF-8, so invalid bytes are tested on lf_html_escape directly). */
static json_t *hostile_status(void)
{
    json_t *st = json_pack(
        "{s:s, s:s, s:i, s:s, s:[{s:s, s:s, s:I, s:I, s:I, s:s}],"
        " s:[{s:s, s:s, s:s, s:I, s:I, s:I, s:s}, {s:s, s:s, s:s, s:I, s:I}],"
        " s:{s:i, s:i, s:i, s:i}, s:[{s:s, s:I}]}",
        "name", "was-<b>1</b>", "version", "0.1.0", "uptime_s", 61, "config",
        "/etc/logferry/agent.conf",
        "files", "input", "nginx", "path", "/var/log/<script>alert(1)</script>/x\"y'&z\x1b[31m?.log",
        "size", (json_int_t)5000, "committed_offset", (json_int_t)1000, "lag_bytes",
        (json_int_t)4000, "state", "open",
        "outputs", "name", "kafka-main", "type", "kafka", "state", "ok", "events_acked",
        (json_int_t)12345, "events_dead", (json_int_t)2, "state_since_ms", (json_int_t)1,
        "last_error", "",
        "name", "slack-<img src=x onerror=alert(2)>", "type", "slack", "state", "failed",
        "state_since_ms", (json_int_t)1, "events_acked", (json_int_t)0,
        "queue", "events", 3, "bytes", 300, "max_events", 100, "max_bytes", 1000,
        "alerts", "text", "1× HTTP 500 on was-1: GET /<script>steal()</script>", "time_ms",
        (json_int_t)1700000000000);
    assert_non_null(st);
    return st;
}

/* ---- http_listen parsing ---- */

static void listen_port_alone_stays_on_loopback(void **state)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int all;
    char err[256];
    assert_int_equal(lf_http_parse_listen("5066", &ss, &len, &all, err, sizeof err), 0);
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    assert_int_equal(a->sin_family, AF_INET);
    assert_int_equal(ntohl(a->sin_addr.s_addr), INADDR_LOOPBACK);
    assert_int_equal(ntohs(a->sin_port), 5066);
    assert_int_equal(all, 0);
}

static void listen_forms_ipv4_ipv6_all_interfaces(void **state)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int all;
    char err[256];
    assert_int_equal(lf_http_parse_listen("[::1]:9", &ss, &len, &all, err, sizeof err), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 9);
    assert_int_equal(all, 0);
    assert_int_equal(lf_http_parse_listen(":5066", &ss, &len, &all, err, sizeof err), 0);
    assert_int_equal(all, 1);
    assert_int_equal(lf_http_parse_listen("[::]:5066", &ss, &len, &all, err, sizeof err), 0);
    assert_int_equal(all, 1);
    assert_int_equal(lf_http_parse_listen("localhost:80", &ss, &len, &all, err, sizeof err), 0);
    assert_int_equal(ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr), INADDR_LOOPBACK);
}

static void listen_rejects_garbage_with_a_sentence(void **state)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int all;
    char err[256];
    assert_int_equal(lf_http_parse_listen("127.0.0.1:99999", &ss, &len, &all, err, sizeof err), -1);
    assert_non_null(strstr(err, "is not a port"));
    assert_int_equal(lf_http_parse_listen("example.com:80", &ss, &len, &all, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a numeric"));
    assert_int_equal(lf_http_parse_listen("::1:80", &ss, &len, &all, err, sizeof err), -1);
    assert_int_equal(lf_http_parse_listen("[::1]80", &ss, &len, &all, err, sizeof err), -1);
    assert_int_equal(lf_http_parse_listen("", &ss, &len, &all, err, sizeof err), -1);
}

/* ---- the page ---- */

static char *page(const json_t *st)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(lf_status_page_html(&b, st, 1700000000000LL), 0);
    buf_cstr(&b);
    return b.p;
}

static void page_escapes_every_attacker_controlled_string(void **state)
{
    json_t *st = hostile_status();
    char *html = page(st);
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "<b>1"));
    assert_null(strchr(html, '\x1b'));
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;/x&quot;y&#39;&amp;z"));
    assert_non_null(strstr(html, "slack-&lt;img src=x onerror=alert(2)&gt;"));
    assert_non_null(strstr(html, "GET /&lt;script&gt;steal()&lt;/script&gt;"));
    assert_non_null(strstr(html, "2023-11-14T22:13:20.000Z")); /* alert time_ms formatted */
    json_decref(st);
    free(html);
}

static void page_shows_lag_states_and_health_at_a_glance(void **state)
{
    json_t *st = hostile_status();
    char *html = page(st);
    assert_non_null(strstr(html, "<td class=\"n lag\">3.9 KiB</td>")); /* 4000 bytes behind */
    assert_non_null(strstr(html, "<span class=\"st ok\">ok</span>"));
    assert_non_null(strstr(html, "<span class=\"st failed\">failed</span>"));
    assert_non_null(strstr(html, "class=\"health h503\">unhealthy: output slack-&lt;img"));
    assert_non_null(strstr(html, "<td class=\"n\">12345</td>"));
    assert_null(strstr(html, "http://")); /* no external asset */
    assert_null(strstr(html, "https://"));
    json_decref(st);
    free(html);
}

static void page_banner_is_amber_while_an_output_retries_within_budget(void **state)
{
    json_t *st = json_pack("{s:[{s:s, s:s, s:I}]}", "outputs", "name", "k", "state", "retrying",
                           "state_since_ms", (json_int_t)(1700000000000LL - 5000));
    char *html = page(st);
    assert_non_null(strstr(html, "class=\"health hwarn\">ok: 1 output(s), k retrying for 5s"));
    json_decref(st);
    free(html);
}

static void page_says_agent_not_running_without_status(void **state)
{
    char *html = page(NULL);
    assert_non_null(strstr(html, "unhealthy: the agent is not running"));
    assert_non_null(strstr(html, "No file is being read."));
    free(html);
}

static void html_escape_replaces_invalid_utf8_and_keeps_valid(void **state)
{
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(lf_html_escape(&b, "é\xC3(\xED\xA0\x80\xF0\x9F\x98\x80\x01"), 0);
    buf_cstr(&b);
    /* é kept; lone C3 -> U+FFFD; surrogate ED A0 80 -> 3x U+FFFD; emoji kept; 0x01 -> ␁ */
    assert_string_equal(b.p, "é\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xF0\x9F\x98\x80&#x2401;");
    buf_free(&b);
}

static void json_string_lossy_keeps_invalid_utf8_paths_visible(void **state)
{
    json_t *j = lf_json_string_lossy("/var/log/bad\xffname\xC3.log");
    assert_non_null(j);
    assert_string_equal(json_string_value(j), "/var/log/bad\xEF\xBF\xBDname\xEF\xBF\xBD.log");
    json_decref(j);
    j = lf_json_string_lossy("/var/log/é.log"); /* valid: unchanged */
    assert_string_equal(json_string_value(j), "/var/log/é.log");
    json_decref(j);
}

/* ---- the server ---- */

struct resp {
    long code;
    char body[1 << 16];
    size_t len;
    char headers[4096];
    size_t hlen;
};

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t k = sz * n;
    if (r->len + k >= sizeof r->body)
        k = sizeof r->body - 1 - r->len;
    memcpy(r->body + r->len, p, k);
    r->len += k;
    r->body[r->len] = '\0';
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t k = sz * n;
    if (r->hlen + k >= sizeof r->headers)
        k = sizeof r->headers - 1 - r->hlen;
    memcpy(r->headers + r->hlen, p, k);
    r->hlen += k;
    r->headers[r->hlen] = '\0';
    return sz * n;
}

static void get(const char *path, const char *method, const char *host_hdr, struct resp *r)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", lf_http_port(), path);
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char hh[128];
    if (host_hdr) {
        snprintf(hh, sizeof hh, "Host: %s", host_hdr);
        h = curl_slist_append(h, hh);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    if (method)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
}

static int server_up(void **state)
{
    char err[256];
    if (lf_http_start("127.0.0.1:0", err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return lf_http_port() > 0 ? 0 : -1;
}

static int server_down(void **state)
{
    lf_http_stop();
    json_decref(fake_status);
    fake_status = NULL;
    return 0;
}

static void http_serves_status_metrics_healthz_and_page(void **state)
{
    static struct resp r;
    json_decref(fake_status);
    fake_status = json_pack("{s:s, s:[], s:[{s:s, s:s, s:s, s:I}], s:{}, s:[]}", "name", "h",
                            "files", "outputs", "name", "out1", "type", "file", "state", "ok",
                            "events_acked", (json_int_t)77, "queue", "alerts");
    memset(&lf_metrics, 0, sizeof lf_metrics);
    METRIC_ADD(lf_metrics.lines_read, 4242);

    get("/status", NULL, NULL, &r);
    assert_int_equal(r.code, 200);
    assert_non_null(strstr(r.headers, "Content-Type: application/json"));
    json_error_t e;
    json_t *back = json_loads(r.body, 0, &e);
    assert_non_null(back);
    assert_true(json_equal(back, fake_status));
    json_decref(back);

    get("/metrics", NULL, NULL, &r);
    assert_int_equal(r.code, 200);
    assert_non_null(strstr(r.headers, "text/plain; version=0.0.4"));
    assert_non_null(strstr(r.body, "\nlogferry_lines_read_total 4242\n"));
    assert_non_null(strstr(r.body, "logferry_output_events_acked_total{output=\"out1\",type=\"file\"} 77\n"));

    get("/healthz", NULL, NULL, &r);
    assert_int_equal(r.code, 200);
    assert_string_equal(r.body, "ok: 1 output(s) healthy\n");

    get("/", NULL, NULL, &r);
    assert_int_equal(r.code, 200);
    assert_non_null(strstr(r.headers, "Content-Type: text/html; charset=utf-8"));
    assert_non_null(strstr(r.headers, "Content-Security-Policy: default-src 'none'"));
    assert_non_null(strstr(r.headers, "Cache-Control: no-store"));
    assert_non_null(strstr(r.body, "<td>out1</td>"));
}

static void http_healthz_503_with_reason_when_an_output_failed(void **state)
{
    static struct resp r;
    json_decref(fake_status);
    fake_status = hostile_status();
    get("/healthz", NULL, NULL, &r);
    assert_int_equal(r.code, 503);
    assert_non_null(strstr(r.body, "unhealthy: output slack-<img src=x onerror=alert(2)> failed"));
    assert_non_null(strstr(r.headers, "Content-Type: text/plain")); /* never rendered as HTML */
    json_decref(fake_status);
    fake_status = NULL;
    get("/healthz", NULL, NULL, &r);
    assert_int_equal(r.code, 503);
    assert_string_equal(r.body, "unhealthy: the agent is not running\n");
    get("/status", NULL, NULL, &r);
    assert_int_equal(r.code, 503);
}

static void http_refuses_other_methods_paths_and_foreign_host_names(void **state)
{
    static struct resp r;
    get("/status", "POST", NULL, &r);
    assert_int_equal(r.code, 405);
    assert_non_null(strstr(r.headers, "Allow: GET, HEAD"));
    get("/nope", NULL, NULL, &r);
    assert_int_equal(r.code, 404);
    get("/status", NULL, "attacker.example:5066", &r); /* DNS rebinding */
    assert_int_equal(r.code, 421);
    get("/healthz", NULL, "localhost:5066", &r);
    assert_int_equal(r.code, 503); /* allowed through; agent "not running" */
    get("/healthz", NULL, "[::1]:5066", &r);
    assert_int_equal(r.code, 503);
}

static void http_start_refuses_a_second_daemon(void **state)
{
    char listen[64], err[256];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", lf_http_port() + 1);
    assert_int_equal(lf_http_start(listen, err, sizeof err), -1);
    assert_non_null(strstr(err, "already running"));
}

static void http_start_reports_a_port_in_use(void **state)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s, 1), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    char where[64], err[256];
    snprintf(where, sizeof where, "127.0.0.1:%d", ntohs(a.sin_port));
    assert_int_equal(lf_http_start(where, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot listen on 127.0.0.1:"));
    assert_non_null(strstr(err, "Address already in use"));
    assert_int_equal(lf_http_port(), 0);
    close(s);
}

/* ---- logferry status ---- */

static char *run_status(const char *conf_text, int *rc_out, char *tmpdir)
{
    char conf[512], outp[512];
    snprintf(conf, sizeof conf, "%s/agent.conf", tmpdir);
    snprintf(outp, sizeof outp, "%s/out.txt", tmpdir);
    FILE *f = fopen(conf, "w");
    fputs(conf_text, f);
    fclose(f);
    fflush(stdout);
    fflush(stderr);
    int saved1 = dup(1), saved2 = dup(2);
    FILE *o = fopen(outp, "w+");
    dup2(fileno(o), 1);
    dup2(fileno(o), 2);
    char *argv[] = {"status", "-c", conf, NULL};
    *rc_out = cmd_status(3, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved1, 1);
    dup2(saved2, 2);
    close(saved1);
    close(saved2);
    fseek(o, 0, SEEK_END);
    long n = ftell(o);
    rewind(o);
    char *txt = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(txt, 1, (size_t)n, o), (size_t)n);
    fclose(o);
    return txt;
}

static void status_command_prints_the_agents_table(void **state)
{
    char dir[] = "/tmp/test_status.XXXXXX";
    assert_non_null(mkdtemp(dir));
    fake_status = hostile_status();
    char conf[256];
    snprintf(conf, sizeof conf, "[agent]\nhttp_listen = 127.0.0.1:%d\ndata_dir = %s\n",
             lf_http_port(), dir);
    int rc;
    char *out = run_status(conf, &rc, dir);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "FILES (1)"));
    /* the path, with the escape character and the invalid byte shown, not emitted */
    assert_non_null(strstr(out, "/var/log/<script>alert(1)</script>/x\"y'&z\\x1B[31m?.log"));
    assert_null(strchr(out, '\x1b'));
    assert_non_null(strstr(out, "           5000           1000           4000  open"));
    assert_non_null(strstr(out, "kafka-main       kafka          ok               12345          0        2"));
    assert_non_null(strstr(out, "health: unhealthy: output slack-"));
    free(out);

    /* a ${VAR} only the service's environment defines does not stop the status command */
    snprintf(conf, sizeof conf, "[agent]\nhttp_listen = 127.0.0.1:%d\n[output elasticsearch es]\n"
             "api_key = ${LF_TEST_UNSET_SECRET_VAR}\n", lf_http_port());
    unsetenv("LF_TEST_UNSET_SECRET_VAR");
    out = run_status(conf, &rc, dir);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "note: "));
    assert_non_null(strstr(out, "has 1 problem"));
    assert_non_null(strstr(out, "FILES (1)"));
    free(out);
    json_decref(fake_status);
    fake_status = NULL;
    char p[600];
    snprintf(p, sizeof p, "%s/agent.conf", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/out.txt", dir);
    unlink(p);
    rmdir(dir);
}

static void status_command_falls_back_to_the_registry_when_no_agent_answers(void **state)
{
    char dir[] = "/tmp/test_status.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char logp[600], regp[600], conf[1024];
    snprintf(logp, sizeof logp, "%s/app.log", dir);
    FILE *f = fopen(logp, "w");
    for (int i = 0; i < 100; i++)
        fputs("0123456789\n", f); /* 1100 bytes */
    fclose(f);
    struct stat sb;
    assert_int_equal(stat(logp, &sb), 0);
    snprintf(regp, sizeof regp, "%s/registry.json", dir);
    f = fopen(regp, "w");
    fprintf(f, "{\"version\":1,\"files\":[{\"path\":\"%s\",\"dev\":%llu,\"ino\":%llu,"
               "\"fp\":\"00\",\"fp_len\":0,\"offset\":1000},"
               "{\"path\":\"%s/gone.log\",\"dev\":1,\"ino\":2,\"fp\":\"00\",\"fp_len\":0,"
               "\"offset\":5}]}",
            logp, (unsigned long long)sb.st_dev, (unsigned long long)sb.st_ino, dir);
    fclose(f);
    /* port 1 on loopback: nothing listens there */
    snprintf(conf, sizeof conf, "[agent]\nhttp_listen = 127.0.0.1:1\ndata_dir = %s\n", dir);
    int rc;
    char *out = run_status(conf, &rc, dir);
    assert_int_equal(rc, 3);
    assert_non_null(strstr(out, "logferry status: no agent answered on http://127.0.0.1:1/status"));
    assert_non_null(strstr(out, "           1100           1000            100  on disk"));
    assert_non_null(strstr(out, "gone.log"));
    assert_non_null(strstr(out, "missing (rotated away or deleted)"));
    free(out);

    /* without http_listen it says why it cannot ask */
    snprintf(conf, sizeof conf, "[agent]\ndata_dir = %s\n", dir);
    out = run_status(conf, &rc, dir);
    assert_int_equal(rc, 3);
    assert_non_null(strstr(out, "http_listen is not set"));
    assert_non_null(strstr(out, "on disk"));
    free(out);
    char p[700];
    const char *names[] = {"agent.conf", "out.txt", "app.log", "registry.json"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(listen_port_alone_stays_on_loopback),
        cmocka_unit_test(listen_forms_ipv4_ipv6_all_interfaces),
        cmocka_unit_test(listen_rejects_garbage_with_a_sentence),
        cmocka_unit_test(page_escapes_every_attacker_controlled_string),
        cmocka_unit_test(page_shows_lag_states_and_health_at_a_glance),
        cmocka_unit_test(page_banner_is_amber_while_an_output_retries_within_budget),
        cmocka_unit_test(page_says_agent_not_running_without_status),
        cmocka_unit_test(html_escape_replaces_invalid_utf8_and_keeps_valid),
        cmocka_unit_test(json_string_lossy_keeps_invalid_utf8_paths_visible),
        cmocka_unit_test(status_command_falls_back_to_the_registry_when_no_agent_answers),
        cmocka_unit_test(http_start_reports_a_port_in_use),
    };
    const struct CMUnitTest served[] = {
        cmocka_unit_test(http_serves_status_metrics_healthz_and_page),
        cmocka_unit_test(http_healthz_503_with_reason_when_an_output_failed),
        cmocka_unit_test(http_refuses_other_methods_paths_and_foreign_host_names),
        cmocka_unit_test(http_start_refuses_a_second_daemon),
        cmocka_unit_test(status_command_prints_the_agents_table),
    };
    int rc = cmocka_run_group_tests_name("pure", pure, NULL, NULL);
    rc |= cmocka_run_group_tests_name("served", served, server_up, server_down);
    curl_global_cleanup();
    return rc;
}
