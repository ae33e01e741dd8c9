/*
 * timeparse.h - turning a log's time text into ms since the epoch (UTC), and time zones from
 * the tz database without touching the process TZ.
 *
 * Private to parsers/. Formats are strptime-like (%Y %m %d %e %H %M %S %y %b %B %a %A %j %p
 * %I %T %F %f %z %Z %s %Q %%) with three additions: fractional seconds of 1..9 digits after
 * %S (".123" or ",123", also explicit %f), %z accepting Z, +hh, +hhmm and +hh:mm, and %Q
 * (Ruby's letter) for milliseconds since the epoch. Dates are
 * validated (Feb 30 fails, Feb 29 only in leap years). A time with no zone in the text is
 * local to the given struct lf_tz (NULL = UTC).
 *
 * A struct lf_tz is built at configuration time (single thread) from a TZif file of the
 * system's tz database (/usr/share/zoneinfo, or $TZDIR) and is immutable afterwards: any
 * thread may convert with it concurrently. Nothing here calls setenv/tzset/localtime.
 */
#ifndef LF_TIMEPARSE_H
#define LF_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "parsers/tz.h"

/* Checks a format at configuration time: 0, or -1 with a sentence in err. */
int tp_check_format(const char *fmt, char *err, size_t errsz);
/* Parses s[0..n) (the whole of it, surrounding blanks allowed) with fmt. Returns 0 and sets
 * *ms, or -1 when the text does not fit the format or names an invalid date. */
int tp_parse(const char *fmt, const char *s, size_t n, const struct lf_tz *tz, int64_t *ms);

/* Fast paths for the built-in parsers. */
/* "25/Oct/2016:14:49:34 +0200" (nginx/Apache $time_local). */
int tp_parse_clf(const char *s, size_t n, int64_t *ms);
/* "2026-11-26 12:00:00.123", "2026-11-26T12:00:00.123+09:00", "...Z", with 0..9 fraction
 * digits (',' or '.'); local to tz when no offset. */
int tp_parse_iso(const char *s, size_t n, const struct lf_tz *tz, int64_t *ms);
/* The same, remembering the last date-and-second in c (the caller's, one per stream of
 * times: container runtimes write a new nanosecond time on every line, but the same second
 * on many), so only the fraction and zone are read again. A zeroed cache is empty. */
struct tp_iso_cache {
    char key[19];
    int valid;
    int64_t local_sec;
};
int tp_parse_iso_cached(struct tp_iso_cache *c, const char *s, size_t n,
                        const struct lf_tz *tz, int64_t *ms);

#endif
