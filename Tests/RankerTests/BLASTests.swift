import XCTest
@testable import Ranker

/// The CBLAS wrappers against naive double-precision loops: every transpose
/// combination, alpha/beta, odd sizes, and views whose leading dimension is
/// larger than their width (column blocks of wider matrices), checking that
/// nothing outside the destination block is written.
final class BLASTests: XCTestCase {
    /// A `rows × cols` block at column `offset` of a wider random matrix
    /// (`ld = cols + offset + 3`), so the view is never contiguous.
    private struct Embedded {
        let storage: Matrix
        let view: MatrixView
        init(rows: Int, cols: Int, offset: Int, seed: UInt64) {
            storage = TestData.randomMatrix(rows: max(rows, 1), cols: cols + offset + 3, seed: seed)
            view = storage.view.rows(0..<rows).cols(offset..<(offset + cols))
        }
    }

    /// `alpha · op(A) op(B) + beta · C`, element `(i, j)`, in double, with the
    /// error scale `Σ |alpha a b| + |beta c|` for the tolerance: a float
    /// result carries at most about `(k + 2)` roundings of `2⁻²⁴` times that
    /// scale, so `3e-6 · scale` bounds it for `k ≤ 33`.
    private func reference(_ a: MatrixView, _ b: MatrixView, _ c: [[Double]], transposeA: Bool, transposeB: Bool,
                           alpha: Double, beta: Double, i: Int, j: Int) -> (value: Double, scale: Double) {
        let k = transposeA ? a.rows : a.cols
        var sum = 0.0, scale = 0.0
        for l in 0..<k {
            let av = Double(transposeA ? a[l, i] : a[i, l])
            let bv = Double(transposeB ? b[j, l] : b[l, j])
            sum += av * bv
            scale += abs(alpha * av * bv)
        }
        let value = alpha * sum + (beta == 0 ? 0 : beta * c[i][j])
        return (value, scale + abs(beta * c[i][j]))
    }

