// BatchNorm1d's column loops; see include/ranker_kernels.h.
#include "ranker_kernels.h"
#include "simd_dispatch.h"

#pragma clang fp contract(off)

RANKER_KERNEL_BODY
void ranker_bn_column_sums_body(const float *z, ptrdiff_t ldz, ptrdiff_t rows, ptrdiff_t cols, double *restrict sum) {
    for (ptrdiff_t b = 0; b < rows; b++) {
        const float *restrict row = z + b * ldz;
        for (ptrdiff_t j = 0; j < cols; j++) sum[j] += (double)row[j];
    }
}

RANKER_KERNEL_BODY
void ranker_bn_squared_deviations_body(const float *z, ptrdiff_t ldz, ptrdiff_t rows, ptrdiff_t cols,
                                  const double *restrict mean, double *restrict squares) {
    for (ptrdiff_t b = 0; b < rows; b++) {
        const float *restrict row = z + b * ldz;
        for (ptrdiff_t j = 0; j < cols; j++) {
            double d = (double)row[j] - mean[j];
            squares[j] += d * d;
        }
    }
}

RANKER_KERNEL_BODY
void ranker_bn_normalize_body(float *z, ptrdiff_t ldz, float *xhat, ptrdiff_t ldx, ptrdiff_t rows, ptrdiff_t cols,
                         const double *restrict mean, const double *restrict inverse,
                         const float *restrict gamma, const float *restrict beta, int relu) {
    for (ptrdiff_t b = 0; b < rows; b++) {
        float *restrict row = z + b * ldz;
        float *restrict x = xhat + b * ldx;
        for (ptrdiff_t j = 0; j < cols; j++) {
            float value = (float)(((double)row[j] - mean[j]) * inverse[j]);
            x[j] = value;
            float scaled = gamma[j] * value;
            row[j] = scaled + beta[j];
        }
        if (relu) {
            for (ptrdiff_t j = 0; j < cols; j++) row[j] = row[j] <= 0.0f ? 0.0f : row[j];
        }
    }
}

RANKER_KERNEL_BODY
void ranker_bn_gradient_sums_body(float *dy, ptrdiff_t lddy, const float *xhat, ptrdiff_t ldx,
                             const float *relu_output, ptrdiff_t ldh,
                             ptrdiff_t rows, ptrdiff_t cols, double *restrict sum_dy, double *restrict sum_dy_xhat) {
    for (ptrdiff_t b = 0; b < rows; b++) {
        float *restrict g = dy + b * lddy;
        const float *restrict x = xhat + b * ldx;
        if (relu_output != NULL) {
            const float *restrict h = relu_output + b * ldh;
            for (ptrdiff_t j = 0; j < cols; j++) g[j] = h[j] > 0.0f ? g[j] : 0.0f;
        }
        for (ptrdiff_t j = 0; j < cols; j++) {
            sum_dy[j] += (double)g[j];
            sum_dy_xhat[j] += (double)g[j] * (double)x[j];
        }
    }
}

RANKER_KERNEL_BODY
void ranker_bn_input_gradient_body(float *dy, ptrdiff_t lddy, const float *xhat, ptrdiff_t ldx,
                              ptrdiff_t rows, ptrdiff_t cols, const double *restrict scale,
                              const double *restrict mean_term, const double *restrict xhat_term) {
    for (ptrdiff_t b = 0; b < rows; b++) {
        float *restrict g = dy + b * lddy;
        if (xhat == NULL) {
            for (ptrdiff_t j = 0; j < cols; j++) g[j] = (float)(scale[j] * (double)g[j]);
            continue;
        }
        const float *restrict x = xhat + b * ldx;
        for (ptrdiff_t j = 0; j < cols; j++) {
            double scaled = scale[j] * (double)g[j];
            double centred = scaled - mean_term[j];
            double projection = (double)x[j] * xhat_term[j];
            g[j] = (float)(centred - projection);
        }
    }
}

RANKER_DISPATCH(ranker_bn_column_sums, (const float *z, ptrdiff_t ldz, ptrdiff_t rows, ptrdiff_t cols, double *sum),
                (z, ldz, rows, cols, sum))

RANKER_DISPATCH(ranker_bn_squared_deviations, (const float *z, ptrdiff_t ldz, ptrdiff_t rows, ptrdiff_t cols, const double *mean, double *squares),
                (z, ldz, rows, cols, mean, squares))

RANKER_DISPATCH(ranker_bn_normalize, (float *z, ptrdiff_t ldz, float *xhat, ptrdiff_t ldx, ptrdiff_t rows, ptrdiff_t cols, const double *mean, const double *inverse, const float *gamma, const float *beta, int relu),
                (z, ldz, xhat, ldx, rows, cols, mean, inverse, gamma, beta, relu))

RANKER_DISPATCH(ranker_bn_gradient_sums, (float *dy, ptrdiff_t lddy, const float *xhat, ptrdiff_t ldx, const float *relu_output, ptrdiff_t ldh, ptrdiff_t rows, ptrdiff_t cols, double *sum_dy, double *sum_dy_xhat),
                (dy, lddy, xhat, ldx, relu_output, ldh, rows, cols, sum_dy, sum_dy_xhat))

RANKER_DISPATCH(ranker_bn_input_gradient, (float *dy, ptrdiff_t lddy, const float *xhat, ptrdiff_t ldx, ptrdiff_t rows, ptrdiff_t cols, const double *scale, const double *mean_term, const double *xhat_term),
                (dy, lddy, xhat, ldx, rows, cols, scale, mean_term, xhat_term))
