/*
 * cmd_status.c - `logferry status -c FILE [--json]`: what the running agent is doing, as a
 * terminal table.
 *
 * Reads agent.conf only for [agent] http_listen and data_dir, GETs /status from the running
 * agent over that address (loopback when it listens on every interface) with libcurl, and
 * prints files (path, size, committed offset, lag) and outputs (name, type, state, acked,
 * dead). When no agent answers it says so and falls back to data_dir/registry.json, stat()ing
 * each file to show how far behind the committed offset is. Single-threaded CLI code.
 *
 * File paths and error texts may hold attacker-chosen bytes (a file named with an escape
 * sequence): everything printed from the status or the registry goes through term_put(),
 * which shows control characters and invalid UTF-8 as \xHH.
 */
#include "agent/base/clock.h"
#include "agent/health.h"
#include "agent/cmd.h"
#include "agent/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/base/config.h"
#include "agent/base/json.h"

#define STATUS_MAX_BODY (32u << 20)
#define STATUS_DEFAULT_CONF "/etc/logferry/agent.conf"
#define STATUS_DEFAULT_DATA_DIR "./data" /* the core's [agent] data_dir default */

/* Renders s for a terminal into b: printable ASCII and valid UTF-8 as is, the rest as \xHH.
 * Returns the number of columns (each UTF-8 character counted as one). */
static int term_render(struct buf *b, const char *s)
{
    int cols = 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t len = strlen((const char *)p), i = 0;
    while (i < len) {
        size_t n = p[i] < 0x20 || p[i] == 0x7F ? 0 : json_utf8_seq(p + i, len - i);
        if (n == 0) {
            buf_printf(b, "\\x%02X", p[i]);
            cols += 4;
            i++;
            continue;
        }
        buf_add(b, p + i, n);
        i += n;
        cols++;
    }
    buf_cstr(b);
    return cols;
}

/* Prints s through term_render(), padded with spaces to `width` columns when width > 0, cut
 * at the front with "…" when longer (the end of a path is the informative part). */
static void term_put(FILE *out, const char *s, int width)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    int cols = term_render(&b, s);
    const char *txt = b.p ? b.p : "";
    if (width > 0 && cols > width) {
        int skip = cols - (width - 1);
        const char *q = txt;
        while (skip > 0 && *q) {
            q++;
            while ((*(const unsigned char *)q & 0xC0) == 0x80)
                q++;
            skip--;
        }
        fprintf(out, "…%s", q);
    } else {
        fputs(txt, out);
        for (int i = cols; i < width; i++)
            fputc(' ', out);
    }
    buf_free(&b);
}

static int term_width(const char *s)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    int cols = term_render(&b, s);
    buf_free(&b);
    return cols;
}

static int path_width(const json_t *files)
{
    int w = 4;
    for (size_t i = 0; i < json_array_size(files); i++) {
        int l = term_width(lf_json_str(json_array_get(files, i), "path"));
        if (l > w)
            w = l;
    }
    return w > 60 ? 60 : w;
}

