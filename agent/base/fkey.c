/*
 * fkey.c - field keys: interning dotted ECS names at configuration time, their sorted ranks,
 * and the generation counter that lets caches keyed by key pointers notice a reset.
 *
 * Configuration time only (main thread, before other threads start): fkey_intern,
 * fkey_freeze, fkey_reset. fkey_current_generation() may be read from any thread.
 */
#include "agent/base/event.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct fkey **keys;
static size_t nkeys, capkeys;
/* Bumped whenever keys are frozen or freed: caches keyed by fkey pointers check it. */
static atomic_uint fkey_generation = 1;

const struct fkey *FK_TIMESTAMP, *FK_MESSAGE, *FK_HOST_NAME, *FK_LOG_FILE_PATH, *FK_LOG_OFFSET,
    *FK_LOG_FLAGS, *FK_TAGS, *FK_INPUT_TYPE, *FK_AGENT_ID, *FK_AGENT_NAME, *FK_AGENT_TYPE,
    *FK_AGENT_VERSION, *FK_ECS_VERSION;

static int valid_dotted(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || s[0] == '.' || s[n - 1] == '.' || strstr(s, ".."))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\')
            return 0;
    return 1;
}

const struct fkey *fkey_intern(const char *dotted)
{
    if (!valid_dotted(dotted))
        return NULL;
    for (size_t i = 0; i < nkeys; i++)
        if (strcmp(keys[i]->name, dotted) == 0)
            return keys[i];
    if (nkeys == capkeys) {
        size_t nc = capkeys ? capkeys * 2 : 64;
        struct fkey **nk = realloc(keys, nc * sizeof *nk);
        if (!nk)
            return NULL;
        keys = nk;
        capkeys = nc;
    }
    struct fkey *k = malloc(sizeof *k);
    char *name = strdup(dotted);
    if (!k || !name) {
        free(k);
        free(name);
        return NULL;
    }
    k->name = name;
    k->len = (uint32_t)strlen(name);
    k->rank = 0;
    k->ncomp = 0;
    if (k->len < UINT16_MAX) {
        int nc = 0;
        for (uint32_t i = 0; i <= k->len && nc < FKEY_MAX_COMPONENTS + 1; i++)
            if (i == k->len || name[i] == '.') {
                if (nc < FKEY_MAX_COMPONENTS)
                    k->ends[nc] = (uint16_t)i;
                nc++;
            }
        k->ncomp = nc <= FKEY_MAX_COMPONENTS ? (uint8_t)nc : 0; /* 0: too deep, computed later */
    }
    keys[nkeys++] = k;
    return k;
}

/* Order of dotted keys for nesting: byte order, except that '.' sorts before every other
 * byte. With plain strcmp "a.b-c" ('-' < '.') would fall between "a.b" and "a.b.d" and split
 * the a.b object in two (a duplicate key); component-wise order keeps each object's keys
 * contiguous. */
int fkey_name_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned ca = (unsigned char)*a, cb = (unsigned char)*b;
        if (ca == cb) {
            if (!ca)
                return 0;
            continue;
        }
        if (!ca || !cb)
            return ca ? 1 : -1;
        if (ca == '.')
            return -1;
        if (cb == '.')
            return 1;
        return ca < cb ? -1 : 1;
    }
}

static int cmp_keyptr(const void *a, const void *b)
{
    return fkey_name_cmp((*(struct fkey *const *)a)->name, (*(struct fkey *const *)b)->name);
}

void fkey_init_builtin(void)
{
    FK_TIMESTAMP = fkey_intern("@timestamp");
    FK_MESSAGE = fkey_intern("message");
    FK_HOST_NAME = fkey_intern("host.name");
    FK_LOG_FILE_PATH = fkey_intern("log.file.path");
    FK_LOG_OFFSET = fkey_intern("log.offset");
    FK_LOG_FLAGS = fkey_intern("log.flags");
    FK_TAGS = fkey_intern("tags");
    FK_INPUT_TYPE = fkey_intern("input.type");
    FK_AGENT_ID = fkey_intern("agent.id");
    FK_AGENT_NAME = fkey_intern("agent.name");
    FK_AGENT_TYPE = fkey_intern("agent.type");
    FK_AGENT_VERSION = fkey_intern("agent.version");
    FK_ECS_VERSION = fkey_intern("ecs.version");
}

void fkey_freeze(void)
{
    if (!FK_MESSAGE)
        fkey_init_builtin();
    struct fkey **sorted = malloc((nkeys ? nkeys : 1) * sizeof *sorted);
    if (!sorted)
        return;
    memcpy(sorted, keys, nkeys * sizeof *sorted);
    qsort(sorted, nkeys, sizeof *sorted, cmp_keyptr);
    for (size_t i = 0; i < nkeys; i++)
        sorted[i]->rank = (uint32_t)i;
    free(sorted);
    atomic_fetch_add(&fkey_generation, 1);
}

void fkey_reset(void)
{
    atomic_fetch_add(&fkey_generation, 1);
    for (size_t i = 0; i < nkeys; i++) {
        free((char *)keys[i]->name);
        free(keys[i]);
    }
    free(keys);
    keys = NULL;
    nkeys = capkeys = 0;
    FK_TIMESTAMP = FK_MESSAGE = FK_HOST_NAME = FK_LOG_FILE_PATH = FK_LOG_OFFSET = NULL;
    FK_LOG_FLAGS = FK_TAGS = FK_INPUT_TYPE = NULL;
    FK_AGENT_ID = FK_AGENT_NAME = FK_AGENT_TYPE = FK_AGENT_VERSION = FK_ECS_VERSION = NULL;
}

unsigned fkey_current_generation(void)
{
    return atomic_load_explicit(&fkey_generation, memory_order_relaxed);
}
