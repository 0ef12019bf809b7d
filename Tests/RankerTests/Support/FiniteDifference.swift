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
        func centralDifference(_ i: Int, _ step: Float) -> Double {
            let saved = values[i]
            values[i] = saved + step
            let plus = loss()
            values[i] = saved - step
            let minus = loss()
            values[i] = saved
            // Use the step actually representable in Float.
            return (plus - minus) / (Double(saved + step) - Double(saved - step))
        }
        for i in indices {
            let a = analytic[i]
            func agrees(_ numeric: Double) -> Bool { abs(numeric - a) <= atol + rtol * max(abs(numeric), abs(a)) }
            // A ReLU kink within h of the point spoils the difference at h but not
            // at h/10; float32 rounding spoils h/10 first. A correct gradient
            // agrees with at least one of them, a wrong one with neither.
            let numeric = centralDifference(i, h)
            if agrees(numeric) { continue }
            let fine = centralDifference(i, h / 10)
            if agrees(fine) { continue }
            mismatches.append(Mismatch(name: name, index: i, analytic: a, numeric: numeric))
        }
        return mismatches
    }

    /// Directional derivative along a seeded random direction `v`:
    /// returns `((f(θ + h v) − f(θ − h v)) / 2h, <g, v>)`. Aggregating all
    /// coordinates makes this far less noisy than one coordinate at a time.
    /// Several differences are computed (central at `h` and `h/10`, one-sided
    /// at `h/10`); the one closest to the analytic value is returned: near a
    /// ReLU kink some of them are spoiled, but a wrong gradient matches none.
    static func directional(values: UnsafeMutablePointer<Float>, count: Int, analytic: [Double],
                            seed: UInt64, h: Float = 1e-3, loss: () -> Double) -> (numeric: Double, analytic: Double) {
        var rng = RandomGenerator(seed: seed)
        let direction = (0..<count).map { _ in Float(rng.normal()) }
        let saved = (0..<count).map { values[$0] }
        func evaluate(at step: Float) -> Double {
            for i in 0..<count { values[i] = saved[i] + step * direction[i] }
            let value = loss()
            for i in 0..<count { values[i] = saved[i] }
            return value
        }
        var dot = 0.0
        for i in 0..<count { dot += analytic[i] * Double(direction[i]) }
        let center = loss()
        let fine = h / 10
        let (plus, minus) = (evaluate(at: h), evaluate(at: -h))
        let (finePlus, fineMinus) = (evaluate(at: fine), evaluate(at: -fine))
        // Central differences at h and h/10, and one-sided ones at h/10 (a kink
        // on one side leaves the other side's difference exact to O(h)).
        let candidates = [(plus - minus) / (2 * Double(h)), (finePlus - fineMinus) / (2 * Double(fine)),
                          (finePlus - center) / Double(fine), (center - fineMinus) / Double(fine)]
        let best = candidates.min { abs($0 - dot) < abs($1 - dot) }!
        return (best, dot)
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
