/*
 * compress.c - lf_compress(): libdeflate behind a small interface (see compress.h for why).
 * A compressor belongs to the thread that created it; nothing here is shared.
 */
#include "agent/base/compress.h"

#include <libdeflate.h>

struct lf_compressor {
    struct libdeflate_compressor *ld;
};

struct lf_compressor *lf_compressor_new(int level)
{
    if (level < 1 || level > 9)
        return NULL;
    struct lf_compressor *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    c->ld = libdeflate_alloc_compressor(level);
    if (!c->ld) {
        free(c);
        return NULL;
    }
    return c;
}

void lf_compressor_free(struct lf_compressor *c)
{
    if (!c)
        return;
    libdeflate_free_compressor(c->ld);
    free(c);
}

int lf_compress(struct lf_compressor *c, enum lf_zformat fmt, const void *in, size_t n,
                struct buf *out)
{
    size_t bound = fmt == LF_GZIP ? libdeflate_gzip_compress_bound(c->ld, n)
                                  : libdeflate_zlib_compress_bound(c->ld, n);
    if (bound < n || buf_reserve(out, bound) != 0)
        return -1;
    size_t w = fmt == LF_GZIP
                   ? libdeflate_gzip_compress(c->ld, in, n, out->p + out->len, bound)
                   : libdeflate_zlib_compress(c->ld, in, n, out->p + out->len, bound);
    if (w == 0)
        return -1;
    out->len += w;
    return 0;
}
