/*
 * logstash_test.c - `logferry test-output` for the Logstash output (Filebeat's `test
 * output`): connects to every host, with the TLS handshake and verification when TLS is on,
 * and says for each whether it answers. Sends no event. Runs on the CLI's thread.
 */
#include "outputs/logstash.h"

#include "outputs/output.h"

#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

/* With TLS 1.3 the client's handshake ends before the server has judged the client's
 * certificate: a refusal (no certificate, an unknown CA) comes as an alert just after. Wait
 * a moment for it, so test-output says what the first window would meet. */
static int probe(struct lj_conn *c, long timeout_ms, char *err, size_t errsz)
{
    uint32_t seq;
    long wait = timeout_ms < 1000 ? timeout_ms : 1000;
    int r = lj_conn_read_ack(c, wait, &seq, err, errsz);
    if (r < 0)
        return -1;
    if (r > 0) {
        snprintf(err, errsz, "the server sent an ACK before any window");
        return -1;
    }
    return 0;
}

int lj_test(const void *vconf, const struct output_env *env, char *msg, size_t msgsz)
{
    const struct lj_conf *lc = vconf;
    char err[512];
    (void)env;
    msg[0] = '\0';
    if (lc->hosts.n == 0) {
        snprintf(msg, msgsz, "hosts must be set");
        return -1;
    }
    SSL_CTX *ctx = NULL;
    if (lj_tls_on(lc) && !(ctx = lj_tls_ctx(lc, err, sizeof err))) {
        snprintf(msg, msgsz, "%s", err);
        return -1;
    }
    int bad = 0;
    size_t len = 0;
    for (int i = 0; i < lc->hosts.n; i++) {
        struct lj_host h;
        struct lj_conn c;
        char one[900];
        if (lj_host_parse(lc->hosts.v[i], &h, err, sizeof err) != 0) {
            snprintf(one, sizeof one, "%s", err);
            bad = 1;
        } else if (lj_conn_open(&c, &h, ctx, lj_verify_mode(lc), lc->timeout_ms, err,
                                sizeof err) != 0) {
            snprintf(one, sizeof one, "%s", err);
            bad = 1;
        } else if (ctx && probe(&c, lc->timeout_ms, err, sizeof err) != 0) {
            snprintf(one, sizeof one, "%s: refused after the handshake: %s", h.name, err);
            lj_conn_close(&c);
            bad = 1;
        } else {
            snprintf(one, sizeof one, "%s answers%s", h.name,
                     !ctx ? " (plain TCP)"
                     : lj_verify_mode(lc) == LJ_VERIFY_NONE ? " (TLS, NOT verified)"
                     : lj_verify_mode(lc) == LJ_VERIFY_CERT
                         ? " (TLS, certificate verified, host name not checked)"
                         : " (TLS, certificate and host name verified)");
            lj_conn_close(&c);
        }
        int w = snprintf(msg + len, msgsz - len, "%s%s", i ? "; " : "", one);
        if (w < 0 || (size_t)w >= msgsz - len)
            break;
        len += (size_t)w;
    }
    SSL_CTX_free(ctx);
    return bad ? -1 : 0;
}
