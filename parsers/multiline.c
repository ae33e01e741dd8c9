/*
 * multiline.c - line classification (Java stack traces, Filebeat-style patterns) and the
 * pending record buffer of a file. See multiline.h for the semantics.
 *
 * Caps: a record keeps at most max_lines lines and max_bytes bytes; further lines still
 * extend the record's byte range (so the commit point passes them and they are not re-read)
 * but their text is dropped and the record is flagged EV_TRUNCATED, as Filebeat does.
 *
 * Threads: classification reads only immutable configuration; a struct ml_pending belongs
 * to the tail thread.
 */
#include "parsers/multiline.h"

#include <string.h>

#include "agent/base/event.h"
#include "agent/base/json.h"
#include "parsers/parser.h"

static int starts(const char *s, size_t n, const char *pfx)
{
    size_t l = strlen(pfx);
    return n >= l && memcmp(s, pfx, l) == 0;
}

static int ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '$' || c == '.';
}

/* "java.lang.IllegalStateException: boom", "com.x.MyError", "org.a.NestedServletException:
 * ...": a dot-qualified class name ending the line or followed by ':', whose name says
 * Exception, Error or Throwable. */
static int exception_class_line(const char *s, size_t n)
{
    size_t i = 0;
    int dots = 0;
    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    while (i < n && ident_char(s[i])) {
        dots += s[i] == '.';
        i++;
    }
    if (!dots || s[i - 1] == '.' || (i < n && s[i] != ':'))
        return 0;
    /* the last component names the kind of throwable */
    size_t st = i;
    while (st > 0 && s[st - 1] != '.')
        st--;
    const char *last = s + st;
    size_t ll = i - st;
    static const char *const kinds[] = {"Exception", "Error", "Throwable", "Fault"};
    for (int k = 0; k < 4; k++) {
        size_t kl = strlen(kinds[k]);
        for (size_t j = 0; j + kl <= ll; j++)
            if (!memcmp(last + j, kinds[k], kl))
                return 1;
    }
    return 0;
}

int ml_java_line(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    if (s[0] == ' ' || s[0] == '\t')
        return 1; /* "\tat ...", "\t... 3 more", "\tSuppressed: ...", indented text */
    if (starts(s, n, "Caused by: ") || starts(s, n, "Suppressed: ") ||
        starts(s, n, "Wrapped by: "))
        return 1; /* Wrapped by: Log4j2's %rEx, root cause first */
    return exception_class_line(s, n);
}

int ml_is_continuation(const struct ml_conf *m, pcre2_match_data *md, const char *line,
                       size_t len)
{
    if (m->mode == ML_JAVA)
        return ml_java_line(line, len);
    int rc = pcre2_match(m->re, (PCRE2_SPTR)line, len, 0, 0, md, parser_mctx());
    int matched = rc >= 0;
    return matched != (m->negate != 0);
}

static void add_text(const struct ml_conf *m, struct ml_pending *p, const char *line,
                     size_t len)
{
    size_t room = m->max_bytes > p->rec.len ? (size_t)(m->max_bytes - p->rec.len) : 0;
    if (len > room) {
        len = utf8_valid_prefix(line, room);
        p->flags |= EV_TRUNCATED;
    }
    if (len && buf_add(&p->rec, line, len) != 0)
        p->flags |= EV_TRUNCATED;
}

int ml_start(const struct ml_conf *m, struct ml_pending *p, const char *line, size_t len,
             uint64_t off, uint64_t end, int truncated, int64_t now_ms)
{
    p->rec.len = 0;
    p->rec.max = 0; /* capped by add_text against max_bytes */
    p->active = 1;
    p->off = off;
    p->end = end;
    p->nlines = 1;
    p->flags = truncated ? EV_TRUNCATED : 0;
    p->deadline = now_ms + m->timeout_ms;
    if (p->deadline == 0)
        p->deadline = 1; /* 0 means "nothing pending" */
    add_text(m, p, line, len);
    if (!p->rec.p && buf_reserve(&p->rec, 1) != 0)
        return -1;
    return 0;
}

int ml_append(const struct ml_conf *m, struct ml_pending *p, const char *line, size_t len,
              uint64_t end, int truncated, int64_t now_ms)
{
    p->end = end;
    p->nlines++;
    p->flags |= EV_MULTILINE;
    if (truncated)
        p->flags |= EV_TRUNCATED;
    p->deadline = now_ms + m->timeout_ms;
    if (p->deadline == 0)
        p->deadline = 1;
    if (p->nlines > m->max_lines) {
        p->flags |= EV_TRUNCATED;
        return 0;
    }
    if (p->rec.len < m->max_bytes) {
        add_text(m, p, "\n", 1);
        add_text(m, p, line, len);
    } else {
        p->flags |= EV_TRUNCATED;
    }
    return 0;
}

void ml_clear(struct ml_pending *p)
{
    p->active = 0;
    p->deadline = 0;
    p->rec.len = 0;
    if (p->rec.cap > 64 * 1024)
        buf_free(&p->rec);
}
