/*
 * layout_logback.c - compiles a logback pattern (`logback_pattern`) or a Log4j2
 * PatternLayout (`log4j2_pattern`) into a layout_build (layout.h): conversion words become
 * capture groups with ECS fields, literal text is escaped, `%d{...}` becomes a time group
 * with its format translated from Java's DateTimeFormatter/SimpleDateFormat letters.
 *
 * What a line of such a layout looks like to us: the first line of a record is the layout;
 * the rest of the record (a stack trace joined by multiline = java, which a layout with a
 * message turns on by default because both libraries print throwables after the message
 * unless told %nopex) becomes error.stack_trace. `%n` ends the line. Padding and truncation
 * (`%-5level`, `%15.15thread`) allow blanks around the value; colour wrappers (`%clr(..)`,
 * `%highlight(..)`, Log4j2's `%highlight{..}{..}`) keep only what they wrap; Spring's
 * `${NAME:-default}` is replaced by its default. `%replace` rewrites what it wraps with a
 * regex the layout cannot predict the result of, so it becomes one permissive capture
 * (replace_word). `%d{UNIX}` / `%d{UNIX_MILLIS}` are epoch seconds / milliseconds.
 *
 * Threads: configuration time only (main thread).
 */
#include "parsers/layout.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum word_kind {
    W_DATE, W_THREAD, W_LEVEL, W_LOGGER, W_MSG, W_NEWLINE, W_MDC, W_PID, W_CLASS, W_METHOD,
    W_LINE, W_FILE, W_MARKER, W_EX, W_NOPEX, W_TID, W_WRAP, W_NOTEMPTY, W_REPLACE
};

static const struct {
    const char *name;
    enum word_kind kind;
} words[] = {
    {"d", W_DATE}, {"date", W_DATE},
    {"t", W_THREAD}, {"thread", W_THREAD}, {"threadName", W_THREAD}, {"tn", W_THREAD},
    {"p", W_LEVEL}, {"le", W_LEVEL}, {"level", W_LEVEL},
    {"c", W_LOGGER}, {"lo", W_LOGGER}, {"logger", W_LOGGER},
    {"m", W_MSG}, {"msg", W_MSG}, {"message", W_MSG},
    {"n", W_NEWLINE},
    {"X", W_MDC}, {"mdc", W_MDC}, {"MDC", W_MDC},
    {"pid", W_PID}, {"processId", W_PID},
    {"C", W_CLASS}, {"class", W_CLASS},
    {"M", W_METHOD}, {"method", W_METHOD},
    {"L", W_LINE}, {"line", W_LINE},
    {"F", W_FILE}, {"file", W_FILE},
    {"marker", W_MARKER},
    {"ex", W_EX}, {"exception", W_EX}, {"throwable", W_EX}, {"xEx", W_EX},
    {"xException", W_EX}, {"xThrowable", W_EX}, {"rEx", W_EX}, {"rException", W_EX},
    {"rThrowable", W_EX}, {"rootException", W_EX}, {"wEx", W_EX}, {"wex", W_EX},
    {"xwEx", W_EX}, {"xwex", W_EX},
    {"nopex", W_NOPEX}, {"nopexception", W_NOPEX},
    {"T", W_TID}, {"tid", W_TID}, {"threadId", W_TID},
    {"replace", W_REPLACE},
    {"notEmpty", W_NOTEMPTY}, {"varsNotEmpty", W_NOTEMPTY}, {"variablesNotEmpty", W_NOTEMPTY},
    /* colours and styles: only what they wrap is printed as text */
    {"clr", W_WRAP}, {"highlight", W_WRAP}, {"style", W_WRAP}, {"black", W_WRAP},
    {"red", W_WRAP}, {"green", W_WRAP}, {"yellow", W_WRAP}, {"blue", W_WRAP},
    {"magenta", W_WRAP}, {"cyan", W_WRAP}, {"white", W_WRAP}, {"gray", W_WRAP},
    {"boldRed", W_WRAP}, {"boldGreen", W_WRAP}, {"boldYellow", W_WRAP}, {"boldBlue", W_WRAP},
    {"boldMagenta", W_WRAP}, {"boldCyan", W_WRAP}, {"boldWhite", W_WRAP}, {"faint", W_WRAP},
};

