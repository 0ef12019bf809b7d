// Nothing to call: this target's one function is a constructor (test_blas_kernels.c).
#ifndef RANKER_TEST_BLAS_KERNELS_H
#define RANKER_TEST_BLAS_KERNELS_H
#endif
