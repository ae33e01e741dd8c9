/*
 * event.c - batch_add(): an event's fields merged, sorted and serialized once into its
 * batch, and event_get() to read them back (see event.h for the model and its ownership
 * rules). The builder is in event_builder.c, the batch arena in batch.c, key interning in
 * fkey.c.
 *
 * Threads: a batch under construction belongs to the tail thread (the skeleton cache is per
 * thread); a dispatched batch is read-only and shared by the output threads until the last
 * ack.
 */
#include "agent/base/batch_arena.h"
#include "agent/base/event.h"
#include "agent/base/json.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- serialization ---- */

/* Set once before threads start (event_set_agent), read by every batch_add after. */
static struct {
    const char *id, *name;
    uint32_t idlen, namelen;
    uint8_t clean;
} agent_ident;

void event_set_agent(const char *id, const char *name)
{
    agent_ident.id = id;
    agent_ident.name = name;
    agent_ident.idlen = id ? (uint32_t)strlen(id) : 0;
    agent_ident.namelen = name ? (uint32_t)strlen(name) : 0;
    agent_ident.clean = id && name && json_is_clean(id, agent_ident.idlen) &&
                        json_is_clean(name, agent_ident.namelen);
}

void event_base_init(struct event_base *base, const char *host_name, const char *path,
                     const struct field *static_fields, int nstatic)
{
    base->host_name = host_name;
    base->path = path;
    base->static_fields = static_fields;
    base->nstatic = nstatic;
    base->names_clean = json_is_clean(host_name, strlen(host_name)) &&
                        json_is_clean(path, strlen(path));
    base->skip_fields = 0;
}


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

void event_sort_fields(struct field *f, int n) { sort_fields(f, n); }

/* Most bytes one field can take in the JSON text, transition included: a run-time key may be
 * escaped (6 bytes a byte) and open an object per component (its quotes, ':' and '{'),
 * closing braces of the previous key, ',', {"value": ; values at worst \u00XX per byte.
 * The slack covers the skeleton's fixed-size piece copies (SKEL_COPY) and json_escape_raw's
 * 16-byte stores. */
