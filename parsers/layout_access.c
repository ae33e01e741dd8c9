/*
 * layout_access.c - compiles an nginx `log_format` (`nginx_log_format`) or an Apache
 * LogFormat (`apache_log_format`, shared by Tomcat's AccessLogValve and logback-access)
 * into a layout_build (layout.h): each variable or directive becomes a capture with its ECS
 * field, literal text is escaped.
 *
 * Shapes of values: "-" means absent where the server writes it for a missing value
 * (user, referrer, upstream fields); a value between double quotes may hold escaped quotes
 * (nginx writes \x22, Apache \"); durations become ns in event.duration. nginx's own
 * `combined` layout is handed to the built-in nginx_combined (b->builtin), which is the
 * same format with Filebeat's extras (X-Forwarded-For before the address, source.ip rule),
 * so both give identical events. With $http_x_forwarded_for the address fields come from
 * Filebeat's rule at run time (nginx_xff.c); a JSON layout (`escape=json '{...}'`) becomes a
 * key map read by nginx_json.c.
 *
 * Threads: configuration time only (main thread).
 */
#include "parsers/layout.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct var {
    const char *name, *key;
    enum layout_vkind kind;
    const char *time_format; /* V_TIME: "" = ISO-8601 */
};

static const struct var nginx_vars[] = {
    {"remote_addr", "source.address", V_ADDR, NULL},
    {"realip_remote_addr", "source.address", V_ADDR, NULL},
    {"remote_user", "user.name", V_DASH, NULL},
    {"time_local", "@timestamp", V_TIME, "%d/%b/%Y:%H:%M:%S %z"},
    {"time_iso8601", "@timestamp", V_TIME, ""},
    {"msec", "@timestamp", V_TIME, "%s"},
    {"request", NULL, V_REQUEST, NULL},
    {"status", "http.response.status_code", V_INT, NULL},
    {"body_bytes_sent", "http.response.body.bytes", V_INT, NULL},
    {"bytes_sent", "http.response.bytes", V_INT, NULL},
    {"request_length", "http.request.bytes", V_INT, NULL},
    {"http_referer", "http.request.referrer", V_DASH, NULL},
    {"http_user_agent", "user_agent.original", V_STR, NULL},
    {"http_x_forwarded_for", "nginx.access.remote_ip_list", V_XFF, NULL},
    {"request_time", "event.duration", V_DUR_S, NULL},
    {"upstream_response_time", "nginx.access.upstream.response_time", V_DASH, NULL},
    {"upstream_connect_time", "nginx.access.upstream.connect_time", V_DASH, NULL},
    {"upstream_header_time", "nginx.access.upstream.header_time", V_DASH, NULL},
    {"upstream_addr", "nginx.access.upstream.address", V_DASH, NULL},
    {"upstream_status", "nginx.access.upstream.status", V_DASH, NULL},
    {"upstream_cache_status", "nginx.access.upstream.cache_status", V_DASH, NULL},
    {"request_id", "http.request.id", V_DASH, NULL},
    {"host", "url.domain", V_DASH, NULL},
    {"http_host", "url.domain", V_DASH, NULL},
    {"server_name", "server.domain", V_DASH, NULL},
    {"server_addr", "server.address", V_DASH, NULL},
    {"server_port", "server.port", V_INT, NULL},
    {"remote_port", "source.port", V_INT, NULL},
    {"scheme", "url.scheme", V_DASH, NULL},
    {"request_method", "http.request.method", V_DASH, NULL},
    {"request_uri", "url.original", V_DASH, NULL},
    {"uri", "url.path", V_DASH, NULL},
    {"document_uri", "url.path", V_DASH, NULL},
    {"args", "url.query", V_DASH, NULL},
    {"query_string", "url.query", V_DASH, NULL},
    {"server_protocol", NULL, V_PROTO, NULL},
    {"ssl_protocol", NULL, V_TLS, NULL},
    {"ssl_cipher", "tls.cipher", V_DASH, NULL},
    {"connection", "nginx.access.connection", V_INT, NULL},
    {"connection_requests", "nginx.access.connection_requests", V_INT, NULL},
    {"pipe", "nginx.access.pipe", V_DASH, NULL},
    {"gzip_ratio", "nginx.access.gzip_ratio", V_DASH, NULL},
    {"hostname", "host.hostname", V_DASH, NULL},
    {"pid", "process.pid", V_INT, NULL},
    {"content_type", "http.request.mime_type", V_DASH, NULL},
    {"content_length", "http.request.body.bytes", V_INT, NULL},
};

