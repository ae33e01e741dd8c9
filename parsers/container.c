/*
 * container.c - decoding the lines container runtimes write (Docker's json-file driver, CRI)
 * and reading a container's identity from its log file's path. See container.h.
 *
 * The json-file decoder is hand-written rather than jansson: every line of a container input
 * passes through it, it needs three string members of a flat object, and it must never
 * allocate per line. It accepts exactly JSON's grammar for the object it reads (other
 * members, such as `attrs` with --log-opt labels, are skipped whatever their type) and
 * declines anything else, so a line the runtime did not write is shipped whole and tagged
 * rather than half-read. Unescaping: \" \\ \/ \b \f \n \r \t and \uXXXX (surrogate pairs
 * joined; a lone surrogate becomes U+FFFD, as Go's encoder would have written it).
 *
 * Threads: pure functions; the caller (the tail thread, through lineproc) owns the scratch.
 */
#include "parsers/container.h"

#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

int ctr_format_parse(const char *s)
{
    if (!strcmp(s, "docker"))
        return CTR_DOCKER;
    if (!strcmp(s, "cri"))
        return CTR_CRI;
    if (!strcmp(s, "auto"))
        return CTR_AUTO;
    return -1;
}

const char *ctr_format_name(enum ctr_format f)
{
    return f == CTR_DOCKER ? "docker" : f == CTR_CRI ? "cri" : f == CTR_AUTO ? "auto" : "plain";
}

const char *ctr_stream_name(int stream)
{
    return stream == CTR_STDOUT ? "stdout" : stream == CTR_STDERR ? "stderr" : NULL;
}

static int stream_of(const char *s, size_t n)
{
    if (n == 6 && !memcmp(s, "stdout", 6))
        return CTR_STDOUT;
    if (n == 6 && !memcmp(s, "stderr", 6))
        return CTR_STDERR;
    return CTR_STREAM_NONE;
}

/* ---- CRI ---------------------------------------------------------------------------- */

static int decode_cri(const char *s, size_t n, struct tp_iso_cache *tc, struct ctr_line *out)
{
    const char *e = s + n;
    const char *sp = memchr(s, ' ', n);
    if (!sp || sp == s)
        return -1;
    if (tp_parse_iso_cached(tc, s, (size_t)(sp - s), NULL, &out->ts_ms) != 0)
        return -1;
    const char *st = sp + 1;
    const char *sp2 = memchr(st, ' ', (size_t)(e - st));
    size_t sl = sp2 ? (size_t)(sp2 - st) : (size_t)(e - st);
    out->stream = stream_of(st, sl);
    if (out->stream == CTR_STREAM_NONE || !sp2)
        return -1; /* Filebeat: "TIME STREAM" alone is not a CRI line */
    const char *p = sp2 + 1;
    out->partial = 0;
    /* TAG: "P" or "F", possibly with ':'-separated extensions ("F:x"); absent in old files */
    if (p < e && (*p == 'P' || *p == 'F') && (p + 1 == e || p[1] == ' ' || p[1] == ':')) {
        const char *t = p;
        while (p < e && *p != ' ')
            p++;
        out->partial = *t == 'P';
        if (p < e)
            p++;
    }
    out->text = p;
    out->len = (size_t)(e - p);
    return 0;
}

/* ---- Docker json-file ---------------------------------------------------------------- */

struct jstr {
    const char *s; /* between the quotes */
    size_t n;
    int esc; /* contains a backslash */
};

static const char *ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* Moves over the bytes from p that are not '"', '\\' or a control byte (the bulk of a
 * line) and returns where it stopped (e when none). With o, copies them to o + *w on the way
 * (16-byte stores that may write up to 15 bytes past the copied ones: o needs that room) and
 * advances *w. */
static const char *scan_copy(const char *p, const char *e, char *o, size_t *w)
{
#ifdef __SSE2__
    const __m128i dq = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    const __m128i c20 = _mm_set1_epi8(0x20), x80 = _mm_set1_epi8((char)0x80);
    while (e - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        if (o)
            _mm_storeu_si128((__m128i *)(void *)(o + *w), v);
        /* unsigned v < 0x20: flip the sign bits and compare signed */
        __m128i ctl = _mm_cmplt_epi8(_mm_xor_si128(v, x80), _mm_xor_si128(c20, x80));
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, dq), _mm_cmpeq_epi8(v, bs)), ctl);
        int mk = _mm_movemask_epi8(m);
        if (mk) {
            unsigned k = (unsigned)__builtin_ctz((unsigned)mk);
            *w += k;
            return p + k;
        }
        p += 16;
        *w += 16;
    }
