/*
 * lineproc.c - what happens to a line between the read and the batch (see lineproc.h):
 * an input's settings (format, parser, multiline, include/exclude filters, timezone), the
 * per-file state, and the order of the steps: container decoding and rejoining (format =
 * docker | cri | auto, container.c) -> multiline joining -> filters -> parser -> out().
 *
 * Threads: lineproc_new/free run at configuration time (main thread) and the result is
 * immutable; a lineproc_state (pending record, PCRE2 match data, time cache) belongs to the
 * tail thread that feeds it. Nothing on the feed path allocates except a pending multiline
 * record growing its buffer.
 */
#include "parsers/lineproc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/base/clock.h"
#include "agent/base/json.h"
#include "parsers/container.h"
#include "parsers/multiline.h"
#include "parsers/parser.h"

struct relist {
    pcre2_code **re;
    int n;
};

struct lineproc {
    enum ctr_format fmt;
    uint64_t max_line; /* the input's max_line_bytes: cap of a rejoined container line */
    const struct parser *parser;
    struct ml_conf ml;
    struct relist include, exclude;
    struct lf_tz *tz_own;  /* the input's timezone, or the host's */
    const struct lf_tz *tz; /* effective zone for times without an offset */
    char desc[256];
};

/* What a container line brings besides its text (zero for plain files). */
struct ctr_meta {
    int stream;
    int64_t ts_ms;
};

/* A container line the runtime split (docker's 16 KiB pieces, CRI's P parts), being
 * rejoined; text capped at max_line. */
struct line_part {
    int active;
    int skipping; /* shipped at max_line_bytes: the rest of its pieces is dropped */
    int skip_stream;
    struct buf text;
    uint64_t off, end;
    unsigned flags;
    struct ctr_meta meta;
};

struct lineproc_state {
    struct ml_pending pend;
    struct ctr_meta pend_meta; /* of the pending record's first line */
    struct parse_run pr;
    pcre2_match_data *md1; /* filters and the multiline pattern: match/no match only */
    struct {               /* multiline = java: an empty line whose fate the next line tells */
        int active;
        uint64_t off, end;
        int64_t deadline;
        struct ctr_meta meta;
    } blank;
    struct ctr_source cs; /* what the file's path says (container inputs) */
    struct buf scratch;   /* decoded docker text */
    struct tp_iso_cache tcache; /* the runtime's last time */
    struct line_part part;
};

static const struct fkey *K_STREAM, *K_CTR_ID, *K_CTR_NAME, *K_POD, *K_NS;

struct input_conf {
    const char *format;
    const char *parser, *multiline, *ml_pattern, *ml_match, *include, *exclude, *timezone;
    int ml_negate;
    long ml_max_lines, ml_timeout;
    uint64_t ml_max_bytes;
};

static const struct conf_key input_keys[] = {
    {"format", CT_STR, NULL, offsetof(struct input_conf, format),
     "docker: Docker's json-file driver; cri: containerd/CRI-O/Kubernetes; auto: either, line "
     "by line (default: plain lines)", "docker|cri|auto"},
    {"parser", CT_STR, NULL, offsetof(struct input_conf, parser),
     "nginx_combined, apache_common, spring_boot, json, or the NAME of a [parser NAME]", NULL},
    {"multiline", CT_STR, NULL, offsetof(struct input_conf, multiline),
     "java: join stack traces to the log line that started them", "java"},
    {"multiline.pattern", CT_STR, NULL, offsetof(struct input_conf, ml_pattern),
     "PCRE2 regex telling continuation lines (Filebeat semantics)", NULL},
    {"multiline.negate", CT_BOOL, "false", offsetof(struct input_conf, ml_negate),
     "true: lines NOT matching the pattern are the continuations", NULL},
    {"multiline.match", CT_STR, "after", offsetof(struct input_conf, ml_match),
     "after: continuations join the record before them; before: the record after them",
     "after|before"},
    {"multiline.max_lines", CT_INT, "500", offsetof(struct input_conf, ml_max_lines),
     "lines kept per record; further lines are dropped and the event marked truncated", NULL},
    {"multiline.timeout", CT_DURATION, "1s", offsetof(struct input_conf, ml_timeout),
     "a pending record is shipped after this long without a new line", NULL},
    {"multiline.max_bytes", CT_SIZE, "1MiB", offsetof(struct input_conf, ml_max_bytes),
     "bytes kept per record; the rest is dropped and the event marked truncated", NULL},
    {"include_lines", CT_STR, NULL, offsetof(struct input_conf, include),
     "comma-separated regexes: only records matching one are shipped", NULL},
    {"exclude_lines", CT_STR, NULL, offsetof(struct input_conf, exclude),
     "comma-separated regexes: records matching one are dropped (after include_lines)", NULL},
    {"timezone", CT_STR, NULL, offsetof(struct input_conf, timezone),
     "zone of log times without an offset, e.g. Asia/Seoul (default: the parser's, else the "
     "host's)", NULL},
    {NULL, 0, NULL, 0, NULL, NULL},
};

