/*
 * test_out_slack.c - the Slack output driven through its descriptor (init/send/flush/destroy)
 * with a fake output_env, against the webhook stand-in (tests/tools/slack_standin.py) run as
 * a child process. Proves: first alerts are posted and batches acked at once, counts add up
 * exactly through a flood, overflow and failures, Retry-After and the pace are kept, 4xx
 * answers are logged without the secret, stderr mode, and the config table's checks.
 *
 * floor: outputs
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/base/log.h"
#include "outputs/slack.h"


static const struct fkey *K_STATUS, *K_PATH, *K_METHOD, *K_IP, *K_UA;
static struct event_source src = {.input = "nginx", .path = "/var/log/nginx/access.log"};
static char dir[64], rec[128], url[256];
static pid_t standin = -1;
static atomic_int acks;
static struct out_metrics M;

static void fake_ack(const struct output_env *env, struct event_batch *b)
{
    (void)env;
    (void)b;
    atomic_fetch_add(&acks, 1);
}

static struct output_env env = {.name = "slack", .type = "slack", .host_name = "was-1",
                                .shutdown_timeout_ms = 5000, .m = &M, .ack = fake_ack};

static char *group_by_v[] = {"host.name", "url.path"};

static struct slack_conf base_conf(void)
{
    struct slack_conf c = {.webhook_url = url, .window_ms = 500,
                           .group_by = {group_by_v, 2}, .max_line_chars = 500,
                           .connect_timeout_ms = 2000, .timeout_ms = 5000, .min_interval_ms = 0,
                           .max_groups = 1000};
    return c;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void stop_standin(void);

static void start_standin(const char *plan)
{
    char pf[160];
    snprintf(pf, sizeof pf, "%s/port", dir);
    stop_standin(); /* a failed test may have left one */
    unlink(pf);
    unlink(rec);
    standin = fork();
    assert_true(standin >= 0);
    if (standin == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 1);
        execlp("python3", "python3", LOGFERRY_SOURCE_DIR "/tests/tools/slack_standin.py",
               "--port-file", pf, "--record", rec, "--plan", plan, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(pf, "r");
        int port = 0;
        if (f) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (port > 0) {
            /* the path holds the secret token that must never be printed */
            snprintf(url, sizeof url, "http://127.0.0.1:%d/services/T0/B0/SECRETxTOKENxZZ9", port);
            return;
        }
        sleep_ms(25);
    }
    fail_msg("the Slack stand-in did not start");
}

static void stop_standin(void)
{
    if (standin > 0) {
        kill(standin, SIGTERM);
        waitpid(standin, NULL, 0);
    }
    standin = -1;
}

/* Decoded records of the stand-in (a JSON array; caller json_decref). */
static json_t *records(void)
{
    json_t *arr = json_array();
    FILE *f = fopen(rec, "r");
    if (!f)
        return arr;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n')
            break;
        json_t *r = json_loads(line, 0, NULL);
        if (r)
            json_array_append_new(arr, r);
    }
    free(line);
    fclose(f);
    return arr;
}

static size_t wait_records(size_t n, int secs)
{
    for (int i = 0; i < secs * 50; i++) {
        json_t *r = records();
        size_t got = json_array_size(r);
        json_decref(r);
        if (got >= n)
            return got;
        sleep_ms(20);
    }
    return 0;
}

/* N of a message: its fallback text starts with "N×". */
static unsigned long long msg_count(json_t *r)
{
    json_t *body = json_loads(json_string_value(json_object_get(r, "body")), 0, NULL);
    assert_non_null(body);
    const char *t = json_string_value(json_object_get(body, "text"));
    assert_non_null(t);
    char *end;
    unsigned long long n = strtoull(t, &end, 10);
    if (end == t || strncmp(end, "×", strlen("×")) != 0)
        fail_msg("text does not start with N×: %s", t);
    json_decref(body);
    return n;
}