#endif
    while (p < e && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20) {
        if (o)
            o[*w] = *p;
        ++*w;
        p++;
    }
    return p;
}

static int hexdig(char h)
{
    return (h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F');
}

static unsigned hex4(const char *h)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = h[i];
        v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

static size_t utf8_put(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* p at the opening quote of a JSON string; returns the byte after the closing quote, or
 * NULL when it is not a valid string (bad escape, raw control byte, no end). With o (room
 * for e - p + 16 bytes: no escape is shorter than what it stands for, and scan_copy's stores
 * may run 15 bytes ahead) the string is unescaped into it in the same pass and *olen set;
 * js gets the raw span either way. */
static const char *jstring_to(const char *p, const char *e, struct jstr *js, char *o,
                              size_t *olen)
{
    if (p >= e || *p != '"')
        return NULL;
    p++;
    js->s = p;
    js->esc = 0;
    size_t w = 0;
    for (;;) {
        const char *q = scan_copy(p, e, o, &w);
        if (q >= e || (unsigned char)*q < 0x20)
            return NULL;
        if (*q == '"') {
            js->n = (size_t)(q - js->s);
            if (olen)
                *olen = w;
            return q + 1;
        }
        js->esc = 1;
        if (e - q < 2)
            return NULL;
        char c = q[1], r;
        switch (c) {
        case '"': case '\\': case '/': r = c; break;
        case 'n': r = '\n'; break;
        case 't': r = '\t'; break;
        case 'r': r = '\r'; break;
        case 'b': r = '\b'; break;
        case 'f': r = '\f'; break;
        case 'u': {
            if (e - q < 6 || !hexdig(q[2]) || !hexdig(q[3]) || !hexdig(q[4]) || !hexdig(q[5]))
                return NULL;
            unsigned cp = hex4(q + 2);
            p = q + 6;
            if (cp >= 0xd800 && cp <= 0xdbff && e - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                hexdig(p[2]) && hexdig(p[3]) && hexdig(p[4]) && hexdig(p[5])) {
                unsigned lo = hex4(p + 2);
                if (lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    p += 6;
                }
            }
            if (cp >= 0xd800 && cp <= 0xdfff)
                cp = 0xfffd; /* a lone surrogate: 3 bytes out of 6 in */
            if (o)
                w += utf8_put(o + w, cp);
            continue;
        }
        default: return NULL;
        }
        if (o)
            o[w++] = r;
        p = q + 2;
    }
}

static const char *jstring(const char *p, const char *e, struct jstr *js)
{
    return jstring_to(p, e, js, NULL, NULL);
}

/* Skips any JSON value (depth-capped); NULL when it is not one. */
static const char *jskip(const char *p, const char *e, int depth)
{
    if (p >= e || depth > 32)
        return NULL;
    struct jstr js;
    if (*p == '"')
        return jstring(p, e, &js);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        int obj = *p == '{';
        p = ws(p + 1, e);
        if (p < e && *p == close)
            return p + 1;
        for (;;) {
            if (obj) {
                p = jstring(p, e, &js);
                if (!p)
                    return NULL;
                p = ws(p, e);
                if (p >= e || *p != ':')
                    return NULL;
                p = ws(p + 1, e);
            }
            p = jskip(p, e, depth + 1);
            if (!p)
                return NULL;
            p = ws(p, e);
            if (p < e && *p == ',') {
                p = ws(p + 1, e);
                continue;
            }
            if (p < e && *p == close)
                return p + 1;
            return NULL;
        }
    }
    /* number or literal: the characters they are made of */
    const char *st = p;
    while (p < e && ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == '.' ||
                     *p == 'e' || *p == 'E' || (*p >= 'a' && *p <= 'z')))
        p++;
    if (p == st)
        return NULL;
    size_t n = (size_t)(p - st);
    if ((*st >= 'a' && *st <= 'z') && !(n == 4 && (!memcmp(st, "true", 4) || !memcmp(st, "null", 4))) &&
        !(n == 5 && !memcmp(st, "false", 5)))
        return NULL;
    return p;
}