struct lctx {
    struct layout_build *b;
    const char *text; /* the whole layout: columns are counted from here */
    int log4j2;
    int has_msg, nopex, depth;
};

static int col(const struct lctx *c, const char *p)
{
    return (int)(p - c->text) + 1;
}

/* The matching close of the open bracket at s[0] (nesting, backslash escapes), or NULL. */
static const char *match_close(const char *s, const char *e, char open, char close)
{
    int depth = 0;
    for (const char *p = s; p < e; p++) {
        if (*p == '\\' && p + 1 < e) {
            p++;
            continue;
        }
        if (*p == open)
            depth++;
        else if (*p == close && --depth == 0)
            return p;
    }
    return NULL;
}

int layout_java_time(struct layout_build *b, int column, const char *s, size_t n, char *out,
                     size_t outsz)
{
    size_t o = 0;
    out[0] = '\0';
#define EMIT(str)                                                                      \
    do {                                                                               \
        size_t l_ = strlen(str);                                                       \
        if (o + l_ >= outsz)                                                           \
            return lb_fail(b, "date pattern too long at column %d", column);         \
        memcpy(out + o, str, l_ + 1);                                                  \
        o += l_;                                                                       \
    } while (0)
    for (size_t i = 0; i < n;) {
        char ch = s[i];
        if (ch == '\'') {
            size_t j = i + 1;
            if (j < n && s[j] == '\'') {
                EMIT("'");
                i += 2;
                continue;
            }
            while (j < n && s[j] != '\'') {
                char lit[3] = {s[j], 0, 0};
                if (s[j] == '%')
                    lit[1] = '%';
                EMIT(lit);
                j++;
            }
            i = j + 1;
            continue;
        }
        if (!isalpha((unsigned char)ch)) {
            char lit[3] = {ch, 0, 0};
            if (ch == '%')
                lit[1] = '%';
            EMIT(lit);
            i++;
            continue;
        }
        size_t run = 1;
        while (i + run < n && s[i + run] == ch)
            run++;
        switch (ch) {
        case 'y': case 'u': EMIT(run == 2 ? "%y" : "%Y"); break;
        case 'M': case 'L': EMIT(run <= 2 ? "%m" : run == 3 ? "%b" : "%B"); break;
        case 'd': EMIT("%d"); break;
        case 'H': EMIT("%H"); break;
        case 'h': EMIT("%I"); break;
        case 'm': EMIT("%M"); break;
        case 's': EMIT("%S"); break;
        case 'S':
            /* "ss.SSS": %S reads the fraction after its own separator */
            if (o >= 3 && !memcmp(out + o - 3, "%S", 2) && (out[o - 1] == '.' || out[o - 1] == ','))
                out[--o] = '\0';
            else
                EMIT("%f");
            break;
        case 'E': EMIT(run >= 4 ? "%A" : "%a"); break;
        case 'a': EMIT("%p"); break;
        case 'D': EMIT("%j"); break;
        case 'Z': case 'X': case 'x': case 'O': EMIT("%z"); break;
        case 'z': case 'V': EMIT("%Z"); break;
        default:
            return lb_fail(b, "unsupported date letter '%c' in the date at column %d", ch,
                           column);
        }
        i += run;
    }
#undef EMIT
    return 0;
}

static int looks_like_zone(const char *s, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '+' || s[0] == '-'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == 'S' && n == strspn(s, "S"))
            return 0; /* "HH:mm:ss,SSS": the comma was the fraction's */
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || strchr("/_+-:", s[i])))
            return 0;
    return 1;
}

