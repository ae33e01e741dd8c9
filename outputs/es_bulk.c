/*
 * es_bulk.c - the Elasticsearch _bulk wire format, as pure functions: document ids, index
 * names, the NDJSON body, gzip, and reading a _bulk response.
 *
 * Owned by the Elasticsearch output; called on its thread (and by unit tests). Nothing here
 * does I/O or keeps global state; the index-name cache is per output instance.
 *
 * Hot path: es_bulk_append() writes the action line by hand and copies the event's already
 * serialized JSON (ev->json, which ends in '\n') as is: no jansson, no re-serialization.
 * The response is parsed with jansson only when it does not say "errors":false.
 *
 * gzip: libcurl does not compress request bodies (CURLOPT_ACCEPT_ENCODING only decodes
 * responses), so bodies are deflated here, with libdeflate (agent/base/compress.h) at level
 * 1: faster than zlib's level 1 and smaller on _bulk bodies (bench/deflate_cmp.sh,
 * bench/es.sh).
 */
#include "outputs/es.h"

#include "agent/base/compress.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>


/* ---- document ids ---- */

static uint64_t mix64(uint64_t x)
{
    /* splitmix64 finalizer: a fixed, well-spread bijection (stable across versions) */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static const char hexd[] = "0123456789abcdef";

int es_doc_id(const struct file_id *id, uint64_t offset, char out[40])
{
    uint64_t h;
    if (id->uid) {
        /* the core's lifetime identity of the file (dev, inode, birth time): stable across
         * restarts, rotations and the growth of a small file */
        h = mix64(id->uid);
    } else {
        /* no uid (a source that did not compute one): dev, inode and fingerprint */
        h = mix64(id->fp + 0x9e3779b97f4a7c15ULL);
        h = mix64(h ^ id->ino);
        h = mix64(h ^ (id->dev * 0x9e3779b97f4a7c15ULL));
    }
    int n = 0;
    for (int i = 60; i >= 0; i -= 4)
        out[n++] = hexd[(h >> i) & 15];
    out[n++] = '-';
    /* offset in hex, no leading zeros */
    char tmp[16];
    int t = 0;
    do {
        tmp[t++] = hexd[offset & 15];
        offset >>= 4;
    } while (offset);
    while (t)
        out[n++] = tmp[--t];
    out[n] = '\0';
    return n;
}

/* ---- index names ---- */

void es_index_cache_init(struct es_index_cache *ic, const char *fmt)
{
    memset(ic, 0, sizeof *ic);
    ic->fmt = fmt;
    ic->literal = strchr(fmt, '%') == NULL;
    ic->per_second = strpbrk(fmt, "%") && (strstr(fmt, "%H") || strstr(fmt, "%M") ||
                                           strstr(fmt, "%S") || strstr(fmt, "%I"));
    ic->key = INT64_MIN;
    if (ic->literal) {
        snprintf(ic->name, sizeof ic->name, "%s", fmt);
        ic->len = strlen(ic->name);
        ic->invalid = es_index_invalid(ic->name, ic->len);
    }
}

const char *es_index_invalid(const char *n, size_t len)
{
    if (len == 0)
        return "empty index name";
    if (len > 255)
        return "index name longer than 255 bytes";
    if ((len == 1 && n[0] == '.') || (len == 2 && n[0] == '.' && n[1] == '.'))
        return "index name '.' or '..'";
    if (n[0] == '-' || n[0] == '_' || n[0] == '+')
        return "index name starts with - _ or +";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)n[i];
        if (c < 0x20 || c >= 0x7f)
            return "control or non-ASCII byte in index name";
        if (c >= 'A' && c <= 'Z')
            return "upper-case letter in index name";
        if (strchr("\\/*?\"<>| ,#:", c))
            return "character Elasticsearch refuses in index name";
    }
    return NULL;
}

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

const char *es_index_name(struct es_index_cache *ic, int64_t ts_ms, size_t *len)
{
    if (!ic->literal) {
        int64_t key = floordiv(ts_ms, ic->per_second ? 1000 : 86400000);
        if (key != ic->key) {
            time_t t = (time_t)floordiv(ts_ms, 1000);
            struct tm tm;
            if (!gmtime_r(&t, &tm))
                memset(&tm, 0, sizeof tm);
            /* the format is the checked `index` setting (es_conf.c allows only date/time
             * conversions), not log content */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
            size_t n = strftime(ic->name, sizeof ic->name, ic->fmt, &tm);
#pragma GCC diagnostic pop
            if (n == 0) /* cannot happen with a checked format; keep a usable name */
                n = (size_t)snprintf(ic->name, sizeof ic->name, "logferry-invalid-index");
            ic->len = n;
            ic->key = key;
            ic->invalid = es_index_invalid(ic->name, n);
        }
    }
    *len = ic->len;
    return ic->name;
}

/* ---- body ---- */

int es_bulk_append(struct buf *body, struct es_index_cache *ic, const struct event_batch *b,
                   const struct event *ev)
{
    size_t ilen;
    const char *idx = es_index_name(ic, ev->ts_ms, &ilen);
    char id[40];
    int idlen = es_doc_id(&b->src->id, ev->offset, id);
    static const char a1[] = "{\"create\":{\"_index\":\"";
    static const char a2[] = "\",\"_id\":\"";
    static const char a3[] = "\"}}\n";
    size_t jl = ev->json_len;
    int addnl = jl == 0 || ev->json[jl - 1] != '\n';
    size_t need = sizeof a1 - 1 + ilen + sizeof a2 - 1 + (size_t)idlen + sizeof a3 - 1 + jl + 1;
    if (body->cap - body->len < need && buf_reserve(body, need) != 0)
        return -1;
    char *p = body->p + body->len;
    memcpy(p, a1, sizeof a1 - 1);
    p += sizeof a1 - 1;
    memcpy(p, idx, ilen);
    p += ilen;
    memcpy(p, a2, sizeof a2 - 1);
    p += sizeof a2 - 1;
    memcpy(p, id, (size_t)idlen);
    p += idlen;
    memcpy(p, a3, sizeof a3 - 1);
    p += sizeof a3 - 1;
    memcpy(p, ev->json, jl);
    p += jl;
    if (addnl)
        *p++ = '\n';
    body->len = (size_t)(p - body->p);
    return 0;
}

