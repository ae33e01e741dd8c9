/*
 * tz.h - time zones read from the system's tz database (tz.c): loading a zone and converting
 * between its wall-clock time and UTC.
 *
 * Parsers floor; below timeparse.h (which converts parsed times with it) and above only the
 * ground floor's calendar arithmetic (agent/base/calendar.h). A loaded zone is immutable:
 * any thread may convert with it.
 */
#ifndef LF_TZ_H
#define LF_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "agent/base/must_check.h"

struct lf_tz;

/* Loads a zone by name: "Asia/Seoul", "UTC", or a fixed offset "+09:00". NULL with a
 * sentence in err when unknown or unreadable. */
LF_MUST_CHECK struct lf_tz *lf_tz_load(const char *name, char *err, size_t errsz);
/* The host's zone: $TZ if set, else /etc/localtime, else UTC. Never NULL unless out of
 * memory. */
struct lf_tz *lf_tz_local(void);
void lf_tz_free(struct lf_tz *tz);
const char *lf_tz_name(const struct lf_tz *tz);
/* Offset east of UTC in seconds in effect at UTC time t. */
int32_t lf_tz_offset_at(const struct lf_tz *tz, int64_t t);
/* UTC seconds for a wall-clock time of the zone (given as if it were UTC seconds). */
int64_t lf_tz_local_to_utc(const struct lf_tz *tz, int64_t local);

#endif
