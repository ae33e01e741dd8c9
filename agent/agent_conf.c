/*
 * agent_conf.c - turns agent.conf into a configured struct agent: [agent], [input NAME],
 * [output TYPE [NAME]] and, through parsers_configure(), [parser NAME]. Runs on the main
 * thread before any other thread exists (and for `check`, `parse`, `setup`, `test-output`).
 * Every problem is reported, not just the first, as FILE:LINE: what is wrong.
 */
#include "agent/agent.h"
#include "agent/http.h"
#include "agent/base/log.h"
#include "agent/base/when.h"

#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AC(m) offsetof(struct agent_conf, m)
static const struct conf_key agent_keys[] = {
    {"name", CT_STR, NULL, AC(name), "host.name of every event (default: the host name)", NULL},
    {"data_dir", CT_STR, "./data", AC(data_dir), "registry (registry.json) and dead-letter files", NULL},
    {"log_level", CT_STR, "info", AC(log_level), "level of the agent's own logs", "error|warn|info|debug"},
    {"log_format", CT_STR, "text", AC(log_format), "json makes the agent's own logs JSON lines", "text|json"},
    {"queue_max_events", CT_INT, "65536", AC(queue_max_events),
     "events in flight (read, not yet acked by every output) before reading pauses", NULL},
    {"queue_max_bytes", CT_SIZE, "16MiB", AC(queue_max_bytes),
     "memory held by events in flight before reading pauses", NULL},
    {"shutdown_timeout", CT_DURATION, "10s", AC(shutdown_timeout_ms),
     "how long SIGTERM (and a SIGHUP reload) waits, from the signal, for outputs to "
     "acknowledge and flush; the process is gone within it plus at most 2.5 s", NULL},
    {"registry_flush", CT_DURATION, "1s", AC(registry_flush_ms),
     "how often registry.json (what `logferry status` reads) is rewritten; with "
     "registry_journal, offsets are committed within ~20 ms in between", NULL},
    {"registry_journal", CT_BOOL, "true", AC(registry_journal),
     "commit acknowledged offsets to data_dir/registry.journal within ~20 ms (one fdatasync "
     "per group), so a kill -9 re-sends what was in flight, not a registry_flush of lines",
     NULL},
    {"registry_journal_interval", CT_DURATION, "20ms", AC(registry_journal_interval_ms),
     "at most one journal group (one fdatasync) per this period: longer costs less CPU and "
     "re-sends more lines after a kill -9 (a fixed ~0.3 ms of CPU per group where measured)",
     NULL},
    {"rescan_interval", CT_DURATION, "10s", AC(rescan_interval_ms),
     "safety-net rescan of globs and files (missed events, inotify overflow)", NULL},
    {"max_open_files", CT_INT, "1024", AC(max_open_files), "cap on open log files; further files wait for a slot", NULL},
    {"batch_max_events", CT_INT, "2048", AC(batch_max_events), "events per batch handed to outputs", NULL},
    {"http_listen", CT_STR, "", AC(http_listen),
     "address:port of /metrics, /healthz, /status and the status page, e.g. 127.0.0.1:5066 "
     "(a bare port listens on loopback; empty: off)", NULL},
    {NULL, 0, NULL, 0, NULL, NULL},
};

