/*
 * test_tail.c - file identity and line splitting through the real tail code (agent/tail.c):
 * a struct agent configured from a string config (agent_configure on a temporary file), the
 * real pipeline with an [output file], and tail_open() / tail_read() / tail_dispatch() /
 * pipeline_collect() driven by hand instead of by the event loop. What the file output wrote
 * is read back and parsed with jansson.
 *
 * Identity: the fingerprint covers the first bytes; uid is stable across opens; a registry
 * entry with the same dev/inode but another fingerprint (inode reuse) is read from offset 0,
 * a matching one resumes at its offset; start_at = end applies to the initial scan of the
 * first start only.
 * Lines: a partial line is held until its newline; CRLF; a line longer than max_line_bytes
 * is cut at a UTF-8 boundary, flagged truncated, the rest skipped, also when it spans reads;
 * offsets and the committed offset are exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"


static struct agent A;
static char dir[64], logpath[128], outpath[128];
static int started;

static void write_conf(const char *extra_input)
{
    char p[128];
    snprintf(p, sizeof p, "%s/agent.conf", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f,
            "[agent]\nname = t1\ndata_dir = %s/data\n"
            "[input app]\npaths = %s/*.log\nmax_line_bytes = 64\n%s\n"
            "[output file]\npath = %s\n",
            dir, dir, extra_input, outpath);
    fclose(f);
}

static void start(const char *extra_input)
{
    write_conf(extra_input);
    memset(&A, 0, sizeof A);
    char p[128], err[512];
    snprintf(p, sizeof p, "%s/agent.conf", dir);
    struct conf_errs errs = {0};
    int n = agent_configure(&A, p, &errs);
    for (int i = 0; i < errs.n; i++)
        print_message("conf: %s\n", errs.msg[i]);
    assert_int_equal(n, 0);
    conf_errs_free(&errs);
    char regpath[256];
    snprintf(regpath, sizeof regpath, "%s/registry.json", A.ac.data_dir);
    A.first_start = access(regpath, F_OK) != 0; /* as agent_run() decides it */
    A.reg = reg_open(A.ac.data_dir, err, sizeof err);
    assert_non_null(A.reg);
    eb_init(&A.eb);
    pthread_mutex_init(&A.status_mu, NULL);
    if (pipeline_start(&A, err, sizeof err) != 0)
        fail_msg("pipeline_start: %s", err);
    started = 1;
}

static void stop(void)
{
    if (!started)
        return;
    pipeline_stop(&A, 1000);
    pipeline_collect(&A);
    char err[256];
    tail_sync_registry(&A);
    assert_int_equal(reg_save(A.reg, err, sizeof err), 0);
    tail_free_all(&A);
    eb_free(&A.eb);
    reg_close(A.reg);
    close(A.ack_fd);
    pthread_mutex_destroy(&A.status_mu);
    agent_unconfigure(&A);
    started = 0;
}

