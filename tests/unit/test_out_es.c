/*
 * test_out_es.c - the Elasticsearch output, driven directly (no agent): the wire format
 * functions of es_bulk.c, config checks, and out_es_desc.init/send/tick/flush against the
 * stand-in tests/tools/es_standin.py run as a child process (python3, stdlib only).
 *
 * The fake struct output_env counts acks per batch, so every test can assert that each batch
 * was acked exactly once; the stand-in's counters (GET /_standin/stats) say how many documents
 * were created, refused, conflicted and how often each _id was sent.
 */
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

#include "agent/config.h"
#include "agent/event.h"
#include "agent/log.h"
#include "outputs/es.h"
#include "outputs/output.h"

extern const struct output_desc out_es_desc;

/* ---- fixtures ---- */

static char tmpdir[256];

struct fake {
    struct output_env env;
    struct out_metrics m;
    struct event_batch *acked[4096];
    int nacked;
    int double_ack;
};

static void fake_ack(const struct output_env *env, struct event_batch *b)
{
    struct fake *f = (struct fake *)env; /* env is the first member */
    for (int i = 0; i < f->nacked; i++)
        if (f->acked[i] == b)
            f->double_ack++;
    if (f->nacked < 4096)
        f->acked[f->nacked++] = b;
}

static void fake_init(struct fake *f, const char *name)
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

static struct event_source src = {"web", "/var/log/app.log", {2049, 131, 0xfeedULL, 1024, 0x1234abcdULL}, 0};

/* A batch of numbered lines "line N lorem" for N in [a, b]; offsets as in a file. */
static struct event_batch *make_batch(int a, int b, const char *extra)
{
    struct event_batch *bt = batch_new(&src, "test-host", (uint32_t)(b - a + 1));
    struct event_builder eb;
    eb_init(&eb);
    struct event_base base = {"test-host", src.path, NULL, 0};
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

static int cfg_load(struct es_cfg *k, const char *body, int *nerr)
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

static void cfg_free(struct es_cfg *k)
{
    conf_free_target(es_conf_keys, &k->ec);
    conf_free(k->c);
}

/* ---- the stand-in ---- */

struct standin {
    pid_t pid;
    int port;
};

static pid_t live_standin; /* killed by the group teardown if a failed test left it */

static void standin_start(struct standin *s, int port, const char *const *args)
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

static void standin_stop(struct standin *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        if (live_standin == s->pid)
            live_standin = 0;
        s->pid = 0;
    }
}

static size_t collect(char *p, size_t sz, size_t nm, void *ud)
{
    struct buf *b = ud;
    buf_add(b, p, sz * nm);
    return sz * nm;
}

static json_t *standin_get(struct standin *s, const char *path)
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

static void standin_config(struct standin *s, const char *json)
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

static long stat_of(struct standin *s, const char *key)
{
    json_t *j = standin_get(s, "/_standin/stats");
    long v = (long)json_integer_value(json_object_get(j, key));
    json_decref(j);
    return v;
}

static int group_setup(void **state)
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

static int group_teardown(void **state)
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

static void reset_store(void)
{
    char p[300];
    snprintf(p, sizeof p, "%s/store.ndjson", tmpdir);
    unlink(p);
    snprintf(p, sizeof p, "%s/store.ndjson.ids", tmpdir);
    unlink(p);
}

/* Runs the output over `nb` batches of `per` lines each (numbered from 1), flushes, and
 * returns the batches (the caller frees them). */