/* Sum of N× over delivered (200) messages; *failed gets the number of other answers. */
static unsigned long long delivered_sum(int *nmsg, int *failed)
{
    json_t *r = records();
    unsigned long long sum = 0;
    size_t i;
    json_t *x;
    *nmsg = *failed = 0;
    json_array_foreach(r, i, x) {
        assert_int_equal(json_array_size(json_object_get(x, "limit_violations")), 0);
        if (json_integer_value(json_object_get(x, "status")) == 200) {
            sum += msg_count(x);
            (*nmsg)++;
        } else {
            (*failed)++;
        }
    }
    json_decref(r);
    return sum;
}

static int fd_saved = -1;
static char errlog[160];

static void capture_stderr(void)
{
    snprintf(errlog, sizeof errlog, "%s/stderr.log", dir);
    int fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    fd_saved = dup(2);
    dup2(fd, 2);
    close(fd);
}

static char *release_stderr(void)
{
    dup2(fd_saved, 2);
    close(fd_saved);
    FILE *f = fopen(errlog, "r");
    assert_non_null(f);
    char *s = calloc(1, 1 << 20);
    size_t n = fread(s, 1, (1 << 20) - 1, f);
    s[n] = '\0';
    fclose(f);
    return s;
}

static int log_contains(const char *needle)
{
    FILE *f = fopen(errlog, "r");
    if (!f)
        return 0;
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strstr(buf, needle) != NULL;
}

/* A batch of n events: status(i), path(i), a hostile user agent for some. */
static struct event_batch *make_batch(int n, int (*status)(int), void (*path)(int, char *, size_t),
                                      int base_i)
{
    struct event_batch *b = batch_new(&src, "was-1", (uint32_t)n);
    struct event_builder eb;
    eb_init(&eb);
    struct event_base eb_base = {.host_name = "was-1", .path = src.path};
    for (int k = 0; k < n; k++) {
        int i = base_i + k;
        char p[128], line[512];
        path(i, p, sizeof p);
        int st = status(i);
        snprintf(line, sizeof line, "10.0.0.%d - - [26/Nov/2026:05:00:00 +0000] \"GET %s HTTP/1.1\" %d 12 \"-\" \"ua-%d\"",
                 i % 250, p, st, i);
        eb_reset(&eb);
        eb_add_str(&eb, K_METHOD, "GET", 3);
        eb_add_str(&eb, K_PATH, p, strlen(p));
        eb_add_int(&eb, K_STATUS, st);
        eb_add_str(&eb, K_IP, "10.0.0.1", 8);
        eb_add_str(&eb, K_UA, "curl/7.88", 9);
        assert_int_equal(batch_add(b, &eb_base, &eb, line, strlen(line), (uint64_t)i * 100,
                                   (uint64_t)i * 100 + 99, 1795669706000 + i),
                         0);
    }
    eb_free(&eb);
    return b;
}

static int st_500(int i) { return 500 + (i % 4 == 0 ? 3 : 0); }
static int st_mixed(int i) { return i % 4 == 3 ? 200 : 500 + i % 3; }
static void path_one(int i, char *o, size_t n) { (void)i; snprintf(o, n, "/api/orders"); }
static void path_five(int i, char *o, size_t n) { snprintf(o, n, "/api/p%d", i % 5); }
static void path_each(int i, char *o, size_t n) { snprintf(o, n, "/g/%d", i); }

static void *start(struct slack_conf *c)
{
    char err[256];
    void *st = out_slack_desc.init(c, &env, err, sizeof err);
    if (!st)
        fail_msg("init: %s", err);
    return st;
}

static void send_and_free(void *st, struct event_batch *b)
{
    int before = atomic_load(&acks);
    out_slack_desc.send(st, b);
    /* acked exactly once, before send() returned */
    assert_int_equal(atomic_load(&acks), before + 1);
    batch_free(b);
}