/* The driver's own layout, {"log":"...","stream":"stdout|stderr","time":"..."} with nothing
 * else, read without the general walk (callgrind: the walk cost about 400 instructions a
 * line in key matching and whitespace skipping). Returns 0 when it read the line, 1 when
 * anything differs: the general reader then decides, so this never refuses a line. */
static int docker_fast(const char *s, size_t n, char *o, struct tp_iso_cache *tc,
                       struct ctr_line *out)
{
    static const char LOG[] = "{\"log\":", STREAM[] = ",\"stream\":\"std", TIME[] = "\",\"time\":\"";
    const char *e = s + n;
    if (n < 8 || memcmp(s, LOG, 7) != 0)
        return 1;
    struct jstr log;
    size_t tl = 0;
    const char *p = jstring_to(s + 7, e, &log, o, &tl);
    /* ,"stream":"std + out" / err" + ","time":" (from the value's closing quote) + "} */
    if (!p || e - p < 28 || memcmp(p, STREAM, 14) != 0)
        return 1;
    p += 14;
    if (!memcmp(p, "out\"", 4))
        out->stream = CTR_STDOUT;
    else if (!memcmp(p, "err\"", 4))
        out->stream = CTR_STDERR;
    else
        return 1;
    p += 3;
    if (memcmp(p, TIME, 10) != 0)
        return 1;
    p += 10;
    const char *q = memchr(p, '"', (size_t)(e - p));
    if (!q || e - q != 2 || q[1] != '}' || memchr(p, '\\', (size_t)(q - p)))
        return 1;
    if (tp_parse_iso_cached(tc, p, (size_t)(q - p), NULL, &out->ts_ms) != 0)
        return 1;
    out->len = tl;
    return 0;
}

/* The text of a decoded `log`: a line ends with "\n" (and maybe "\r"), a piece does not. */
static void docker_text(const char *t, size_t tl, struct ctr_line *out)
{
    out->partial = !(tl && t[tl - 1] == '\n');
    if (!out->partial) {
        tl--;
        if (tl && t[tl - 1] == '\r')
            tl--; /* CRLF written by the program */
    }
    out->text = t;
    out->len = tl;
}

static int decode_docker(const char *s, size_t n, struct buf *scratch, struct tp_iso_cache *tc,
                         struct ctr_line *out)
{
    const char *p = s, *e = s + n;
    struct jstr log = {0}, stream = {0}, tm = {0};
    size_t tl = 0;
    int have_log = 0, have_stream = 0, have_time = 0;
    scratch->len = 0;
    if (buf_reserve(scratch, n + 16) != 0)
        return -1;
    if (docker_fast(s, n, scratch->p, tc, out) == 0) {
        docker_text(scratch->p, out->len, out);
        return 0;
    }
    p = ws(p, e);
    if (p >= e || *p != '{')
        return -1;
    p = ws(p + 1, e);
    if (p < e && *p == '}')
        return -1;
    for (;;) {
        struct jstr k;
        p = jstring(p, e, &k);
        if (!p)
            return -1;
        p = ws(p, e);
        if (p >= e || *p != ':')
            return -1;
        p = ws(p + 1, e);
        int which = k.esc ? 0
                    : k.n == 3 && !memcmp(k.s, "log", 3)    ? 1
                    : k.n == 6 && !memcmp(k.s, "stream", 6) ? 2
                    : k.n == 4 && !memcmp(k.s, "time", 4)   ? 3
                                                            : 0;
        if (which && (p >= e || *p != '"'))
            return -1; /* log/stream/time that is not a string */
        if (which == 1) {
            p = jstring_to(p, e, &log, scratch->p, &tl); /* a repeated key: the last wins */
            have_log = 1;
        } else if (which == 2) {
            p = jstring(p, e, &stream);
            have_stream = 1;
        } else if (which == 3) {
            p = jstring(p, e, &tm);
            have_time = 1;
        } else {
            p = jskip(p, e, 0);
        }
        if (!p)
            return -1;
        p = ws(p, e);
        if (p < e && *p == ',') {
            p = ws(p + 1, e);
            continue;
        }
        if (p < e && *p == '}')
            break;
        return -1;
    }
    if (ws(p + 1, e) != e || !have_log || !have_stream || !have_time)
        return -1; /* Filebeat too refuses an object without its time */
    if (stream.esc || (out->stream = stream_of(stream.s, stream.n)) == CTR_STREAM_NONE)
        return -1;
    if (tm.esc || tp_parse_iso_cached(tc, tm.s, tm.n, NULL, &out->ts_ms) != 0)
        return -1;
    docker_text(scratch->p, tl, out);
    return 0;
}

