/*
 * event.c - field keys, the event builder, batches and their arena, and the event JSON
 * serializer (see event.h for the model and its ownership rules).
 *
 * Threads: fkey_intern/fkey_freeze run at configuration time on the main thread only; a
 * builder and a batch under construction belong to the tail thread; a dispatched batch is
 * read-only and shared by the output threads until the last ack.
 */
#include "agent/event.h"
#include "agent/json.h"

#include <stdlib.h>
#include <string.h>

/* ---- field keys ---- */

static struct fkey **keys;
static size_t nkeys, capkeys;

const struct fkey *FK_TIMESTAMP, *FK_MESSAGE, *FK_HOST_NAME, *FK_LOG_FILE_PATH, *FK_LOG_OFFSET,
    *FK_LOG_FLAGS, *FK_TAGS, *FK_INPUT_TYPE;

static int valid_dotted(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || s[0] == '.' || s[n - 1] == '.' || strstr(s, ".."))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\')
            return 0;
    return 1;
}

const struct fkey *fkey_intern(const char *dotted)
{
    if (!valid_dotted(dotted))
        return NULL;
    for (size_t i = 0; i < nkeys; i++)
        if (strcmp(keys[i]->name, dotted) == 0)
            return keys[i];
    if (nkeys == capkeys) {
        size_t nc = capkeys ? capkeys * 2 : 64;
        struct fkey **nk = realloc(keys, nc * sizeof *nk);
        if (!nk)
            return NULL;
        keys = nk;
        capkeys = nc;
    }
    struct fkey *k = malloc(sizeof *k);
    char *name = strdup(dotted);
    if (!k || !name) {
        free(k);
        free(name);
        return NULL;
    }
    k->name = name;
    k->len = (uint32_t)strlen(name);
    k->rank = 0;
    keys[nkeys++] = k;
    return k;
}

/* Order of dotted keys for nesting: byte order, except that '.' sorts before every other
 * byte. With plain strcmp "a.b-c" ('-' < '.') would fall between "a.b" and "a.b.d" and split
 * the a.b object in two (a duplicate key); component-wise order keeps each object's keys
 * contiguous. */
int fkey_name_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned ca = (unsigned char)*a, cb = (unsigned char)*b;
        if (ca == cb) {
            if (!ca)
                return 0;
            continue;
        }
        if (!ca || !cb)
            return ca ? 1 : -1;
        if (ca == '.')
            return -1;
        if (cb == '.')
            return 1;
        return ca < cb ? -1 : 1;
    }
}

static int cmp_keyptr(const void *a, const void *b)
{
    return fkey_name_cmp((*(struct fkey *const *)a)->name, (*(struct fkey *const *)b)->name);
}

void fkey_init_builtin(void)
{
    FK_TIMESTAMP = fkey_intern("@timestamp");
    FK_MESSAGE = fkey_intern("message");
    FK_HOST_NAME = fkey_intern("host.name");
    FK_LOG_FILE_PATH = fkey_intern("log.file.path");
    FK_LOG_OFFSET = fkey_intern("log.offset");
    FK_LOG_FLAGS = fkey_intern("log.flags");
    FK_TAGS = fkey_intern("tags");
    FK_INPUT_TYPE = fkey_intern("input.type");
}

void fkey_freeze(void)
{
    if (!FK_MESSAGE)
        fkey_init_builtin();
    struct fkey **sorted = malloc((nkeys ? nkeys : 1) * sizeof *sorted);
    if (!sorted)
        return;
    memcpy(sorted, keys, nkeys * sizeof *sorted);
    qsort(sorted, nkeys, sizeof *sorted, cmp_keyptr);
    for (size_t i = 0; i < nkeys; i++)
        sorted[i]->rank = (uint32_t)i;
    free(sorted);
}

void fkey_reset(void)
{
    for (size_t i = 0; i < nkeys; i++) {
        free((char *)keys[i]->name);
        free(keys[i]);
    }
    free(keys);
    keys = NULL;
    nkeys = capkeys = 0;
    FK_TIMESTAMP = FK_MESSAGE = FK_HOST_NAME = FK_LOG_FILE_PATH = FK_LOG_OFFSET = NULL;
    FK_LOG_FLAGS = FK_TAGS = FK_INPUT_TYPE = NULL;
}

/* ---- builder ---- */

#define EB_SCRATCH_MAX (4u << 20)

