/*
 * logstash_proto.c - Lumberjack v2 framing as pure functions over buffers: the window frame,
 * JSON data frames carrying each event with its @metadata, the compressed frame (zlib), the
 * server's ACK frames, and the window's slow start. Compression is libdeflate's
 * (agent/base/compress.c), in zlib format as the protocol wants.
 *
 * No I/O and no state: called on the Logstash output's thread, and by the unit tests. Every
 * buffer written here is a capped struct buf; the ACK parser reads at most the bytes it is
 * given and refuses anything but ACK frames, because the server's bytes are not trusted
 * either.
 */
#include "outputs/logstash.h"

#include "agent/base/compress.h"
#include "agent/base/json.h"

#include <stdio.h>
#include <string.h>

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int lj_put_window(struct buf *out, uint32_t count)
{
    unsigned char f[6] = {LJ_VERSION, 'W'};
    put_u32(f + 2, count);
    return buf_add(out, f, sizeof f);
}

int lj_metadata(struct buf *out, const char *beat_name, const char *version)
{
    if (buf_adds(out, "\"@metadata\":{\"beat\":") || json_write_string(out, beat_name,
                                                                      strlen(beat_name)) ||
        buf_adds(out, ",\"type\":\"_doc\",\"version\":") ||
        json_write_string(out, version, strlen(version)) || buf_addc(out, '}'))
        return -1;
    return 0;
}

int lj_put_event(struct buf *out, uint32_t seq, const char *meta, size_t metalen,
                 const char *json, size_t len)
{
    if (len && json[len - 1] == '\n')
        len--;
    /* The writer's events are objects; anything else goes unchanged (no metadata). */
    int obj = len >= 2 && json[0] == '{' && json[len - 1] == '}';
    int empty = obj && len == 2;
    size_t body = obj ? 1 + metalen + (empty ? 0 : 1) + (len - 1) : len;
    if (body > UINT32_MAX || buf_reserve(out, 10 + body) != 0)
        return -1;
    unsigned char *h = (unsigned char *)out->p + out->len;
    h[0] = LJ_VERSION;
    h[1] = 'J';
    put_u32(h + 2, seq);
    put_u32(h + 6, (uint32_t)body);
    char *w = out->p + out->len + 10;
    if (obj) {
        *w++ = '{';
        memcpy(w, meta, metalen);
        w += metalen;
        if (!empty)
            *w++ = ',';
        memcpy(w, json + 1, len - 1);
    } else {
        memcpy(w, json, len);
    }
    out->len += 10 + body;
    return 0;
}

int lj_put_compressed(struct buf *out, struct lf_compressor *zc, const char *in, size_t n,
                      char *err, size_t errsz)
{
    size_t at = out->len;
    if (n > UINT32_MAX || buf_reserve(out, 6) != 0)
        goto cap;
    out->len += 6;
    if (lf_compress(zc, LF_ZLIB, in, n, out) != 0) {
        out->len = at;
        goto cap;
    }
    size_t clen = out->len - at - 6;
    if (clen > UINT32_MAX) {
        out->len = at;
        goto cap;
    }
    unsigned char *h = (unsigned char *)out->p + at;
    h[0] = LJ_VERSION;
    h[1] = 'C';
    put_u32(h + 2, (uint32_t)clen);
    return 0;
cap:
    snprintf(err, errsz, "a window of %zu bytes does not fit the frame buffer", n);
    return -1;
}

long lj_parse_acks(const unsigned char *in, size_t n, uint32_t *seq, int *nacks, char *err,
                   size_t errsz)
{
    size_t i = 0;
    *nacks = 0;
    while (n - i >= 2) {
        if (in[i] != LJ_VERSION || in[i + 1] != 'A') {
            snprintf(err, errsz, "protocol error: expected an ACK frame, got bytes 0x%02x "
                     "0x%02x", in[i], in[i + 1]);
            return -1;
        }
        if (n - i < 6)
            break;
        *seq = get_u32(in + i + 2);
        (*nacks)++;
        i += 6;
    }
    return (long)i;
}

uint32_t lj_window_next(uint32_t cur, uint32_t used, int ok, uint32_t max)
{
    if (max < 1)
        max = 1;
    if (!ok) {
        cur /= 2;
        return cur < 1 ? 1 : cur;
    }
    if (used >= cur && cur < max)
        cur = cur > max / 2 ? max : cur * 2;
    return cur > max ? max : cur;
}
