// Each kernel of this target is compiled three times — for AVX-512, for AVX2
// and for baseline x86-64 — from one body, and the exported function calls the
// widest one this CPU has. The choice is made once, by a constructor when the
// program loads (simd_dispatch.c); a dispatch through ifunc (`target_clones`)
// would run its resolver before a sanitizer's runtime is up, which crashes the
// ThreadSanitizer build.
#ifndef RANKER_SIMD_DISPATCH_H
#define RANKER_SIMD_DISPATCH_H

enum { RANKER_SIMD_BASELINE = 0, RANKER_SIMD_AVX2 = 1, RANKER_SIMD_AVX512 = 2 };

/// The instruction-set level the kernels run at (set when the program loads).
extern int ranker_simd_level;

/// Defines `void name params` calling `name##_body args` compiled for AVX-512, AVX2 or the
/// baseline, by `ranker_simd_level`. The body is a `static inline` function of the same file
/// marked `RANKER_KERNEL_BODY`, so that each variant inlines it and is vectorized for its
/// instruction set.
#define RANKER_KERNEL_BODY static inline __attribute__((always_inline))
#define RANKER_DISPATCH(name, params, args)                                     \
    __attribute__((target("avx512f"))) static void name##_avx512 params { name##_body args; } \
    __attribute__((target("avx2"))) static void name##_avx2 params { name##_body args; }       \
    static void name##_baseline params { name##_body args; }                    \
    void name params {                                                          \
        if (ranker_simd_level == RANKER_SIMD_AVX512) name##_avx512 args;        \
        else if (ranker_simd_level == RANKER_SIMD_AVX2) name##_avx2 args;       \
        else name##_baseline args;                                              \
    }

#endif
