/*
 * timeparse.c - strptime-like parsing of a log's time text into ms since the epoch, by hand
 * (no strptime/mktime/timegm: those consult the process TZ and are slow), plus the two fast
 * paths of the built-in parsers (nginx's $time_local and ISO-8601). See timeparse.h.
 *
 * Pure functions: any thread may call them; the zone (struct lf_tz) is immutable.
 */
#include "parsers/timeparse.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "agent/base/calendar.h"

static const char *const MONTHS[12] = {"january", "february", "march",     "april",
                                       "may",     "june",     "july",      "august",
                                       "september", "october", "november", "december"};
static const char *const DAYS[7] = {"sunday",   "monday", "tuesday", "wednesday",
                                    "thursday", "friday", "saturday"};

struct tparts {
    int64_t year;
    int mon, day, hour, min, sec, msec;
    int yday; /* 1-based, 0 = unset */
    int pm;   /* -1 unset, 0 am, 1 pm */
    int hour12;
    int has_off;
    int32_t off;
    int has_epoch;
    int64_t epoch_ms;
};

/* Reads 1..maxd digits. */
static int num(const char **pp, const char *e, int maxd, long *out)
{
    const char *p = *pp;
    long v = 0;
    int nd = 0;
    while (p < e && nd < maxd && isdigit((unsigned char)*p)) {
        v = v * 10 + (*p++ - '0');
        nd++;
    }
    if (!nd)
        return -1;
    *out = v;
    *pp = p;
    return 0;
}

/* Fraction after the separator: 1..9 digits (more are skipped), kept to the ms. */
static int fraction(const char **pp, const char *e, int *msec)
{
    const char *p = *pp;
    int nd = 0, v = 0;
    while (p < e && isdigit((unsigned char)*p)) {
        if (nd < 3)
            v = v * 10 + (*p - '0');
        nd++;
        p++;
    }
    if (!nd || nd > 9)
        return -1;
    for (int i = nd; i < 3; i++)
        v *= 10;
    *msec = v;
    *pp = p;
    return 0;
}

/* Z, UTC, GMT, +hh, +hhmm, +hh:mm. */
static int zone(const char **pp, const char *e, int32_t *off)
{
    const char *p = *pp;
    if (p < e && (*p == 'Z' || *p == 'z')) {
        *off = 0;
        *pp = p + 1;
        return 0;
    }
    if (e - p >= 3 && (!strncmp(p, "UTC", 3) || !strncmp(p, "GMT", 3))) {
        p += 3;
        *off = 0;
        if (p == e || (*p != '+' && *p != '-')) {
            *pp = p;
            return 0;
        }
    }
    if (p >= e || (*p != '+' && *p != '-'))
        return -1;
    int sign = *p++ == '-' ? -1 : 1;
    if (e - p < 2 || !isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
        return -1;
    int h = (p[0] - '0') * 10 + (p[1] - '0'), m = 0;
    p += 2;
    if (p < e && *p == ':')
        p++;
    if (e - p >= 2 && isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1])) {
        m = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;
    } else if (p > *pp && p[-1] == ':') {
        return -1;
    }
    if (h > 18 || m > 59)
        return -1;
    *off = sign * (h * 3600 + m * 60);
    *pp = p;
    return 0;
}

static int name_of(const char **pp, const char *e, const char *const *names, int n, int *out)
{
    for (int i = 0; i < n; i++) {
        size_t full = strlen(names[i]);
        if ((size_t)(e - *pp) >= full && !strncasecmp(*pp, names[i], full)) {
            *out = i;
            *pp += full;
            return 0;
        }
        if (e - *pp >= 3 && !strncasecmp(*pp, names[i], 3)) {
            *out = i;
            *pp += 3;
            return 0;
        }
    }
    return -1;
}