static struct event_batch **run_output(struct fake *f, const struct es_conf *ec, int nb, int per,
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

static void free_batches(struct event_batch **bs, int nb)
{
    for (int i = 0; i < nb; i++)
        batch_free(bs[i]);
    free(bs);
}

static void cfg_for(struct es_cfg *k, struct standin *s, const char *more)
{
    char body[1024];
    int nerr;
    snprintf(body, sizeof body, "hosts = http://127.0.0.1:%d\nindex = logs-%%Y.%%m.%%d\n"
             "backoff_init = 5ms\nbackoff_max = 50ms\nflush_interval = 20ms\n"
             "connect_timeout = 1s\ntimeout = 5s\n%s", s->port, more ? more : "");
    assert_int_equal(cfg_load(k, body, &nerr), 0);
}

/* ---- pure functions ---- */

static void doc_id_is_deterministic_and_distinct(void **state)
{
    (void)state;
    struct file_id a = {2049, 131, 0xfeed, 1024, 0}, b = a;
    char x[40], y[40];
    es_doc_id(&a, 4096, x);
    es_doc_id(&b, 4096, y);
    assert_string_equal(x, y);
    assert_int_equal(strlen(x), 16 + 1 + 4);
    assert_string_equal(x + 17, "1000");
    es_doc_id(&a, 4097, y);
    assert_string_not_equal(x, y);
    b.ino = 132;
    es_doc_id(&b, 4096, y);
    assert_string_not_equal(x, y);
    b = a;
    b.fp = 0xbeef;
    es_doc_id(&b, 4096, y);
    assert_string_not_equal(x, y);
    b = a;
    b.dev = 2050;
    es_doc_id(&b, 4096, y);
    assert_string_not_equal(x, y);
    /* with a uid, only the uid counts: the fingerprint of a growing small file changes */
    a.uid = b.uid = 77;
    b.fp = 0xdead;
    b.fp_len = 10;
    es_doc_id(&a, 4096, x);
    es_doc_id(&b, 4096, y);
    assert_string_equal(x, y);
    b.uid = 78;
    es_doc_id(&b, 4096, y);
    assert_string_not_equal(x, y);
}

static void index_name_is_strftime_over_utc_timestamp(void **state)
{
    (void)state;
    struct es_index_cache ic;
    size_t n;
    es_index_cache_init(&ic, "logs-%Y.%m.%d");
    /* 2025-11-26T23:59:59.999Z then one millisecond later */
    assert_string_equal(es_index_name(&ic, 1764201599999LL, &n), "logs-2025.11.26");
    assert_int_equal(n, strlen("logs-2025.11.26"));
    assert_string_equal(es_index_name(&ic, 1764201600000LL, &n), "logs-2025.11.27");
    assert_string_equal(es_index_name(&ic, 1764201599000LL, &n), "logs-2025.11.26");
    es_index_cache_init(&ic, "logs-%Y.%m.%d-%H");
    assert_string_equal(es_index_name(&ic, 1764201599999LL, &n), "logs-2025.11.26-23");
    assert_string_equal(es_index_name(&ic, 1764201600000LL, &n), "logs-2025.11.27-00");
    es_index_cache_init(&ic, "logs-logferry-default");
    assert_string_equal(es_index_name(&ic, 1764201600000LL, &n), "logs-logferry-default");
}

static void bulk_body_is_create_action_then_event_json(void **state)
{
    (void)state;
    struct event_batch *b = make_batch(1, 3, NULL);
    struct es_index_cache ic;
    es_index_cache_init(&ic, "logs-%Y.%m.%d");
    struct buf body;
    buf_init(&body, 0);
    for (uint32_t i = 0; i < b->n; i++)
        assert_int_equal(es_bulk_append(&body, &ic, b, &b->ev[i]), 0);
    assert_true(body.len > 0 && body.p[body.len - 1] == '\n');
    /* 6 lines: action, source, action, source... */
    char *save = NULL;
    buf_cstr(&body);
    int line = 0;
    for (char *l = strtok_r(body.p, "\n", &save); l; l = strtok_r(NULL, "\n", &save), line++) {
        json_t *j = json_loads(l, 0, NULL);
        assert_non_null(j);
        if (line % 2 == 0) {
            json_t *c = json_object_get(j, "create");
            assert_non_null(c);
            assert_string_equal(json_string_value(json_object_get(c, "_index")), "logs-2025.11.26");
            char want[40];
            es_doc_id(&src.id, b->ev[line / 2].offset, want);
            assert_string_equal(json_string_value(json_object_get(c, "_id")), want);
        } else {
            char msg[64];
            snprintf(msg, sizeof msg, "line %d lorem ipsum", line / 2 + 1);
            assert_string_equal(json_string_value(json_object_get(j, "message")), msg);
        }
        json_decref(j);
    }
    assert_int_equal(line, 6);
    buf_free(&body);
    batch_free(b);
}

static void response_fast_path_and_item_verdicts(void **state)
{
    (void)state;
    const char *ok = "{\"errors\":false,\"items\":[{\"create\":{\"status\":201}}]}";
    const char *ok2 = "{\"took\":3, \"errors\" : false,\"items\":[]}";
    const char *bad = "{\"took\":3,\"errors\":true,\"items\":["
                      "{\"create\":{\"status\":201}},"
                      "{\"create\":{\"status\":409,\"error\":{\"type\":\"version_conflict_engine_exception\",\"reason\":\"exists\"}}},"
                      "{\"create\":{\"status\":429,\"error\":{\"type\":\"es_rejected_execution_exception\",\"reason\":\"busy\"}}},"
                      "{\"create\":{\"status\":400,\"error\":{\"type\":\"mapper_parsing_exception\",\"reason\":\"bad\\nfield\",\"caused_by\":{\"reason\":\"why\"}}}},"
                      "{\"create\":{\"status\":403,\"error\":{\"type\":\"cluster_block_exception\",\"reason\":\"read-only\"}}},"
                      "{\"create\":{\"status\":403,\"error\":{\"type\":\"security_exception\",\"reason\":\"no\"}}},"
                      "{\"create\":{\"status\":503,\"error\":{\"type\":\"unavailable_shards_exception\",\"reason\":\"x\"}}},"
                      "{\"create\":{\"status\":404,\"error\":{\"type\":\"index_not_found_exception\",\"reason\":\"y\"}}}]}";
    assert_int_equal(es_bulk_all_ok(ok, strlen(ok)), 1);
    assert_int_equal(es_bulk_all_ok(ok2, strlen(ok2)), 1);
    assert_int_equal(es_bulk_all_ok(bad, strlen(bad)), 0);
    struct es_item_result r[8];
    char err[128];
    assert_int_equal(es_bulk_parse(bad, strlen(bad), r, 8, err, sizeof err), 0);
    enum es_verdict want[8] = {ES_DONE, ES_DONE, ES_RETRY, ES_DEAD, ES_RETRY, ES_DEAD, ES_RETRY, ES_DEAD};
    for (int i = 0; i < 8; i++)
        assert_int_equal(r[i].verdict, want[i]);
    assert_string_equal(r[3].type, "mapper_parsing_exception");
    assert_null(strchr(r[3].reason, '\n')); /* sanitized: log content can't forge log lines */
    assert_non_null(strstr(r[3].reason, "why"));
    /* wrong item count: the caller must retry the whole request */
    assert_int_equal(es_bulk_parse(bad, strlen(bad), r, 7, err, sizeof err), -1);
    assert_int_equal(es_bulk_parse("nope", 4, r, 1, err, sizeof err), -1);
}

static void config_check_reports_file_line_errors(void **state)
{
    (void)state;
    struct es_cfg k;
    int nerr;
    assert_int_equal(cfg_load(&k, "hosts = http://127.0.0.1:9200\n", &nerr), 0);
    assert_int_equal(k.ec.bulk_max_events, 2000);
    assert_int_equal(k.ec.bulk_max_bytes, 5 << 20);
    assert_int_equal(k.ec.workers, 2);
    cfg_free(&k);
    const char *bad[] = {
        "index = logs\n",                                             /* no hosts */
        "hosts = ftp://x\n",                                          /* scheme */
        "hosts = http://x:9200\nindex = Logs-%Y\n",                   /* upper case */
        "hosts = http://x:9200\nindex = logs-%T\n",                   /* ':' conversion */
        "hosts = http://x:9200\nindex = a\ndata_stream = b\n",        /* exclusive */
        "hosts = http://x:9200\nusername = u\n",                      /* no password */
        "hosts = http://x:9200\nusername = u\npassword = p\napi_key = k\n",
        "hosts = http://x:9200\nworkers = 0\n",
        "hosts = http://x:9200\nbulk_max_bytes = 200MiB\n",
        "hosts = http://x:9200\nca_file = /nonexistent/ca.pem\n",
        "hosts = http://x:9200\nilm_delete_after = 30 days\n",
        "hosts = http://x:9200\nno_such_key = 1\n",
        "hosts = http://x:9200\ncompression = brotli\n",
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        assert_int_equal(cfg_load(&k, bad[i], &nerr), -1);
        assert_true(nerr >= 1);
        cfg_free(&k);
    }
    /* gzip is accepted exactly when this build has zlib */
    int rc = cfg_load(&k, "hosts = http://x:9200\ncompression = gzip\n", &nerr);
    assert_int_equal(rc, es_have_gzip() ? 0 : -1);
    cfg_free(&k);
}

static void setup_bodies_map_ecs_types(void **state)
{
    (void)state;
    struct es_cfg k;
    int nerr;
    assert_int_equal(cfg_load(&k, "hosts = http://x:9200\ndata_stream = logs-logferry-default\n"
                                  "ilm_delete_after = 7d\n", &nerr), 0);
    json_t *t = es_setup_template(&k.ec);
    assert_non_null(t);
    json_t *p = json_object_get(json_object_get(json_object_get(t, "template"), "mappings"),
                                "properties");
    json_t *sc = json_object_get(json_object_get(json_object_get(json_object_get(
        json_object_get(p, "http"), "properties"), "response"), "properties"), "status_code");
    assert_string_equal(json_string_value(json_object_get(sc, "type")), "long");
    json_t *ip = json_object_get(json_object_get(json_object_get(p, "source"), "properties"), "ip");
    assert_string_equal(json_string_value(json_object_get(ip, "type")), "ip");
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "@timestamp"), "type")), "date");
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "message"), "type")), "text");
    assert_non_null(json_object_get(t, "data_stream"));
    assert_string_equal(json_string_value(json_array_get(json_object_get(t, "index_patterns"), 0)),
                        "logs-logferry-default");
    json_decref(t);
    json_t *pol = es_setup_policy(&k.ec);
    json_t *ph = json_object_get(json_object_get(pol, "policy"), "phases");
    assert_string_equal(json_string_value(json_object_get(json_object_get(ph, "delete"), "min_age")), "7d");
    assert_non_null(json_object_get(json_object_get(json_object_get(ph, "hot"), "actions"), "rollover"));
    json_decref(pol);
    cfg_free(&k);
}

