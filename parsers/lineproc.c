/*
 * lineproc.c - the raw path: every line becomes one record, no parser, no filters.
 * (Issue 3 replaces this with parsers, multiline and filters behind the same interface.)
 */
#include "parsers/lineproc.h"

#include <stdlib.h>
#include <string.h>

struct lineproc {
    int unused;
};
struct lineproc_state {
    int unused;
};

int parsers_configure(struct conf *c, struct conf_errs *errs)
{
    int n = 0;
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->s[i].type, "parser") == 0) {
            conf_err(errs, c->file, c->s[i].line, "[parser] sections are not supported yet");
            n++;
        }
    return n;
}

void parsers_free(void) {}

struct lineproc *lineproc_new(struct conf *c, struct conf_section *input, struct conf_errs *errs)
{
    (void)c;
    (void)input;
    (void)errs;
    return calloc(1, sizeof(struct lineproc));
}

void lineproc_free(struct lineproc *lp) { free(lp); }

const char *lineproc_describe(const struct lineproc *lp)
{
    (void)lp;
    return "raw lines";
}

struct lineproc_state *lineproc_state_new(const struct lineproc *lp)
{
    (void)lp;
    return calloc(1, sizeof(struct lineproc_state));
}

void lineproc_state_free(struct lineproc_state *st) { free(st); }

int lineproc_feed(const struct lineproc *lp, struct lineproc_state *st, struct event_builder *eb,
                  const char *line, size_t len, uint64_t offset, uint64_t end, unsigned line_flags,
                  int64_t now_ms, lineproc_out out, void *ctx)
{
    (void)lp;
    (void)st;
    (void)now_ms;
    eb_reset(eb);
    if (line_flags & LINE_TRUNCATED)
        eb->flags |= EV_TRUNCATED;
    return out(ctx, eb, line, len, offset, end);
}

int lineproc_flush(const struct lineproc *lp, struct lineproc_state *st, struct event_builder *eb,
                   lineproc_out out, void *ctx)
{
    (void)lp; (void)st; (void)eb; (void)out; (void)ctx;
    return 0;
}

int64_t lineproc_deadline(const struct lineproc_state *st)
{
    (void)st;
    return 0;
}

uint64_t lineproc_pending_offset(const struct lineproc_state *st)
{
    (void)st;
    return UINT64_MAX;
}