void eb_init(struct event_builder *eb)
{
    memset(eb, 0, sizeof *eb);
    buf_init(&eb->scratch, EB_SCRATCH_MAX);
    buf_init(&eb->dynnames, 64 * 1024);
    /* Reserve the whole cap up front: pointers handed out by eb_strdup() must not move. */
    buf_reserve(&eb->scratch, 256 * 1024);
    buf_reserve(&eb->dynnames, 64 * 1024);
    eb->scratch.max = eb->scratch.cap;
    eb->dynnames.max = eb->dynnames.cap;
}

void eb_free(struct event_builder *eb)
{
    buf_free(&eb->scratch);
    buf_free(&eb->dynnames);
}

void eb_reset(struct event_builder *eb)
{
    eb->n = 0;
    eb->ts_ms = 0;
    eb->flags = 0;
    eb->ndyn = 0;
    eb->scratch.len = 0;
    eb->dynnames.len = 0;
}

static struct field *eb_slot(struct event_builder *eb, const struct fkey *k, uint8_t type)
{
    if (!k || eb->n >= EB_MAX_FIELDS)
        return NULL;
    struct field *f = &eb->f[eb->n++];
    f->key = k;
    f->type = type;
    f->len = 0;
    return f;
}

int eb_add_str(struct event_builder *eb, const struct fkey *k, const char *s, size_t len)
{
    struct field *f = eb_slot(eb, k, FV_STR);
    if (!f)
        return -1;
    f->v.s = s;
    f->len = (uint32_t)len;
    return 0;
}

int eb_add_json(struct event_builder *eb, const struct fkey *k, const char *s, size_t len)
{
    struct field *f = eb_slot(eb, k, FV_JSON);
    if (!f)
        return -1;
    f->v.s = s;
    f->len = (uint32_t)len;
    return 0;
}

int eb_add_int(struct event_builder *eb, const struct fkey *k, int64_t v)
{
    struct field *f = eb_slot(eb, k, FV_INT);
    if (!f)
        return -1;
    f->v.i = v;
    return 0;
}

int eb_add_float(struct event_builder *eb, const struct fkey *k, double v)
{
    struct field *f = eb_slot(eb, k, FV_FLOAT);
    if (!f)
        return -1;
    f->v.f = v;
    return 0;
}

int eb_add_bool(struct event_builder *eb, const struct fkey *k, int v)
{
    struct field *f = eb_slot(eb, k, FV_BOOL);
    if (!f)
        return -1;
    f->v.b = v ? 1 : 0;
    return 0;
}

const char *eb_strdup(struct event_builder *eb, const char *s, size_t len)
{
    if (eb->scratch.cap - eb->scratch.len < len + 1)
        return NULL;
    char *p = eb->scratch.p + eb->scratch.len;
    memcpy(p, s, len);
    p[len] = '\0';
    eb->scratch.len += len + 1;
    return p;
}

const struct fkey *eb_dynkey(struct event_builder *eb, const char *name, size_t len)
{
    if (eb->ndyn >= (int)(sizeof eb->dyn / sizeof eb->dyn[0]) || len == 0)
        return NULL;
    if (eb->dynnames.cap - eb->dynnames.len < len + 1)
        return NULL;
    char *p = eb->dynnames.p + eb->dynnames.len;
    memcpy(p, name, len);
    p[len] = '\0';
    eb->dynnames.len += len + 1;
    struct fkey *k = &eb->dyn[eb->ndyn++];
    k->name = p;
    k->len = (uint32_t)len;
    k->rank = FKEY_DYNAMIC;
    return k;
}

const struct field *eb_get(const struct event_builder *eb, const struct fkey *k)
{
    for (int i = eb->n - 1; i >= 0; i--)
        if (eb->f[i].key == k || (eb->f[i].key->rank == FKEY_DYNAMIC &&
                                  strcmp(eb->f[i].key->name, k->name) == 0))
            return &eb->f[i];
    return NULL;
}

/* ---- batches and their arena ---- */

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    char data[];
};

/* Live tailing makes many one-line batches and bulk reads make 2,048-event ones: the first
 * chunk is small and each next one doubles, up to CHUNK_MAX (a single larger event still
 * gets a chunk of its own size). */
#define CHUNK_FIRST (8 * 1024)
#define CHUNK_MAX (1024 * 1024)

static struct arena_chunk *chunk_new(struct event_batch *b, size_t need)
{
    size_t cap = b->chunks ? b->chunks->cap * 2 : CHUNK_FIRST;
    if (cap > CHUNK_MAX)
        cap = CHUNK_MAX;
    while (cap < need)
        cap *= 2;
    struct arena_chunk *c = malloc(sizeof *c + cap);
    if (!c)
        return NULL;
    c->used = 0;
    c->cap = cap;
    c->next = b->chunks;
    b->chunks = c;
    b->bytes += cap;
    return c;
}