/* Appends the regex of one value; `quoted` when the layout has it between double quotes. */
static void value(struct layout_build *b, const struct var *v, const char *key, int quoted)
{
    const char *text = quoted ? "(?:[^\"\\\\]|\\\\.)*" : "\\S+";
    const char *opt_text = quoted ? "(?:[^\"\\\\]|\\\\.)+" : "\\S+";
    uint32_t g;
    switch (v->kind) {
    case V_STR:
        /* unquoted (Tomcat writes %{User-Agent}i bare): up to what follows in the layout */
        g = lb_group(b);
        lb_raw(b, quoted ? text : ".*?");
        lb_raw(b, ")");
        lb_field(b, g, key, PT_STR);
        break;
    case V_DASH:
    case V_XFF:
        lb_raw(b, "(?:-|");
        g = lb_group(b);
        lb_raw(b, opt_text);
        lb_raw(b, ")");
        lb_raw(b, quoted ? "|)" : ")");
        lb_field(b, g, key, PT_STR);
        if (v->kind == V_XFF && !b->xff_group)
            b->xff_group = g;
        break;
    case V_INT:
    case V_DUR_S:
    case V_DUR_MS:
    case V_DUR_US:
        lb_raw(b, "(?:-|");
        g = lb_group(b);
        lb_raw(b, v->kind == V_INT ? "\\d{1,18})" : "\\d{1,12}(?:\\.\\d{1,9})?)");
        lb_raw(b, ")");
        lb_field(b, g, key, v->kind == V_INT ? PT_INT : v->kind == V_DUR_S ? PT_DUR_S
                                                      : v->kind == V_DUR_MS ? PT_DUR_MS
                                                                            : PT_DUR_US);
        break;
    case V_ADDR: {
        /* an IPv4 or IPv6 address is also source.ip; anything else (a host name, a list
         * with X-Forwarded-For in front) only source.address */
        lb_raw(b, "(?:");
        g = lb_group(b);
        lb_raw(b, "\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})"
                  "(?=[\\s\"\\]]|\\z)|");
        uint32_t g2 = lb_group(b);
        lb_raw(b, quoted ? "(?:[^\"\\\\]|\\\\.)*)" : "\\S+)");
        lb_raw(b, ")");
        lb_field(b, g, key, PT_STR);
        lb_field(b, g, "source.ip", PT_STR);
        lb_field(b, g2, key, PT_STR);
        if (!b->addr_group[0]) {
            b->addr_group[0] = g;
            b->addr_group[1] = g2;
        }
        break;
    }
    case V_REQUEST:
        /* method, URL (path, query), version; anything else (an empty or junk request
         * line) matches with no field, like nginx_combined */
        lb_raw(b, "(?:");
        g = lb_group(b);
        lb_raw(b, "[^\\s\"]+) ");
        uint32_t gu = lb_group(b);
        uint32_t gp = lb_group(b);
        lb_raw(b, "[^?\\s\"]+)?(?:\\?");
        uint32_t gq = lb_group(b);
        lb_raw(b, "[^\\s\"]+))?\\?" "?)(?: HTTP/");
        uint32_t gv = lb_group(b);
        lb_raw(b, "[^\\s\"]+))?|");
        lb_raw(b, quoted ? text : "\\S*");
        lb_raw(b, ")");
        lb_field(b, g, "http.request.method", PT_STR);
        lb_field(b, gu, "url.original", PT_STR);
        lb_field(b, gp, "url.path", PT_STR);
        lb_field(b, gq, "url.query", PT_STR);
        lb_field(b, gv, "http.version", PT_STR);
        break;
    case V_PROTO: /* "HTTP/1.1" -> 1.1, "TLSv1.3" -> 1.3 */
    case V_TLS:
        lb_raw(b, v->kind == V_PROTO ? "(?:HTTP/" : "(?:TLSv");
        g = lb_group(b);
        lb_raw(b, "[0-9.]+)|-|\\S*)");
        lb_field(b, g, v->kind == V_PROTO ? "http.version" : "tls.version", PT_STR);
        break;
    case V_QUERY:
        lb_raw(b, "(?:\\?");
        g = lb_group(b);
        lb_raw(b, "[^\\s\"]+)|\\?" "?)");
        lb_field(b, g, "url.query", PT_STR);
        break;
    case V_IGNORE:
        lb_raw(b, "\\S+");
        break;
    case V_TIME:
        g = lb_group(b);
        if (v->time_format[0])
            lb_time_regex(b, v->time_format);
        else
            lb_raw(b, "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:[.,]\\d{1,9})?"
                      "(?:Z|[+-]\\d{2}:?\\d{2})?");
        lb_raw(b, ")");
        b->time_group = (int)g;
        snprintf(b->time_format, sizeof b->time_format, "%s", v->time_format);
        lb_field(b, g, "@timestamp", PT_STR);
        break;
    }
}

