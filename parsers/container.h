/*
 * container.h - the files container runtimes write a container's stdout/stderr to
 * (parsers/ only; lineproc.c is the one caller).
 *
 *   docker  the json-file driver: {"log":"TEXT\n","stream":"stdout","time":"RFC3339Nano"}
 *           per line; a line longer than 16 KiB is split into several objects whose `log`
 *           has no trailing "\n" until the last.
 *   cri     containerd, CRI-O, Kubernetes' /var/log/containers/NAME.log:
 *           `TIME STREAM TAG TEXT`, TAG `P` (partial: more follows) or `F` (full); the old
 *           form without a tag is read as `F`, as Filebeat does.
 *   auto    docker for a line starting with '{', cri otherwise.
 *
 * ctr_decode() is a pure function of its arguments (the decoded text may be written into
 * the caller's scratch buffer); ctr_source_from_path() likewise. Any thread.
 */
#ifndef LF_CONTAINER_H
#define LF_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "agent/base/buf.h"
#include "parsers/timeparse.h"

enum ctr_format { CTR_NONE = 0, CTR_DOCKER, CTR_CRI, CTR_AUTO };
enum ctr_stream { CTR_STREAM_NONE = 0, CTR_STDOUT, CTR_STDERR };

struct ctr_line {
    const char *text; /* the container's own text, without the runtime's line ending */
    size_t len;
    int stream;    /* enum ctr_stream */
    int64_t ts_ms; /* the runtime's time, ms since the epoch; 0 when it had none */
    int partial;   /* more of this line follows in the next runtime line */
};

/* "docker" | "cri" | "auto" -> the format; -1 for anything else. */
int ctr_format_parse(const char *s);
const char *ctr_format_name(enum ctr_format f);
const char *ctr_stream_name(int stream);

/* Decodes one line of the runtime's file (without its '\n'). out->text points into `line`
 * or into `scratch` (reset here, grown up to len bytes: a decoded text is never longer than
 * the JSON it came from). tc (may be NULL): the caller's cache of the runtime's last time
 * (timeparse.h). Returns 0, or -1 when the line is not in the runtime's format
 * (nothing in out is meaningful then) or scratch could not grow. */
int ctr_decode(enum ctr_format f, const char *line, size_t len, struct buf *scratch,
               struct tp_iso_cache *tc, struct ctr_line *out);

/* What a runtime's file path says about its container (empty strings when nothing):
 *   /var/lib/docker/containers/ID/ID-json.log[.N]    -> id
 *   /var/log/containers/POD_NAMESPACE_CONTAINER-ID.log -> pod, namespace, name, id
 *   /var/log/pods/NAMESPACE_POD_UID/CONTAINER/N.log  -> pod, namespace, name */
struct ctr_source {
    char id[65];
    char pod[254];
    char ns[64];
    char name[64];
};
void ctr_source_from_path(const char *path, struct ctr_source *cs);

#endif
