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
 *   slack_rate.c  rate alerts (`threshold`): sliding-window counts per group, firing /
 *                 reminder / resolved notices (output thread and sender thread, under mu)
 *   slack_cause.c the cause index (`cause_from`): candidate exceptions of the application's
 *                 log per host, what they show, and matching them to alert lines (output
 *                 thread, and the sender thread when it takes a first alert; under mu)
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

#include "agent/base/buf.h"
#include "agent/base/clock.h"
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
    int group_path_ids;          /* url.path in group_by groups by a path template */
    struct conf_list cause_from; /* inputs whose error events explain alerts */
    long cause_window_ms;
    long cause_wait_ms;
    long cause_frames;
    struct conf_list cause_frames_skip;
    long cause_ring;             /* candidates kept per host */
    const char *threshold;       /* "" or NULL: first alert + summaries; else rate alerts */
    long repeat_ms;
    long min_events;
    const char *kibana_url;      /* "" or NULL: no link */
    const char *kibana_data_view;
    const char *kibana_objects;  /* `logferry setup`: the saved objects to import */
    const char *kibana_username, *kibana_password, *kibana_api_key; /* secrets */
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

/* A parsed `threshold`: "2% of CONDITION" (ratio) or "COUNT". */
struct sl_threshold {
    int ratio;          /* 1: pct of the events matching `of`; 0: count */
    double pct;
    uint64_t count;
    struct when *of;    /* the denominator's condition (ratio) */
};
/* Parses s; 0, or -1 with err filled ("threshold: ..."). */
int sl_threshold_parse(const char *s, struct sl_threshold *t, char *err, size_t errsz);

enum sl_kind { SL_ALERT = 0, SL_FIRING, SL_REMINDER, SL_RESOLVED, SL_SILENCE, SL_RESUMED };

/* A state change queued for the sender: a rate alert's firing / reminder / resolved, or an
 * input's silence / resumed. */
struct sl_notice {
    enum sl_kind kind;
    uint64_t num, den;      /* rate: matching lines and (ratio) requests in the window */
    long window_s;          /* rate: the window; silence: the configured silence */
    int64_t since_wall_ms;  /* firing since / silent since (last line) */
    char label[SL_KEY_MAX]; /* rate: the group's values, \x1f-separated; silence: input */
    char path[256];         /* silence: the file of the input's last line ("" if none) */
    char host[SL_HOST_MAX]; /* silence: [agent] name */
};
#define SL_NOTICES 32

/* An input watched for silence ([input] silence). */
struct sl_silent {
    const char *input;
    long silence_ms;
    int64_t last_mono;  /* its last line (monotonic ms; the output's start at first) */
    int64_t last_wall;
    char path[256];
    int silent;         /* the silence alert was queued; lines will queue `resumed` */
    int seen;           /* a line arrived since the start */
};

#define SL_CAUSE_FRAMES_MAX 10
#define SL_CAUSE_SLOTS 6
#define SL_CAUSE_KEY 160
#define SL_TRACE_MAX 64

/* One candidate cause: an ERROR/FATAL event (or one with a stack trace) of a `cause_from`
 * input, reduced to what a message shows. Fixed size (about 3 KiB), raw log text (escaped
 * only when rendered), each string cut on a character boundary. */
struct sl_cause {
    int64_t ts_ms;   /* event time */
    int64_t seen_ms; /* monotonic ms it reached the output */
    int used;        /* already matched to an alert line (one exception explains one line) */
    char host[SL_HOST_MAX];
    char trace[SL_TRACE_MAX];
    char type[160];    /* error.type, or the stack trace's first line's class */
    char message[400]; /* error.message, or the rest of that line, or log.message */
    char root[320];    /* the last "Caused by: " line, without the prefix */
    char logger[160];
    char where[96];    /* "OrderService.java:42": file and line of the first own frame */
    char frames[SL_CAUSE_FRAMES_MAX][160];
    int nframes;
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
    struct sl_cause *cause; /* malloc'd; NULL: none found (yet) */
    char cause_how[64];     /* "trace.id", "+100 ms" */
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
    /* causes of the lines covered (cause_from), by sl_cause_key(); exact up to the slots */
    struct { char key[SL_CAUSE_KEY]; uint64_t n; } causes[SL_CAUSE_SLOTS];
    int ncauses;
    uint64_t causes_other;
};

/* An alert line still waiting for its cause (cause_from): kept per group, bounded. */
struct sl_pend {
    int64_t ts_ms, seen_ms;
    int first; /* the group's first alert waits for it */
    uint32_t hosth; /* hash of its host.name */
    char trace[SL_TRACE_MAX];
};
#define SL_PEND_MAX 64

struct sl_group {
    struct sl_group *next; /* hash chain */
    uint32_t hash;
    int overflow;        /* the catch-all group used when the table is full */
    int first_pending;   /* `first` waits to be posted */
    int64_t window_end;  /* monotonic ms */
    int64_t first_wait;  /* monotonic ms the first alert waits for its cause until (0: none) */
    struct sl_pend *pend; /* SL_PEND_MAX entries, malloc'd on first use */
    int npend;
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
    enum sl_kind kind; /* SL_ALERT: a first alert or summary; else `notice` */
    char group[SL_KEY_MAX]; /* the group's values, \x1f-separated ("": several groups) */
    const struct conf_list *group_by;
    const char *kibana_url, *kibana_view; /* conf strings; "Open in Kibana" when set */
    struct sl_notice notice;
    const struct sl_threshold *thr;
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