const struct conf_key *lineproc_keys(void) { return input_keys; }

static void relist_free(struct relist *l)
{
    for (int i = 0; i < l->n; i++)
        pcre2_code_free(l->re[i]);
    free(l->re);
    l->re = NULL;
    l->n = 0;
}

/* Splits a list of regexes on the commas that are not inside (), [], {} nor escaped, so
 * `\d{1,3}` and `[,;]` stay whole. Each item is trimmed; empty items are dropped. */
static int compile_list(struct conf *c, int line, const char *what, const char *val,
                        struct relist *out, struct conf_errs *errs)
{
    int nerr = 0;
    size_t n = strlen(val);
    char *item = malloc(n + 1);
    if (!item)
        return 1;
    size_t st = 0;
    int depth = 0, inclass = 0;
    for (size_t i = 0; i <= n; i++) {
        char ch = i < n ? val[i] : ',';
        if (i < n && ch == '\\') {
            i++;
            continue;
        }
        if (inclass) {
            if (ch == ']')
                inclass = 0;
            if (i < n)
                continue;
        }
        if (ch == '[')
            inclass = 1;
        else if (ch == '(' || ch == '{')
            depth++;
        else if ((ch == ')' || ch == '}') && depth > 0)
            depth--;
        if (ch != ',' || (depth > 0 && i < n))
            continue;
        size_t a = st, b = i < n ? i : n;
        while (a < b && (val[a] == ' ' || val[a] == '\t'))
            a++;
        while (b > a && (val[b - 1] == ' ' || val[b - 1] == '\t'))
            b--;
        st = i + 1;
        if (a == b)
            continue;
        memcpy(item, val + a, b - a);
        item[b - a] = '\0';
        char err[512];
        pcre2_code *re = parser_compile(item, 0, err, sizeof err);
        if (!re) {
            conf_err(errs, c->file, line, "%s: pattern '%s': %s", what, item, err);
            nerr++;
            continue;
        }
        pcre2_code **nr = realloc(out->re, (size_t)(out->n + 1) * sizeof *nr);
        if (!nr) {
            pcre2_code_free(re);
            nerr++;
            break;
        }
        out->re = nr;
        out->re[out->n++] = re;
    }
    free(item);
    return nerr;
}

static int line_of(struct conf_section *s, const char *key)
{
    struct conf_entry *e = conf_find(s, key);
    return e ? e->line : s->line;
}