static int setup(void **state)
{
    (void)state;
    fkey_init_builtin();
    K_STATUS = fkey_intern("http.response.status_code");
    K_PATH = fkey_intern("url.path");
    K_METHOD = fkey_intern("http.request.method");
    K_IP = fkey_intern("source.ip");
    K_UA = fkey_intern("user_agent.original");
    fkey_freeze();
    snprintf(dir, sizeof dir, "/tmp/test_out_slack.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(rec, sizeof rec, "%s/requests.jsonl", dir);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    stop_standin();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (!getenv("LF_KEEP") && system(cmd) != 0) /* LF_KEEP=1 keeps the last requests */
        return 1;
    fkey_reset();
    curl_global_cleanup();
    return 0;
}

static void reset_metrics(void) { memset(&M, 0, sizeof M); }

static void first_alert_posted_and_batch_acked_at_once(void **state)
{
    (void)state;
    reset_metrics();
    start_standin("");
    struct slack_conf c = base_conf();
    c.window_ms = 60000;
    void *st = start(&c);
    send_and_free(st, make_batch(1, st_500, path_one, 1));
    assert_int_equal(wait_records(1, 10), 1);
    json_t *r = records();
    json_t *body = json_loads(json_string_value(json_object_get(json_array_get(r, 0), "body")),
                              0, NULL);
    const char *t = json_string_value(json_object_get(body, "text"));
    assert_non_null(strstr(t, "1× HTTP 500 on was-1: GET /api/orders from 10.0.0.1"));
    assert_true(json_array_size(json_object_get(body, "blocks")) >= 3);
    /* later lines of the group within the window wait for the summary */
    send_and_free(st, make_batch(3, st_500, path_one, 2));
    sleep_ms(300);
    json_t *r2 = records();
    assert_int_equal(json_array_size(r2), 1);
    assert_int_equal(out_slack_desc.flush(st, 5000), 0);
    int nmsg, failed;
    assert_int_equal(delivered_sum(&nmsg, &failed), 4);
    assert_int_equal(nmsg, 2);
    assert_int_equal(METRIC_GET(M.alerts_sent), 2);
    assert_int_equal(METRIC_GET(M.alerts_folded), 3);
    out_slack_desc.destroy(st);
    json_decref(r2);
    json_decref(body);
    json_decref(r);
    stop_standin();
}

static void flood_over_paths_counts_add_up_exactly(void **state)
{
    (void)state;
    reset_metrics();
    start_standin("");
    struct slack_conf c = base_conf();
    c.window_ms = 200;
    c.min_interval_ms = 30;
    void *st = start(&c);
    int matched = 0;
    for (int k = 0; k < 16; k++) {
        for (int i = 0; i < 500; i++)
            matched += st_mixed(k * 500 + i) >= 500;
        send_and_free(st, make_batch(500, st_mixed, path_five, k * 500));
        sleep_ms(25);
    }
    assert_int_equal(out_slack_desc.flush(st, 10000), 0);
    out_slack_desc.destroy(st);
    int nmsg, failed;
    assert_int_equal(delivered_sum(&nmsg, &failed), (unsigned long long)matched);
    assert_int_equal(failed, 0);
    assert_int_equal(METRIC_GET(M.alerts_sent), (unsigned long long)nmsg);
    assert_int_equal(METRIC_GET(M.events_skipped), 8000 - matched);
    assert_true(nmsg >= 2); /* the first alerts (5 groups at once: combined) and summaries */
    assert_true(nmsg < 200); /* folded, not one message per line */
    stop_standin();
}

static void overflow_beyond_max_groups_is_still_counted(void **state)
{
    (void)state;
    reset_metrics();
    start_standin("");
    struct slack_conf c = base_conf();
    c.max_groups = 4;
    c.window_ms = 300;
    void *st = start(&c);
    send_and_free(st, make_batch(40, st_500, path_each, 0));
    assert_int_equal(out_slack_desc.flush(st, 10000), 0);
    out_slack_desc.destroy(st);
    int nmsg, failed;
    assert_int_equal(delivered_sum(&nmsg, &failed), 40);
    stop_standin();
}

static void retry_after_is_honoured_and_alerts_fold(void **state)
{
    (void)state;
    reset_metrics();
    start_standin("429:1");
    struct slack_conf c = base_conf();
    void *st = start(&c);
    send_and_free(st, make_batch(1, st_500, path_one, 1));
    assert_int_equal(wait_records(1, 10), 1);
    send_and_free(st, make_batch(1, st_500, path_each, 7)); /* another group, meanwhile */
    assert_int_equal(wait_records(2, 10), 2);
    json_t *r = records();
    json_int_t t1 = json_integer_value(json_object_get(json_array_get(r, 0), "mono_ns"));
    json_int_t t2 = json_integer_value(json_object_get(json_array_get(r, 1), "mono_ns"));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(r, 0), "status")), 429);
    assert_true(t2 - t1 >= 950000000); /* Retry-After: 1 (second) */
    assert_int_equal(msg_count(json_array_get(r, 1)), 2); /* the refused line folded in */
    assert_int_equal(out_slack_desc.flush(st, 5000), 0);
    out_slack_desc.destroy(st);
    json_decref(r);
    stop_standin();
}

