/*
 * status_page.h - the HTML status page served at GET / (status_page.c), and the HTML
 * escaping it rests on.
 *
 * Daemon floor (it renders the daemon's status object, agent/status.h); pure functions,
 * called on the HTTP thread and by tests.
 */
#ifndef LF_STATUS_PAGE_H
#define LF_STATUS_PAGE_H

#include <jansson.h>

#include "agent/base/buf.h"

/* Appends the HTML status page for status (may be NULL: "agent not running"). Every string
 * taken from status is HTML-escaped. Returns 0, or -1 when b's cap was hit.
 * */
int lf_status_page_html(struct buf *b, const json_t *status, long long now_ms);
/* Appends s HTML-escaped (& < > " ' and control characters); invalid UTF-8 becomes U+FFFD. */
int lf_html_escape(struct buf *b, const char *s);

#endif