/* Literal text up to the next `stop` (or the end), escaped; tracks whether a value that
 * follows stands between double quotes. Returns where the literal ends. */
static const char *literal_run(struct layout_build *b, const char *p, char stop, int *quoted)
{
    const char *st = p;
    while (*p && *p != stop) {
        if (*p == '"')
            *quoted = !*quoted;
        p++;
    }
    lb_lit(b, st, (size_t)(p - st));
    return p;
}

static int key_used(const struct layout_build *b, const char *key)
{
    for (int i = 0; i < b->nf; i++)
        if (!strcmp(b->f[i].key, key))
            return 1;
    for (int i = 0; i < b->njf; i++)
        if (!strcmp(b->jf[i].key, key))
            return 1;
    return 0;
}

/* nginx's layout text: one or more quoted strings ('...' "..."), as pasted from nginx.conf,
 * or the bare text; an optional escape=... first. Writes the concatenation to out. */
static int nginx_unquote(struct layout_build *b, const char *s, char *out, size_t outsz,
                         int *json)
{
    size_t o = 0;
    while (isspace((unsigned char)*s))
        s++;
    if (!strncmp(s, "escape=", 7)) {
        *json = !strncmp(s + 7, "json", 4);
        while (*s && !isspace((unsigned char)*s))
            s++;
        while (isspace((unsigned char)*s))
            s++;
    }
    if (*s != '\'' && *s != '"') {
        if (strlen(s) >= outsz)
            return lb_fail(b, "the layout is too long");
        snprintf(out, outsz, "%s", s);
        return 0;
    }
    while (*s == '\'' || *s == '"') {
        char q = *s++;
        while (*s && *s != q) {
            if (*s == '\\' && s[1])
                s++; /* nginx.conf escapes inside quotes */
            if (o + 1 >= outsz)
                return lb_fail(b, "the layout is too long");
            out[o++] = *s++;
        }
        if (*s != q)
            return lb_fail(b, "unterminated %c in the layout", q);
        s++;
        while (isspace((unsigned char)*s))
            s++;
    }
    out[o] = '\0';
    if (*s && *s != ';')
        return lb_fail(b, "text after the quoted layout: '%.20s'", s);
    return 0;
}

/* The variable ns[0..nn) at `column`: its shape in *v and its ECS field in key (a second
 * variable of the same field is kept apart under nginx.access.NAME). 0, or -1 with b->err. */