static int date_word(struct lctx *c, const char *at, const char *opt, size_t on,
                     const char *opt2, size_t on2, const char *pad)
{
    struct layout_build *b = c->b;
    static const struct {
        const char *name, *logback, *log4j2;
    } named[] = {
        {"ISO8601", "yyyy-MM-dd HH:mm:ss,SSS", "yyyy-MM-dd'T'HH:mm:ss,SSS"},
        {"DEFAULT", "yyyy-MM-dd HH:mm:ss,SSS", "yyyy-MM-dd HH:mm:ss,SSS"},
        {"ISO8601_BASIC", "yyyyMMdd'T'HHmmss,SSS", "yyyyMMdd'T'HHmmss,SSS"},
        {"ISO8601_OFFSET_DATE_TIME_HHMM", "yyyy-MM-dd'T'HH:mm:ss,SSSXX",
         "yyyy-MM-dd'T'HH:mm:ss,SSSXX"},
        {"ISO8601_OFFSET_DATE_TIME_HHCMM", "yyyy-MM-dd'T'HH:mm:ss,SSSXXX",
         "yyyy-MM-dd'T'HH:mm:ss,SSSXXX"},
        {"DATE", "dd MMM yyyy HH:mm:ss,SSS", "dd MMM yyyy HH:mm:ss,SSS"},
        {"COMPACT", "yyyyMMddHHmmssSSS", "yyyyMMddHHmmssSSS"},
    };
    if (b->time_group >= 0)
        return lb_fail(b, "a second %%d at column %d: one time per line", col(c, at));
    char pat[128], zone[64] = "";
    /* %d{${LOG_DATEFORMAT_PATTERN:-yyyy-MM-dd...}}: the property's default */
    if (on > 3 && !memcmp(opt, "${", 2) && opt[on - 1] == '}') {
        const char *d = NULL;
        for (size_t i = 2; i + 1 < on && !d; i++)
            if (opt[i] == ':' && opt[i + 1] == '-')
                d = opt + i + 2;
        if (!d)
            return lb_fail(b, "property in %%d at column %d has no default (:-)", col(c, at));
        on = (size_t)(opt + on - 1 - d);
        opt = d;
    }
    while (on && isspace((unsigned char)*opt))
        opt++, on--;
    while (on && isspace((unsigned char)opt[on - 1]))
        on--;
    const char *ps = opt;
    size_t pn = on;
    if (on && opt[0] == '"') { /* logback: a quoted pattern may hold commas */
        const char *q = memchr(opt + 1, '"', on - 1);
        if (!q)
            return lb_fail(b, "unterminated quote in %%d at column %d", col(c, at));
        ps = opt + 1;
        pn = (size_t)(q - ps);
        const char *z = memchr(q, ',', on - (size_t)(q - opt));
        if (z) {
            z++;
            while (z < opt + on && isspace((unsigned char)*z))
                z++;
            snprintf(zone, sizeof zone, "%.*s", (int)(opt + on - z), z);
        }
    } else if (!c->log4j2) {
        const char *comma = NULL;
        for (size_t i = 0; i < on; i++)
            if (opt[i] == ',')
                comma = opt + i;
        if (comma) {
            const char *z = comma + 1;
            while (z < opt + on && isspace((unsigned char)*z))
                z++;
            if (looks_like_zone(z, (size_t)(opt + on - z))) {
                snprintf(zone, sizeof zone, "%.*s", (int)(opt + on - z), z);
                pn = (size_t)(comma - opt);
                while (pn && isspace((unsigned char)opt[pn - 1]))
                    pn--;
            }
        }
    }
    if (opt2)
        snprintf(zone, sizeof zone, "%.*s", (int)on2, opt2);
    const char *java = NULL;
    char jbuf[128];
    if (pn == 0)
        java = "yyyy-MM-dd HH:mm:ss,SSS";
    for (size_t i = 0; !java && i < sizeof named / sizeof named[0]; i++)
        if (strlen(named[i].name) == pn && !memcmp(named[i].name, ps, pn))
            java = c->log4j2 ? named[i].log4j2 : named[i].logback;
    if (!java && pn == 4 && !memcmp(ps, "UNIX", 4)) {
        snprintf(pat, sizeof pat, "%%s");
    } else if (!java && pn == 11 && !memcmp(ps, "UNIX_MILLIS", 11)) {
        snprintf(pat, sizeof pat, "%%Q");
    } else {
        if (!java) {
            if (pn >= sizeof jbuf)
                return lb_fail(b, "date pattern too long at column %d", col(c, at));
            snprintf(jbuf, sizeof jbuf, "%.*s", (int)pn, ps);
            java = jbuf;
        }
        if (layout_java_time(b, col(c, at), java, strlen(java), pat, sizeof pat) != 0)
            return -1;
    }
    char err[256];
    if (tp_check_format(pat, err, sizeof err) != 0) {
        /* %d{HH:mm:ss.SSS}: no date to make @timestamp of (it stays the time read); the
         * text is kept in labels.time */
        if (strstr(pat, "%s") || strstr(pat, "%Q") || !strstr(err, "no year"))
            return lb_fail(b, "%%d at column %d: %s", col(c, at), err);
        lb_raw(b, pad);
        uint32_t g = lb_group(b);
        lb_time_regex(b, pat);
        lb_raw(b, ")");
        lb_raw(b, pad);
        lb_field(b, g, "labels.time", PT_STR);
        return 0;
    }
    snprintf(b->time_format, sizeof b->time_format, "%s", pat);
    snprintf(b->zone, sizeof b->zone, "%s", zone);
    lb_raw(b, pad);
    uint32_t g = lb_group(b);
    lb_time_regex(b, pat);
    lb_raw(b, ")");
    lb_raw(b, pad);
    b->time_group = (int)g;
    lb_field(b, g, "@timestamp", PT_STR);
    return 0;
}