/* Text of record i's message. */
static char *record_text(size_t i)
{
    json_t *r = records();
    json_t *body = json_loads(json_string_value(json_object_get(json_array_get(r, i), "body")),
                              0, NULL);
    assert_non_null(body);
    char *t = strdup(json_string_value(json_object_get(body, "text")));
    json_decref(body);
    json_decref(r);
    return t;
}

static void window_end_posts_summary_then_group_starts_over(void **state)
{
    (void)state;
    reset_metrics();
    start_standin("");
    struct slack_conf c = base_conf();
    c.window_ms = 300;
    void *st = start(&c);
    send_and_free(st, make_batch(1, st_500, path_one, 1));
    assert_int_equal(wait_records(1, 10), 1);
    send_and_free(st, make_batch(2, st_500, path_one, 2)); /* same group, within the window */
    assert_int_equal(wait_records(2, 10), 2);              /* the summary, at the window's end */
    /* after a window without matches the group is over: the next line is a first alert */
    sleep_ms(700);
    send_and_free(st, make_batch(1, st_500, path_one, 9));
    assert_int_equal(wait_records(3, 10), 3);
    char *t0 = record_text(0), *t1 = record_text(1), *t2 = record_text(2);
    assert_non_null(strstr(t0, "1× HTTP 500 on was-1: GET /api/orders"));
    assert_non_null(strstr(t1, "2× HTTP 500 on was-1 in the last"));
    assert_non_null(strstr(t1, "top paths /api/orders (2)"));
    assert_non_null(strstr(t2, "1× HTTP 500 on was-1: GET /api/orders"));
    free(t0);
    free(t1);
    free(t2);
    out_slack_desc.destroy(st);
    stop_standin();
}

static void svc_path(int i, char *o, size_t n) { snprintf(o, n, "/x/%d", i); }

static void group_by_any_field(void **state)
{
    (void)state;
    reset_metrics();
    start_standin("");
    /* group by a field the output does not know specially: one group per status */
    static char *gb[] = {"http.response.status_code"};
    struct slack_conf c = base_conf();
    c.group_by = (struct conf_list){gb, 1};
    c.window_ms = 60000;
    void *st = start(&c);
    send_and_free(st, make_batch(8, st_500, svc_path, 0)); /* statuses 503 (i%4==0) and 500 */
    assert_int_equal(out_slack_desc.flush(st, 5000), 0);
    out_slack_desc.destroy(st);
    int nmsg, failed;
    assert_int_equal(delivered_sum(&nmsg, &failed), 8);
    /* two groups: two first alerts (maybe with folded lines) and at most two summaries */
    assert_true(nmsg >= 2 && nmsg <= 4);
    stop_standin();
}

