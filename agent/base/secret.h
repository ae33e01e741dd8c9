/*
 * secret.h - memory for secrets (passwords, API keys, webhook URLs, configuration values)
 * that core dumps do not contain.
 *
 * Ground floor. Strings are copied into pages marked MADV_DONTDUMP, so a core dump (SIGABRT,
 * a crash, gcore) carries no copy of them, and are wiped when freed, so freed memory does
 * not keep them either. What libraries copy for themselves (libcurl's URL and headers,
 * librdkafka's configuration) is outside our reach: the systemd unit sets LimitCORE=0 for
 * that. Thread-safe (one mutex; used at configuration and output start-up, not per event).
 */
#ifndef LF_SECRET_H
#define LF_SECRET_H

#include <stddef.h>

#include "agent/base/must_check.h"

/* A NUL-terminated copy of s[0..n) in non-dumped memory; NULL when out of memory. */
char *lf_secret_strndup(const char *s, size_t n);
char *lf_secret_strdup(const char *s);
/* n + 1 zeroed bytes of non-dumped memory (to read a secret into); NULL when out of memory. */
LF_MUST_CHECK char *lf_secret_alloc(size_t n);
/* Wipes and releases p (from lf_secret_strdup/strndup; NULL is fine). */
void lf_secret_free(char *p);
/* Overwrites n bytes at p with zeros in a way the compiler cannot drop. */
void lf_secret_wipe(void *p, size_t n);

#endif
