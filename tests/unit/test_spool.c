/*
 * test_spool.c - the disk spool (agent/spool*.c, agent/crc32c.c): CRC32C check values, the
 * record format round trip and its damage checks, segment lifecycle (records read back
 * oldest first, segments deleted once acknowledged), replay after a restart, damage skipped
 * and counted (a flipped byte, a segment cut mid-record), and both spool_full policies.
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

#include "agent/crc32c.h"
#include "agent/spool.h"
#include "agent/spool_rec.h"

static char dir[64];
static char lines[512][64];
static struct event_source src = {.input = "app", .path = "/var/log/app.log",
                                  .id = {.dev = 1, .ino = 2, .fp = 3, .fp_len = 4, .uid = 5}};

static int mkdir_tmp(void **s)
{
    (void)s;
    snprintf(dir, sizeof dir, "/tmp/lf_test_spool_XXXXXX");
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
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    return 0;
}

static int count_segs(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)))
        n += strstr(e->d_name, ".seg") != NULL;
    if (d)
        closedir(d);
    return n;
}

/* A batch of n events numbered from first: JSON {"n":K}. */
static struct event_batch *make_batch(int first, int n)
{
    struct event_batch *b = batch_new(&src, "host-a", (uint32_t)n);
    for (int i = 0; i < n; i++) {
        int k = first + i;
        snprintf(lines[k % 512], sizeof lines[0], "{\"n\":%d}\n", k);
        struct event *ev = &b->ev[i];
        memset(ev, 0, sizeof *ev);
        ev->offset = (uint64_t)k * 10;
        ev->end = ev->offset + 10;
        ev->ts_ms = 1000 + k;
        ev->flags = (uint16_t)(k & 3);
        ev->json = lines[k % 512];
        ev->json_len = (uint32_t)strlen(lines[k % 512]);
    }
    b->n = (uint32_t)n;
    b->start = (uint64_t)first * 10;
    b->end = (uint64_t)(first + n) * 10;
    b->seq = (uint64_t)first;
    return b;
}

static int event_number(const struct event *ev)
{
    int k = -1;
    assert_int_equal(sscanf(ev->json, "{\"n\":%d}", &k), 1);
    return k;
}

static void crc32c_check_values(void **s)
{
    (void)s;
    /* RFC 3720 B.4 and the usual "123456789" check value */
    assert_int_equal(crc32c(0, "123456789", 9), 0xE3069283u);
    unsigned char z[32] = {0};
    assert_int_equal(crc32c(0, z, 32), 0x8A9136AAu);
    unsigned char f[32];
    memset(f, 0xff, sizeof f);
    assert_int_equal(crc32c(0, f, 32), 0x62A8AB43u);
    /* in pieces, at odd alignments, the same */
    char buf[1000];
    for (int i = 0; i < 1000; i++)
        buf[i] = (char)(i * 7);
    uint32_t whole = crc32c(0, buf, 1000);
    assert_int_equal(crc32c(crc32c(0, buf, 3), buf + 3, 997), whole);
    /* the CPU's instruction (when used) and the tables agree, at every length and alignment */
    for (int off = 0; off < 9; off++)
        for (int n = 0; n < 100; n++)
            assert_int_equal(crc32c(0, buf + off, (size_t)n), crc32c_sw(0, buf + off, (size_t)n));
    assert_int_equal(crc32c_sw(0, "123456789", 9), 0xE3069283u);
}

static void record_round_trip_and_damage(void **s)
{
    (void)s;
    struct event_batch *b = make_batch(0, 5);
    size_t sz = spool_rec_size(b);
    char *rec = malloc(sz);
    assert_int_equal(spool_rec_encode(b, 777, rec), sz);
    struct spool_hdr h;
    assert_int_equal(spool_hdr_parse(rec, &h), 0);
    assert_int_equal(h.nev, 5);
    assert_int_equal(h.ms, 777);
    assert_int_equal(h.len, sz - SPOOL_HDR_BYTES);
    assert_true(spool_body_ok(&h, rec + SPOOL_HDR_BYTES));
    struct event_batch *d = batch_new(NULL, NULL, h.nev);
    struct event_source ds;
    char *strs = malloc(h.len);
    assert_int_equal(spool_rec_decode(&h, rec + SPOOL_HDR_BYTES, d, &ds, strs), 0);
    assert_int_equal(d->n, 5);
    assert_string_equal(d->host_name, "host-a");
    assert_string_equal(ds.input, "app");
    assert_string_equal(ds.path, "/var/log/app.log");
    assert_int_equal(ds.id.uid, 5);
    assert_int_equal(ds.id.ino, 2);
    assert_int_equal(d->end, 50);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(d->ev[i].offset, b->ev[i].offset);
        assert_int_equal(d->ev[i].ts_ms, b->ev[i].ts_ms);
        assert_int_equal(d->ev[i].flags, b->ev[i].flags);
        assert_memory_equal(d->ev[i].json, b->ev[i].json, b->ev[i].json_len);
    }
    /* a flipped bit in the body fails its CRC; one in the header fails the header */
    rec[SPOOL_HDR_BYTES + 70] ^= 1;
    assert_false(spool_body_ok(&h, rec + SPOOL_HDR_BYTES));
    rec[SPOOL_HDR_BYTES + 70] ^= 1;
    rec[5] ^= 0x10;
    assert_int_equal(spool_hdr_parse(rec, &h), -1);
    rec[5] ^= 0x10;
    /* a body whose JSON length points past its end does not decode */
    assert_int_equal(spool_hdr_parse(rec, &h), 0);
    h.len -= 3;
    assert_int_equal(spool_rec_decode(&h, rec + SPOOL_HDR_BYTES, d, &ds, strs), -1);
    free(strs);
    free(rec);
    batch_free(d);
    batch_free(b);
}

