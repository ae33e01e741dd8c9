/*
 * xff.h - Filebeat's rule for the client of an nginx access line behind proxies (xff.c):
 * the X-Forwarded-For list and the remote address, split as Filebeat's nginx module splits
 * them, and the address that becomes source.address / source.ip. Used by the built-in
 * nginx_combined (access.c) and by nginx log_format layouts (nginx_xff.c, nginx_json.c).
 *
 * Pure functions on the caller's memory: any thread (the tail thread at run time).
 */
#ifndef LF_XFF_H
#define LF_XFF_H

#include <stddef.h>

#include "agent/base/event.h"

/* More addresses than this in one line are not looked at (a list is a handful of proxies). */
#define XFF_MAX 32

struct xff_list {
    struct {
        const char *s;
        size_t n;
    } item[XFF_MAX];
    int n;
};

/* Appends the items of s[0..n) to l: a leading '"' dropped, then split where Filebeat's
 * split processor splits (`"?,?\s+`), empty items skipped. "-" alone (nginx's empty
 * variable) adds nothing. */
void xff_split(const char *s, size_t n, struct xff_list *l);
/* Filebeat's isPrivate(): the first two dot-separated numbers are 10.x, 192.168, 172.16-31
 * or 127.x. Anything that does not read so (IPv6, a host name, "unknown") is public. */
int xff_is_private(const char *s, size_t n);
/* The index of source.address: the first item that is not private, else the first; -1 for
 * an empty list. */
int xff_pick(const struct xff_list *l);
/* An IPv4 dotted quad or an IPv6 address (what Filebeat's grok %{IP} accepts, closely). */
int xff_is_ip(const char *s, size_t n);

/* The keys xff_add() writes; interned by xff_keys_intern() at configuration time. */
void xff_keys_intern(void);
/* Adds source.address (the picked item), source.ip (when it is an IP address) and
 * nginx.access.remote_ip_list (every item, a JSON array, as Filebeat keeps it; left out
 * when longer than 4 KiB of JSON). Nothing for an empty list. */
void xff_add(struct event_builder *eb, const struct xff_list *l);

#endif