static void print_status(FILE *out, const json_t *st)
{
    char reason[1024];
    lf_health_eval(st, wall_ms(), LF_HEALTH_RETRY_BUDGET_MS, reason, sizeof reason);
    fputs("logferry ", out);
    term_put(out, lf_json_str(st, "name"), 0);
    fprintf(out, " (version ");
    term_put(out, lf_json_str(st, "version"), 0);
    fprintf(out, ", up %llds, config ", lf_json_num(st, "uptime_s", 0));
    term_put(out, lf_json_str(st, "config"), 0);
    const json_t *q = json_object_get(st, "queue");
    fprintf(out, ")\nqueue: %lld/%lld events, %lld/%lld bytes\nhealth: ", lf_json_num(q, "events", 0),
            lf_json_num(q, "max_events", 0), lf_json_num(q, "bytes", 0), lf_json_num(q, "max_bytes", 0));
    term_put(out, reason, 0);
    fputs("\n\n", out);

    const json_t *files = json_object_get(st, "files");
    int pw = path_width(files);
    fprintf(out, "FILES (%zu)\n%-*s %14s %14s %14s  %s\n", json_array_size(files), pw, "PATH",
            "SIZE", "COMMITTED", "LAG", "STATE");
    for (size_t i = 0; i < json_array_size(files); i++) {
        const json_t *f = json_array_get(files, i);
        term_put(out, lf_json_str(f, "path"), pw);
        fprintf(out, " %14lld %14lld %14lld  ", lf_json_num(f, "size", -1),
                lf_json_num(f, "committed_offset", -1), lf_json_num(f, "lag_bytes", -1));
        term_put(out, lf_json_str(f, "state"), 0);
        fputc('\n', out);
    }
    const json_t *outs = json_object_get(st, "outputs");
    fprintf(out, "\nOUTPUTS (%zu)\n%-16s %-14s %-9s %12s %10s %8s  %s\n",
            json_array_size(outs), "NAME", "TYPE", "STATE", "ACKED", "RETRIED", "DEAD",
            "LAST ERROR");
    for (size_t i = 0; i < json_array_size(outs); i++) {
        const json_t *o = json_array_get(outs, i);
        term_put(out, lf_json_str(o, "name"), 16);
        fputc(' ', out);
        term_put(out, lf_json_str(o, "type"), 14);
        fputc(' ', out);
        term_put(out, lf_json_str(o, "state"), 9);
        fprintf(out, " %12lld %10lld %8lld  ", lf_json_num(o, "events_acked", 0),
                lf_json_num(o, "events_retried", 0), lf_json_num(o, "events_dead", 0));
        term_put(out, lf_json_str(o, "last_error"), 0);
        fputc('\n', out);
    }
    int spools = 0;
    for (size_t i = 0; i < json_array_size(outs); i++) {
        const json_t *o = json_array_get(outs, i);
        if (lf_json_num(o, "spool_max_bytes", -1) < 0)
            continue;
        if (!spools++)
            fprintf(out, "\nSPOOLS\n%-16s %14s %14s %12s %10s %10s %10s %8s\n", "OUTPUT",
                    "BYTES", "MAX", "EVENTS", "OLDEST s", "DRAIN/s", "DROPPED", "CORRUPT");
        term_put(out, lf_json_str(o, "name"), 16);
        fprintf(out, " %14lld %14lld %12lld %10lld %10lld %10lld %8lld\n",
                lf_json_num(o, "spool_bytes", 0), lf_json_num(o, "spool_max_bytes", 0),
                lf_json_num(o, "spool_events", 0), lf_json_num(o, "spool_oldest_age_s", 0),
                lf_json_num(o, "spool_drain_rate", 0), lf_json_num(o, "spool_events_dropped", 0),
                lf_json_num(o, "spool_corrupt_records", 0));
    }
    const json_t *alerts = json_object_get(st, "alerts");
    if (json_array_size(alerts)) {
        fprintf(out, "\nRECENT ALERTS (%zu)\n", json_array_size(alerts));
        for (size_t i = 0; i < json_array_size(alerts) && i < 5; i++) {
            const json_t *a = json_array_get(alerts, i);
            fputs("  ", out);
            term_put(out, lf_json_str(a, "text"), 0);
            fputc('\n', out);
        }
    }
}

/* Fallback: the committed offsets in data_dir/registry.json against the files on disk. */
static int print_registry(FILE *out, const char *data_dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/registry.json", data_dir);
    struct stat rs;
    if (stat(path, &rs) != 0) {
        fprintf(out, "registry %s: %s\n", path,
                errno == ENOENT ? "not found (the agent has not committed anything yet)"
                                : strerror(errno));
        return -1;
    }
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        fprintf(out, "registry %s: unreadable: %s\n", path, jerr.text);
        return -1;
    }
    const json_t *files = json_object_get(root, "files");
    int pw = path_width(files);
    fprintf(out, "REGISTRY %s (%zu files, committed offsets)\n%-*s %14s %14s %14s  %s\n", path,
            json_array_size(files), pw, "PATH", "SIZE", "COMMITTED", "LAG", "STATE");
    for (size_t i = 0; i < json_array_size(files); i++) {
        const json_t *f = json_array_get(files, i);
        long long off = lf_json_num(f, "offset", 0);
        struct stat sb;
        const char *state;
        long long size = -1, lag = -1;
        if (stat(lf_json_str(f, "path"), &sb) != 0) {
            state = "missing (rotated away or deleted)";
        } else if ((long long)sb.st_dev != lf_json_num(f, "dev", -1) ||
                   (long long)sb.st_ino != lf_json_num(f, "ino", -1)) {
            state = "replaced (another file has this path now)";
        } else {
            size = (long long)sb.st_size;
            lag = size >= off ? size - off : 0;
            state = size >= off ? "on disk" : "truncated since";
        }
        term_put(out, lf_json_str(f, "path"), pw);
        fprintf(out, " %14lld %14lld %14lld  %s\n", size, off, lag, state);
    }
    json_decref(root);
    return 0;
}

struct body {
    struct buf b;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct body *bd = ud;
    return buf_add(&bd->b, p, sz * n) == 0 ? sz * n : 0;
}

