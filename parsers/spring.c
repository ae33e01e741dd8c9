/*
 * spring.c - the built-in spring_boot parser: Spring Boot's default console/file log line.
 *
 *   v2:    2026-11-26 12:00:00.123  INFO 4242 --- [nio-8080-exec-1] c.d.Controller : msg
 *   v3:    2026-11-26T12:00:00.123+09:00  INFO 4242 --- [main] c.d.Controller : msg
 *   3.2+:  2026-11-26T12:00:00.123+09:00  INFO 4242 --- [app] [main] c.d.Controller : msg
 *          (also [app] [group] [thread] and a trailing correlation [traceId-spanId])
 *
 * The pattern matches the record's first line only; the rest of a multiline record (a
 * stack trace joined by `multiline = java`, without the empty line %wEx/%xwEx put before
 * it) becomes error.stack_trace, and its first line "java.lang.IllegalStateException: boom"
 * gives error.type and error.message: the outermost exception, as Java prints it first (the
 * root cause is the last "Caused by:" of error.stack_trace; ECS has no field of its own for
 * it). ECS fields:
 * @timestamp, log.level, process.pid, process.thread.name, log.logger, service.name (the
 * [application]), trace.id/span.id (the correlation), and the text after " : " in
 * log.message (`message` always stays the raw record).
 *
 * Threads: run on the tail thread with its own struct parse_run; no allocation.
 */
#include "parsers/parser.h"

#include <string.h>

static const struct fkey *K_LEVEL, *K_PID, *K_THREAD, *K_LOGGER, *K_MSG, *K_STACK, *K_SERVICE,
    *K_TRACE, *K_SPAN, *K_ETYPE, *K_EMSG;

static void spring_keys_intern(void)
{
    K_LEVEL = fkey_intern("log.level");
    K_PID = fkey_intern("process.pid");
    K_THREAD = fkey_intern("process.thread.name");
    K_LOGGER = fkey_intern("log.logger");
    K_MSG = fkey_intern("log.message");
    K_STACK = fkey_intern("error.stack_trace");
    K_SERVICE = fkey_intern("service.name");
    K_TRACE = fkey_intern("trace.id");
    K_SPAN = fkey_intern("span.id");
    K_ETYPE = fkey_intern("error.type");
    K_EMSG = fkey_intern("error.message");
}

enum { G_TS = 1, G_LEVEL, G_PID, G_BRACKETS, G_LOGGER, G_MSG };

static const char SPRING_RE[] =
    "^(\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}:\\d{2}(?:[.,]\\d{1,9})?"
    "(?:Z|[+-]\\d{2}(?::?\\d{2})?)?)"
    "\\s+([A-Za-z]+)\\s+(?:(\\d+)\\s+)?---\\s+"
    "((?:\\[[^\\]]*+\\]\\s+)+)"
    "(\\S+)\\s*: ?(.*)$";

struct span {
    const char *s;
    size_t n;
};

static struct span trim(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return (struct span){s, n};
}

/* "[   ]" or "[hex-hex]": the 3.2+ correlation block, never a thread name. */
static int correlation_like(struct span b)
{
    struct span t = trim(b.s, b.n);
    if (t.n == 0)
        return 1;
    int dash = 0;
    for (size_t i = 0; i < t.n; i++) {
        char c = t.s[i];
        if (c == '-')
            dash = 1;
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return 0;
    }
    return dash && t.n >= 9;
}

