/*
 * access.c - the built-in access-log parsers: nginx_combined (with what Filebeat's nginx
 * module accepts) and apache_common.
 *
 * This is the hot path of the headline benchmark, so after the one PCRE2 JIT match every
 * field is cut by hand: no allocation, numbers converted inline, the $time_local text
 * cached per file (it changes once a second). Field strings point into the record, which
 * batch_add() copies.
 *
 * Filebeat compatibility (module nginx, fileset access): an X-Forwarded-For list before the
 * remote address, plain ("a, b c") or quoted ("\"a, b\" c"); source.address/source.ip follow
 * Filebeat's rule (xff.c: the first address of the list that is not private, else the
 * first); an empty request line ""; a trailing quoted field; "-" means
 * absent for user.name and the referrer (the user agent is kept as written, "-" included,
 * as Filebeat does). Values are not unescaped (\x22 stays as nginx wrote it).
 *
 * Lines real servers write beyond that (issue 14), read by a second pattern tried only
 * when the first declines, so the hot path is unchanged: an ident that is not "-" (Apache's
 * %l with IdentityCheck, combined with a user), a status of "-" (no status field; the
 * others kept). A request of "-" (nginx's 400/408 with no request line) gives no method,
 * URL or version, as "" does. A client that is a host name (HostnameLookups, load-balancer
 * health checks) goes to source.domain, per ECS; source.address keeps it, no source.ip.
 *
 * Two rows of the type table (parsers.c), sharing the run function: nginx_combined tries
 * the hand-written scanner first and reads the fields after the status; apache_common does
 * not.
 *
 * Threads: run on the tail thread with its own struct parse_run.
 */
#include "parsers/parser.h"
#include "parsers/http_request.h"
#include "parsers/nginx_scan.h"
#include "parsers/xff.h"

#include <string.h>

extern const struct parser_type parser_type_nginx;

static const struct fkey *K_SRC_ADDR, *K_SRC_IP, *K_SRC_DOMAIN, *K_USER, *K_METHOD, *K_URL, *K_PATH, *K_QUERY,
    *K_VERSION, *K_STATUS, *K_BYTES, *K_REFERRER, *K_UA, *K_DURATION;

static void access_keys_intern(void)
{
    K_SRC_ADDR = fkey_intern("source.address");
    K_SRC_IP = fkey_intern("source.ip");
    K_SRC_DOMAIN = fkey_intern("source.domain");
    K_USER = fkey_intern("user.name");
    K_METHOD = fkey_intern("http.request.method");
    K_URL = fkey_intern("url.original");
    K_PATH = fkey_intern("url.path");
    K_QUERY = fkey_intern("url.query");
    K_VERSION = fkey_intern("http.version");
    K_STATUS = fkey_intern("http.response.status_code");
    K_BYTES = fkey_intern("http.response.body.bytes");
    K_REFERRER = fkey_intern("http.request.referrer");
    K_UA = fkey_intern("user_agent.original");
    K_DURATION = fkey_intern("event.duration");
}

/* Capture numbers of both patterns. */
enum { G_ADDRS = 1, G_USER, G_TIME, G_REQ, G_STATUS, G_BYTES, G_REF, G_UA, G_REST };

#define QUOTED "((?:[^\"\\\\]++|\\\\.)*+)"

static const char NGINX_RE[] =
    "^([^\\[]+?) - ([^\\[]*?) \\[([^\\]]*)\\] \"" QUOTED "\" (\\d{3}) (\\d{1,18}|-)"
    "(?: \"" QUOTED "\")?(?: \"" QUOTED "\")?(.*)$";
static const char APACHE_RE[] =
    "^(\\S+) \\S+ (.*?) \\[([^\\]]*)\\] \"" QUOTED "\" (\\d{3}) (\\d{1,18}|-)"
    "()()(.*)$";

/* The same nine captures; an ident before the user, a status of "-". */
static const char FALLBACK_RE[] =
    "^([^\\[]+?) \\S+ ([^\\[]*?) \\[([^\\]]*)\\] \"" QUOTED "\" (\\d{3}|-) (\\d{1,18}|-)"
    "(?: \"" QUOTED "\")?(?: \"" QUOTED "\")?(.*)$";


static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A host name as a client (letters, digits, '-', '.', at least one letter): source.domain. */
static int host_name(const char *s, size_t n)
{
    int alpha = 0;
    if (n == 0 || n > 253 || s[0] == '-' || s[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            alpha = 1;
        else if (!(is_digit(c) || c == '-' || c == '.' || c == '_'))
            return 0;
    }
    return alpha;
}

static void add_span(struct event_builder *eb, const struct fkey *k, struct http_span v, int clean)
{
    if (v.s && v.n)
        (clean ? eb_add_str_clean : eb_add_str)(eb, k, v.s, v.n);
}

/* First unquoted token of the trailing fields that reads as seconds with a decimal point
 * ($request_time: "0.123"), optionally as rt=/request_time=. Returns ns or -1. */
static int64_t request_time_ns(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && s[i] == ' ')
            i++;
        if (i < n && s[i] == '"') {
            i++;
            while (i < n && s[i] != '"')
                i += s[i] == '\\' ? 2 : 1;
            i++;
            continue;
        }
        size_t st = i;
        while (i < n && s[i] != ' ')
            i++;
        const char *t = s + st;
        size_t tn = i - st;
        if (tn > 3 && !memcmp(t, "rt=", 3))
            t += 3, tn -= 3;
        else if (tn > 13 && !memcmp(t, "request_time=", 13))
            t += 13, tn -= 13;
        size_t k = 0;
        int64_t secs = 0, frac = 0;
        int nd = 0, nf = 0;
        while (k < tn && is_digit(t[k]) && nd < 9)
            secs = secs * 10 + (t[k++] - '0'), nd++;
        if (!nd || k >= tn || t[k] != '.')
            continue;
        k++;
        while (k < tn && is_digit(t[k]) && nf < 9)
            frac = frac * 10 + (t[k++] - '0'), nf++;
        if (!nf || k != tn)
            continue;
        for (int z = nf; z < 9; z++)
            frac *= 10;
        return secs * 1000000000LL + frac;
    }
    return -1;
}

