/*
 * migrate.h - `logferry migrate filebeat`: the contract between its parts.
 *
 *   migrate_yaml.c      filebeat.yml (libyaml) -> a tree of nodes with line numbers, dotted
 *                       keys expanded the way Filebeat expands them, and a "used" mark per node
 *   migrate_inputs.c    filebeat.inputs, modules, processors, global settings -> [agent], [input]
 *   migrate_outputs.c   output.* -> [output TYPE]
 *   migrate_registry.c  Filebeat's registry directory -> our DATA_DIR/registry.json
 *   sha256.c            the fingerprint hash Filebeat 8.x/9.x identifies files with
 *   cmd_migrate.c       the command line; writes agent.conf and the report
 *
 * Single-threaded: the command runs before (and instead of) the agent. Everything the
 * conversion cannot carry over is recorded as a note with the line of filebeat.yml; a node
 * nobody looked at is reported at the end by mig_sweep(), so nothing is dropped silently.
 */
#ifndef LF_MIGRATE_H
#define LF_MIGRATE_H

#include <stdint.h>
#include <stdio.h>

#include "agent/base/buf.h"

enum my_kind { MY_SCALAR, MY_MAP, MY_SEQ };

struct my_node {
    enum my_kind kind;
    int line;    /* 1-based; for a map's value, the line of its key */
    char *val;   /* MY_SCALAR */
    int quoted;  /* a quoted scalar is always a string ("true", "~") */
    int used;    /* consumed (or deliberately reported) by the conversion */
    int n, cap;
    char **keys; /* MY_MAP: keys[i] -> kids[i] */
    struct my_node **kids;
};

/* Parses YAML text. On error returns NULL and err holds "LINE: what". A budget on nodes and
 * alias expansions refuses "billion laughs" documents. */
struct my_node *my_parse(const char *text, size_t len, char *err, size_t errsz);
void my_free(struct my_node *n);
/* Child of a map by (already split) key, or NULL. Does not mark it used. */
struct my_node *my_get(const struct my_node *map, const char *key);
/* my_get along a dotted path ("output.kafka.hosts"). */
struct my_node *my_path(const struct my_node *root, const char *path);
/* Marks n and everything below it used. Returns n. */
struct my_node *my_take(struct my_node *n);
/* Scalar value, or NULL when n is not a scalar or is null (~, null, empty unquoted). */
const char *my_str(const struct my_node *n);
/* -1 when not a boolean. */
int my_bool(const struct my_node *n);

/* One conversion run. */
enum mig_note_kind { MIG_INFO, MIG_DROP, MIG_ERROR };
struct mig_note {
    enum mig_note_kind kind;
    int line;
    char *msg;
    int seq; /* order of recording, to sort stably */
};

struct mig_fb_input { /* what the registry conversion needs to know of each input */
    char *name;       /* our [input NAME] */
    char *fb_id;      /* filestream id ("" for log/container inputs) */
    char *type;       /* log, filestream, container */
    char **paths;     /* globs */
    int npaths;
    char **exclude;   /* our exclude globs */
    int nexclude;
    uint32_t fp_offset, fp_length; /* filestream fingerprint settings (1024 by default) */
};

struct migrate {
    const char *yml_path;  /* as given on the command line, for messages */
    char *config_dir;      /* ${path.config} */
    struct my_node *root;
    struct buf agent;      /* [agent] body */
    struct buf inputs;     /* [input ...] sections */
    struct buf outputs;    /* [output ...] sections */
    char *global_fields;   /* "fields.X = v\n" lines every input gets (global fields/add_fields) */
    char *drop_when;       /* a when condition events are dropped on (drop_event), or NULL */
    struct mig_note *notes;
    int nnotes, cap;
    struct mig_fb_input *in;
    int nin;
};

void mig_note(struct migrate *m, enum mig_note_kind kind, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A note about node n (its line), which is marked used with everything below it. */
void mig_drop(struct migrate *m, struct my_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mig_info(struct migrate *m, struct my_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int mig_errors(const struct migrate *m);
int mig_drops(const struct migrate *m);

/* Converts a Filebeat value to an agent.conf value: `${VAR:default}` becomes `${VAR:-default}`,
 * `${path.config}` is resolved. NULL (and a note) when it cannot be written as an INI value
 * (a newline, or " ;" / " #" that would start a comment). Caller frees. */
char *mig_value(struct migrate *m, const struct my_node *n, const char *s);
/* Appends "key = value\n" to b when value is representable (else a note on n). */
void mig_kv(struct migrate *m, struct buf *b, const struct my_node *n, const char *key,
            const char *value);
/* 1 when s can be written as an event field name in agent.conf or a `when` ([A-Za-z0-9_@.-]+):
 * keys come from filebeat.yml and must not smuggle a newline or `=` into agent.conf. */
int mig_field_name_ok(const char *s);
/* A Filebeat duration ("10s", "1m30s", "5", 90) in our syntax; NULL if it does not parse. */
char *mig_duration(const char *s);

/* Reads a whole YAML file (at most 16 MiB), NUL-terminated; NULL with err set. Caller frees. */
char *mig_read_file(const char *path, size_t *len, char *err, size_t errsz);

/* The steps, in order. Each records notes; 0 = done, -1 = out of memory. */
int mig_inputs(struct migrate *m);
int mig_outputs(struct migrate *m);
/* Reports every node nothing consumed ("not carried over"). */
void mig_sweep(struct migrate *m);
/* The same for a tree read from another file (a modules.d file): notes name FILE:LINE. */
void mig_sweep_tree(struct migrate *m, struct my_node *root, const char *file, int line_adj);
void mig_free(struct migrate *m);

/* Converts Filebeat's registry directory into DATA_DIR/registry.json (creating it; an existing
 * registry.json is an error: it belongs to a logferry that already ran). Writes one line per
 * Filebeat entry to report (resumed, read from the start, skipped, and why). Returns the number
 * of entries carried over, or -1 with err set. */
int mig_registry(const struct migrate *m, const char *fb_dir, const char *data_dir, FILE *report,
                 char *err, size_t errsz);

/* SHA-256 of len bytes (Filebeat's fingerprint is its lowercase hex). */
void lf_sha256(const void *data, size_t len, unsigned char out[32]);

#endif