struct lineproc *lineproc_new(struct conf *c, struct conf_section *input, struct conf_errs *errs)
{
    struct lineproc *lp = calloc(1, sizeof *lp);
    if (!lp)
        return NULL;
    struct input_conf ic = {0};
    if (!parser_mctx()) {
        free(lp);
        return NULL;
    }
    conf_apply(c, input, input_keys, &ic, errs);
    char err[512];
    if (ic.format) {
        int f = ctr_format_parse(ic.format);
        if (f < 0)
            conf_err(errs, c->file, line_of(input, "format"),
                     "format: '%s' is not docker, cri or auto", ic.format);
        else
            lp->fmt = (enum ctr_format)f;
    }
    /* max_line_bytes is the core's key (agent_conf.c checks it); a rejoined container line
     * is capped by it too */
    lp->max_line = 1u << 20;
    struct conf_entry *ml = conf_find(input, "max_line_bytes");
    uint64_t mlv;
    if (ml && ml->value && conf_parse_size(ml->value, &mlv) == 0 && mlv >= 64)
        lp->max_line = mlv;
    if (lp->fmt != CTR_NONE) {
        K_STREAM = fkey_intern("stream");
        K_CTR_ID = fkey_intern("container.id");
        K_CTR_NAME = fkey_intern("container.name");
        K_POD = fkey_intern("kubernetes.pod.name");
        K_NS = fkey_intern("kubernetes.namespace");
    }
    if (ic.parser) {
        lp->parser = parser_find(ic.parser);
        if (!lp->parser) {
            char names[256] = ""; /* the type table's, so a new built-in is listed too */
            size_t nl = 0;
            for (int i = 0; parser_types[i] && nl < sizeof names; i++)
                nl += (size_t)snprintf(names + nl, sizeof names - nl, "%s%s", i ? ", " : "",
                                       parser_types[i]->name);
            conf_err(errs, c->file, line_of(input, "parser"),
                     "parser: unknown parser '%s' (built in: %s; or define [parser %s])",
                     ic.parser, names, ic.parser);
        }
    }
    lp->ml.max_lines = ic.ml_max_lines;
    lp->ml.timeout_ms = ic.ml_timeout;
    lp->ml.max_bytes = ic.ml_max_bytes;
    lp->ml.negate = ic.ml_negate;
    lp->ml.before = ic.ml_match && !strcmp(ic.ml_match, "before");
    if (ic.multiline && ic.ml_pattern)
        conf_err(errs, c->file, line_of(input, "multiline.pattern"),
                 "multiline.pattern: not with multiline = %s (choose one)", ic.multiline);
    else if (ic.multiline || (!ic.ml_pattern && lp->parser && lp->parser->ml_java))
        lp->ml.mode = ML_JAVA; /* a layout that prints stack traces: java by default */
    else if (ic.ml_pattern) {
        lp->ml.mode = ML_PATTERN;
        lp->ml.re = parser_compile(ic.ml_pattern, 0, err, sizeof err);
        if (!lp->ml.re) {
            conf_err(errs, c->file, line_of(input, "multiline.pattern"),
                     "multiline.pattern: %s", err);
            lp->ml.mode = ML_NONE;
        }
    } else {
        static const char *const needs[] = {"multiline.negate", "multiline.match",
                                            "multiline.max_lines", "multiline.timeout",
                                            "multiline.max_bytes"};
        for (size_t i = 0; i < sizeof needs / sizeof needs[0]; i++)
            if (conf_find(input, needs[i]))
                conf_err(errs, c->file, line_of(input, needs[i]),
                         "%s needs multiline.pattern or multiline = java", needs[i]);
    }
    if (lp->ml.mode == ML_JAVA && lp->ml.before)
        conf_err(errs, c->file, line_of(input, "multiline.match"),
                 "multiline.match = before does not apply to multiline = java");
    if (ic.ml_max_lines < 1 || ic.ml_max_lines > 1000000)
        conf_err(errs, c->file, line_of(input, "multiline.max_lines"),
                 "multiline.max_lines: %ld is not between 1 and 1000000", ic.ml_max_lines);
    if (ic.ml_timeout < 1)
        conf_err(errs, c->file, line_of(input, "multiline.timeout"),
                 "multiline.timeout: must be at least 1ms");
    if (ic.ml_max_bytes < 1024 || ic.ml_max_bytes > (256u << 20))
        conf_err(errs, c->file, line_of(input, "multiline.max_bytes"),
                 "multiline.max_bytes: must be between 1KiB and 256MiB");
    if (ic.include)
        compile_list(c, line_of(input, "include_lines"), "include_lines", ic.include,
                     &lp->include, errs);
    if (ic.exclude)
        compile_list(c, line_of(input, "exclude_lines"), "exclude_lines", ic.exclude,
                     &lp->exclude, errs);
    if (ic.timezone) {
        lp->tz_own = lf_tz_load(ic.timezone, err, sizeof err);
        if (!lp->tz_own)
            conf_err(errs, c->file, line_of(input, "timezone"), "timezone: %s", err);
        else if (!lp->parser)
            conf_err(errs, c->file, line_of(input, "timezone"),
                     "timezone: only applies with a parser");
    }
    if (!lp->tz_own && lp->parser && lp->parser->tz)
        lp->tz = lp->parser->tz;
    else {
        if (!lp->tz_own && lp->parser)
            lp->tz_own = lf_tz_local();
        lp->tz = lp->tz_own;
    }
    size_t dl = 0;
    if (lp->fmt != CTR_NONE)
        dl += (size_t)snprintf(lp->desc, sizeof lp->desc, "format %s, ", ctr_format_name(lp->fmt));
    dl += (size_t)snprintf(lp->desc + dl, sizeof lp->desc - dl, "%s%s",
                           lp->parser ? "parser " : "raw lines",
                           lp->parser ? lp->parser->name : "");
    if (lp->ml.mode != ML_NONE && dl < sizeof lp->desc)
        dl += (size_t)snprintf(lp->desc + dl, sizeof lp->desc - dl, ", multiline %s",
                               lp->ml.mode == ML_JAVA ? "java"
                               : lp->ml.before        ? "pattern (before)"
                                                      : "pattern (after)");
    if (lp->include.n && dl < sizeof lp->desc)
        dl += (size_t)snprintf(lp->desc + dl, sizeof lp->desc - dl, ", include_lines %d",
                               lp->include.n);
    if (lp->exclude.n && dl < sizeof lp->desc)
        dl += (size_t)snprintf(lp->desc + dl, sizeof lp->desc - dl, ", exclude_lines %d",
                               lp->exclude.n);
    /* access logs always carry their offset: their zone is not worth mentioning */
    if (lp->tz && lp->parser && !lp->parser->type->zone_in_line &&
        dl < sizeof lp->desc)
        snprintf(lp->desc + dl, sizeof lp->desc - dl, ", timezone %s", lf_tz_name(lp->tz));
    return lp;
}

