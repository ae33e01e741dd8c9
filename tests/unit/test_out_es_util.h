/*
 * test_out_es_util.h - fixtures shared by the Elasticsearch output's unit tests
 * (test_out_es.c: wire format and config; test_out_es_delivery.c: against the stand-in).
 *
 * A fake struct output_env that counts acks per batch (so tests assert each batch was acked
 * exactly once), numbered batches built through the real batch_add(), config through the
 * real table, and tests/tools/es_standin.py run as a child process and queried over HTTP.
 */
#ifndef TEST_OUT_ES_UTIL_H
#define TEST_OUT_ES_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/base/config.h"
#include "agent/base/event.h"
#include "agent/base/log.h"
#include "outputs/es.h"
#include "outputs/output.h"

extern const struct output_desc out_es_desc;

/* ---- fixtures ---- */

static char tmpdir[256] __attribute__((unused));

struct fake {
    struct output_env env;
    struct out_metrics m;
    struct event_batch *acked[4096];
    int nacked;
    int double_ack;
};

static inline void fake_ack(const struct output_env *env, struct event_batch *b)
{
    struct fake *f = (struct fake *)env; /* env is the first member */
    for (int i = 0; i < f->nacked; i++)
        if (f->acked[i] == b)
            f->double_ack++;
    if (f->nacked < 4096)
        f->acked[f->nacked++] = b;
}

static inline void fake_init(struct fake *f, const char *name)
{
    memset(f, 0, sizeof *f);
    f->env.name = name;
    f->env.type = "elasticsearch";
    f->env.data_dir = tmpdir;
    f->env.host_name = "test-host";
    f->env.shutdown_timeout_ms = 5000;
    f->env.m = &f->m;
    f->env.ack = fake_ack;
}

static struct event_source src __attribute__((unused)) = {"web", "/var/log/app.log", {2049, 131, 0xfeedULL, 1024, 0x1234abcdULL}};

/* A batch of numbered lines "line N lorem" for N in [a, b]; offsets as in a file. */
static inline struct event_batch *make_batch(int a, int b, const char *extra)
{
    struct event_batch *bt = batch_new(&src, "test-host", (uint32_t)(b - a + 1));
    struct event_builder eb;
    eb_init(&eb);
    struct event_base base;
    event_base_init(&base, "test-host", src.path, NULL, 0);
    for (int i = a; i <= b; i++) {
        char line[8192];
        int n = snprintf(line, sizeof line, "line %d lorem ipsum%s", i, extra ? extra : "");
        assert_true(n > 0 && (size_t)n < sizeof line);
        eb_reset(&eb);
        uint64_t off = (uint64_t)i * 100;
        assert_int_equal(batch_add(bt, &base, &eb, line, (size_t)n, off, off + (uint64_t)n + 1,
                                   1764133262000LL + i),
                         0);
    }
    eb_free(&eb);
    return bt;
}

/* Config through the real table (defaults applied) from "key = value" lines. */
struct es_cfg {
    struct conf *c;
    struct es_conf ec;
};

static inline int cfg_load(struct es_cfg *k, const char *body, int *nerr)
{
    char text[2048];
    snprintf(text, sizeof text, "[output elasticsearch]\n%s", body);
    struct conf_errs errs = {0};
    memset(&k->ec, 0, sizeof k->ec);
    k->c = conf_load_string("agent.conf", text, &errs);
    assert_non_null(k->c);
    struct conf_section *s = &k->c->s[0];
    int n = conf_apply(k->c, s, es_conf_keys, &k->ec, &errs);
    n += conf_report_unused(k->c, s, &errs);
    if (n == 0)
        n += es_conf_check(&k->ec, k->c, s, &errs);
    for (int i = 0; i < errs.n; i++)
        fprintf(stderr, "  (config) %s\n", errs.msg[i]);
    if (errs.n > n)
        n = errs.n; /* syntax errors, duplicate keys */
    *nerr = n;
    int ok = n == 0;
    conf_errs_free(&errs);
    return ok ? 0 : -1;
}

static inline void cfg_free(struct es_cfg *k)
{
    conf_free_target(es_conf_keys, &k->ec);
    conf_free(k->c);
}

/* ---- the stand-in ---- */

struct standin {
    pid_t pid;
    int port;
};

static pid_t live_standin __attribute__((unused)); /* killed by the group teardown if a failed test left it */

