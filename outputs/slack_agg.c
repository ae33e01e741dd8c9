/*
 * slack_agg.c - the Slack output's aggregation state: a bounded hash table of groups (one per
 * distinct group_by value), each with a pending first alert and the lines folded during its
 * window; the overflow group that takes lines once the table is full; the backlog of lines
 * whose message failed; and the choice of what the next message covers.
 *
 * Threads: sl_fold() runs on the output thread (send), sl_next_due()/sl_take()/sl_fold_back()
 * on the sender thread; every function here is called with slack_out.mu held. Memory is
 * bounded: at most max_groups groups, each with fixed-size histograms and one line capped at
 * max_line_chars; histograms keep a few entries exactly and count the rest as "other", while
 * the count itself is always exact.
 */
#include "agent/base/clock.h"
#include "outputs/slack.h"
#include "agent/base/json.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* When more groups than this are due at once, they go out as one combined summary. */
#define SL_SINGLE_MAX 3

/* Copies a length-delimited value into a fixed array: cut on a character boundary, NULs
 * (which would cut it silently later) shown as spaces. */
void sl_copy_strn(char *dst, size_t dstsz, const char *src, size_t n)
{
    if (!src || n == 0) {
        dst[0] = '\0';
        return;
    }
    if (n >= dstsz)
        n = utf8_valid_prefix(src, dstsz - 1);
    memcpy(dst, src, n);
    for (size_t i = 0; i < n; i++)
        if (dst[i] == '\0')
            dst[i] = ' ';
    dst[n] = '\0';
}

static struct sl_str cstr(const char *s)
{
    return (struct sl_str){s, s ? strlen(s) : 0};
}

void sl_agg_init(struct sl_agg *a)
{
    a->count = 0;
    a->first_ms = a->last_ms = 0;
    a->nst = a->npaths = a->nhosts = 0;
    a->st_other = a->paths_other = 0;
    a->hosts_more = 0;
    a->ncauses = 0;
    a->causes_other = 0;
}

void sl_agg_add_cause(struct sl_agg *a, const char *key, uint64_t n)
{
    for (int i = 0; i < a->ncauses; i++)
        if (strcmp(a->causes[i].key, key) == 0) {
            a->causes[i].n += n;
            return;
        }
    if (a->ncauses < SL_CAUSE_SLOTS) {
        sl_copy_strn(a->causes[a->ncauses].key, SL_CAUSE_KEY, key, strlen(key));
        a->causes[a->ncauses++].n = n;
    } else {
        a->causes_other += n;
    }
}

static void add_status(struct sl_agg *a, long status, uint64_t n)
{
    for (int i = 0; i < a->nst; i++)
        if (a->st[i].status == status) {
            a->st[i].n += n;
            return;
        }
    if (a->nst < SL_STATUS_SLOTS) {
        a->st[a->nst].status = status;
        a->st[a->nst++].n = n;
    } else {
        a->st_other += n;
    }
}

/* Stored paths may have been cut: compare what fits. */
static int same_str(const char *stored, size_t cap, struct sl_str v)
{
    size_t n = v.n < cap - 1 ? v.n : utf8_valid_prefix(v.p, cap - 1);
    return strlen(stored) == n && (n == 0 || memcmp(stored, v.p, n) == 0);
}

static void add_path(struct sl_agg *a, struct sl_str path, uint64_t n)
{
    for (int i = 0; i < a->npaths; i++)
        if (same_str(a->paths[i].path, SL_PATH_MAX, path)) {
            a->paths[i].n += n;
            return;
        }
    if (a->npaths < SL_PATH_SLOTS) {
        sl_copy_strn(a->paths[a->npaths].path, SL_PATH_MAX, path.p, path.n);
        a->paths[a->npaths++].n = n;
    } else {
        a->paths_other += n;
    }
}

static void add_host(struct sl_agg *a, struct sl_str host)
{
    for (int i = 0; i < a->nhosts; i++)
        if (same_str(a->hosts[i], SL_HOST_MAX, host))
            return;
    if (a->nhosts < SL_HOST_SLOTS)
        sl_copy_strn(a->hosts[a->nhosts++], SL_HOST_MAX, host.p, host.n);
    else
        a->hosts_more = 1;
}

void sl_agg_add(struct sl_agg *a, int64_t ts_ms, long status, const char *path, const char *host,
                uint64_t n)
{
    sl_agg_addn(a, ts_ms, status, cstr(path), cstr(host), n);
}