#define IC(m) offsetof(struct input_conf, m)
static const struct conf_key input_keys[] = {
    {"paths", CT_LIST, NULL, IC(paths), "comma-separated globs of files to tail (/var/log/nginx/access*.log, /srv/*/logs/*.log)", NULL},
    {"exclude", CT_LIST, "", IC(exclude), "globs of files to leave alone (a pattern without / matches the file name)", NULL},
    {"start_at", CT_STR, "beginning", IC(start_at),
     "for files that exist at start and have no registry entry; files created later are "
     "always read from their beginning", "beginning|end"},
    {"max_line_bytes", CT_SIZE, "1MiB", IC(max_line_bytes),
     "longer lines are cut (on a UTF-8 boundary), marked log.flags: [\"truncated\"], the rest "
     "of the line skipped", NULL},
    {"close_renamed", CT_DURATION, "5s", IC(close_renamed_ms),
     "a renamed (rotated) file is read to its end and closed this long after its last data",
     NULL},
    {"close_inactive", CT_DURATION, "5m", IC(close_inactive_ms),
     "close a file with no new data for this long (reopened on change)", NULL},
    {"close_removed_after", CT_DURATION, "1h", IC(close_removed_after_ms),
     "close a rotated or deleted file this long after it was removed even if it still has "
     "unread lines (logged as an error with the bytes given up), so its disk space is freed "
     "while an output without a spool holds reading back; 0: never", NULL},
    {"fields.", CT_PREFIX, NULL, IC(fields), "static fields added to every event; dotted keys nest (fields.service.name = shop)", NULL},
    {"silence", CT_DURATION, "0", IC(silence_ms),
     "post a silence alert (Slack outputs) when no file of this input has had a new line for "
     "this long, and a resumed alert when lines come again (0: off)", NULL},
    {"silence_to", CT_STR, "", IC(silence_to),
     "the Slack output that gets this input's silence alerts (default: every Slack output)",
     NULL},
    {NULL, 0, NULL, 0, NULL, NULL},
};

/* Keys every [output] takes besides its type's own table. `when` is read by
 * configure_output() itself (it compiles a condition); this row documents it for
 * `logferry keys`. */
static const struct conf_key output_core_keys[] = {
    {"when", CT_STR, NULL, 0,
     "routing condition: the output gets only the events it matches (default: every event; "
     "the slack and webhook outputs default to http.response.status_code >= 500)", NULL},
    {NULL, 0, NULL, 0, NULL, NULL},
};

const struct conf_key *agent_conf_agent_keys(void) { return agent_keys; }
const struct conf_key *agent_conf_input_keys(void) { return input_keys; }
const struct conf_key *agent_conf_output_keys(void) { return output_core_keys; }

static int add_dir(struct agent *a, const char *dir)
{
    return agent_add_dir(a, dir);
}

int agent_add_dir(struct agent *a, const char *dir)
{
    for (int i = 0; i < a->ndirs; i++)
        if (strcmp(a->dirs[i].path, dir) == 0)
            return i;
    struct dir_watch *nd = realloc(a->dirs, (size_t)(a->ndirs + 1) * sizeof *nd);
    if (!nd)
        return -1;
    a->dirs = nd;
    a->dirs[a->ndirs].path = strdup(dir);
    a->dirs[a->ndirs].added = 0;
    return a->ndirs++;
}

static int has_magic(const char *s) { return strpbrk(s, "*?[") != NULL; }

/* Directories a glob's files can live in: its dirname, expanded if it has wildcards; and
 * then the directories those wildcards live in too (logs for logs/WILDCARD/app.log), so a dated
 * directory created while the agent runs (logs/202612/) is an inotify event, not a wait for
 * the next rescan. */
static void glob_dirs(struct agent *a, const char *pattern)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", pattern);
    char *d = dirname(tmp);
    if (!has_magic(d)) {
        add_dir(a, d);
        return;
    }
    glob_dirs(a, d);
    glob_t g;
    if (glob(d, GLOB_ONLYDIR | GLOB_NOSORT, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++)
            add_dir(a, g.gl_pathv[i]);
        globfree(&g);
    }
}

void agent_collect_dirs(struct agent *a)
{
    for (int i = 0; i < a->ninputs; i++)
        for (int j = 0; j < a->inputs[i].c.paths.n; j++)
            glob_dirs(a, a->inputs[i].c.paths.v[j]);
}

