/*
 * kafka_dead.c - the Kafka output's dead-letter file: events Kafka will never accept.
 *
 * A message too large for the broker, a topic we are not authorized to write, a template
 * that yields an illegal topic name: retrying those forever would stop the file they came
 * from (its offset could never advance past them). They are appended, one JSON object per
 * line, to <data_dir>/dead-letter/kafka-<name>.ndjson with the reason, the topic and the
 * whole event, counted in events_dead, and logged once per (reason, topic). The event then
 * counts as handled so the rest flows. If the dead-letter file cannot be written (disk full),
 * the caller keeps the event and tries again: it is never dropped.
 *
 * Runs on the output's thread only (from send/tick/flush and the delivery report callback).
 */
#include "outputs/kafka_int.h"

#include "agent/base/json.h"
#include "agent/base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int isalnum_ascii(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A printable, bounded copy of text from log content (a topic rendered from a field), so a
 * hostile value cannot forge lines in our own log. */
static const char *printable(const char *s, char *out, size_t outsz)
{
    size_t n = 0;
    for (; *s && n + 1 < outsz; s++)
        out[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    out[n] = '\0';
    return out;
}

int kdead_init(struct kdead *d, const struct output_env *env, char *err, size_t errsz)
{
    memset(d, 0, sizeof *d);
    d->fd = -1;
    char name[128];
    size_t n = 0;
    for (const char *p = env->name; *p && n < sizeof name - 1; p++)
        name[n++] = (isalnum_ascii(*p) || *p == '-' || *p == '_' || *p == '.') ? *p : '_';
    name[n] = '\0';
    const char *dir = env->data_dir && *env->data_dir ? env->data_dir : ".";
    size_t need = strlen(dir) + strlen(name) + 40;
    d->path = malloc(need);
    if (!d->path) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    snprintf(d->path, need, "%s/dead-letter/kafka-%s.ndjson", dir, name);
    return 0;
}

void kdead_close(struct kdead *d)
{
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
    free(d->path);
    d->path = NULL;
}

static int open_dead(struct kdead *d, char *err, size_t errsz)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", d->path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
            snprintf(err, errsz, "cannot create %s: %s", dir, strerror(errno));
            return -1;
        }
    }
    d->fd = open(d->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (d->fd < 0) {
        snprintf(err, errsz, "cannot open %s: %s", d->path, strerror(errno));
        return -1;
    }
    return 0;
}

int kdead_write(struct kdead *d, const struct output_env *env, const char *reason,
                const char *detail, const char *topic, const char *event_json, size_t json_len,
                char *err, size_t errsz)
{
    if (d->fd < 0 && open_dead(d, err, errsz) != 0)
        return -1;
    struct buf o;
    buf_init(&o, json_len + 8192);
    char tbuf[32];
    json_format_ts(wall_ms(), tbuf);
    int rc = buf_adds(&o, "{\"time\":\"");
    rc |= buf_adds(&o, tbuf);
    rc |= buf_adds(&o, "\",\"output\":");
    rc |= json_write_string(&o, env->name, strlen(env->name));
    rc |= buf_adds(&o, ",\"reason\":");
    rc |= json_write_string(&o, reason, strlen(reason));
    rc |= buf_adds(&o, ",\"error\":");
    rc |= json_write_string(&o, detail, strlen(detail));
    rc |= buf_adds(&o, ",\"topic\":");
    rc |= json_write_string(&o, topic, strnlen(topic, 1024));
    rc |= buf_adds(&o, ",\"event\":");
    rc |= buf_add(&o, event_json, json_len);
    rc |= buf_adds(&o, "}\n");
    if (rc != 0) {
        buf_free(&o);
        snprintf(err, errsz, "out of memory formatting a dead letter");
        return -1;
    }
    size_t off = 0;
    while (off < o.len) {
        ssize_t w = write(d->fd, o.p + off, o.len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errsz, "cannot write %s: %s", d->path, strerror(errno));
            buf_free(&o);
            /* A partial line would corrupt the file: cut back to where we started is not
             * possible with O_APPEND, so end the torn line; readers skip invalid lines. */
            if (off > 0 && write(d->fd, "\n", 1) < 0) {
            }
            return -1;
        }
        off += (size_t)w;
    }
    buf_free(&o);
    enum lf_once_verdict v = lf_once_check(&d->logged, reason, topic);
    if (v != LF_ONCE_SEEN) {
        char pt[128];
        LF_LOG(LF_WARN, "out.kafka", "[%s] %s (topic '%s'): %s; the event goes to %s (logged "
               "once per reason and topic; see events_dead)", env->name, reason,
               printable(topic, pt, sizeof pt), detail, d->path);
    }
    if (v == LF_ONCE_FULL)
        LF_LOG(LF_WARN, "out.kafka", "[%s] %d kinds of dead letters logged: further kinds are "
               "not logged (they are counted in events_dead and written to %s)", env->name,
               LF_ONCE_KINDS, d->path);
    METRIC_ADD(env->m->events_dead, 1);
    return 0;
}
