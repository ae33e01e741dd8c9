/*
 * test_registry.c - the registry (agent/registry.c): save/load round trip, atomic
 * replacement (no .tmp left behind, the old file intact when a write fails), a corrupt file
 * set aside as registry.json.corrupt-*, malformed entries skipped, a failed write returns -1
 * and stays dirty so the next flush retries, paths that are not UTF-8 round-trip, the input
 * that read a file round-trips (a rotated name no glob matches still knows its input) and
 * the registry file's mtime at load is kept (files born after it were never seen).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/registry.h"

static char dir[64];

static int mkdir_tmp(void **s)
{
    (void)s;
    snprintf(dir, sizeof dir, "/tmp/lf_test_reg_XXXXXX");
    assert_non_null(mkdtemp(dir));
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
        chmod(p, 0700);
        unlink(p);
    }
    if (d)
        closedir(d);
    chmod(dir, 0700);
    rmdir(dir);
    return 0;
}

static int count_files(const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d)
        closedir(d);
    return n;
}

static void write_file(const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void save_load_roundtrip(void **s)
{
    (void)s;
    char err[256];
    struct registry *r = reg_open(dir, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->n, 0);
    struct file_id a = {1, 100, 0xdeadbeefcafef00dULL, 1024, 0xffffffffffffffffULL};
    struct file_id b = {2, 200, 0x1ULL, 17, 0x42ULL};
    assert_int_equal(reg_set(r, "/var/log/a.log", &a, 123456789012ULL), 0);
    assert_int_equal(reg_set(r, "/var/log/\"odd\" name\n.log", &b, 0), 0);
    assert_int_equal(reg_set(r, "/var/log/a.log.1", &a, 5), 0); /* same dev+ino: renamed */
    assert_int_equal(r->n, 2);
    assert_true(r->dirty);
    assert_int_equal(reg_save(r, err, sizeof err), 0);
    assert_false(r->dirty);
    assert_int_equal(count_files("registry.json.tmp"), 0);
    reg_close(r);

    r = reg_open(dir, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->n, 2);
    assert_false(r->dirty);
    struct reg_entry *e = reg_find(r, 1, 100);
    assert_non_null(e);
    assert_string_equal(e->path, "/var/log/a.log.1");
    assert_int_equal(e->offset, 5);
    /* field by field: the struct's padding after fp_len is not part of the identity */
    assert_int_equal(e->id.dev, a.dev);
    assert_int_equal(e->id.ino, a.ino);
    assert_int_equal(e->id.fp, a.fp);
    assert_int_equal(e->id.fp_len, a.fp_len);
    assert_int_equal(e->id.uid, a.uid);
    e = reg_find(r, 2, 200);
    assert_non_null(e);
    assert_string_equal(e->path, "/var/log/\"odd\" name\n.log");
    assert_int_equal(e->id.fp, 1);
    assert_int_equal(e->id.fp_len, 17);
    assert_int_equal(e->id.uid, 0x42);
    assert_null(reg_find(r, 1, 200));
    reg_remove(r, 1, 100);
    assert_int_equal(r->n, 1);
    assert_int_equal(reg_save(r, err, sizeof err), 0);
    reg_close(r);
    r = reg_open(dir, err, sizeof err);
    assert_int_equal(r->n, 1);
    assert_null(reg_find(r, 1, 100));
    reg_close(r);
}

static void clean_registry_is_not_rewritten(void **s)
{
    (void)s;
    char err[256], p[512];
    struct registry *r = reg_open(dir, err, sizeof err);
    struct file_id a = {1, 1, 1, 1, 1};
    assert_int_equal(reg_set(r, "/a", &a, 10), 0);
    assert_int_equal(reg_save(r, err, sizeof err), 0);
    snprintf(p, sizeof p, "%s/registry.json", dir);
    struct stat st1, st2;
    stat(p, &st1);
    unlink(p);
    assert_int_equal(reg_save(r, err, sizeof err), 0); /* not dirty: nothing written */
    assert_int_not_equal(stat(p, &st2), 0);
    reg_close(r);
}

