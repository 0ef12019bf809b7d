import XCTest
@testable import Ranker

/// SymmetricSolver against systems solved by hand: SPD systems (Cholesky
/// path), singular systems (pseudo-inverse: the minimum-norm least-squares
/// solution, flag set), the zero matrix, n = 1 and n = 0.
final class SymmetricSolverTests: XCTestCase {
    private func assertSolves(_ matrix: [Double], _ b: [Double], expected: [Double], pseudoInverse: Bool,
                              solver: SymmetricSolver = SymmetricSolver(),
                              file: StaticString = #filePath, line: UInt = #line) throws {
        let n = b.count
        let result = try solver.solve(matrix: matrix, n: n, b: b)
        XCTAssertEqual(result.usedPseudoInverse, pseudoInverse, "pseudo-inverse flag", file: file, line: line)
        XCTAssertEqual(result.x.count, n, file: file, line: line)
        for i in 0..<n {
            XCTAssertEqual(result.x[i], expected[i], accuracy: 1e-12 * max(1, abs(expected[i])),
                           "x[\(i)]", file: file, line: line)
        }
    }

    func testTwoByTwoSPD() throws {
        // [[4, 2], [2, 3]]⁻¹ = [[3, -2], [-2, 4]] / 8, so x = [0.5, 0] for b = [2, 1].
        try assertSolves([4, 2, 2, 3], [2, 1], expected: [0.5, 0], pseudoInverse: false)
    }

    func testThreeByThreeSPD() throws {
        // Cramer's rule: det = 18, x = [4, 2, 26] / 18.
        try assertSolves([4, 1, 0,
                          1, 3, 1,
                          0, 1, 2], [1, 2, 3], expected: [2.0 / 9, 1.0 / 9, 13.0 / 9], pseudoInverse: false)
    }

    /// Only the upper triangle is read: garbage below the diagonal changes nothing.
    func testReadsOnlyTheUpperTriangle() throws {
        try assertSolves([4, 1, 0,
                          -99, 3, 1,
                          1e6, .nan, 2], [1, 2, 3], expected: [2.0 / 9, 1.0 / 9, 13.0 / 9], pseudoInverse: false)
    }

    /// The Gram matrix of gradients `g1 = g2 = (1, 2, 0)`, `g3 = (0, 1, 1)` is
    /// singular (rows 1 and 2 coincide) and `b` is inconsistent with it. The
    /// minimum-norm least-squares solution satisfies `A(Ax - b) = 0` and
    /// `x ⊥ (1, -1, 0)`; solved by hand, `x = (0, 0, 1)`.
    func testDuplicatedRowsGiveMinimumNormLeastSquares() throws {
        try assertSolves([5, 5, 2,
                          5, 5, 2,
                          2, 2, 2], [1, 3, 2], expected: [0, 0, 1], pseudoInverse: true)
        // Consistent singular systems: the minimum-norm exact solutions.
        try assertSolves([1, 1, 1, 1], [2, 2], expected: [1, 1], pseudoInverse: true)
        try assertSolves([1, 1, 1, 1], [2, 0], expected: [0.5, 0.5], pseudoInverse: true)
    }

    /// An eigenvalue below `rcond · λ_max` is dropped: `diag(1, 1e-12)` acts as `diag(1, 0)`.
    func testEigenvaluesBelowTheThresholdAreDropped() throws {
        try assertSolves([1, 0, 0, 1e-12], [1, 1], expected: [1, 0], pseudoInverse: true)
        // Just above the threshold: Cholesky, the exact inverse.
        try assertSolves([1, 0, 0, 1e-9], [1, 1e-9], expected: [1, 1], pseudoInverse: false)
    }

    func testZeroMatrixGivesZero() throws {
        try assertSolves([Double](repeating: 0, count: 9), [1, -2, 3], expected: [0, 0, 0], pseudoInverse: true)
    }

    func testOrderOneAndZero() throws {
        try assertSolves([4], [2], expected: [0.5], pseudoInverse: false)
        try assertSolves([0], [3], expected: [0], pseudoInverse: true)
        let empty = try SymmetricSolver().solve(matrix: [], n: 0, b: [])
        XCTAssertEqual(empty.x, [])
        XCTAssertFalse(empty.usedPseudoInverse)
    }

    /// Non-finite entries in the part that is read are a typed error, not a
    /// trap inside LAPACKE's NaN check and not a silent `x = 0`.
    func testNonFiniteMatrixThrows() {
        let cases: [([Double], Int, Int)] = [([.nan, 0, 0, 1], 0, 0), ([1, .infinity, .infinity, 1], 0, 1),
                                             ([1, 0, 0, -.infinity], 1, 1)]
        for (matrix, row, column) in cases {
            XCTAssertThrowsError(try SymmetricSolver().solve(matrix: matrix, n: 2, b: [1, 1])) { error in
                guard let e = error as? NonFiniteMatrixError else { return XCTFail("\(error)") }
                XCTAssertEqual(e.row, row)
                XCTAssertEqual(e.column, column)
            }
        }
    }

    /// A random SPD system larger than the initial workspace, then a small one
    /// with the same solver: the residual `Ax - b` vanishes.
    func testWorkspaceGrowsAndIsReused() throws {
        let solver = SymmetricSolver(capacity: 2)
        let n = 7
        var rng = RandomGenerator(seed: 5)
        let m = (0..<(n * n)).map { _ in rng.normal() }
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                var s = i == j ? 1.0 : 0.0
                for l in 0..<n { s += m[i * n + l] * m[j * n + l] }
                a[i * n + j] = s
            }
        }
        let b = (0..<n).map { _ in rng.normal() }
        let result = try solver.solve(matrix: a, n: n, b: b)
        XCTAssertFalse(result.usedPseudoInverse)
        for i in 0..<n {
            var r = -b[i]
            for j in 0..<n { r += a[i * n + j] * result.x[j] }
            XCTAssertEqual(r, 0, accuracy: 1e-10)
        }
        try assertSolves([4, 2, 2, 3], [2, 1], expected: [0.5, 0], pseudoInverse: false, solver: solver)
    }
}
