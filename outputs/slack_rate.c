/*
 * slack_rate.c - rate alerts of the Slack output (`threshold`). Instead of a first alert per
 * group, each group (group_by) keeps sliding-window counts over `window`: the lines matching
 * `when` and, for a ratio, the requests matching the threshold's `of` condition. A group
 * whose share (or count) goes over the threshold queues one "firing" notice, a reminder every
 * `repeat` while it stays over, and one "resolved" notice once it has been at or under the
 * threshold for a whole window. A ratio needs at least `min_events` requests in the window.
 *
 * The window is SL_RATE_BUCKETS buckets of window/SL_RATE_BUCKETS ms (monotonic arrival
 * time), so it slides in steps of 1/60 of the window and memory per group is fixed (about
 * 1 KiB with its key); at most max_groups groups (quiet, non-firing groups are dropped first).
 * Notices go through the queue of slack_notice.c.
 *
 * Threads: sl_rate_fold() on the output thread (send), sl_rate_due() on the sender thread;
 * every function except sl_threshold_parse() and init/free is called with slack_out.mu held.
 */
#include "agent/base/clock.h"
#include "outputs/slack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SL_RATE_BUCKETS 60

struct sl_rgroup {
    struct sl_rgroup *next;
    uint32_t hash;
    int firing;
    int64_t since_wall;  /* firing since (wall ms) */
    int64_t last_notice; /* monotonic ms of the last firing/reminder */
    int64_t below_since; /* monotonic ms it went back under while firing (0: over) */
    int64_t cur;         /* absolute number of the newest bucket */
    uint32_t num[SL_RATE_BUCKETS], den[SL_RATE_BUCKETS];
    char label[SL_KEY_MAX]; /* the group's values, \x1f-separated */
    char key[];
};

struct sl_rate {
    struct sl_rgroup **tab;
    uint32_t nbuckets;
    long ngroups;
    int64_t bucket_ms;
};

int sl_threshold_parse(const char *s, struct sl_threshold *t, char *err, size_t errsz)
{
    memset(t, 0, sizeof *t);
    while (*s == ' ')
        s++;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0) {
        snprintf(err, errsz, "threshold: expected 'PERCENT%% of CONDITION' or a count, not '%s'",
                 s);
        return -1;
    }
    while (*end == ' ')
        end++;
    if (*end == '\0') {
        if (v < 1 || v != (double)(uint64_t)v) {
            snprintf(err, errsz, "threshold: a count must be a whole number of at least 1");
            return -1;
        }
        t->count = (uint64_t)v;
        return 0;
    }
    if (*end != '%' || v <= 0 || v >= 100) {
        snprintf(err, errsz, "threshold: expected 'PERCENT%% of CONDITION' with 0 < PERCENT < "
                 "100, or a count");
        return -1;
    }
    end++;
    while (*end == ' ')
        end++;
    if (strncmp(end, "of ", 3) != 0) {
        snprintf(err, errsz, "threshold: expected 'of CONDITION' after '%%' (e.g. '2%% of "
                 "http.response.status_code >= 100')");
        return -1;
    }
    char werr[200];
    int pos = 0;
    t->of = when_compile(end + 3, werr, sizeof werr, &pos);
    if (!t->of) {
        snprintf(err, errsz, "threshold: condition after 'of': %s at column %d", werr, pos);
        return -1;
    }
    t->ratio = 1;
    t->pct = v;
    return 0;
}

int sl_rate_init(struct slack_out *st)
{
    if (!st->conf->threshold || !*st->conf->threshold)
        return 0;
    struct sl_rate *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    uint32_t nb = 64;
    while (nb < (uint32_t)st->conf->max_groups * 2 && nb < (1u << 20))
        nb *= 2;
    r->tab = calloc(nb, sizeof *r->tab);
    if (!r->tab) {
        free(r);
        return -1;
    }
    r->nbuckets = nb;
    r->bucket_ms = st->conf->window_ms / SL_RATE_BUCKETS;
    if (r->bucket_ms < 1)
        r->bucket_ms = 1;
    st->rate = r;
    return 0;
}

void sl_rate_free(struct slack_out *st)
{
    struct sl_rate *r = st->rate;
    if (!r)
        return;
    for (uint32_t i = 0; i < r->nbuckets; i++)
        for (struct sl_rgroup *g = r->tab[i], *nx; g; g = nx) {
            nx = g->next;
            free(g);
        }
    free(r->tab);
    free(r);
    st->rate = NULL;
}

/* Moves g's window to now: buckets that fell out are emptied. */
static void slide(const struct sl_rate *r, struct sl_rgroup *g, int64_t now)
{
    int64_t b = now / r->bucket_ms;
    if (b <= g->cur)
        return;
    int64_t steps = b - g->cur;
    for (int64_t i = 1; i <= steps && i <= SL_RATE_BUCKETS; i++) {
        int k = (int)((g->cur + i) % SL_RATE_BUCKETS);
        g->num[k] = g->den[k] = 0;
    }
    g->cur = b;
}

