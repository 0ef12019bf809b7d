// The OpenBLAS kernel set for a CPU that OpenBLAS does not know; see
// include/ranker_kernels.h and Sources/Ranker/Linalg/BLASKernelChoice.swift.
#include "ranker_kernels.h"

#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

// OpenBLAS's own declaration (cblas.h); the library is linked through the CBLAS module.
extern char *openblas_get_corename(void);

const char *ranker_openblas_fitting_coretype(const char *selected, int has_avx512, int has_avx2_fma,
                                             int user_chose) {
    if (user_chose || selected == NULL || strcasecmp(selected, "Prescott") != 0) return NULL;
    if (has_avx512) return "SkylakeX";
    if (has_avx2_fma) return "Haswell";
    return NULL;
}

int ranker_cpu_has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}

int ranker_cpu_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

const char *ranker_openblas_fitting_coretype_here(void) {
    return ranker_openblas_fitting_coretype(openblas_get_corename(), ranker_cpu_has_avx512(),
                                            ranker_cpu_has_avx2_fma(), getenv("OPENBLAS_CORETYPE") != NULL);
}

void ranker_openblas_relaunch_on_fitting_kernels(char *const argv[]) {
    const char *core = ranker_openblas_fitting_coretype_here();
    if (core == NULL || argv == NULL) return;
    setenv("OPENBLAS_CORETYPE", core, 1);
    execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE");  // execv failed: the generic kernels stay, and the environment says so
}
