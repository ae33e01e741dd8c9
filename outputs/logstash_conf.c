/*
 * logstash_conf.c - the [output logstash] settings: the key table and check().
 *
 * Configuration time only (the CLI's thread). check() opens no connection, but it does read
 * the TLS files (as the issue asks: a wrong or expired certificate is refused at start, not
 * at the first window): the CA bundle must hold certificates, the client certificate must
 * parse, be within its validity period and match its key. Key contents are never printed.
 */
#include "outputs/logstash.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#define OFF(m) offsetof(struct lj_conf, m)

const struct conf_key lj_conf_keys[] = {
    {"hosts", CT_LIST, NULL, OFF(hosts),
     "Logstash beats inputs, host[:port] comma-separated (port 5044 when omitted)", NULL},
    {"loadbalance", CT_BOOL, "false", OFF(loadbalance),
     "false: send to the first reachable host and fail over in order; true: spread windows "
     "over every reachable host", NULL},
    {"compression_level", CT_INT, "3", OFF(compression_level),
     "zlib level of the compressed frames, 0 (off) to 9", NULL},
    {"window", CT_INT, "2048", OFF(window),
     "the largest window (events per ACK); it starts at 10 and doubles while windows are "
     "ACKed, halves on errors", NULL},
    {"timeout", CT_DURATION, "30s", OFF(timeout_ms),
     "connect timeout, and how long a window may go without an ACK before it is resent on a "
     "new connection", NULL},
    {"ca_file", CT_STR, NULL, OFF(ca_file),
     "PEM CA bundle; setting it turns TLS on and verifies the server", NULL},
    {"cert_file", CT_STR, NULL, OFF(cert_file),
     "PEM client certificate (Logstash ssl_client_authentication => required)", NULL},
    {"key_file", CT_STR, NULL, OFF(key_file), "PEM private key of cert_file", NULL},
    {"ssl_verify", CT_STR, "full", OFF(ssl_verify),
     "full: certificate and host name; certificate: no host name check; none: no "
     "verification at all (warned at start)", "full|certificate|none"},
    {"beat_name", CT_STR, "logferry", OFF(beat_name),
     "@metadata.beat of every event; filebeat makes pipelines written for Filebeat work "
     "unchanged", NULL},
    {"backoff_init", CT_DURATION, "1s", OFF(backoff_init_ms),
     "first reconnect delay to a failed host; doubles per failure, with jitter", NULL},
    {"backoff_max", CT_DURATION, "60s", OFF(backoff_max_ms), "reconnect delay cap", NULL},
    {NULL, 0, NULL, 0, NULL, NULL},
};

enum lj_verify lj_verify_mode(const struct lj_conf *lc)
{
    const char *v = lc->ssl_verify ? lc->ssl_verify : "full";
    return strcmp(v, "none") == 0 ? LJ_VERIFY_NONE
           : strcmp(v, "certificate") == 0 ? LJ_VERIFY_CERT : LJ_VERIFY_FULL;
}

int lj_tls_on(const struct lj_conf *lc)
{
    return (lc->ca_file && *lc->ca_file) || (lc->cert_file && *lc->cert_file);
}

static int line_of(struct conf_section *s, const char *key)
{
    struct conf_entry *e = conf_find(s, key);
    return e ? e->line : s->line;
}

static int check_validity(X509 *x, const char *what, const char *path, char *err,
                          size_t errsz)
{
    char when[64] = "";
    BIO *b = BIO_new(BIO_s_mem());
    if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
        if (b && ASN1_TIME_print(b, X509_get0_notAfter(x)) > 0)
            BIO_read(b, when, sizeof when - 1);
        snprintf(err, errsz, "%s %s: the certificate expired (not after %s)", what, path, when);
        BIO_free(b);
        return -1;
    }
    if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
        if (b && ASN1_TIME_print(b, X509_get0_notBefore(x)) > 0)
            BIO_read(b, when, sizeof when - 1);
        snprintf(err, errsz, "%s %s: the certificate is not valid yet (not before %s)", what,
                 path, when);
        BIO_free(b);
        return -1;
    }
    BIO_free(b);
    return 0;
}