static int check_input(struct agent *a, struct conf_section *s, struct input *in,
                       struct conf_errs *errs)
{
    int n = 0;
    const char *f = a->conf->file;
    struct conf_entry *pe = conf_find(s, "paths");
    if (in->c.paths.n == 0) {
        conf_err(errs, f, pe ? pe->line : s->line, "[input %s] needs paths = GLOB[, GLOB...]",
                 in->name);
        n++;
    }
    for (int i = 0; i < in->c.paths.n; i++) {
        const char *p = in->c.paths.v[i];
        size_t l = strlen(p);
        if (l == 0 || p[l - 1] == '/') {
            conf_err(errs, f, pe->line, "paths: '%s' names a directory; use a glob such as %s*.log",
                     p, p);
            n++;
        } else if (fnmatch(p, p, FNM_PATHNAME) == FNM_NOMATCH && !has_magic(p)) {
            conf_err(errs, f, pe->line, "paths: '%s' is not a valid glob", p);
            n++;
        } else if (strchr(p, '[') && !strchr(strchr(p, '['), ']')) {
            conf_err(errs, f, pe->line, "paths: '%s' has an unclosed [", p);
            n++;
        }
    }
    if (in->c.max_line_bytes < 64 || in->c.max_line_bytes > (64u << 20)) {
        struct conf_entry *e = conf_find(s, "max_line_bytes");
        conf_err(errs, f, e ? e->line : s->line, "max_line_bytes must be between 64 and 64MiB");
        n++;
    }
    in->nstatic = in->c.fields.n;
    in->static_fields = calloc((size_t)(in->nstatic ? in->nstatic : 1), sizeof *in->static_fields);
    for (int i = 0; i < in->c.fields.n; i++) {
        const struct fkey *k = fkey_intern(in->c.fields.v[i].key);
        if (!k) {
            conf_err(errs, f, in->c.fields.v[i].line, "fields.%s: not a valid dotted field name",
                     in->c.fields.v[i].key);
            n++;
            in->nstatic = i;
            break;
        }
        in->static_fields[i] = (struct field){k, FV_STR, 0, (uint32_t)strlen(in->c.fields.v[i].value),
                                              {.s = in->c.fields.v[i].value}};
    }
    return n;
}

/* A spool keeps each event's JSON, offsets, time and flags, not its fields: an output that
 * reads fields (a `when`, a topic template, Slack) gets none by default, and an error when
 * one is asked for. */
static int check_spool(struct output_inst *o, struct conf_section *s, const char *f,
                       int reads_fields, struct conf_errs *errs)
{
    struct conf_entry *se = conf_find(s, "spool");
    if (o->common.spool == 0)
        return 0;
    if (reads_fields) {
        if (se) {
            conf_err(errs, f, se->line, "spool: [output %s] reads event fields (a when, a "
                     "template, or its type), which a spool does not keep; set spool = 0",
                     s->name);
            return 1;
        }
        o->common.spool = 0;
        return 0;
    }
    if (o->common.spool < ((uint64_t)1 << 20)) {
        conf_err(errs, f, se ? se->line : s->line, "spool must be 0 (none) or at least 1MiB");
        return 1;
    }
    if (strchr(s->name, '/') || s->name[0] == '.') {
        conf_err(errs, f, s->line, "[output %s]: a spool directory is named after the output: "
                 "give it a name without '/' or a leading '.', or set spool = 0", s->name);
        return 1;
    }
    return 0;
}

