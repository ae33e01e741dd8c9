/*
 * tz.c - time zones read straight from the system's tz database (TZif files), so converting
 * a log's wall-clock time to UTC never touches the process TZ (setenv/tzset/localtime are
 * neither thread-safe nor cheap).
 *
 * What it reads: the version-2+ (64-bit) block of a TZif file: transition times, their local
 * time types (UT offsets), and the footer POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3")
 * used for instants after the last transition. Only the Mm.w.d rule form is evaluated (the
 * one the tz database emits); a footer with another rule form falls back to its standard
 * offset. Version-1 files (32-bit only) are read through their 32-bit block.
 *
 * Threads: zones are loaded at configuration time; a loaded zone is immutable, so the tail
 * thread (or several) may convert with it concurrently.
 */
#include "parsers/tz.h"

#include "agent/base/calendar.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct posix_rule {
    int month, week, wday; /* Mm.w.d */
    int32_t time;          /* seconds after local midnight (may be negative or > 24h) */
};

struct lf_tz {
    char name[128];
    int64_t *at;     /* transition instants, ascending */
    uint8_t *idx;    /* type index per transition */
    int32_t *utoff;  /* per type */
    int ntrans, ntypes;
    /* footer rule (after the last transition) */
    int has_footer, footer_dst;
    int32_t std_off, dst_off;
    struct posix_rule start, end;
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* POSIX offset "[+-]hh[:mm[:ss]]" -> seconds; returns chars consumed or 0. */
static int parse_posix_time(const char *s, int32_t *out)
{
    const char *p = s;
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*p))
        return 0;
    long h = 0, m = 0, sec = 0;
    while (isdigit((unsigned char)*p) && h < 1000)
        h = h * 10 + (*p++ - '0');
    if (*p == ':') {
        p++;
        while (isdigit((unsigned char)*p) && m < 100)
            m = m * 10 + (*p++ - '0');
        if (*p == ':') {
            p++;
            while (isdigit((unsigned char)*p) && sec < 100)
                sec = sec * 10 + (*p++ - '0');
        }
    }
    *out = (int32_t)(sign * (h * 3600 + m * 60 + sec));
    return (int)(p - s);
}

static int parse_posix_name(const char **pp)
{
    const char *p = *pp;
    if (*p == '<') {
        const char *e = strchr(p, '>');
        if (!e)
            return -1;
        *pp = e + 1;
        return 0;
    }
    int n = 0;
    while (isalpha((unsigned char)p[n]))
        n++;
    if (n < 3)
        return -1;
    *pp = p + n;
    return 0;
}

static int parse_rule(const char **pp, struct posix_rule *r)
{
    const char *p = *pp;
    if (*p != 'M')
        return -1;
    if (sscanf(p + 1, "%d.%d.%d", &r->month, &r->week, &r->wday) != 3)
        return -1;
    if (r->month < 1 || r->month > 12 || r->week < 1 || r->week > 5 || r->wday < 0 ||
        r->wday > 6)
        return -1;
    p++;
    while (*p && *p != '/' && *p != ',')
        p++;
    r->time = 7200;
    if (*p == '/') {
        int n = parse_posix_time(p + 1, &r->time);
        if (!n)
            return -1;
        p += 1 + n;
    }
    *pp = p;
    return 0;
}

static void parse_footer(struct lf_tz *tz, const char *s)
{
    const char *p = s;
    int32_t off;
    if (parse_posix_name(&p) != 0)
        return;
    int n = parse_posix_time(p, &off);
    if (!n)
        return;
    p += n;
    tz->has_footer = 1;
    tz->std_off = -off;
    if (!*p)
        return;
    if (parse_posix_name(&p) != 0)
        return;
    tz->dst_off = tz->std_off + 3600;
    if (*p && *p != ',') {
        n = parse_posix_time(p, &off);
        if (!n)
            return;
        tz->dst_off = -off;
        p += n;
    }
    if (*p != ',')
        return;
    p++;
    if (parse_rule(&p, &tz->start) != 0 || *p != ',')
        return;
    p++;
    if (parse_rule(&p, &tz->end) != 0)
        return;
    tz->footer_dst = 1;
}

