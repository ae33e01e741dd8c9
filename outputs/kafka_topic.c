/*
 * kafka_topic.c - the topic template and the topic handle cache of the Kafka output.
 *
 * A template is literal text with field references, in the spirit of Filebeat's format
 * strings (`%{[fields.log_topic]}` with an optional default):
 *     logs-%{service.name}           the field's value, or topic_fallback when it is missing
 *     logs-%{service.name:-misc}     "misc" when the field is missing
 *     100%%                          a literal '%'
 * Field values come from event_get() (so host.name, log.file.path, message... work too).
 * The rendered name is checked against Kafka's rules by the caller (ktopic_valid): an event
 * whose template yields an illegal name goes to the dead-letter file rather than to a topic
 * the broker would refuse forever.
 *
 * Compile runs at configuration time; render and the cache run on the output's thread.
 */
#include "outputs/kafka_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_part(struct ktpl *t, struct ktpl_part p)
{
    struct ktpl_part *np = realloc(t->p, (size_t)(t->n + 1) * sizeof *np);
    if (!np)
        return -1;
    t->p = np;
    t->p[t->n++] = p;
    return 0;
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int batch_constant(const char *field)
{
    return strcmp(field, "host.name") == 0 || strcmp(field, "log.file.path") == 0;
}

int ktpl_compile(const char *s, struct ktpl *t, char *err, size_t errsz)
{
    memset(t, 0, sizeof *t);
    struct buf lit;
    buf_init(&lit, 4096);
    t->kind = KTPL_STATIC;
    const char *p = s;
    while (*p) {
        if (p[0] == '%' && p[1] == '%') {
            if (buf_addc(&lit, '%') != 0)
                goto toolong;
            p += 2;
            continue;
        }
        if (p[0] != '%' || p[1] != '{') {
            if (buf_addc(&lit, *p) != 0)
                goto toolong;
            p++;
            continue;
        }
        const char *start = p + 2, *end = strchr(start, '}');
        if (!end) {
            snprintf(err, errsz, "unterminated %%{ at column %d", (int)(p - s) + 1);
            goto fail;
        }
        if (lit.len) {
            char *l = dupn(lit.p, lit.len);
            if (!l || add_part(t, (struct ktpl_part){l, lit.len, NULL, NULL}) != 0) {
                free(l);
                goto oom;
            }
            buf_reset(&lit);
        }
        const char *sep = strstr(start, ":-");
        size_t flen = (size_t)(end - start);
        const char *def = NULL;
        if (sep && sep < end) {
            flen = (size_t)(sep - start);
            def = sep + 2;
        }
        if (flen == 0) {
            snprintf(err, errsz, "empty field name in %%{} at column %d", (int)(p - s) + 1);
            goto fail;
        }
        char *f = dupn(start, flen);
        char *d = def ? dupn(def, (size_t)(end - def)) : NULL;
        if (!f || (def && !d) || add_part(t, (struct ktpl_part){NULL, 0, f, d}) != 0) {
            free(f);
            free(d);
            goto oom;
        }
        if (!batch_constant(f))
            t->kind = KTPL_EVENT;
        else if (t->kind == KTPL_STATIC)
            t->kind = KTPL_BATCH;
        p = end + 1;
    }
    if (lit.len || t->n == 0) {
        char *l = dupn(lit.p ? lit.p : "", lit.len);
        if (!l || add_part(t, (struct ktpl_part){l, lit.len, NULL, NULL}) != 0) {
            free(l);
            goto oom;
        }
    }
    buf_free(&lit);
    return 0;
toolong:
    snprintf(err, errsz, "template longer than 4096 bytes");
    goto fail;
oom:
    snprintf(err, errsz, "out of memory");
fail:
    buf_free(&lit);
    ktpl_free(t);
    return -1;
}

void ktpl_free(struct ktpl *t)
{
    for (int i = 0; i < t->n; i++) {
        free(t->p[i].lit);
        free(t->p[i].field);
        free(t->p[i].def);
    }
    free(t->p);
    t->p = NULL;
    t->n = 0;
}

int kfield_text(const struct field *f, char *out, size_t outsz)
{
    int n;
    switch (f->type) {
    case FV_STR: {
        size_t l = f->len < outsz - 1 ? f->len : outsz - 1;
        memcpy(out, f->v.s, l);
        out[l] = '\0';
        return (int)l;
    }
    case FV_INT:
        n = snprintf(out, outsz, "%" PRId64, f->v.i);
        break;
    case FV_FLOAT:
        n = snprintf(out, outsz, "%.17g", f->v.f);
        break;
    case FV_BOOL:
        n = snprintf(out, outsz, "%s", f->v.b ? "true" : "false");
        break;
    default:
        return -1;
    }
    if (n < 0)
        return -1;
    return (size_t)n >= outsz ? (int)outsz - 1 : n;
}

int ktpl_render(const struct ktpl *t, const struct event_batch *b, const struct event *ev,
                char *out, size_t outsz, size_t *outlen, const char **missing)
{
    *outlen = 0;
    size_t len = 0;
    for (int i = 0; i < t->n; i++) {
        const struct ktpl_part *p = &t->p[i];
        const char *s;
        size_t n;
        char num[64];
        struct field f;
        if (p->lit) {
            s = p->lit;
            n = p->litlen;
        } else if (event_get(b, ev, p->field, &f) && f.type != FV_JSON) {
            if (f.type == FV_STR) {
                s = f.v.s;
                n = f.len;
            } else {
                int k = kfield_text(&f, num, sizeof num);
                s = num;
                n = k > 0 ? (size_t)k : 0;
            }
        } else if (p->def) {
            s = p->def;
            n = strlen(p->def);
        } else {
            *missing = p->field;
            return 1;
        }
        if (len + n >= outsz)
            return 2;
        memcpy(out + len, s, n);
        len += n;
    }
    out[len] = '\0';
    *outlen = len; /* a field value may hold a NUL: the length, not strlen, is the name */
    return 0;
}

const char *ktopic_invalid(const char *name, size_t len)
{
    if (len == 0)
        return "empty topic name";
    if (len > KTOPIC_MAX)
        return "topic name longer than 249 bytes";
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return "topic name '.' or '..'";
    /* Kafka's own topics (__consumer_offsets, __transaction_state) and any future ones */
    if (len >= 2 && name[0] == '_' && name[1] == '_')
        return "internal topic name (leading __)";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == 0)
            return "NUL byte in topic name";
        if (c < 0x20 || c == 0x7f)
            return "control character in topic name";
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return "character Kafka refuses in topic name";
    }
    return NULL;
}

