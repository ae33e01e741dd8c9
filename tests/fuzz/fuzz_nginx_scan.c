/*
 * fuzz_nginx_scan.c - libFuzzer target: parsers/nginx_scan.c may decline any input, but
 * when it claims a match its captures must be PCRE2's, byte for byte (nginx_scan_diff.h).
 * The whole input is one record (LF included, which the scanner must decline).
 * Run: build-fuzz/fuzz_nginx_scan -max_total_time=300 tests/fuzz/corpus-nginx_scan
 */
#include <stdint.h>
#include <stdlib.h>

#include "tests/fuzz/fuzz.h"
#include "nginx_scan_diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct scan_diff d;
    static int ready;
    if (!ready) {
        if (scan_diff_init(&d) != 0)
            abort();
        ready = 1;
    }
    char why[200];
    if (scan_diff(&d, (const char *)data, size, why, sizeof why) < 0) {
        fprintf(stderr, "nginx_scan disagrees with PCRE2: %s\n", why);
        abort();
    }
    return 0;
}
