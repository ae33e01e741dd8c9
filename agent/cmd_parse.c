/*
 * cmd_parse.c - `logferry parse`: standard input through one input's processing (filters,
 * multiline, parser) to standard output, using the same lineproc and the same event writer
 * the running agent uses, so what it prints is exactly what the agent would ship. Lines are
 * cut and marked truncated at the input's max_line_bytes like the tailer does; the last
 * multiline record is flushed at end of input.
 *
 * `logferry parse --explain` prints instead what the input's parser is: for a layout
 * (logback_pattern, nginx_log_format, ...) the regex, each group's field and type, the time
 * format and zone, so a user can see what logferry understood.
 */
#include "agent/agent.h"
#include "agent/cmd.h"
#include "agent/base/json.h"
#include "parsers/layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parse_ctx {
    struct agent *a;
    struct event_base base;
    struct event_source src;
    int64_t now;
};

static int print_record(void *vctx, struct event_builder *eb, const char *rec, size_t len,
                        uint64_t offset, uint64_t end)
{
    struct parse_ctx *pc = vctx;
    if (!eb)
        return 0; /* filtered out */
    struct event_batch *b = batch_new(&pc->src, pc->a->host_name, 1);
    if (!b)
        return -1;
    int rc = batch_add(b, &pc->base, eb, rec, len, offset, end, pc->now);
    if (rc == 0)
        fwrite(b->ev[0].json, 1, b->ev[0].json_len, stdout);
    batch_free(b);
    return rc;
}

int cmd_parse(struct agent *a, const char *input, const char *path)
{
    struct input *in = NULL;
    for (int i = 0; i < a->ninputs; i++)
        if (strcmp(a->inputs[i].name, input) == 0)
            in = &a->inputs[i];
    if (!in) {
        fprintf(stderr, "logferry parse: no [input %s] in %s\n", input, a->conf->file);
        return 2;
    }
    struct parse_ctx pc = {.a = a};
    pc.src.input = in->name;
    pc.src.path = path;
    event_base_init(&pc.base, a->host_name, path, in->static_fields, in->nstatic);
    struct lineproc_state *st = lineproc_state_new(in->lp, path);
    struct event_builder eb;
    eb_init(&eb);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t off = 0;
    int rc = 0;
    size_t maxl = (size_t)in->c.max_line_bytes;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        uint64_t end = off + (uint64_t)n;
        size_t len = (size_t)n;
        if (len && line[len - 1] == '\n')
            len--;
        if (len && line[len - 1] == '\r')
            len--;
        unsigned flags = 0;
        if (len > maxl) {
            len = utf8_valid_prefix(line, maxl);
            flags = LINE_TRUNCATED;
        }
        pc.now = wall_ms();
        if (lineproc_feed(in->lp, st, &eb, line, len, off, end, flags, pc.now, print_record, &pc) != 0) {
            rc = 1;
            break;
        }
        off = end;
    }
    lineproc_flush(in->lp, st, &eb, print_record, &pc);
    fflush(stdout);
    free(line);
    eb_free(&eb);
    lineproc_state_free(st);
    return rc;
}

int cmd_parse_explain(struct agent *a, const char *input)
{
    for (int i = 0; i < a->conf->n; i++) {
        struct conf_section *s = &a->conf->s[i];
        if (strcmp(s->type, "input") != 0 || strcmp(s->name, input) != 0)
            continue;
        struct conf_entry *e = conf_find(s, "parser");
        const struct parser *p = e ? parser_find(e->value) : NULL;
        if (!p) {
            printf("input %s: no parser (raw lines)\n", input);
            return 0;
        }
        layout_explain(p, stdout);
        return 0;
    }
    fprintf(stderr, "logferry parse: no [input %s] in %s\n", input, a->conf->file);
    return 2;
}
