/*
 * slack.h - private to the Slack output (outputs/slack*.c): configuration, the aggregation
 * state shared by the output thread and the sender thread, and the message model.
 *
 *   slack.c       descriptor, config table, check/init/send/flush/destroy; send() folds
 *                 matching events into groups (output thread)
 *   slack_agg.c   groups, per-window aggregates, choosing what the next message covers
 *                 (output thread and sender thread, under slack_out.mu)
 *   slack_msg.c   one message as fallback text + Block Kit JSON, with Slack escaping and
 *                 size limits (sender thread; pure functions)
 *   slack_send.c  the sender thread: pacing, libcurl POST on a persistent connection, 429 /
 *                 5xx / 4xx handling, folding undelivered alerts back (sender thread)
 *
 * The counting invariant: every matching line is added to exactly one aggregate (a group's
 * first-alert sample, a group's window aggregate, the overflow group or the backlog); a
 * message takes the lines it covers out of those, and a message that fails goes back into the
 * backlog. So the N× of delivered messages plus `undelivered` always equals the lines matched.
 */
#ifndef LF_OUT_SLACK_H
#define LF_OUT_SLACK_H

#include <pthread.h>
#include <stdint.h>

#include "agent/buf.h"
#include "outputs/output.h"

struct slack_conf {
    const char *webhook_url; /* NULL or "": print alerts to stderr */
    long window_ms;
    struct conf_list group_by;
    long max_line_chars;
    long connect_timeout_ms;
    long timeout_ms;
    long min_interval_ms;
    long max_groups;
};

#define SL_DEFAULT_WHEN "http.response.status_code >= 500"

#define SL_STATUS_SLOTS 8
#define SL_PATH_SLOTS 8
#define SL_HOST_SLOTS 4
#define SL_PATH_MAX 200
#define SL_HOST_MAX 128
#define SL_KEY_MAX 512
#define SL_MAX_LINE_CHARS 2800 /* keeps the code block section under 3,000 characters */

struct sl_str {
    const char *p;
    size_t n;
};

/* One line's details, shown in a first alert. Strings are NUL-terminated raw log content
 * (unescaped, possibly cut); `line` is malloc'd (NULL when the sample is empty). */
struct sl_sample {
    int64_t ts_ms;
    long status; /* -1: no status field */
    char host[SL_HOST_MAX];
    char service[SL_HOST_MAX];
    char file[256];
    char method[32];
    char path[SL_PATH_MAX];
    char client[64];
    char agent[256]; /* user_agent.original */
    char *line;
    size_t line_len;
    int line_cut; /* the raw line was longer than max_line_chars */
};

/* What a message (or a window of a group) covers: exact count, bounded histograms. */
struct sl_agg {
    uint64_t count;
    int64_t first_ms, last_ms; /* event times */
    struct { long status; uint64_t n; } st[SL_STATUS_SLOTS];
    int nst;
    uint64_t st_other;
    struct { char path[SL_PATH_MAX]; uint64_t n; } paths[SL_PATH_SLOTS];
    int npaths;
    uint64_t paths_other;
    char hosts[SL_HOST_SLOTS][SL_HOST_MAX];
    int nhosts;
    int hosts_more;
};

struct sl_group {
    struct sl_group *next; /* hash chain */
    uint32_t hash;
    int overflow;        /* the catch-all group used when the table is full */
    int first_pending;   /* `first` waits to be posted */
    int64_t window_end;  /* monotonic ms */
    struct sl_sample first;
    struct sl_agg agg;   /* lines folded since the last message of this group */
    char key[];
};

/* One message to post. */
struct sl_msg {
    struct sl_agg agg;
    struct sl_sample sample; /* line.. set when it shows a line */
    int has_sample;
    int ngroups;
    long window_s; /* the configured window, for the summary wording */
};

struct slack_out {
    const struct slack_conf *conf;
    const struct output_env *env;
    struct when *own_when; /* the default condition when env->when is NULL */
    const struct when *when;
    char masked[160];      /* lf_mask_url(webhook_url) */
    int to_stderr;

    pthread_mutex_t mu;
    pthread_cond_t cond;   /* CLOCK_MONOTONIC; wakes the sender, and flush() waiters */
    pthread_t thread;
    int thread_started;
    int stop;
    atomic_int abort_post; /* destroy(): end the POST in progress now (stop is under mu) */
    void *multi;           /* CURLM *: runs the POST so that destroy() can interrupt it */
    int draining;          /* flush(): every window counts as ended */
    int busy;              /* the sender is posting a message taken from the state */

    struct sl_group **tab; /* hash table, nbuckets entries */
    uint32_t nbuckets;
    long ngroups;
    struct sl_group *overflow;
    struct sl_agg backlog; /* lines of messages that failed: part of the next message */
    struct sl_sample backlog_sample;
    int backlog_has_sample;
    uint64_t undelivered;  /* matched lines not yet posted */

    /* sender-only pacing state (read under mu by the loop) */
    int64_t next_send_ok;  /* monotonic ms: pace */
    int64_t retry_at;      /* monotonic ms: 429 Retry-After or backoff */
    long backoff_ms;
    int failing;
};

int64_t sl_mono_ms(void);

/* slack_agg.c (all under st->mu) */
void sl_agg_init(struct sl_agg *a);
void sl_agg_add(struct sl_agg *a, int64_t ts_ms, long status, const char *path, const char *host,
                uint64_t n);
/* The same with length-delimited path and host. */
void sl_agg_addn(struct sl_agg *a, int64_t ts_ms, long status, struct sl_str path,
                 struct sl_str host, uint64_t n);
void sl_agg_merge(struct sl_agg *dst, const struct sl_agg *src);
void sl_sample_free(struct sl_sample *s);
/* One matching line as send() sees it: views into the borrowed batch (not NUL-terminated),
 * copied into the state only when the line starts a group. */
struct sl_line {
    const char *key;
    size_t keylen;
    int64_t ts_ms;
    long status; /* -1: none */
    struct sl_str host, service, file, method, path, client, agent, raw;
};
/* Folds one matching line into the state. Returns 1 when the line starts a group (a first
 * alert to post now), 2 when it opened a new deadline the sender must learn (the first line
 * folded into a window), 0 otherwise. */
int sl_fold(struct slack_out *st, struct sl_line *l, int64_t now);
/* Earliest monotonic ms something is due (INT64_MAX: nothing pending). */
int64_t sl_next_due(struct slack_out *st, int64_t now);
/* Takes what the next message covers out of the state into *m (0 = nothing was due). */
int sl_take(struct slack_out *st, int64_t now, struct sl_msg *m);
/* Puts a message that could not be delivered back into the backlog. */
void sl_fold_back(struct slack_out *st, struct sl_msg *m, int keep_sample);
void sl_groups_free(struct slack_out *st);
int sl_groups_init(struct slack_out *st);

/* slack_msg.c */
/* Fallback text (plain, escaped for Slack) into text; the full JSON payload into json. */
int sl_format(const struct sl_msg *m, struct buf *text, struct buf *json);
/* Appends s with &, <, > escaped and control characters replaced; at most maxchars
 * characters of s (then "…"). */
int sl_escape(struct buf *b, const char *s, size_t n, size_t maxchars);

/* slack_send.c */
int sl_sender_start(struct slack_out *st, char *err, size_t errsz);
void sl_sender_stop(struct slack_out *st);
/* Frees what sl_sender_start() made, after sl_sender_stop() (or when it failed). */
void sl_sender_free(struct slack_out *st);

#endif