/* MDC key -> ECS field: the tracing keys of Sleuth/Micrometer/B3, the rest under labels. */
static void mdc_key(const char *k, size_t n, char *out, size_t outsz)
{
    static const char *const trace[] = {"traceId", "trace_id", "X-B3-TraceId", "trace.id"};
    static const char *const span[] = {"spanId", "span_id", "X-B3-SpanId", "span.id"};
    for (size_t i = 0; i < 4; i++) {
        if (strlen(trace[i]) == n && !strncasecmp(k, trace[i], n)) {
            snprintf(out, outsz, "trace.id");
            return;
        }
        if (strlen(span[i]) == n && !strncasecmp(k, span[i], n)) {
            snprintf(out, outsz, "span.id");
            return;
        }
    }
    size_t o = (size_t)snprintf(out, outsz, "labels.");
    for (size_t i = 0; i < n && o + 1 < outsz; i++)
        out[o++] = isalnum((unsigned char)k[i]) || k[i] == '-' ? k[i] : '_';
    out[o] = '\0';
    if (n == 0)
        snprintf(out, outsz, "labels.mdc");
}

static void capture(struct layout_build *b, const char *pad, const char *re, const char *key,
                    int type)
{
    lb_raw(b, pad);
    uint32_t g = lb_group(b);
    lb_raw(b, re);
    lb_raw(b, ")");
    lb_raw(b, pad);
    lb_field(b, g, key, type);
}

static int parse_seq(struct lctx *c, const char *s, const char *e);

/* The close of the option block at s[0] ('{'): nesting and backslashes as match_close, and,
 * in logback, text in quotes ({'[{]', ''}) counts for nothing. NULL when unbalanced. */
static const char *option_close(const struct lctx *c, const char *s, const char *e)
{
    int depth = 0;
    char quote = 0;
    for (const char *p = s; p < e; p++) {
        if (*p == '\\' && p + 1 < e) {
            p++;
        } else if (quote) {
            if (*p == quote)
                quote = 0;
        } else if (!c->log4j2 && (*p == '\'' || *p == '"')) {
            quote = *p;
        } else if (*p == '{') {
            depth++;
        } else if (*p == '}' && --depth == 0) {
            return p;
        }
    }
    return NULL;
}

