// The journal's CRC-32C on one openmpi-3d frame (646 kB): the hardware update of
// Sources/CRC32CHardware against a single chain of crc32 instructions (what it was before the
// three-lane blocks), best of 20 rounds of 200 frames each, in the same run.
//   gcc -O2 -o /tmp/bench_crc32c scripts/bench_crc32c.c Sources/CRC32CHardware/CRC32CHardware.c
//       -ISources/CRC32CHardware/include -lpthread && /tmp/bench_crc32c
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <nmmintrin.h>
uint32_t crc32c_hardware_update(uint32_t state, const void *bytes, size_t n);
__attribute__((target("sse4.2"))) static uint32_t single(uint32_t state, const void *bytes, size_t n) {
    const unsigned char *p = bytes; uint64_t crc = state;
    while (n >= 8) { uint64_t w; memcpy(&w, p, 8); crc = _mm_crc32_u64(crc, w); p += 8; n -= 8; }
    return (uint32_t)crc;
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
int main(void) {
    size_t n = 646144; unsigned char *buf = malloc(n); for (size_t i = 0; i < n; i++) buf[i] = rand();
    uint32_t x = 0; double best[2] = {1e9, 1e9};
    for (int round = 0; round < 20; round++) {
        double t0 = now();
        for (int i = 0; i < 200; i++) x ^= single(x, buf, n);
        double t1 = now();
        for (int i = 0; i < 200; i++) x ^= crc32c_hardware_update(x, buf, n);
        double t2 = now();
        if (t1 - t0 < best[0]) best[0] = t1 - t0;
        if (t2 - t1 < best[1]) best[1] = t2 - t1;
    }
    printf("646 kB frame: one chain %.1f us, three lanes %.1f us (%.2f x) [%u]\n", best[0] / 200 * 1e6, best[1] / 200 * 1e6, best[0] / best[1], x);
    if (single(0, buf, n) != crc32c_hardware_update(0, buf, n)) { fprintf(stderr, "the two disagree\n"); return 1; }
}
