#ifndef RANKER_KERNELS_H
#define RANKER_KERNELS_H

// Elementwise and column-reduction loops of the layers, in C so that each is
// compiled for AVX-512, AVX2 and baseline x86-64 and the widest one the CPU
// has is picked when the program loads (simd_dispatch.h): Swift code is
// compiled for baseline x86-64 (SSE2) only, and a library target may not
// raise that for everyone with compiler flags.
//
// Every function computes exactly what the Swift loop it replaces computed,
// lane by lane: columns are independent, each column's sums add the rows in
// order 0, 1, …, and no multiply is fused with an add (floating-point
// contraction is off), so results are bitwise the same on every instruction
// set. Matrices are row-major with a leading dimension (`ld*`, in elements).

#include <stddef.h>
#include <stdint.h>

// The instruction-set level the kernels run at: 0 baseline x86-64, 1 AVX2, 2 AVX-512.

/// The level the kernels run at now (the CPU's widest, unless set lower).
int ranker_kernels_simd_level(void);
/// The widest level this CPU has.
int ranker_kernels_cpu_simd_level(void);
/// Runs the kernels at `level` from now on (tests: every level gives the same numbers); returns 0
/// and changes nothing when the CPU does not have it. Not to be called while kernels run.
int ranker_kernels_set_simd_level(int level);

// BatchNorm1d (docs/ALGORITHMS.md 3.2.1; Sources/Ranker/Layers/BatchNorm.swift).

/// sum[j] += Σ_b (double) z[b, j]
void ranker_bn_column_sums(const float *z, ptrdiff_t ldz, ptrdiff_t rows, ptrdiff_t cols, double *sum);

/// squares[j] += Σ_b ((double) z[b, j] − mean[j])²
void ranker_bn_squared_deviations(const float *z, ptrdiff_t ldz, ptrdiff_t rows, ptrdiff_t cols,
                                  const double *mean, double *squares);

/// xhat[b, j] = (float) (((double) z[b, j] − mean[j]) · inverse[j]);
/// z[b, j] = gamma[j] · xhat[b, j] + beta[j] (float, rounded after each operation),
/// then with `relu` != 0: z[b, j] = z[b, j] <= 0 ? 0 : z[b, j] (NaN stays NaN).
void ranker_bn_normalize(float *z, ptrdiff_t ldz, float *xhat, ptrdiff_t ldx, ptrdiff_t rows, ptrdiff_t cols,
                         const double *mean, const double *inverse, const float *gamma, const float *beta, int relu);

/// With `relu_output` (the ReLU after the BatchNorm, `ldh`): first dy[b, j] = relu_output[b, j] > 0 ? dy[b, j] : 0,
/// in place. Then sum_dy[j] += Σ_b (double) dy[b, j];  sum_dy_xhat[j] += Σ_b (double) dy[b, j] · (double) xhat[b, j].
void ranker_bn_gradient_sums(float *dy, ptrdiff_t lddy, const float *xhat, ptrdiff_t ldx,
                             const float *relu_output, ptrdiff_t ldh,
                             ptrdiff_t rows, ptrdiff_t cols, double *sum_dy, double *sum_dy_xhat);

/// dy[b, j] = (float) (scale[j] · (double) dy[b, j] − mean_term[j] − (double) xhat[b, j] · xhat_term[j]);
/// with xhat == NULL (evaluation mode): dy[b, j] = (float) (scale[j] · (double) dy[b, j]).
void ranker_bn_input_gradient(float *dy, ptrdiff_t lddy, const float *xhat, ptrdiff_t ldx,
                              ptrdiff_t rows, ptrdiff_t cols, const double *scale,
                              const double *mean_term, const double *xhat_term);

// Dense (Sources/Ranker/Layers/Dense.swift).

/// sums[j] = Σ_b v[b, j] in single precision, rows added in order (a bias gradient).
void ranker_column_sums(const float *v, ptrdiff_t ldv, ptrdiff_t rows, ptrdiff_t cols, float *sums);

// The first layer folded into the embeddings (Sources/Ranker/Layers/DistinctRowProduct.swift).
// Example b's field f is row `index[b·field_count + f]` of a table of products (or of sums).

/// y[b, :] += table[index[b·field_count + f], :] for f = 0, 1, …, field_count − 1 in order, for each
/// b < rows (`width` columns).
void ranker_add_field_rows(float *y, ptrdiff_t ldy, ptrdiff_t rows, ptrdiff_t width,
                           const float *table, ptrdiff_t ldt, const int32_t *index, ptrdiff_t field_count);

/// sums[0 ..< sum_rows, :] = 0; then for b = 0, 1, …, rows − 1 and each field f in order:
/// sums[index[b·field_count + f], :] += g[b, :] (`width` columns).
void ranker_scatter_field_rows(const float *g, ptrdiff_t ldg, ptrdiff_t rows, ptrdiff_t width,
                               float *sums, ptrdiff_t lds, ptrdiff_t sum_rows, const int32_t *index,
                               ptrdiff_t field_count);

// OpenBLAS's kernels (Sources/Ranker/Linalg/BLASKernelChoice.swift).

/// The OPENBLAS_CORETYPE to run with, or NULL when OpenBLAS's choice stands: only when
/// OpenBLAS `selected` its generic "Prescott" kernels and the user did not choose
/// (`user_chose`: OPENBLAS_CORETYPE is set, to anything): "SkylakeX" with AVX-512
/// F/BW/DQ/VL, "Haswell" with AVX2 and FMA, else NULL.
const char *ranker_openblas_fitting_coretype(const char *selected, int has_avx512, int has_avx2_fma,
                                             int user_chose);
/// Whether this CPU has AVX-512 F, BW, DQ and VL.
int ranker_cpu_has_avx512(void);
/// Whether this CPU has AVX2 and FMA.
int ranker_cpu_has_avx2_fma(void);
/// `ranker_openblas_fitting_coretype` for this process: OpenBLAS's choice, this CPU, this environment.
const char *ranker_openblas_fitting_coretype_here(void);
/// When `ranker_openblas_fitting_coretype_here` names a kernel set: sets OPENBLAS_CORETYPE to it and
/// executes /proc/self/exe again with `argv` (same PID, same environment plus the variable).
/// Returns only when there is nothing to do or the execution failed (then nothing is changed).
void ranker_openblas_relaunch_on_fitting_kernels(char *const argv[]);

// Ctrl-C during training (Sources/Ranker/Training/InterruptSignal.swift).

/// Clears the flag and installs the SIGINT handler that sets it (and puts back the default action,
/// so that a second Ctrl-C ends the process); returns the previous handler for `ranker_interrupt_restore`.
void *ranker_interrupt_install(void);
/// Puts back the handler `ranker_interrupt_install` replaced.
void ranker_interrupt_restore(void *previous);
/// Whether SIGINT arrived since the last `ranker_interrupt_install` (1) or not (0).
int ranker_interrupt_requested(void);

#endif
