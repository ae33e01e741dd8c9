/*
 * nginx_scan.h - hand-written first try for the nginx_combined pattern (parsers/ only).
 *
 * nginx_scan() either fills ov exactly as pcre2_match() with access.c's NGINX_RE would fill
 * its ovector (pairs of start/end offsets, PCRE2_UNSET for groups that did not take part)
 * and returns 1, or returns 0 and the caller must ask PCRE2: 0 means "not sure", never "no
 * match". Pure function of its arguments; any thread.
 */
#ifndef LF_NGINX_SCAN_H
#define LF_NGINX_SCAN_H

#include <stddef.h>

#define NGINX_SCAN_GROUPS 10 /* the whole match and the pattern's nine captures */

/* 1 when this PCRE2 build treats only LF as a newline (the scanner's assumption about '.'
 * and '$'); call once at configuration time. */
int nginx_scan_usable(void);
/* *clean: bit g set when capture g is known to need no JSON escaping (the quoted captures:
 * 4 request, 7 referrer, 8 user agent; the scanner reads their every byte anyway). */
int nginx_scan(const char *rec, size_t len, size_t ov[2 * NGINX_SCAN_GROUPS], unsigned *clean);

#endif