void sl_agg_addn(struct sl_agg *a, int64_t ts_ms, long status, struct sl_str path,
                 struct sl_str host, uint64_t n)
{
    if (n == 0)
        return;
    if (a->count == 0 || ts_ms < a->first_ms)
        a->first_ms = ts_ms;
    if (a->count == 0 || ts_ms > a->last_ms)
        a->last_ms = ts_ms;
    a->count += n;
    if (status >= 0)
        add_status(a, status, n);
    if (path.n)
        add_path(a, path, n);
    if (host.n)
        add_host(a, host);
}

void sl_agg_merge(struct sl_agg *dst, const struct sl_agg *src)
{
    if (src->count == 0 && src->ncauses == 0 && src->causes_other == 0)
        return;
    if (src->count > 0 && (dst->count == 0 || src->first_ms < dst->first_ms))
        dst->first_ms = src->first_ms;
    if (src->count > 0 && (dst->count == 0 || src->last_ms > dst->last_ms))
        dst->last_ms = src->last_ms;
    dst->count += src->count;
    for (int i = 0; i < src->nst; i++)
        add_status(dst, src->st[i].status, src->st[i].n);
    if (src->st_other) {
        /* statuses not tracked exactly stay "other" */
        dst->st_other += src->st_other;
    }
    for (int i = 0; i < src->npaths; i++)
        add_path(dst, cstr(src->paths[i].path), src->paths[i].n);
    dst->paths_other += src->paths_other;
    for (int i = 0; i < src->nhosts; i++)
        add_host(dst, cstr(src->hosts[i]));
    dst->hosts_more |= src->hosts_more;
    for (int i = 0; i < src->ncauses; i++)
        sl_agg_add_cause(dst, src->causes[i].key, src->causes[i].n);
    dst->causes_other += src->causes_other;
}

void sl_sample_free(struct sl_sample *s)
{
    free(s->line);
    s->line = NULL;
    s->line_len = 0;
    free(s->cause);
    s->cause = NULL;
}

uint32_t sl_hash(const char *k, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 16777619u;
    }
    return h;
}

int sl_groups_init(struct slack_out *st)
{
    uint32_t nb = 64;
    while (nb < (uint32_t)st->conf->max_groups * 2 && nb < (1u << 20))
        nb *= 2;
    st->tab = calloc(nb, sizeof *st->tab);
    if (!st->tab)
        return -1;
    st->nbuckets = nb;
    sl_agg_init(&st->backlog);
    return 0;
}

static void group_free(struct sl_group *g)
{
    sl_sample_free(&g->first);
    free(g->pend);
    free(g);
}

void sl_groups_free(struct slack_out *st)
{
    for (uint32_t i = 0; st->tab && i < st->nbuckets; i++) {
        struct sl_group *g = st->tab[i];
        while (g) {
            struct sl_group *nx = g->next;
            group_free(g);
            g = nx;
        }
    }
    free(st->tab);
    st->tab = NULL;
    if (st->overflow)
        group_free(st->overflow);
    st->overflow = NULL;
    sl_sample_free(&st->backlog_sample);
    st->ngroups = 0;
}

static int group_idle(const struct sl_group *g, int64_t now)
{
    return !g->first_pending && g->agg.count == 0 && now >= g->window_end;
}

/* Drops groups whose window ended with nothing left to say. */
static void sweep(struct slack_out *st, int64_t now)
{
    for (uint32_t i = 0; i < st->nbuckets; i++) {
        struct sl_group **pp = &st->tab[i];
        while (*pp) {
            struct sl_group *g = *pp;
            if (group_idle(g, now)) {
                *pp = g->next;
                group_free(g);
                st->ngroups--;
            } else {
                pp = &g->next;
            }
        }
    }
}

