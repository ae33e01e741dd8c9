/*
 * slack_cause.c - the Slack output's cause index (`cause_from`). Events of the inputs named
 * in `cause_from` (typically a Spring Boot log) are never alerts: each one with `log.level`
 * ERROR/FATAL or an `error.stack_trace` becomes a candidate cause, reduced here to what a
 * message shows (exception class and message, the root cause: the last "Caused by:", the
 * first `cause_frames` frames of the application's own code, the logger), and kept in a ring
 * per host. An alert line is matched to the best unused candidate of its host: the one with
 * the same `trace.id` when both carry one, otherwise the nearest in time within
 * `cause_window`. A line with no candidate yet waits in its group (the application often
 * logs after it has answered): a candidate that arrives later is given to the nearest
 * waiting line, and a group's first alert waits for it at most `cause_wait` plus, when a
 * `cause_from` input joins multiline events, that input's `multiline.timeout`: the cause's
 * first line may be read up to `cause_wait` after the alert's, and its event is complete
 * only when the next record starts or that timeout passes (an application that logs an
 * exception and then nothing, the common case, completes it by the timeout). One candidate
 * explains one line, so summaries count causes exactly.
 *
 * Memory is bounded: at most SL_CAUSE_HOSTS rings of `cause_ring` fixed-size candidates
 * (about 3 KiB each), and at most SL_PEND_MAX waiting lines per group (about 100 bytes each).
 * The stack trace is read once, when the candidate is made, and never kept.
 *
 * Threads: sl_cause_extract() on the output thread without the lock (it only reads the
 * borrowed batch); everything else under slack_out.mu (output thread in send(), the sender
 * thread through the sample it takes). Log text is kept raw here and escaped when rendered.
 */
#include "outputs/slack.h"
#include "agent/base/json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SL_CAUSE_HOSTS 8

struct host_ring {
    char host[SL_HOST_MAX];
    uint32_t hash;
    struct sl_cause *v; /* `cap` entries, malloc'd on the host's first candidate */
    long n, head;       /* head: the slot written next (the oldest once full) */
    int64_t used_ms;    /* last insert: the stalest ring is reused past SL_CAUSE_HOSTS hosts */
};

struct sl_cause_index {
    struct host_ring rings[SL_CAUSE_HOSTS];
    long cap;
};

/* [input NAME] of the whole configuration, or NULL. */
static struct conf_section *section(struct conf *c, const char *type, const char *name)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->s[i].type, type) == 0 && strcmp(c->s[i].name, name) == 0)
            return &c->s[i];
    return NULL;
}

/* The longest time a cause_from input may hold a complete exception back: its
 * multiline.timeout when it joins lines (multiline, multiline.pattern, or a [parser] with a
 * logback/log4j2 layout, which joins stack traces by default: parsers/lineproc.c), else 0.
 * Read from the configuration's text because outputs stand beside parsers, not on them. */
long sl_cause_multiline_wait(const struct slack_out *st)
{
    struct conf *c = st->env->conf;
    long wait = 0;
    if (!c)
        return 0;
    for (int i = 0; i < st->conf->cause_from.n; i++) {
        struct conf_section *in = section(c, "input", st->conf->cause_from.v[i]);
        if (!in)
            continue;
        int joins = conf_find(in, "multiline") || conf_find(in, "multiline.pattern");
        struct conf_entry *pe = conf_find(in, "parser");
        struct conf_section *ps = pe ? section(c, "parser", pe->value) : NULL;
        if (ps && (conf_find(ps, "logback_pattern") || conf_find(ps, "log4j2_pattern")))
            joins = 1;
        if (!joins)
            continue;
        long t = SL_MULTILINE_TIMEOUT_DEFAULT_MS;
        struct conf_entry *te = conf_find(in, "multiline.timeout");
        if (te && conf_parse_duration(te->value, &t) != 0)
            t = SL_MULTILINE_TIMEOUT_DEFAULT_MS; /* the input's own check reports it */
        if (t > wait)
            wait = t;
    }
    return wait;
}

int sl_cause_init(struct slack_out *st)
{
    if (st->conf->cause_from.n == 0)
        return 0;
    st->causes = calloc(1, sizeof *st->causes);
    if (!st->causes)
        return -1;
    st->causes->cap = st->conf->cause_ring;
    st->cause_wait_ms = st->conf->cause_wait_ms + sl_cause_multiline_wait(st);
    return 0;
}

