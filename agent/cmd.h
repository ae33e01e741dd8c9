/*
 * cmd.h - the subcommands of `logferry` that main.c (the CLI) dispatches to, one .c each.
 *
 * Daemon floor; single-threaded CLI code.
 */
#ifndef LF_CMD_H
#define LF_CMD_H

struct agent;

/* `logferry parse INPUT [PATH]` (cmd_parse.c): reads lines on stdin through INPUT's parser
 * and prints each event's JSON; `--explain` says which parts matched. Exit status. */
int cmd_parse(struct agent *a, const char *input, const char *path);
int cmd_parse_explain(struct agent *a, const char *input);

/* `logferry status -c FILE [--json]` (cmd_status.c). Exit status: 0 when the agent
 * answered, 3 when it did not (the registry was shown instead), 2 on a usage error or an
 * unreadable file; other problems in agent.conf are noted and ignored. */
int cmd_status(int argc, char **argv);

/* `logferry migrate filebeat ...` (cmd_migrate.c, migrate.h). Exit status. */
int cmd_migrate(int argc, char **argv);

#endif