/* ---- against the stand-in ---- */

static void all_lines_indexed_once_across_whole_and_item_429s(void **state)
{
    (void)state;
    reset_store();
    struct standin s;
    const char *args[] = {"--fail-whole", "3", "--item-429-every", "7", "--item-429-times", "2", NULL};
    standin_start(&s, 0, args);
    struct es_cfg k;
    cfg_for(&k, &s, "bulk_max_events = 64\n");
    struct fake f;
    fake_init(&f, "es");
    int rc;
    struct event_batch **bs = run_output(&f, &k.ec, 10, 100, NULL, 20000, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(f.nacked, 10);
    assert_int_equal(f.double_ack, 0);
    assert_int_equal(stat_of(&s, "created"), 1000);
    assert_int_equal(stat_of(&s, "whole_failed"), 3);
    assert_int_equal(stat_of(&s, "item_429"), 2 * (1000 / 7));
    assert_true(stat_of(&s, "max_docs_per_request") <= 64);
    /* only the failed items were resent: every id was seen once, the multiples of 7 3 times */
    json_t *j = standin_get(&s, "/_standin/stats?attempts=1");
    json_t *att = json_object_get(j, "attempts");
    assert_int_equal(json_object_size(att), 1000);
    for (int n = 1; n <= 1000; n++) {
        char id[40];
        es_doc_id(&src.id, (uint64_t)n * 100, id);
        json_t *a = json_object_get(att, id);
        assert_non_null(a);
        assert_int_equal(json_integer_value(a), n % 7 == 0 ? 3 : 1);
    }
    json_decref(j);
    assert_int_equal(METRIC_GET(f.m.events_acked), 1000);
    assert_true(METRIC_GET(f.m.events_retried) >= 2 * (1000 / 7));

    /* the same lines again (a replay after kill -9): 409 for each, nothing new, all acked */
    struct fake f2;
    fake_init(&f2, "es");
    struct event_batch **bs2 = run_output(&f2, &k.ec, 10, 100, NULL, 20000, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(f2.nacked, 10);
    assert_int_equal(stat_of(&s, "created"), 1000);
    assert_int_equal(stat_of(&s, "conflicts"), 1000);
    assert_int_equal(METRIC_GET(f2.m.events_acked), 1000); /* 409 = already indexed */
    assert_int_equal(METRIC_GET(f2.m.events_dead), 0);
    free_batches(bs2, 10);
    free_batches(bs, 10);
    cfg_free(&k);
    standin_stop(&s);
}

static void refused_documents_go_to_dead_letter_file(void **state)
{
    (void)state;
    reset_store();
    struct standin s;
    const char *args[] = {"--reject-regex", "^line \\d*5 ", NULL};
    standin_start(&s, 0, args);
    struct es_cfg k;
    cfg_for(&k, &s, NULL);
    struct fake f;
    fake_init(&f, "es-dl");
    int rc;
    struct event_batch **bs = run_output(&f, &k.ec, 2, 50, NULL, 10000, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(f.nacked, 2);
    assert_int_equal(stat_of(&s, "created"), 90);
    assert_int_equal(stat_of(&s, "rejected"), 10);
    assert_int_equal(METRIC_GET(f.m.events_dead), 10);
    char p[400];
    snprintf(p, sizeof p, "%s/dead-letter/elasticsearch-es-dl.ndjson", tmpdir);
    FILE *fp = fopen(p, "r");
    assert_non_null(fp);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, fp)) {
        json_t *j = json_loads(line, 0, NULL);
        assert_non_null(j);
        assert_int_equal(json_integer_value(json_object_get(j, "status")), 400);
        assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "type")),
                            "mapper_parsing_exception");
        const char *msg = json_string_value(json_object_get(json_object_get(j, "document"), "message"));
        assert_non_null(msg);
        int num = atoi(msg + 5);
        assert_int_equal(num % 10, 5);
        n++;
        json_decref(j);
    }
    fclose(fp);
    assert_int_equal(n, 10);
    free_batches(bs, 2);
    cfg_free(&k);
    standin_stop(&s);
}

