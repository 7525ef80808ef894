// The inner loop of regularised Kaczmarz in C, so that one binary carries a kernel per vector
// width (baseline x86-64 or ARM, AVX2 + FMA, AVX-512) and picks one at run time: lab machines
// differ, and the baseline build alone leaves most of a modern core unused.
#pragma once
#include <stdint.h>

typedef enum {
    kaczmarz_kernel_portable = 0,  // 8-float vectors in the baseline instruction set (SSE2, NEON)
    kaczmarz_kernel_avx2 = 1,      // 8-float vectors with fused multiply-add
    kaczmarz_kernel_avx512 = 2,    // 16-float vectors
} kaczmarz_kernel;

/// One sweep over the rows in `order` for a batch of frames. Rows are split complex: `stride`
/// real parts then `stride` imaginary parts (stride a multiple of 16, zero padded). Per frame f:
/// x at x + 2 stride f (real then imaginary parts), v and u at 2 (f rows + i) (re, im).
typedef struct {
    const float *matrix;
    int64_t stride;
    int64_t rows;
    const float *row_energy;
    const int32_t *order;
    int64_t order_count;
    float lambda;
    int64_t frames;
    float *x;
    float *v;
    const float *u;
    /// Scratch of 2 * frames floats (the pending dot products), so the sweep allocates nothing.
    float *tau;
} kaczmarz_sweep_args;

/// 1 when this processor and its operating system run the kernel.
int kaczmarz_kernel_available(kaczmarz_kernel kernel);
/// The widest available kernel.
kaczmarz_kernel kaczmarz_kernel_best(void);
/// Runs the sweep with `kernel`, which must be available.
void kaczmarz_sweep(kaczmarz_kernel kernel, const kaczmarz_sweep_args *args);