static int nginx_var(struct layout_build *b, const char *ns, size_t nn, int column,
                     struct var *v, char key[96])
{
    const struct var *found = NULL;
    for (size_t i = 0; i < sizeof nginx_vars / sizeof nginx_vars[0]; i++)
        if (strlen(nginx_vars[i].name) == nn && !memcmp(nginx_vars[i].name, ns, nn))
            found = &nginx_vars[i];
    static const char *const prefixes[] = {"http_", "sent_http_", "upstream_http_",
                                           "cookie_", "arg_"};
    for (size_t i = 0; !found && i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t pl = strlen(prefixes[i]);
        if (nn > pl && !memcmp(ns, prefixes[i], pl)) {
            *v = (struct var){"", NULL, V_DASH, NULL};
            snprintf(key, 96, "nginx.access.%.*s", (int)nn, ns);
            return 0;
        }
    }
    if (!found)
        return lb_fail(b, "unsupported variable $%.*s at column %d", (int)nn, ns, column);
    *v = *found;
    if (v->kind == V_TIME && b->time_group >= 0)
        return lb_fail(b, "a second time variable $%.*s at column %d", (int)nn, ns, column);
    snprintf(key, 96, "%s", v->key ? v->key : "");
    if (v->key && key_used(b, key)) /* $host and $http_host both: keep the second apart */
        snprintf(key, 96, "nginx.access.%.*s", (int)nn, ns);
    return 0;
}

/* The variable at `at` ('$name' or '${name}') in fmt: as nginx_var(), with its name in
 * ns/nn. Returns where it ends, or NULL with b->err naming the column. */
static const char *nginx_var_at(struct layout_build *b, const char *fmt, const char *at,
                                struct var *v, char key[96], const char **ns, size_t *nn)
{
    const char *p = at + 1;
    int brace = *p == '{';
    p += brace;
    *ns = p;
    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    *nn = (size_t)(p - *ns);
    int column = (int)(at - fmt) + 1;
    if (brace && *p++ != '}') {
        lb_fail(b, "unterminated ${ at column %d", column);
        return NULL;
    }
    if (*nn == 0) {
        lb_fail(b, "'$' without a variable name at column %d", column);
        return NULL;
    }
    return nginx_var(b, *ns, *nn, column, v, key) == 0 ? p : NULL;
}

#define NGINX_COMBINED                                                                    \
    "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "    \
    "\"$http_referer\" \"$http_user_agent\""

int layout_nginx(struct layout_build *b, const char *text)
{
    char fmt[4096];
    int json = 0;
    if (nginx_unquote(b, text, fmt, sizeof fmt, &json) != 0)
        return -1;
    if (json || fmt[0] == '{')
        return layout_nginx_json(b, fmt);
    if (!strcmp(fmt, "combined") || !strcmp(fmt, NGINX_COMBINED)) {
        b->builtin = LAYOUT_BUILTIN_NGINX;
        return 0;
    }
    lb_raw(b, "^");
    int quoted = 0;
    const char *p = fmt;
    while (*p) {
        if (*p != '$') {
            p = literal_run(b, p, '$', &quoted);
            continue;
        }
        struct var v;
        char key[96];
        const char *ns;
        size_t nn;
        if (!(p = nginx_var_at(b, fmt, p, &v, key, &ns, &nn)))
            return -1;
        value(b, &v, key, quoted);
        /* $request_id is the id to follow a request by: trace.id too, as alerts use it */
        if (nn == 10 && !memcmp(ns, "request_id", 10) && !key_used(b, "trace.id"))
            lb_field(b, b->ngroups, "trace.id", PT_STR);
    }
    lb_raw(b, "\\z");
    if (b->xff_group) {
        /* Filebeat's rule makes source.* and the list from both at run time (nginx_xff.c):
         * the groups keep no field of their own */
        int o = 0;
        for (int i = 0; i < b->nf; i++)
            if (b->f[i].group != b->xff_group && b->f[i].group != b->addr_group[0] &&
                b->f[i].group != b->addr_group[1])
                b->f[o++] = b->f[i];
        b->nf = o;
    }
    return 0;
}

