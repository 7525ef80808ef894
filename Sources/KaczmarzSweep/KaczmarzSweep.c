#include "KaczmarzSweep.h"

#define KERNEL(name) name##_portable
#define TARGET
#define WIDTH 8
#include "KaczmarzSweepTemplate.h"
#undef KERNEL
#undef TARGET
#undef WIDTH

#if defined(__x86_64__)
#define KERNEL(name) name##_avx2
#define TARGET __attribute__((target("avx2,fma")))
#define WIDTH 8
#include "KaczmarzSweepTemplate.h"
#undef KERNEL
#undef TARGET
#undef WIDTH

#define KERNEL(name) name##_avx512
#define TARGET __attribute__((target("avx512f")))
#define WIDTH 16
#include "KaczmarzSweepTemplate.h"
#undef KERNEL
#undef TARGET
#undef WIDTH
#endif

int kaczmarz_kernel_available(kaczmarz_kernel kernel) {
    switch (kernel) {
    case kaczmarz_kernel_portable: return 1;
#if defined(__x86_64__)
    // The compiler's runtime checks the operating system saves the wider registers too.
    case kaczmarz_kernel_avx2: __builtin_cpu_init(); return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case kaczmarz_kernel_avx512: __builtin_cpu_init(); return __builtin_cpu_supports("avx512f");
#endif
    default: return 0;
    }
}

kaczmarz_kernel kaczmarz_kernel_best(void) {
    if (kaczmarz_kernel_available(kaczmarz_kernel_avx512)) return kaczmarz_kernel_avx512;
    if (kaczmarz_kernel_available(kaczmarz_kernel_avx2)) return kaczmarz_kernel_avx2;
    return kaczmarz_kernel_portable;
}

void kaczmarz_sweep(kaczmarz_kernel kernel, const kaczmarz_sweep_args *args) {
    switch (kernel) {
#if defined(__x86_64__)
    case kaczmarz_kernel_avx512: sweep_avx512(args); return;
    case kaczmarz_kernel_avx2: sweep_avx2(args); return;
#endif
    default: sweep_portable(args); return;
    }
}
