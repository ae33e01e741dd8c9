/*
 * test_registry_journal.c - the registry's journal (agent/registry_journal.c): records
 * round-trip through encode and replay, replay skips what registry.json already covers
 * (journal_seq), a torn or corrupt tail is cut (counted, the file truncated so new records
 * follow good ones), a group carries one record per changed file however often it changed,
 * removals and the swap that reg_remove does keep the pending list right, a "crash" (journal
 * stopped, no save) resumes from the journal, a save empties the journal and a clean stop
 * removes it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/registry.h"
#include "agent/registry_journal.h"

static char dir[64];
static char jpath[128];

static int mkdir_tmp(void **s)
{
    (void)s;
    snprintf(dir, sizeof dir, "/tmp/lf_test_rj_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(jpath, sizeof jpath, "%s/registry.journal", dir);
    return 0;
}

static int rm_tmp(void **s)
{
    (void)s;
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    return 0;
}

static long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

/* Writes a journal file: the header (unless hdr is 0) and the given bytes. */
static void write_journal(int hdr, const uint8_t *b, size_t n)
{
    FILE *f = fopen(jpath, "wb");
    assert_non_null(f);
    if (hdr)
        fwrite(RJ_HEADER, 1, RJ_HEADER_LEN, f);
    fwrite(b, 1, n, f);
    fclose(f);
}

static struct reg_entry entry(const char *path, uint64_t ino, uint64_t off, const char *input)
{
    struct reg_entry e = {0};
    e.path = (char *)path;
    e.id = (struct file_id){7, ino, 0xabcdef0123456789ULL, 1024, 0x1122334455667788ULL};
    e.offset = off;
    e.updated_ms = 1700000000123LL;
    e.input = (char *)input;
    e.jslot = -1;
    return e;
}

static void records_round_trip_through_replay(void **s)
{
    (void)s;
    uint8_t b[3 * RJ_MAX_RECORD];
    size_t n = 0;
    struct reg_entry a = entry("/var/log/a.log", 1, 100, "web"), c = entry("/x/\"c\"\n", 3, 9, NULL);
    n += rj_encode_set(b + n, sizeof b - n, 1, &a);
    n += rj_encode_set(b + n, sizeof b - n, 2, &c);
    a.offset = 5000;
    n += rj_encode_set(b + n, sizeof b - n, 3, &a); /* the last record of a file wins */
    n += rj_encode_remove(b + n, sizeof b - n, 4, 7, 3);
    write_journal(1, b, n);
    char err[256];
    struct registry *r = reg_open(dir, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->seq, 4);
    assert_true(r->dirty); /* so that the next save folds it into registry.json */
    struct reg_entry *e = reg_find(r, 7, 1);
    assert_non_null(e);
    assert_string_equal(e->path, "/var/log/a.log");
    assert_string_equal(e->input, "web");
    assert_int_equal(e->offset, 5000);
    assert_int_equal(e->id.fp, a.id.fp);
    assert_int_equal(e->id.fp_len, 1024);
    assert_int_equal(e->id.uid, a.id.uid);
    assert_int_equal(e->updated_ms, 1700000000123LL);
    assert_null(reg_find(r, 7, 3));
    assert_int_equal(file_size(jpath), (long)(RJ_HEADER_LEN + n)); /* clean: nothing cut */
    /* the save that folds it in removes the journal (not running here) */
    assert_int_equal(reg_save(r, err, sizeof err), 0);
    assert_int_equal(file_size(jpath), -1);
    reg_close(r);
    r = reg_open(dir, err, sizeof err);
    assert_int_equal(reg_find(r, 7, 1)->offset, 5000);
    assert_int_equal(r->seq, 4); /* journal_seq in registry.json */
    reg_close(r);
}

static void replay_skips_what_registry_json_covers(void **s)
{
    (void)s;
    char p[512];
    snprintf(p, sizeof p, "%s/registry.json", dir);
    FILE *f = fopen(p, "w");
    fputs("{\"version\":1,\"journal_seq\":10,\"files\":[{\"path\":\"/a\",\"dev\":7,\"ino\":1,"
          "\"fp\":\"0\",\"fp_len\":0,\"offset\":777}]}", f);
    fclose(f);
    uint8_t b[2 * RJ_MAX_RECORD];
    struct reg_entry a = entry("/a", 1, 500, NULL);
    size_t n = rj_encode_set(b, sizeof b, 9, &a); /* older than the save: skipped */
    a.offset = 900;
    a.id.ino = 2;
    n += rj_encode_set(b + n, sizeof b - n, 11, &a);
    write_journal(1, b, n);
    char err[256];
    struct registry *r = reg_open(dir, err, sizeof err);
    assert_int_equal(reg_find(r, 7, 1)->offset, 777);
    assert_int_equal(reg_find(r, 7, 2)->offset, 900);
    assert_int_equal(r->seq, 11);
    assert_int_equal(r->snap_seq, 10);
    reg_close(r);
}