void sl_cause_free(struct slack_out *st)
{
    if (!st->causes)
        return;
    for (int i = 0; i < SL_CAUSE_HOSTS; i++)
        free(st->causes->rings[i].v);
    free(st->causes);
    st->causes = NULL;
}

int sl_cause_input(const struct slack_out *st, const struct event_batch *b)
{
    if (!st->causes || !b->src || !b->src->input)
        return 0;
    for (int i = 0; i < st->conf->cause_from.n; i++)
        if (strcmp(b->src->input, st->conf->cause_from.v[i]) == 0)
            return 1;
    return 0;
}

/* ---- extraction ------------------------------------------------------------------------ */

static struct sl_str trim(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return (struct sl_str){p, n};
}

static struct sl_str next_line(const char **pp, const char *end)
{
    const char *p = *pp;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl ? nl : end;
    *pp = nl ? nl + 1 : end;
    return trim(p, (size_t)(e - p));
}

static int has_suffix(struct sl_str s, const char *suf)
{
    size_t n = strlen(suf);
    return s.n >= n && memcmp(s.p + s.n - n, suf, n) == 0;
}

/* "java.lang.IllegalStateException: text" -> class and text; 0 when the line does not look
 * like an exception line (the class must be one word, dotted or ending in Exception or Error). */
static int split_exception(struct sl_str line, struct sl_str *cls, struct sl_str *msg)
{
    const char *colon = memchr(line.p, ':', line.n);
    struct sl_str c = {line.p, colon ? (size_t)(colon - line.p) : line.n};
    if (c.n == 0 || memchr(c.p, ' ', c.n) || memchr(c.p, '\t', c.n))
        return 0;
    if (!memchr(c.p, '.', c.n) && !has_suffix(c, "Exception") && !has_suffix(c, "Error"))
        return 0;
    *cls = c;
    *msg = colon ? trim(colon + 1, line.n - c.n - 1) : (struct sl_str){NULL, 0};
    return 1;
}

/* A frame's method, without a module prefix ("java.base/java.lang.Thread.run(...)"), so the
 * skip list sees the package. */
static struct sl_str frame_name(struct sl_str f)
{
    const char *paren = memchr(f.p, '(', f.n);
    size_t upto = paren ? (size_t)(paren - f.p) : f.n;
    for (size_t i = upto; i > 0; i--)
        if (f.p[i - 1] == '/')
            return (struct sl_str){f.p + i, f.n - i};
    return f;
}

static int skipped_frame(const struct slack_out *st, struct sl_str f)
{
    for (int i = 0; i < st->conf->cause_frames_skip.n; i++) {
        const char *pre = st->conf->cause_frames_skip.v[i];
        size_t n = strlen(pre);
        if (f.n >= n && memcmp(f.p, pre, n) == 0)
            return 1;
    }
    return 0;
}

/* "OrderService.java:42" from "com.shop.OrderService.place(OrderService.java:42)". */
static void frame_where(struct sl_str f, char *out, size_t outsz)
{
    const char *open = NULL, *close = NULL;
    for (size_t i = 0; i < f.n; i++) {
        if (f.p[i] == '(')
            open = f.p + i;
        else if (f.p[i] == ')')
            close = f.p + i;
    }
    if (!open || !close || close <= open + 1 || !memchr(open, ':', (size_t)(close - open)))
        return; /* "(Unknown Source)", "(Native Method)": no line to show */
    sl_copy_strn(out, outsz, open + 1, (size_t)(close - open - 1));
}