static void corrupt_file_is_set_aside(void **s)
{
    (void)s;
    const char *bad[] = {
        "{\"version\": 1, \"files\": [ {\"path\": \"/a\", \"dev\"",   /* torn */
        "",                                                          /* empty */
        "[1, 2, 3]",                                                 /* wrong shape */
        "{\"version\": 1}",                                          /* no files */
        "\x01\x02garbage\xff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rm_tmp(NULL);
        assert_int_equal(mkdir(dir, 0700), 0);
        write_file("registry.json", bad[i]);
        char err[256];
        struct registry *r = reg_open(dir, err, sizeof err);
        assert_non_null(r);
        assert_int_equal(r->n, 0);
        if (count_files("registry.json.corrupt-") != 1)
            fail_msg("case %zu: corrupt file not set aside", i);
        assert_int_equal(count_files("registry.json"), 1); /* only the .corrupt-* one */
        /* the agent goes on: the next save writes a fresh registry */
        struct file_id a = {1, 1, 1, 1, 1};
        assert_int_equal(reg_set(r, "/a", &a, 1), 0);
        assert_int_equal(reg_save(r, err, sizeof err), 0);
        reg_close(r);
        r = reg_open(dir, err, sizeof err);
        assert_int_equal(r->n, 1);
        reg_close(r);
    }
}

static void malformed_entries_are_skipped(void **s)
{
    (void)s;
    write_file("registry.json",
        "{\"version\": 1, \"files\": [\n"
        " {\"path\": \"/ok\", \"dev\": 1, \"ino\": 2, \"fp\": \"00000000000000ff\", \"fp_len\": 8, \"offset\": 10},\n"
        " {\"dev\": 1, \"ino\": 3, \"fp\": \"0\", \"fp_len\": 0, \"offset\": 10},\n"
        " {\"path\": \"/neg\", \"dev\": 1, \"ino\": 4, \"fp\": \"0\", \"fp_len\": 0, \"offset\": -5},\n"
        " {\"path\": \"/str\", \"dev\": 1, \"ino\": 5, \"fp\": \"0\", \"fp_len\": 0, \"offset\": \"10\"},\n"
        " {\"path\": \"/nofp\", \"dev\": 1, \"ino\": 6, \"fp_len\": 0, \"offset\": 1},\n"
        " 42,\n"
        " {\"path\": \"/ok2\", \"dev\": 1, \"ino\": 7, \"fp\": \"1\", \"fp_len\": 1, \"offset\": 0, \"uid\": \"00000000000000aa\"}\n"
        "]}\n");
    char err[256];
    struct registry *r = reg_open(dir, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->n, 2);
    assert_int_equal(reg_find(r, 1, 2)->offset, 10);
    assert_int_equal(reg_find(r, 1, 2)->id.fp, 0xff);
    assert_int_equal(reg_find(r, 1, 2)->id.uid, 0); /* absent uid: 0, computed later */
    assert_int_equal(reg_find(r, 1, 7)->id.uid, 0xaa);
    assert_int_equal(count_files("registry.json.corrupt-"), 0); /* the file is not corrupt */
    reg_close(r);
}

static void failed_write_returns_error_and_stays_dirty(void **s)
{
    (void)s;
    /* A read-only data_dir would not stop root (tests run as root in CI), so the failure is
     * made with a directory squatting on the temporary file's name: open(O_WRONLY) fails. */
    char err[256];
    struct registry *r = reg_open(dir, err, sizeof err);
    struct file_id a = {1, 1, 1, 1, 1};
    assert_int_equal(reg_set(r, "/a", &a, 10), 0);
    assert_int_equal(reg_save(r, err, sizeof err), 0);
    assert_int_equal(reg_set(r, "/a", &a, 20), 0);
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/registry.json.tmp", dir);
    assert_int_equal(mkdir(tmp, 0700), 0); /* the write of the temporary file must fail */
    err[0] = '\0';
    assert_int_equal(reg_save(r, err, sizeof err), -1);
    assert_true(r->dirty);
    assert_non_null(strstr(err, "registry.json.tmp"));
    /* the previous registry is intact */
    struct registry *r2 = reg_open(dir, err, sizeof err);
    assert_int_equal(reg_find(r2, 1, 1)->offset, 10);
    reg_close(r2);
    /* the cause goes away: the next save succeeds */
    rmdir(tmp);
    assert_int_equal(reg_save(r, err, sizeof err), 0);
    assert_false(r->dirty);
    reg_close(r);
    r2 = reg_open(dir, err, sizeof err);
    assert_int_equal(reg_find(r2, 1, 1)->offset, 20);
    reg_close(r2);
}

