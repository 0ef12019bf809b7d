// The instruction-set level of the kernels; see simd_dispatch.h.
#include "ranker_kernels.h"
#include "simd_dispatch.h"

int ranker_simd_level = RANKER_SIMD_BASELINE;
static int ranker_simd_level_of_cpu = RANKER_SIMD_BASELINE;

__attribute__((constructor)) static void ranker_choose_simd_level(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) ranker_simd_level_of_cpu = RANKER_SIMD_AVX512;
    else if (__builtin_cpu_supports("avx2")) ranker_simd_level_of_cpu = RANKER_SIMD_AVX2;
    ranker_simd_level = ranker_simd_level_of_cpu;
}

int ranker_kernels_simd_level(void) { return ranker_simd_level; }

int ranker_kernels_cpu_simd_level(void) { return ranker_simd_level_of_cpu; }

int ranker_kernels_set_simd_level(int level) {
    if (level < RANKER_SIMD_BASELINE || level > ranker_simd_level_of_cpu) return 0;
    ranker_simd_level = level;
    return 1;
}
