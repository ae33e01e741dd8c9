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
        char one[600];
        if (lj_host_parse(lc->hosts.v[i], &h, err, sizeof err) != 0) {
            snprintf(one, sizeof one, "%s", err);
            bad = 1;
        } else if (lj_conn_open(&c, &h, ctx, lj_verify_mode(lc), lc->timeout_ms, err,
                                sizeof err) != 0) {
            snprintf(one, sizeof one, "%s", err);
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