static inline void standin_start(struct standin *s, int port, const char *const *args)
{
    const char *srcdir = getenv("LOGFERRY_SOURCE_DIR");
    char script[512], portfile[300], store[300], portarg[16];
    snprintf(script, sizeof script, "%s/tests/tools/es_standin.py",
             srcdir ? srcdir : LOGFERRY_SOURCE_DIR);
    snprintf(portfile, sizeof portfile, "%s/standin.port", tmpdir);
    snprintf(store, sizeof store, "%s/store.ndjson", tmpdir);
    snprintf(portarg, sizeof portarg, "%d", port);
    unlink(portfile);
    const char *argv[32] = {"python3", script, "--port", portarg, "--port-file", portfile,
                            "--store", store};
    int n = 8;
    for (int i = 0; args && args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        execvp("python3", (char *const *)argv);
        _exit(127);
    }
    if (live_standin > 0) {
        kill(live_standin, SIGKILL);
        waitpid(live_standin, NULL, 0);
    }
    live_standin = s->pid;
    for (int i = 0; i < 200; i++) { /* up to 10 s */
        FILE *fp = fopen(portfile, "r");
        if (fp) {
            int ok = fscanf(fp, "%d", &s->port) == 1;
            fclose(fp);
            if (ok)
                return;
        }
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    fail_msg("stand-in did not start");
}

static inline void standin_stop(struct standin *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        if (live_standin == s->pid)
            live_standin = 0;
        s->pid = 0;
    }
}

static inline size_t collect(char *p, size_t sz, size_t nm, void *ud)
{
    struct buf *b = ud;
    buf_add(b, p, sz * nm);
    return sz * nm;
}

static inline json_t *standin_get(struct standin *s, const char *path)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s->port, path);
    struct buf b;
    buf_init(&b, 0);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    curl_easy_cleanup(e);
    json_t *j = json_loadb(b.p, b.len, 0, NULL);
    buf_free(&b);
    assert_non_null(j);
    return j;
}

static inline void standin_config(struct standin *s, const char *json)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/_standin/config", s->port);
    struct buf b;
    buf_init(&b, 0);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    curl_easy_cleanup(e);
    buf_free(&b);
}

static inline long stat_of(struct standin *s, const char *key)
{
    json_t *j = standin_get(s, "/_standin/stats");
    long v = (long)json_integer_value(json_object_get(j, key));
    json_decref(j);
    return v;
}

static inline int group_setup(void **state)
{
    (void)state;
    fkey_init_builtin();
    fkey_freeze();
    lf_log_level = LF_ERROR;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_out_es.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return 0;
}

static inline int group_teardown(void **state)
{
    (void)state;
    if (live_standin > 0) {
        kill(live_standin, SIGKILL);
        waitpid(live_standin, NULL, 0);
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static inline void reset_store(void)
{
    char p[300];
    snprintf(p, sizeof p, "%s/store.ndjson", tmpdir);
    unlink(p);
    snprintf(p, sizeof p, "%s/store.ndjson.ids", tmpdir);
    unlink(p);
}

/* Runs the output over `nb` batches of `per` lines each (numbered from 1), flushes, and
 * returns the batches (the caller frees them). */
static inline struct event_batch **run_output(struct fake *f, const struct es_conf *ec, int nb, int per,
                                       const char *extra, long flush_ms, int *flush_rc)
{
    char err[256];
    void *st = out_es_desc.init(ec, &f->env, err, sizeof err);
    assert_non_null(st);
    struct event_batch **bs = calloc((size_t)nb, sizeof *bs);
    for (int i = 0; i < nb; i++) {
        bs[i] = make_batch(i * per + 1, (i + 1) * per, extra);
        out_es_desc.send(st, bs[i]);
        out_es_desc.tick(st);
    }
    *flush_rc = out_es_desc.flush(st, flush_ms);
    out_es_desc.destroy(st);
    return bs;
}

static inline void free_batches(struct event_batch **bs, int nb)
{
    for (int i = 0; i < nb; i++)
        batch_free(bs[i]);
    free(bs);
}

static inline void cfg_for(struct es_cfg *k, struct standin *s, const char *more)
{
    char body[1024];
    int nerr;
    snprintf(body, sizeof body, "hosts = http://127.0.0.1:%d\nindex = logs-%%Y.%%m.%%d\n"
             "backoff_init = 5ms\nbackoff_max = 50ms\nflush_interval = 20ms\n"
             "connect_timeout = 1s\ntimeout = 5s\n%s", s->port, more ? more : "");
    assert_int_equal(cfg_load(k, body, &nerr), 0);
}

#endif
