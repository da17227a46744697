/* crc32c.c - CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78),
 * the checksum of every archive record.
 *
 * Two implementations with identical results: the SSE4.2 `crc32` instruction
 * (chosen at run time when the CPU has it; ~8 bytes per cycle-ish on one
 * dependency chain, far above what the archive needs), and a portable
 * slice-by-8 table (~1-2 GB/s). Debian's libcrc32c would need a build change
 * for a dozen lines of code, so we keep our own. */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ww/archive.h"

static uint32_t ww_crc32c_table[8][256];
static int ww_crc32c_mode; /* 1 table, 2 sse4.2; set once */
static pthread_once_t ww_crc32c_once = PTHREAD_ONCE_INIT;

static void ww_crc32c_init_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        ww_crc32c_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            ww_crc32c_table[t][i] =
                (ww_crc32c_table[t - 1][i] >> 8) ^ ww_crc32c_table[0][ww_crc32c_table[t - 1][i] & 0xff];
}

/* Portable slice-by-8 over an already inverted crc. */
static uint32_t ww_crc32c_sw(uint32_t c, const unsigned char *p, size_t n)
{
    while (n && ((uintptr_t)p & 7)) {
        c = ww_crc32c_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
        n--;
    }
    while (n >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
        lo = __builtin_bswap32(lo);
        hi = __builtin_bswap32(hi);
#endif
        lo ^= c;
        c = ww_crc32c_table[7][lo & 0xff] ^ ww_crc32c_table[6][(lo >> 8) & 0xff] ^
            ww_crc32c_table[5][(lo >> 16) & 0xff] ^ ww_crc32c_table[4][lo >> 24] ^
            ww_crc32c_table[3][hi & 0xff] ^ ww_crc32c_table[2][(hi >> 8) & 0xff] ^
            ww_crc32c_table[1][(hi >> 16) & 0xff] ^ ww_crc32c_table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = ww_crc32c_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return c;
}

#if defined(__x86_64__)
#include <nmmintrin.h>
/* SSE4.2 over an already inverted crc. */
__attribute__((target("sse4.2"))) static uint32_t ww_crc32c_hw(uint32_t c, const unsigned char *p,
                                                                size_t n)
{
    uint64_t c64 = c;
    while (n && ((uintptr_t)p & 7)) {
        c64 = _mm_crc32_u8((uint32_t)c64, *p++);
        n--;
    }
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = _mm_crc32_u64(c64, v);
        p += 8;
        n -= 8;
    }
    while (n--)
        c64 = _mm_crc32_u8((uint32_t)c64, *p++);
    return (uint32_t)c64;
}
#endif

static void ww_crc32c_init(void)
{
    ww_crc32c_init_table();
#if defined(__x86_64__)
    __builtin_cpu_init();
    ww_crc32c_mode = __builtin_cpu_supports("sse4.2") ? 2 : 1;
#else
    ww_crc32c_mode = 1;
#endif
}

uint32_t ww_crc32c(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&ww_crc32c_once, ww_crc32c_init);
#if defined(__x86_64__)
    if (ww_crc32c_mode == 2)
        return ~ww_crc32c_hw(~crc, buf, len);
#endif
    return ~ww_crc32c_sw(~crc, buf, len);
}

uint32_t ww_crc32c_portable(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&ww_crc32c_once, ww_crc32c_init);
    return ~ww_crc32c_sw(~crc, buf, len);
}