static void torn_tail_is_cut_and_counted(void **s)
{
    (void)s;
    uint8_t b[4 * RJ_MAX_RECORD];
    struct reg_entry a = entry("/a", 1, 10, NULL), c = entry("/c", 3, 30, NULL);
    size_t n1 = rj_encode_set(b, sizeof b, 1, &a);
    size_t n2 = n1 + rj_encode_set(b + n1, sizeof b - n1, 2, &c);
    a.offset = 20;
    size_t n3 = n2 + rj_encode_set(b + n2, sizeof b - n2, 3, &a);
    /* torn: the third record half written */
    write_journal(1, b, n2 + (n3 - n2) / 2);
    char err[256];
    struct rj_replay_stats st;
    struct registry *r = calloc(1, sizeof *r); /* replay alone, to read the stats */
    r->jfile = jpath;
    rj_replay(r, &st);
    assert_int_equal(st.records, 2);
    assert_int_equal(st.applied, 2);
    assert_int_equal(st.cut_bytes, (long long)((n3 - n2) / 2));
    assert_int_equal(reg_find(r, 7, 1)->offset, 10); /* the torn update is not applied */
    assert_int_equal(file_size(jpath), (long)(RJ_HEADER_LEN + n2)); /* cut at the last good one */
    for (int i = 0; i < r->n; i++)
        free(r->e[i].path);
    free(r->e);
    free(r);

    /* corrupt: a flipped byte in the second record's payload; the third is not trusted */
    b[n1 + 20] ^= 0x40;
    write_journal(1, b, n3);
    r = reg_open(dir, err, sizeof err);
    assert_int_equal(r->n, 1);
    assert_int_equal(reg_find(r, 7, 1)->offset, 10);
    assert_null(reg_find(r, 7, 3));
    assert_int_equal(file_size(jpath), (long)(RJ_HEADER_LEN + n1));
    reg_close(r);

    /* no header (a crash before it was synced, or not a journal): all cut */
    write_journal(0, (const uint8_t *)"garbage", 7);
    r = reg_open(dir, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(file_size(jpath), 0);
    reg_close(r);
}

/* Runs the journal, commits changes through it, then "crashes": the journal is stopped (its
 * groups written) and the registry closed without a save. */
static void crash_resumes_from_journal(void **s)
{
    (void)s;
    char err[256];
    struct registry *r = reg_open(dir, err, sizeof err);
    assert_int_equal(reg_journal_start(r, 20, err, sizeof err), 0);
    struct file_id a = {7, 1, 11, 10, 1}, b = {7, 2, 22, 10, 2}, c = {7, 3, 33, 10, 3};
    assert_int_equal(reg_set(r, "/a", &a, 0), 0);
    assert_int_equal(reg_set(r, "/b", &b, 0), 0);
    assert_int_equal(reg_set(r, "/c", &c, 0), 0);
    assert_int_equal(reg_set_input(r, 7, 2, "in"), 0);
    assert_int_equal(reg_journal_tick(r, 1000), 0); /* handed over: nothing pending */
    /* many commits of the same files coalesce into one record each per group */
    for (uint64_t off = 1; off <= 1000; off++) {
        assert_int_equal(reg_set(r, "/a", &a, off), 0);
        assert_int_equal(reg_set(r, "/c", &c, 2 * off), 0);
    }
    /* c changed, then a is removed: c moves into a's slot and must still be journaled */
    reg_remove(r, 7, 1);
    assert_int_equal(reg_journal_tick(r, 1005), 1020); /* the group is due 20 ms after the last */
    /* handed over once the writer has taken the last group (it may still be syncing it) */
    for (int64_t t = 1020; reg_journal_tick(r, t); t += 20)
        usleep(1000);
    reg_journal_stop(r);
    reg_close(r); /* no save: as after a kill -9 */

    r = reg_open(dir, err, sizeof err);
    assert_int_equal(r->n, 2);
    assert_null(reg_find(r, 7, 1));
    assert_int_equal(reg_find(r, 7, 3)->offset, 2000);
    assert_int_equal(reg_find(r, 7, 2)->offset, 0);
    assert_string_equal(reg_find(r, 7, 2)->input, "in");
    /* 3 records in the first group (the input change of b coalesced with its set), then one
     * remove and one set of c: seq counts records */
    assert_int_equal(r->seq, 5);
    reg_close(r);
}

static void save_empties_the_journal_and_a_clean_stop_removes_it(void **s)
{
    (void)s;
    char err[256];
    struct registry *r = reg_open(dir, err, sizeof err);
    assert_int_equal(reg_journal_start(r, 20, err, sizeof err), 0);
    assert_int_equal(file_size(jpath), RJ_HEADER_LEN);
    struct file_id a = {7, 1, 11, 10, 1};
    assert_int_equal(reg_set(r, "/a", &a, 42), 0);
    reg_journal_tick(r, 1000);
    assert_int_equal(reg_save(r, err, sizeof err), 0);
    assert_int_equal(reg_set(r, "/a", &a, 43), 0);
    reg_journal_tick(r, 2000);
    reg_journal_stop(r); /* waits for the writer: the emptying, then the one new record */
    long one = file_size(jpath) - RJ_HEADER_LEN;
    struct reg_entry e = *reg_find(r, 7, 1);
    uint8_t buf[RJ_MAX_RECORD];
    e.jslot = -1;
    assert_int_equal(one, (long)rj_encode_set(buf, sizeof buf, 2, &e));
    assert_int_equal(reg_save(r, err, sizeof err), 0); /* stopped: the save removes it */
    assert_int_equal(file_size(jpath), -1);
    reg_close(r);
    r = reg_open(dir, err, sizeof err);
    assert_int_equal(reg_find(r, 7, 1)->offset, 43);
    reg_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(records_round_trip_through_replay, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(replay_skips_what_registry_json_covers, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(torn_tail_is_cut_and_counted, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(crash_resumes_from_journal, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(save_empties_the_journal_and_a_clean_stop_removes_it,
                                        mkdir_tmp, rm_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
