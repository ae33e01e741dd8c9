/*
 * test_out_logstash.c - the Logstash output's pure parts (outputs/logstash_proto.c and the
 * host parser): the exact bytes of Lumberjack v2 frames, the @metadata insertion, the
 * compressed frame (libdeflate) read back with zlib, ACK parsing over split and hostile
 * input, the window's slow start. Single-threaded; no network (the integration tests drive the real output against
 * tests/tools/lj_standin).
 *
 * floor: outputs
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "agent/base/compress.h"
#include "outputs/logstash.h"

static const char META[] = "\"@metadata\":{\"beat\":\"logferry\",\"type\":\"_doc\",\"version\":\"1.2\"}";

static void window_frame_is_version_W_and_big_endian_count(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(lj_put_window(&b, 0x01020304), 0);
    assert_int_equal(b.len, 6);
    assert_memory_equal(b.p, "2W\x01\x02\x03\x04", 6);
    buf_free(&b);
}

static void metadata_is_escaped_json_members(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(lj_metadata(&b, "logferry", "1.2"), 0);
    assert_int_equal(b.len, strlen(META));
    assert_memory_equal(b.p, META, b.len);
    buf_reset(&b);
    assert_int_equal(lj_metadata(&b, "a\"b\n", "1"), 0);
    buf_cstr(&b);
    assert_non_null(strstr(b.p, "\"beat\":\"a\\\"b\\n\""));
    buf_free(&b);
}

static void event_frame_carries_seq_length_and_metadata_first(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4096);
    const char *json = "{\"message\":\"x\"}\n";
    assert_int_equal(lj_put_event(&b, 7, META, strlen(META), json, strlen(json)), 0);
    char want[512];
    int n = snprintf(want, sizeof want, "{%s,\"message\":\"x\"}", META);
    assert_int_equal(b.len, 10 + (size_t)n);
    assert_memory_equal(b.p, "2J\0\0\0\x07", 6);
    const unsigned char *l = (const unsigned char *)b.p + 6;
    assert_int_equal((size_t)(l[0] << 24 | l[1] << 16 | l[2] << 8 | l[3]), (size_t)n);
    assert_memory_equal(b.p + 10, want, (size_t)n);
    /* an empty object gets the metadata without a dangling comma */
    buf_reset(&b);
    assert_int_equal(lj_put_event(&b, 1, META, strlen(META), "{}", 2), 0);
    n = snprintf(want, sizeof want, "{%s}", META);
    assert_memory_equal(b.p + 10, want, (size_t)n);
    buf_free(&b);
}

static void event_frame_respects_the_buffer_cap(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 32);
    const char *json = "{\"message\":\"a message longer than the cap\"}";
    assert_int_equal(lj_put_event(&b, 1, META, strlen(META), json, strlen(json)), -1);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void compressed_frame_inflates_to_the_plain_frames(void **state)
{
    (void)state;
    struct buf plain, out;
    buf_init(&plain, 1 << 20);
    buf_init(&out, 1 << 20);
    for (uint32_t i = 1; i <= 100; i++) {
        char json[64];
        int n = snprintf(json, sizeof json, "{\"message\":\"line %u\"}\n", i);
        assert_int_equal(lj_put_event(&plain, i, META, strlen(META), json, (size_t)n), 0);
    }
    char err[256];
    struct lf_compressor *zc = lf_compressor_new(3);
    assert_non_null(zc);
    assert_int_equal(lj_put_compressed(&out, zc, plain.p, plain.len, err, sizeof err), 0);
    lf_compressor_free(zc);
    assert_memory_equal(out.p, "2C", 2);
    const unsigned char *l = (const unsigned char *)out.p + 2;
    uLong clen = (uLong)l[0] << 24 | (uLong)l[1] << 16 | (uLong)l[2] << 8 | l[3];
    assert_int_equal(out.len, 6 + clen);
    assert_true(clen < plain.len);
    uLongf dlen = plain.len + 16;
    char *d = malloc(dlen);
    assert_int_equal(uncompress((Bytef *)d, &dlen, (const Bytef *)out.p + 6, clen), Z_OK);
    assert_int_equal(dlen, plain.len);
    assert_memory_equal(d, plain.p, plain.len);
    free(d);
    buf_free(&plain);
    buf_free(&out);
}