static int configure_output(struct agent *a, struct conf_section *s, struct conf_errs *errs)
{
    const char *f = a->conf->file;
    const struct output_desc *d = output_find(s->subtype);
    if (!d) {
        char known[256] = "";
        for (int i = 0; output_types[i]; i++) {
            strncat(known, i ? ", " : "", sizeof known - strlen(known) - 1);
            strncat(known, output_types[i]->type, sizeof known - strlen(known) - 1);
        }
        conf_err(errs, f, s->line, "unknown output type '%s' (known: %s)", s->subtype, known);
        for (int i = 0; i < s->n; i++)
            s->e[i].used = 1;
        return 1;
    }
    for (int i = 0; i < a->nouts; i++)
        if (strcmp(a->outs[i].env.name, s->name) == 0) {
            conf_err(errs, f, s->line, "a second [output %s%s%s]: give each a name, e.g. "
                     "[output %s second]", s->subtype, strcmp(s->subtype, s->name) ? " " : "",
                     strcmp(s->subtype, s->name) ? s->name : "", s->subtype);
            return 1;
        }
    struct output_inst *no = realloc(a->outs, (size_t)(a->nouts + 1) * sizeof *no);
    if (!no)
        return 1;
    a->outs = no;
    struct output_inst *o = &a->outs[a->nouts++];
    memset(o, 0, sizeof *o);
    o->desc = d;
    o->sec = s;
    o->conf = calloc(1, d->conf_size ? d->conf_size : 1);
    o->env.name = s->name;
    o->env.type = d->type;
    o->env.data_dir = a->ac.data_dir;
    o->env.host_name = a->host_name;
    o->env.shutdown_timeout_ms = a->ac.shutdown_timeout_ms;
    o->env.m = &o->m;
    o->env.core = o;
    o->env.conf = a->conf;
    int n = 0;
    struct conf_entry *we = conf_find(s, "when");
    if (we) {
        we->used = 1;
        char err[256];
        int pos = 0;
        o->when = when_compile(we->value, err, sizeof err, &pos);
        if (!o->when) {
            conf_err(errs, f, we->line, "when: %s at column %d", err, pos);
            n++;
        }
        o->env.when = o->when;
    }
    n += conf_apply(a->conf, s, output_common_keys, &o->common, errs);
    n += conf_apply(a->conf, s, d->conf_table, o->conf, errs);
    if (d->check && n == 0)
        n += d->check(o->conf, a->conf, s, errs);
    n += conf_report_unused(a->conf, s, errs);
    int reads_fields = o->when || !d->uses_fields || d->uses_fields(o->conf);
    if (reads_fields)
        a->keep_fields = 1;
    n += check_spool(o, s, f, reads_fields, errs);
    return n;
}