/* ---- nginx escape=json ---- */

/* "$name" or "${name}" and nothing else: the variable's name, else NULL. */
static const char *one_var(const char *s, size_t *nn)
{
    if (s[0] != '$')
        return NULL;
    int brace = s[1] == '{';
    const char *ns = s + 1 + brace, *p = ns;
    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    *nn = (size_t)(p - ns);
    if (brace && *p++ != '}')
        return NULL;
    return *nn && !*p ? ns : NULL;
}

static int jfield(struct layout_build *b, const char *path, int kind, const char *key,
                  const char *tf)
{
    if (b->njf >= LAYOUT_FIELDS_MAX || strlen(path) >= sizeof b->jf[0].path)
        return lb_fail(b, "the layout has too many keys, or a key path too long: '%.40s'",
                       path);
    struct layout_jfield *f = &b->jf[b->njf++];
    snprintf(f->path, sizeof f->path, "%s", path);
    f->kind = kind;
    snprintf(f->key, sizeof f->key, "%s", key);
    snprintf(f->time_format, sizeof f->time_format, "%s", tf ? tf : "");
    return 0;
}

/* Every key of obj whose value is one variable gets that variable's field. */
static int json_keys(struct layout_build *b, json_t *obj, char *path, size_t plen, int depth)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        size_t kl = strlen(k);
        if (plen + 1 + kl >= sizeof b->jf[0].path)
            return lb_fail(b, "a key path too long: '%.40s'", k);
        size_t n = plen;
        if (plen)
            path[n++] = '.';
        memcpy(path + n, k, kl + 1);
        if (json_is_object(v) && depth < 8) {
            if (json_keys(b, v, path, n + kl, depth + 1) != 0)
                return -1;
        } else if (json_is_string(v)) {
            size_t nn;
            const char *ns = one_var(json_string_value(v), &nn);
            struct var var;
            char key[96];
            if (ns && nginx_var(b, ns, nn, 0, &var, key) != 0)
                return lb_fail(b, "key '%s': %s", path, b->err); /* not reached: checked */
            if (ns && jfield(b, path, var.kind, key, var.time_format) != 0)
                return -1;
            if (ns && var.kind == V_TIME)
                b->time_group = 1; /* a second time variable is an error */
            if (ns && nn == 10 && !memcmp(ns, "request_id", 10) && !key_used(b, "trace.id") &&
                jfield(b, path, V_DASH, "trace.id", NULL) != 0)
                return -1;
        }
        path[plen] = '\0';
    }
    return 0;
}

int layout_nginx_json(struct layout_build *b, const char *fmt)
{
    /* every variable must be known (its column is in the error); one written bare ("n":
     * $status) is quoted so that the template reads as JSON */
    char tmp[8192];
    size_t o = 0;
    int instr = 0;
    b->json = 1;
    for (const char *p = fmt; *p;) {
        if (o + 8 >= sizeof tmp)
            return lb_fail(b, "the layout is too long");
        if (instr && *p == '\\' && p[1]) {
            tmp[o++] = *p++;
            tmp[o++] = *p++;
            continue;
        }
        if (*p != '$') {
            instr ^= *p == '"';
            tmp[o++] = *p++;
            continue;
        }
        const char *at = p, *ns, *e;
        struct var var;
        char key[96];
        size_t nn;
        if (!(e = nginx_var_at(b, fmt, at, &var, key, &ns, &nn)))
            return -1;
        size_t vl = (size_t)(e - at);
        if (o + vl + 3 >= sizeof tmp)
            return lb_fail(b, "the layout is too long");
        if (!instr)
            tmp[o++] = '"';
        memcpy(tmp + o, at, vl);
        o += vl;
        if (!instr)
            tmp[o++] = '"';
        p = e;
    }
    tmp[o] = '\0';
    json_error_t jerr;
    json_t *root = json_loads(tmp, 0, &jerr);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return lb_fail(b, "an escape=json layout must be one JSON object: %s",
                       root ? "not an object" : jerr.text);
    }
    char path[96] = "";
    int r = json_keys(b, root, path, 0, 0);
    json_decref(root);
    return r;
}