static int finish(const struct tparts *t, const struct lf_tz *tz, int64_t *ms)
{
    if (t->has_epoch) {
        *ms = t->epoch_ms;
        return 0;
    }
    int hour = t->hour;
    if (t->pm >= 0) {
        if (t->hour12 < 1 || t->hour12 > 12)
            return -1;
        hour = t->hour12 % 12 + (t->pm ? 12 : 0);
    }
    int mon = t->mon, day = t->day;
    if (t->yday) {
        if (t->yday > (cal_is_leap(t->year) ? 366 : 365))
            return -1;
        int64_t d0 = cal_days_from_civil(t->year, 1, 1) + t->yday - 1;
        int64_t s = (d0 * 86400 + hour * 3600 + t->min * 60 + t->sec);
        s = t->has_off ? s - t->off : lf_tz_local_to_utc(tz, s);
        *ms = s * 1000 + t->msec;
        return 0;
    }
    if (mon < 1 || mon > 12 || day < 1 || day > cal_days_in_month(t->year, (unsigned)mon) ||
        hour > 23 || t->min > 59 || t->sec > 60)
        return -1;
    int64_t s = cal_days_from_civil(t->year, (unsigned)mon, (unsigned)day) * 86400 +
                hour * 3600 + t->min * 60 + t->sec;
    s = t->has_off ? s - t->off : lf_tz_local_to_utc(tz, s);
    *ms = s * 1000 + t->msec;
    return 0;
}

static const char *const DIRECTIVES = "YmdeHMSybBhaAjpITFfzZsQ%";

int tp_check_format(const char *fmt, char *err, size_t errsz)
{
    int has_date = 0;
    for (const char *f = fmt; *f; f++) {
        if (*f != '%')
            continue;
        f++;
        if (!*f || !strchr(DIRECTIVES, *f)) {
            snprintf(err, errsz, "unsupported directive '%%%s' (supported: %%Y %%m %%d %%e %%H "
                     "%%M %%S %%f %%y %%b %%B %%a %%A %%j %%p %%I %%T %%F %%z %%Z %%s %%Q %%%%)",
                     *f ? (char[]){*f, 0} : "");
            return -1;
        }
        if (strchr("YyFjsQ", *f))
            has_date = 1;
    }
    if (!has_date) {
        snprintf(err, errsz, "format '%s' has no year (%%Y, %%y, %%F) nor epoch (%%s, %%Q)", fmt);
        return -1;
    }
    return 0;
}

/* An optional '-' and 1..maxd digits (%s, %Q): the bound keeps the product in int64. */
static int epoch_digits(const char **pp, const char *e, int maxd, int *neg, int64_t *v)
{
    const char *p = *pp;
    *neg = p < e && *p == '-';
    if (*neg)
        p++;
    int64_t x = 0;
    int nd = 0;
    while (p < e && isdigit((unsigned char)*p) && nd < maxd) {
        x = x * 10 + (*p++ - '0');
        nd++;
    }
    if (!nd)
        return -1;
    *v = x;
    *pp = p;
    return 0;
}

