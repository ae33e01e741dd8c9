/*
 * xff.c - Filebeat's rule for the client address of an nginx access line (module nginx,
 * fileset access, ingest/pipeline.yml): the grok takes the X-Forwarded-For list and the
 * remote address in front of the line as nginx.access.remote_ip_list, a split processor cuts
 * it at `"?,?\s+`, and a script sets source.address to the first item that is not private
 * (its isPrivate(): the first two dot-separated numbers are 10.*, 192.168, 172.16-31, 127.*;
 * anything that does not parse, IPv6 included, is public), or to the first item when all
 * are private; source.ip is source.address when that is an IP address.
 *
 * Threads: pure functions over the caller's memory (the tail thread at run time);
 * xff_keys_intern() at configuration time.
 */
#include "parsers/xff.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "agent/base/buf.h"
#include "agent/base/json.h"

static const struct fkey *K_ADDR, *K_IP, *K_LIST;

void xff_keys_intern(void)
{
    K_ADDR = fkey_intern("source.address");
    K_IP = fkey_intern("source.ip");
    K_LIST = fkey_intern("nginx.access.remote_ip_list");
}

/* Java's \s: space, \t, \n, \v, \f, \r */
static int java_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

void xff_split(const char *s, size_t n, struct xff_list *l)
{
    if (n && s[0] == '"') /* the grok's "? before the list */
        s++, n--;
    if (n == 0 || (n == 1 && s[0] == '-'))
        return;
    size_t st = 0;
    while (st < n && l->n < XFF_MAX) {
        /* every separator holds white space and starts at most two bytes before it ("?,?),
         * so the first white space found decides where the item ends */
        size_t k = st;
        while (k < n && !java_space(s[k]))
            k++;
        size_t end = k, next = k;
        if (k < n) {
            if (k >= st + 2 && s[k - 2] == '"' && s[k - 1] == ',')
                end = k - 2;
            else if (k >= st + 1 && (s[k - 1] == ',' || s[k - 1] == '"'))
                end = k - 1;
            while (next < n && java_space(s[next]))
                next++;
        } else if (end > st && s[end - 1] == '"') {
            end--; /* the grok's closing quote stays out of the last item (`"a, b" c`) */
        }
        if (end > st) {
            l->item[l->n].s = s + st;
            l->item[l->n].n = end - st;
            l->n++;
        }
        st = next;
    }
}

/* Java's Integer.parseInt of s[0..n): an optional sign and decimal digits, in int range. */
static int java_int(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (n && (s[0] == '+' || s[0] == '-'))
        neg = s[i++] == '-';
    if (i == n)
        return -1;
    int64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
        if (v > (int64_t)INT32_MAX + 1)
            return -1;
    }
    if (!neg && v > INT32_MAX)
        return -1;
    *out = neg ? -v : v;
    return 0;
}

int xff_is_private(const char *s, size_t n)
{
    /* StringTokenizer(ip, "."): tokens are runs between dots, empty ones skipped */
    int64_t b[2];
    int got = 0;
    size_t i = 0;
    while (got < 2) {
        while (i < n && s[i] == '.')
            i++;
        if (i == n)
            return 0; /* NoSuchElementException: public */
        size_t st = i;
        while (i < n && s[i] != '.')
            i++;
        if (java_int(s + st, i - st, &b[got++]) != 0)
            return 0; /* NumberFormatException: public */
    }
    return b[0] == 10 || (b[0] == 192 && b[1] == 168) ||
           (b[0] == 172 && b[1] >= 16 && b[1] <= 31) || b[0] == 127;
}

int xff_pick(const struct xff_list *l)
{
    if (l->n <= 1) /* the common line: one address, nothing to choose */
        return l->n - 1;
    for (int i = 0; i < l->n; i++)
        if (!xff_is_private(l->item[i].s, l->item[i].n))
            return i;
    return l->n ? 0 : -1;
}

static int ipv4(const char *s, size_t n)
{
    int parts = 0, v = 0, nd = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (!nd || v > 255 || parts == 4)
                return 0;
            parts++;
            v = nd = 0;
        } else if (s[i] >= '0' && s[i] <= '9' && nd < 3) {
            v = v * 10 + (s[i] - '0');
            nd++;
        } else {
            return 0;
        }
    }
    return parts == 4;
}

static int ipv6(const char *s, size_t n)
{
    int colons = 0;
    if (n < 2 || n > 45)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ':')
            colons++;
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                   c == '.'))
            return 0;
    }
    return colons >= 2 && colons <= 7;
}

int xff_is_ip(const char *s, size_t n)
{
    return ipv4(s, n) || ipv6(s, n);
}

void xff_add(struct event_builder *eb, const struct xff_list *l)
{
    int k = xff_pick(l);
    if (k < 0)
        return;
    const char *a = l->item[k].s;
    size_t an = l->item[k].n;
    int ip = xff_is_ip(a, an);
    (ip ? eb_add_str_clean : eb_add_str)(eb, K_ADDR, a, an);
    if (ip)
        eb_add_str_clean(eb, K_IP, a, an);
    /* the list as Filebeat keeps it: an array of strings, escaped (the items are the
     * client's own header) */
    struct buf b;
    buf_init(&b, 4096);
    int rc = buf_addc(&b, '[');
    for (int i = 0; i < l->n && rc == 0; i++) {
        if (i)
            rc |= buf_addc(&b, ',');
        rc |= json_write_string(&b, l->item[i].s, l->item[i].n);
    }
    rc |= buf_addc(&b, ']');
    if (rc == 0) {
        const char *c = eb_strdup(eb, b.p, b.len);
        if (c)
            eb_add_json(eb, K_LIST, c, b.len);
    }
    buf_free(&b);
}
