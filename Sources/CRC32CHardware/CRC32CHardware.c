#include "CRC32CHardware.h"
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#include <pthread.h>

int crc32c_hardware_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

// One crc32 instruction has a latency of three cycles and a throughput of one a cycle, so a
// single chain of them runs at a third of the unit's speed. Long buffers are cut into three
// blocks of LANE bytes checksummed side by side, then joined by CRC's linearity: the register
// after A || B is (the register after A, moved on over |B| zero bytes) ^ (B's register from 0).
#define LANE 8192
static uint32_t lane_zeros[4][256];   // byte k of a register = b, moved on over LANE zero bytes
static pthread_once_t lane_zeros_once = PTHREAD_ONCE_INIT;

__attribute__((target("sse4.2")))
static void make_lane_zeros(void) {
    for (int k = 0; k < 4; k++) {
        for (uint32_t b = 0; b < 256; b++) {
            uint64_t crc = b << (8 * k);
            for (int i = 0; i < LANE / 8; i++) crc = _mm_crc32_u64(crc, 0);
            lane_zeros[k][b] = (uint32_t)crc;
        }
    }
}

static inline uint32_t over_lane_zeros(uint32_t crc) {
    return lane_zeros[0][crc & 0xFF] ^ lane_zeros[1][(crc >> 8) & 0xFF]
         ^ lane_zeros[2][(crc >> 16) & 0xFF] ^ lane_zeros[3][crc >> 24];
}

__attribute__((target("sse4.2")))
uint32_t crc32c_hardware_update(uint32_t state, const void *bytes, size_t n) {
    const unsigned char *p = bytes;
    uint64_t crc = state;
    if (n >= 3 * LANE) {
        pthread_once(&lane_zeros_once, make_lane_zeros);
        while (n >= 3 * LANE) {
            uint64_t a = crc, b = 0, c = 0;
            for (size_t i = 0; i < LANE; i += 8) {
                uint64_t wa, wb, wc;   // unaligned, little-endian as the journal is
                memcpy(&wa, p + i, 8);
                memcpy(&wb, p + LANE + i, 8);
                memcpy(&wc, p + 2 * LANE + i, 8);
                a = _mm_crc32_u64(a, wa);
                b = _mm_crc32_u64(b, wb);
                c = _mm_crc32_u64(c, wc);
            }
            crc = over_lane_zeros(over_lane_zeros((uint32_t)a) ^ (uint32_t)b) ^ (uint32_t)c;
            p += 3 * LANE;
            n -= 3 * LANE;
        }
    }
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        crc = _mm_crc32_u64(crc, word);
        p += 8;
        n -= 8;
    }
    uint32_t crc32 = (uint32_t)crc;
    while (n > 0) {
        crc32 = _mm_crc32_u8(crc32, *p++);
        n--;
    }
    return crc32;
}

#elif defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)
#include <arm_acle.h>

int crc32c_hardware_available(void) { return 1; }

uint32_t crc32c_hardware_update(uint32_t state, const void *bytes, size_t n) {
    const unsigned char *p = bytes;
    uint32_t crc = state;
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        crc = __crc32cd(crc, word);
        p += 8;
        n -= 8;
    }
    while (n > 0) {
        crc = __crc32cb(crc, *p++);
        n--;
    }
    return crc;
}

#else

int crc32c_hardware_available(void) { return 0; }
uint32_t crc32c_hardware_update(uint32_t state, const void *bytes, size_t n) { (void)bytes; (void)n; return state; }

#endif
