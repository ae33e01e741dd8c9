/*
 * lineproc.h - what happens to a line between the read and the batch: multiline joining,
 * include/exclude filters, and the parser. One `struct lineproc` per [input] (immutable after
 * creation, shared by that input's files); one `struct lineproc_state` per open file (the
 * pending multiline record), owned by the tail thread.
 *
 * Parsers stand on the ground floor (agent/base/event.h, config.h): they fill an event_builder and
 * know nothing of the daemon.
 *
 * Offsets and the commit point: every call to the `out` callback covers the byte range
 * [offset, end) of the file; `end` is what the registry may commit once the event is
 * acknowledged. Lines held back (a multiline record still open) are not covered by any out()
 * call yet, so a restart re-reads them: a record is never split or lost.
 */
#ifndef LF_LINEPROC_H
#define LF_LINEPROC_H

#include <stddef.h>
#include <stdint.h>

#include "agent/base/config.h"
#include "agent/base/event.h"

struct lineproc;
struct lineproc_state;

/* Line flags passed in by the reader. */
enum { LINE_TRUNCATED = 1 };

/* A finished record. eb == NULL means the record was filtered out (exclude_lines /
 * include_lines): ship nothing, but its range still counts as consumed. Otherwise eb holds
 * the parsed fields, timestamp and flags (EV_*). Returns 0, or -1 to stop (out of memory). */
typedef int (*lineproc_out)(void *ctx, struct event_builder *eb, const char *rec, size_t len,
                            uint64_t offset, uint64_t end);

/* Registers the parsers of every [parser NAME] section (call once per configuration, before
 * inputs). Errors go to errs with FILE:LINE. Returns the number of errors. */
int parsers_configure(struct conf *c, struct conf_errs *errs);
void parsers_free(void);
/* The keys of a [parser NAME] section, for `logferry keys` (NULL-name terminated). */
const struct conf_key *parsers_keys(void);

/* Builds the processing of one [input] section: claims its keys `format`, `parser`, `multiline`,
 * `multiline.*`, `include_lines`, `exclude_lines`, `timezone` (marking them used) and
 * validates them. NULL only on out of memory; errors go to errs. */
struct lineproc *lineproc_new(struct conf *c, struct conf_section *input, struct conf_errs *errs);
void lineproc_free(struct lineproc *lp);
/* The [input] keys lineproc_new() claims, for `logferry keys` (NULL-name terminated). */
const struct conf_key *lineproc_keys(void);
/* One-line description for `logferry check` ("parser nginx_combined, multiline java"). */
const char *lineproc_describe(const struct lineproc *lp);

/* path: the file the state reads (container inputs take container.id, kubernetes.* from it);
 * may be NULL. */
struct lineproc_state *lineproc_state_new(const struct lineproc *lp, const char *path);
void lineproc_state_free(struct lineproc_state *st);

/* Feeds one line (without its line ending) that spans [offset, end) of the file. */
int lineproc_feed(const struct lineproc *lp, struct lineproc_state *st, struct event_builder *eb,
                  const char *line, size_t len, uint64_t offset, uint64_t end, unsigned line_flags,
                  int64_t now_ms, lineproc_out out, void *ctx);
/* Emits the pending record, if any (multiline timeout, end of file, close, end of input):
 * a container line still waiting for its last piece first (marked truncated), then a held
 * empty line, then the multiline record. Nothing is ever dropped: a split line whose end
 * comes after a multiline timeout is shipped in two events rather than held back. */
int lineproc_flush(const struct lineproc *lp, struct lineproc_state *st, struct event_builder *eb,
                   lineproc_out out, void *ctx);
/* Monotonic ms at which the pending record must be flushed; 0 when nothing is pending. */
int64_t lineproc_deadline(const struct lineproc_state *st);
/* Start offset of the pending record (what a restart must re-read), or UINT64_MAX if none. */
uint64_t lineproc_pending_offset(const struct lineproc_state *st);

/* Counters the parsers keep (exposed in metrics). */
struct parser_metrics {
    unsigned long long parse_failures;
};

#endif