int ctr_decode(enum ctr_format f, const char *line, size_t len, struct buf *scratch,
               struct tp_iso_cache *tc, struct ctr_line *out)
{
    memset(out, 0, sizeof *out);
    if (f == CTR_AUTO)
        f = len && line[0] == '{' ? CTR_DOCKER : CTR_CRI;
    if (f == CTR_DOCKER)
        return decode_docker(line, len, scratch, tc, out);
    if (f == CTR_CRI)
        return decode_cri(line, len, tc, out);
    return -1;
}

/* ---- identity from the path ------------------------------------------------------------ */

static int hex64(const char *s, size_t n)
{
    if (n != 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static void copy(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

void ctr_source_from_path(const char *path, struct ctr_source *cs)
{
    memset(cs, 0, sizeof *cs);
    const char *base = strrchr(path, '/');
    if (!base)
        return;
    base++;
    size_t bl = strlen(base);
    /* Docker: .../containers/ID/ID-json.log, rotated ID-json.log.1 */
    const char *dir = base - 1;
    const char *ds = dir;
    while (ds > path && ds[-1] != '/')
        ds--;
    size_t dl = (size_t)(dir - ds);
    if (hex64(ds, dl) && bl >= 64 + 9 && !memcmp(base, ds, 64) && !memcmp(base + 64, "-json.log", 9)) {
        copy(cs->id, sizeof cs->id, ds, 64);
        return;
    }
    /* Kubernetes: /var/log/containers/POD_NAMESPACE_CONTAINER-ID.log (names are DNS labels:
     * no '_' in them) */
    if (bl > 4 + 65 && !memcmp(base + bl - 4, ".log", 4) && base[bl - 4 - 65] == '-' &&
        hex64(base + bl - 4 - 64, 64)) {
        const char *u1 = memchr(base, '_', bl);
        const char *u2 = u1 ? memchr(u1 + 1, '_', (size_t)(base + bl - u1 - 1)) : NULL;
        const char *cend = base + bl - 4 - 65;
        if (u1 && u2 && u1 > base && u2 > u1 + 1 && cend > u2 + 1 &&
            !memchr(u2 + 1, '_', (size_t)(cend - u2 - 1))) {
            copy(cs->pod, sizeof cs->pod, base, (size_t)(u1 - base));
            copy(cs->ns, sizeof cs->ns, u1 + 1, (size_t)(u2 - u1 - 1));
            copy(cs->name, sizeof cs->name, u2 + 1, (size_t)(cend - u2 - 1));
            copy(cs->id, sizeof cs->id, cend + 1, 64);
        }
        return;
    }
    /* Kubernetes: /var/log/pods/NAMESPACE_POD_UID/CONTAINER/N.log */
    if (bl > 4 && !memcmp(base + bl - 4, ".log", 4) && dl > 0 && ds - path > 1) {
        const char *pe = ds - 1, *ps = pe;
        while (ps > path && ps[-1] != '/')
            ps--;
        size_t pl = (size_t)(pe - ps);
        if (ps - path >= 6 && !memcmp(ps - 6, "/pods/", 6)) {
            const char *u1 = memchr(ps, '_', pl);
            const char *u2 = u1 ? memchr(u1 + 1, '_', (size_t)(pe - u1 - 1)) : NULL;
            if (u1 && u2 && u1 > ps && u2 > u1 + 1) {
                copy(cs->ns, sizeof cs->ns, ps, (size_t)(u1 - ps));
                copy(cs->pod, sizeof cs->pod, u1 + 1, (size_t)(u2 - u1 - 1));
                copy(cs->name, sizeof cs->name, ds, dl);
            }
        }
    }
}
