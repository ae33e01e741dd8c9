/*
 * when.c - placeholder until issue 6 lands the condition language: every `when` is refused
 * at check time so no configuration silently routes wrongly.
 */
#include "agent/when.h"

#include <stdio.h>

struct when *when_compile(const char *expr, char *err, size_t errsz, int *errpos)
{
    (void)expr;
    snprintf(err, errsz, "conditions (`when`) are not available in this build yet");
    *errpos = 1;
    return NULL;
}

int when_eval(const struct when *w, const struct event_batch *b, const struct event *ev)
{
    (void)w; (void)b; (void)ev;
    return 1;
}

void when_free(struct when *w) { (void)w; }