void lineproc_free(struct lineproc *lp)
{
    if (!lp)
        return;
    pcre2_code_free(lp->ml.re);
    relist_free(&lp->include);
    relist_free(&lp->exclude);
    lf_tz_free(lp->tz_own);
    free(lp);
}

const char *lineproc_describe(const struct lineproc *lp)
{
    return lp->desc;
}

struct lineproc_state *lineproc_state_new(const struct lineproc *lp, const char *path)
{
    struct lineproc_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    if (lp->fmt != CTR_NONE && path)
        ctr_source_from_path(path, &st->cs);
    st->part.text.max = (size_t)lp->max_line;
    st->md1 = pcre2_match_data_create(1, NULL);
    if (lp->parser && lp->parser->re)
        st->pr.md = pcre2_match_data_create_from_pattern(lp->parser->re, NULL);
    st->pr.tz = lp->tz;
    if (!st->md1 || (lp->parser && lp->parser->re && !st->pr.md)) {
        lineproc_state_free(st);
        return NULL;
    }
    return st;
}

void lineproc_state_free(struct lineproc_state *st)
{
    if (!st)
        return;
    buf_free(&st->pend.rec);
    buf_free(&st->scratch);
    buf_free(&st->part.text);
    pcre2_match_data_free(st->md1);
    pcre2_match_data_free(st->pr.md);
    parser_run_release(&st->pr);
    free(st);
}

static int any_match(const struct relist *l, pcre2_match_data *md, const char *s, size_t n)
{
    for (int i = 0; i < l->n; i++)
        if (pcre2_match(l->re[i], (PCRE2_SPTR)s, n, 0, 0, md, parser_mctx()) >= 0)
            return 1;
    return 0;
}

/* The fields a container input adds to every event: the stream of its first line, the
 * runtime's time when the parser found none, and what the file's path says. */
