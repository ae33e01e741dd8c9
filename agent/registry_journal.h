/*
 * registry_journal.h - the registry's journal (DATA_DIR/registry.journal): what registry.c
 * and the unit tests need of agent/registry_journal.c. The agent itself only calls the
 * reg_journal_* functions declared in registry.h.
 *
 * File: an 8-byte header "LFJRNL1\n", then records, each
 *   u32 payload length | u32 crc32 (zlib) of the payload | payload
 * all little-endian. Payload: u8 type | u64 seq | u64 dev | u64 ino, and for RJ_SET the
 * entry's whole state: u64 fp | u32 fp_len | u64 uid | u64 offset | i64 updated_ms |
 * u16 path length | u16 input length (0: none) | path | input. A record carries the whole
 * state of one entry, so replay is "last record per file wins" and a lost record costs only
 * duplicates (the older offset is read again), never a line.
 *
 * seq grows by one per record across restarts; registry.json stores the last seq it covers
 * ("journal_seq") and replay skips records at or below it.
 */
#ifndef LF_REGISTRY_JOURNAL_H
#define LF_REGISTRY_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "agent/registry.h"

#define RJ_HEADER "LFJRNL1\n"
#define RJ_HEADER_LEN 8
#define RJ_SET 1
#define RJ_REMOVE 2
#define RJ_MAX_STR 4096 /* longer paths are not journaled (registry.json still has them) */
#define RJ_MAX_PAYLOAD (1 + 24 + 44 + 2 * RJ_MAX_STR)
#define RJ_MAX_RECORD (8 + RJ_MAX_PAYLOAD)

/* Encodes one record into buf (cap bytes). Returns its length, or 0 when it does not fit or
 * a string is over RJ_MAX_STR. */
size_t rj_encode_set(uint8_t *buf, size_t cap, uint64_t seq, const struct reg_entry *e);
size_t rj_encode_remove(uint8_t *buf, size_t cap, uint64_t seq, uint64_t dev, uint64_t ino);

struct rj_replay_stats {
    long records;       /* valid records read */
    long applied;       /* of them, newer than registry.json (seq > snap_seq) */
    long long cut_bytes; /* torn or corrupt tail cut off (0: clean) */
};

/* Replays DIR/registry.journal onto r (loaded from registry.json, r->snap_seq set): applies
 * every valid record with seq > r->snap_seq in order, stops at the first torn or corrupt
 * record and truncates the file there (so a new journal appends after good records only;
 * logged once). r->seq ends at the highest seq seen. A missing file is an empty journal.
 * Tail thread, before reg_journal_start(). */
void rj_replay(struct registry *r, struct rj_replay_stats *st);

/* Called by registry.c on the tail thread when the journal runs (r->j != NULL): entry idx
 * changed (path, identity, offset or input), or the entry dev+ino was removed (idx is its
 * index just before removal; the caller then moves the last entry to idx). */
void rj_note_change(struct registry *r, int idx);
void rj_note_remove(struct registry *r, int idx, uint64_t dev, uint64_t ino);
/* registry.json now covers everything up to r->seq: pending changes are dropped, and the
 * writer empties the journal before it writes anything newer. */
void rj_snapshot_done(struct registry *r);
/* A save is being attempted: reg_journal_full() asks again only after another COMPACT_BYTES
 * (a save failing on a full disk is then not retried at every turn of the loop). */
void rj_save_attempted(struct registry *r);

#endif
