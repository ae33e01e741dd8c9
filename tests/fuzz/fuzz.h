/*
 * fuzz.h - the entry points libFuzzer calls (it ships no header of its own), declared once so
 * every fuzz_*.c passes -Wmissing-prototypes. Single-threaded.
 */
#ifndef LF_FUZZ_H
#define LF_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
