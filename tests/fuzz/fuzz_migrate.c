/*
 * fuzz_migrate.c - libFuzzer target for `logferry migrate filebeat` below the command line:
 * arbitrary bytes as filebeat.yml go through my_parse() (agent/migrate_yaml.c) and, when they
 * parse, through the whole conversion (inputs, modules, processors and conditions, outputs,
 * the sweep) and mig_free(). ASan/UBSan and LeakSanitizer turn any overflow, UB or leak into a
 * crash; the node budget must refuse alias bombs before memory runs out. Single-threaded.
 *
 * Build and run: tests/fuzz/run.sh migrate.
 */
#include "tests/fuzz/fuzz.h"
#include "agent/migrate.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 16))
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct migrate m = {.yml_path = "fuzz.yml"};
    buf_init(&m.agent, 1 << 20);
    buf_init(&m.inputs, 1 << 22);
    buf_init(&m.outputs, 1 << 20);
    char err[512];
    m.root = my_parse(text, size, err, sizeof err);
    free(text);
    if (m.root) {
        /* modules.d globs resolve under a directory that does not exist */
        m.config_dir = strdup("/nonexistent-logferry-fuzz");
        if (m.config_dir) {
            mig_inputs(&m);
            mig_outputs(&m);
            mig_sweep(&m);
        }
    }
    mig_free(&m);
    return 0;
}