static void add_container_fields(struct lineproc_state *st, struct event_builder *eb,
                                 const struct ctr_meta *m)
{
    const char *sn = ctr_stream_name(m->stream);
    if (sn)
        eb_add_str_clean(eb, K_STREAM, sn, 6);
    if (!eb->ts_ms && m->ts_ms)
        eb->ts_ms = m->ts_ms;
    const struct ctr_source *cs = &st->cs;
    if (cs->id[0])
        eb_add_str_clean(eb, K_CTR_ID, cs->id, strlen(cs->id));
    if (cs->name[0])
        eb_add_str(eb, K_CTR_NAME, cs->name, strlen(cs->name));
    if (cs->pod[0])
        eb_add_str(eb, K_POD, cs->pod, strlen(cs->pod));
    if (cs->ns[0])
        eb_add_str(eb, K_NS, cs->ns, strlen(cs->ns));
}

/* A finished record: filters, parser, out(). */
static int emit(const struct lineproc *lp, struct lineproc_state *st, struct event_builder *eb,
                const char *rec, size_t len, uint64_t off, uint64_t end, unsigned flags,
                const struct ctr_meta *meta, lineproc_out out, void *ctx)
{
    if ((lp->include.n && !any_match(&lp->include, st->md1, rec, len)) ||
        (lp->exclude.n && any_match(&lp->exclude, st->md1, rec, len)))
        return out(ctx, NULL, rec, len, off, end);
    eb_reset(eb);
    if (lp->parser)
        parser_run(lp->parser, &st->pr, eb, rec, len);
    if (lp->fmt != CTR_NONE)
        add_container_fields(st, eb, meta);
    eb->flags |= flags;
    int rc = out(ctx, eb, rec, len, off, end);
    parser_run_release(&st->pr);
    return rc;
}

static int emit_pending(const struct lineproc *lp, struct lineproc_state *st,
                        struct event_builder *eb, lineproc_out out, void *ctx)
{
    struct ml_pending *p = &st->pend;
    if (!p->active)
        return 0;
    int rc = emit(lp, st, eb, p->rec.p, p->rec.len, p->off, p->end, p->flags, &st->pend_meta,
                  out, ctx);
    ml_clear(p);
    return rc;
}

static int start_record(const struct lineproc *lp, struct lineproc_state *st, const char *line,
                        size_t len, uint64_t off, uint64_t end, unsigned evf,
                        const struct ctr_meta *meta, int64_t now)
{
    if (ml_start(&lp->ml, &st->pend, line, len, off, end, (evf & EV_TRUNCATED) != 0, now) != 0)
        return -1;
    st->pend.flags |= evf;
    st->pend_meta = *meta;
    return 0;
}

static int append_line(const struct lineproc *lp, struct lineproc_state *st, const char *line,
                       size_t len, uint64_t end, unsigned evf, int64_t now)
{
    if (ml_append(&lp->ml, &st->pend, line, len, end, (evf & EV_TRUNCATED) != 0, now) != 0)
        return -1;
    st->pend.flags |= evf;
    return 0;
}

/* multiline = java: what becomes of a held empty line when the next line is not a stack
 * trace line (or nothing follows before the timeout). After a trace it is the trace's
 * closing line (Spring Boot's %wEx writes one): absorbed, its bytes counted in the record.
 * Anywhere else it is an event of its own, as it always was. */
static int settle_blank(const struct lineproc *lp, struct lineproc_state *st,
                        struct event_builder *eb, lineproc_out out, void *ctx)
{
    if (!st->blank.active)
        return 0;
    st->blank.active = 0;
    struct ml_pending *p = &st->pend;
    if (p->active && (p->flags & EV_MULTILINE)) {
        p->end = st->blank.end;
        return 0;
    }
    if (emit_pending(lp, st, eb, out, ctx) != 0)
        return -1;
    return emit(lp, st, eb, "", 0, st->blank.off, st->blank.end, 0, &st->blank.meta, out, ctx);
}

static inline int64_t deadline_of(const struct lineproc_state *st)
{
    if (st->blank.active)
        return st->blank.deadline;
    return st->pend.active ? st->pend.deadline : 0;
}

/* One line of text (a file line, or a container's line once decoded and rejoined) through
 * multiline joining to emit(). evf: EV_TRUNCATED / EV_CONTAINER_FAILURE for this line.
 * Inlined into lineproc_feed(), the path of every plain file line (callgrind: the call cost
 * 65 instructions a line, 1.3 % of the spring_boot path); feed_text() for the others. */