static void parse_stack(const struct slack_out *st, const char *s, size_t n, struct sl_cause *c)
{
    const char *p = s, *end = s + n;
    struct sl_str first = next_line(&p, end), cls, msg;
    if (!c->type[0] && split_exception(first, &cls, &msg)) {
        sl_copy_strn(c->type, sizeof c->type, cls.p, cls.n);
        if (!c->message[0])
            sl_copy_strn(c->message, sizeof c->message, msg.p, msg.n);
    }
    /* the root cause is the last "Caused by: " (memmem keeps a 5 MB trace a quick scan) */
    static const char CB[] = "Caused by: ";
    const char *q = s, *last = NULL, *hit;
    while ((hit = memmem(q, (size_t)(end - q), CB, sizeof CB - 1)) != NULL) {
        last = hit;
        q = hit + sizeof CB - 1;
    }
    if (last) {
        const char *r = last + sizeof CB - 1;
        struct sl_str root = next_line(&r, end);
        sl_copy_strn(c->root, sizeof c->root, root.p, root.n);
    }
    long want = st->conf->cause_frames;
    p = s;
    while (p < end && c->nframes < want) {
        struct sl_str l = next_line(&p, end);
        if (l.n < 4 || memcmp(l.p, "at ", 3) != 0)
            continue;
        struct sl_str f = frame_name(trim(l.p + 3, l.n - 3));
        if (skipped_frame(st, f))
            continue;
        if (c->nframes == 0)
            frame_where(f, c->where, sizeof c->where);
        sl_copy_strn(c->frames[c->nframes], sizeof c->frames[0], f.p, f.n);
        c->nframes++;
    }
}

static int key_is(const struct fkey *k, const char *lit)
{
    size_t n = strlen(lit);
    return k->len == n && memcmp(k->name, lit, n) == 0;
}

static int level_is_error(struct sl_str v)
{
    return (v.n == 5 && (strncasecmp(v.p, "ERROR", 5) == 0 || strncasecmp(v.p, "FATAL", 5) == 0));
}

int sl_cause_extract(const struct slack_out *st, const struct event_batch *b,
                     const struct event *ev, struct sl_cause *c, int64_t now)
{
    struct sl_str level = {0}, stack = {0}, type = {0}, msg = {0}, logmsg = {0}, logger = {0},
                  trace = {0}, host = {0};
    /* one pass over the fields: most events of an application log are not errors and cost
     * only this loop */
    for (uint16_t i = 0; i < ev->nfields; i++) {
        const struct field *f = &ev->fields[i];
        if (f->type != FV_STR)
            continue;
        struct sl_str v = {f->v.s, f->len};
        const struct fkey *k = f->key;
        if (key_is(k, "log.level"))
            level = v;
        else if (key_is(k, "error.stack_trace"))
            stack = v;
        else if (key_is(k, "error.type"))
            type = v;
        else if (key_is(k, "error.message"))
            msg = v;
        else if (key_is(k, "log.message"))
            logmsg = v;
        else if (key_is(k, "log.logger"))
            logger = v;
        else if (key_is(k, "trace.id"))
            trace = v;
        else if (key_is(k, "host.name"))
            host = v;
    }
    if (!level_is_error(level) && stack.n == 0)
        return 0;
    memset(c, 0, sizeof *c);
    c->ts_ms = ev->ts_ms;
    c->seen_ms = now;
    if (!host.n)
        host = (struct sl_str){b->host_name, b->host_name ? strlen(b->host_name) : 0};
    sl_copy_strn(c->host, sizeof c->host, host.p, host.n);
    sl_copy_strn(c->trace, sizeof c->trace, trace.p, trace.n);
    sl_copy_strn(c->type, sizeof c->type, type.p, type.n);
    sl_copy_strn(c->message, sizeof c->message, msg.p, msg.n);
    sl_copy_strn(c->logger, sizeof c->logger, logger.p, logger.n);
    if (stack.n)
        parse_stack(st, stack.p, stack.n, c);
    if (!c->message[0] && !c->type[0]) {
        /* an ERROR line without an exception: its own text is the explanation */
        struct sl_str m = logmsg.n ? logmsg : (struct sl_str){ev->message, ev->message_len};
        const char *p = m.p;
        struct sl_str l = m.n ? next_line(&p, m.p + m.n) : m;
        sl_copy_strn(c->message, sizeof c->message, l.p, l.n);
    }
    return 1;
}

/* ---- presentation key ------------------------------------------------------------------- */