/* Reads a PEM file of certificates; 0 when it has at least one and none has expired. */
static int check_cert_file(const char *what, const char *path, char *err, size_t errsz)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errsz, "%s: cannot read %s: %s", what, path, strerror(errno));
        return -1;
    }
    int n = 0, rc = 0;
    X509 *x;
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        if (rc == 0 && check_validity(x, what, path, err, errsz) != 0)
            rc = -1;
        X509_free(x);
        n++;
    }
    ERR_clear_error(); /* the end of the file reads as an error */
    fclose(f);
    if (n == 0 && rc == 0) {
        snprintf(err, errsz, "%s: %s holds no PEM certificate", what, path);
        rc = -1;
    }
    return rc;
}

int lj_check(const void *vconf, struct conf *c, struct conf_section *s,
             struct conf_errs *errs)
{
    const struct lj_conf *lc = vconf;
    const char *f = c->file;
    int nerr = 0;
    char e[512];
    if (lc->hosts.n == 0) {
        conf_err(errs, f, s->line, "[output %s] needs hosts = host[:port][, host[:port]...]",
                 s->name);
        nerr++;
    }
    for (int i = 0; i < lc->hosts.n; i++) {
        struct lj_host h;
        if (lj_host_parse(lc->hosts.v[i], &h, e, sizeof e) != 0) {
            conf_err(errs, f, line_of(s, "hosts"), "hosts: %s", e);
            nerr++;
        }
    }
    if (lc->compression_level < 0 || lc->compression_level > 9) {
        conf_err(errs, f, line_of(s, "compression_level"),
                 "compression_level must be 0 (off) to 9, not %ld", lc->compression_level);
        nerr++;
    }
    if (lc->window < 1 || lc->window > 65535) {
        conf_err(errs, f, line_of(s, "window"), "window must be 1 to 65535, not %ld",
                 lc->window);
        nerr++;
    }
    if (lc->timeout_ms < 100) {
        conf_err(errs, f, line_of(s, "timeout"), "timeout must be at least 100ms");
        nerr++;
    }
    if (lc->backoff_init_ms < 1 || lc->backoff_max_ms < lc->backoff_init_ms) {
        conf_err(errs, f, line_of(s, "backoff_init"),
                 "backoff_init must be > 0 and at most backoff_max");
        nerr++;
    }
    if (!lc->beat_name || !*lc->beat_name) {
        conf_err(errs, f, line_of(s, "beat_name"), "beat_name must not be empty");
        nerr++;
    }
    int has_cert = lc->cert_file && *lc->cert_file, has_key = lc->key_file && *lc->key_file;
    if (has_cert != has_key) {
        conf_err(errs, f, line_of(s, has_cert ? "cert_file" : "key_file"),
                 "cert_file and key_file go together (the client certificate and its key)");
        nerr++;
    }
    if (has_cert && !(lc->ca_file && *lc->ca_file) && lj_verify_mode(lc) != LJ_VERIFY_NONE) {
        conf_err(errs, f, line_of(s, "cert_file"), "TLS needs ca_file to verify the server "
                 "(or ssl_verify = none, which verifies nothing)");
        nerr++;
    }
    if (lc->ca_file && *lc->ca_file &&
        check_cert_file("ca_file", lc->ca_file, e, sizeof e) != 0) {
        conf_err(errs, f, line_of(s, "ca_file"), "%s", e);
        nerr++;
    }
    if (has_cert && check_cert_file("cert_file", lc->cert_file, e, sizeof e) != 0) {
        conf_err(errs, f, line_of(s, "cert_file"), "%s", e);
        nerr++;
    } else if (has_cert && has_key && nerr == 0) {
        /* The whole TLS context as init() will build it: the key must open and match. */
        SSL_CTX *ctx = lj_tls_ctx(lc, e, sizeof e);
        if (!ctx) {
            conf_err(errs, f, line_of(s, "key_file"), "%s", e);
            nerr++;
        }
        SSL_CTX_free(ctx);
    }
    return nerr;
}