int tp_parse(const char *fmt, const char *s, size_t n, const struct lf_tz *tz, int64_t *ms)
{
    struct tparts t = {.year = 1970, .mon = 1, .day = 1, .pm = -1};
    const char *p = s, *e = s + n;
    long v;
    while (p < e && isspace((unsigned char)*p))
        p++;
    for (const char *f = fmt; *f; f++) {
        if (isspace((unsigned char)*f)) {
            while (p < e && isspace((unsigned char)*p))
                p++;
            continue;
        }
        if (*f != '%') {
            if (p >= e || *p != *f)
                return -1;
            p++;
            continue;
        }
        switch (*++f) {
        case 'Y': {
            int neg = p < e && *p == '-';
            if (neg)
                p++;
            if (num(&p, e, 4, &v))
                return -1;
            t.year = neg ? -v : v;
            break;
        }
        case 'y':
            if (num(&p, e, 2, &v))
                return -1;
            t.year = v < 69 ? 2000 + v : 1900 + v;
            break;
        case 'm':
            if (num(&p, e, 2, &v))
                return -1;
            t.mon = (int)v;
            break;
        case 'e':
            if (p < e && *p == ' ')
                p++;
            /* fallthrough */
        case 'd':
            if (num(&p, e, 2, &v))
                return -1;
            t.day = (int)v;
            break;
        case 'H':
            if (num(&p, e, 2, &v))
                return -1;
            t.hour = (int)v;
            break;
        case 'I':
            if (num(&p, e, 2, &v))
                return -1;
            t.hour12 = (int)v;
            if (t.pm < 0)
                t.pm = 0;
            break;
        case 'M':
            if (num(&p, e, 2, &v))
                return -1;
            t.min = (int)v;
            break;
        case 'S':
            if (num(&p, e, 2, &v))
                return -1;
            t.sec = (int)v;
            /* an implicit fraction unless the format spells its own separator next */
            if (p + 1 < e && (*p == '.' || *p == ',') && isdigit((unsigned char)p[1]) &&
                f[1] != *p) {
                p++;
                if (fraction(&p, e, &t.msec))
                    return -1;
            }
            break;
        case 'f':
            if (fraction(&p, e, &t.msec))
                return -1;
            break;
        case 'T':
            if (num(&p, e, 2, &v) || p >= e || *p++ != ':')
                return -1;
            t.hour = (int)v;
            if (num(&p, e, 2, &v) || p >= e || *p++ != ':')
                return -1;
            t.min = (int)v;
            if (num(&p, e, 2, &v))
                return -1;
            t.sec = (int)v;
            if (p + 1 < e && (*p == '.' || *p == ',') && isdigit((unsigned char)p[1]) &&
                f[1] != *p) {
                p++;
                if (fraction(&p, e, &t.msec))
                    return -1;
            }
            break;
        case 'F':
            if (num(&p, e, 4, &v) || p >= e || *p++ != '-')
                return -1;
            t.year = v;
            if (num(&p, e, 2, &v) || p >= e || *p++ != '-')
                return -1;
            t.mon = (int)v;
            if (num(&p, e, 2, &v))
                return -1;
            t.day = (int)v;
            break;
        case 'b':
        case 'B':
        case 'h': {
            int m;
            if (name_of(&p, e, MONTHS, 12, &m))
                return -1;
            t.mon = m + 1;
            break;
        }
        case 'a':
        case 'A': {
            int d;
            if (name_of(&p, e, DAYS, 7, &d))
                return -1;
            break;
        }
        case 'j':
            if (num(&p, e, 3, &v) || v < 1)
                return -1;
            t.yday = (int)v;
            break;
        case 'p':
            if (e - p >= 2 && !strncasecmp(p, "AM", 2))
                t.pm = 0;
            else if (e - p >= 2 && !strncasecmp(p, "PM", 2))
                t.pm = 1;
            else
                return -1;
            p += 2;
            break;
        case 'z':
            if (zone(&p, e, &t.off))
                return -1;
            t.has_off = 1;
            break;
        case 'Z': {
            int32_t off;
            if (zone(&p, e, &off) == 0) {
                t.off = off;
                t.has_off = 1;
            } else {
                /* another abbreviation: skip it, the zone then decides */
                const char *q = p;
                while (p < e && isalpha((unsigned char)*p))
                    p++;
                if (p == q)
                    return -1;
            }
            break;
        }
        case 's': {
            int neg;
            int64_t sec;
            if (epoch_digits(&p, e, 12, &neg, &sec))
                return -1;
            int msec = 0;
            if (p + 1 < e && *p == '.' && isdigit((unsigned char)p[1])) {
                p++;
                if (fraction(&p, e, &msec))
                    return -1;
            }
            t.has_epoch = 1;
            t.epoch_ms = (neg ? -1 : 1) * (sec * 1000 + msec);
            break;
        }
        case 'Q': {
            /* epoch milliseconds (Log4j2's %d{UNIX_MILLIS}); Ruby's strptime letter */
            int neg;
            int64_t msec;
            if (epoch_digits(&p, e, 15, &neg, &msec))
                return -1;
            t.has_epoch = 1;
            t.epoch_ms = neg ? -msec : msec;
            break;
        }
        case '%':
            if (p >= e || *p++ != '%')
                return -1;
            break;
        default:
            return -1;
        }
    }
    while (p < e && isspace((unsigned char)*p))
        p++;
    if (p != e)
        return -1;
    return finish(&t, tz, ms);
}