void sl_cause_key(const struct sl_cause *c, char *out, size_t outsz)
{
    /* the root cause names the real failure (a ServletException wraps it) */
    struct sl_str cls = {c->type, strlen(c->type)}, tmp;
    if (c->root[0])
        split_exception((struct sl_str){c->root, strlen(c->root)}, &cls, &tmp);
    for (size_t i = cls.n; i > 0; i--)
        if (cls.p[i - 1] == '.') {
            cls = (struct sl_str){cls.p + i, cls.n - i};
            break;
        }
    if (!cls.n) /* no class: the start of the message */
        cls = (struct sl_str){c->message, strlen(c->message) < 60 ? strlen(c->message)
                                                                   : utf8_valid_prefix(c->message, 60)};
    int n = snprintf(out, outsz, "%.*s", (int)cls.n, cls.p);
    if (c->where[0] && n >= 0 && (size_t)n < outsz)
        snprintf(out + n, outsz - (size_t)n, " at %s", c->where);
    /* a cut in the middle of a character would be repaired into U+FFFD later: cut clean */
    out[utf8_valid_prefix(out, strlen(out))] = '\0';
}

/* ---- matching --------------------------------------------------------------------------- */

/* Distance in event time. An alert time on a whole second (nginx's $time_local has no
 * fraction) stands for that whole second. */
static int64_t time_dist(int64_t alert_ts, int64_t cause_ts)
{
    int64_t lo = alert_ts, hi = alert_ts % 1000 == 0 ? alert_ts + 999 : alert_ts;
    if (cause_ts < lo)
        return lo - cause_ts;
    if (cause_ts > hi)
        return cause_ts - hi;
    return 0;
}

/* Lower is better; -1: not a match. The same trace id is the best match (0); different trace
 * ids never match; otherwise 1 + the distance in event time, within cause_window. Callers
 * break ties by arrival: a line takes the candidate that arrived nearest to it, a candidate
 * the line that has waited longest. */
static int64_t score(const struct slack_out *st, int64_t ts, const char *trace,
                     const struct sl_cause *c)
{
    if (trace[0] && c->trace[0])
        return strcmp(trace, c->trace) == 0 ? 0 : -1;
    int64_t d = time_dist(ts, c->ts_ms);
    if (d > st->conf->cause_window_ms)
        return -1;
    /* A time without a fraction cannot say which of two candidates a few ms apart is nearer:
     * count whole seconds, and let arrival order decide within them. */
    return 1 + (ts % 1000 == 0 ? d / 1000 : d);
}

/* A score with a tie-break (0..999999, lower wins) folded in. */
static int64_t ranked(int64_t score, int64_t tie)
{
    if (tie < 0)
        tie = -tie;
    return score * 1000000 + (tie < 999999 ? tie : 999999);
}

static void how(char *out, size_t outsz, int64_t ts, const char *trace, const struct sl_cause *c)
{
    if (trace[0] && c->trace[0])
        snprintf(out, outsz, "same trace.id");
    else if (ts % 1000 == 0 && time_dist(ts, c->ts_ms) == 0)
        snprintf(out, outsz, "logged in the same second");
    else
        snprintf(out, outsz, "logged %+" PRId64 " ms from the request", c->ts_ms - ts);
}

static struct host_ring *ring_of(struct sl_cause_index *x, const char *host, int create,
                                 int64_t now)
{
    uint32_t h = sl_hash(host, strlen(host));
    struct host_ring *stale = NULL; /* an unused ring, else the least recently fed */
    for (int i = 0; i < SL_CAUSE_HOSTS; i++) {
        struct host_ring *r = &x->rings[i];
        if (r->v && r->hash == h && strcmp(r->host, host) == 0)
            return r;
        if (!stale || (!r->v && stale->v) || (r->v && stale->v && r->used_ms < stale->used_ms))
            stale = r;
    }
    if (!create)
        return NULL;
    if (!stale->v) {
        stale->v = malloc((size_t)x->cap * sizeof *stale->v);
        if (!stale->v)
            return NULL;
    }
    sl_copy_strn(stale->host, sizeof stale->host, host, strlen(host));
    stale->hash = h;
    stale->n = stale->head = 0;
    stale->used_ms = now;
    return stale;
}

static void attach_first(struct sl_group *g, const struct sl_cause *c, int64_t ts,
                         const char *trace)
{
    struct sl_cause *copy = malloc(sizeof *copy);
    if (!copy)
        return;
    *copy = *c;
    free(g->first.cause);
    g->first.cause = copy;
    how(g->first.cause_how, sizeof g->first.cause_how, ts, trace, c);
}

static void count_cause(struct sl_group *g, const struct sl_cause *c)
{
    char key[SL_CAUSE_KEY];
    sl_cause_key(c, key, sizeof key);
    sl_agg_add_cause(&g->agg, key, 1);
}