int agent_configure(struct agent *a, const char *path, struct conf_errs *errs)
{
    int n = 0;
    fkey_init_builtin();
    a->conf_path = strdup(path);
    a->conf = conf_load(path, errs);
    if (!a->conf)
        return 1;
    n += errs->n;
    const char *f = a->conf->file;
    struct conf_section *agent_sec = NULL;
    for (int i = 0; i < a->conf->n; i++) {
        struct conf_section *s = &a->conf->s[i];
        if (strcmp(s->type, "agent") == 0) {
            if (agent_sec) {
                conf_err(errs, f, s->line, "a second [agent] section (first on line %d)",
                         agent_sec->line);
                n++;
            } else {
                agent_sec = s;
            }
        } else if (strcmp(s->type, "input") == 0 || strcmp(s->type, "output") == 0 ||
                   strcmp(s->type, "parser") == 0) {
            if ((strcmp(s->type, "input") == 0 || strcmp(s->type, "parser") == 0) && !*s->name) {
                conf_err(errs, f, s->line, "[%s] needs a name: [%s NAME]", s->type, s->type);
                n++;
            }
            if (strcmp(s->type, "output") == 0 && !*s->subtype) {
                conf_err(errs, f, s->line, "[output] needs a type: [output TYPE] or [output TYPE NAME]");
                n++;
            }
        } else {
            conf_err(errs, f, s->line, "unknown section [%s] (expected agent, input, output, parser)",
                     s->type);
            n++;
            for (int j = 0; j < s->n; j++)
                s->e[j].used = 1;
        }
    }
    static struct conf_section empty = {.type = "agent", .name = "", .subtype = ""};
    if (!agent_sec)
        agent_sec = &empty;
    n += conf_apply(a->conf, agent_sec, agent_keys, &a->ac, errs);
    n += conf_report_unused(a->conf, agent_sec, errs);
    if (a->ac.http_listen && *a->ac.http_listen) {
        struct sockaddr_storage ss;
        socklen_t sl;
        int all;
        char herr[256];
        if (lf_http_parse_listen(a->ac.http_listen, &ss, &sl, &all, herr, sizeof herr) != 0) {
            struct conf_entry *e = conf_find(agent_sec, "http_listen");
            conf_err(errs, f, e ? e->line : 0, "%s", herr);
            n++;
        }
    }
    if (a->ac.name && *a->ac.name)
        snprintf(a->host_name, sizeof a->host_name, "%s", a->ac.name);
    else if (gethostname(a->host_name, sizeof a->host_name) != 0)
        snprintf(a->host_name, sizeof a->host_name, "localhost");
    a->host_name[sizeof a->host_name - 1] = '\0';
    if (a->ac.queue_max_events < 1 || a->ac.queue_max_bytes < 65536) {
        conf_err(errs, f, agent_sec->line, "queue_max_events must be >= 1 and queue_max_bytes >= 64KiB");
        n++;
    }
    if (a->ac.batch_max_events < 1 || a->ac.batch_max_events > 65535) {
        conf_err(errs, f, agent_sec->line, "batch_max_events must be between 1 and 65535");
        n++;
    }
    if (a->ac.max_open_files < 1) {
        conf_err(errs, f, agent_sec->line, "max_open_files must be >= 1");
        n++;
    }
    if (a->ac.registry_journal_interval_ms < 1 || a->ac.registry_journal_interval_ms > 60000) {
        conf_err(errs, f, agent_sec->line, "registry_journal_interval must be between 1ms and 60s");
        n++;
    }
    if (a->ac.registry_flush_ms < 1 || a->ac.rescan_interval_ms < 100) {
        conf_err(errs, f, agent_sec->line, "registry_flush must be > 0 and rescan_interval >= 100ms");
        n++;
    }

    n += parsers_configure(a->conf, errs);

    for (int i = 0; i < a->conf->n; i++) {
        struct conf_section *s = &a->conf->s[i];
        if (strcmp(s->type, "input") != 0 || !*s->name)
            continue;
        for (int j = 0; j < a->ninputs; j++)
            if (strcmp(a->inputs[j].name, s->name) == 0) {
                conf_err(errs, f, s->line, "a second [input %s] (first on line %d)", s->name,
                         a->inputs[j].section_line);
                n++;
            }
        struct input *ni = realloc(a->inputs, (size_t)(a->ninputs + 1) * sizeof *ni);
        if (!ni)
            return n + 1;
        a->inputs = ni;
        struct input *in = &a->inputs[a->ninputs++];
        memset(in, 0, sizeof *in);
        in->name = s->name;
        in->section_line = s->line;
        int before = errs->n;
        conf_apply(a->conf, s, input_keys, &in->c, errs);
        in->lp = lineproc_new(a->conf, s, errs);
        check_input(a, s, in, errs);
        conf_report_unused(a->conf, s, errs);
        n += errs->n - before;
    }
    for (int i = 0; i < a->conf->n; i++) {
        struct conf_section *s = &a->conf->s[i];
        if (strcmp(s->type, "output") == 0 && *s->subtype)
            n += configure_output(a, s, errs);
    }
    /* a->outs moved with every realloc: point each env at its own instance only now. */
    for (int i = 0; i < a->nouts; i++) {
        a->outs[i].env.m = &a->outs[i].m;
        a->outs[i].env.core = &a->outs[i];
    }
    for (int i = 0; i < a->conf->n; i++) {
        struct conf_section *s = &a->conf->s[i];
        if (strcmp(s->type, "parser") == 0) /* parsers_configure claimed what it knows */
            n += conf_report_unused(a->conf, s, errs);
    }
    if (a->ninputs == 0) {
        conf_err(errs, f, 0, "no [input NAME] section: nothing to tail");
        n++;
    }
    /* No output is valid for `check` (the packaged agent.conf has them all commented out);
     * `run` and a reload refuse it (main.c: check --strict), so nothing is read unshipped. */
    int lvl = lf_log_parse_level(a->ac.log_level ? a->ac.log_level : "info");
    if (lvl >= 0)
        lf_log_level = lvl;
    lf_log_set_json(a->ac.log_format && strcmp(a->ac.log_format, "json") == 0);
    fkey_freeze();
    for (int i = 0; i < a->ninputs; i++)
        event_sort_fields(a->inputs[i].static_fields, a->inputs[i].nstatic);
    agent_collect_dirs(a);
    return errs->n > n ? errs->n : n;
}