static inline int d2(const char *p)
{
    if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
        return -1;
    return (p[0] - '0') * 10 + (p[1] - '0');
}

static int month_abbr(const char *p)
{
    /* case-sensitive English abbreviations, as nginx and Apache write them */
    static const char ab[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++)
        if (p[0] == ab[i * 3] && p[1] == ab[i * 3 + 1] && p[2] == ab[i * 3 + 2])
            return i + 1;
    return -1;
}

int tp_parse_clf(const char *s, size_t n, int64_t *ms)
{
    /* 25/Oct/2016:14:49:34 +0200 */
    if (n != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' ||
        s[20] != ' ')
        return -1;
    int day = d2(s), mon = month_abbr(s + 3), y1 = d2(s + 7), y2 = d2(s + 9);
    int hh = d2(s + 12), mm = d2(s + 15), ss = d2(s + 18);
    if (day < 0 || mon < 0 || y1 < 0 || y2 < 0 || hh < 0 || mm < 0 || ss < 0)
        return -1;
    int oh = d2(s + 22), om = d2(s + 24);
    if ((s[21] != '+' && s[21] != '-') || oh < 0 || om < 0 || om > 59)
        return -1;
    int64_t y = y1 * 100 + y2;
    if (day < 1 || day > cal_days_in_month(y, (unsigned)mon) || hh > 23 || mm > 59 || ss > 60)
        return -1;
    int32_t off = (s[21] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    int64_t sec = cal_days_from_civil(y, (unsigned)mon, (unsigned)day) * 86400 + hh * 3600 +
                  mm * 60 + ss - off;
    *ms = sec * 1000;
    return 0;
}

int tp_parse_iso_cached(struct tp_iso_cache *c, const char *s, size_t n,
                        const struct lf_tz *tz, int64_t *ms)
{
    /* 2026-11-26[ T]12:00:00[.,fraction][Z|+hh[:mm]] */
    int64_t sec;
    if (c && c->valid && n >= 19 && !memcmp(c->key, s, 19)) {
        sec = c->local_sec; /* the same second as the last time: validated already */
    } else {
        if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
            s[13] != ':' || s[16] != ':')
            return -1;
        int y1 = d2(s), y2 = d2(s + 2), mon = d2(s + 5), day = d2(s + 8);
        int hh = d2(s + 11), mm = d2(s + 14), ss = d2(s + 17);
        if (y1 < 0 || y2 < 0 || mon < 0 || day < 0 || hh < 0 || mm < 0 || ss < 0)
            return -1;
        int64_t y = y1 * 100 + y2;
        if (mon < 1 || mon > 12 || day < 1 || day > cal_days_in_month(y, (unsigned)mon) ||
            hh > 23 || mm > 59 || ss > 60)
            return -1;
        sec = cal_days_from_civil(y, (unsigned)mon, (unsigned)day) * 86400 + hh * 3600 +
              mm * 60 + ss;
        if (c) {
            memcpy(c->key, s, 19);
            c->local_sec = sec;
            c->valid = 1;
        }
    }
    const char *p = s + 19, *e = s + n;
    int msec = 0;
    if (p < e && (*p == '.' || *p == ',')) {
        p++;
        if (fraction(&p, e, &msec))
            return -1;
    }
    if (p < e) {
        int32_t off;
        if (zone(&p, e, &off) || p != e)
            return -1;
        sec -= off;
    } else {
        sec = lf_tz_local_to_utc(tz, sec);
    }
    *ms = sec * 1000 + msec;
    return 0;
}

int tp_parse_iso(const char *s, size_t n, const struct lf_tz *tz, int64_t *ms)
{
    return tp_parse_iso_cached(NULL, s, n, tz, ms);
}
