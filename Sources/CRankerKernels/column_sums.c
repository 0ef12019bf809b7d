// Column sums of a float matrix; see include/ranker_kernels.h.
#include "ranker_kernels.h"
#include "simd_dispatch.h"

#pragma clang fp contract(off)

RANKER_KERNEL_BODY
void ranker_column_sums_body(const float *v, ptrdiff_t ldv, ptrdiff_t rows, ptrdiff_t cols, float *restrict sums) {
    for (ptrdiff_t j = 0; j < cols; j++) sums[j] = 0.0f;
    for (ptrdiff_t b = 0; b < rows; b++) {
        const float *restrict row = v + b * ldv;
        for (ptrdiff_t j = 0; j < cols; j++) sums[j] += row[j];
    }
}

RANKER_DISPATCH(ranker_column_sums, (const float *v, ptrdiff_t ldv, ptrdiff_t rows, ptrdiff_t cols, float *sums),
                (v, ldv, rows, cols, sums))