/* ---- gzip ---- */

int es_have_gzip(void)
{
    return 1; /* libdeflate is a dependency of every build */
}

int es_gzip(struct lf_compressor *z, const char *in, size_t n, struct buf *out, char *err,
            size_t errsz)
{
    buf_reset(out);
    if (!z || lf_compress(z, LF_GZIP, in, n, out) != 0) {
        snprintf(err, errsz, "gzip: out of memory (or over the cap) for %zu bytes", n);
        return -1;
    }
    return 0;
}

/* ---- responses ---- */

int es_bulk_all_ok(const char *resp, size_t len)
{
    /* {"took":3,"errors":false,"items":[...]} or, with filter_path, {"errors":false,...}.
     * "errors" precedes "items" in Elasticsearch's output; look only before the items. */
    if (!resp || len == 0)
        return 0;
    size_t lim = len < 512 ? len : 512;
    const char *e = memmem(resp, lim, "\"errors\"", 8);
    if (!e)
        return 0;
    const char *it = memmem(resp, lim, "\"items\"", 7);
    if (it && it < e)
        return 0;
    const char *p = e + 8, *end = resp + lim;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    if (p >= end || *p != ':')
        return 0;
    p++;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return (size_t)(end - p) >= 5 && memcmp(p, "false", 5) == 0;
}

void es_sanitize(const char *s, char *out, size_t outsz)
{
    size_t n = 0;
    if (!outsz)
        return;
    for (; s && *s && n + 1 < outsz; s++) {
        unsigned char c = (unsigned char)*s;
        out[n++] = (c < 0x20 || c == 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
    }
    out[n] = '\0';
}

enum es_verdict es_item_verdict(int status, const char *type)
{
    if (status >= 200 && status < 300)
        return ES_DONE;
    if (status == 409) /* create on an existing _id: this document is already indexed */
        return ES_DONE;
    if (status == 429 || status >= 500)
        return ES_RETRY;
    if (status == 403 && type && strcmp(type, "cluster_block_exception") == 0)
        return ES_RETRY; /* read-only index (disk watermark): clears when space returns */
    return ES_DEAD;
}

int es_json_small(const char *p, size_t len, size_t max)
{
    /* Counts what makes jansson allocate a value: containers opened and separators, outside
     * strings. 4 bytes of "[{},{}" can cost jansson a few hundred bytes each. */
    size_t k = 0;
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if ((c == '{' || c == '[' || c == ',') && ++k > max) {
            return 0;
        }
    }
    return 1;
}

int es_bulk_parse(const char *resp, size_t len, struct es_item_result *res, size_t n,
                  char *err, size_t errsz)
{
    if (!resp || len == 0) {
        snprintf(err, errsz, "empty response");
        return -1;
    }
    if (!es_json_small(resp, len, ES_JSON_PER_DOC * n + 64)) {
        snprintf(err, errsz, "response has more JSON values than a _bulk answer for %zu "
                 "documents", n);
        return -1;
    }
    json_error_t je;
    json_t *root = json_loadb(resp, len, 0, &je);
    if (!root) {
        snprintf(err, errsz, "response is not JSON (%s at byte %d)", je.text, je.position);
        return -1;
    }
    json_t *items = json_object_get(root, "items");
    if (!json_is_array(items) || json_array_size(items) != n) {
        snprintf(err, errsz, "response has %zu items for %zu documents",
                 json_is_array(items) ? json_array_size(items) : 0, n);
        json_decref(root);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(items, i);
        const char *action;
        json_t *r = NULL;
        if (json_is_object(it)) {
            void *iter = json_object_iter(it);
            if (iter) {
                action = json_object_iter_key(iter);
                (void)action;
                r = json_object_iter_value(iter);
            }
        }
        json_t *st = json_is_object(r) ? json_object_get(r, "status") : NULL;
        if (!json_is_integer(st)) {
            snprintf(err, errsz, "item %zu has no status", i);
            json_decref(root);
            return -1;
        }
        struct es_item_result *o = &res[i];
        o->status = (int)json_integer_value(st);
        o->type[0] = o->reason[0] = '\0';
        json_t *e = json_object_get(r, "error");
        if (json_is_object(e)) {
            es_sanitize(json_string_value(json_object_get(e, "type")), o->type, sizeof o->type);
            es_sanitize(json_string_value(json_object_get(e, "reason")), o->reason,
                        sizeof o->reason);
            json_t *cause = json_object_get(e, "caused_by");
            if (json_is_object(cause) && strlen(o->reason) < 150) {
                size_t l = strlen(o->reason);
                char more[128];
                es_sanitize(json_string_value(json_object_get(cause, "reason")), more, sizeof more);
                if (*more)
                    snprintf(o->reason + l, sizeof o->reason - l, "%s(caused by: %s)",
                             l ? " " : "", more);
            }
        } else if (json_is_string(e)) {
            es_sanitize(json_string_value(e), o->reason, sizeof o->reason);
        }
        o->verdict = es_item_verdict(o->status, o->type);
    }
    json_decref(root);
    return 0;
}
