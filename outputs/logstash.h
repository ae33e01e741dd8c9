/*
 * logstash.h - private contract between the Logstash output's files (not for other outputs).
 *
 *   logstash_conf.c   the [output logstash] table and check() (which reads the TLS files)
 *   logstash_proto.c  pure functions of Lumberjack v2 (the Beats protocol): window and data
 *                     frames, the @metadata object, zlib, ACK parsing, the window's growth
 *   logstash_conn.c   one connection: host:port parsing, non-blocking TCP connect, TLS with
 *                     OpenSSL (verification, client certificates), reads and writes bounded
 *                     by deadlines
 *   logstash.c        the output: hosts (failover / loadbalance), backoff, windows, partial
 *                     ACKs, resends, acks to the pipeline; the out_logstash_desc descriptor
 *   logstash_test.c   `logferry test-output`: connect and handshake to every host
 *
 * Everything runs on the output's own thread (one instance = one thread), except check()
 * and test() (the CLI's thread, before any output thread exists). The functions of
 * logstash_proto.c are exercised directly by tests/unit/test_out_logstash.c.
 *
 * Lumberjack v2 as Beats speak it (elastic/go-lumber): every frame starts with the version
 * byte '2' and a type byte. A window is announced by '2' 'W' <uint32 count>, followed by
 * `count` '2' 'J' <uint32 seq> <uint32 len> <JSON> frames numbered 1..count, or by one
 * '2' 'C' <uint32 len> <zlib stream of those J frames>. The server answers '2' 'A' <uint32
 * seq>: every event of the window up to seq is processed. Logstash sends such ACKs part way
 * through a large window and repeats the last one as a keep-alive while it is busy.
 * Integers are big-endian.
 */
#ifndef LF_OUT_LOGSTASH_H
#define LF_OUT_LOGSTASH_H

#include <stddef.h>
#include <stdint.h>

#include "agent/base/buf.h"
#include "agent/base/clock.h"
#include "agent/base/config.h"
#include "agent/base/event.h"

#define LJ_DEFAULT_PORT 5044
#define LJ_VERSION '2'
/* The window's first size, as Filebeat's slow start (libbeat's logstash window). */
#define LJ_WINDOW_START 10

enum lj_verify { LJ_VERIFY_FULL = 0, LJ_VERIFY_CERT = 1, LJ_VERIFY_NONE = 2 };

struct lj_conf {
    struct conf_list hosts;
    int loadbalance;
    long compression_level;
    long window;
    long timeout_ms;
    const char *ca_file;
    const char *cert_file;
    const char *key_file;
    const char *ssl_verify; /* "full" | "certificate" | "none" */
    const char *beat_name;
    long backoff_init_ms;
    long backoff_max_ms;
};

extern const struct conf_key lj_conf_keys[];
int lj_check(const void *conf, struct conf *c, struct conf_section *s, struct conf_errs *errs);
enum lj_verify lj_verify_mode(const struct lj_conf *lc);
/* TLS is on when a CA or a client certificate is configured. */
int lj_tls_on(const struct lj_conf *lc);

/* ---- logstash_proto.c ---- */

/* Appends the window-size frame for `count` events. 0 or -1 (cap). */
int lj_put_window(struct buf *out, uint32_t count);
/* The @metadata object's members, written once per instance:
 * "@metadata":{"beat":"NAME","type":"_doc","version":"VERSION"}, with NAME escaped. */
int lj_metadata(struct buf *out, const char *beat_name, const char *version);
/* Appends one 'J' frame: seq, then the event's JSON (json[0..len), one object, a trailing
 * newline is dropped) with `meta` (lj_metadata's output) inserted as its first member. */
int lj_put_event(struct buf *out, uint32_t seq, const char *meta, size_t metalen,
                 const char *json, size_t len);
/* Appends one 'C' frame holding the zlib stream (RFC 1950) of in[0..n), made by `zc`. */
struct lf_compressor;
int lj_put_compressed(struct buf *out, struct lf_compressor *zc, const char *in, size_t n,
                      char *err, size_t errsz);
/* Parses server frames at in[0..n): for every complete ACK frame, *seq gets its number.
 * Returns the bytes consumed (a multiple of 6, possibly 0), or -1 with err filled when the
 * bytes are not an ACK frame (a protocol error: the connection must be dropped). */
long lj_parse_acks(const unsigned char *in, size_t n, uint32_t *seq, int *nacks, char *err,
                   size_t errsz);
/* Slow start: the next window size after a window of `used` events out of `cur` was ACKed
 * in full (ok = 1), or failed (ok = 0). Grows by doubling while full windows succeed, halves
 * on a failure, stays within [1, max]. */
uint32_t lj_window_next(uint32_t cur, uint32_t used, int ok, uint32_t max);

/* ---- logstash_conn.c ---- */

struct lj_host {
    char name[256]; /* as configured, for messages */
    char host[256]; /* without brackets */
    char port[8];
};
/* Parses "host", "host:port", "[v6]:port". 0, or -1 with err. */
int lj_host_parse(const char *s, struct lj_host *h, char *err, size_t errsz);

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

/* An SSL_CTX for the configuration (TLS 1.2+, CA, client certificate, verification), or
 * NULL with a sentence naming the file and the reason. */
SSL_CTX *lj_tls_ctx(const struct lj_conf *lc, char *err, size_t errsz);

struct lj_conn {
    int fd;
    SSL *ssl;
    unsigned char rbuf[64]; /* server frames not yet parsed */
    size_t rlen;
};

/* Connects (and handshakes when ctx is not NULL) within timeout_ms. 0, or -1 with a
 * sentence naming the host and the reason (refused, timeout, certificate expired, name
 * mismatch...). */
int lj_conn_open(struct lj_conn *c, const struct lj_host *h, SSL_CTX *ctx, enum lj_verify v,
                 long timeout_ms, char *err, size_t errsz);
void lj_conn_close(struct lj_conn *c);
/* Writes all of p[0..n) before the monotonic deadline (ms). 0, or -1 with err. */
int lj_conn_write(struct lj_conn *c, const void *p, size_t n, int64_t deadline_ms, char *err,
                  size_t errsz);
/* Waits at most wait_ms for the next ACK frame. 1: *seq holds it (ACKs are returned one per
 * call, in order, including those that arrived with the server's close); 0: nothing arrived
 * in time; -1: connection closed or protocol error (err says which). */
int lj_conn_read_ack(struct lj_conn *c, long wait_ms, uint32_t *seq, char *err, size_t errsz);

/* ---- logstash_test.c ---- */
struct output_env;
int lj_test(const void *conf, const struct output_env *env, char *msg, size_t msgsz);

#endif