/* %replace(p){r, t} (logback) / %replace{p}{r}{t} (Log4j2): the text p prints, with every
 * match of r replaced by t. What the replacement leaves cannot be known from the layout,
 * so p's own regex is dropped and the whole replaced text becomes one permissive capture
 * (one line, possibly empty: an empty result is no field). When p prints one field, the
 * capture keeps that field (and its type; a date keeps its text in labels.time, since the
 * replacement may have changed its format); several fields become labels.replaced; none
 * (literal text, a throwable) no field. q is just after the word. */
static const char *replace_word(struct lctx *c, const char *p, const char *q, const char *e)
{
    struct layout_build *b = c->b;
    char open = c->log4j2 ? '{' : '(';
    if (q >= e || *q != open)
        return lb_fail(b, "%%replace at column %d needs its pattern in %s", col(c, p),
                       c->log4j2 ? "{...}" : "(...)"),
               NULL;
    const char *close = match_close(q, e, open, c->log4j2 ? '}' : ')');
    if (!close)
        return lb_fail(b, "unbalanced '%c' at column %d", open, col(c, q)), NULL;
    const char *r = close + 1;
    int nopt = 0;
    while (r < e && *r == '{') {
        const char *oc = option_close(c, r, e);
        if (!oc)
            return lb_fail(b, "unbalanced '{' at column %d", col(c, r)), NULL;
        nopt++;
        r = oc + 1;
    }
    if (nopt != (c->log4j2 ? 2 : 1))
        return lb_fail(b, "%%replace at column %d needs %s after its pattern", col(c, p),
                       c->log4j2 ? "{regex}{substitution}" : "{regex, replacement}"),
               NULL;
    /* compile p in place to learn its fields, then take back its regex, groups and time */
    size_t len0 = b->len;
    uint32_t ng0 = b->ngroups;
    int nf0 = b->nf, tg0 = b->time_group;
    char tf0[sizeof b->time_format], zone0[sizeof b->zone];
    memcpy(tf0, b->time_format, sizeof tf0);
    memcpy(zone0, b->zone, sizeof zone0);
    b->time_group = -1; /* a date in p is not the line's time: no "second %d" */
    if (parse_seq(c, q + 1, close) != 0)
        return NULL;
    int nnew = b->nf - nf0, had_time = b->time_group >= 0, greedy = 0;
    struct layout_field one = {0};
    if (nnew >= 1)
        one = b->f[nf0];
    for (int i = nf0; i < b->nf; i++)
        if (!strcmp(b->f[i].key, "log.message"))
            greedy = 1; /* as %msg itself: the last " - " belongs to the message */
    b->len = len0;
    b->re[len0] = '\0';
    b->ngroups = ng0;
    b->nf = nf0;
    b->time_group = tg0;
    memcpy(b->time_format, tf0, sizeof tf0);
    memcpy(b->zone, zone0, sizeof zone0);
    /* blanks around the value are padding (p's own, such as %-5level, is gone with its
     * regex), as for any padded conversion */
    lb_raw(b, " *");
    if (nnew == 0) {
        lb_raw(b, ".*?");
    } else {
        lb_raw(b, "(?:");
        uint32_t g = lb_group(b);
        lb_raw(b, greedy ? ".+)|)" : ".+?)|)");
        if (nnew > 1)
            lb_field(b, g, "labels.replaced", PT_STR);
        else if (had_time)
            lb_field(b, g, "labels.time", PT_STR);
        else
            lb_field(b, g, one.key, one.type);
    }
    lb_raw(b, " *");
    return r;
}

