/*
 * calendar.h - proleptic Gregorian calendar arithmetic in integers: days since 1970-01-01
 * from a date and back (H. Hinnant's algorithms), days in a month.
 *
 * Ground floor, header-only and inline: the JSON writer formats @timestamp with it per
 * event, the time parser and the time-zone rules (parsers/timeparse.c, parsers/tz.c) compute
 * with it. Pure; any thread.
 */
#ifndef LF_CALENDAR_H
#define LF_CALENDAR_H

#include <stdint.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (no validation). */
static inline int64_t cal_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* 1 in a leap year. */
static inline int cal_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days in month m (1..12) of year y; 0 for a month out of range. */
static inline int cal_days_in_month(int64_t y, unsigned m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return m == 2 && cal_is_leap(y) ? 29 : dim[m - 1];
}

/* Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's civil_from_days):
 * integer arithmetic only, so the per-event path never enters gmtime_r (which takes the
 * time-zone lock in __tz_convert) nor a printf (issue 18). */
static inline void cal_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                       /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                     /* [0, 11] */
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

#endif
