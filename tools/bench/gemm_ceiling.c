/*
 * gemm_ceiling: how fast OpenBLAS runs the GEMM calls of one training step of
 * the benchmark workloads W2 and W3 alone, against the square SGEMM peak
 * measured in the same process. It bounds what `ranker bench` can report as
 * a fraction of peak: a step cannot beat its own GEMM calls.
 *
 *   cc -O2 tools/bench/gemm_ceiling.c -lopenblas -o /tmp/gemm_ceiling && /tmp/gemm_ceiling
 *
 * The calls are those of Ranker's MMoE step (Sources/Ranker/Layers/Dense.swift,
 * Models/ExpertGroup.swift), single thread, row-major, batch B = 1024, input
 * 429 (26 × 16 embeddings + 13 dense), E = 8 experts [h1, h2], 2 tasks with a
 * softmax gate (429 → 8) and a tower [64] → 1 each:
 *   forward   X·W1 (all experts' first layers, one GEMM), H_e·W2_e per expert,
 *             X·Wg per task, M_t·Wt1, T_t·Wt2 per task
 *   backward  for every Dense: dW = inputᵀ·dY, dX = dY·Wᵀ (the first layer's
 *             dX feeds the embeddings, so it is computed too)
 * FLOPs counted as in ranker bench: 6·B·Σ in·out.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *buffer(size_t n) {
    float *p = aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
    for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    return p;
}

/* C[m×n] (ldc) = op(A)·op(B) + beta·C, row-major. */
static void gemm(int ta, int tb, int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                 float beta, float *c, int ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f,
                a, lda, b, ldb, beta, c, ldc);
}

static double square_peak(void) {
    double best = 0;
    int sizes[] = {512, 1024, 2048};
    for (int s = 0; s < 3; s++) {
        int n = sizes[s];
        float *a = buffer((size_t)n * n), *b = buffer((size_t)n * n), *c = buffer((size_t)n * n);
        for (int r = 0; r < 5; r++) {
            double t = now();
            gemm(0, 0, n, n, n, a, n, b, n, 0, c, n);
            double g = 2.0 * n * n * n / (now() - t) / 1e9;
            if (g > best) best = g;
        }
        free(a); free(b); free(c);
    }
    return best;
}

/* One step's GEMMs of MMoE with E experts [h1, h2]; returns seconds, sets *flops. */
static double workload(int E, int h1, int h2, double *flops, int repeats) {
    const int B = 1024, D = 429, T = 2, G = E, U = 64;
    float *X = buffer((size_t)B * D), *W1 = buffer((size_t)D * E * h1), *H = buffer((size_t)B * E * h1);
    float *W2 = buffer((size_t)E * h1 * h2), *Y = buffer((size_t)B * E * h2);
    float *Wg = buffer((size_t)D * G), *Gt = buffer((size_t)B * G);
    float *M = buffer((size_t)B * h2), *Wt1 = buffer((size_t)h2 * U), *Tt = buffer((size_t)B * U), *Wt2 = buffer(U);
    float *Z = buffer(B);
    float *dW1 = buffer((size_t)D * E * h1), *dH = buffer((size_t)B * E * h1), *dW2 = buffer((size_t)h1 * h2);
    float *dX = buffer((size_t)B * D), *dWg = buffer((size_t)D * G), *dWt1 = buffer((size_t)h2 * U);
    float *dM = buffer((size_t)B * h2), *dTt = buffer((size_t)B * U), *dWt2 = buffer(U);
    double best = 1e30;
    for (int r = 0; r < repeats; r++) {
        double t = now();
        /* forward */
        gemm(0, 0, B, E * h1, D, X, D, W1, E * h1, 0, H, E * h1);
        for (int e = 0; e < E; e++)
            gemm(0, 0, B, h2, h1, H + e * h1, E * h1, W2 + (size_t)e * h1 * h2, h2, 0, Y + e * h2, E * h2);
        for (int k = 0; k < T; k++) {
            gemm(0, 0, B, G, D, X, D, Wg, G, 0, Gt, G);
            gemm(0, 0, B, U, h2, M, h2, Wt1, U, 0, Tt, U);
            gemm(0, 0, B, 1, U, Tt, U, Wt2, 1, 0, Z, 1);
        }
        /* backward */
        for (int k = 0; k < T; k++) {
            gemm(1, 0, U, 1, B, Tt, U, Z, 1, 0, dWt2, 1);
            gemm(0, 1, B, U, 1, Z, 1, Wt2, 1, 0, dTt, U);
            gemm(1, 0, h2, U, B, M, h2, dTt, U, 0, dWt1, U);
            gemm(0, 1, B, h2, U, dTt, U, Wt1, U, 0, dM, h2);
            gemm(1, 0, D, G, B, X, D, Gt, G, 0, dWg, G);
            gemm(0, 1, B, D, G, Gt, G, Wg, G, k ? 1 : 0, dX, D);
        }
        for (int e = 0; e < E; e++) {
            gemm(1, 0, h1, h2, B, H + e * h1, E * h1, Y + e * h2, E * h2, 0, dW2, h2);
            gemm(0, 1, B, h1, h2, Y + e * h2, E * h2, W2 + (size_t)e * h1 * h2, h2, 0, dH + e * h1, E * h1);
        }
        gemm(1, 0, D, E * h1, B, X, D, dH, E * h1, 0, dW1, E * h1);
        gemm(0, 1, B, D, E * h1, dH, E * h1, W1, E * h1, 1, dX, D);
        double s = now() - t;
        if (s < best) best = s;
    }
    double sum = (double)D * E * h1 + (double)E * h1 * h2 + T * ((double)D * G + (double)h2 * U + U);
    *flops = 6.0 * B * sum;
    return best;
}

int main(void) {
    openblas_set_num_threads(1);
    double peak = square_peak();
    printf("SGEMM square peak, 1 thread: %.1f GFLOP/s\n", peak);
    struct { const char *name; int E, h1, h2, repeats; } w[] = {{"W2", 8, 256, 128, 30}, {"W3", 8, 1024, 512, 8}};
    for (int i = 0; i < 2; i++) {
        double flops, s = workload(w[i].E, w[i].h1, w[i].h2, &flops, w[i].repeats);
        double g = flops / s / 1e9;
        printf("%s: GEMM calls of one step %.2f GFLOP in %.1f ms (best of %d) = %.1f GFLOP/s = %.3f of the peak\n",
               w[i].name, flops / 1e9, s * 1e3, w[i].repeats, g, g / peak);
    }
    double again = square_peak();
    printf("SGEMM square peak measured again after the workloads: %.1f GFLOP/s\n", again);
    return 0;
}