static void too_large_request_is_split_until_accepted(void **state)
{
    (void)state;
    reset_store();
    struct standin s;
    const char *args[] = {"--max-bytes", "6000", NULL};
    standin_start(&s, 0, args);
    struct es_cfg k;
    /* one huge document that can never fit goes to the dead letters */
    cfg_for(&k, &s, "bulk_max_events = 500\n");
    struct fake f;
    fake_init(&f, "es-413");
    int rc;
    struct event_batch **bs = run_output(&f, &k.ec, 2, 100, NULL, 20000, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(f.nacked, 2);
    assert_int_equal(stat_of(&s, "created"), 200);
    assert_true(stat_of(&s, "too_large") >= 2);
    assert_true(stat_of(&s, "max_docs_per_request") < 100);
    free_batches(bs, 2);
    char pad[7000];
    memset(pad, 'x', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    pad[0] = ' ';
    struct fake f2;
    fake_init(&f2, "es-413b");
    bs = run_output(&f2, &k.ec, 1, 1, pad, 20000, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(f2.nacked, 1);
    assert_int_equal(METRIC_GET(f2.m.events_dead), 1);
    free_batches(bs, 1);
    cfg_free(&k);
    standin_stop(&s);
}

static void server_down_then_up_delivers_everything(void **state)
{
    (void)state;
    reset_store();
    /* find a free port by starting and stopping the stand-in */
    struct standin s;
    standin_start(&s, 0, NULL);
    int port = s.port;
    standin_stop(&s);
    struct es_cfg k;
    cfg_for(&k, &s, "bulk_max_events = 50\nworkers = 2\n");
    struct fake f;
    fake_init(&f, "es-down");
    char err[256];
    void *st = out_es_desc.init(&k.ec, &f.env, err, sizeof err);
    assert_non_null(st);
    struct event_batch *b = make_batch(1, 100, NULL);
    out_es_desc.send(st, b); /* two requests: does not block with workers = 2 */
    assert_int_equal(out_es_desc.flush(st, 300), -1);
    assert_int_equal(f.nacked, 0);
    assert_int_equal(METRIC_GET(f.m.state), OUT_RETRYING);
    standin_start(&s, port, NULL);
    assert_int_equal(out_es_desc.flush(st, 20000), 0);
    assert_int_equal(f.nacked, 1);
    assert_int_equal(METRIC_GET(f.m.state), OUT_OK);
    assert_int_equal(stat_of(&s, "created"), 100);
    out_es_desc.destroy(st);
    batch_free(b);
    cfg_free(&k);
    standin_stop(&s);
}

static void basic_and_api_key_auth_are_sent(void **state)
{
    (void)state;
    reset_store();
    struct standin s;
    const char *args[] = {"--user", "elastic", "--password", "s3cret", NULL};
    standin_start(&s, 0, args);
    struct es_cfg k;
    int rc;
    struct fake f;
    /* wrong password: nothing acked, 401s counted, then the right one delivers */
    cfg_for(&k, &s, "username = elastic\npassword = wrong\n");
    fake_init(&f, "es-auth");
    struct event_batch **bs = run_output(&f, &k.ec, 1, 10, NULL, 300, &rc);
    assert_int_equal(rc, -1);
    assert_int_equal(f.nacked, 0);
    assert_true(stat_of(&s, "auth_failures") >= 1);
    assert_null(strstr(f.m.last_error, "wrong")); /* the password is never shown */
    free_batches(bs, 1);
    cfg_free(&k);
    cfg_for(&k, &s, "username = elastic\npassword = s3cret\n");
    fake_init(&f, "es-auth");
    bs = run_output(&f, &k.ec, 1, 10, NULL, 10000, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(f.nacked, 1);
    assert_int_equal(stat_of(&s, "created"), 10);
    free_batches(bs, 1);
    cfg_free(&k);
    standin_stop(&s);

    reset_store();
    const char *args2[] = {"--api-key", "aWQ6a2V5", NULL};
    standin_start(&s, 0, args2);
    cfg_for(&k, &s, "api_key = aWQ6a2V5\n");
    fake_init(&f, "es-key");
    bs = run_output(&f, &k.ec, 1, 10, NULL, 10000, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(f.nacked, 1);
    assert_int_equal(stat_of(&s, "created"), 10);
    assert_int_equal(stat_of(&s, "auth_failures"), 0);
    free_batches(bs, 1);
    cfg_free(&k);
    standin_stop(&s);
}

static void gzip_bodies_are_accepted(void **state)
{
    (void)state;
    if (!es_have_gzip()) {
        fprintf(stderr, "  (built without zlib: compression = gzip is refused by check())\n");
        skip();
    }
    reset_store();
    struct standin s;
    const char *args[] = {"--require-gzip", NULL};
    standin_start(&s, 0, args);
    struct es_cfg k;
    cfg_for(&k, &s, "compression = gzip\nbulk_max_events = 100\n");
    struct fake f;
    fake_init(&f, "es-gz");
    int rc;
    struct event_batch **bs = run_output(&f, &k.ec, 3, 100, NULL, 10000, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(f.nacked, 3);
    assert_int_equal(stat_of(&s, "created"), 300);
    assert_true(stat_of(&s, "gzip_requests") >= 3);
    free_batches(bs, 3);
    cfg_free(&k);
    standin_stop(&s);
}

static void setup_installs_template_and_policy_and_test_reports_version(void **state)
{
    (void)state;
    reset_store();
    struct standin s;
    standin_start(&s, 0, NULL);
    struct es_cfg k;
    cfg_for(&k, &s, "template_name = lf\n");
    struct fake f;
    fake_init(&f, "es");
    char msg[512];
    assert_int_equal(out_es_desc.setup(&k.ec, &f.env, msg, sizeof msg), 0);
    assert_non_null(strstr(msg, "logs-*"));
    assert_int_equal(out_es_desc.setup(&k.ec, &f.env, msg, sizeof msg), 0); /* idempotent */
    json_t *j = standin_get(&s, "/_standin/setup");
    json_t *t = json_object_get(json_object_get(j, "templates"), "lf");
    assert_non_null(t);
    assert_string_equal(json_string_value(json_array_get(json_object_get(t, "index_patterns"), 0)),
                        "logs-*");
    assert_non_null(json_object_get(json_object_get(j, "policies"), "lf"));
    json_decref(j);
    assert_int_equal(out_es_desc.test(&k.ec, &f.env, msg, sizeof msg), 0);
    assert_non_null(strstr(msg, "8.11.0"));
    cfg_free(&k);
    standin_stop(&s);
    /* nothing listening: test says so */
    cfg_for(&k, &s, NULL);
    assert_int_equal(out_es_desc.test(&k.ec, &f.env, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "not reachable"));
    cfg_free(&k);
}

/* The server indexes the documents but answers after the client's timeout: the retry gets
 * 409 for each (same _id) and nothing is stored twice. */
static void timeout_after_indexing_is_retried_without_duplicates(void **state)
{
    (void)state;
    reset_store();
    struct standin s;
    const char *args[] = {"--delay-ms", "1500", NULL};
    standin_start(&s, 0, args);
    struct es_cfg k;
    cfg_for(&k, &s, "bulk_max_events = 100\n");
    k.ec.timeout_ms = 300;
    struct fake f;
    fake_init(&f, "es-slow");
    char err[256];
    void *st = out_es_desc.init(&k.ec, &f.env, err, sizeof err);
    assert_non_null(st);
    struct event_batch *b = make_batch(1, 200, NULL);
    out_es_desc.send(st, b);
    assert_int_equal(out_es_desc.flush(st, 1000), -1); /* every attempt times out */
    assert_int_equal(f.nacked, 0);
    assert_true(strstr(f.m.last_error, "imeout") != NULL);
    standin_config(&s, "{\"delay_ms\": 0}");
    assert_int_equal(out_es_desc.flush(st, 20000), 0);
    assert_int_equal(f.nacked, 1);
    assert_int_equal(stat_of(&s, "created"), 200);
    assert_true(stat_of(&s, "conflicts") > 0); /* the slow server had indexed them */
    out_es_desc.destroy(st);
    batch_free(b);
    cfg_free(&k);
    standin_stop(&s);
}

/* flush_interval is an hour: only the rule "send a partial request at once when nothing is
 * outstanding" can deliver these 10 documents, from tick() alone (no flush). */
static void tick_alone_delivers_a_partial_request_when_idle(void **state)
{
    (void)state;
    reset_store();
    struct standin s;
    standin_start(&s, 0, NULL);
    struct es_cfg k;
    cfg_for(&k, &s, "bulk_max_events = 1000\n");
    k.ec.flush_interval_ms = 3600 * 1000L;
    struct fake f;
    fake_init(&f, "es-tick");
    char err[256];
    void *st = out_es_desc.init(&k.ec, &f.env, err, sizeof err);
    assert_non_null(st);
    struct event_batch *b = make_batch(1, 10, NULL);
    out_es_desc.send(st, b);
    assert_int_equal(f.nacked, 0);
    for (int i = 0; i < 5000 && f.nacked < 1; i++) {
        long ms = out_es_desc.tick(st);
        assert_true(ms >= 0 || f.nacked == 1);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(f.nacked, 1);
    assert_int_equal(f.double_ack, 0);
    assert_int_equal(stat_of(&s, "created"), 10);
    assert_int_equal(out_es_desc.tick(st), -1); /* nothing left to do */
    assert_int_equal(out_es_desc.flush(st, 1000), 0);
    out_es_desc.destroy(st);
    batch_free(b);
    cfg_free(&k);
    standin_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(doc_id_is_deterministic_and_distinct),
        cmocka_unit_test(index_name_is_strftime_over_utc_timestamp),
        cmocka_unit_test(bulk_body_is_create_action_then_event_json),
        cmocka_unit_test(response_fast_path_and_item_verdicts),
        cmocka_unit_test(config_check_reports_file_line_errors),
        cmocka_unit_test(setup_bodies_map_ecs_types),
        cmocka_unit_test(all_lines_indexed_once_across_whole_and_item_429s),
        cmocka_unit_test(refused_documents_go_to_dead_letter_file),
        cmocka_unit_test(too_large_request_is_split_until_accepted),
        cmocka_unit_test(server_down_then_up_delivers_everything),
        cmocka_unit_test(basic_and_api_key_auth_are_sent),
        cmocka_unit_test(gzip_bodies_are_accepted),
        cmocka_unit_test(setup_installs_template_and_policy_and_test_reports_version),
        cmocka_unit_test(tick_alone_delivers_a_partial_request_when_idle),
        cmocka_unit_test(timeout_after_indexing_is_retried_without_duplicates),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
