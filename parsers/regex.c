/*
 * regex.c - the regex parser type: one PCRE2 pattern whose numbered captures fill a table of
 * fields (key, type) and the event time. What a [parser] section's `pattern =` and every
 * layout (layout_*.c) compile to; parser_conf.c builds the instances.
 *
 * Threads: run on the tail thread with its own struct parse_run; instances are immutable.
 */
#include "parsers/parser.h"

int regex_run(const struct parser *p, struct parse_run *pr, struct event_builder *eb,
              const char *rec, size_t len)
{
    int rc = pcre2_match(p->re, (PCRE2_SPTR)rec, len, 0, 0, pr->md, parser_mctx());
    if (rc <= 0)
        return 1;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(pr->md);
    uint32_t npairs = pcre2_get_ovector_count(pr->md);
    for (int i = 0; i < p->nfields; i++) {
        uint32_t g = p->fields[i].group;
        if (g >= npairs || ov[2 * g] == PCRE2_UNSET)
            continue;
        const char *s = rec + ov[2 * g];
        size_t n = ov[2 * g + 1] - ov[2 * g];
        if ((int)g == p->time_group) {
            int64_t ms;
            int r = p->time_format ? tp_parse(p->time_format, s, n, pr->tz, &ms)
                                   : tp_parse_iso(s, n, pr->tz, &ms);
            if (r == 0) {
                eb->ts_ms = ms;
                continue;
            }
            eb->flags |= EV_PARSE_FAILURE; /* kept as a string under its name */
        }
        conv_add_typed(eb, p->fields[i].key, p->fields[i].type, s, n);
    }
    return 0;
}

const struct parser_type parser_type_regex = {
    .name = NULL, /* made by [parser] sections only */
    .run = regex_run,
};
