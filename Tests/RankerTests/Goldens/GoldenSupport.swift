import Foundation
import XCTest

/// A golden JSON value with typed accessors. JSON `null` stands for NaN or
/// infinity (ALGORITHMS.md 10), so numeric accessors map it to `.nan`.
struct GoldenValue {
    let raw: Any?
    let path: String

    init(_ raw: Any?, path: String) {
        self.raw = raw
        self.path = path
    }

    subscript(key: String) -> GoldenValue {
        let dict = raw as? [String: Any]
        return GoldenValue(dict?[key], path: path + "." + key)
    }

    subscript(index: Int) -> GoldenValue {
        let array = raw as? [Any]
        return GoldenValue(index < (array?.count ?? 0) ? array![index] : nil, path: path + "[\(index)]")
    }

    var exists: Bool { raw != nil && !(raw is NSNull) }
    var isNull: Bool { raw is NSNull }
    var keys: [String] { ((raw as? [String: Any])?.keys).map { Array($0).sorted() } ?? [] }
    var count: Int { (raw as? [Any])?.count ?? 0 }
    var array: [GoldenValue] { (0..<count).map { self[$0] } }

    /// A number; `null` gives NaN. Fails the test if the value is missing or not numeric.
    var double: Double {
        if raw is NSNull { return .nan }
        if let n = raw as? NSNumber { return n.doubleValue }
        XCTFail("golden \(path): expected a number, found \(String(describing: raw))")
        return .nan
    }

    var doubleOrNil: Double? { exists ? double : nil }
    var float: Float { Float(double) }
    var int: Int { Int(double) }
    var bool: Bool {
        if let b = raw as? Bool { return b }
        if let n = raw as? NSNumber { return n.boolValue }
        XCTFail("golden \(path): expected a boolean, found \(String(describing: raw))")
        return false
    }

    var string: String {
        if let s = raw as? String { return s }
        XCTFail("golden \(path): expected a string, found \(String(describing: raw))")
        return ""
    }

    var stringOrNil: String? { raw as? String }

    /// A flat array of numbers (`null` → NaN).
    var doubles: [Double] { array.map { $0.double } }
    var floats: [Float] { array.map { $0.float } }
    var ints: [Int] { array.map { $0.int } }
    /// A nested array of numbers.
    var doubleRows: [[Double]] { array.map { $0.doubles } }
    var floatRows: [[Float]] { array.map { $0.floats } }
    /// Nested arrays flattened (row-major).
    var flatDoubles: [Double] {
        if let a = raw as? [Any], a.first is [Any] { return array.flatMap { $0.flatDoubles } }
        return doubles
    }
}

/// Collects comparisons of one golden file and their failures.
final class GoldenChecker {
    let file: String
    private(set) var checks = 0
    private(set) var failures: [String] = []

    init(file: String) { self.file = file }

    /// `|actual - expected| <= atol + rtol·|expected|`; a NaN expectation
    /// (`null` in JSON) requires a non-finite actual value.
    func close(_ actual: Double, _ expected: Double, rtol: Double, atol: Double = 0, _ what: @autoclosure () -> String) {
        checks += 1
        if !expected.isFinite {
            if expected.isNaN ? !actual.isNaN : actual != expected {
                failures.append("\(what()): expected \(expected), got \(actual)")
            }
            return
        }
        let tolerance = atol + rtol * abs(expected)
        if !(abs(actual - expected) <= tolerance) {
            failures.append("\(what()): expected \(expected), got \(actual) (|diff| \(abs(actual - expected)) > \(tolerance))")
        }
    }

    func close(_ actual: [Double], _ expected: [Double], rtol: Double, atol: Double = 0, _ what: @autoclosure () -> String) {
        let label = what()
        guard actual.count == expected.count else {
            checks += 1
            failures.append("\(label): expected \(expected.count) values, got \(actual.count)")
            return
        }
        for i in 0..<actual.count { close(actual[i], expected[i], rtol: rtol, atol: atol, "\(label)[\(i)]") }
    }

    func close(_ actual: [Float], _ expected: [Double], rtol: Double, atol: Double = 0, _ what: @autoclosure () -> String) {
        close(actual.map(Double.init), expected, rtol: rtol, atol: atol, what())
    }

    /// Exact equality for discrete decisions (conflict sets, clip or not).
    func equal<T: Equatable>(_ actual: T, _ expected: T, _ what: @autoclosure () -> String) {
        checks += 1
        if actual != expected { failures.append("\(what()): expected \(expected), got \(actual)") }
    }

    func fail(_ message: String) {
        checks += 1
        failures.append(message)
    }
}

/// Tolerances of ALGORITHMS.md 8.
enum GoldenTolerance {
    /// Float64 Swift paths.
    static let double = (rtol: 1e-10, atol: 0.0)
    /// Float32 paths, single steps.
    static let floatStep = (rtol: 1e-5, atol: 1e-7)
    /// Float32 paths, multi-step sequences.
    static let floatSequence = (rtol: 1e-4, atol: 1e-7)
}