    func testGemmMatchesNaiveLoopsForAllTransposes() {
        let sizes = [1, 3, 17, 33]
        let scalars: [(Float, Float)] = [(1, 0), (0.5, -1.5), (-2, 1)]
        var seed: UInt64 = 100
        var checked = 0
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                for (mi, m) in sizes.enumerated() {
                    for n in sizes {
                        // Every k for a few (m, n), one k otherwise: all sizes meet every role.
                        let ks = (mi + n) % 2 == 0 ? sizes : [sizes[(mi + n) % sizes.count]]
                        for k in ks {
                            let (alpha, beta) = scalars[checked % scalars.count]
                            seed += 1
                            let a = Embedded(rows: transposeA ? k : m, cols: transposeA ? m : k, offset: 1, seed: seed)
                            let b = Embedded(rows: transposeB ? n : k, cols: transposeB ? k : n, offset: 2, seed: seed + 1000)
                            let c = Embedded(rows: m, cols: n, offset: 3, seed: seed + 2000)
                            let before = c.storage.toArray()
                            let c0 = (0..<m).map { i in (0..<n).map { j in Double(c.view[i, j]) } }
                            BLAS.gemm(a.view, b.view, into: c.view, transposeA: transposeA, transposeB: transposeB,
                                      alpha: alpha, beta: beta)
                            for i in 0..<m {
                                for j in 0..<n {
                                    let r = reference(a.view, b.view, c0, transposeA: transposeA, transposeB: transposeB,
                                                      alpha: Double(alpha), beta: Double(beta), i: i, j: j)
                                    let got = Double(c.view[i, j])
                                    if !(abs(got - r.value) <= 3e-6 * r.scale + 1e-30) {
                                        XCTFail("gemm tA=\(transposeA) tB=\(transposeB) m=\(m) n=\(n) k=\(k) α=\(alpha) β=\(beta) (\(i),\(j)): \(got) vs \(r.value)")
                                        return
                                    }
                                }
                            }
                            // Outside the C block: untouched.
                            let after = c.storage.toArray()
                            let ld = c.storage.cols
                            for idx in 0..<after.count {
                                let row = idx / ld, col = idx % ld
                                if row < m && col >= 3 && col < 3 + n { continue }
                                XCTAssertEqual(after[idx], before[idx], "gemm wrote outside C at (\(row), \(col))")
                            }
                            checked += 1
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 100)
    }

    /// `beta = 0` overwrites C, so NaN already there does not propagate; `k = 0`
    /// gives `C = beta · C`.
    func testGemmBetaZeroAndEmptyInnerDimension() {
        let a = TestData.randomMatrix(rows: 3, cols: 2, seed: 1)
        let b = TestData.randomMatrix(rows: 2, cols: 4, seed: 2)
        let c = Matrix(rows: 3, cols: 4)
        c.fill(.nan)
        BLAS.gemm(a.view, b.view, into: c.view)
        XCTAssert(c.toArray().allSatisfy { $0.isFinite })

        let empty = Matrix(rows: 3, cols: 0)
        let emptyB = Matrix(rows: 0, cols: 4)
        let d = Matrix(rows: 3, cols: 4)
        d.fill(2)
        BLAS.gemm(empty.view, emptyB.view, into: d.view, beta: 0.5)
        XCTAssertEqual(d.toArray(), [Float](repeating: 1, count: 12))
        d.fill(.nan)
        BLAS.gemm(empty.view, emptyB.view, into: d.view)
        XCTAssertEqual(d.toArray(), [Float](repeating: 0, count: 12))
    }

    func testGemvBothWays() {
        for (m, n) in [(1, 1), (3, 17), (17, 3), (33, 33)] {
            let a = Embedded(rows: m, cols: n, offset: 2, seed: UInt64(m * 100 + n))
            for transposeA in [false, true] {
                let xCount = transposeA ? m : n, yCount = transposeA ? n : m
                let x = TestData.randomMatrix(rows: 1, cols: xCount, seed: 7).toArray()
                let y0 = TestData.randomMatrix(rows: 1, cols: yCount, seed: 8).toArray()
                for (alpha, beta) in [(Float(1), Float(0)), (-0.5, 2)] {
                    var y = y0
                    x.withUnsafeBufferPointer { xp in
                        y.withUnsafeMutableBufferPointer { yp in
                            BLAS.gemv(a.view, x: xp.baseAddress!, xCount: xCount, into: yp.baseAddress!, yCount: yCount,
                                      transposeA: transposeA, alpha: alpha, beta: beta)
                        }
                    }
                    for i in 0..<yCount {
                        var sum = 0.0, scale = 0.0
                        for l in 0..<xCount {
                            let av = Double(transposeA ? a.view[l, i] : a.view[i, l])
                            sum += av * Double(x[l])
                            scale += abs(Double(alpha) * av * Double(x[l]))
                        }
                        let expected = Double(alpha) * sum + Double(beta) * Double(y0[i])
                        XCTAssertEqual(Double(y[i]), expected, accuracy: 3e-6 * (scale + abs(Double(beta * y0[i]))) + 1e-30,
                                       "gemv m=\(m) n=\(n) tA=\(transposeA) α=\(alpha) β=\(beta) [\(i)]")
                    }
                }
            }
        }
    }

    func testLevelOneHelpers() {
        let x = TestData.randomMatrix(rows: 1, cols: 37, seed: 3)
        let y = TestData.randomMatrix(rows: 1, cols: 37, seed: 4)
        var exact = 0.0
        for i in 0..<37 { exact += Double(x.data[i]) * Double(y.data[i]) }
        XCTAssertEqual(BLAS.dotDouble(count: 37, x: x.data, y: y.data), exact, accuracy: 1e-12)
        XCTAssertEqual(Double(BLAS.dot(count: 37, x: x.data, y: y.data)), exact, accuracy: 1e-5)
        XCTAssertEqual(BLAS.dotDouble(count: 0, x: x.data, y: y.data), 0)
        // Cancellation that single-precision accumulation gets wrong (1e8 + 1 rounds to 1e8 in Float).
        for count in [3, 8, 19] {
            var big = [Float](repeating: 0, count: count), ones = [Float](repeating: 1, count: count)
            big[0] = 1e8; big[1] = 1; big[count - 1] = -1e8
            XCTAssertEqual(BLAS.dotDouble(count: count, x: &big, y: &ones), 1, "count \(count)")
        }

        let before = y.toArray()
        BLAS.axpy(count: 37, alpha: -1.5, x: x.data, y: y.data)
        for i in 0..<37 { XCTAssertEqual(y.data[i], before[i] - 1.5 * x.data[i], accuracy: 1e-6) }

        // scale on a non-contiguous column block leaves the other columns alone.
        let m = Matrix(rows: 3, cols: 4, values: (0..<12).map(Float.init))
        BLAS.scale(m.view.cols(1..<3), by: 2)
        XCTAssertEqual(m.toArray(), [0, 2, 4, 3, 4, 10, 12, 7, 8, 18, 20, 11])
        BLAS.scale(m.view, by: 0.5)
        XCTAssertEqual(m.toArray(), [0, 1, 2, 1.5, 2, 5, 6, 3.5, 4, 9, 10, 5.5])
    }

    func testThreadCountRoundTrips() {
        let original = BLAS.threadCount
        BLAS.threadCount = 1
        XCTAssertEqual(BLAS.threadCount, 1)
        BLAS.threadCount = original
        XCTAssertEqual(BLAS.threadCount, original)
    }
}