static void add_brackets(struct event_builder *eb, const char *s, size_t n)
{
    struct span b[8];
    int nb = 0;
    for (size_t i = 0; i < n && nb < 8;) {
        if (s[i] != '[') {
            i++;
            continue;
        }
        const char *e = memchr(s + i + 1, ']', n - i - 1);
        if (!e)
            break;
        b[nb++] = (struct span){s + i + 1, (size_t)(e - s - i - 1)};
        i = (size_t)(e - s) + 1;
    }
    if (nb >= 2 && correlation_like(b[nb - 1])) {
        struct span c = trim(b[nb - 1].s, b[nb - 1].n);
        const char *d = memchr(c.s, '-', c.n);
        if (d && d > c.s && d + 1 < c.s + c.n) {
            eb_add_str(eb, K_TRACE, c.s, (size_t)(d - c.s));
            eb_add_str(eb, K_SPAN, d + 1, (size_t)(c.s + c.n - d - 1));
        }
        nb--;
    }
    if (nb == 0)
        return;
    struct span t = trim(b[nb - 1].s, b[nb - 1].n);
    if (t.n)
        eb_add_str(eb, K_THREAD, t.s, t.n);
    if (nb >= 2) {
        struct span a = trim(b[0].s, b[0].n);
        if (a.n)
            eb_add_str(eb, K_SERVICE, a.s, a.n);
    }
}

/* "com.x.Outer$InnerException" followed by the end of the line or ':' */
static size_t class_name_len(const char *s, size_t n)
{
    size_t i = 0;
    int dots = 0;
    while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                     (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '$' || s[i] == '.'))
        dots += s[i++] == '.';
    if (!dots || (i < n && s[i] != ':'))
        return 0;
    return i;
}

/* The lines after the header: error.stack_trace (empty lines around it dropped), and
 * error.type/error.message from its first line when that names an exception class. */
static void add_trace(struct event_builder *eb, const char *s, size_t n)
{
    while (n && (*s == '\n' || *s == '\r'))
        s++, n--;
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    if (!n)
        return;
    eb_add_str(eb, K_STACK, s, n);
    const char *nl = memchr(s, '\n', n);
    size_t first = nl ? (size_t)(nl - s) : n;
    size_t cl = class_name_len(s, first);
    if (!cl)
        return;
    eb_add_str(eb, K_ETYPE, s, cl);
    if (cl + 1 < first) {
        struct span m = trim(s + cl + 1, first - cl - 1);
        if (m.n)
            eb_add_str(eb, K_EMSG, m.s, m.n);
    }
}

static int spring_run(const struct parser *p, struct parse_run *pr, struct event_builder *eb,
                      const char *rec, size_t len)
{
    const char *nl = memchr(rec, '\n', len);
    size_t first = nl ? (size_t)(nl - rec) : len;
    if (first && rec[first - 1] == '\r')
        first--;
    int rc = pcre2_match(p->re, (PCRE2_SPTR)rec, first, 0, 0, pr->md, parser_mctx());
    if (rc <= 0)
        return 1;
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(pr->md);
#define S(g) (rec + ov[2 * (g)])
#define N(g) (ov[2 * (g)] == PCRE2_UNSET ? 0 : (size_t)(ov[2 * (g) + 1] - ov[2 * (g)]))
    int64_t ms;
    if (tp_parse_iso(S(G_TS), N(G_TS), pr->tz, &ms) == 0)
        eb->ts_ms = ms;
    else
        eb->flags |= EV_PARSE_FAILURE;
    eb_add_str(eb, K_LEVEL, S(G_LEVEL), N(G_LEVEL));
    if (N(G_PID)) {
        int64_t pid;
        if (conv_to_int(S(G_PID), N(G_PID), &pid) == 0)
            eb_add_int(eb, K_PID, pid);
    }
    add_brackets(eb, S(G_BRACKETS), N(G_BRACKETS));
    eb_add_str(eb, K_LOGGER, S(G_LOGGER), N(G_LOGGER));
    eb_add_str(eb, K_MSG, S(G_MSG), N(G_MSG));
    if (nl)
        add_trace(eb, nl + 1, len - (size_t)(nl - rec) - 1);
#undef S
#undef N
    return 0;
}

const struct parser_type parser_type_spring = {
    .name = "spring_boot",
    .pattern = SPRING_RE,
    .keys_intern = spring_keys_intern,
    .run = spring_run,
};