static size_t field_json_bound(const struct field *f)
{
    size_t n = 128 + 10 * (size_t)f->key->len;
    switch (f->type) {
    case FV_STR: return n + 6 * (size_t)f->len + 2;
    case FV_JSON: return n + f->len;
    default: return n + 48; /* numbers, true/false */
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

/* Component boundaries of a key: precomputed for interned keys, computed here for run-time
 * keys (and for interned keys deeper than FKEY_MAX_COMPONENTS, which then count as one). */
struct kview {
    const char *name;
    uint32_t len;
    int ncomp;
    const uint16_t *ends;
    int safe; /* interned: validated, no escaping needed */
    uint16_t own[FKEY_MAX_COMPONENTS];
};

static void kview_of(struct kview *v, const struct fkey *k)
{
    v->name = k->name;
    v->len = k->len;
    if (k->rank != FKEY_DYNAMIC && k->ncomp) {
        v->ncomp = k->ncomp;
        v->ends = k->ends;
        v->safe = 1;
        return;
    }
    int nc = 0;
    for (uint32_t i = 0; i < k->len && nc < FKEY_MAX_COMPONENTS - 1 && k->len < UINT16_MAX; i++)
        if (k->name[i] == '.')
            v->own[nc++] = (uint16_t)i;
    v->own[nc++] = (uint16_t)(k->len < UINT16_MAX ? k->len : UINT16_MAX);
    v->ncomp = k->len < UINT16_MAX ? nc : 1;
    v->ends = v->own;
    v->safe = 0;
}

static inline uint32_t comp_start(const struct kview *v, int c)
{
    return c == 0 ? 0 : (uint32_t)v->ends[c - 1] + 1;
}

static inline uint32_t comp_end(const struct kview *v, int c)
{
    return c == v->ncomp - 1 ? v->len : v->ends[c];
}

static int write_name(struct buf *o, const struct kview *v, int c)
{
    uint32_t s0 = comp_start(v, c), e0 = comp_end(v, c);
    if (!v->safe)
        return json_write_string(o, v->name + s0, e0 - s0) || buf_addc(o, ':');
    if (buf_reserve(o, e0 - s0 + 3) != 0)
        return -1;
    char *p = o->p + o->len;
    *p++ = '"';
    memcpy(p, v->name + s0, e0 - s0);
    p += e0 - s0;
    *p++ = '"';
    *p++ = ':';
    o->len = (size_t)(p - o->p);
    return 0;
}

/* Writes the bytes between the previous field's value and this field's value: closing
 * braces, a comma, the opened object names and this key's last name (and `{"value":` when the
 * next key extends this one). Updates *depth. */
static int write_transition(struct buf *o, const struct kview *prev, const struct kview *cur,
                            int ext, int *depth)
{
    int ncomp = cur->ncomp;
    int common = 0;
    if (prev) {
        /* components shared with the previous key, within the objects still open */
        while (common < *depth && common < ncomp - 1 && common < prev->ncomp &&
               comp_end(prev, common) == comp_end(cur, common) &&
               memcmp(prev->name + comp_start(cur, common), cur->name + comp_start(cur, common),
                      comp_end(cur, common) - comp_start(cur, common)) == 0)
            common++;
    }
    for (; *depth > common; (*depth)--)
        if (buf_addc(o, '}') != 0)
            return -1;
    if (prev && buf_addc(o, ',') != 0)
        return -1;
    for (int c = common; c < ncomp; c++) {
        if (write_name(o, cur, c) != 0)
            return -1;
        if (c < ncomp - 1) {
            if (buf_addc(o, '{') != 0)
                return -1;
            (*depth)++;
        }
    }
    if (ext) {
        if (buf_add(o, "{\"value\":", 9) != 0)
            return -1;
        (*depth)++;
    }
    return 0;
}

/* Writes sorted fields as nested JSON members (without the outer braces). A scalar whose
 * name is also the prefix of a later key ({"user":"x"} and "user.name") is written as
 * "user":{"value":"x","name":...} so the output never has the same key twice. */
static int write_nested(struct buf *o, const struct field *const *f, int n, uint32_t *marks)
{
    struct kview views[2];
    struct kview *prev = NULL, *cur = &views[0];
    int depth = 0; /* objects currently open below the top level */
    for (int i = 0; i < n; i++) {
        const struct fkey *k = f[i]->key;
        uint32_t klen = k->len;
        if (marks)
            marks[2 * i] = (uint32_t)o->len;
        int ext = i + 1 < n && f[i + 1]->key->len > klen && f[i + 1]->key->name[klen] == '.' &&
                  memcmp(f[i + 1]->key->name, k->name, klen) == 0;
        kview_of(cur, k);
        if (write_transition(o, prev, cur, ext, &depth) != 0)
            return -1;
        if (marks)
            marks[2 * i + 1] = (uint32_t)o->len;
        prev = cur;
        cur = cur == &views[0] ? &views[1] : &views[0];
        if (write_value(o, f[i]) != 0)
            return -1;
    }
    if (marks)
        marks[2 * n] = (uint32_t)o->len;
    for (; depth > 0; depth--)
        if (buf_addc(o, '}') != 0)
            return -1;
    return 0;
}

/* ---- the skeleton cache ----
 * The events of one input mostly carry the same keys in the same order (a parser adds the
 * same fields line after line), and then everything between the values - braces, commas,
 * names, {"value": - is the same text: a function of the key sequence alone. It is cached
 * per thread, direct-mapped by a hash of the key pointers, and an event whose sequence is
 * cached is written as piece, value, piece, value, ..., closing piece, with no per-key
 * work. Only interned keys take part (run-time keys of JSON logs change meaning from one
 * event to the next at the same address).
 * Real access logs switch between a dozen sequences (referrer, user, query, source.ip present
 * or not): each sequence may sit in either of two slots of 64 and evicts the less recently
 * used one, where 16 direct-mapped slots kept evicting each other (issue 18: a fifth of the
 * events were written key by key). The table is allocated by the first event a thread
 * writes, so threads that never build events (outputs, librdkafka's) carry none of it. */
#define SKEL_SLOTS 64
#define SKEL_MAX_FIELDS 48
#define SKEL_TEXT 1536
#define SKEL_COPY 48 /* pieces up to this long are copied with one fixed-size memcpy */
struct skeleton {
    unsigned gen; /* fkey generation when built (keys freed and re-interned reuse addresses) */
    unsigned used; /* the thread's skel_clock when last written from or learned */
    int n;        /* fields; 0 = empty slot */
    const struct fkey *keys[SKEL_MAX_FIELDS];
    uint16_t off[SKEL_MAX_FIELDS + 2]; /* piece i = text[off[i]..off[i+1]); piece n closes */
    char text[SKEL_TEXT + SKEL_COPY];  /* + slack for the fixed-size reads */
};
static _Thread_local struct skeleton *skels; /* SKEL_SLOTS of them, or NULL */
static _Thread_local unsigned skel_clock;
static pthread_key_t skel_key;
static pthread_once_t skel_once = PTHREAD_ONCE_INIT;
static int skel_key_ok;

static void skel_key_make(void) { skel_key_ok = pthread_key_create(&skel_key, free) == 0; }

/* This thread's table; NULL when it cannot be had (the events are then written key by key). */
static struct skeleton *skel_table(void)
{
    if (skels)
        return skels;
    pthread_once(&skel_once, skel_key_make);
    if (!skel_key_ok)
        return NULL;
    struct skeleton *t = calloc(SKEL_SLOTS, sizeof *t);
    if (t && pthread_setspecific(skel_key, t) != 0) { /* freed at thread exit, or not kept */
        free(t);
        t = NULL;
    }
    return skels = t;
}

static int skel_matches(const struct skeleton *sk, const struct field *const *f, int n)
{
    if (sk->n != n || sk->gen != fkey_current_generation())
        return 0;
    for (int i = 0; i < n; i++)
        if (sk->keys[i] != f[i]->key)
            return 0;
    return 1;
}

static inline char *put_piece(char *w, const char *t, size_t tl)
{
    if (tl <= SKEL_COPY)
        memcpy(w, t, SKEL_COPY); /* the writer's room has the slack (field_json_bound) */
    else
        memcpy(w, t, tl);
    return w + tl;
}

/* write_value into raw room (field_json_bound() bytes are there). */
static char *put_value(char *w, const struct field *f)
{
    switch (f->type) {
    case FV_STR:
        *w++ = '"';
        if (f->clean) {
            memcpy(w, f->v.s, f->len);
            w += f->len;
        } else {
            w = json_escape_raw(w, f->v.s, f->len);
        }
        *w++ = '"';
        return w;
    case FV_INT:
        return json_int_raw(w, f->v.i);
    case FV_JSON:
        memcpy(w, f->v.s, f->len);
        return w + f->len;
    default: {
        struct buf t = {w, 0, 48, 48};
        write_value(&t, f); /* floats and booleans: at most 40 bytes */
        return w + t.len;
    }
    }
}

/* Writes the whole event ("{...}\n") from its cached skeleton; 0 when the key sequence
 * is not cached (or cannot be). *slot receives where it would go, or NULL. */
static int write_from_skeleton(struct buf *o, const struct field *const *f, int n,
                               struct skeleton **slot)
{
    *slot = NULL;
    if (n > SKEL_MAX_FIELDS)
        return 0;
    uintptr_t h = (uintptr_t)n;
    for (int i = 0; i < n; i++) {
        const struct fkey *k = f[i]->key;
        if (k->rank == FKEY_DYNAMIC || !k->ncomp)
            return 0;
        h = h * 31 + ((uintptr_t)k >> 4);
    }
    struct skeleton *tab = skel_table();
    if (!tab)
        return 0;
    h ^= h >> 17;
    struct skeleton *a = &tab[h % SKEL_SLOTS], *sk = &tab[(h / SKEL_SLOTS) % SKEL_SLOTS];
    if (skel_matches(a, f, n)) {
        sk = a;
    } else if (!skel_matches(sk, f, n)) {
        /* not cached: the caller learns it into an empty or the less recently used slot */
        int a_older = skel_clock - a->used >= skel_clock - sk->used; /* unsigned: wraps */
        *slot = a->n == 0 || (sk->n != 0 && a_older) ? a : sk;
        return 0;
    }
    sk->used = ++skel_clock;
    char *w = o->p + o->len;
    for (int i = 0; i < n; i++) {
        w = put_piece(w, sk->text + sk->off[i], (size_t)(sk->off[i + 1] - sk->off[i]));
        w = put_value(w, f[i]);
    }
    w = put_piece(w, sk->text + sk->off[n], (size_t)(sk->off[n + 1] - sk->off[n]));
    o->len = (size_t)(w - o->p);
    return 1;
}

/* Keeps the pieces of an event just written by write_nested (marks: where each key's
 * transition began and ended, then where the closing braces began; start: the '{'). */
static void skeleton_learn(struct skeleton *sk, const struct field *const *f, int n,
                           const char *out, size_t start, const uint32_t *marks, size_t end)
{
    size_t tl = 0;
    for (int i = 0; i < n; i++)
        tl += marks[2 * i + 1] - (i ? marks[2 * i] : start);
    tl += end - marks[2 * n];
    if (tl > SKEL_TEXT)
        return;
    sk->n = 0;
    size_t at = 0;
    for (int i = 0; i <= n; i++) {
        size_t a = i == n ? marks[2 * n] : i ? marks[2 * i] : start;
        size_t b = i == n ? end : marks[2 * i + 1];
        sk->off[i] = (uint16_t)at;
        memcpy(sk->text + at, out + a, b - a);
        at += b - a;
        if (i < n)
            sk->keys[i] = f[i]->key;
    }
    sk->off[n + 1] = (uint16_t)at;
    sk->gen = fkey_current_generation();
    sk->used = ++skel_clock;
    sk->n = n;
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

static inline int fcmp_fast(const struct field *x, const struct field *y)
{
    uint32_t rx = x->key->rank, ry = y->key->rank;
    if (rx != FKEY_DYNAMIC && ry != FKEY_DYNAMIC)
        return rx < ry ? -1 : rx > ry;
    return fkey_name_cmp(x->key->name, y->key->name);
}

/* Merges two sorted field arrays into ptrs (keeping the first of equal keys, `a` winning
 * over `b`), returns the count. Both inputs are sorted, so a duplicate can only be the
 * entry just written. */
static int merge_fields(const struct field *a, int na, const struct field *b, int nb,
                        const struct field **out)
{
    int i = 0, j = 0, n = 0;
    const struct fkey *last = NULL; /* out[n - 1]'s key, kept in a register */
    while (i < na && j < nb) {
        const struct field *pick;
        int c = fcmp_fast(&a[i], &b[j]);
        if (c <= 0) {
            pick = &a[i++];
            j += c == 0; /* same key: a wins */
        } else {
            pick = &b[j++];
        }
        if (last == pick->key)
            continue;
        if (last && (pick->key->rank == FKEY_DYNAMIC || last->rank == FKEY_DYNAMIC) &&
            fcmp_fast(out[n - 1], pick) == 0)
            continue;
        out[n++] = pick;
        last = pick->key;
    }
    /* the rest of one list: only duplicates within it remain possible */
    int nr = i < na ? na - i : nb - j;
    if (nr == 0) /* an empty list may be a NULL pointer: no arithmetic on it */
        return n;
    const struct field *rest = i < na ? &a[i] : &b[j];
    for (int k = 0; k < nr; k++) {
        const struct field *pick = &rest[k];
        const struct fkey *pk = pick->key;
        if (last == pk || (last && (pk->rank == FKEY_DYNAMIC || last->rank == FKEY_DYNAMIC) &&
                           fcmp_fast(out[n - 1], pick) == 0))
            continue;
        out[n++] = pick;
        last = pk;
    }
    return n;
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

    /* The parser's fields, sorted; the builder knows when they arrived in order already. */
    if (eb->unsorted) {
        sort_fields(eb->f, eb->n);
        eb->unsorted = 0;
    }

    const struct field *ptrs[EB_MAX_FIELDS + 64];
    struct field *fs;
    int nf;
    struct field local[EB_MAX_FIELDS + 64]; /* merged fields when the batch does not keep them */
    if (base->skip_fields) {
        /* No output reads fields or message: merge on the stack, values stay where they are
         * (the line, the builder's scratch, the configuration) until the JSON is written. */
        nf = merge_fields(eb->f, eb->n, base->static_fields, base->nstatic, ptrs);
        for (int i = 0; i < nf; i++)
            local[i] = *ptrs[i];
        fs = local;
        ev->fields = NULL;
        ev->nfields = 0;
        ev->message = NULL;
        ev->message_len = 0;
    } else {
        /* One pass: bytes to copy (strings not inside the line, dynamic key names). */
        size_t strbytes = len + 1;
        int ndk = 0;
        for (int i = 0; i < eb->n; i++) {
            const struct field *f = &eb->f[i];
            if ((f->type == FV_STR || f->type == FV_JSON) &&
                !(f->v.s >= line && f->v.s + f->len <= line + len))
                strbytes += f->len;
            if (f->key->rank == FKEY_DYNAMIC) {
                ndk++;
                strbytes += f->key->len + 1;
            }
        }
        /* Kept with the event for outputs (event_get): parser fields merged with the input's
         * static fields (pre-sorted by the caller), the parser's winning on equal keys. */
        int cap_f = eb->n + base->nstatic;
        char *mem = batch_alloc(b, (size_t)cap_f * sizeof(struct field) +
                                       (size_t)ndk * sizeof(struct fkey) + strbytes, 8);
        if (!mem)
            return -1;
        fs = (struct field *)mem;
        struct fkey *dk = (struct fkey *)(mem + (size_t)cap_f * sizeof(struct field));
        char *sp = (char *)(dk + ndk);
        memcpy(sp, line, len);
        sp[len] = '\0';
        ev->message = sp;
        ev->message_len = (uint32_t)len;
        sp += len + 1;

        nf = merge_fields(eb->f, eb->n, base->static_fields, base->nstatic, ptrs);
        int di = 0;
        for (int i = 0; i < nf; i++) {
            fs[i] = *ptrs[i];
            if (fs[i].type == FV_STR || fs[i].type == FV_JSON) {
                if (fs[i].v.s >= line && fs[i].v.s + fs[i].len <= line + len) {
                    fs[i].v.s = ev->message + (fs[i].v.s - line); /* points into the line */
                } else if ((uintptr_t)ptrs[i] - (uintptr_t)eb->f <
                           (uintptr_t)eb->n * sizeof *eb->f) {
                    memcpy(sp, fs[i].v.s, fs[i].len); /* builder scratch: copy */
                    fs[i].v.s = sp;
                    sp += fs[i].len;
                } /* static fields point into the configuration, which outlives batches */
            }
            if (fs[i].key->rank == FKEY_DYNAMIC) {
                dk[di] = *fs[i].key;
                memcpy(sp, dk[di].name, dk[di].len + 1);
                dk[di].name = sp;
                sp += dk[di].len + 1;
                fs[i].key = &dk[di++];
            }
        }
        ev->fields = fs;
        ev->nfields = (uint16_t)nf;
    }
    const char *msg = base->skip_fields ? line : ev->message;

    /* The fields every event has, in their (fixed) sorted order: @timestamp, [agent.id,
     * agent.name, agent.type, agent.version, ecs.version,] host.name, [input.type,]
     * log.file.path, log.flags, log.offset, message, tags. */
    struct field basef[16];
    int nb = 0;
    char ts[32];
    json_format_ts(ev->ts_ms, ts);
    basef[nb++] = (struct field){FK_TIMESTAMP, FV_STR, 1, 24, {.s = ts}};
    if (agent_ident.id) {
        basef[nb++] = (struct field){FK_AGENT_ID, FV_STR, agent_ident.clean, agent_ident.idlen,
                                     {.s = agent_ident.id}};
        basef[nb++] = (struct field){FK_AGENT_NAME, FV_STR, agent_ident.clean,
                                     agent_ident.namelen, {.s = agent_ident.name}};
        basef[nb++] = (struct field){FK_AGENT_TYPE, FV_STR, 1, 8, {.s = "logferry"}};
        basef[nb++] = (struct field){FK_AGENT_VERSION, FV_STR, 1,
                                     (uint32_t)strlen(LOGFERRY_VERSION), {.s = LOGFERRY_VERSION}};
        basef[nb++] = (struct field){FK_ECS_VERSION, FV_STR, 1, 5, {.s = "8.0.0"}};
    }
    basef[nb++] = (struct field){FK_HOST_NAME, FV_STR, (uint8_t)base->names_clean,
                                 (uint32_t)strlen(base->host_name),
                                 {.s = base->host_name}};
    if (agent_ident.id)
        basef[nb++] = (struct field){FK_INPUT_TYPE, FV_STR, 1, 10, {.s = "filestream"}};
    basef[nb++] = (struct field){FK_LOG_FILE_PATH, FV_STR, (uint8_t)base->names_clean,
                                 (uint32_t)strlen(base->path),
                                 {.s = base->path}};
    size_t fl;
    const char *fj = flag_json(ev->flags, &fl);
    if (fl)
        basef[nb++] = (struct field){FK_LOG_FLAGS, FV_JSON, 0, (uint32_t)fl, {.s = fj}};
    basef[nb++] = (struct field){FK_LOG_OFFSET, FV_INT, 0, 0, {.i = (int64_t)offset}};
    basef[nb++] = (struct field){FK_MESSAGE, FV_STR, 0, (uint32_t)len, {.s = msg}};
    if (ev->flags & (EV_PARSE_FAILURE | EV_CONTAINER_FAILURE)) {
        static const char *const tags[4] = {
            "", "[\"parse_failure\"]", "[\"container_format_failure\"]",
            "[\"parse_failure\",\"container_format_failure\"]"};
        const char *t = tags[(ev->flags & EV_PARSE_FAILURE ? 1 : 0) |
                             (ev->flags & EV_CONTAINER_FAILURE ? 2 : 0)];
        basef[nb++] = (struct field){FK_TAGS, FV_JSON, 0, (uint32_t)strlen(t), {.s = t}};
    }
    /* Base keys win over a parser's field of the same name. */
    int na = merge_fields(basef, nb, fs, nf, ptrs);

    /* Serialize straight into the arena, into a room known to be big enough: the writer
     * then never runs out mid-event and may use whole-vector stores (see json_bound). */
    size_t need = 64 + SKEL_COPY; /* '{', closing braces, "}\n", a fixed-size piece copy */
    for (int i = 0; i < na; i++)
        need += field_json_bound(ptrs[i]);
    size_t room;
    char *at = batch_room(b, need, &room);
    if (!at)
        return -1;
    struct buf o = {at, 0, room, room};
    struct skeleton *sk;
    if (!write_from_skeleton(&o, ptrs, na, &sk)) {
        uint32_t marks[2 * SKEL_MAX_FIELDS + 2];
        if (buf_addc(&o, '{') != 0 || write_nested(&o, ptrs, na, sk ? marks : NULL) != 0 ||
            buf_add(&o, "}\n", 2) != 0)
            return -1; /* not reached: the room is an upper bound */
        if (sk)
            skeleton_learn(sk, ptrs, na, o.p, 0, marks, o.len);
    }
    ev->json = o.p;
    ev->json_len = (uint32_t)o.len;
    batch_commit(b, o.len);
    b->n++;
    return 0;
}

int event_get(const struct event_batch *b, const struct event *ev, const char *name,
              struct field *out)
{
    if (strcmp(name, "message") == 0) {
        if (!ev->message) /* batch built without fields (event_base.keep_fields) */
            return 0;
        *out = (struct field){FK_MESSAGE, FV_STR, 0, ev->message_len, {.s = ev->message}};
        return 1;
    }
    if (strcmp(name, "host.name") == 0) {
        *out = (struct field){FK_HOST_NAME, FV_STR, 0, (uint32_t)strlen(b->host_name), {.s = b->host_name}};
        return 1;
    }
    if (strcmp(name, "log.file.path") == 0) {
        *out = (struct field){FK_LOG_FILE_PATH, FV_STR, 0, (uint32_t)strlen(b->src->path),
                              {.s = b->src->path}};
        return 1;
    }
    if (strcmp(name, "log.offset") == 0) {
        *out = (struct field){FK_LOG_OFFSET, FV_INT, 0, 0, {.i = (int64_t)ev->offset}};
        return 1;
    }
    if (strcmp(name, "@timestamp") == 0) {
        *out = (struct field){FK_TIMESTAMP, FV_INT, 0, 0, {.i = ev->ts_ms}};
        return 1;
    }
    if (strcmp(name, "tags") == 0 && (ev->flags & EV_PARSE_FAILURE)) {
        *out = (struct field){FK_TAGS, FV_STR, 0, 13, {.s = "parse_failure"}};
        return 1;
    }
    if (strcmp(name, "tags") == 0 && (ev->flags & EV_CONTAINER_FAILURE)) {
        *out = (struct field){FK_TAGS, FV_STR, 0, 24, {.s = "container_format_failure"}};
        return 1;
    }
    for (int i = 0; i < ev->nfields; i++)
        if (strcmp(ev->fields[i].key->name, name) == 0) {
            *out = ev->fields[i];
            return 1;
        }
    return 0;
}