/* Waiting lines too old for any cause to still arrive are dropped (counted without one). */
static void prune(const struct slack_out *st, struct sl_group *g, int64_t now)
{
    int64_t keep = st->conf->cause_window_ms + st->cause_wait_ms + 1000;
    int o = 0;
    for (int i = 0; i < g->npend; i++)
        if (now - g->pend[i].seen_ms <= keep)
            g->pend[o++] = g->pend[i];
    g->npend = o;
}

void sl_cause_line(struct slack_out *st, struct sl_group *g, const struct sl_line *l, int first,
                   int64_t now)
{
    char host[SL_HOST_MAX], trace[SL_TRACE_MAX];
    sl_copy_strn(host, sizeof host, l->host.p, l->host.n);
    sl_copy_strn(trace, sizeof trace, l->trace.p, l->trace.n);
    struct host_ring *r = ring_of(st->causes, host, 0, now);
    struct sl_cause *best = NULL;
    int64_t best_s = INT64_MAX;
    for (long i = 0; r && i < r->n; i++) {
        struct sl_cause *c = &r->v[i];
        if (c->used)
            continue;
        /* equally near in event time: the candidate that arrived nearest to the line */
        int64_t s = score(st, l->ts_ms, trace, c);
        if (s >= 0 && (s = ranked(s, now - c->seen_ms)) < best_s) {
            best_s = s;
            best = c;
        }
    }
    if (best) {
        best->used = 1;
        if (first)
            attach_first(g, best, l->ts_ms, trace);
        else
            count_cause(g, best);
        return;
    }
    if (!g->pend && !(g->pend = malloc(SL_PEND_MAX * sizeof *g->pend)))
        return;
    prune(st, g, now);
    if (g->npend == SL_PEND_MAX) { /* the oldest waits no longer */
        memmove(g->pend, g->pend + 1, (SL_PEND_MAX - 1) * sizeof *g->pend);
        g->npend--;
    }
    struct sl_pend *p = &g->pend[g->npend++];
    p->ts_ms = l->ts_ms;
    p->seen_ms = now;
    p->first = first;
    p->hosth = sl_hash(host, strlen(host));
    memcpy(p->trace, trace, sizeof p->trace);
    if (first)
        g->first_wait = now + st->cause_wait_ms;
}

int sl_cause_add(struct slack_out *st, const struct sl_cause *c)
{
    struct host_ring *r = ring_of(st->causes, c->host, 1, c->seen_ms);
    if (!r)
        return 0;
    struct sl_cause *slot = &r->v[r->head];
    *slot = *c;
    slot->used = 0;
    r->head = (r->head + 1) % st->causes->cap;
    if (r->n < st->causes->cap)
        r->n++;
    r->used_ms = c->seen_ms;

    /* the nearest line of this host still waiting for its cause, in any group */
    uint32_t hh = sl_hash(c->host, strlen(c->host));
    struct sl_group *bg = NULL;
    int bi = -1;
    int64_t best_s = INT64_MAX;
    for (uint32_t b = 0; b < st->nbuckets; b++)
        for (struct sl_group *g = st->tab[b]; g; g = g->next) {
            if (!g->npend)
                continue;
            prune(st, g, c->seen_ms);
            for (int i = 0; i < g->npend; i++) {
                const struct sl_pend *p = &g->pend[i];
                if (p->hosth != hh)
                    continue;
                /* among lines equally near in event time the one waiting longest takes it:
                 * applications log their failures in the order they happen */
                int64_t s = score(st, p->ts_ms, p->trace, c), age = c->seen_ms - p->seen_ms;
                if (s >= 0 && (s = ranked(s, 999999 - (age < 999999 ? age : 999999))) < best_s) {
                    best_s = s;
                    bg = g;
                    bi = i;
                }
            }
        }
    if (!bg)
        return 0;
    struct sl_pend p = bg->pend[bi];
    memmove(bg->pend + bi, bg->pend + bi + 1, (size_t)(bg->npend - bi - 1) * sizeof p);
    bg->npend--;
    slot->used = 1;
    if (p.first && bg->first_pending && !bg->first.cause) {
        attach_first(bg, c, p.ts_ms, p.trace);
        bg->first_wait = 0;
        return 1;
    }
    /* the first alert went without it: the cause goes into the group's next summary */
    count_cause(bg, c);
    return 0;
}
