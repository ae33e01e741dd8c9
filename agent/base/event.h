/*
 * event.h - the event model: field keys, the per-line event builder, and event batches.
 *
 * Ground floor: includes nothing of the daemon, parsers or outputs.
 *
 * Path of a line: the tail thread reads bytes, cuts a record, resets a `struct event_builder`
 * (scratch, owned by the tail thread), lets the input's parser add fields to it, then calls
 * batch_add() which copies the record, its fields and its serialized JSON into the batch's
 * arena. From then on every pointer in a `struct event` points into that arena and lives as
 * long as the batch.
 *
 * Ownership of a batch: the pipeline creates it and owns it. Each output it is dispatched to
 * *borrows* it and must call the ack callback it was given exactly once for it; when the last
 * output has acked, the pipeline may advance the file's committed offset to batch->end and
 * frees the batch. Outputs never free or modify a batch.
 *
 * Field keys are dotted ECS names ("http.response.status_code"); the JSON writer nests them.
 * Keys are interned at configuration time (fkey_intern, single-threaded) and frozen
 * (fkey_freeze) before threads start, which gives every key a rank in sorted order so events
 * can be sorted by integer compares. Parsers that meet keys only at run time (JSON logs) use
 * builder-owned dynamic keys (eb_dynkey).
 */
#ifndef LF_EVENT_H
#define LF_EVENT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/base/buf.h"
#include "agent/base/must_check.h"

#define FKEY_MAX_COMPONENTS 16

struct fkey {
    const char *name; /* dotted, NUL-terminated */
    uint32_t len;
    uint32_t rank; /* position in sorted order; FKEY_DYNAMIC for run-time keys */
    /* Filled at intern time (0 for run-time keys: the writer computes them): number of
     * components and where each ends, so the writer neither rescans nor escapes names. */
    uint8_t ncomp;
    uint16_t ends[FKEY_MAX_COMPONENTS];
};
#define FKEY_DYNAMIC UINT32_MAX

/* Interns a dotted key (config time only). Returns NULL if the name is not a valid dotted
 * key (empty component, leading/trailing dot). The result lives until fkey_reset(). */
const struct fkey *fkey_intern(const char *dotted);
/* Assigns ranks; call after the last fkey_intern() and before events are built. */
void fkey_freeze(void);
/* The order fields are written in: byte order with '.' before every other byte, so each
 * nested object's keys are contiguous. */
int fkey_name_cmp(const char *a, const char *b);
/* Bumped whenever keys are frozen or freed: caches keyed by fkey pointers compare it. */
unsigned fkey_current_generation(void);
/* Frees all interned keys (tests, reload). */
void fkey_reset(void);

/* Keys every event has; interned by fkey_freeze()'s first caller. */
extern const struct fkey *FK_TIMESTAMP, *FK_MESSAGE, *FK_HOST_NAME, *FK_LOG_FILE_PATH,
    *FK_LOG_OFFSET, *FK_LOG_FLAGS, *FK_TAGS, *FK_INPUT_TYPE, *FK_AGENT_ID, *FK_AGENT_NAME,
    *FK_AGENT_TYPE, *FK_AGENT_VERSION, *FK_ECS_VERSION;
void fkey_init_builtin(void);

enum fv_type {
    FV_STR = 0, /* UTF-8 (or not: the writer repairs) text, s/len */
    FV_INT,     /* i */
    FV_FLOAT,   /* f; NaN/Inf are written as null */
    FV_BOOL,    /* b */
    FV_JSON,    /* s/len hold a valid serialized JSON value (arrays from JSON logs) */
};

struct field {
    const struct fkey *key;
    uint8_t type;
    uint8_t clean; /* FV_STR known to need no JSON escaping (ASCII, no control, '"' or '\\') */
    uint32_t len;
    union {
        const char *s;
        int64_t i;
        double f;
        int b;
    } v;
};

/* Event flags: written as tags:["parse_failure","container_format_failure"] and
 * log.flags:["truncated","multiline"]. */
enum {
    EV_PARSE_FAILURE = 1 << 0,
    EV_TRUNCATED = 1 << 1,
    EV_MULTILINE = 1 << 2,
    EV_CONTAINER_FAILURE = 1 << 3, /* a line of a `format =` input the runtime did not write */
};

#define EB_MAX_FIELDS 256

/* Scratch for building one event. Owned by one thread (the tail thread or a test). Strings
 * added with eb_add_str() are borrowed: they must live until batch_add() returns
 * (the line buffer or the builder's own scratch both do). eb_strdup() copies into the
 * builder's scratch, which is capped. */
struct event_builder {
    struct field f[EB_MAX_FIELDS];
    int n;
    int64_t ts_ms; /* 0 = not set by the parser: the read time is used */
    unsigned flags;
    struct buf scratch; /* converted values, capped */
    struct fkey dyn[64]; /* run-time keys */
    int ndyn;
    struct buf dynnames;
    /* Set by eb_add_* when a key arrives out of rank order (or is a run-time key): only
     * then does batch_add sort. Built-in parsers add in key order, so their events skip
     * the sort (issue 18). */
    int unsorted;
    uint32_t last_rank; /* the rank of the last key added */
};

void eb_init(struct event_builder *eb);
void eb_free(struct event_builder *eb);
void eb_reset(struct event_builder *eb);
/* Each returns 0, or -1 if the builder is full (the field is then not added). */
int eb_add_str(struct event_builder *eb, const struct fkey *k, const char *s, size_t len);
/* The same for a string the parser has already seen to be JSON-clean (json_is_clean()):
 * the writer copies it without escaping, so never say so of anything unchecked. */
