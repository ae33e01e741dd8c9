/*
 * spool_rec.c - encodes a batch as a spool record and decodes one back (spool_rec.h has the
 * layout). Pure functions: any thread.
 */
#include "agent/spool_rec.h"
#include "agent/crc32c.h"

#include <string.h>

static char *put64(char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (char)(v >> (8 * i));
    return p + 8;
}

static char *put32(char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (char)(v >> (8 * i));
    return p + 4;
}

static char *put16(char *p, uint16_t v)
{
    p[0] = (char)v;
    p[1] = (char)(v >> 8);
    return p + 2;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

#define BODY_FIXED (4 * 8 + 4 + 3 * 8 + 3 * 2)
#define EV_FIXED (3 * 8 + 2 + 4)

static size_t slen(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > UINT16_MAX ? UINT16_MAX : n;
}

size_t spool_rec_size(const struct event_batch *b)
{
    size_t n = SPOOL_HDR_BYTES + BODY_FIXED;
    if (b->src)
        n += slen(b->src->input) + slen(b->src->path);
    n += slen(b->host_name);
    for (uint32_t i = 0; i < b->n; i++)
        n += EV_FIXED + b->ev[i].json_len;
    return n;
}

size_t spool_rec_encode(const struct event_batch *b, int64_t spooled_ms, char *out)
{
    char *p = out + SPOOL_HDR_BYTES;
    const struct event_source *s = b->src;
    struct file_id id = s ? s->id : (struct file_id){0};
    p = put64(p, id.dev);
    p = put64(p, id.ino);
    p = put64(p, id.fp);
    p = put64(p, id.uid);
    p = put32(p, id.fp_len);
    p = put64(p, b->start);
    p = put64(p, b->end);
    p = put64(p, b->seq);
    const char *strs[3] = {s ? s->input : NULL, s ? s->path : NULL, b->host_name};
    size_t lens[3];
    for (int i = 0; i < 3; i++)
        p = put16(p, (uint16_t)(lens[i] = slen(strs[i])));
    for (int i = 0; i < 3; i++) {
        if (lens[i])
            memcpy(p, strs[i], lens[i]);
        p += lens[i];
    }
    for (uint32_t i = 0; i < b->n; i++) {
        const struct event *ev = &b->ev[i];
        p = put64(p, ev->offset);
        p = put64(p, ev->end);
        p = put64(p, (uint64_t)ev->ts_ms);
        p = put16(p, ev->flags);
        p = put32(p, ev->json_len);
        memcpy(p, ev->json, ev->json_len);
        p += ev->json_len;
    }
    size_t body = (size_t)(p - out) - SPOOL_HDR_BYTES;
    char *h = out;
    h = put32(h, SPOOL_MAGIC);
    h = put32(h, (uint32_t)body);
    h = put32(h, b->n);
    h = put32(h, crc32c(0, out + SPOOL_HDR_BYTES, body));
    h = put64(h, (uint64_t)spooled_ms);
    h = put32(h, crc32c(0, out, 24));
    put32(h, 0);
    return (size_t)(p - out);
}

int spool_hdr_parse(const void *v, struct spool_hdr *h)
{
    const unsigned char *p = v;
    if (get32(p) != SPOOL_MAGIC || get32(p + 24) != crc32c(0, p, 24))
        return -1;
    h->len = get32(p + 4);
    h->nev = get32(p + 8);
    h->crc = get32(p + 12);
    h->ms = (int64_t)get64(p + 16);
    /* every event takes EV_FIXED bytes at least: a count beyond that is damage */
    if (h->len > SPOOL_REC_MAX || h->len < BODY_FIXED ||
        h->nev > (h->len - BODY_FIXED) / EV_FIXED)
        return -1;
    return 0;
}

int spool_body_ok(const struct spool_hdr *h, const void *body)
{
    return crc32c(0, body, h->len) == h->crc;
}

size_t spool_rec_strs_size(const struct spool_hdr *h, const char *body)
{
    const unsigned char *p = (const unsigned char *)body;
    if (h->len < BODY_FIXED)
        return 3;
    return (size_t)get16(p + 60) + get16(p + 62) + get16(p + 64) + 3;
}

int spool_rec_decode(const struct spool_hdr *h, const char *body, struct event_batch *b,
                     struct event_source *src, char *strs)
{
    const unsigned char *p = (const unsigned char *)body, *end = p + h->len;
    if (h->len < BODY_FIXED)
        return -1;
    memset(&src->id, 0, sizeof src->id);
    src->id.dev = get64(p);
    src->id.ino = get64(p + 8);
    src->id.fp = get64(p + 16);
    src->id.uid = get64(p + 24);
    src->id.fp_len = get32(p + 32);
    b->start = get64(p + 36);
    b->end = get64(p + 44);
    b->seq = get64(p + 52);
    size_t lens[3] = {get16(p + 60), get16(p + 62), get16(p + 64)};
    p += BODY_FIXED;
    if ((size_t)(end - p) < lens[0] + lens[1] + lens[2])
        return -1;
    /* input and path become C strings in strs; the host name too */
    char *dst[3];
    for (int i = 0; i < 3; i++) {
        dst[i] = strs;
        memcpy(strs, p, lens[i]);
        /* a NUL inside would cut the name short, which is harmless; strs has room for the
         * terminators because the body's fixed part is longer than three bytes */
        strs[lens[i]] = 0;
        strs += lens[i] + 1;
        p += lens[i];
    }
    src->input = dst[0];
    src->path = dst[1];
    b->host_name = dst[2];
    b->src = src;
    b->n = 0;
    for (uint32_t i = 0; i < h->nev; i++) {
        if ((size_t)(end - p) < EV_FIXED)
            return -1;
        struct event *ev = &b->ev[i];
        memset(ev, 0, sizeof *ev);
        ev->offset = get64(p);
        ev->end = get64(p + 8);
        ev->ts_ms = (int64_t)get64(p + 16);
        ev->flags = get16(p + 24);
        ev->json_len = get32(p + 26);
        p += EV_FIXED;
        if ((size_t)(end - p) < ev->json_len || ev->json_len == 0 || p[ev->json_len - 1] != '\n')
            return -1;
        ev->json = (const char *)p;
        p += ev->json_len;
        b->n++;
    }
    return p == end ? 0 : -1;
}
