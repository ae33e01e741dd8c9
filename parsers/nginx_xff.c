/*
 * nginx_xff.c - the parser type of an nginx log_format layout that logs
 * $http_x_forwarded_for: the regex type (regex.c) for every other field, then Filebeat's
 * rule (xff.c) over the X-Forwarded-For list followed by the remote address, as Filebeat's
 * nginx module reads that list in front of $remote_addr: source.address is the first
 * address that is not private (else the first), source.ip the same when it is an IP
 * address, nginx.access.remote_ip_list every address as an array. An absent header ("-")
 * leaves the remote address alone.
 *
 * Threads: attached at configuration time (main thread); run on the tail thread with its
 * own struct parse_run.
 */
#include <stdlib.h>
#include <string.h>

#include "parsers/layout.h"
#include "parsers/xff.h"

/* The capture groups, from the layout (0: the layout has none). */
struct nginx_xff {
    uint32_t xff, addr[2];
};

int nginx_xff_attach(struct parser *p, const struct layout_build *b, char *err, size_t errsz)
{
    struct nginx_xff *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    x->xff = b->xff_group;
    x->addr[0] = b->addr_group[0];
    x->addr[1] = b->addr_group[1];
    p->type = &parser_type_nginx_xff;
    p->priv = x;
    xff_keys_intern();
    return 0;
}

static void split_group(const PCRE2_SIZE *ov, uint32_t npairs, uint32_t g, const char *rec,
                        struct xff_list *l)
{
    if (g && g < npairs && ov[2 * g] != PCRE2_UNSET)
        xff_split(rec + ov[2 * g], ov[2 * g + 1] - ov[2 * g], l);
}

static int nginx_xff_run(const struct parser *p, struct parse_run *pr, struct event_builder *eb,
                         const char *rec, size_t len)
{
    if (regex_run(p, pr, eb, rec, len) != 0)
        return 1;
    const struct nginx_xff *x = p->priv;
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(pr->md);
    uint32_t npairs = pcre2_get_ovector_count(pr->md);
    struct xff_list l;
    l.n = 0;
    split_group(ov, npairs, x->xff, rec, &l); /* the list first, as Filebeat reads it */
    split_group(ov, npairs, x->addr[0], rec, &l);
    split_group(ov, npairs, x->addr[1], rec, &l);
    xff_add(eb, &l);
    return 0;
}

static void nginx_xff_free(struct parser *p)
{
    free(p->priv);
    p->priv = NULL;
}

const struct parser_type parser_type_nginx_xff = {
    .name = NULL, /* made by nginx_log_format layouts only */
    .keys_intern = xff_keys_intern,
    .run = nginx_xff_run,
    .free = nginx_xff_free,
};
