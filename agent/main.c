/*
 * main.c - the command line: parses arguments and calls into the agent. Nothing else.
 *
 *   logferry [run] -c FILE          run in the foreground (systemd style)
 *   logferry check -c FILE          validate everything, print a summary or FILE:LINE errors
 *   logferry parse -c FILE --input NAME [--path P]   stdin lines -> events on stdout
 *   logferry parse --explain -c FILE --input NAME    what the input's parser understood
 *   logferry test-output -c FILE    can each output be reached and written?
 *   logferry setup -c FILE          install server-side assets (Elasticsearch template...)
 *   logferry status -c FILE         the running agent's files, lag and outputs
 *   logferry keys [SECTION]         every configuration key: type, default, help
 */
#include "agent/agent.h"
#include "agent/cmd.h"
#include "agent/cmd_keys.h"
#include "agent/base/log.h"

#include <errno.h>
#include <getopt.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
        "logferry %s - tails logs through inotify, ships them as ECS JSON to files, Kafka and\n"
        "Elasticsearch, and alerts Slack on HTTP 5xx.\n\n"
        "Usage:\n"
        "  logferry [run] -c FILE              run in the foreground (logs to stderr)\n"
        "  logferry check -c FILE              validate the configuration and exit\n"
        "  logferry parse -c FILE --input NAME [--path P]\n"
        "  logferry parse --explain -c FILE --input NAME\n"
        "                                      read lines on stdin, print the events NAME makes\n"
        "  logferry test-output -c FILE        check that every output is reachable and writable\n"
        "  logferry setup -c FILE              install index templates and policies\n"
        "  logferry status -c FILE             show the running agent's files, lag and outputs\n"
        "  logferry migrate filebeat -c filebeat.yml [--registry DIR] [-o agent.conf]\n"
        "  logferry keys [--markdown|--man|--check] [SECTION]\n"
        "                                      every configuration key: type, default, help\n"
        "  logferry --help | --version\n\n"
        "Default FILE: /etc/logferry/agent.conf. `logferry keys` prints the configuration\n"
        "reference; README.md explains it.\n",
        LOGFERRY_VERSION);
}

static int configure_or_report(struct agent *a, const char *conf)
{
    struct conf_errs errs = {0};
    int n = agent_configure(a, conf, &errs);
    for (int i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.msg[i]);
    if (errs.n && !n)
        n = errs.n;
    if (n)
        fprintf(stderr, "%s: %d problem%s found\n", conf, n, n == 1 ? "" : "s");
    conf_errs_free(&errs);
    return n;
}

static int for_each_output(struct agent *a, int setup)
{
    int bad = 0, any = 0;
    for (int i = 0; i < a->nouts; i++) {
        struct output_inst *o = &a->outs[i];
        int (*fn)(const void *, const struct output_env *, char *, size_t) =
            setup ? o->desc->setup : o->desc->test;
        if (!fn) {
            if (!setup)
                printf("%-16s %-14s no test available\n", o->env.name, o->desc->type);
            continue;
        }
        any = 1;
        char msg[1024] = "";
        int rc = fn(o->conf, &o->env, msg, sizeof msg);
        printf("%-16s %-14s %s: %s\n", o->env.name, o->desc->type, rc == 0 ? "OK" : "FAILED", msg);
        bad |= rc != 0;
    }
    if (setup && !any)
        printf("no output needs setup\n");
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *cmd = "run";
    int argi = 1;
    if (argc > 1 && argv[1][0] != '-') {
        cmd = argv[1];
        argi = 2;
    }
    if (strcmp(cmd, "status") == 0)
        return cmd_status(argc - 1, argv + 1);
    if (strcmp(cmd, "migrate") == 0)
        return cmd_migrate(argc - 1, argv + 1);
    if (strcmp(cmd, "keys") == 0)
        return cmd_keys(argc - 1, argv + 1);
    const char *conf = "/etc/logferry/agent.conf", *input = NULL, *path = "-";
    static const struct option opts[] = {
        {"config", required_argument, 0, 'c'}, {"input", required_argument, 0, 'i'},
        {"path", required_argument, 0, 'p'},   {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},      {"strict", no_argument, 0, 's'},
        {"explain", no_argument, 0, 'e'},
        {0, 0, 0, 0}};
    optind = argi;
    int c, strict = 0, explain = 0;
    while ((c = getopt_long(argc, argv, "c:i:p:hV", opts, NULL)) != -1) {
        switch (c) {
        case 's': strict = 1; break;
        case 'e': explain = 1; break;
        case 'c': conf = optarg; break;
        case 'i': input = optarg; break;
        case 'p': path = optarg; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("logferry %s\n", LOGFERRY_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "logferry: unexpected argument '%s'\n\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    static struct agent a;
    if (strcmp(cmd, "run") == 0) {
        if (configure_or_report(&a, conf))
            return 1;
        if (a.nouts == 0) {
            fprintf(stderr, "%s: no [output TYPE] section is enabled: nowhere to ship; enable one "
                            "(see `logferry check`)\n", conf);
            agent_unconfigure(&a);
            return 78; /* EX_CONFIG: the unit's RestartPreventExitStatus=78 stops retrying */
        }
        int rc = agent_run(&a);
        agent_unconfigure(&a);
        if (rc == AGENT_RELOAD) {
            /* Same process id (systemd keeps tracking it), fresh state, resumes from the
             * registry that agent_run just saved. */
            fflush(NULL);
            execv("/proc/self/exe", argv);
            LF_LOG(LF_ERROR, "agent", "reload: cannot re-execute: %s", strerror(errno));
            return 1;
        }
        return rc;
    }
    if (strcmp(cmd, "check") == 0) {
        if (configure_or_report(&a, conf))
            return 1;
        if (strict && a.nouts == 0) { /* what `run` needs: used by the SIGHUP reload */
            fprintf(stderr, "%s: no [output TYPE] section is enabled: nowhere to ship\n", conf);
            agent_unconfigure(&a);
            return 1;
        }
        agent_print_summary(&a, stdout);
        pipeline_spool_check(&a, stdout);
        agent_unconfigure(&a);
        return 0;
    }
    if (strcmp(cmd, "parse") == 0) {
        if (!input) {
            fprintf(stderr, "logferry parse: --input NAME is required\n");
            return 2;
        }
        if (configure_or_report(&a, conf))
            return 1;
        int rc = explain ? cmd_parse_explain(&a, input) : cmd_parse(&a, input, path);
        agent_unconfigure(&a);
        return rc;
    }
    if (strcmp(cmd, "test-output") == 0 || strcmp(cmd, "setup") == 0) {
        if (configure_or_report(&a, conf))
            return 1;
        int rc = for_each_output(&a, strcmp(cmd, "setup") == 0);
        agent_unconfigure(&a);
        return rc;
    }
    fprintf(stderr, "logferry: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