/* UTC instant of a rule in year y, given the offset in effect before it. */
static int64_t rule_instant(const struct posix_rule *r, int64_t y, int32_t off_before)
{
    int64_t first = cal_days_from_civil(y, (unsigned)r->month, 1);
    int wd1 = (int)(((first % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    int d = 1 + (r->wday - wd1 + 7) % 7 + 7 * (r->week - 1);
    int dim = cal_days_in_month(y, (unsigned)r->month);
    while (d > dim)
        d -= 7;
    return (first + d - 1) * 86400 + r->time - off_before;
}

static int32_t footer_offset(const struct lf_tz *tz, int64_t t)
{
    if (!tz->footer_dst)
        return tz->std_off;
    /* year of t in standard time (close enough to pick the rule year) */
    int64_t days = (t + tz->std_off) / 86400 - ((t + tz->std_off) % 86400 < 0);
    /* civil year from days (Howard Hinnant's algorithm) */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    int64_t s = rule_instant(&tz->start, y, tz->std_off);
    int64_t e = rule_instant(&tz->end, y, tz->dst_off);
    if (s < e)
        return (t >= s && t < e) ? tz->dst_off : tz->std_off;
    return (t >= e && t < s) ? tz->std_off : tz->dst_off;
}

int32_t lf_tz_offset_at(const struct lf_tz *tz, int64_t t)
{
    if (!tz)
        return 0;
    if (tz->ntrans == 0)
        return tz->has_footer ? footer_offset(tz, t) : (tz->ntypes ? tz->utoff[0] : 0);
    if (t < tz->at[0])
        return tz->utoff[0];
    if (t >= tz->at[tz->ntrans - 1] && tz->has_footer)
        return footer_offset(tz, t);
    int lo = 0, hi = tz->ntrans - 1; /* at[lo] <= t */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (tz->at[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return tz->utoff[tz->idx[lo]];
}

int64_t lf_tz_local_to_utc(const struct lf_tz *tz, int64_t local)
{
    if (!tz)
        return local;
    int32_t o1 = lf_tz_offset_at(tz, local);
    int64_t t = local - o1;
    int32_t o2 = lf_tz_offset_at(tz, t);
    if (o2 != o1) {
        int64_t t2 = local - o2;
        if (lf_tz_offset_at(tz, t2) == o2)
            t = t2;
    }
    return t;
}

static int load_tzif(struct lf_tz *tz, const unsigned char *d, size_t n)
{
    if (n < 44 || memcmp(d, "TZif", 4) != 0)
        return -1;
    int version = d[4];
    const unsigned char *h = d;
    size_t tsz = 4;
    uint32_t isutcnt = be32(h + 20), isstdcnt = be32(h + 24), leapcnt = be32(h + 28);
    uint32_t timecnt = be32(h + 32), typecnt = be32(h + 36), charcnt = be32(h + 40);
    size_t v1len = (size_t)timecnt * 5 + typecnt * 6 + charcnt + leapcnt * 8 + isstdcnt + isutcnt;
    if (44 + v1len > n)
        return -1;
    if (version >= '2') {
        h = d + 44 + v1len;
        if ((size_t)(h - d) + 44 > n || memcmp(h, "TZif", 4) != 0)
            return -1;
        tsz = 8;
        isutcnt = be32(h + 20), isstdcnt = be32(h + 24), leapcnt = be32(h + 28);
        timecnt = be32(h + 32), typecnt = be32(h + 36), charcnt = be32(h + 40);
    }
    size_t blen = (size_t)timecnt * (tsz + 1) + typecnt * 6 + charcnt + leapcnt * (tsz + 4) +
                  isstdcnt + isutcnt;
    const unsigned char *p = h + 44;
    if ((size_t)(p - d) + blen > n || typecnt == 0 || typecnt > 256 || timecnt > 100000)
        return -1;
    tz->at = malloc((timecnt ? timecnt : 1) * sizeof *tz->at);
    tz->idx = malloc(timecnt ? timecnt : 1);
    tz->utoff = malloc(typecnt * sizeof *tz->utoff);
    if (!tz->at || !tz->idx || !tz->utoff)
        return -1;
    for (uint32_t i = 0; i < timecnt; i++)
        tz->at[i] = tsz == 8 ? be64(p + i * 8) : (int64_t)(int32_t)be32(p + i * 4);
    p += timecnt * tsz;
    for (uint32_t i = 0; i < timecnt; i++) {
        tz->idx[i] = p[i];
        if (p[i] >= typecnt)
            return -1;
    }
    p += timecnt;
    for (uint32_t i = 0; i < typecnt; i++)
        tz->utoff[i] = (int32_t)be32(p + i * 6);
    tz->ntrans = (int)timecnt;
    tz->ntypes = (int)typecnt;
    p += typecnt * 6 + charcnt + leapcnt * (tsz + 4) + isstdcnt + isutcnt;
    if (version >= '2' && (size_t)(p - d) < n && *p == '\n') {
        const unsigned char *e = memchr(p + 1, '\n', n - (size_t)(p + 1 - d));
        if (e && e - p - 1 < 256) {
            char foot[256];
            memcpy(foot, p + 1, (size_t)(e - p - 1));
            foot[e - p - 1] = '\0';
            parse_footer(tz, foot);
        }
    }
    return 0;
}

static struct lf_tz *tz_fixed(const char *name, int32_t off)
{
    struct lf_tz *tz = calloc(1, sizeof *tz);
    if (!tz)
        return NULL;
    snprintf(tz->name, sizeof tz->name, "%s", name);
    tz->has_footer = 1;
    tz->std_off = off;
    return tz;
}

static struct lf_tz *tz_from_file(const char *name, const char *path, char *err, size_t errsz)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errsz, "unknown time zone '%s' (no %s in the tz database)", name, path);
        return NULL;
    }
    unsigned char *d = malloc(1 << 20);
    size_t n = d ? fread(d, 1, 1 << 20, fp) : 0;
    fclose(fp);
    struct lf_tz *tz = calloc(1, sizeof *tz);
    if (!d || !tz || load_tzif(tz, d, n) != 0) {
        snprintf(err, errsz, "time zone '%s': %s is not a valid TZif file", name, path);
        free(d);
        lf_tz_free(tz);
        return NULL;
    }
    free(d);
    snprintf(tz->name, sizeof tz->name, "%s", name);
    return tz;
}

struct lf_tz *lf_tz_load(const char *name, char *err, size_t errsz)
{
    if (!name || !*name) {
        snprintf(err, errsz, "empty time zone name");
        return NULL;
    }
    if (!strcmp(name, "UTC") || !strcmp(name, "Z") || !strcmp(name, "GMT") ||
        !strcmp(name, "Etc/UTC"))
        return tz_fixed(name, 0);
    if (name[0] == '+' || name[0] == '-') {
        int32_t off;
        int k = parse_posix_time(name, &off);
        if (k && !name[k] && off > -86400 && off < 86400)
            return tz_fixed(name, off);
        snprintf(err, errsz, "bad time zone offset '%s' (use +09:00)", name);
        return NULL;
    }
    if (name[0] == '/' || strstr(name, "..") || strlen(name) > 100) {
        snprintf(err, errsz, "bad time zone name '%s' (use a tz database name like Asia/Seoul)",
                 name);
        return NULL;
    }
    for (const char *p = name; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr("/_-+", *p))) {
            snprintf(err, errsz, "bad time zone name '%s'", name);
            return NULL;
        }
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    return tz_from_file(name, path, err, errsz);
}

struct lf_tz *lf_tz_local(void)
{
    char err[256];
    const char *env = getenv("TZ");
    if (env && *env) {
        if (*env == ':')
            env++;
        struct lf_tz *tz = env[0] == '/' ? tz_from_file(env, env, err, sizeof err)
                                         : lf_tz_load(env, err, sizeof err);
        if (tz)
            return tz;
    }
    /* name it after the zone /etc/localtime links to, for `logferry check` */
    char link[512], name[128] = "localtime";
    ssize_t n = readlink("/etc/localtime", link, sizeof link - 1);
    if (n > 0) {
        link[n] = '\0';
        const char *z = strstr(link, "zoneinfo/");
        if (z)
            snprintf(name, sizeof name, "%s", z + 9);
    }
    struct lf_tz *tz = tz_from_file(name, "/etc/localtime", err, sizeof err);
    return tz ? tz : tz_fixed("UTC", 0);
}

void lf_tz_free(struct lf_tz *tz)
{
    if (!tz)
        return;
    free(tz->at);
    free(tz->idx);
    free(tz->utoff);
    free(tz);
}

const char *lf_tz_name(const struct lf_tz *tz)
{
    return tz ? tz->name : "UTC";
}
