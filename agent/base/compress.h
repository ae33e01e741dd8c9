/*
 * compress.h - one-shot DEFLATE compression of a whole buffer (zlib or gzip framing) with
 * libdeflate, for the outputs that compress what they send (the Logstash output's windows;
 * the Elasticsearch output's _bulk bodies can use it too).
 *
 * Ground floor. Why libdeflate and not zlib: on our own payloads (bench/deflate_cmp.sh:
 * nginx events as Logstash windows and as _bulk bodies) it is faster at every level and its
 * output is smaller: about 2x at levels 1 and 6, 1.2-1.4x at level 3. A compressor is
 * owned by one thread (it holds libdeflate's state for one level); create one per output
 * instance.
 */
#ifndef LF_COMPRESS_H
#define LF_COMPRESS_H

#include <stddef.h>

#include "agent/base/buf.h"
#include "agent/base/must_check.h"

enum lf_zformat { LF_ZLIB = 0, LF_GZIP = 1 };

struct lf_compressor;

/* level 1 (fastest) to 9, as zlib's. NULL when out of memory or level out of range. */
LF_MUST_CHECK struct lf_compressor *lf_compressor_new(int level);
void lf_compressor_free(struct lf_compressor *c);
/* Appends the compressed form of in[0..n) to out (within out's cap). 0, or -1 when out's
 * cap is too small or n is too large. */
int lf_compress(struct lf_compressor *c, enum lf_zformat fmt, const void *in, size_t n,
                struct buf *out);

#endif