static void pace_is_respected(void **state)
{
    (void)state;
    reset_metrics();
    start_standin("");
    struct slack_conf c = base_conf();
    c.min_interval_ms = 300;
    c.window_ms = 60000;
    void *st = start(&c);
    for (int i = 0; i < 3; i++)
        send_and_free(st, make_batch(1, st_500, path_each, i));
    assert_int_equal(wait_records(3, 10), 3);
    json_t *r = records();
    for (size_t i = 1; i < json_array_size(r); i++) {
        json_int_t a = json_integer_value(json_object_get(json_array_get(r, i - 1), "mono_ns"));
        json_int_t b = json_integer_value(json_object_get(json_array_get(r, i), "mono_ns"));
        assert_true(b - a >= 280000000);
    }
    out_slack_desc.destroy(st);
    json_decref(r);
    stop_standin();
}

static void server_errors_retry_and_fold_into_next_message(void **state)
{
    (void)state;
    reset_metrics();
    start_standin("500*2");
    struct slack_conf c = base_conf();
    c.window_ms = 60000;
    void *st = start(&c);
    capture_stderr();
    send_and_free(st, make_batch(1, st_500, path_one, 1));
    assert_int_equal(wait_records(1, 10), 1);
    /* while Slack fails, send() still acks at once and lines keep counting */
    for (int i = 0; i < 5; i++)
        send_and_free(st, make_batch(10, st_500, path_five, 100 + i * 10));
    assert_int_equal(out_slack_desc.flush(st, 15000), 0);
    out_slack_desc.destroy(st);
    char *log = release_stderr();
    int nmsg, failed;
    assert_int_equal(delivered_sum(&nmsg, &failed), 51);
    assert_int_equal(failed, 2);
    assert_non_null(strstr(log, "answered HTTP 500"));
    assert_null(strstr(log, "SECRETxTOKEN"));
    free(log);
    stop_standin();
}

static void refused_4xx_is_logged_with_answer_and_kept(void **state)
{
    (void)state;
    reset_metrics();
    start_standin("404");
    struct slack_conf c = base_conf();
    void *st = start(&c);
    capture_stderr();
    send_and_free(st, make_batch(1, st_500, path_one, 1));
    assert_int_equal(wait_records(1, 10), 1);
    for (int i = 0; i < 250 && !log_contains("no_service"); i++)
        sleep_ms(20);
    struct slack_out *so = st;
    pthread_mutex_lock(&so->mu);
    uint64_t undelivered = so->undelivered, backlog = so->backlog.count;
    pthread_mutex_unlock(&so->mu);
    out_slack_desc.destroy(st); /* reports what it could not deliver */
    char *log = release_stderr();
    assert_non_null(strstr(log, "refused the message: HTTP 404 no_service"));
    assert_non_null(strstr(log, "1 matching line(s) were never posted"));
    assert_null(strstr(log, "SECRETxTOKEN"));
    assert_int_equal(undelivered, 1);
    assert_int_equal(backlog, 1);
    assert_int_equal(METRIC_GET(M.state), OUT_FAILED);
    free(log);
    stop_standin();
}

static void without_webhook_alerts_go_to_stderr(void **state)
{
    (void)state;
    reset_metrics();
    struct slack_conf c = base_conf();
    c.webhook_url = NULL;
    c.window_ms = 60000;
    capture_stderr();
    void *st = start(&c);
    send_and_free(st, make_batch(1, st_500, path_one, 1));
    for (int i = 0; i < 250 && !log_contains("1× HTTP 500 on was-1"); i++)
        sleep_ms(20);
    out_slack_desc.destroy(st);
    char *log = release_stderr();
    assert_non_null(strstr(log, "1× HTTP 500 on was-1: GET /api/orders"));
    assert_int_equal(METRIC_GET(M.alerts_sent), 1);
    free(log);
}

