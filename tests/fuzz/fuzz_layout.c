/*
 * fuzz_layout.c - libFuzzer target for the layout compilers (parsers/layout*.c). The first
 * byte picks the compiler (logback, Log4j2, nginx, Apache), the rest is the layout text
 * (cut at a NUL, as a config value would be). Whatever the text, the compiler either refuses
 * it with a sentence, or produces a regex PCRE2 compiles, group numbers that exist in it, a
 * time format timeparse accepts and field names that intern; then one line is matched
 * against it (the compiled parser is exercised, not just built). An nginx escape=json layout
 * gives a key map instead: its field names intern and its time formats are accepted.
 * Run: build-fuzz/fuzz_layout -max_total_time=300 tests/fuzz/corpus-layout
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "parsers/layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    char text[4097];
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    static struct layout_build b;
    if (layout_compile(&b, (enum layout_kind)(data[0] % 4), text) != 0) {
        if (!b.err[0]) {
            fprintf(stderr, "refused without a reason\n");
            abort();
        }
        return 0;
    }
    if (b.builtin != LAYOUT_BUILTIN_NONE)
        return 0;
    char err[256];
    if (b.json) { /* nginx escape=json: a key map, no regex */
        for (int i = 0; i < b.njf; i++)
            if ((b.jf[i].key[0] && !fkey_intern(b.jf[i].key)) ||
                (b.jf[i].time_format[0] &&
                 tp_check_format(b.jf[i].time_format, err, sizeof err) != 0)) {
                fprintf(stderr, "bad json key %s -> %s\n", b.jf[i].path, b.jf[i].key);
                abort();
            }
        fkey_reset();
        return 0;
    }
    pcre2_code *re = parser_compile(b.re, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, err, sizeof err);
    if (!re) {
        fprintf(stderr, "layout produced an invalid regex (%s): %s\n", err, b.re);
        abort();
    }
    uint32_t ngroups = 0;
    pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &ngroups);
    if (ngroups != b.ngroups) {
        fprintf(stderr, "group count %u, compiler counted %u: %s\n", ngroups, b.ngroups, b.re);
        abort();
    }
    for (int i = 0; i < b.nf; i++)
        if (b.f[i].group < 1 || b.f[i].group > ngroups || !fkey_intern(b.f[i].key)) {
            fprintf(stderr, "bad field %s (group %u)\n", b.f[i].key, b.f[i].group);
            abort();
        }
    if (b.time_group >= 0 && b.time_format[0] &&
        tp_check_format(b.time_format, err, sizeof err) != 0) {
        fprintf(stderr, "time format '%s' refused: %s\n", b.time_format, err);
        abort();
    }
    /* the layout text itself as a line: bounded by the match limits, whatever it does */
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (md)
        (void)pcre2_match(re, (PCRE2_SPTR)text, strlen(text), 0, 0, md, parser_mctx());
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    fkey_reset();
    return 0;
}