    struct sl_cause_index *causes; /* NULL without cause_from */
    long cause_wait_ms; /* what a first alert waits for its cause: sl_cause_init() */
    struct sl_rate *rate;          /* NULL without threshold */
    struct sl_threshold thr;
    struct sl_notice nq[SL_NOTICES]; /* notices waiting for the sender (slack_notice.c) */
    int nq_head, nq_n;
    struct sl_silent *silent;      /* inputs watched for silence by this output */
    int nsilent;
    int webhook;                   /* type "webhook": the JSON of slack_webhook.c */
    int feeds_events;              /* this output feeds the status page's events per input
                                    * (one output does: every output sees every batch) */
};

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
    struct sl_str host, service, file, method, path, client, agent, raw, trace;
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

/* FNV-1a of n bytes: group keys, host names. */
uint32_t sl_hash(const char *k, size_t n);
/* Copies n bytes of src into dst (cut on a character boundary, NULs shown as spaces). */
void sl_copy_strn(char *dst, size_t dstsz, const char *src, size_t n);
void sl_agg_add_cause(struct sl_agg *a, const char *key, uint64_t n);

/* slack.c: url.path with ids as {id} ("/orders/{id}/items/{id}"); returns its length. */
size_t sl_path_template(const char *p, size_t n, char *out, size_t outsz);

/* slack_rate.c (under st->mu) */
int sl_rate_init(struct slack_out *st);
void sl_rate_free(struct slack_out *st);
/* Counts one event of group `key` (num: it matches `when`; den: it matches the threshold's
 * `of`). Returns 1 when a notice was queued (wake the sender). */
int sl_rate_fold(struct slack_out *st, const struct sl_line *l, int num, int den, int64_t now);
/* Re-evaluates the groups as time passes (windows slide without events); earliest monotonic
 * ms something is due (now: a notice waits). */
int64_t sl_rate_due(struct slack_out *st, int64_t now);

/* slack_notice.c: the notice queue and silence watch (under st->mu, except init/free) */
int sl_silence_init(struct slack_out *st, char *err, size_t errsz);
void sl_silence_free(struct slack_out *st);
/* A batch of `input` arrived (path: its file): 1 when a `resumed` notice was queued. */
int sl_silence_line(struct slack_out *st, const char *input, const char *path, int64_t now);
/* Queues silence notices that are due; earliest monotonic ms one will be. */
int64_t sl_silence_due(struct slack_out *st, int64_t now);
void sl_notice_push(struct slack_out *st, const struct sl_notice *n);
/* Takes the oldest notice into m (0: none). */
int sl_notice_take(struct slack_out *st, struct sl_msg *m);
/* Puts a notice that could not be delivered back at the head of the queue. */
void sl_notice_fold_back(struct slack_out *st, const struct sl_msg *m);

/* slack_webhook.c: the message as generic JSON ({"kind","count","group","cause","text"...});
 * text gets the same fallback text as sl_format(). */
int sl_format_webhook(const struct sl_msg *m, struct buf *text, struct buf *json);

/* slack_setup.c: `logferry setup` imports the Kibana saved objects (kibana_url). */
int sl_setup_kibana(const struct slack_conf *sc, char *msg, size_t msgsz);

/* slack_link.c: appends the "Open in Kibana" Discover URL of m (nothing without kibana_url
 * or for notices). */
int sl_kibana_link(const struct sl_msg *m, struct buf *out);

/* slack_cause.c (sl_cause_extract without the lock; the others under st->mu) */
int sl_cause_init(struct slack_out *st);
void sl_cause_free(struct slack_out *st);
/* 1 when events of batch b come from a `cause_from` input. */
int sl_cause_input(const struct slack_out *st, const struct event_batch *b);
/* 1 when ev is a candidate cause (ERROR/FATAL or a stack trace); fills *c. */
int sl_cause_extract(const struct slack_out *st, const struct event_batch *b,
                     const struct event *ev, struct sl_cause *c, int64_t now);
/* [input] multiline.timeout's default (parsers/lineproc.c; integ.slack_cause_default_late_exception fails if they part). */
#define SL_MULTILINE_TIMEOUT_DEFAULT_MS 1000
/* The longest multiline.timeout of the cause_from inputs that join lines (0: none does):
 * how much later than its first line an exception's event may be complete. */
long sl_cause_multiline_wait(const struct slack_out *st);
/* Indexes a candidate and gives it to the line waiting for it, if any. Returns 1 when a
 * first alert that was waiting for its cause is now due. */
int sl_cause_add(struct slack_out *st, const struct sl_cause *c);
/* Matches a folded alert line of group g: attaches the cause to g's first alert or counts
 * it in g's window, or leaves the line waiting (first: the first alert waits st->cause_wait_ms). */
void sl_cause_line(struct slack_out *st, struct sl_group *g, const struct sl_line *l, int first,
                   int64_t now);
/* "NullPointerException at OrderService.java:42": what summaries count causes by. */
void sl_cause_key(const struct sl_cause *c, char *out, size_t outsz);

/* slack_msg.c */
/* Fallback text (plain, escaped for Slack) into text; the full JSON payload into json. */
int sl_format(const struct sl_msg *m, struct buf *text, struct buf *json);
/* Appends s with &, <, > escaped and control characters replaced; at most maxchars
 * characters of s (then "…"). */
int sl_escape(struct buf *b, const char *s, size_t n, size_t maxchars);

/* slack_send.c */
int sl_sender_start(struct slack_out *st, char *err, size_t errsz);
/* A server's answer for a message: printable ASCII, one line, capped to outsz. */
void sl_printable(const char *in, char *out, size_t outsz);
void sl_sender_stop(struct slack_out *st);
/* Frees what sl_sender_start() made, after sl_sender_stop() (or when it failed). */
void sl_sender_free(struct slack_out *st);

#endif
