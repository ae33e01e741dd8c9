/*
 * log.h - the agent's own diagnostics, to stderr.
 *
 * One level-checked, printf-checked macro tagged by component:
 *     LF_LOG(LF_INFO, "tail", "reopened %s after rotation (inode %lu -> %lu)", ...);
 * prints "2026-11-26T05:01:02.123Z INFO  [tail] reopened ...". With log_format = json each
 * line is a JSON object instead, so the agent's logs can go through the same pipeline.
 * Thread-safe: each record is formatted into a local buffer and written with one write(2).
 * Never pass a secret (webhook URL, password) as an argument: use lf_mask_url() first.
 */
#ifndef LF_LOG_H
#define LF_LOG_H

#include <stddef.h>

enum lf_level { LF_ERROR = 0, LF_WARN = 1, LF_INFO = 2, LF_DEBUG = 3 };

extern int lf_log_level;

void lf_log_write(enum lf_level lvl, const char *comp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Each argument is evaluated once, the level first: LF_LOG(n++ == 0 ? LF_INFO : LF_DEBUG, ...)
 * prints at the level it chose and counts once. The message arguments are evaluated only
 * when the level is enabled. */
#define LF_LOG(lvl, comp, ...)                                  \
    do {                                                        \
        enum lf_level lf_log_lvl_ = (lvl);                      \
        if ((int)lf_log_lvl_ <= lf_log_level)                   \
            lf_log_write(lf_log_lvl_, (comp), __VA_ARGS__);     \
    } while (0)

/* "error|warn|info|debug" -> level; returns -1 if unknown. */
int lf_log_parse_level(const char *s);
/* Switch to JSON records (1) or plain text (0). */
void lf_log_set_json(int on);

/* Writes a printable form of a secret URL into out: scheme://host:port, then "/…" when a
 * path, query or fragment follows (and its last 4 characters when it is 24 or longer), never
 * userinfo; whatever the URL's shape (no scheme, no path, '?' or '#' right after the port,
 * '@' in the password). Returns out. */
const char *lf_mask_url(const char *url, char *out, size_t outsz);

#endif
