// The C interfaces Ranker uses: CBLAS (OpenBLAS) for every matrix product and
// LAPACKE for the small double-precision solves. Debian: libopenblas-dev, liblapacke-dev.
#ifndef RANKER_CBLAS_SHIM_H
#define RANKER_CBLAS_SHIM_H
#include <cblas.h>
#include <lapacke.h>
#endif