void agent_unconfigure(struct agent *a)
{
    for (int i = 0; i < a->nouts; i++) {
        struct output_inst *o = &a->outs[i];
        if (o->conf)
            conf_free_target(o->desc->conf_table, o->conf);
        free(o->conf);
        when_free(o->when);
        free(o->ring);
    }
    free(a->outs);
    for (int i = 0; i < a->ninputs; i++) {
        conf_free_target(input_keys, &a->inputs[i].c);
        lineproc_free(a->inputs[i].lp);
        free(a->inputs[i].static_fields);
    }
    free(a->inputs);
    for (int i = 0; i < a->ndirs; i++)
        free(a->dirs[i].path);
    free(a->dirs);
    conf_free_target(agent_keys, &a->ac);
    parsers_free();
    conf_free(a->conf);
    free(a->conf_path);
    fkey_reset();
    a->outs = NULL;
    a->inputs = NULL;
    a->dirs = NULL;
    a->conf = NULL;
    a->nouts = a->ninputs = a->ndirs = 0;
}

int input_matches(const struct input *in, const char *path)
{
    int hit = 0;
    for (int i = 0; i < in->c.paths.n && !hit; i++)
        hit = fnmatch(in->c.paths.v[i], path, FNM_PATHNAME) == 0;
    if (!hit)
        return 0;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (int i = 0; i < in->c.exclude.n; i++) {
        const char *x = in->c.exclude.v[i];
        if (fnmatch(x, path, FNM_PATHNAME) == 0 || (!strchr(x, '/') && fnmatch(x, base, 0) == 0))
            return 0;
    }
    return 1;
}

void agent_print_summary(const struct agent *a, FILE *out)
{
    fprintf(out, "%s: OK\n", a->conf->file);
    fprintf(out, "  agent    name=%s data_dir=%s queue=%ld events/%llu bytes shutdown_timeout=%ldms\n",
            a->host_name, a->ac.data_dir, a->ac.queue_max_events,
            (unsigned long long)a->ac.queue_max_bytes, a->ac.shutdown_timeout_ms);
    struct stat st;
    if (stat(a->ac.data_dir, &st) != 0)
        fprintf(out, "           note: data_dir %s does not exist yet; it is created at start\n",
                a->ac.data_dir);
    for (int i = 0; i < a->ninputs; i++) {
        const struct input *in = &a->inputs[i];
        size_t nmatch = 0;
        for (int j = 0; j < in->c.paths.n; j++) {
            glob_t g;
            if (glob(in->c.paths.v[j], GLOB_NOSORT, NULL, &g) == 0) {
                for (size_t k = 0; k < g.gl_pathc; k++)
                    nmatch += input_matches(in, g.gl_pathv[k]);
                globfree(&g);
            }
        }
        fprintf(out, "  input    %-12s ", in->name);
        for (int j = 0; j < in->c.paths.n; j++)
            fprintf(out, "%s%s", j ? "," : "", in->c.paths.v[j]);
        fprintf(out, " (%zu file%s now) start_at=%s %s\n", nmatch, nmatch == 1 ? "" : "s",
                in->c.start_at, lineproc_describe(in->lp));
    }
    if (a->nouts == 0)
        fprintf(out, "           note: no [output TYPE] section is enabled: the agent will not start "
                     "until one is (try [output file] path = out.ndjson)\n");
    for (int i = 0; i < a->nouts; i++) {
        const struct output_inst *o = &a->outs[i];
        struct conf_entry *we = conf_find(o->sec, "when");
        fprintf(out, "  output   %-12s type=%s%s%s\n", o->env.name, o->desc->type,
                we ? " when=" : "", we ? we->value : "");
    }
}
