/*
 * cmd_keys.h - `logferry keys`: the configuration reference printed from the config tables.
 *
 * Every key of agent.conf is declared once, in its component's struct conf_key table, with
 * its type, default and help text. cmd_keys.c gathers those tables into sections ([agent],
 * [input NAME], [parser NAME], [output TYPE] for each type of outputs.c) and prints them as
 * text, as the README's Markdown tables, or as the man page's roff. scripts/gen-docs puts
 * the last two into README.md and packaging/logferry.8; tests/integration/core_docs_generated.sh
 * fails when they differ. Main thread only; no state.
 */
#ifndef LF_CMD_KEYS_H
#define LF_CMD_KEYS_H

#include <stdio.h>

#include "agent/base/config.h"

/* `logferry keys [--markdown | --man | --check] [SECTION]` (argv[0] is "keys").
 * SECTION: agent, input, parser, output (every output type), or an output TYPE
 * ("kafka" or "output kafka"). Returns the exit status. */
int cmd_keys(int argc, char **argv);

/* Writes to `err` one line per problem of `table` (section `what`): a key without help
 * text, a default that its type does not accept, a default outside `choices`, a prefix key
 * not ending in '.', a name twice in `seen` (the keys seen so far in the section, NULL-name
 * terminated tables, may be NULL). Returns the number of problems. */
int keys_check_table(const char *what, const struct conf_key *table,
                     const struct conf_key *const *seen, FILE *err);

/* One Markdown table cell: `code spans` kept with their pipes escaped, elsewhere the
 * characters Markdown or HTML would read (| < > & * [ ] and _ at the start of a word)
 * escaped, so any help text renders as written and stays in its cell. */
void keys_md_text(FILE *f, const char *s);
/* Roff text for a man page line: backslashes escaped, a leading '.' or '\'' made literal. */
void keys_roff_text(FILE *f, const char *s);

#endif