static void *arena_alloc(struct event_batch *b, size_t n, size_t align)
{
    struct arena_chunk *c = b->chunks;
    size_t off = c ? (c->used + align - 1) & ~(align - 1) : 0;
    if (!c || off + n > c->cap) {
        c = chunk_new(b, n + align);
        if (!c)
            return NULL;
        off = 0;
    }
    c->used = off + n;
    return c->data + off;
}

struct event_batch *batch_new(const struct event_source *src, const char *host_name, uint32_t cap)
{
    struct event_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->ev = malloc((cap ? cap : 1) * sizeof *b->ev);
    if (!b->ev) {
        free(b);
        return NULL;
    }
    b->cap = cap;
    b->src = src;
    b->host_name = host_name;
    b->bytes = sizeof *b + cap * sizeof *b->ev;
    return b;
}

void batch_free(struct event_batch *b)
{
    if (!b)
        return;
    struct arena_chunk *c = b->chunks;
    while (c) {
        struct arena_chunk *nx = c->next;
        free(c);
        c = nx;
    }
    free(b->ev);
    free(b);
}

/* ---- serialization ---- */

static int field_cmp(const struct field *a, const struct field *b)
{
    if (a->key->rank != FKEY_DYNAMIC && b->key->rank != FKEY_DYNAMIC)
        return a->key->rank < b->key->rank ? -1 : a->key->rank > b->key->rank;
    return fkey_name_cmp(a->key->name, b->key->name);
}

/* Stable insertion sort: fields usually arrive nearly sorted (parsers add them in a fixed
 * order), which makes this linear in practice. */
static void sort_fields(struct field *f, int n)
{
    for (int i = 1; i < n; i++) {
        struct field t = f[i];
        int j = i - 1;
        while (j >= 0 && field_cmp(&f[j], &t) > 0) {
            f[j + 1] = f[j];
            j--;
        }
        f[j + 1] = t;
    }
}

static int write_value(struct buf *o, const struct field *f)
{
    switch (f->type) {
    case FV_STR: return json_write_string(o, f->v.s, f->len);
    case FV_INT: return json_write_int(o, f->v.i);
    case FV_FLOAT: return json_write_double(o, f->v.f);
    case FV_BOOL: return f->v.b ? buf_add(o, "true", 4) : buf_add(o, "false", 5);
    case FV_JSON: return buf_add(o, f->v.s, f->len);
    }
    return -1;
}

/* Number of leading components `a` and `b` share (components separated by '.'). */
static int common_components(const char *a, size_t alen, const char *b, size_t blen)
{
    int comps = 0;
    size_t i = 0;
    for (;;) {
        if (i == alen || i == blen) {
            /* one ended; a whole component is shared only if the other also ends here or
             * continues with a dot */
            if ((i == alen && (i == blen || b[i] == '.')) || (i == blen && a[i] == '.'))
                comps++;
            return comps;
        }
        if (a[i] != b[i])
            return comps;
        if (a[i] == '.')
            comps++;
        i++;
    }
}

static int count_components(const char *s, size_t n)
{
    int c = 1;
    for (size_t i = 0; i < n; i++)
        c += s[i] == '.';
    return c;
}

/* Writes sorted fields as nested JSON members (without the outer braces). A scalar whose
 * name is also the prefix of a later key ({"user":"x"} and "user.name") is written as
 * "user":{"value":"x","name":...} so the output never has the same key twice. */
static int write_nested(struct buf *o, const struct field *f, int n)
{
    const char *prev = NULL;
    size_t prevlen = 0;
    int depth = 0; /* objects currently open below the top level */
    int first = 1;
    for (int i = 0; i < n; i++) {
        const char *k = f[i].key->name;
        size_t klen = f[i].key->len;
        int ncomp = count_components(k, klen);
        int common = prev ? common_components(prev, prevlen, k, klen) : 0;
        if (common > depth)
            common = depth;
        if (common == ncomp) /* conflict with an open object: write into it as "value" */
            common = ncomp - 1;
        for (; depth > common; depth--)
            if (buf_addc(o, '}') != 0)
                return -1;
        if (!first && buf_addc(o, ',') != 0)
            return -1;
        first = 0;
        /* open components [common, ncomp-1) and write the leaf */
        const char *p = k;
        int comp = 0;
        const char *end = k + klen;
        while (comp < common) {
            p = memchr(p, '.', (size_t)(end - p)) + 1;
            comp++;
        }
        for (;;) {
            const char *dot = memchr(p, '.', (size_t)(end - p));
            size_t cl = dot ? (size_t)(dot - p) : (size_t)(end - p);
            if (json_write_string(o, p, cl) != 0 || buf_addc(o, ':') != 0)
                return -1;
            if (!dot)
                break;
            if (buf_addc(o, '{') != 0)
                return -1;
            depth++;
            p = dot + 1;
        }
        /* Does the next key extend this one? Then this scalar becomes "<k>":{"value":v */
        if (i + 1 < n && f[i + 1].key->len > klen && f[i + 1].key->name[klen] == '.' &&
            memcmp(f[i + 1].key->name, k, klen) == 0) {
            if (buf_add(o, "{\"value\":", 9) != 0)
                return -1;
            depth++;
        }
        if (write_value(o, &f[i]) != 0)
            return -1;
        prev = k;
        prevlen = klen;
    }
    for (; depth > 0; depth--)
        if (buf_addc(o, '}') != 0)
            return -1;
    return 0;
}