/* ---- Apache / Tomcat ---- */

static int apache_directive(struct layout_build *b, const char *fmt, const char *at,
                            const char *arg, size_t an, char d, int quoted)
{
    struct var v = {"", NULL, V_DASH, NULL};
    char key[96];
    int column = (int)(at - fmt) + 1;
    switch (d) {
    case 'h': case 'a': v = (struct var){"", "source.address", V_ADDR, NULL}; break;
    case 'l': v.kind = V_IGNORE; break;
    case 'u': v.key = "user.name"; break;
    case 't':
        if (an == 0) {
            lb_raw(b, "\\[");
            value(b, &(struct var){"", "@timestamp", V_TIME, "%d/%b/%Y:%H:%M:%S %z"}, NULL,
                  quoted);
            lb_raw(b, "\\]");
            return 0;
        } else {
            char tf[128];
            const char *a = arg;
            size_t n = an;
            if (n > 6 && !memcmp(a, "begin:", 6))
                a += 6, n -= 6;
            else if (n > 4 && !memcmp(a, "end:", 4))
                a += 4, n -= 4;
            if ((n == 3 && !memcmp(a, "sec", 3)))
                snprintf(tf, sizeof tf, "%%s");
            else if (n >= sizeof tf)
                return lb_fail(b, "time format too long at column %d", column);
            else if (memchr(a, '%', n))
                snprintf(tf, sizeof tf, "%.*s", (int)n, a); /* Apache: strftime */
            else if (layout_java_time(b, column, a, n, tf, sizeof tf) != 0)
                return -1; /* Tomcat, logback-access: SimpleDateFormat */
            char err[200];
            if (tp_check_format(tf, err, sizeof err) != 0)
                return lb_fail(b, "%%{%.*s}t at column %d: %s", (int)an, arg, column, err);
            v = (struct var){"", "@timestamp", V_TIME, NULL};
            v.time_format = tf;
            value(b, &v, NULL, quoted);
            return 0;
        }
    case 'r': v.kind = V_REQUEST; break;
    case 's': v = (struct var){"", "http.response.status_code", V_INT, NULL}; break;
    case 'b': v = (struct var){"", "http.response.body.bytes", V_INT, NULL}; break;
    case 'B': v = (struct var){"", "http.response.body.bytes", V_INT, NULL}; break;
    case 'O': v = (struct var){"", "http.response.bytes", V_INT, NULL}; break;
    case 'I': v = (struct var){"", "http.request.bytes", V_INT, NULL}; break;
    case 'D': v = (struct var){"", "event.duration", V_DUR_US, NULL}; break;
    case 'T':
        v = (struct var){"", "event.duration",
                         an == 2 && !memcmp(arg, "ms", 2)   ? V_DUR_MS
                         : an == 2 && !memcmp(arg, "us", 2) ? V_DUR_US
                                                             : V_DUR_S,
                         NULL};
        break;
    case 'm': v.key = "http.request.method"; break;
    case 'U': v.key = "url.path"; break;
    case 'q': v.kind = V_QUERY; break;
    case 'H': v.kind = V_PROTO; break;
    case 'v': case 'V': v.key = "server.domain"; break;
    case 'p': v = (struct var){"", "server.port", V_INT, NULL}; break;
    case 'P': v = (struct var){"", "process.pid", V_INT, NULL}; break;
    case 'f': v.key = "file.path"; break;
    case 'i': case 'o': case 'C': case 'e': case 'n': case 'c': {
        if (an == 0)
            return lb_fail(b, "%%%c at column %d needs a {name}", d, column);
        static const struct {
            const char *h, *key;
        } known[] = {{"Referer", "http.request.referrer"},
                     {"User-Agent", "user_agent.original"},
                     {"X-Request-Id", "http.request.id"},
                     {"X-Request-ID", "http.request.id"},
                     {"X-Forwarded-For", "apache.access.remote_ip_list"},
                     {"Host", "url.domain"}};
        for (size_t i = 0; d == 'i' && i < sizeof known / sizeof known[0]; i++)
            if (strlen(known[i].h) == an && !strncasecmp(known[i].h, arg, an))
                v.key = known[i].key;
        if (!v.key) {
            size_t o = (size_t)snprintf(key, sizeof key, "apache.access.%c_", d);
            for (size_t i = 0; i < an && o + 1 < sizeof key; i++)
                key[o++] = isalnum((unsigned char)arg[i]) ? (char)tolower((unsigned char)arg[i])
                                                          : '_';
            key[o] = '\0';
            v.key = key;
        }
        if (!strcmp(v.key, "user_agent.original"))
            v.kind = V_STR; /* kept as written, "-" too, as for nginx */
        break;
    }
    default:
        return lb_fail(b, "unsupported directive %%%c at column %d", d, column);
    }
    char k2[96];
    snprintf(k2, sizeof k2, "%s", v.key ? v.key : "");
    if (v.key && key_used(b, k2))
        snprintf(k2, sizeof k2, "apache.access.%c", d);
    value(b, &v, k2, quoted);
    return 0;
}

