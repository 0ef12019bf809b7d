import Foundation
import XCTest
@testable import Ranker

/// RandomGenerator: the published algorithms (known answers from an
/// independent reference implementation), determinism and resumption, and
/// loose distribution checks.
final class RandomGeneratorTests: XCTestCase {
    /// SplitMix64 seeding and xoshiro256** output, from the reference
    /// algorithms (Vigna) run independently in Python. The seed-0 state is the
    /// well-known SplitMix64 sequence `e220a8397b1dcdaf, 6e789e6aa1b965f4, …`.
    func testKnownAnswers() {
        XCTAssertEqual(RandomGenerator(seed: 0).state,
                       [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC])
        var zero = RandomGenerator(seed: 0)
        XCTAssertEqual((0..<5).map { _ in zero.nextUInt64() },
                       [0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A, 0x1A5F_849D_4933_E6E0,
                        0x6AA5_94F1_262D_2D2C, 0xBBA5_AD4A_1F84_2E59])
        var fortyTwo = RandomGenerator(seed: 42)
        XCTAssertEqual((0..<3).map { _ in fortyTwo.nextUInt64() },
                       [0x1578_0B2E_0C2E_C716, 0x6104_D986_6D11_3A7E, 0xAE17_5332_39E4_99A1])
        var unit = RandomGenerator(seed: 42)
        XCTAssertEqual(unit.nextDouble(), Double(0x1578_0B2E_0C2E_C716 >> 11) * 0x1.0p-53)
    }

    func testSameSeedSameSequenceAndDifferentSeedsDiffer() {
        var a = RandomGenerator(seed: 123), b = RandomGenerator(seed: 123), c = RandomGenerator(seed: 124)
        let sa = (0..<100).map { _ in a.nextUInt64() }
        XCTAssertEqual(sa, (0..<100).map { _ in b.nextUInt64() })
        XCTAssertNotEqual(sa, (0..<100).map { _ in c.nextUInt64() })
        var p = RandomGenerator(seed: 5), q = RandomGenerator(seed: 5)
        XCTAssertEqual(p.permutation(50), q.permutation(50))
        XCTAssertEqual(p.normal(), q.normal())
    }

    /// A generator restored from its encoded state continues the same sequence.
    func testCodableStateResumesTheSequence() throws {
        var original = RandomGenerator(seed: 77)
        for _ in 0..<13 { _ = original.nextUInt64() }
        let data = try JSONEncoder().encode(original)
        var restored = try JSONDecoder().decode(RandomGenerator.self, from: data)
        XCTAssertEqual(restored, original)
        XCTAssertEqual((0..<20).map { _ in restored.nextUInt64() }, (0..<20).map { _ in original.nextUInt64() })
        var fromState = RandomGenerator(state: original.state)
        XCTAssertEqual(fromState.nextUInt64(), original.nextUInt64())
    }

    /// 200k standard normals: mean within ±0.015 (≈ 7 standard errors) and
    /// variance within ±0.03; about 68.3% within one sd and 95.4% within two.
    func testNormalMoments() {
        var rng = RandomGenerator(seed: 2024)
        let n = 200_000
        var sum = 0.0, sumSquares = 0.0, within1 = 0, within2 = 0, nonFinite = 0
        for _ in 0..<n {
            let x = rng.normal()
            if !x.isFinite { nonFinite += 1 }
            sum += x
            sumSquares += x * x
            if abs(x) < 1 { within1 += 1 }
            if abs(x) < 2 { within2 += 1 }
        }
        XCTAssertEqual(nonFinite, 0)
        let mean = sum / Double(n)
        let variance = sumSquares / Double(n) - mean * mean
        XCTAssertEqual(mean, 0, accuracy: 0.015)
        XCTAssertEqual(variance, 1, accuracy: 0.03)
        XCTAssertEqual(Double(within1) / Double(n), 0.6827, accuracy: 0.01)
        XCTAssertEqual(Double(within2) / Double(n), 0.9545, accuracy: 0.01)
        var shifted = RandomGenerator(seed: 1)
        var s = 0.0
        for _ in 0..<50_000 { s += shifted.normal(mean: 3, standardDeviation: 0.5) }
        XCTAssertEqual(s / 50_000, 3, accuracy: 0.02)
    }

    func testUniformRangesAndMoments() {
        var rng = RandomGenerator(seed: 8)
        var sum = 0.0, outOfRange = 0
        for _ in 0..<100_000 {
            let d = rng.nextDouble()
            sum += d
            let f = rng.nextFloat()
            let u = rng.uniform(-2, 3)
            if !(d >= 0 && d < 1 && f >= 0 && f < 1 && u >= -2 && u < 3) { outOfRange += 1 }
        }
        XCTAssertEqual(outOfRange, 0)
        XCTAssertEqual(sum / 100_000, 0.5, accuracy: 0.01)
    }

    /// `nextInt(below:)`: in range, every value hit about equally often
    /// (chi-square with 6 degrees of freedom far below its 0.1% point 22.5),
    /// bound 1 always 0, a huge bound stays in range.
    func testNextIntIsUniformAndInRange() {
        var rng = RandomGenerator(seed: 99)
        let bound = 7, draws = 70_000
        var counts = [Int](repeating: 0, count: bound)
        for _ in 0..<draws {
            let k = rng.nextInt(below: bound)
            guard k >= 0 && k < bound else { return XCTFail("nextInt(below: 7) gave \(k)") }
            counts[k] += 1
        }
        let expected = Double(draws) / Double(bound)
        let chiSquare = counts.reduce(0.0) { $0 + pow(Double($1) - expected, 2) / expected }
        XCTAssertLessThan(chiSquare, 22.5)
        XCTAssertEqual(rng.nextInt(below: 1), 0)
        for _ in 0..<1000 {
            let k = rng.nextInt(below: Int.max)
            XCTAssert(k >= 0 && k < Int.max)
        }
    }

    func testShuffleIsAPermutation() {
        var rng = RandomGenerator(seed: 3)
        var a = Array(0..<100)
        rng.shuffle(&a)
        XCTAssertEqual(a.sorted(), Array(0..<100))
        XCTAssertNotEqual(a, Array(0..<100))
        XCTAssertEqual(rng.permutation(30).sorted(), Array(0..<30))
        var single = [5]
        rng.shuffle(&single)
        XCTAssertEqual(single, [5])
        XCTAssertEqual(rng.permutation(0), [])
        // Every position of a 4-permutation is uniform: each value at position 0 about 1/4 of the time.
        var first = [Int](repeating: 0, count: 4)
        for _ in 0..<20_000 { first[rng.permutation(4)[0]] += 1 }
        for c in first { XCTAssertEqual(Double(c) / 20_000, 0.25, accuracy: 0.02) }
    }

    /// The bulk draw dropout uses is `nextFloat()` repeated: same values, same final state.
    func testFillUniformFloatsIsNextFloatRepeated() {
        var one = RandomGenerator(seed: 12)
        var bulk = one
        let expected = (0..<1000).map { _ in one.nextFloat() }
        var values = [Float](repeating: -1, count: 1000)
        values.withUnsafeMutableBufferPointer { bulk.fillUniformFloats($0.baseAddress!, count: 1000) }
        XCTAssertEqual(values, expected)
        XCTAssertEqual(bulk, one)
        XCTAssertEqual(bulk.nextUInt64(), one.nextUInt64())
    }
}