static struct spool *open_spool(uint64_t max, uint64_t seg, int drop)
{
    struct spool_conf c = {.max_bytes = max, .seg_bytes = seg, .drop_oldest = drop};
    struct spool *sp = NULL;
    char err[256] = "";
    assert_int_equal(spool_open(&sp, dir, "test", &c, err, sizeof err), 0);
    return sp;
}

/* Appends batches of 10 events numbered from first, `count` of them, one sync. */
static void append_n(struct spool *sp, int first, int count)
{
    for (int i = 0; i < count; i++) {
        struct event_batch *b = make_batch(first + i * 10, 10);
        assert_int_equal(spool_append(sp, b, 1000, NULL), 0);
        batch_free(b);
    }
    assert_int_equal(spool_sync(sp), 0);
}

/* Reads every readable record, checks numbering from `first` in order, acks when asked. */
static int drain(struct spool *sp, int first, int ack)
{
    int got = 0;
    struct event_batch *b;
    struct event_batch *keep[256];
    int nk = 0;
    while ((b = spool_next(sp))) {
        assert_true(spool_owns(sp, b));
        for (uint32_t i = 0; i < b->n; i++)
            assert_int_equal(event_number(&b->ev[i]), first + got++);
        assert_string_equal(b->src->path, "/var/log/app.log");
        if (ack)
            spool_ack(sp, b);
        else
            keep[nk++] = b;
    }
    for (int i = 0; i < nk; i++)
        spool_ack(sp, keep[i]); /* acknowledged after all were read: out of any order */
    return got;
}

static void segments_read_in_order_and_deleted_when_acked(void **s)
{
    (void)s;
    struct spool *sp = open_spool(1 << 20, 4096, 0);
    assert_int_equal(spool_unread(sp), 0);
    assert_null(spool_next(sp));
    /* not readable before the sync */
    struct event_batch *b = make_batch(0, 10);
    assert_int_equal(spool_append(sp, b, 1000, NULL), 0);
    batch_free(b);
    assert_int_equal(spool_unread(sp), 1);
    assert_false(spool_readable(sp));
    assert_int_equal(spool_sync(sp), 0);
    assert_true(spool_readable(sp));
    append_n(sp, 10, 99);
    assert_true(count_segs() > 3); /* 4 KiB segments: the records spread over several */
    struct spool_stats st;
    spool_get_stats(sp, &st);
    assert_int_equal(st.events, 1000);
    assert_int_equal(st.events_spooled, 1000);
    assert_int_equal(st.oldest_ms, 1000);
    assert_int_equal(drain(sp, 0, 0), 1000);
    assert_int_equal(spool_unread(sp), 0);
    assert_int_equal(spool_in_flight(sp), 0);
    spool_maintain(sp); /* the segment still taking appends goes once acked too */
    assert_int_equal(count_segs(), 0);
    spool_get_stats(sp, &st);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(st.events, 0);
    assert_int_equal(st.events_drained, 1000);
    /* and it goes on after that */
    append_n(sp, 1000, 3);
    assert_int_equal(drain(sp, 1000, 1), 30);
    spool_close(sp, 0);
}

static void replay_after_restart_delivers_unacked(void **s)
{
    (void)s;
    struct spool *sp = open_spool(1 << 20, 4096, 0);
    append_n(sp, 0, 50);
    /* half read and acked, some read and not acked (in flight at the "crash") */
    struct event_batch *b;
    for (int i = 0; i < 20 && (b = spool_next(sp)); i++)
        spool_ack(sp, b);
    struct event_batch *held = spool_next(sp);
    assert_non_null(held);
    spool_close(sp, 0);
    sp = open_spool(1 << 20, 4096, 0);
    /* at least everything from the first unacked record on comes back, in order; records of
     * segments not yet deleted may come again (at-least-once) */
    struct event_batch *first = spool_next(sp);
    assert_non_null(first);
    int k0 = event_number(&first->ev[0]);
    assert_true(k0 <= 200);
    assert_int_equal(k0 % 10, 0);
    spool_ack(sp, first);
    assert_int_equal(drain(sp, k0 + 10, 1), 500 - k0 - 10);
    struct spool_stats st;
    spool_get_stats(sp, &st);
    assert_int_equal(st.corrupt_records, 0);
    assert_int_equal(st.torn_tails, 0);
    spool_close(sp, 0);
}

