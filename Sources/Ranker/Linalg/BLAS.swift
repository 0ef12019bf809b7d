import CBLAS

@usableFromInline func cblasTranspose(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

/// Thin, shape-checked wrappers over CBLAS (OpenBLAS), row-major throughout.
///
/// Every matrix product of the library goes through `BLAS.gemm`; the vector
/// helpers cover the few level-1/2 operations the layers and optimizers need.
public enum BLAS {
    /// `C = alpha * op(A) * op(B) + beta * C` with `op(X)` either `X` or `Xᵀ`
    /// (`transposeA`, `transposeB`).
    ///
    /// Shapes: `op(A)` is `m × k`, `op(B)` is `k × n`, `C` is `m × n`. Views may
    /// have any leading dimension. With `beta == 0`, `C` is overwritten (NaNs
    /// already in `C` do not propagate).
    @inlinable
    public static func gemm(_ a: MatrixView, _ b: MatrixView, into c: MatrixView,
                            transposeA: Bool = false, transposeB: Bool = false,
                            alpha: Float = 1, beta: Float = 0) {
        let m = transposeA ? a.cols : a.rows
        let k = transposeA ? a.rows : a.cols
        let kb = transposeB ? b.cols : b.rows
        let n = transposeB ? b.rows : b.cols
        precondition(k == kb, "gemm: inner dimensions differ (\(k) vs \(kb))")
        precondition(c.rows == m && c.cols == n, "gemm: C is \(c.rows) × \(c.cols), expected \(m) × \(n)")
        if m == 0 || n == 0 { return }
        if k == 0 {
            // op(A)·op(B) is the zero matrix: C = beta * C.
            if beta == 0 { c.fill(0) } else if beta != 1 { scale(c, by: beta) }
            return
        }
        cblas_sgemm(CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB),
                    Int32(m), Int32(n), Int32(k),
                    alpha, a.data, Int32(a.ld), b.data, Int32(b.ld),
                    beta, c.data, Int32(c.ld))
    }

    /// `y = alpha * op(A) * x + beta * y` for a matrix view and contiguous vectors.
    ///
    /// Shapes: `op(A)` is `m × n`, `x` has `n` elements, `y` has `m`.
    @inlinable
    public static func gemv(_ a: MatrixView, x: UnsafePointer<Float>, xCount: Int,
                            into y: UnsafeMutablePointer<Float>, yCount: Int,
                            transposeA: Bool = false, alpha: Float = 1, beta: Float = 0) {
        let m = transposeA ? a.cols : a.rows
        let n = transposeA ? a.rows : a.cols
        precondition(xCount == n && yCount == m, "gemv: op(A) is \(m) × \(n), x has \(xCount), y has \(yCount)")
        if m == 0 { return }
        if n == 0 {
            for i in 0..<m { y[i] = beta == 0 ? 0 : beta * y[i] }
            return
        }
        cblas_sgemv(CblasRowMajor, cblasTranspose(transposeA), Int32(a.rows), Int32(a.cols), alpha,
                    a.data, Int32(a.ld), x, 1, beta, y, 1)
    }

    /// `y += alpha * x` over `count` contiguous elements.
    @inlinable
    public static func axpy(count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        if count == 0 { return }
        cblas_saxpy(Int32(count), alpha, x, 1, y, 1)
    }

    /// `Σ x_i y_i` over `count` contiguous elements, accumulated in double precision.
    ///
    /// Each product `x_i · y_i` is exact in `Double` (24 + 24 significant bits),
    /// so the only rounding is that of the double-precision sums (eight
    /// interleaved partial sums, combined in a fixed order: deterministic).
    ///
    /// Not `cblas_dsdot`: OpenBLAS's x86_64 `dsdot` (checked: Debian's 0.3.21,
    /// Zen kernels) adds up products in single precision before widening, which
    /// gives single-precision accuracy (relative error ~4e-8 on a 37-element
    /// dot product where double accumulation is exact to 1e-16).
    @inlinable
    public static func dotDouble(count: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>) -> Double {
        var low = SIMD4<Double>(), high = SIMD4<Double>()
        var i = 0
        while i + 8 <= count {
            let xs = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            let ys = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            low += SIMD4<Double>(xs.lowHalf) * SIMD4<Double>(ys.lowHalf)
            high += SIMD4<Double>(xs.highHalf) * SIMD4<Double>(ys.highHalf)
            i += 8
        }
        var tail = 0.0
        while i < count {
            tail += Double(x[i]) * Double(y[i])
            i += 1
        }
        let sum = low + high
        return ((sum[0] + sum[1]) + (sum[2] + sum[3])) + tail
    }

    /// `x · y` over `count` contiguous doubles (`cblas_ddot`).
    @inlinable
    public static func dot(count: Int, x: UnsafePointer<Double>, y: UnsafePointer<Double>) -> Double {
        if count == 0 { return 0 }
        return cblas_ddot(Int32(count), x, 1, y, 1)
    }

    /// `Σ x_i y_i` in single precision.
    @inlinable
    public static func dot(count: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>) -> Float {
        if count == 0 { return 0 }
        return cblas_sdot(Int32(count), x, 1, y, 1)
    }

    /// Multiplies every element of a view by `factor`.
    @inlinable
    public static func scale(_ v: MatrixView, by factor: Float) {
        if v.isContiguous {
            if v.count > 0 { cblas_sscal(Int32(v.count), factor, v.data, 1) }
        } else {
            for r in 0..<v.rows { cblas_sscal(Int32(v.cols), factor, v.row(r), 1) }
        }
    }

    /// Number of threads OpenBLAS uses for one call (1 = single-threaded).
    ///
    /// Setting it changes the process-wide OpenBLAS pool; results of one run
    /// are deterministic for a given thread count.
    public static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set {
            precondition(newValue >= 1, "OpenBLAS thread count must be >= 1, got \(newValue)")
            openblas_set_num_threads(Int32(newValue))
        }
    }

    /// OpenBLAS build configuration string (version, kernel architecture).
    public static var configuration: String {
        guard let c = openblas_get_config() else { return "unknown" }
        return String(cString: c)
    }

    /// Name of the CPU kernel set OpenBLAS selected (e.g. "Haswell", "Zen").
    public static var coreName: String {
        guard let c = openblas_get_corename() else { return "unknown" }
        return String(cString: c)
    }
}
