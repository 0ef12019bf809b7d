import Foundation
import XCTest
@testable import Ranker

/// `linear_init` (ALGORITHMS.md 3.2): the draws of each scheme, reproduced
/// from the generator by hand; the fan of MMoE's fused first expert layer; the
/// configuration key.
final class LinearInitializationTests: XCTestCase {
    /// Initialises a 7 → 5 layer with `scheme` and returns it beside a
    /// generator in the state the layer's initialisation started from.
    private func initializedLayer(_ scheme: LinearInitialization, seed: UInt64) -> (Dense, RandomGenerator) {
        var rng = RandomGenerator(seed: seed)
        let reference = rng
        let dense = Dense(name: "d", inputSize: 7, outputSize: 5, group: .shared)
        dense.bias!.value.fill(42)  // a stale bias, which glorot_uniform must zero
        dense.initialize(using: &rng, scheme: scheme)
        return (dense, reference)
    }

    func testGlorotUniformDrawsWeightsOnlyAndZeroesTheBias() {
        var (dense, rng) = initializedLayer(.glorotUniform, seed: 11)
        let a = (6.0 / 12.0).squareRoot()
        for i in 0..<35 { XCTAssertEqual(dense.weight.value.data[i], Float(rng.uniform(-a, a)), "W[\(i)]") }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: dense.bias!.value.data, count: 5)), [Float](repeating: 0, count: 5))
    }

    func testPyTorchDrawsWeightsThenBiasesWithinOneOverSqrtFanIn() {
        var (dense, rng) = initializedLayer(.pytorch, seed: 12)
        let a = 1 / 7.0.squareRoot()
        for i in 0..<35 { XCTAssertEqual(dense.weight.value.data[i], Float(rng.uniform(-a, a)), "W[\(i)]") }
        for i in 0..<5 { XCTAssertEqual(dense.bias!.value.data[i], Float(rng.uniform(-a, a)), "b[\(i)]") }
    }

    func testPyTorchSpreadMatchesTheUniformVariance() {
        // U(-a, a) has variance a²/3: over 128 × 256 draws the sample variance is within 2 %.
        var rng = RandomGenerator(seed: 5)
        let dense = Dense(name: "d", inputSize: 128, outputSize: 256, group: .shared)
        dense.initialize(using: &rng, scheme: .pytorch)
        let w = UnsafeBufferPointer(start: dense.weight.value.data, count: dense.weight.count)
        let variance = w.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(w.count)
        XCTAssertEqual(variance, 1.0 / 128 / 3, accuracy: 0.02 / 128 / 3)
        XCTAssertLessThanOrEqual(w.map { abs(Double($0)) }.max()!, 1 / 128.0.squareRoot())
    }

    func testModelsUseTheConfiguredSchemeAndOneExpertsFan() throws {
        for kind in [ModelKind.sharedBottom, .mmoe, .ple, .esmm] {
            var c = ModelFixtures.configuration(kind)
            c.linearInit = .pytorch
            let model = try makeModel(c)
            var rng = RandomGenerator(seed: 3)
            model.initialize(using: &rng)
            for p in model.parameters where p.name.hasSuffix(".W") {
                // Every Linear's weight lies within 1/sqrt(fan_in), fan_in = its row count
                // (the fused first expert layer has the input's rows too).
                let bound = Float(1 / Double(p.value.rows).squareRoot())
                let values = UnsafeBufferPointer(start: p.value.data, count: p.count)
                XCTAssertLessThanOrEqual(values.map(abs).max()!, bound, "\(kind) \(p.name)")
            }
            let biases = model.parameters.filter { $0.name.hasSuffix(".b") }
            XCTAssertFalse(biases.isEmpty)
            XCTAssertTrue(biases.allSatisfy { b in (0..<b.count).contains { b.value.data[$0] != 0 } },
                          "\(kind): pytorch draws every bias")
        }
    }

    func testConfigurationKey() throws {
        let c = try JSONDecoder().decode(ModelConfiguration.self,
                                         from: Data(#"{"model": "mmoe", "linear_init": "pytorch"}"#.utf8))
        XCTAssertEqual(c.linearInit, .pytorch)
        let plain = try JSONDecoder().decode(ModelConfiguration.self, from: Data(#"{"model": "mmoe"}"#.utf8))
        XCTAssertEqual(plain.linearInit, .glorotUniform)
        // The default is not written (configurations encode as before the key existed); pytorch round-trips.
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(plain), as: UTF8.self).contains("linear_init"))
        XCTAssertEqual(try JSONDecoder().decode(ModelConfiguration.self, from: try JSONEncoder().encode(c)), c)
        XCTAssertThrowsError(try JSONDecoder().decode(
            ModelConfiguration.self, from: Data(#"{"model": "mmoe", "linear_init": "kaiming"}"#.utf8))) {
            XCTAssertTrue("\($0)".contains("glorot_uniform"), "\($0)")
            XCTAssertTrue("\($0)".contains("pytorch"), "\($0)")
        }
    }
}