static void seg_name(int idx, char *out, size_t n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char names[64][300];
    int k = 0;
    while (d && (e = readdir(d)) && k < 64)
        if (strstr(e->d_name, ".seg"))
            snprintf(names[k++], sizeof names[0], "%s", e->d_name);
    closedir(d);
    qsort(names, (size_t)k, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    assert_true(idx < k);
    snprintf(out, n, "%s/%s", dir, names[idx]);
}

static void damage_is_skipped_counted_and_cut(void **s)
{
    (void)s;
    struct spool *sp = open_spool(1 << 20, 4096, 0);
    append_n(sp, 0, 60);
    spool_close(sp, 0);
    assert_true(count_segs() >= 4);
    char p[512];
    /* a flipped byte inside the first record of the first segment (its body) */
    seg_name(0, p, sizeof p);
    int fd = open(p, O_RDWR);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, 100), 1);
    c ^= 0x55;
    assert_int_equal(pwrite(fd, &c, 1, 100), 1);
    /* and a flipped byte in the header of its second record */
    struct stat st0;
    fstat(fd, &st0);
    close(fd);
    /* a second segment cut in the middle of a record */
    seg_name(1, p, sizeof p);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(truncate(p, st.st_size - 7), 0);
    assert_int_equal(spool_check_dir(dir, stderr), 2);

    sp = open_spool(1 << 20, 4096, 0);
    struct spool_stats ss;
    spool_get_stats(sp, &ss);
    assert_int_equal(ss.corrupt_records, 1);
    assert_int_equal(ss.torn_tails, 1);
    assert_true(ss.corrupt_bytes > 0);
    assert_int_equal(ss.events, 600 - 20); /* one record lost to each kind of damage */
    int got = 0, seen[600] = {0};
    struct event_batch *b;
    while ((b = spool_next(sp))) {
        for (uint32_t i = 0; i < b->n; i++) {
            int k = event_number(&b->ev[i]);
            assert_true(k >= 0 && k < 600);
            assert_int_equal(seen[k]++, 0);
            got++;
        }
        spool_ack(sp, b);
    }
    assert_int_equal(got, 580);
    assert_int_equal(seen[0], 0); /* the first record was the damaged one */
    assert_int_equal(seen[599], 1);
    spool_close(sp, 0);
    /* the torn tail was cut at the replay, and the damaged segment went once its good
     * records were acknowledged: a check finds nothing */
    assert_int_equal(spool_check_dir(dir, stderr), 0);
}

static void full_block_waits_and_drop_oldest_drops(void **s)
{
    (void)s;
    /* block: the append gives up only because it is told to stop; nothing is dropped */
    struct spool *sp = open_spool(8192, 4096, 0);
    atomic_int stop = 1;
    int ok = 0, refused = 0;
    for (int i = 0; i < 100; i++) {
        struct event_batch *b = make_batch(i * 10, 10);
        int r = spool_append(sp, b, 1000, &stop);
        batch_free(b);
        if (r == 0)
            ok++;
        else
            refused++;
        spool_sync(sp);
    }
    assert_true(ok > 0 && refused > 0);
    struct spool_stats st;
    spool_get_stats(sp, &st);
    assert_true(st.bytes <= 8192);
    assert_int_equal(st.events_dropped, 0);
    assert_int_equal(drain(sp, 0, 1), ok * 10); /* the first ones, all of them */
    spool_close(sp, 0);
    rm_tmp(NULL);
    mkdir_tmp(NULL);

    /* drop_oldest: every append goes in; the oldest segments go, counted */
    sp = open_spool(16384, 4096, 1);
    for (int i = 0; i < 100; i++) {
        struct event_batch *b = make_batch(i * 10, 10);
        assert_int_equal(spool_append(sp, b, 1000, &stop), 0);
        batch_free(b);
        spool_sync(sp);
    }
    spool_get_stats(sp, &st);
    assert_true(st.bytes <= 16384);
    assert_true(st.events_dropped > 0);
    assert_int_equal(st.events + st.events_dropped, 1000);
    int first = (int)st.events_dropped;
    assert_int_equal(drain(sp, first, 1), 1000 - first); /* the newest survive, in order */
    spool_close(sp, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc32c_check_values),
        cmocka_unit_test(record_round_trip_and_damage),
        cmocka_unit_test_setup_teardown(segments_read_in_order_and_deleted_when_acked, mkdir_tmp,
                                        rm_tmp),
        cmocka_unit_test_setup_teardown(replay_after_restart_delivers_unacked, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(damage_is_skipped_counted_and_cut, mkdir_tmp, rm_tmp),
        cmocka_unit_test_setup_teardown(full_block_waits_and_drop_oldest_drops, mkdir_tmp, rm_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