int eb_add_str_clean(struct event_builder *eb, const struct fkey *k, const char *s, size_t len);
int eb_add_int(struct event_builder *eb, const struct fkey *k, int64_t v);
int eb_add_float(struct event_builder *eb, const struct fkey *k, double v);
int eb_add_bool(struct event_builder *eb, const struct fkey *k, int v);
int eb_add_json(struct event_builder *eb, const struct fkey *k, const char *s, size_t len);
/* Copies s into the builder's scratch; returns the copy or NULL when the scratch is full. */
const char *eb_strdup(struct event_builder *eb, const char *s, size_t len);
/* A key known only at run time (from a JSON log line); NULL when the builder has no room. */
const struct fkey *eb_dynkey(struct event_builder *eb, const char *name, size_t len);
/* Finds the last field added under a key, or NULL. */
const struct field *eb_get(const struct event_builder *eb, const struct fkey *k);

/* Identity of a file as the registry knows it (agent/tail.c computes it: tail_fingerprint()). */
struct file_id {
    uint64_t dev;
    uint64_t ino;
    uint64_t fp;     /* hash of the first fp_len bytes (grows to 1 KiB as the file grows) */
    uint32_t fp_len;
    /* Stable for the file's whole life and across restarts: a hash of dev, inode and the
     * inode's birth time (statx), or of dev, inode and the first line's bytes on filesystems
     * without birth times. Use THIS (with the event's offset) for document ids: fp changes
     * while a small file grows, uid never does, and inode reuse gives a new uid. */
    uint64_t uid;
};

/* What an output may know about where a batch came from. Owned by the tracked file, which
 * is freed only when its in-flight FIFO is empty, so it outlives every batch pointing at it;
 * immutable meanwhile. */
struct event_source {
    const char *input; /* [input NAME] */
    const char *path;  /* log.file.path */
    struct file_id id;
};

struct event {
    uint64_t offset;   /* log.offset: first byte of the record */
    uint64_t end;      /* one past the record's last byte (its newline): the commit point */
    int64_t ts_ms;     /* @timestamp, ms since the epoch, UTC */
    const char *message;
    uint32_t message_len;
    const char *json; /* the serialized event, ending in '\n' */
    uint32_t json_len;
    struct field *fields; /* the parser's and the input's fields, sorted by key */
    uint16_t nfields;
    uint16_t flags;
};

struct arena_chunk;

struct event_batch {
    const struct event_source *src;
    const char *host_name;
    uint64_t seq;        /* per-source sequence number, dense */
    uint64_t start, end; /* byte range of the file the batch covers */
    struct event *ev;
    uint32_t n, cap;
    size_t bytes;        /* arena bytes held: what the pipeline's byte budget counts */
    atomic_int pending;  /* outputs that have not acked yet */
    struct arena_chunk *chunks;
    struct event_batch *next; /* pipeline-private list link */
    void *owner;              /* pipeline-private */
    uint64_t commit_end;      /* pipeline-private: where committing it moves the offset */
};

/* Creates an empty batch able to hold `cap` events. */
LF_MUST_CHECK struct event_batch *batch_new(const struct event_source *src, const char *host_name,
                              uint32_t cap);
void batch_free(struct event_batch *b);

/* The per-input constants every event of a file carries. */
struct event_base {
    const char *host_name;
    const char *path;
    const struct field *static_fields; /* [input] fields.KEY = value, keys interned, sorted
                                        * with event_sort_fields() after fkey_freeze() */
    int nstatic;
    int names_clean; /* host_name and path need no JSON escaping (set by event_base_init) */
    int skip_fields; /* 1: no output reads ev->fields/ev->message, so batch_add leaves them
                      * out (nfields 0, message NULL). 0 (keep them) unless the core says so */
};

/* The agent's identity, which the running agent sets once before threads start (see
 * agent/base/agent_id.c): from then on every event carries Filebeat's agent.id, agent.name,
 * agent.type ("logferry"), agent.version, ecs.version and input.type ("filestream") fields,
 * so that Logstash pipelines and Kibana views written for Filebeat find them. Until it is
 * set (unit tests, `logferry parse`) events have none of them. The strings are borrowed and
 * must outlive every batch; `id` NULL unsets. */
void event_set_agent(const char *id, const char *name);

/* Fills a base (the strings are borrowed and must outlive every batch built with it). */
void event_base_init(struct event_base *base, const char *host_name, const char *path,
                     const struct field *static_fields, int nstatic);

/* Sorts fields into the order the writer needs (call once for static fields). */
void event_sort_fields(struct field *f, int n);

/* Serializes one record into the batch: copies message (len bytes at `line`, without its
 * line ending), the builder's fields and the base's static fields, sorts them, writes the
 * JSON line. `offset`/`end` are the record's byte range; now_ms is the read time used when
 * the builder has no timestamp. Returns 0, or -1 when the batch is full (n == cap) or out of
 * memory. The builder's fields are sorted in place. A parser field with a base key (message,
 * @timestamp...) is dropped; a static field loses to a parser field of the same key. */
int batch_add(struct event_batch *b, const struct event_base *base, struct event_builder *eb,
              const char *line, size_t len, uint64_t offset, uint64_t end, int64_t now_ms);

/* Looks a field up by dotted name on a built event, including the base fields (message,
 * host.name, log.file.path, log.offset, @timestamp as ms integer). Returns 1 and fills *out,
 * or 0 when absent. Linear; meant for routing conditions and templates, not the hot path. */
int event_get(const struct event_batch *b, const struct event *ev, const char *name,
              struct field *out);

#endif