static void start_first(struct slack_out *st, struct sl_group *g, struct sl_line *l, int64_t now)
{
    struct sl_sample *s = &g->first;
    sl_sample_free(s);
    memset(s, 0, sizeof *s);
    s->ts_ms = l->ts_ms;
    s->status = l->status;
    sl_copy_strn(s->host, sizeof s->host, l->host.p, l->host.n);
    sl_copy_strn(s->service, sizeof s->service, l->service.p, l->service.n);
    sl_copy_strn(s->file, sizeof s->file, l->file.p, l->file.n);
    sl_copy_strn(s->method, sizeof s->method, l->method.p, l->method.n);
    sl_copy_strn(s->path, sizeof s->path, l->path.p, l->path.n);
    sl_copy_strn(s->client, sizeof s->client, l->client.p, l->client.n);
    sl_copy_strn(s->agent, sizeof s->agent, l->agent.p, l->agent.n);
    /* cut to max_line_chars characters without splitting one */
    size_t max = (size_t)st->conf->max_line_chars, chars = 0, n = 0;
    while (n < l->raw.n && chars < max) {
        n++;
        while (n < l->raw.n && ((unsigned char)l->raw.p[n] & 0xC0) == 0x80)
            n++;
        chars++;
    }
    s->line = malloc(n + 1);
    if (s->line) {
        if (n)
            memcpy(s->line, l->raw.p, n);
        s->line[n] = '\0';
        s->line_len = n;
        s->line_cut = n < l->raw.n;
    }
    g->first_pending = 1;
    g->first_wait = 0;
    g->window_end = now + st->conf->window_ms;
}

int sl_fold(struct slack_out *st, struct sl_line *l, int64_t now)
{
    uint32_t h = sl_hash(l->key, l->keylen);
    struct sl_group **bucket = &st->tab[h & (st->nbuckets - 1)];
    struct sl_group *g = *bucket;
    while (g && !(g->hash == h && strlen(g->key) == l->keylen &&
                  memcmp(g->key, l->key, l->keylen) == 0))
        g = g->next;
    st->undelivered++;
    if (g && group_idle(g, now)) {
        start_first(st, g, l, now);
        if (st->causes)
            sl_cause_line(st, g, l, 1, now);
        return 1;
    }
    if (g) {
        int new_deadline = g->agg.count == 0; /* the sender must learn this window's end */
        sl_agg_addn(&g->agg, l->ts_ms, l->status, l->path, l->host, 1);
        if (st->causes)
            sl_cause_line(st, g, l, 0, now);
        METRIC_ADD(st->env->m->alerts_folded, 1);
        return new_deadline ? 2 : 0;
    }
    if (st->ngroups >= st->conf->max_groups)
        sweep(st, now);
    if (st->ngroups < st->conf->max_groups)
        g = calloc(1, sizeof *g + l->keylen + 1);
    if (g) {
        memcpy(g->key, l->key, l->keylen);
        g->key[l->keylen] = '\0';
        g->hash = h;
        sl_agg_init(&g->agg);
        g->next = *bucket;
        *bucket = g;
        st->ngroups++;
        start_first(st, g, l, now);
        if (st->causes)
            sl_cause_line(st, g, l, 1, now);
        return 1;
    }
    /* table full (or out of memory): the line still counts, in the overflow group */
    if (!st->overflow) {
        st->overflow = calloc(1, sizeof *st->overflow + 1);
        if (st->overflow) {
            st->overflow->overflow = 1;
            sl_agg_init(&st->overflow->agg);
        }
    }
    struct sl_agg *a = st->overflow ? &st->overflow->agg : &st->backlog;
    int new_deadline = a->count == 0;
    if (st->overflow && a->count == 0)
        st->overflow->window_end = now + st->conf->window_ms;
    sl_agg_addn(a, l->ts_ms, l->status, l->path, l->host, 1);
    METRIC_ADD(st->env->m->alerts_folded, 1);
    return new_deadline ? 2 : 0;
}

static int64_t group_due(const struct slack_out *st, const struct sl_group *g)
{
    if (g->first_pending)
        return st->draining ? 0 : g->first_wait; /* waiting for its cause, or now */
    if (g->agg.count == 0)
        return INT64_MAX;
    return st->draining ? 0 : g->window_end;
}

int64_t sl_next_due(struct slack_out *st, int64_t now)
{
    if (st->backlog.count > 0)
        return now;
    if (st->nq_n)
        return now;
    int64_t due = sl_rate_due(st, now), ds = sl_silence_due(st, now);
    if (st->nq_n)
        return now;
    if (ds < due)
        due = ds;
    for (uint32_t i = 0; i < st->nbuckets; i++)
        for (struct sl_group *g = st->tab[i]; g; g = g->next) {
            int64_t d = group_due(st, g);
            if (d < due)
                due = d;
        }
    if (st->overflow) {
        int64_t d = group_due(st, st->overflow);
        if (d < due)
            due = d;
    }
    return due;
}

