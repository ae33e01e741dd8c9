/*
 * slack_notice.c - the Slack output's notices: state changes that are posted once, not
 * counted lines. It owns the bounded queue the sender takes them from (rate alerts' firing /
 * reminder / resolved from slack_rate.c, and silence / resumed from here), and the silence
 * watch: every input with `silence = DURATION` whose `silence_to` is empty or names this
 * output is watched; when none of its files has had a new line for that long, a silence
 * notice is queued, and the next line of the input queues `resumed`.
 *
 * Every batch reaches every output, whatever its `when`, so send() sees each input's lines
 * arrive (sl_silence_line); the sender thread's wake-up includes the next silence deadline
 * (sl_silence_due), so an idle agent still notices the silence on time.
 *
 * Threads: init/free on the core's thread; sl_silence_line() on the output thread, the
 * others on the sender thread; all but init/free with slack_out.mu held. Memory: SL_NOTICES
 * notices (about 1 KiB each) and one small record per watched input.
 */
#include "agent/base/clock.h"
#include "outputs/slack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sl_silence_init(struct slack_out *st, char *err, size_t errsz)
{
    struct conf *c = st->env->conf;
    if (!c)
        return 0;
    int n = 0;
    for (int i = 0; i < c->n; i++)
        n += strcmp(c->s[i].type, "input") == 0;
    if (n == 0)
        return 0;
    st->silent = calloc((size_t)n, sizeof *st->silent);
    if (!st->silent) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    int64_t now = mono_ms(), wall = wall_ms();
    for (int i = 0; i < c->n; i++) {
        struct conf_section *s = &c->s[i];
        if (strcmp(s->type, "input") != 0)
            continue;
        struct conf_entry *e = conf_find(s, "silence"), *to = conf_find(s, "silence_to");
        long ms = 0;
        if (!e || conf_parse_duration(e->value, &ms) != 0 || ms <= 0)
            continue;
        if (to && *to->value && strcmp(to->value, st->env->name) != 0)
            continue;
        struct sl_silent *w = &st->silent[st->nsilent++];
        w->input = s->name;
        w->silence_ms = ms;
        w->last_mono = now;
        w->last_wall = wall;
    }
    return 0;
}

void sl_silence_free(struct slack_out *st)
{
    free(st->silent);
    st->silent = NULL;
    st->nsilent = 0;
}

static void silence_notice(struct slack_out *st, struct sl_silent *w, enum sl_kind kind)
{
    struct sl_notice n;
    memset(&n, 0, sizeof n);
    n.kind = kind;
    n.window_s = (w->silence_ms + 999) / 1000;
    n.since_wall_ms = w->last_wall;
    sl_copy_strn(n.label, sizeof n.label, w->input, strlen(w->input));
    if (w->seen)
        memcpy(n.path, w->path, sizeof n.path);
    const char *h = st->env->host_name ? st->env->host_name : "";
    sl_copy_strn(n.host, sizeof n.host, h, strlen(h));
    sl_notice_push(st, &n);
}

int sl_silence_line(struct slack_out *st, const char *input, const char *path, int64_t now)
{
    for (int i = 0; i < st->nsilent; i++) {
        struct sl_silent *w = &st->silent[i];
        if (strcmp(w->input, input) != 0)
            continue;
        int resumed = 0;
        if (w->silent) {
            /* `resumed` says how long it was silent: since the last line, kept until now */
            silence_notice(st, w, SL_RESUMED);
            w->silent = 0;
            resumed = 1;
        }
        w->last_mono = now;
        w->last_wall = wall_ms();
        w->seen = 1;
        sl_copy_strn(w->path, sizeof w->path, path ? path : "", path ? strlen(path) : 0);
        return resumed;
    }
    return 0;
}

int64_t sl_silence_due(struct slack_out *st, int64_t now)
{
    int64_t due = INT64_MAX;
    if (st->draining)
        return due;
    for (int i = 0; i < st->nsilent; i++) {
        struct sl_silent *w = &st->silent[i];
        if (w->silent)
            continue;
        int64_t d = w->last_mono + w->silence_ms;
        if (d <= now) {
            silence_notice(st, w, SL_SILENCE);
            w->silent = 1;
        } else if (d < due) {
            due = d;
        }
    }
    return due;
}

void sl_notice_push(struct slack_out *st, const struct sl_notice *n)
{
    if (st->nq_n == SL_NOTICES) {
        /* full (Slack has been unreachable for long): a state change matters more than a
         * reminder; drop the oldest reminder, else the oldest notice */
        int drop = 0;
        for (int i = 0; i < st->nq_n; i++)
            if (st->nq[(st->nq_head + i) % SL_NOTICES].kind == SL_REMINDER) {
                drop = i;
                break;
            }
        for (int i = drop; i > 0; i--)
            st->nq[(st->nq_head + i) % SL_NOTICES] = st->nq[(st->nq_head + i - 1) % SL_NOTICES];
        st->nq_head = (st->nq_head + 1) % SL_NOTICES;
        st->nq_n--;
    }
    st->nq[(st->nq_head + st->nq_n) % SL_NOTICES] = *n;
    st->nq_n++;
}

int sl_notice_take(struct slack_out *st, struct sl_msg *m)
{
    if (!st->nq_n)
        return 0;
    memset(m, 0, sizeof *m);
    sl_agg_init(&m->agg);
    m->notice = st->nq[st->nq_head];
    m->kind = m->notice.kind;
    m->thr = &st->thr;
    m->window_s = m->notice.window_s;
    m->group_by = &st->conf->group_by;
    st->nq_head = (st->nq_head + 1) % SL_NOTICES;
    st->nq_n--;
    return 1;
}

void sl_notice_fold_back(struct slack_out *st, const struct sl_msg *m)
{
    if (st->nq_n == SL_NOTICES)
        return; /* newer notices filled the queue: they say more than this one */
    st->nq_head = (st->nq_head + SL_NOTICES - 1) % SL_NOTICES;
    st->nq[st->nq_head] = m->notice;
    st->nq_n++;
}