static inline __attribute__((always_inline)) int
feed_text_inl(const struct lineproc *lp, struct lineproc_state *st, struct event_builder *eb,
              const char *line, size_t len, uint64_t offset, uint64_t end, unsigned evf,
              const struct ctr_meta *meta, lineproc_out out, void *ctx)
{
    if (lp->ml.mode == ML_NONE)
        return emit(lp, st, eb, line, len, offset, end, evf, meta, out, ctx);

    struct ml_pending *p = &st->pend;
    /* multiline deadlines run on the monotonic clock, whatever clock the caller's now_ms
     * is in (lineproc_deadline() is compared with the core's mono_ms()) */
    int64_t now_ms = mono_ms();
    /* A record whose timeout passed before this line arrived is complete already. */
    int64_t dl = deadline_of(st);
    if (dl && now_ms >= dl &&
        (settle_blank(lp, st, eb, out, ctx) != 0 || emit_pending(lp, st, eb, out, ctx) != 0))
        return -1;
    if (lp->ml.mode == ML_JAVA) {
        if (len == 0 && !evf) {
            /* Hold it: the next line tells whether it opens or closes a stack trace. */
            if (settle_blank(lp, st, eb, out, ctx) != 0)
                return -1;
            st->blank.active = 1;
            st->blank.off = offset;
            st->blank.end = end;
            st->blank.meta = *meta;
            st->blank.deadline = now_ms + lp->ml.timeout_ms;
            if (p->active)
                p->deadline = st->blank.deadline;
            return 0;
        }
        if (st->blank.active) {
            if (ml_java_line(line, len)) {
                /* %wEx's empty line before a trace: part of the record the trace joins */
                st->blank.active = 0;
                int rc = p->active ? append_line(lp, st, "", 0, st->blank.end, 0, now_ms)
                                   : start_record(lp, st, "", 0, st->blank.off, st->blank.end,
                                                  0, &st->blank.meta, now_ms);
                if (rc != 0)
                    return -1;
            } else if (settle_blank(lp, st, eb, out, ctx) != 0) {
                return -1;
            }
        }
    }
    int cont = ml_is_continuation(&lp->ml, st->md1, line, len);
    if (!lp->ml.before) {
        if (cont && p->active)
            return append_line(lp, st, line, len, end, evf, now_ms);
        if (emit_pending(lp, st, eb, out, ctx) != 0)
            return -1;
        return start_record(lp, st, line, len, offset, end, evf, meta, now_ms);
    }
    /* before: continuation lines gather until the first line that is not one */
    int rc = p->active ? append_line(lp, st, line, len, end, evf, now_ms)
                       : start_record(lp, st, line, len, offset, end, evf, meta, now_ms);
    if (rc != 0)
        return rc;
    return cont ? 0 : emit_pending(lp, st, eb, out, ctx);
}

static int feed_text(const struct lineproc *lp, struct lineproc_state *st,
                     struct event_builder *eb, const char *line, size_t len, uint64_t offset,
                     uint64_t end, unsigned evf, const struct ctr_meta *meta, lineproc_out out,
                     void *ctx)
{
    return feed_text_inl(lp, st, eb, line, len, offset, end, evf, meta, out, ctx);
}

/* A runtime-split line that will not get its end (the stream changed, a line the runtime
 * did not write came between, or the file closes): shipped as it is, marked truncated. */
static int part_finish(const struct lineproc *lp, struct lineproc_state *st,
                       struct event_builder *eb, lineproc_out out, void *ctx)
{
    if (!st->part.active)
        return 0;
    st->part.active = 0;
    return feed_text(lp, st, eb, st->part.text.p, st->part.text.len, st->part.off, st->part.end,
                     st->part.flags | EV_TRUNCATED, &st->part.meta, out, ctx);
}

/* Container inputs: decode the runtime's line, rejoin split lines, then feed_text(). The
 * byte range of a rejoined line runs from its first piece to its last, so the registry
 * keeps the container file's own offsets. */
