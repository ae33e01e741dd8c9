/*
 * config.h - agent.conf: reading the INI file, ${VAR} expansion, and config tables.
 *
 * Ground floor for every component's settings. conf_load() reads the file with inih into a
 * list of sections, each entry remembering its line. A component describes its keys in a
 * table (Fluent Bit's config map): name, type, default, where to store it, help text.
 * conf_apply() fills a struct from a section through a table and reports each problem as
 * "FILE:LINE: what is wrong" into a struct conf_errs; keys no table claims are errors.
 *
 * Lifetime: a struct conf owns every string in it; values stored by conf_apply() into a
 * component's struct point into the conf (CT_STR/CT_LIST) and live as long as it does.
 * Single-threaded (configuration time).
 */
#ifndef LF_CONFIG_H
#define LF_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "agent/base/must_check.h"

struct conf_entry {
    char *key;
    char *value; /* after ${VAR} expansion */
    int line;
    int used;    /* set when a table (or a prefix handler) claims it */
};

struct conf_section {
    char *type; /* "agent", "input", "output", "parser" */
    char *name; /* "[input NAME]" / "[output TYPE NAME]": NAME, or "" */
    char *subtype; /* "[output TYPE ...]": TYPE, else "" */
    int line;
    struct conf_entry *e;
    int n, cap;
};

struct conf {
    char *file;
    struct conf_section *s;
    int n, cap;
};

struct conf_errs {
    char **msg;
    int n, cap;
};

/* Records "FILE:LINE: <fmt>" (line 0 = no line). */
void conf_err(struct conf_errs *errs, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void conf_errs_free(struct conf_errs *errs);

/* Reads `path`. Syntax errors and unknown variables go to errs; returns NULL only when the
 * file cannot be read (errs says why). */
LF_MUST_CHECK struct conf *conf_load(const char *path, struct conf_errs *errs);
/* Same from a string (tests); `name` stands for the file name in messages. */
LF_MUST_CHECK struct conf *conf_load_string(const char *name, const char *text, struct conf_errs *errs);
void conf_free(struct conf *c);

/* Expands ${VAR} and ${VAR:-default} from the environment. Returns a malloc'd string or
 * NULL with a reason in err (unset variable without default, unterminated ${). */
char *conf_expand_env(const char *in, char *err, size_t errsz);

enum conf_type {
    CT_STR,      /* char *  (NULL when absent and no default) */
    CT_INT,      /* long */
    CT_SIZE,     /* uint64_t bytes: 512, 64KiB, 5MiB, 1GiB (also KB/MB/GB = powers of 1000) */
    CT_DURATION, /* long milliseconds: 250ms, 1s, 10s, 5m, 1h; a bare number is seconds */
    CT_BOOL,     /* int: true/false/yes/no/on/off/1/0 */
    CT_LIST,     /* struct conf_list: comma-separated, trimmed, empty items dropped */
    CT_PREFIX,   /* struct conf_kvlist: every key starting with `name` (e.g. "kafka.") */
};

struct conf_list {
    char **v;
    int n;
};

struct conf_kv {
    const char *key; /* without the prefix */
    const char *value;
    int line;
};

struct conf_kvlist {
    struct conf_kv *v;
    int n;
};

struct conf_key {
    const char *name;
    enum conf_type type;
    const char *def; /* default in the same syntax as the file; NULL = none */
    size_t off;      /* offsetof(target struct, member) */
    const char *help;
    /* optional: allowed values for CT_STR ("a|b|c") */
    const char *choices;
};

/* Fills `target` from section `s` through `table` (NULL-name terminated), after applying
 * defaults. Entries already marked used are skipped; entries claimed here are marked used.
 * Returns the number of errors added. Lists/kvlists are malloc'd: conf_free_target() frees
 * them. */
int conf_apply(struct conf *c, struct conf_section *s, const struct conf_key *table,
               void *target, struct conf_errs *errs);
void conf_free_target(const struct conf_key *table, void *target);
/* Reports every entry of `s` not marked used as an unknown key. */
int conf_report_unused(struct conf *c, struct conf_section *s, struct conf_errs *errs);

/* Value parsers, usable alone (they return 0 or -1). */
int conf_parse_size(const char *s, uint64_t *out);
int conf_parse_duration(const char *s, long *ms_out);
int conf_parse_bool(const char *s, int *out);
/* Splits on commas (trimmed, empty items dropped). */
int conf_split_list(const char *s, struct conf_list *out);
void conf_list_free(struct conf_list *l);

/* Finds an entry by key in a section (NULL if absent). */
struct conf_entry *conf_find(struct conf_section *s, const char *key);

#endif
