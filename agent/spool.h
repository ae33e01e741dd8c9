/*
 * spool.h - one output's disk spool: batches the output could not take when they were
 * offered, kept in data_dir/spool/NAME/ until the output has acknowledged them.
 *
 * Files: segments named %016llx.seg (their number, oldest first), each a run of records
 * (spool_rec.h) of up to seg_bytes. A segment is deleted once every record in it has been
 * acknowledged (or dropped by spool_full = drop_oldest).
 *
 * Threads: one writer (the output's spool thread in pipeline_spool.c: spool_append,
 * spool_sync, spool_maintain), one reader (the output's thread: spool_next), and acks from
 * any thread (spool_ack). Everything but fdatasync runs under the spool's mutex, reads from
 * page cache included, so a segment is never closed or deleted under a reader.
 */
#ifndef LF_SPOOL_H
#define LF_SPOOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/base/event.h"

struct spool;

struct spool_conf {
    uint64_t max_bytes; /* the spool never holds more on disk (but for one record when empty) */
    uint64_t seg_bytes; /* 0: 16 MiB, or max_bytes / 8 when that is smaller */
    int drop_oldest;    /* 0: block (the writer waits for acks), 1: drop the oldest segment */
};

/* Counters for /metrics, the status page and `logferry status`. */
struct spool_stats {
    uint64_t bytes;           /* on disk */
    uint64_t records;         /* not yet acknowledged */
    uint64_t events;          /* in those records */
    int64_t oldest_ms;        /* wall time the oldest of them was spooled; 0 when none */
    uint64_t events_spooled;  /* written since start */
    uint64_t events_drained;  /* read back and acknowledged since start */
    uint64_t events_dropped;  /* given up by drop_oldest */
    uint64_t corrupt_records; /* records (or damaged stretches) skipped at replay */
    uint64_t corrupt_bytes;
    uint64_t torn_tails;      /* segments whose last record was cut short (a crash) */
    uint64_t write_errors;
    double drain_rate;        /* events/s acknowledged from the spool, over the last seconds */
};

/* Opens (creating) dir and replays what is there: every good record becomes readable again,
 * torn tails are cut, damaged records counted and skipped, each kind logged once. Never fails
 * because of the content; -1 with err filled when the directory cannot be used. `name` is for
 * logs. */
int spool_open(struct spool **out, const char *dir, const char *name,
               const struct spool_conf *c, char *err, size_t errsz);
/* Frees the spool. Replay batches still in flight must have been acknowledged, or the output
 * abandoned (then leave them: `leak_flights`). */
void spool_close(struct spool *sp, int leak_flights);

/* Writer. Appends b as one record (not readable, nor to be acknowledged, before the next
 * spool_sync). Waits for room under spool_full = block while *stop is 0; returns -1 when it
 * gave up waiting or the write failed (the batch is then not spooled), 1 when b has no event
 * (nothing written), 0 when written. */
int spool_append(struct spool *sp, const struct event_batch *b, int64_t now_ms,
                 const atomic_int *stop);
/* Writes what is buffered and fdatasyncs it: appended records become readable. 0 or -1. */
int spool_sync(struct spool *sp);
/* Deletes the current segment once it is fully acknowledged, so a drained spool holds no
 * disk. Writer, now and then. */
void spool_maintain(struct spool *sp);
/* Wakes a writer waiting for room (shutdown). */
void spool_wake(struct spool *sp);

/* Reader. Records appended and not yet read back (synced or not): the pipeline offers new
 * batches to the spool rather than the output while this is not 0, so the output sees them
 * in order. */
uint64_t spool_unread(struct spool *sp);
/* 1 when spool_next() would return a batch now (a synced record waits). */
int spool_readable(struct spool *sp);
/* The oldest record not read yet, as a new batch the caller sends and acknowledges with
 * spool_ack(); NULL when none is readable. Damaged records are skipped (and counted). */
struct event_batch *spool_next(struct spool *sp);
/* 1 if b came from spool_next() of this spool and is not acknowledged yet. Any thread. */
int spool_owns(struct spool *sp, const struct event_batch *b);
/* Any thread: b is delivered; frees it, and its segment once that is all acknowledged. */
void spool_ack(struct spool *sp, struct event_batch *b);
/* Batches from spool_next() not acknowledged yet, and their events and bytes. */
int spool_in_flight(struct spool *sp);
void spool_in_flight_size(struct spool *sp, uint64_t *events, uint64_t *bytes);

void spool_get_stats(struct spool *sp, struct spool_stats *st);

/* `logferry check`: reads every segment in dir without changing anything and prints one
 * line per segment to out. Returns the number of damaged records or stretches found (0:
 * clean or no spool). */
int spool_check_dir(const char *dir, FILE *out);

#endif