/* One conversion at p ('%'); returns where parsing continues, NULL on error. */
static const char *conversion(struct lctx *c, const char *p, const char *e)
{
    struct layout_build *b = c->b;
    const char *q = p + 1;
    if (q < e && *q == '%' && c->log4j2) {
        lb_lit(b, "%", 1);
        return q + 1;
    }
    const char *ms = q;
    if (q < e && *q == '-')
        q++;
    while (q < e && isdigit((unsigned char)*q))
        q++;
    if (q < e && *q == '.') {
        q++;
        if (q < e && *q == '-')
            q++;
        while (q < e && isdigit((unsigned char)*q))
            q++;
    }
    const char *pad = q > ms ? " *" : "";
    if (q < e && *q == '(') { /* logback grouping: %-30(%d [%thread]) */
        const char *close = match_close(q, e, '(', ')');
        if (!close)
            return lb_fail(b, "unbalanced '(' at column %d", col(c, q)), NULL;
        lb_raw(b, pad);
        if (parse_seq(c, q + 1, close) != 0)
            return NULL;
        lb_raw(b, pad);
        return close + 1;
    }
    const char *ws = q;
    while (q < e && isalpha((unsigned char)*q))
        q++;
    size_t wn = (size_t)(q - ws);
    if (wn == 0)
        return lb_fail(b, "'%%' without a conversion word at column %d", col(c, p)), NULL;
    int kind = -1;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i].name) == wn && !memcmp(words[i].name, ws, wn))
            kind = (int)words[i].kind;
    if (kind < 0)
        return lb_fail(b, "unsupported conversion word %%%.*s at column %d", (int)wn, ws,
                       col(c, p)),
               NULL;
    if (kind == W_REPLACE)
        return replace_word(c, p, q, e);
    /* logback wraps with (...), Log4j2 with the first {...} */
    if (kind == W_WRAP || kind == W_NOTEMPTY) {
        char open = q < e && *q == '(' ? '(' : q < e && *q == '{' ? '{' : 0;
        if (!open)
            return lb_fail(b, "%%%.*s at column %d wraps nothing", (int)wn, ws, col(c, p)),
                   NULL;
        const char *close = match_close(q, e, open, open == '(' ? ')' : '}');
        if (!close)
            return lb_fail(b, "unbalanced '%c' at column %d", open, col(c, q)), NULL;
        lb_raw(b, kind == W_NOTEMPTY ? "(?:" : pad);
        if (parse_seq(c, q + 1, close) != 0)
            return NULL;
        lb_raw(b, kind == W_NOTEMPTY ? ")?" : pad);
        q = close + 1;
        while (q < e && *q == '{') { /* {faint}, {ERROR=red, ...} */
            close = match_close(q, e, '{', '}');
            if (!close)
                return lb_fail(b, "unbalanced '{' at column %d", col(c, q)), NULL;
            q = close + 1;
        }
        return q;
    }
    const char *opt[2] = {NULL, NULL};
    size_t on[2] = {0, 0};
    for (int i = 0; q < e && *q == '{'; i++) {
        const char *close = match_close(q, e, '{', '}');
        if (!close)
            return lb_fail(b, "unbalanced '{' at column %d", col(c, q)), NULL;
        if (i < 2) {
            opt[i] = q + 1;
            on[i] = (size_t)(close - q - 1);
        }
        q = close + 1;
    }
    char key[96];
    switch (kind) {
    case W_DATE:
        if (date_word(c, p, opt[0] ? opt[0] : "", on[0], opt[1], on[1], pad) != 0)
            return NULL;
        break;
    case W_THREAD: capture(b, pad, ".*?", "process.thread.name", PT_STR); break;
    case W_LEVEL: capture(b, pad, "[A-Za-z]+", "log.level", PT_STR); break;
    case W_LOGGER: capture(b, pad, "\\S+", "log.logger", PT_STR); break;
    case W_CLASS: capture(b, pad, "\\S+", "labels.class", PT_STR); break;
    case W_METHOD: capture(b, pad, "\\S+", "log.origin.function", PT_STR); break;
    case W_FILE: capture(b, pad, "\\S+", "log.origin.file.name", PT_STR); break;
    case W_LINE: {
        lb_raw(b, pad);
        lb_raw(b, "(?:");
        uint32_t g = lb_group(b); /* "?" when the line is unknown: no field */
        lb_raw(b, "\\d+)|\\?)");
        lb_raw(b, pad);
        lb_field(b, g, "log.origin.file.line", PT_INT);
        break;
    }
    case W_PID: capture(b, pad, "\\d+", "process.pid", PT_INT); break;
    case W_TID: capture(b, pad, "\\d+", "process.thread.id", PT_INT); break;
    case W_MARKER: capture(b, pad, ".*?", "labels.marker", PT_STR); break;
    case W_MSG:
        c->has_msg = 1;
        capture(b, pad, ".*", "log.message", PT_STR);
        break;
    case W_MDC: {
        size_t kn = on[0];
        const char *k = opt[0];
        for (size_t i = 0; k && i + 1 < kn; i++)
            if (k[i] == ':' && k[i + 1] == '-')
                kn = i; /* %X{key:-default} */
        mdc_key(k ? k : "", k ? kn : 0, key, sizeof key);
        /* an empty value (no trace yet) is no field rather than "" */
        lb_raw(b, pad);
        lb_raw(b, "(?:");
        uint32_t g = lb_group(b);
        lb_raw(b, ".+?)|)");
        lb_raw(b, pad);
        lb_field(b, g, key, PT_STR);
        break;
    }
    case W_NEWLINE:
        /* the end of the line, or of the record when the layout ends here */
        lb_raw(b, "(?:\\n|\\z)");
        break;
    case W_EX: b->throwable = 1; break;
    case W_NOPEX: c->nopex = 1; break;
    default: break;
    }
    return q;
}

