/*
 * secret.c - a small allocator for secrets, in mmap'd chunks marked MADV_DONTDUMP (secret.h).
 *
 * Chunks of 64 KiB (or one larger mapping for a larger string) are carved from the front;
 * each allocation is preceded by a header naming its chunk and size. Freeing wipes the bytes
 * and, when a chunk holds nothing live any more, unmaps it: a configuration loaded and freed
 * (check, reload) leaves nothing behind. Any thread; one mutex, taken only here.
 */
#include "agent/base/secret.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK_SIZE ((size_t)64 << 10)

struct chunk {
    struct chunk *next;
    size_t size, used, live;
};

struct hdr {
    struct chunk *c;
    size_t n; /* bytes after the header, NUL included */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct chunk *chunks;

void lf_secret_wipe(void *p, size_t n)
{
    if (p && n)
        explicit_bzero(p, n);
}

static size_t round16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

static struct chunk *chunk_new(size_t need)
{
    size_t size = round16(sizeof(struct chunk)) + need;
    size = size < CHUNK_SIZE ? CHUNK_SIZE : (size + 4095) & ~(size_t)4095;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    /* Best effort: a kernel without MADV_DONTDUMP (before 3.4) still gets wiping on free. */
    (void)madvise(p, size, MADV_DONTDUMP);
    struct chunk *c = p;
    c->size = size;
    c->used = round16(sizeof *c);
    c->live = 0;
    c->next = chunks;
    chunks = c;
    return c;
}

static char *take(size_t n)
{
    if (n > SIZE_MAX / 2)
        return NULL;
    size_t need = round16(sizeof(struct hdr) + n + 1);
    pthread_mutex_lock(&mu);
    struct chunk *c = chunks;
    while (c && c->size - c->used < need)
        c = c->next;
    if (!c)
        c = chunk_new(need);
    char *out = NULL;
    if (c) {
        struct hdr *h = (struct hdr *)((char *)c + c->used);
        c->used += need;
        c->live++;
        h->c = c;
        h->n = n + 1;
        out = (char *)(h + 1); /* fresh from the mapping (zero) or wiped by a free */
    }
    pthread_mutex_unlock(&mu);
    return out;
}

char *lf_secret_alloc(size_t n)
{
    return take(n);
}

char *lf_secret_strndup(const char *s, size_t n)
{
    char *out = take(n);
    if (out) {
        memcpy(out, s, n);
        out[n] = '\0';
    }
    return out;
}

char *lf_secret_strdup(const char *s)
{
    return lf_secret_strndup(s, strlen(s));
}

void lf_secret_free(char *p)
{
    if (!p)
        return;
    struct hdr *h = (struct hdr *)p - 1;
    pthread_mutex_lock(&mu);
    struct chunk *c = h->c;
    lf_secret_wipe(p, h->n);
    if (--c->live == 0) {
        struct chunk **pp = &chunks;
        while (*pp != c)
            pp = &(*pp)->next;
        *pp = c->next;
        munmap(c, c->size);
    }
    pthread_mutex_unlock(&mu);
}
