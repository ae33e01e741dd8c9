/*
 * fuzz_config.c - libFuzzer target for agent.conf reading (agent/base/config.c).
 *
 * Feeds arbitrary bytes to conf_load_string() as if they were an agent.conf, then runs
 * conf_apply() with a sample table that has one key of every type (string with choices, int,
 * size, duration, bool, list, prefix) over every section, reports unused keys and frees
 * everything. The first input byte also picks an environment setup so ${VAR} and
 * ${VAR:-default} expansion sees both set and unset variables. The value parsers get the raw
 * bytes too. Then the same bytes go through the agent's real configuration
 * (agent_configure() on a memfd: the [agent], [input], [parser] and [output] tables, parser
 * compilation, glob checks) and agent_unconfigure(). ASan/UBSan (and LeakSanitizer after each
 * input) turn any overflow, UB or leak into a crash. Single-threaded.
 *
 * Build and run: tests/fuzz/run.sh (or -DLOGFERRY_FUZZ=ON -DCMAKE_C_COMPILER=clang).
 */
#include "tests/fuzz/fuzz.h"
#include "agent/agent.h"
#include "agent/base/config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct sample {
    const char *name;
    const char *mode;
    long count;
    uint64_t bytes;
    long ms;
    int flag;
    struct conf_list paths;
    struct conf_kvlist fields;
};

static const struct conf_key sample_keys[] = {
    {"name", CT_STR, "x", offsetof(struct sample, name), "a string", NULL},
    {"mode", CT_STR, "a", offsetof(struct sample, mode), "a choice", "a|b|beginning|end"},
    {"count", CT_INT, "1", offsetof(struct sample, count), "an integer", NULL},
    {"bytes", CT_SIZE, "1MiB", offsetof(struct sample, bytes), "a size", NULL},
    {"timeout", CT_DURATION, "1s", offsetof(struct sample, ms), "a duration", NULL},
    {"flag", CT_BOOL, "false", offsetof(struct sample, flag), "a bool", NULL},
    {"paths", CT_LIST, NULL, offsetof(struct sample, paths), "a list", NULL},
    {"fields.", CT_PREFIX, NULL, offsetof(struct sample, fields), "prefixed keys", NULL},
    {NULL, CT_STR, NULL, 0, NULL, NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256 * 1024)
        return 0;
    /* Environment for ${...}: a set, an empty and an unset variable. */
    if (size && (data[0] & 1)) {
        setenv("LF_FUZZ_A", "value-a", 1);
        setenv("LF_FUZZ_EMPTY", "", 1);
    } else {
        unsetenv("LF_FUZZ_A");
        unsetenv("LF_FUZZ_EMPTY");
    }
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    struct conf_errs errs = {0};
    struct conf *c = conf_load_string("fuzz.conf", text, &errs);
    if (c) {
        for (int i = 0; i < c->n; i++) {
            struct sample s;
            memset(&s, 0, sizeof s);
            conf_apply(c, &c->s[i], sample_keys, &s, &errs);
            /* Touch what conf_apply stored so ASan sees any dangling pointer. */
            size_t sink = 0;
            if (s.name)
                sink += strlen(s.name);
            if (s.mode)
                sink += strlen(s.mode);
            for (int j = 0; j < s.paths.n; j++)
                sink += strlen(s.paths.v[j]);
            for (int j = 0; j < s.fields.n; j++)
                sink += strlen(s.fields.v[j].key) + strlen(s.fields.v[j].value);
            (void)sink;
            conf_find(&c->s[i], "paths");
            conf_report_unused(c, &c->s[i], &errs);
            conf_free_target(sample_keys, &s);
        }
        conf_free(c);
    }
    for (int i = 0; i < errs.n; i++)
        if (strncmp(errs.msg[i], "fuzz.conf", 9) != 0)
            abort(); /* every error names the file */
    conf_errs_free(&errs);

    /* The value parsers on the raw text. */
    uint64_t sz;
    long ms;
    int b;
    conf_parse_size(text, &sz);
    conf_parse_duration(text, &ms);
    conf_parse_bool(text, &b);
    struct conf_list l;
    if (conf_split_list(text, &l) == 0)
        conf_list_free(&l);
    char err[256];
    free(conf_expand_env(text, err, sizeof err));
    free(text);

    /* The real tables through agent_configure(), which reads a path: a memfd stands in. */
    int fd = memfd_create("fuzz.conf", 0);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        struct agent a;
        memset(&a, 0, sizeof a);
        struct conf_errs aerrs = {0};
        agent_configure(&a, path, &aerrs);
        agent_unconfigure(&a);
        conf_errs_free(&aerrs);
    }
    close(fd);
    return 0;
}