static void data_dir_is_created(void **s)
{
    (void)s;
    char sub[128], err[256];
    snprintf(sub, sizeof sub, "%s/deeper", dir);
    struct registry *r = reg_open(sub, err, sizeof err);
    assert_non_null(r);
    struct file_id a = {1, 1, 1, 1, 1};
    assert_int_equal(reg_set(r, "/a", &a, 1), 0);
    assert_int_equal(reg_save(r, err, sizeof err), 0);
    reg_close(r);
    char p[256];
    snprintf(p, sizeof p, "%s/registry.json", sub);
    unlink(p);
    rmdir(sub);
    /* a data_dir that cannot be created: NULL with a reason */
    assert_null(reg_open("/proc/lf_no_such/dir", err, sizeof err));
    assert_non_null(strstr(err, "data_dir"));
}

static void paths_that_are_not_utf8_round_trip(void **s)
{
    (void)s;
    char err[256];
    const char *bad = "/var/log/caf\xe9.log";   /* Latin-1 name */
    const char *good = "/var/log/caf\xc3\xa9 \"x\".log";
    struct registry *r = reg_open(dir, err, sizeof err);
    struct file_id a = {1, 10, 5, 5, 5}, b = {1, 11, 6, 6, 6};
    assert_int_equal(reg_set(r, bad, &a, 100), 0);
    assert_int_equal(reg_set(r, good, &b, 200), 0);
    assert_int_equal(reg_save(r, err, sizeof err), 0);
    reg_close(r);
    r = reg_open(dir, err, sizeof err);
    assert_int_equal(r->n, 2);
    assert_string_equal(reg_find(r, 1, 10)->path, bad);
    assert_int_equal(reg_find(r, 1, 10)->offset, 100);
    assert_string_equal(reg_find(r, 1, 11)->path, good);
    assert_int_equal(count_files("registry.json.corrupt-"), 0);
    reg_close(r);
    /* a damaged path_hex is a malformed entry, not a crash */
    write_file("registry.json",
        "{\"version\": 1, \"files\": [\n"
        " {\"path_hex\": \"2f61\", \"dev\": 1, \"ino\": 2, \"fp\": \"0\", \"fp_len\": 0, \"offset\": 1},\n"
        " {\"path_hex\": \"2f6\", \"dev\": 1, \"ino\": 3, \"fp\": \"0\", \"fp_len\": 0, \"offset\": 1},\n"
        " {\"path_hex\": \"2f00\", \"dev\": 1, \"ino\": 4, \"fp\": \"0\", \"fp_len\": 0, \"offset\": 1},\n"
        " {\"path_hex\": \"zz\", \"dev\": 1, \"ino\": 5, \"fp\": \"0\", \"fp_len\": 0, \"offset\": 1}\n"
        "]}\n");
    r = reg_open(dir, err, sizeof err);
    assert_int_equal(r->n, 1);
    assert_string_equal(reg_find(r, 1, 2)->path, "/a");
    reg_close(r);
}

static void input_and_load_time_round_trip(void **s)
{
    (void)s;
    char err[256];
    struct registry *r = reg_open(dir, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->loaded_mtime_ms, 0); /* no registry yet */
    assert_int_equal(r->caught_up_ms, 0);
    r->caught_up_ms = 1765000000123LL; /* discovery's high-water mark is saved with it */
    struct file_id a = {1, 10, 0xabc, 5, 7}, b = {1, 11, 0xdef, 9, 8};
    assert_int_equal(reg_set(r, "/l/app.log.1", &a, 100), 0);
    assert_int_equal(reg_set_input(r, 1, 10, "app"), 0);
    assert_int_equal(reg_set(r, "/l/old.log", &b, 5), 0); /* no input recorded */
    assert_int_equal(reg_set_input(r, 9, 99, "app"), -1);  /* no such entry */
    assert_int_equal(reg_save(r, err, sizeof err), 0);
    reg_close(r);
    r = reg_open(dir, err, sizeof err);
    assert_non_null(r);
    assert_true(r->loaded_mtime_ms > 0);
    assert_true(r->caught_up_ms == 1765000000123LL);
    struct reg_entry *e = reg_find(r, 1, 10);
    assert_non_null(e);
    assert_non_null(e->input);
    assert_string_equal(e->input, "app");
    assert_int_equal(e->offset, 100);
    e = reg_find(r, 1, 11);
    assert_non_null(e);
    assert_null(e->input);
    reg_remove(r, 1, 10); /* frees the input too (ASan) */
    reg_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(save_load_roundtrip, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(clean_registry_is_not_rewritten, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(corrupt_file_is_set_aside, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(malformed_entries_are_skipped, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(failed_write_returns_error_and_stays_dirty, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(data_dir_is_created, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(paths_that_are_not_utf8_round_trip, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(input_and_load_time_round_trip, mkdir_tmp, rm_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
