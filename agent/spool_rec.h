/*
 * spool_rec.h - the disk spool's record: one dispatched batch, as an output needs it again
 * (its events' JSON, offsets, times and flags, and where they came from).
 *
 * Pure functions on memory, any thread. Layout (little-endian):
 *   header (32 bytes): magic "LFS1", body length, event count, CRC32C of the body, the wall
 *                      time it was spooled (ms), CRC32C of the 24 bytes before, 4 zero bytes
 *   body: dev, inode, fingerprint, uid (u64 each), fingerprint length (u32), the batch's
 *         start, end and seq (u64), lengths of input name, path, host name (u16 each) and the
 *         three strings; then per event offset, end, @timestamp ms (u64), flags (u16), JSON
 *         length (u32) and the JSON line.
 * The header has its own CRC so a damaged length is never trusted, and every length in the
 * body is checked against what is left of it: spool files are input like any other.
 * A header cannot be forged from log content: its length fields hold zero bytes, which the
 * JSON writer never leaves unescaped.
 */
#ifndef LF_SPOOL_REC_H
#define LF_SPOOL_REC_H

#include <stddef.h>
#include <stdint.h>

#include "agent/base/event.h"

#define SPOOL_HDR_BYTES 32
#define SPOOL_MAGIC 0x3153464cu            /* "LFS1" on disk */
#define SPOOL_REC_MAX ((uint32_t)64 << 20) /* a batch is far smaller; anything larger is damage */

struct spool_hdr {
    uint32_t len; /* body bytes */
    uint32_t nev;
    uint32_t crc; /* of the body */
    int64_t ms;   /* when it was spooled (wall clock) */
};

/* Bytes spool_rec_encode() will write for b (header included). */
size_t spool_rec_size(const struct event_batch *b);
/* Writes b as one record (header and body) at out, which has spool_rec_size(b) bytes.
 * Returns the bytes written. */
size_t spool_rec_encode(const struct event_batch *b, int64_t spooled_ms, char *out);
/* 0 and *h filled when p holds a well-formed header (magic, header CRC, sane lengths), else
 * -1. */
int spool_hdr_parse(const void *p, struct spool_hdr *h);
/* 1 if the body's CRC matches the header's. */
int spool_body_ok(const struct spool_hdr *h, const void *body);
/* Bytes spool_rec_decode() needs in `strs` for this checked body (at most 196,608). */
size_t spool_rec_strs_size(const struct spool_hdr *h, const char *body);
/* Fills b (cap >= h->nev) and src from a checked body: events, start, end, seq, host name;
 * every pointer points into body, which must outlive b. src->input and ->path are NUL-less
 * copies too: they point into `strs`, of spool_rec_strs_size() bytes. 0, or -1 when the body
 * does not parse (it is then not used). */
int spool_rec_decode(const struct spool_hdr *h, const char *body, struct event_batch *b,
                     struct event_source *src, char *strs);

#endif
