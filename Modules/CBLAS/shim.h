// The C interfaces Ranker uses: CBLAS (OpenBLAS) for every matrix product and
// LAPACKE for the small double-precision solves. Debian: libopenblas-dev, liblapacke-dev.
#ifndef RANKER_CBLAS_SHIM_H
#define RANKER_CBLAS_SHIM_H
#include <cblas.h>
#include <lapacke.h>

// Software prefetch of the cache line at `address` for writing: embedding rows
// are touched in random order, so the hardware prefetcher cannot guess them.
static inline void ranker_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}
#endif
