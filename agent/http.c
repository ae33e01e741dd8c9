/*
 * http.c - placeholder until the metrics/status endpoint lands (issue 7): refuses to start,
 * so a configured http_listen is never silently ignored.
 */
#include "agent/http.h"

#include <stdio.h>

int lf_http_start(const char *listen, char *err, size_t errsz)
{
    snprintf(err, errsz, "the HTTP endpoint is not available in this build (asked for %s)", listen);
    return -1;
}

void lf_http_stop(void) {}