static void move_sample(struct sl_msg *m, struct sl_sample *s)
{
    if (!m->has_sample) {
        m->sample = *s;
        m->has_sample = 1;
    } else {
        sl_sample_free(s);
    }
    s->line = NULL;
    s->line_len = 0;
    s->cause = NULL;
}

static void take_group(struct slack_out *st, struct sl_group *g, int64_t now, struct sl_msg *m)
{
    if (m->ngroups == 0)
        sl_copy_strn(m->group, sizeof m->group, g->key, strlen(g->key));
    else
        m->group[0] = '\0';
    int window_over = st->draining || now >= g->window_end;
    int took_first = g->first_pending;
    if (g->first_pending) {
        sl_agg_add(&m->agg, g->first.ts_ms, g->first.status, g->first.path, g->first.host, 1);
        if (g->first.cause) {
            char key[SL_CAUSE_KEY];
            sl_cause_key(g->first.cause, key, sizeof key);
            sl_agg_add_cause(&m->agg, key, 1);
        }
        move_sample(m, &g->first);
        g->first_pending = 0;
    }
    /* A first alert delayed by the pace takes the lines that came meanwhile; one that waited
     * for its cause stays a first alert (with its cause), and they go to the summary. */
    if (g->agg.count > 0 && ((took_first && !st->causes) || window_over)) {
        sl_agg_merge(&m->agg, &g->agg);
        sl_agg_init(&g->agg);
        if (window_over && !took_first)
            g->window_end = now + st->conf->window_ms; /* the flood goes on: next window */
    }
    m->ngroups++;
}

int sl_take(struct slack_out *st, int64_t now, struct sl_msg *m)
{
    if (sl_notice_take(st, m))
        return 1;
    memset(m, 0, sizeof *m);
    sl_agg_init(&m->agg);
    m->window_s = (st->conf->window_ms + 999) / 1000;
    m->group_by = &st->conf->group_by;
    m->kibana_url = st->conf->kibana_url;
    m->kibana_view = st->conf->kibana_data_view;
    int ndue = 0;
    struct sl_group *best = NULL;
    int64_t best_key = INT64_MAX;
    for (uint32_t i = 0; i < st->nbuckets; i++)
        for (struct sl_group *g = st->tab[i]; g; g = g->next) {
            int64_t d = group_due(st, g);
            if (d > now)
                continue;
            ndue++;
            /* first alerts before summaries, older before newer */
            int64_t k = g->first_pending ? g->window_end - INT64_MAX / 2 : g->window_end;
            if (k < best_key) {
                best_key = k;
                best = g;
            }
        }
    int overflow_due = st->overflow && group_due(st, st->overflow) <= now;
    int combine = st->backlog.count > 0 || overflow_due || ndue > SL_SINGLE_MAX;
    if (!combine && best) {
        take_group(st, best, now, m);
    } else if (combine) {
        for (uint32_t i = 0; i < st->nbuckets; i++)
            for (struct sl_group *g = st->tab[i]; g; g = g->next)
                if (group_due(st, g) <= now)
                    take_group(st, g, now, m);
        if (overflow_due) {
            sl_agg_merge(&m->agg, &st->overflow->agg);
            sl_agg_init(&st->overflow->agg);
            m->ngroups++;
        }
        if (st->backlog.count > 0) {
            sl_agg_merge(&m->agg, &st->backlog);
            sl_agg_init(&st->backlog);
            if (st->backlog_has_sample)
                move_sample(m, &st->backlog_sample);
            st->backlog_has_sample = 0;
            m->ngroups++;
        }
    }
    if (st->ngroups > st->conf->max_groups / 2)
        sweep(st, now);
    if (m->agg.count == 0) {
        if (m->has_sample)
            sl_sample_free(&m->sample);
        m->has_sample = 0;
        return 0;
    }
    /* a sample is shown as "the" line only when the message covers that one line */
    return 1;
}

void sl_fold_back(struct slack_out *st, struct sl_msg *m, int keep_sample)
{
    if (m->kind != SL_ALERT) {
        sl_notice_fold_back(st, m);
        return;
    }
    sl_agg_merge(&st->backlog, &m->agg);
    if (m->has_sample && keep_sample && !st->backlog_has_sample) {
        st->backlog_sample = m->sample;
        st->backlog_has_sample = 1;
    } else if (m->has_sample) {
        sl_sample_free(&m->sample);
    }
    m->has_sample = 0;
    m->sample.line = NULL;
    m->sample.cause = NULL;
}
