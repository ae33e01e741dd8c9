/*
 * crc32c.c - CRC-32C: the SSE 4.2 instruction when there is one, else slicing by 8 (crc32c.h
 * says why this and not a library).
 *
 * The eight 256-entry tables are built once (pthread_once) and only read afterwards, so any
 * thread may call crc32c().
 */
#include "agent/crc32c.h"

#include <pthread.h>
#include <string.h>

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define HAVE_HW_CRC 1
/* SSE 4.2 has an instruction for exactly this polynomial: 8 bytes a cycle or so, ten times
 * the tables; used when the CPU has it (checked once). */
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const void *data,
                                                          size_t len)
{
    const unsigned char *p = data;
    uint64_t c = ~crc;
    while (len && ((uintptr_t)p & 7)) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        len--;
    }
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        len -= 8;
    }
    while (len--)
        c = _mm_crc32_u8((uint32_t)c, *p++);
    return ~(uint32_t)c;
}
static int hw;
#endif

static void init_once(void)
{
    table_init();
#ifdef HAVE_HW_CRC
    __builtin_cpu_init();
    hw = __builtin_cpu_supports("sse4.2");
#endif
}

/* The portable version: also what the hardware one is tested against (crc32c_sw). */
uint32_t crc32c_sw(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&table_once, init_once);
    const unsigned char *p = data;
    uint32_t c = ~crc;
    while (len && ((uintptr_t)p & 7)) {
        c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
        len--;
    }
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (len >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4); /* the spool is little-endian on disk; so are the hosts we build for */
        memcpy(&hi, p + 4, 4);
        lo ^= c;
        c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
            table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
            table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
#endif
    while (len--)
        c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

uint32_t crc32c(uint32_t crc, const void *data, size_t len)
{
#ifdef HAVE_HW_CRC
    pthread_once(&table_once, init_once);
    if (hw)
        return crc_hw(crc, data, len);
#endif
    return crc32c_sw(crc, data, len);
}