static void sums(const struct sl_rgroup *g, uint64_t *num, uint64_t *den)
{
    *num = *den = 0;
    for (int i = 0; i < SL_RATE_BUCKETS; i++) {
        *num += g->num[i];
        *den += g->den[i];
    }
}

static int over(const struct slack_out *st, uint64_t num, uint64_t den)
{
    const struct sl_threshold *t = &st->thr;
    if (!t->ratio)
        return num >= t->count;
    return den >= (uint64_t)st->conf->min_events && den > 0 &&
           (double)num * 100.0 > t->pct * (double)den;
}

static int queue(struct slack_out *st, const struct sl_rgroup *g, enum sl_kind kind,
                 uint64_t num, uint64_t den)
{
    struct sl_notice n;
    memset(&n, 0, sizeof n);
    n.kind = kind;
    n.num = num;
    n.den = den;
    n.window_s = (st->conf->window_ms + 999) / 1000;
    n.since_wall_ms = g->since_wall;
    memcpy(n.label, g->label, sizeof n.label);
    sl_notice_push(st, &n);
    return 1;
}

/* The state machine of one group at time now; 1 when a notice was queued. */
static int evaluate(struct slack_out *st, struct sl_rgroup *g, int64_t now)
{
    uint64_t num, den;
    slide(st->rate, g, now);
    sums(g, &num, &den);
    int is_over = over(st, num, den);
    if (!g->firing && is_over) {
        g->firing = 1;
        g->since_wall = wall_ms();
        g->last_notice = now;
        g->below_since = 0;
        return queue(st, g, SL_FIRING, num, den);
    }
    if (g->firing && is_over) {
        g->below_since = 0;
        if (now - g->last_notice >= st->conf->repeat_ms) {
            g->last_notice = now;
            return queue(st, g, SL_REMINDER, num, den);
        }
        return 0;
    }
    if (g->firing) {
        if (!g->below_since)
            g->below_since = now;
        if (now - g->below_since >= st->conf->window_ms) {
            g->firing = 0;
            g->below_since = 0;
            return queue(st, g, SL_RESOLVED, num, den);
        }
    }
    return 0;
}

static int quiet(const struct sl_rgroup *g)
{
    uint64_t num, den;
    sums(g, &num, &den);
    return !g->firing && num == 0 && den == 0;
}

static void sweep(struct sl_rate *r, int64_t now)
{
    for (uint32_t i = 0; i < r->nbuckets; i++) {
        struct sl_rgroup **pp = &r->tab[i];
        while (*pp) {
            struct sl_rgroup *g = *pp;
            slide(r, g, now);
            if (quiet(g)) {
                *pp = g->next;
                free(g);
                r->ngroups--;
            } else {
                pp = &g->next;
            }
        }
    }
}

int sl_rate_fold(struct slack_out *st, const struct sl_line *l, int num, int den, int64_t now)
{
    struct sl_rate *r = st->rate;
    uint32_t h = sl_hash(l->key, l->keylen);
    struct sl_rgroup **bucket = &r->tab[h & (r->nbuckets - 1)], *g = *bucket;
    while (g && !(g->hash == h && strlen(g->key) == l->keylen &&
                  memcmp(g->key, l->key, l->keylen) == 0))
        g = g->next;
    if (!g) {
        if (r->ngroups >= st->conf->max_groups)
            sweep(r, now);
        if (r->ngroups >= st->conf->max_groups)
            return 0; /* every group is busy: this one is not watched (documented) */
        g = calloc(1, sizeof *g + l->keylen + 1);
        if (!g)
            return 0;
        memcpy(g->key, l->key, l->keylen);
        g->hash = h;
        g->cur = now / r->bucket_ms;
        /* the label: the key without its last separator (messages show the \x1f between
         * values as a space, the webhook splits on it) */
        size_t o = l->keylen < sizeof g->label ? l->keylen : sizeof g->label - 1;
        memcpy(g->label, l->key, o);
        while (o > 0 && g->label[o - 1] == '\x1f')
            o--;
        g->label[o] = '\0';
        g->next = *bucket;
        *bucket = g;
        r->ngroups++;
    }
    slide(r, g, now);
    int k = (int)(g->cur % SL_RATE_BUCKETS);
    g->num[k] += num != 0;
    g->den[k] += den != 0;
    return evaluate(st, g, now);
}

int64_t sl_rate_due(struct slack_out *st, int64_t now)
{
    struct sl_rate *r = st->rate;
    if (!r)
        return INT64_MAX;
    if (st->draining) /* shutdown: only what is queued counts */
        return INT64_MAX;
    int firing = 0;
    for (uint32_t i = 0; i < r->nbuckets; i++)
        for (struct sl_rgroup *g = r->tab[i]; g; g = g->next)
            if (g->firing) {
                evaluate(st, g, now);
                firing |= g->firing;
            }
    /* while a group fires, look again each time the window slides a step */
    return firing ? (now / r->bucket_ms + 1) * r->bucket_ms : INT64_MAX;
}
