/*
 * status_series.c - the last hour, per minute, for the status page's charts (status_feed.h):
 * events per input, 5xx per alert group, alerts sent. Fed by the Slack/webhook output (the
 * alerting output sees every batch of every input); read by the HTTP thread through
 * lf_status_series(). One mutex; a few additions per batch.
 *
 * Memory is fixed: SERIES_MAX series of 60 one-minute buckets. A series not fed for an hour
 * is free for a new name; when all are in use, a new name of a kind is counted in that kind's
 * "(other)" series, so totals stay right.
 */
#include "agent/base/status_feed.h"
#include "agent/base/clock.h"
#include "agent/base/json.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SERIES_MAX 48
#define MINUTES 60

static pthread_mutex_t series_mu = PTHREAD_MUTEX_INITIALIZER;
static struct series {
    char kind[16];
    char name[128];
    int64_t last_min; /* the minute of v[last_min % 60]; 0: unused */
    uint64_t v[MINUTES];
} S[SERIES_MAX];

static int64_t minute_now(void)
{
    return wall_ms() / 60000;
}

/* Empties the buckets of the minutes between the series' last one and now. */
static void advance(struct series *s, int64_t now)
{
    if (now <= s->last_min)
        return;
    for (int64_t m = s->last_min + 1; m <= now && m - s->last_min <= MINUTES; m++)
        s->v[m % MINUTES] = 0;
    s->last_min = now;
}

static struct series *find(const char *kind, const char *name, size_t n, int64_t now)
{
    struct series *free_slot = NULL;
    for (int i = 0; i < SERIES_MAX; i++) {
        struct series *s = &S[i];
        if (s->last_min && strcmp(s->kind, kind) == 0 && strncmp(s->name, name, n) == 0 &&
            s->name[n] == '\0')
            return s;
        if (!free_slot && (!s->last_min || now - s->last_min >= MINUTES))
            free_slot = s;
    }
    if (!free_slot)
        return NULL;
    memset(free_slot, 0, sizeof *free_slot);
    snprintf(free_slot->kind, sizeof free_slot->kind, "%s", kind);
    /* names may be log content (a group's path): invalid UTF-8 becomes '?' */
    size_t o = 0, i = 0;
    while (i < n) {
        size_t ok = utf8_valid_prefix(name + i, n - i);
        memcpy(free_slot->name + o, name + i, ok);
        o += ok;
        i += ok;
        if (i < n) {
            free_slot->name[o++] = '?';
            i++;
        }
    }
    free_slot->name[o] = '\0';
    free_slot->last_min = now;
    return free_slot;
}

void lf_status_series_add(const char *kind, const char *name, size_t namelen, uint64_t n)
{
    if (namelen >= sizeof S[0].name)
        namelen = sizeof S[0].name - 1;
    int64_t now = minute_now();
    pthread_mutex_lock(&series_mu);
    struct series *s = find(kind, name, namelen, now);
    if (!s)
        s = find(kind, "(other)", 7, now);
    if (s) {
        advance(s, now);
        s->v[now % MINUTES] += n;
    }
    pthread_mutex_unlock(&series_mu);
}

json_t *lf_status_series(void)
{
    json_t *arr = json_array();
    int64_t now = minute_now();
    pthread_mutex_lock(&series_mu);
    for (int i = 0; i < SERIES_MAX; i++) {
        struct series *s = &S[i];
        if (!s->last_min || now - s->last_min >= MINUTES)
            continue;
        advance(s, now);
        json_t *per = json_array();
        for (int64_t m = now - MINUTES + 1; m <= now; m++) /* oldest first */
            json_array_append_new(per, json_integer((json_int_t)s->v[m % MINUTES]));
        json_array_append_new(arr, json_pack("{s:s, s:s, s:o}", "kind", s->kind, "name",
                                             s->name, "per_minute", per));
    }
    pthread_mutex_unlock(&series_mu);
    return arr;
}