int ktopic_valid(const char *name, size_t len)
{
    return ktopic_invalid(name, len) == NULL;
}

static uint32_t hash_name(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

rd_kafka_topic_t *ktcache_get(struct ktcache *tc, rd_kafka_t *rk, const char *name, char *err,
                              size_t errsz)
{
    uint32_t h = hash_name(name) % KTCACHE_SIZE;
    for (uint32_t i = 0; i < KTCACHE_SIZE; i++) {
        uint32_t j = (h + i) % KTCACHE_SIZE;
        if (!tc->e[j].name)
            break;
        if (strcmp(tc->e[j].name, name) == 0)
            return tc->e[j].rkt;
    }
    /* Keep the table at most 3/4 full: when a template fans out to many topics, start over
     * (dropping our references is safe: queued messages hold their own). */
    if (tc->used >= KTCACHE_SIZE * 3 / 4)
        ktcache_clear(tc);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, name, NULL);
    if (!rkt) {
        snprintf(err, errsz, "%s", rd_kafka_err2str(rd_kafka_last_error()));
        return NULL;
    }
    char *copy = strdup(name);
    if (!copy) {
        rd_kafka_topic_destroy(rkt);
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    for (uint32_t i = 0;; i++) {
        uint32_t j = (h + i) % KTCACHE_SIZE;
        if (!tc->e[j].name) {
            tc->e[j].name = copy;
            tc->e[j].rkt = rkt;
            tc->used++;
            return rkt;
        }
    }
}

void ktcache_clear(struct ktcache *tc)
{
    for (int i = 0; i < KTCACHE_SIZE; i++)
        if (tc->e[i].name) {
            rd_kafka_topic_destroy(tc->e[i].rkt);
            free(tc->e[i].name);
            tc->e[i].name = NULL;
            tc->e[i].rkt = NULL;
        }
    tc->used = 0;
}