static const char *flag_json(unsigned flags, size_t *len)
{
    /* log.flags values, by EV_TRUNCATED|EV_MULTILINE */
    static const char *const tbl[4] = {"", "[\"truncated\"]", "[\"multiline\"]",
                                       "[\"truncated\",\"multiline\"]"};
    const char *s = tbl[(flags >> 1) & 3];
    *len = strlen(s);
    return s;
}

int batch_add(struct event_batch *b, const struct event_base *base, struct event_builder *eb,
              const char *line, size_t len, uint64_t offset, uint64_t end, int64_t now_ms)
{
    if (b->n >= b->cap)
        return -1;
    struct event *ev = &b->ev[b->n];
    ev->offset = offset;
    ev->end = end;
    ev->ts_ms = eb->ts_ms ? eb->ts_ms : now_ms;
    ev->flags = (uint16_t)eb->flags;

    /* Fields kept with the event: the parser's and the static ones (the base fields are
     * found by event_get through the batch). Strings are copied into the arena. */
    int nf = eb->n + base->nstatic;
    size_t strbytes = len + 1;
    for (int i = 0; i < eb->n; i++)
        if (eb->f[i].type == FV_STR || eb->f[i].type == FV_JSON)
            strbytes += eb->f[i].len;
    size_t dynbytes = 0;
    for (int i = 0; i < eb->n; i++)
        if (eb->f[i].key->rank == FKEY_DYNAMIC)
            dynbytes += sizeof(struct fkey) + eb->f[i].key->len + 1;
    char *mem = arena_alloc(b, nf * sizeof(struct field) + dynbytes + strbytes, 8);
    if (!mem)
        return -1;
    struct field *fs = (struct field *)mem;
    char *sp = mem + nf * sizeof(struct field);
    struct fkey *dk = (struct fkey *)sp;
    int ndk = 0;
    for (int i = 0; i < eb->n; i++)
        if (eb->f[i].key->rank == FKEY_DYNAMIC)
            ndk++;
    sp += ndk * sizeof(struct fkey);
    memcpy(sp, line, len);
    sp[len] = '\0';
    ev->message = sp;
    ev->message_len = (uint32_t)len;
    sp += len + 1;
    int di = 0;
    for (int i = 0; i < eb->n; i++) {
        fs[i] = eb->f[i];
        if (fs[i].type == FV_STR || fs[i].type == FV_JSON) {
            if (fs[i].v.s >= line && fs[i].v.s + fs[i].len <= line + len) {
                fs[i].v.s = ev->message + (fs[i].v.s - line); /* points into the line */
            } else {
                memcpy(sp, fs[i].v.s, fs[i].len);
                fs[i].v.s = sp;
                sp += fs[i].len;
            }
        }
        if (eb->f[i].key->rank == FKEY_DYNAMIC) {
            char *nm = (char *)(dk + ndk) + 0; /* names go after the strings region */
            (void)nm;
            dk[di] = *eb->f[i].key;
            fs[i].key = &dk[di];
            di++;
        }
    }
    for (int i = 0; i < base->nstatic; i++)
        fs[eb->n + i] = base->static_fields[i];
    /* dynamic key names: copy after the values */
    for (int i = 0; i < di; i++) {
        memcpy(sp, dk[i].name, dk[i].len + 1);
        dk[i].name = sp;
        sp += dk[i].len + 1;
    }
    sort_fields(fs, nf);
    /* Drop exact duplicates, keeping the first (the parser's fields come before the static
     * ones, and among the parser's the first added wins). */
    int w = 0;
    for (int i = 0; i < nf; i++) {
        if (w > 0 && field_cmp(&fs[w - 1], &fs[i]) == 0)
            continue;
        fs[w++] = fs[i];
    }
    nf = w;
    ev->fields = fs;
    ev->nfields = (uint16_t)nf;

    /* The event's full field list for serialization: base fields + kept fields, sorted. */
    struct field all[EB_MAX_FIELDS + 16];
    int na = 0;
    char ts[32];
    json_format_ts(ev->ts_ms, ts);
    all[na++] = (struct field){FK_TIMESTAMP, FV_STR, 24, {.s = ts}};
    all[na++] = (struct field){FK_HOST_NAME, FV_STR, (uint32_t)strlen(base->host_name),
                               {.s = base->host_name}};
    all[na++] = (struct field){FK_LOG_FILE_PATH, FV_STR, (uint32_t)strlen(base->path),
                               {.s = base->path}};
    size_t fl;
    const char *fj = flag_json(ev->flags, &fl);
    if (fl)
        all[na++] = (struct field){FK_LOG_FLAGS, FV_JSON, (uint32_t)fl, {.s = fj}};
    all[na++] = (struct field){FK_LOG_OFFSET, FV_INT, 0, {.i = (int64_t)offset}};
    all[na++] = (struct field){FK_MESSAGE, FV_STR, (uint32_t)len, {.s = ev->message}};
    if (ev->flags & EV_PARSE_FAILURE)
        all[na++] = (struct field){FK_TAGS, FV_JSON, 17, {.s = "[\"parse_failure\"]"}};
    int nbase = na;
    for (int i = 0; i < nf && na < (int)(sizeof all / sizeof all[0]); i++) {
        /* base keys win over a parser's field of the same name */
        int dup = 0;
        for (int j = 0; j < nbase; j++)
            if (fs[i].key == all[j].key ||
                (fs[i].key->rank == FKEY_DYNAMIC && strcmp(fs[i].key->name, all[j].key->name) == 0)) {
                dup = 1;
                break;
            }
        if (!dup)
            all[na++] = fs[i];
    }
    sort_fields(all, na);

    /* Serialize straight into the arena; on overflow take a chunk big enough. */
    for (int attempt = 0; attempt < 2; attempt++) {
        struct arena_chunk *c = b->chunks;
        size_t room = c->cap - c->used;
        struct buf o = {c->data + c->used, 0, room, room};
        if (room > 0 && buf_addc(&o, '{') == 0 && write_nested(&o, all, na) == 0 &&
            buf_add(&o, "}\n", 2) == 0) {
            ev->json = o.p;
            ev->json_len = (uint32_t)o.len;
            c->used += o.len;
            b->n++;
            return 0;
        }
        size_t need = 256 + 6 * strbytes + 64 * (size_t)na + 6 * (b->host_name ? strlen(b->host_name) : 0);
        for (int i = 0; i < base->nstatic; i++)
            need += 6 * (size_t)base->static_fields[i].len + 64;
        need += 6 * strlen(base->path);
        if (!chunk_new(b, need))
            return -1;
    }
    return -1;
}