static void acks_are_parsed_across_split_reads(void **state)
{
    (void)state;
    const unsigned char in[] = {'2', 'A', 0, 0, 0, 5, '2', 'A', 0, 0, 1, 0, '2', 'A', 0};
    uint32_t seq = 0;
    int n;
    char err[128];
    assert_int_equal(lj_parse_acks(in, sizeof in, &seq, &n, err, sizeof err), 12);
    assert_int_equal(n, 2);
    assert_int_equal(seq, 256); /* the newest */
    assert_int_equal(lj_parse_acks(in, 4, &seq, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(lj_parse_acks(in, 1, &seq, &n, err, sizeof err), 0);
}

static void anything_but_an_ack_is_a_protocol_error(void **state)
{
    (void)state;
    const unsigned char bad1[] = {'2', 'W', 0, 0, 0, 1};
    const unsigned char bad2[] = {'1', 'A', 0, 0, 0, 1};
    const unsigned char bad3[] = {'2', 'A', 0, 0, 0, 1, 'H', 'T', 'T', 'P'};
    uint32_t seq;
    int n;
    char err[128];
    assert_int_equal(lj_parse_acks(bad1, sizeof bad1, &seq, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "protocol error"));
    assert_int_equal(lj_parse_acks(bad2, sizeof bad2, &seq, &n, err, sizeof err), -1);
    assert_int_equal(lj_parse_acks(bad3, sizeof bad3, &seq, &n, err, sizeof err), -1);
}

static void window_grows_by_doubling_and_halves_on_failure(void **state)
{
    (void)state;
    uint32_t w = LJ_WINDOW_START;
    w = lj_window_next(w, w, 1, 2048);
    assert_int_equal(w, 20);
    w = lj_window_next(w, 5, 1, 2048); /* a partly used window says nothing: no growth */
    assert_int_equal(w, 20);
    for (int i = 0; i < 20; i++)
        w = lj_window_next(w, w, 1, 2048);
    assert_int_equal(w, 2048);
    w = lj_window_next(w, w, 0, 2048);
    assert_int_equal(w, 1024);
    w = lj_window_next(1, 1, 0, 2048);
    assert_int_equal(w, 1);
    assert_int_equal(lj_window_next(1500, 1500, 1, 2000), 2000);
}

static void hosts_parse_with_default_port_and_ipv6(void **state)
{
    (void)state;
    struct lj_host h;
    char err[256];
    assert_int_equal(lj_host_parse("ls1.example", &h, err, sizeof err), 0);
    assert_string_equal(h.host, "ls1.example");
    assert_string_equal(h.port, "5044");
    assert_int_equal(lj_host_parse("10.0.0.1:5045", &h, err, sizeof err), 0);
    assert_string_equal(h.host, "10.0.0.1");
    assert_string_equal(h.port, "5045");
    assert_int_equal(lj_host_parse("[::1]:6000", &h, err, sizeof err), 0);
    assert_string_equal(h.host, "::1");
    assert_string_equal(h.port, "6000");
    assert_int_equal(lj_host_parse("[::1]", &h, err, sizeof err), 0);
    assert_string_equal(h.port, "5044");
    assert_int_equal(lj_host_parse("::1", &h, err, sizeof err), -1);
    assert_int_equal(lj_host_parse("h:0", &h, err, sizeof err), -1);
    assert_int_equal(lj_host_parse("h:70000", &h, err, sizeof err), -1);
    assert_int_equal(lj_host_parse("h:12x", &h, err, sizeof err), -1);
    assert_int_equal(lj_host_parse(":5044", &h, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(window_frame_is_version_W_and_big_endian_count),
        cmocka_unit_test(metadata_is_escaped_json_members),
        cmocka_unit_test(event_frame_carries_seq_length_and_metadata_first),
        cmocka_unit_test(event_frame_respects_the_buffer_cap),
        cmocka_unit_test(compressed_frame_inflates_to_the_plain_frames),
        cmocka_unit_test(acks_are_parsed_across_split_reads),
        cmocka_unit_test(anything_but_an_ack_is_a_protocol_error),
        cmocka_unit_test(window_grows_by_doubling_and_halves_on_failure),
        cmocka_unit_test(hosts_parse_with_default_port_and_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