/* GETs /status; returns the parsed object or NULL with a reason. */
static json_t *fetch_status(const char *listen, char *why, size_t whysz)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int all;
    if (lf_http_parse_listen(listen, &ss, &len, &all, why, whysz) != 0)
        return NULL;
    char url[160], host[INET6_ADDRSTRLEN];
    int port;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        if (all)
            a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
        snprintf(url, sizeof url, "http://%s:%d/status", host, port);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        if (all)
            a->sin6_addr = in6addr_loopback;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        port = ntohs(a->sin6_port);
        snprintf(url, sizeof url, "http://[%s]:%d/status", host, port);
    }
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(why, whysz, "libcurl failed to initialise");
        return NULL;
    }
    struct body bd;
    buf_init(&bd.b, STATUS_MAX_BODY);
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*"); /* never send this through an http_proxy */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &bd);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    json_t *st = NULL;
    if (rc != CURLE_OK) {
        snprintf(why, whysz, "no agent answered on %s (%s)", url,
                 cerr[0] ? cerr : curl_easy_strerror(rc));
    } else if (code != 200) {
        snprintf(why, whysz, "%s answered HTTP %ld", url, code);
    } else {
        json_error_t jerr;
        st = json_loadb(bd.b.p ? bd.b.p : "", bd.b.len, 0, &jerr);
        if (!st)
            snprintf(why, whysz, "%s answered something that is not JSON: %s", url, jerr.text);
    }
    buf_free(&bd.b);
    return st;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: logferry status [-c FILE] [--json]\n"
               "  Shows the running agent's files (size, committed offset, lag) and outputs\n"
               "  (state, acked, dead), asking it over [agent] http_listen. When no agent\n"
               "  answers, shows the committed offsets of data_dir/registry.json instead.\n"
               "  -c FILE   agent.conf (default " STATUS_DEFAULT_CONF ")\n"
               "  --json    print the agent's /status JSON as is\n"
               "  exit status: 0 agent answered, 3 no agent answered, 2 usage error/unreadable file\n");
}

int cmd_status(int argc, char **argv)
{
    const char *conf_path = STATUS_DEFAULT_CONF;
    int as_json = 0;
    /* argv[0] is "status" (or the program name): options start at 1 */
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
            conf_path = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            as_json = 1;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "logferry status: unexpected argument \"%s\"\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    struct conf_errs errs = {0};
    struct conf *c = conf_load(conf_path, &errs);
    if (!c) {
        for (int i = 0; i < errs.n; i++)
            fprintf(stderr, "%s\n", errs.msg[i]);
        conf_errs_free(&errs);
        return 2;
    }
    /* Only two [agent] keys matter here. A problem elsewhere (typically a ${SECRET} that only
     * the service's environment defines) must not keep an operator from seeing the agent. */
    if (errs.n)
        fprintf(stderr, "logferry status: note: %s has %d problem%s (`logferry check` lists "
                        "them); using its [agent] http_listen and data_dir anyway\n",
                conf_path, errs.n, errs.n == 1 ? "" : "s");
    conf_errs_free(&errs);
    const char *listen = "", *data_dir = STATUS_DEFAULT_DATA_DIR;
    for (int i = 0; i < c->n; i++) {
        if (strcmp(c->s[i].type, "agent") != 0)
            continue;
        struct conf_entry *e = conf_find(&c->s[i], "http_listen");
        if (e)
            listen = e->value;
        if ((e = conf_find(&c->s[i], "data_dir")))
            data_dir = e->value;
    }
    int ret;
    char why[512];
    json_t *st = NULL;
    if (*listen) {
        st = fetch_status(listen, why, sizeof why);
    } else {
        snprintf(why, sizeof why,
                 "[agent] http_listen is not set in %s, so the running agent cannot be asked",
                 conf_path);
    }
    fflush(stdout);
    if (st) {
        if (as_json) {
            char *txt = json_dumps(st, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            if (txt)
                puts(txt);
            free(txt);
        } else {
            print_status(stdout, st);
        }
        json_decref(st);
        ret = 0;
    } else {
        fprintf(stderr, "logferry status: %s.\n", why);
        if (!as_json) { /* stdout of --json stays parseable: nothing rather than a table */
            fprintf(stderr, "logferry status: showing the last committed offsets from %s "
                            "instead (not live; lag counts bytes not yet acknowledged by every "
                            "output).\n",
                    data_dir);
            print_registry(stdout, data_dir);
        }
        ret = 3;
    }
    conf_free(c);
    return ret;
}