static int feed_container(const struct lineproc *lp, struct lineproc_state *st,
                          struct event_builder *eb, const char *line, size_t len,
                          uint64_t offset, uint64_t end, unsigned evf, lineproc_out out,
                          void *ctx)
{
    struct ctr_line cl;
    if (ctr_decode(lp->fmt, line, len, &st->scratch, &st->tcache, &cl) != 0) {
        if (part_finish(lp, st, eb, out, ctx) != 0)
            return -1;
        static const struct ctr_meta none = {0, 0};
        return feed_text(lp, st, eb, line, len, offset, end, evf | EV_CONTAINER_FAILURE, &none,
                         out, ctx);
    }
    struct ctr_meta meta = {cl.stream, cl.ts_ms};
    struct line_part *pt = &st->part;
    if (pt->skipping) {
        /* The rest of a line already shipped cut at max_line_bytes: its bytes are passed
         * over (the next event's end commits them), up to its last piece. */
        if (pt->skip_stream == cl.stream) {
            pt->skipping = cl.partial;
            return 0;
        }
        pt->skipping = 0;
    }
    if (pt->active && pt->meta.stream != cl.stream && part_finish(lp, st, eb, out, ctx) != 0)
        return -1;
    if (!cl.partial && !pt->active)
        return feed_text(lp, st, eb, cl.text, cl.len, offset, end, evf, &meta, out, ctx);
    if (!pt->active) {
        pt->active = 1;
        pt->off = offset;
        pt->flags = 0;
        pt->meta = meta;
        pt->text.len = 0;
    }
    pt->end = end;
    pt->flags |= evf;
    size_t room = lp->max_line > pt->text.len ? (size_t)(lp->max_line - pt->text.len) : 0;
    size_t take = cl.len;
    if (take > room) {
        take = utf8_valid_prefix(cl.text, room);
        pt->flags |= EV_TRUNCATED;
    }
    if (take && buf_add(&pt->text, cl.text, take) != 0)
        pt->flags |= EV_TRUNCATED;
    int full = (pt->flags & EV_TRUNCATED) && cl.partial;
    if (cl.partial && !full)
        return 0;
    /* its end, or max_line_bytes reached: shipped now, the rest of its pieces skipped */
    pt->active = 0;
    pt->skipping = full;
    pt->skip_stream = cl.stream;
    int rc = feed_text(lp, st, eb, pt->text.p ? pt->text.p : "", pt->text.len, pt->off, end,
                       pt->flags, &pt->meta, out, ctx);
    if (pt->text.cap > 256 * 1024)
        buf_free(&pt->text);
    return rc;
}

int lineproc_feed(const struct lineproc *lp, struct lineproc_state *st, struct event_builder *eb,
                  const char *line, size_t len, uint64_t offset, uint64_t end, unsigned line_flags,
                  int64_t now_ms, lineproc_out out, void *ctx)
{
    (void)now_ms; /* the read time is the core's (batch_add); deadlines are monotonic */
    unsigned evf = (line_flags & LINE_TRUNCATED) ? EV_TRUNCATED : 0;
    if (lp->fmt != CTR_NONE)
        return feed_container(lp, st, eb, line, len, offset, end, evf, out, ctx);
    static const struct ctr_meta none = {0, 0};
    return feed_text_inl(lp, st, eb, line, len, offset, end, evf, &none, out, ctx);
}

int lineproc_flush(const struct lineproc *lp, struct lineproc_state *st, struct event_builder *eb,
                   lineproc_out out, void *ctx)
{
    if (part_finish(lp, st, eb, out, ctx) != 0 || settle_blank(lp, st, eb, out, ctx) != 0)
        return -1;
    return emit_pending(lp, st, eb, out, ctx);
}

int64_t lineproc_deadline(const struct lineproc_state *st)
{
    return deadline_of(st);
}

uint64_t lineproc_pending_offset(const struct lineproc_state *st)
{
    uint64_t o = UINT64_MAX;
    if (st->pend.active)
        o = st->pend.off;
    if (st->blank.active && st->blank.off < o)
        o = st->blank.off;
    if (st->part.active && st->part.off < o)
        o = st->part.off;
    return o;
}
