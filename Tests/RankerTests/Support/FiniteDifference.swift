import Foundation
import XCTest
@testable import Ranker

/// Central finite differences, the independent oracle for every hand-written
/// backward pass: `(f(θ + h) - f(θ - h)) / 2h` per coordinate, compared with
/// the analytic gradient at `|fd - an| <= atol + rtol · max(|fd|, |an|)`.
///
/// The loss closure must recompute the scalar from scratch (full forward) and
/// should accumulate in double precision; the parameters are `Float`, so `h`
/// around 1e-3 and `rtol` around 1e-2 are the useful range.
enum FiniteDifference {
    struct Mismatch: CustomStringConvertible {
        let name: String
        let index: Int
        let analytic: Double
        let numeric: Double
        var description: String { "\(name)[\(index)]: analytic \(analytic), finite difference \(numeric)" }
    }

    /// Checks `analytic` (one value per coordinate of `values`) against central
    /// differences of `loss`. At most `maxCoordinates` coordinates are probed
    /// (evenly spread, always including the first and last).
    static func check(name: String,
                      values: UnsafeMutablePointer<Float>, count: Int,
                      analytic: [Double],
                      h: Float = 1e-3, rtol: Double = 2e-2, atol: Double = 2e-5,
                      maxCoordinates: Int = 64,
                      loss: () -> Double) -> [Mismatch] {
        precondition(analytic.count == count, "\(name): \(analytic.count) analytic values for \(count) coordinates")
        var mismatches: [Mismatch] = []
        let indices: [Int]
        if count <= maxCoordinates {
            indices = Array(0..<count)
        } else {
            indices = (0..<maxCoordinates).map { $0 * (count - 1) / (maxCoordinates - 1) }
        }
        for i in indices {
            let saved = values[i]
            values[i] = saved + h
            let plus = loss()
            values[i] = saved - h
            let minus = loss()
            values[i] = saved
            // Use the step actually representable in Float.
            let step = Double(saved + h) - Double(saved - h)
            let numeric = (plus - minus) / step
            let a = analytic[i]
            if !(abs(numeric - a) <= atol + rtol * max(abs(numeric), abs(a))) {
                mismatches.append(Mismatch(name: name, index: i, analytic: a, numeric: numeric))
            }
        }
        return mismatches
    }

    /// Asserts that `check` finds no mismatch.
    static func assertGradient(name: String,
                               values: UnsafeMutablePointer<Float>, count: Int,
                               analytic: [Double],
                               h: Float = 1e-3, rtol: Double = 2e-2, atol: Double = 2e-5,
                               maxCoordinates: Int = 64,
                               file: StaticString = #filePath, line: UInt = #line,
                               loss: () -> Double) {
        let m = check(name: name, values: values, count: count, analytic: analytic, h: h, rtol: rtol, atol: atol,
                      maxCoordinates: maxCoordinates, loss: loss)
        for mismatch in m.prefix(10) { XCTFail(mismatch.description, file: file, line: line) }
        if m.count > 10 { XCTFail("\(name): \(m.count - 10) more mismatches", file: file, line: line) }
    }
}

/// Small helpers shared by tests.
enum TestData {
    /// A matrix with entries from `N(0, scale²)` drawn from a seeded generator.
    static func randomMatrix(rows: Int, cols: Int, seed: UInt64, scale: Double = 1) -> Matrix {
        var rng = RandomGenerator(seed: seed)
        let m = Matrix(rows: rows, cols: cols)
        for i in 0..<m.count { m.data[i] = Float(rng.normal() * scale) }
        return m
    }

    /// `Σ w_i v_i` in double precision: a fixed random linear functional, used
    /// to turn a matrix output into a scalar loss for gradient checks.
    static func weightedSum(_ v: MatrixView, weights: [Double]) -> Double {
        precondition(weights.count == v.count)
        var s = 0.0
        var k = 0
        for r in 0..<v.rows { for c in 0..<v.cols { s += weights[k] * Double(v[r, c]); k += 1 } }
        return s
    }
}
