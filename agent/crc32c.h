/*
 * crc32c.h - CRC-32C (Castagnoli, the iSCSI/ext4/Kafka polynomial), used by the disk spool to
 * tell a record it wrote from a torn or rotted one.
 *
 * Pure functions, any thread. The SSE 4.2 instruction where the CPU has it, else tables,
 * slicing by 8 (about 1 GB/s on one core): no
 * Debian library exposes CRC32C as a plain C call without pulling in a much larger API
 * (librdkafka has one but keeps it private; zlib has only CRC-32), and 60 lines of table
 * code are easier to trust than a new dependency.
 */
#ifndef LF_CRC32C_H
#define LF_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC: start with crc32c(0, ...), pass the result back in for the next piece. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);
/* The same with the tables only, never the CPU's instruction (tests compare the two). */
uint32_t crc32c_sw(uint32_t crc, const void *data, size_t len);

#endif
