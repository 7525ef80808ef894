#include "CRC32CHardware.h"
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>

int crc32c_hardware_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

__attribute__((target("sse4.2")))
uint32_t crc32c_hardware_update(uint32_t state, const void *bytes, size_t n) {
    const unsigned char *p = bytes;
    uint64_t crc = state;
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);   // unaligned, little-endian as the journal is
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