/* ${NAME:-default} (Spring Boot's properties): the default stands in for the property. */
static const char *property(struct lctx *c, const char *p, const char *e)
{
    const char *close = match_close(p + 1, e, '{', '}');
    if (!close)
        return lb_fail(c->b, "unbalanced '${' at column %d", col(c, p)), NULL;
    for (const char *d = p + 2; d + 1 < close; d++)
        if (d[0] == ':' && d[1] == '-')
            return parse_seq(c, d + 2, close) == 0 ? close + 1 : NULL;
    return lb_fail(c->b,
                   "property %.*s at column %d has no default (:-): paste the resolved pattern",
                   (int)(close + 1 - p), p, col(c, p)),
           NULL;
}

static int parse_seq(struct lctx *c, const char *s, const char *e)
{
    if (++c->depth > 16)
        return lb_fail(c->b, "the layout nests too deeply at column %d", col(c, s));
    const char *p = s;
    while (p < e) {
        if (*p == '%') {
            p = conversion(c, p, e);
        } else if (*p == '$' && p + 1 < e && p[1] == '{') {
            p = property(c, p, e);
        } else if (*p == '\\' && p + 1 < e && !c->log4j2) {
            lb_lit(c->b, p + 1, 1); /* logback escapes \% \( \) */
            p += 2;
        } else {
            const char *st = p;
            while (p < e && *p != '%' && !(*p == '$' && p + 1 < e && p[1] == '{') &&
                   !(*p == '\\' && !c->log4j2))
                p++;
            if (p == st) /* a lone trailing backslash */
                p++;
            lb_lit(c->b, st, (size_t)(p - st));
        }
        if (!p)
            return -1;
    }
    c->depth--;
    return 0;
}

int layout_logback(struct layout_build *b, const char *text, int log4j2)
{
    struct lctx c = {.b = b, .text = text, .log4j2 = log4j2};
    lb_raw(b, "^");
    if (parse_seq(&c, text, text + strlen(text)) != 0)
        return -1;
    /* Both libraries print a throwable after the message unless told not to
     * (%nopex; Log4j2's alwaysWriteExceptions=false is not visible in the pattern). */
    if (c.has_msg && !c.nopex)
        b->throwable = 1;
    if (b->throwable) {
        lb_raw(b, "(?:\\n?");
        uint32_t g = lb_group(b);
        lb_raw(b, "(?s:.+)))?");
        lb_field(b, g, "error.stack_trace", PT_STR);
    }
    lb_raw(b, "\\z");
    return 0;
}