int layout_apache(struct layout_build *b, const char *text)
{
    char fmt[4096];
    const char *s = text;
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= 2 && (s[0] == '\'' || s[0] == '"') && s[n - 1] == s[0])
        s++, n -= 2;
    if (n >= sizeof fmt)
        return lb_fail(b, "the layout is too long");
    snprintf(fmt, sizeof fmt, "%.*s", (int)n, s);
    /* Tomcat's names for the two classic layouts */
    if (!strcmp(fmt, "common"))
        snprintf(fmt, sizeof fmt, "%%h %%l %%u %%t \"%%r\" %%s %%b");
    else if (!strcmp(fmt, "combined"))
        snprintf(fmt, sizeof fmt,
                 "%%h %%l %%u %%t \"%%r\" %%s %%b \"%%{Referer}i\" \"%%{User-Agent}i\"");
    /* a LogFormat pasted from httpd.conf writes \" for a quote */
    char tmp[4096];
    size_t o = 0;
    for (const char *p = fmt; *p && o + 1 < sizeof tmp; p++) {
        if (p[0] == '\\' && p[1] == '"')
            p++;
        tmp[o++] = *p;
    }
    tmp[o] = '\0';
    memcpy(fmt, tmp, o + 1);
    lb_raw(b, "^");
    int quoted = 0;
    const char *p = fmt;
    while (*p) {
        if (*p != '%') {
            p = literal_run(b, p, '%', &quoted);
            continue;
        }
        const char *at = p++;
        if (*p == '%') {
            lb_lit(b, "%", 1);
            p++;
            continue;
        }
        while (*p == '<' || *p == '>' || *p == '!' || *p == ',' || isdigit((unsigned char)*p))
            p++;
        const char *arg = NULL;
        size_t an = 0;
        if (*p == '{') {
            arg = ++p;
            while (*p && *p != '}')
                p++;
            if (*p != '}')
                return lb_fail(b, "unterminated %%{ at column %d", (int)(at - fmt) + 1);
            an = (size_t)(p - arg);
            p++;
        }
        if (!*p)
            return lb_fail(b, "'%%' without a directive at column %d", (int)(at - fmt) + 1);
        if (apache_directive(b, fmt, at, arg, an, *p, quoted) != 0)
            return -1;
        p++;
    }
    lb_raw(b, "\\z");
    return 0;
}