static void custom_condition_replaces_default(void **state)
{
    (void)state;
    reset_metrics();
    start_standin("");
    char err[128];
    int pos;
    struct when *w = when_compile("url.path == \"/g/3\"", err, sizeof err, &pos);
    assert_non_null(w);
    struct output_env e2 = env;
    e2.when = w;
    struct slack_conf c = base_conf();
    void *st = out_slack_desc.init(&c, &e2, err, sizeof err);
    assert_non_null(st);
    struct event_batch *b = make_batch(10, st_mixed, path_each, 0); /* /g/3 has status 200 */
    out_slack_desc.send(st, b);
    batch_free(b);
    assert_int_equal(out_slack_desc.flush(st, 5000), 0);
    out_slack_desc.destroy(st);
    when_free(w);
    int nmsg, failed;
    assert_int_equal(delivered_sum(&nmsg, &failed), 1);
    json_t *r = records();
    const char *body = json_string_value(json_object_get(json_array_get(r, 0), "body"));
    assert_non_null(strstr(body, "1× HTTP 200 on was-1: GET /g/3"));
    json_decref(r);
    stop_standin();
}

static void config_defaults_and_errors(void **state)
{
    (void)state;
    struct conf_errs errs = {0};
    struct conf *cf = conf_load_string("agent.conf",
                                       "[output slack]\n"
                                       "webhook_url = ftp://hooks.example/services/SECRETxTOKENxZZ9\n"
                                       "max_line_chars = 5000\n"
                                       "group_by = a..b\n", &errs);
    assert_non_null(cf);
    struct slack_conf sc;
    memset(&sc, 0, sizeof sc);
    assert_int_equal(conf_apply(cf, &cf->s[0], out_slack_desc.conf_table, &sc, &errs), 0);
    assert_int_equal(sc.window_ms, 60000);
    assert_int_equal(sc.min_interval_ms, 1000);
    assert_int_equal(out_slack_desc.check(&sc, cf, &cf->s[0], &errs), 3);
    int saw_url = 0;
    for (int i = 0; i < errs.n; i++) {
        assert_null(strstr(errs.msg[i], "SECRETxTOKEN"));
        saw_url |= strstr(errs.msg[i], "agent.conf:2: webhook_url") != NULL;
    }
    assert_true(saw_url);
    conf_free_target(out_slack_desc.conf_table, &sc);
    conf_free(cf);
    conf_errs_free(&errs);

    struct conf_errs e2 = {0};
    cf = conf_load_string("agent.conf", "[output slack]\n", &e2);
    memset(&sc, 0, sizeof sc);
    assert_int_equal(conf_apply(cf, &cf->s[0], out_slack_desc.conf_table, &sc, &e2), 0);
    assert_int_equal(sc.group_by.n, 2);
    assert_string_equal(sc.group_by.v[0], "host.name");
    assert_string_equal(sc.group_by.v[1], "url.path");
    assert_int_equal(sc.max_line_chars, 500);
    assert_null(sc.webhook_url);
    assert_int_equal(out_slack_desc.check(&sc, cf, &cf->s[0], &e2), 0);
    conf_free_target(out_slack_desc.conf_table, &sc);
    conf_free(cf);
    conf_errs_free(&e2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_alert_posted_and_batch_acked_at_once),
        cmocka_unit_test(flood_over_paths_counts_add_up_exactly),
        cmocka_unit_test(overflow_beyond_max_groups_is_still_counted),
        cmocka_unit_test(retry_after_is_honoured_and_alerts_fold),
        cmocka_unit_test(pace_is_respected),
        cmocka_unit_test(window_end_posts_summary_then_group_starts_over),
        cmocka_unit_test(group_by_any_field),
        cmocka_unit_test(server_errors_retry_and_fold_into_next_message),
        cmocka_unit_test(refused_4xx_is_logged_with_answer_and_kept),
        cmocka_unit_test(without_webhook_alerts_go_to_stderr),
        cmocka_unit_test(custom_condition_replaces_default),
        cmocka_unit_test(config_defaults_and_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