static int setup(void **s)
{
    (void)s;
    snprintf(dir, sizeof dir, "/tmp/lf_test_tail_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(logpath, sizeof logpath, "%s/app.log", dir);
    snprintf(outpath, sizeof outpath, "%s/out.ndjson", dir);
    return 0;
}

static int teardown(void **s)
{
    (void)s;
    stop();
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return -1;
    return 0;
}

static void append(const char *path, const void *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    close(fd);
}
#define APPEND(s) append(logpath, s, sizeof(s) - 1)

/* Reads what tf has, dispatches, and waits until every batch is acked and collected. */
static void pump(struct tail_file *tf)
{
    while (tail_read(&A, tf, 1 << 20) > 0)
        ;
    tail_dispatch(&A, tf);
    for (int i = 0; i < 5000 && pipeline_inflight(&A) > 0; i++) {
        pipeline_collect(&A);
        if (pipeline_inflight(&A) > 0) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    assert_int_equal(pipeline_inflight(&A), 0);
}

/* The events written so far, as a JSON array. */
static json_t *events(void)
{
    json_t *arr = json_array();
    FILE *f = fopen(outpath, "r");
    if (!f)
        return arr;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        json_error_t err;
        json_t *v = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
        if (!v)
            fail_msg("invalid JSON line in the output: %s", err.text);
        json_array_append_new(arr, v);
    }
    free(line);
    fclose(f);
    return arr;
}

static const char *msg(json_t *arr, size_t i)
{
    return json_string_value(json_object_get(json_array_get(arr, i), "message"));
}

static long long off(json_t *arr, size_t i)
{
    return json_integer_value(json_object_get(json_object_get(json_array_get(arr, i), "log"), "offset"));
}

static json_t *flags(json_t *arr, size_t i)
{
    return json_object_get(json_object_get(json_array_get(arr, i), "log"), "flags");
}

static struct tail_file *open_log(int initial)
{
    struct tail_file *tf = tail_open(&A, &A.inputs[0], 0, logpath, initial);
    assert_non_null(tf);
    return tf;
}

static void partial_line_is_held_until_its_newline(void **s)
{
    (void)s;
    start("");
    APPEND("first\nsec");
    struct tail_file *tf = open_log(1);
    pump(tf);
    json_t *ev = events();
    assert_int_equal(json_array_size(ev), 1);
    assert_string_equal(msg(ev, 0), "first");
    assert_int_equal(tf->committed, 6); /* only the complete line is committed */
    json_decref(ev);
    APPEND("ond");
    pump(tf);
    ev = events();
    assert_int_equal(json_array_size(ev), 1); /* still no newline: nothing new */
    json_decref(ev);
    APPEND("\nthird\n");
    pump(tf);
    ev = events();
    assert_int_equal(json_array_size(ev), 3);
    assert_string_equal(msg(ev, 1), "second");
    assert_int_equal(off(ev, 1), 6);
    assert_string_equal(msg(ev, 2), "third");
    assert_int_equal(off(ev, 2), 13);
    assert_int_equal(tf->committed, 19);
    assert_int_equal(reg_find(A.reg, tf->id.dev, tf->id.ino)->offset, 19);
    json_decref(ev);
}

static void crlf_and_empty_lines(void **s)
{
    (void)s;
    start("");
    APPEND("a\r\n\r\nb\r\n\nc\rd\n");
    struct tail_file *tf = open_log(1);
    pump(tf);
    json_t *ev = events();
    assert_int_equal(json_array_size(ev), 5);
    const char *want[] = {"a", "", "b", "", "c\rd"};
    long long wantoff[] = {0, 3, 5, 8, 9};
    for (int i = 0; i < 5; i++) {
        assert_string_equal(msg(ev, (size_t)i), want[i]);
        assert_int_equal(off(ev, (size_t)i), wantoff[i]);
    }
    assert_int_equal(tf->committed, 13);
    json_decref(ev);
}

static void long_line_is_cut_at_a_character_boundary_and_flagged(void **s)
{
    (void)s;
    start("");
    /* 63 'x' then a 2-byte character straddling the 64-byte limit, 200 bytes in all */
    char line[201];
    memset(line, 'x', 63);
    memcpy(line + 63, "\xC3\xA9", 2);
    memset(line + 65, 'y', 135);
    line[200] = '\n';
    append(logpath, line, sizeof line);
    char exact[65];
    memset(exact, 'e', 64);
    exact[64] = '\n';
    append(logpath, exact, sizeof exact); /* exactly max_line_bytes: not truncated */
    char over[66];
    memset(over, 'o', 65);
    over[65] = '\n';
    append(logpath, over, sizeof over);   /* one byte over */
    APPEND("after\n");
    struct tail_file *tf = open_log(1);
    pump(tf);
    json_t *ev = events();
    assert_int_equal(json_array_size(ev), 4);
    assert_int_equal(strlen(msg(ev, 0)), 63); /* cut before the character, not inside it */
    assert_null(strstr(msg(ev, 0), "\xEF\xBF\xBD"));
    assert_string_equal(json_string_value(json_array_get(flags(ev, 0), 0)), "truncated");
    assert_int_equal(off(ev, 0), 0);
    assert_int_equal(strlen(msg(ev, 1)), 64);
    assert_null(flags(ev, 1));
    assert_int_equal(off(ev, 1), 201);
    assert_int_equal(strlen(msg(ev, 2)), 64);
    assert_non_null(flags(ev, 2));
    assert_int_equal(off(ev, 2), 266);
    assert_string_equal(msg(ev, 3), "after");
    assert_int_equal(off(ev, 3), 332);
    assert_null(flags(ev, 3));
    assert_int_equal(tf->committed, 338);
    json_decref(ev);
}

static void long_line_spanning_reads_is_cut_once_and_skipped(void **s)
{
    (void)s;
    start("");
    APPEND("head\n");
    struct tail_file *tf = open_log(1);
    pump(tf);
    char chunk[100];
    memset(chunk, 'z', sizeof chunk);
    chunk[0] = 'L';
    append(logpath, chunk, sizeof chunk); /* over the limit, no newline yet */
    pump(tf);
    json_t *ev = events();
    assert_int_equal(json_array_size(ev), 1); /* the long line waits for its end */
    json_decref(ev);
    assert_int_equal(tf->committed, 5);
    memset(chunk, 'w', sizeof chunk);
    for (int i = 0; i < 5; i++) {
        append(logpath, chunk, sizeof chunk); /* 500 more bytes of the same line */
        pump(tf);
    }
    APPEND("\ntail line\n");
    pump(tf);
    ev = events();
    assert_int_equal(json_array_size(ev), 3);
    assert_int_equal(strlen(msg(ev, 1)), 64);
    assert_int_equal(msg(ev, 1)[0], 'L');
    assert_null(strchr(msg(ev, 1), 'w')); /* the head of the line, nothing from later reads */
    assert_non_null(flags(ev, 1));
    assert_int_equal(off(ev, 1), 5);
    assert_string_equal(msg(ev, 2), "tail line");
    assert_int_equal(off(ev, 2), 606);
    assert_int_equal(tf->committed, 616);
    json_decref(ev);
}

static void offsets_exact_over_random_chunks(void **s)
{
    (void)s;
    start("");
    struct tail_file *tf = NULL;
    APPEND("");
    tf = open_log(1);
    /* 2000 numbered lines of varying length written in random pieces, read in between */
    char all[200000];
    size_t len = 0;
    for (int i = 0; i < 2000; i++)
        len += (size_t)snprintf(all + len, sizeof all - len, "n %d %.*s\n", i, i % 40,
                                "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
    uint32_t x = 7;
    size_t pos = 0;
    while (pos < len) {
        x = x * 1103515245u + 12345u;
        size_t k = 1 + (x >> 16) % 97;
        if (k > len - pos)
            k = len - pos;
        append(logpath, all + pos, k);
        pos += k;
        if ((x >> 8) % 3 == 0)
            pump(tf);
    }
    pump(tf);
    json_t *ev = events();
    assert_int_equal(json_array_size(ev), 2000);
    size_t at = 0;
    for (size_t i = 0; i < 2000; i++) {
        const char *m = msg(ev, i);
        size_t ml = strlen(m);
        assert_int_equal(off(ev, i), (long long)at);
        assert_memory_equal(all + at, m, ml);
        assert_int_equal(all[at + ml], '\n');
        at += ml + 1;
    }
    assert_int_equal(tf->committed, len);
    json_decref(ev);
}

static void last_line_without_newline_is_shipped_when_the_file_is_closed_deleted(void **s)
{
    (void)s;
    start("");
    APPEND("one\ntwo");
    struct tail_file *tf = open_log(1);
    pump(tf);
    tf->state = TF_DELETED;
    tail_close_fd(&A, tf, "test: deleted");
    pump(tf);
    json_t *ev = events();
    assert_int_equal(json_array_size(ev), 2);
    assert_string_equal(msg(ev, 1), "two");
    assert_int_equal(tf->committed, 7);
    json_decref(ev);
}

static void fingerprint_covers_the_first_bytes(void **s)
{
    (void)s;
    APPEND("0123456789abcdef");
    int fd = open(logpath, O_RDONLY);
    uint64_t fp1, fp2, fp3;
    uint32_t got;
    assert_int_equal(tail_fingerprint(fd, 10, &fp1, &got), 0);
    assert_int_equal(got, 10);
    assert_int_equal(tail_fingerprint(fd, 4096, &fp2, &got), 0);
    assert_int_equal(got, 16); /* only what exists */
    assert_int_not_equal(fp1, fp2);
    close(fd);
    /* same first 10 bytes, different rest: same 10-byte fingerprint */
    char other[128];
    snprintf(other, sizeof other, "%s/other.log", dir);
    append(other, "0123456789XYZ", 13);
    fd = open(other, O_RDONLY);
    assert_int_equal(tail_fingerprint(fd, 10, &fp3, &got), 0);
    assert_int_equal(fp3, fp1);
    assert_int_equal(tail_fingerprint(fd, 13, &fp3, &got), 0);
    assert_int_not_equal(fp3, fp2);
    close(fd);
}

static void uid_is_stable_and_registry_resumes_with_matching_fingerprint(void **s)
{
    (void)s;
    APPEND("alpha\nbeta\n");
    start("");
    struct tail_file *tf = open_log(1);
    pump(tf);
    uint64_t uid = tf->id.uid, ino = tf->id.ino;
    assert_int_not_equal(uid, 0);
    assert_int_equal(tf->id.fp_len, 11);
    stop();
    APPEND("gamma\n");
    start("");
    tf = open_log(1);
    assert_int_equal(tf->id.ino, ino);
    assert_int_equal(tf->id.uid, uid); /* same file, same uid across runs */
    assert_int_equal(tf->read_off, 11); /* resumed from the registry */
    pump(tf);
    json_t *ev = events();
    assert_int_equal(json_array_size(ev), 3);
    assert_string_equal(msg(ev, 2), "gamma");
    assert_int_equal(off(ev, 2), 11);
    json_decref(ev);
}

static void reused_inode_with_other_fingerprint_is_read_from_the_start(void **s)
{
    (void)s;
    APPEND("new file line 1\nnew file line 2\n");
    start("");
    struct stat st;
    stat(logpath, &st);
    /* what the registry holds for a deleted file whose inode the new file got */
    struct file_id old = {(uint64_t)st.st_dev, (uint64_t)st.st_ino, 0x1234, 8, 0x99};
    assert_int_equal(reg_set(A.reg, logpath, &old, 20), 0);
    struct tail_file *tf = open_log(0);
    assert_int_equal(tf->read_off, 0);
    assert_int_not_equal(tf->id.uid, 0x99); /* a new file gets a new uid */
    pump(tf);
    json_t *ev = events();
    assert_int_equal(json_array_size(ev), 2);
    assert_string_equal(msg(ev, 0), "new file line 1");
    json_decref(ev);
    struct reg_entry *e = reg_find(A.reg, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
    assert_non_null(e);
    assert_int_equal(e->offset, 32);
    assert_int_not_equal(e->id.fp, 0x1234);
}

static void registry_offset_beyond_size_means_truncated(void **s)
{
    (void)s;
    APPEND("short\n");
    start("");
    int fd = open(logpath, O_RDONLY);
    uint64_t fp;
    uint32_t got;
    tail_fingerprint(fd, 6, &fp, &got);
    close(fd);
    struct stat st;
    stat(logpath, &st);
    struct file_id id = {(uint64_t)st.st_dev, (uint64_t)st.st_ino, fp, 6, 0};
    assert_int_equal(reg_set(A.reg, logpath, &id, 1000), 0);
    struct tail_file *tf = open_log(0);
    assert_int_equal(tf->read_off, 0);
    pump(tf);
    json_t *ev = events();
    assert_int_equal(json_array_size(ev), 1);
    json_decref(ev);
}

static void start_at_end_only_on_the_initial_scan(void **s)
{
    (void)s;
    APPEND("old 1\nold 2\n");
    char later[128];
    snprintf(later, sizeof later, "%s/later.log", dir);
    append(later, "later 1\n", 8);
    start("start_at = end");
    struct tail_file *tf = open_log(1);
    assert_int_equal(tf->read_off, 12);
    struct tail_file *tl = tail_open(&A, &A.inputs[0], 0, later, 0); /* found by inotify */
    assert_non_null(tl);
    assert_int_equal(tl->read_off, 0);
    APPEND("new 1\n");
    pump(tf);
    pump(tl);
    json_t *ev = events();
    assert_int_equal(json_array_size(ev), 2);
    int saw_new = 0, saw_later = 0;
    for (size_t i = 0; i < 2; i++) {
        saw_new += strcmp(msg(ev, i), "new 1") == 0;
        saw_later += strcmp(msg(ev, i), "later 1") == 0;
    }
    assert_int_equal(saw_new, 1);
    assert_int_equal(saw_later, 1);
    json_decref(ev);
    /* After a restart (the registry exists) start_at no longer applies: a file without an
     * entry appeared while the agent was down and is read from its beginning. */
    stop();
    char down[128];
    snprintf(down, sizeof down, "%s/down.log", dir);
    append(down, "down 1\n", 7);
    start("start_at = end");
    assert_int_equal(A.first_start, 0);
    struct tail_file *td = tail_open(&A, &A.inputs[0], 0, down, 1);
    assert_non_null(td);
    assert_int_equal(td->read_off, 0);
}

static void truncation_restarts_at_zero_and_commits_from_zero(void **s)
{
    (void)s;
    APPEND("before 1\nbefore 2\n");
    start("");
    struct tail_file *tf = open_log(1);
    pump(tf);
    assert_int_equal(tf->committed, 18);
    assert_int_equal(truncate(logpath, 0), 0);
    pump(tf);
    assert_int_equal(tf->read_off, 0);
    assert_int_equal(tf->committed, 0); /* not the old content's offset */
    assert_int_equal(reg_find(A.reg, tf->id.dev, tf->id.ino)->offset, 0);
    APPEND("after\n");
    pump(tf);
    json_t *ev = events();
    assert_int_equal(json_array_size(ev), 3);
    assert_string_equal(msg(ev, 2), "after");
    assert_int_equal(off(ev, 2), 0);
    assert_int_equal(tf->committed, 6);
    json_decref(ev);
}

static void truncation_with_batches_in_flight_never_commits_old_offsets(void **s)
{
    (void)s;
    APPEND("before 1\nbefore 2\n");
    start("");
    struct tail_file *tf = open_log(1);
    while (tail_read(&A, tf, 1 << 20) > 0)
        ;
    tail_dispatch(&A, tf);
    assert_non_null(tf->fifo_head); /* in flight: dispatched, not collected */
    for (int i = 0; i < 5000 && atomic_load(&tf->fifo_head->pending) > 0; i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(truncate(logpath, 0), 0);
    while (tail_read(&A, tf, 1 << 20) > 0) /* sees the truncation */
        ;
    assert_int_equal(tf->read_off, 0);
    pipeline_collect(&A); /* the old content's ack arrives after the reset */
    assert_null(tf->fifo_head);
    assert_int_equal(tf->committed, 0); /* not 18: that offset belongs to the old content */
    assert_int_equal(reg_find(A.reg, tf->id.dev, tf->id.ino)->offset, 0);
    APPEND("after\n");
    pump(tf);
    assert_int_equal(tf->committed, 6);
    json_t *ev = events();
    assert_int_equal(json_array_size(ev), 3);
    assert_string_equal(msg(ev, 2), "after");
    json_decref(ev);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(partial_line_is_held_until_its_newline),
        T(crlf_and_empty_lines),
        T(long_line_is_cut_at_a_character_boundary_and_flagged),
        T(long_line_spanning_reads_is_cut_once_and_skipped),
        T(offsets_exact_over_random_chunks),
        T(last_line_without_newline_is_shipped_when_the_file_is_closed_deleted),
        T(fingerprint_covers_the_first_bytes),
        T(uid_is_stable_and_registry_resumes_with_matching_fingerprint),
        T(reused_inode_with_other_fingerprint_is_read_from_the_start),
        T(registry_offset_beyond_size_means_truncated),
        T(start_at_end_only_on_the_initial_scan),
        T(truncation_restarts_at_zero_and_commits_from_zero),
        T(truncation_with_batches_in_flight_never_commits_old_offsets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
