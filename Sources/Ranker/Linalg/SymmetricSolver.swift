import CBLAS

/// A LAPACK routine reported a failure that is not a programming error.
public struct LAPACKError: Error, CustomStringConvertible {
    /// The routine, e.g. `"LAPACKE_dsyevd"`.
    public let call: String
    /// LAPACK's `info` value.
    public let info: Int32
    /// What it means and what to check.
    public let hint: String

    public var description: String { "\(call) failed with info = \(info): \(hint)" }
}

/// The matrix handed to `SymmetricSolver` holds NaN or infinity (in the upper
/// triangle, the part it reads): usually non-finite gradients upstream.
public struct NonFiniteMatrixError: Error, Equatable, CustomStringConvertible {
    public let row: Int
    public let column: Int
    public let value: Double

    public var description: String {
        "symmetric solve: matrix entry (\(row), \(column)) is \(value); the Gram matrix of non-finite gradients?"
    }
}

/// Solves small symmetric positive (semi)definite systems `A x = b` in double
/// precision (ALGORITHMS.md 6.1.3), reusing its workspace across calls.
///
/// Procedure for an `n × n` matrix `A` (only the upper triangle is read):
/// 1. eigenvalues of `A` (`dsyevd`, values only);
/// 2. if `λ_min > rcond · λ_max` (with `rcond = 1e-10`), Cholesky (`dpotrf`) and
///    triangular solves (`dpotrs`);
/// 3. otherwise, or if Cholesky fails, the pseudo-inverse from the symmetric
///    eigendecomposition (`dsyevd` with vectors), dropping eigenvalues
///    `≤ rcond · λ_max`. This is the minimum-norm least-squares solution.
///
/// `n = 0` is a no-op; an all-zero `A` gives `x = 0` through the fallback.
public final class SymmetricSolver {
    /// Relative eigenvalue threshold below which `A` is treated as singular.
    public let rcond: Double
    private var capacity: Int
    private var a: [Double]
    private var eigenvalues: [Double]
    private var rhs: [Double]

    public init(capacity: Int = 8, rcond: Double = 1e-10) {
        precondition(capacity >= 1 && rcond >= 0)
        self.rcond = rcond
        self.capacity = capacity
        a = [Double](repeating: 0, count: capacity * capacity)
        eigenvalues = [Double](repeating: 0, count: capacity)
        rhs = [Double](repeating: 0, count: capacity)
    }

    private func reserve(_ n: Int) {
        if n <= capacity { return }
        capacity = n
        a = [Double](repeating: 0, count: n * n)
        eigenvalues = [Double](repeating: 0, count: n)
        rhs = [Double](repeating: 0, count: n)
    }

    /// Solves `A x = b`, overwriting `b` with `x`.
    ///
    /// - Parameters:
    ///   - matrix: `n × n` row-major symmetric matrix (not modified).
    ///   - n: order of the system.
    ///   - b: right-hand side on entry, solution on exit (`n` values).
    /// - Returns: `true` when the pseudo-inverse fallback was used.
    /// - Throws: `NonFiniteMatrixError` when the upper triangle holds NaN or
    ///   infinity (LAPACKE would reject NaN as an illegal argument, and an
    ///   infinity would end in NaN eigenvalues and a silent `x = 0`);
    ///   `LAPACKError` when the eigenvalue iteration fails.
    @discardableResult
    public func solve(matrix: UnsafePointer<Double>, n: Int, b: UnsafeMutablePointer<Double>) throws -> Bool {
        precondition(n >= 0)
        if n == 0 { return false }
        for r in 0..<n {
            for c in r..<n where !matrix[r * n + c].isFinite {
                throw NonFiniteMatrixError(row: r, column: c, value: matrix[r * n + c])
            }
        }
        reserve(n)
        // 1. Eigenvalues only, to decide between Cholesky and the pseudo-inverse.
        try decompose(matrix, n: n, vectors: false)
        let lambdaMax = eigenvalues[n - 1]
        let lambdaMin = eigenvalues[0]
        let wellConditioned = lambdaMax > 0 && lambdaMin > rcond * lambdaMax

        // 2. Cholesky when A is comfortably positive definite.
        if wellConditioned {
            a.withUnsafeMutableBufferPointer { ap in
                ap.baseAddress!.update(from: matrix, count: n * n)
            }
            var info = a.withUnsafeMutableBufferPointer { ap in
                LAPACKE_dpotrf(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "U")), Int32(n), ap.baseAddress, Int32(n))
            }
            precondition(info >= 0, "LAPACKE_dpotrf: illegal argument \(-info)")
            if info == 0 {
                info = a.withUnsafeMutableBufferPointer { ap in
                    LAPACKE_dpotrs(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "U")), Int32(n), 1,
                                   ap.baseAddress, Int32(n), b, 1)
                }
                precondition(info == 0, "LAPACKE_dpotrs: illegal argument \(-info)")
                return false
            }
            // info > 0: not positive definite after all; fall through.
        }

        // 3. Pseudo-inverse from the eigendecomposition A = V diag(λ) Vᵀ.
        try decompose(matrix, n: n, vectors: true)
        let top = eigenvalues[n - 1]
        let cutoff = rcond * top
        // x = Σ_{λ_i > cutoff} v_i (v_iᵀ b) / λ_i ; eigenvector i is column i of the row-major V.
        for i in 0..<n { rhs[i] = b[i]; b[i] = 0 }
        if top > 0 {
            for i in 0..<n where eigenvalues[i] > cutoff {
                var projection = 0.0
                for r in 0..<n { projection += a[r * n + i] * rhs[r] }
                let coefficient = projection / eigenvalues[i]
                for r in 0..<n { b[r] += coefficient * a[r * n + i] }
            }
        }
        return true
    }

    /// Copies `matrix` into `a` and runs `dsyevd` on it: the eigenvalues go
    /// to `eigenvalues` (ascending) and, with `vectors`, the eigenvectors
    /// replace `a` (column `i` of the row-major result is vector `i`).
    private func decompose(_ matrix: UnsafePointer<Double>, n: Int, vectors: Bool) throws {
        a.withUnsafeMutableBufferPointer { ap in
            ap.baseAddress!.update(from: matrix, count: n * n)
        }
        let job = CChar(UInt8(ascii: vectors ? "V" : "N"))
        let info = a.withUnsafeMutableBufferPointer { ap in
            eigenvalues.withUnsafeMutableBufferPointer { wp in
                LAPACKE_dsyevd(LAPACK_ROW_MAJOR, job, CChar(UInt8(ascii: "U")),
                               Int32(n), ap.baseAddress, Int32(n), wp.baseAddress)
            }
        }
        precondition(info >= 0, "LAPACKE_dsyevd: illegal argument \(-info)")
        if info > 0 {
            throw LAPACKError(call: "LAPACKE_dsyevd", info: info,
                              hint: "the eigenvalue iteration did not converge; the matrix holds NaN or infinity?")
        }
    }

    /// Array convenience: returns `x` and whether the pseudo-inverse was used.
    public func solve(matrix: [Double], n: Int, b: [Double]) throws -> (x: [Double], usedPseudoInverse: Bool) {
        precondition(matrix.count == n * n && b.count == n, "solve: need \(n * n) matrix entries and \(n) rhs values")
        if n == 0 { return ([], false) }
        var x = b
        let fallback = try matrix.withUnsafeBufferPointer { mp in
            try x.withUnsafeMutableBufferPointer { xp in
                try solve(matrix: mp.baseAddress!, n: n, b: xp.baseAddress!)
            }
        }
        return (x, fallback)
    }
}