static int64_t digits(const char *s, size_t n)
{
    int64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static int access_run(const struct parser *p, struct parse_run *pr, struct event_builder *eb,
                      const char *rec, size_t len)
{
    /* The hand-written scanner first (nginx_scan.c says why); PCRE2 for what it declines. */
    PCRE2_SIZE scan_ov[2 * NGINX_SCAN_GROUPS];
    const PCRE2_SIZE *ov = scan_ov;
    unsigned clean = 0; /* captures known to need no JSON escaping (bit per group) */
    if (!p->scan || !nginx_scan(rec, len, scan_ov, &clean)) {
        int rc = pcre2_match(p->re, (PCRE2_SPTR)rec, len, 0, 0, pr->md, parser_mctx());
        if (rc <= 0 && (!p->re2 || pcre2_match(p->re2, (PCRE2_SPTR)rec, len, 0, 0, pr->md,
                                                parser_mctx()) <= 0))
            return 1;
        ov = pcre2_get_ovector_pointer(pr->md);
    }
#define S(g) (rec + ov[2 * (g)])
#define N(g) (ov[2 * (g)] == PCRE2_UNSET ? 0 : (size_t)(ov[2 * (g) + 1] - ov[2 * (g)]))
#define SET(g) (ov[2 * (g)] != PCRE2_UNSET)
    /* time first: a bad date is a parse failure but the fields are still worth keeping */
    const char *ts = S(G_TIME);
    size_t tn = N(G_TIME);
    if (tn == sizeof pr->clf_key && pr->clf_valid && !memcmp(ts, pr->clf_key, tn)) {
        eb->ts_ms = pr->clf_ms;
    } else {
        int64_t ms;
        if (tp_parse_clf(ts, tn, &ms) == 0) {
            eb->ts_ms = ms;
            if (tn == sizeof pr->clf_key) {
                memcpy(pr->clf_key, ts, tn);
                pr->clf_ms = ms;
                pr->clf_valid = 1;
            }
        } else {
            eb->flags |= EV_PARSE_FAILURE;
        }
    }
    /* Fields are added in key order: batch_add sorts them, and sorted input is its
     * fastest case. */
    int nginx = p->type == &parser_type_nginx;
    struct http_request rq;
    http_request_split(S(G_REQ), N(G_REQ), &rq);
    if (nginx && N(G_REST)) {
        int64_t ns = request_time_ns(S(G_REST), N(G_REST));
        if (ns >= 0)
            eb_add_int(eb, K_DURATION, ns);
    }
    int rclean = clean & (1u << G_REQ);
    add_span(eb, K_METHOD, rq.method, rclean);
    if (nginx && SET(G_REF) && N(G_REF) && !(N(G_REF) == 1 && S(G_REF)[0] == '-'))
        add_span(eb, K_REFERRER, (struct http_span){S(G_REF), N(G_REF)}, clean & (1u << G_REF));
    if (S(G_BYTES)[0] != '-')
        eb_add_int(eb, K_BYTES, digits(S(G_BYTES), N(G_BYTES)));
    if (S(G_STATUS)[0] != '-')
        eb_add_int(eb, K_STATUS, digits(S(G_STATUS), N(G_STATUS)));
    add_span(eb, K_VERSION, rq.version, rclean);
    struct xff_list xl;
    xl.n = 0;
    xff_split(S(G_ADDRS), N(G_ADDRS), &xl);
    int pick = xff_pick(&xl);
    if (pick >= 0) { /* an address is digits, hex, '.' and ':': clean */
        struct http_span src = {xl.item[pick].s, xl.item[pick].n};
        int src_ip = xff_is_ip(src.s, src.n);
        int dom = !src_ip && host_name(src.s, src.n);
        add_span(eb, K_SRC_ADDR, src, src_ip || dom);
        if (dom)
            add_span(eb, K_SRC_DOMAIN, src, 1);
        if (src_ip)
            add_span(eb, K_SRC_IP, src, 1);
    }
    add_span(eb, K_URL, rq.url, rclean);
    add_span(eb, K_PATH, rq.path, rclean);
    add_span(eb, K_QUERY, rq.query, rclean);
    size_t un = N(G_USER);
    if (un && !(un == 1 && S(G_USER)[0] == '-'))
        eb_add_str(eb, K_USER, S(G_USER), un);
    if (nginx && SET(G_UA))
        /* kept even when empty (""), as Filebeat does */
        ((clean & (1u << G_UA)) ? eb_add_str_clean : eb_add_str)(eb, K_UA, S(G_UA), N(G_UA));
#undef S
#undef N
#undef SET
    return 0;
}

static int nginx_setup(struct parser *p)
{
    p->scan = nginx_scan_usable();
    return 0;
}

const struct parser_type parser_type_nginx = {
    .name = "nginx_combined",
    .pattern = NGINX_RE,
    .fallback = FALLBACK_RE,
    .keys_intern = access_keys_intern,
    .setup = nginx_setup,
    .run = access_run,
    .zone_in_line = 1,
    .explain = "nginx combined, same as nginx_combined",
};

const struct parser_type parser_type_apache = {
    .name = "apache_common",
    .pattern = APACHE_RE,
    .fallback = FALLBACK_RE,
    .keys_intern = access_keys_intern,
    .run = access_run,
    .zone_in_line = 1,
};