int event_get(const struct event_batch *b, const struct event *ev, const char *name,
              struct field *out)
{
    if (strcmp(name, "message") == 0) {
        *out = (struct field){FK_MESSAGE, FV_STR, ev->message_len, {.s = ev->message}};
        return 1;
    }
    if (strcmp(name, "host.name") == 0) {
        *out = (struct field){FK_HOST_NAME, FV_STR, (uint32_t)strlen(b->host_name), {.s = b->host_name}};
        return 1;
    }
    if (strcmp(name, "log.file.path") == 0) {
        *out = (struct field){FK_LOG_FILE_PATH, FV_STR, (uint32_t)strlen(b->src->path),
                              {.s = b->src->path}};
        return 1;
    }
    if (strcmp(name, "log.offset") == 0) {
        *out = (struct field){FK_LOG_OFFSET, FV_INT, 0, {.i = (int64_t)ev->offset}};
        return 1;
    }
    if (strcmp(name, "@timestamp") == 0) {
        *out = (struct field){FK_TIMESTAMP, FV_INT, 0, {.i = ev->ts_ms}};
        return 1;
    }
    if (strcmp(name, "tags") == 0 && (ev->flags & EV_PARSE_FAILURE)) {
        *out = (struct field){FK_TAGS, FV_STR, 13, {.s = "parse_failure"}};
        return 1;
    }
    for (int i = 0; i < ev->nfields; i++)
        if (strcmp(ev->fields[i].key->name, name) == 0) {
            *out = ev->fields[i];
            return 1;
        }
    return 0;
}
