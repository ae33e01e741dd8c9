/*
 * match.c - what every PCRE2 match on log content shares: compiling a pattern with JIT and
 * the match context whose backtracking limits keep a hostile line from stalling the tail
 * thread.
 *
 * Threads: parser_compile() and parser_mctx()'s first call run at configuration time on the
 * main thread; afterwards the context is read-only and the tail thread passes it to every
 * match. parser_mctx_free() runs when the configuration is torn down.
 */
#include "parsers/parser.h"

#include <stdio.h>

static pcre2_match_context *mctx;

/* Backtracking budget of one match on log content: a hostile line must not stall the tail
 * thread. A match that runs out counts as not matching. */
#define PARSER_MATCH_LIMIT 200000

pcre2_match_context *parser_mctx(void)
{
    if (!mctx) {
        mctx = pcre2_match_context_create(NULL);
        if (mctx) {
            pcre2_set_match_limit(mctx, PARSER_MATCH_LIMIT);
            pcre2_set_depth_limit(mctx, 10000);
        }
    }
    return mctx;
}

void parser_mctx_free(void)
{
    pcre2_match_context_free(mctx);
    mctx = NULL;
}

pcre2_code *parser_compile(const char *pattern, uint32_t flags, char *err, size_t errsz)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, flags, &ec, &eo,
                                   NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        /* PCRE2's messages are short; truncating one to errsz is acceptable. */
        if (snprintf(err, errsz, "%s at offset %zu", (const char *)msg, (size_t)eo) < 0)
            err[0] = '\0';
        return NULL;
    }
    /* JIT failing (e.g. no executable memory) is not fatal: the interpreter still works. */
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}
