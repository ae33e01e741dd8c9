/*
 * spool_int.h - what spool.c (writing, reading, acknowledging) and spool_scan.c (replay at
 * start, `logferry check`, skipping damage) share. Private to those two files.
 */
#ifndef LF_SPOOL_INT_H
#define LF_SPOOL_INT_H

#include <pthread.h>

#include "agent/spool.h"
#include "agent/spool_rec.h"

struct spool_seg {
    uint64_t id;
    uint64_t bytes;      /* appended (written or buffered) */
    uint64_t synced;     /* fdatasync'ed: readable up to here */
    uint64_t nrec, nev;  /* good records in it and their events */
    uint64_t nrec_synced, nev_synced;
    uint64_t nread, ev_read;
    uint64_t nacked;
    int64_t first_ms;    /* spooled time of its first record */
    int sealed;          /* no more appends */
    int recovered;       /* found at start: its damage was counted then */
    int inflight;        /* records read and not acknowledged */
    struct spool_seg *next;
};

/* What skipping damage found; added to the spool's counters. */
struct spool_damage {
    uint64_t records, bytes; /* damaged records or stretches skipped, and their bytes */
    int torn;                /* the data ends with a cut-short record */
};

/* A buffer a record's body is read into; grown as needed, owned by whoever holds it. */
struct spool_buf {
    char *p;
    size_t cap;
};

/* Reads the next good record in fd from *off (below limit): 1 with *h, *off at its start and
 * the body in `body`; 0 when none is left, *off then being where the good data ends (damage
 * after it is in *dmg). -1 on a read error or no memory. Skipped damage in between is added
 * to *dmg. */
int spool_read_good(int fd, uint64_t *off, uint64_t limit, struct spool_hdr *h,
                    struct spool_buf *body, struct spool_damage *dmg);

struct spool_flight {
    struct event_batch *b;
    struct spool_seg *seg;
    struct spool_buf body;
    char *strs;
    uint64_t body_len;
    struct event_source src;
    struct spool_flight *next;
};

struct spool {
    pthread_mutex_t mu;
    pthread_cond_t room;  /* signalled when segments are deleted (a writer waits for room) */
    char *dir, *name;
    struct spool_conf c;
    struct spool_seg *head, *tail; /* oldest first; tail may be the one being written */
    uint64_t next_id;
    int dirfd;
    /* writer */
    int wfd;              /* tail's descriptor while it takes appends, else -1 */
    char *wbuf;
    size_t wlen, wcap;
    /* reader */
    struct spool_seg *rseg;
    uint64_t roff;
    int rfd;
    struct spool_flight *flights;
    atomic_int nflights;
    uint64_t flight_events, flight_bytes;
    /* bodies of acknowledged records kept for the next reads: a fresh buffer of a few hundred
     * KiB for each record cost more in page faults than the read itself */
    struct spool_buf pool[8];
    int npool;
    /* counters (under mu) */
    uint64_t bytes, unread, recs_live, ev_live;
    uint64_t events_spooled, events_drained, events_dropped;
    uint64_t corrupt_records, corrupt_bytes, torn_tails, write_errors;
    int64_t rate_t0, last_drop_log;
    uint64_t rate_ev;
    double rate;
};

/* Replays the directory at open: fills sp's segment list and counters (spool_scan.c). */
int spool_recover(struct spool *sp, char *err, size_t errsz);

void spool_seg_path(const char *dir, uint64_t id, char *out, size_t outsz);

#endif
