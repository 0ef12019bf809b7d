import XCTest
@testable import Ranker

/// Every architecture with BatchNorm (hidden layers and gates) and dropout
/// (ALGORITHMS.md 3.2.1): whole-model gradients against finite differences in
/// training mode (a fixed dropout mask: the same generator seed every pass),
/// per-task gradients through the shared BatchNorm layers, and the modes.
final class BatchNormModelTests: XCTestCase {
    static let trainingSeed: UInt64 = 31

    static func withOptions(_ c: ModelConfiguration, dropout: Float = 0.2) -> ModelConfiguration {
        var c = c
        c.batchNorm = true
        c.gateBatchNorm = true
        c.dropout = dropout
        return c
    }

    static let architectures: [(String, ModelConfiguration)] = [
        ("shared_bottom", withOptions(ModelFixtures.configuration(.sharedBottom))),
        ("mmoe", withOptions(ModelFixtures.configuration(.mmoe))),
        ("ple_2_levels", withOptions(ModelFixtures.configuration(.ple, levels: 2, specific: 1, shared: 2))),
        ("ple_3_levels", withOptions(ModelFixtures.configuration(.ple, levels: 3, specific: 2, shared: 1))),
        ("esmm", withOptions(ModelFixtures.configuration(.esmm))),
    ]

    /// A model whose BatchNorm gammas and betas are away from 1 and 0.
    static func model(_ c: ModelConfiguration) throws -> MultiTaskModel {
        let m = try ModelFixtures.model(c)
        var rng = RandomGenerator(seed: 77)
        for p in m.parameters where p.name.hasSuffix(".bn.gamma") || p.name.hasSuffix(".bn.beta") {
            let center: Double = p.name.hasSuffix("gamma") ? 1 : 0
            for i in 0..<p.count { p.value.data[i] = Float(center + 0.3 * rng.normal()) }
        }
        return m
    }

    func testEveryHiddenLayerAndGateHasBatchNorm() throws {
        for (label, config) in Self.architectures {
            let m = try Self.model(config)
            let names = m.parameters.map(\.name)
            let state = m.stateTensors.map(\.name)
            XCTAssertEqual(state.count, 2 * names.filter { $0.hasSuffix(".bn.gamma") }.count, label)
            XCTAssertTrue(names.contains { $0.hasPrefix("tower.") && $0.hasSuffix(".0.bn.gamma") }, label)
            XCTAssertFalse(names.contains { $0.hasPrefix("tower.") && $0.hasSuffix(".1.bn.gamma") },
                           "\(label): the tower's output layer has no BatchNorm")
            if config.model == .mmoe || config.model == .ple {
                XCTAssertTrue(names.contains { $0.contains("gate") && $0.hasSuffix(".bn.gamma") }, label)
            }
            if config.model == .ple {
                XCTAssertTrue(names.contains { $0.hasPrefix("level2.") && $0.hasSuffix(".bn.gamma") }, "\(label): every level")
            }
            for p in m.parameters where p.name.hasSuffix(".bn.gamma") {
                let dense = String(p.name.dropLast(".bn.gamma".count))
                XCTAssertEqual(m.parameter(named: dense + ".b")?.group ?? m.parameter(named: dense + ".W")?.group, p.group,
                               "\(label) \(p.name): in its layer's group")
            }
        }
    }

    func testWeightedPassMatchesFiniteDifferences() throws {
        for (label, config) in Self.architectures {
            let model = try Self.model(config)
            let batch = ModelFixtures.batch(for: config, size: 6, seed: 3)
            let weights = (0..<model.taskCount).map { 0.5 + Double($0) * 0.4 }
            ModelFixtures.weightedBackward(model, batch, weights: weights, trainingSeed: Self.trainingSeed)
            // Read every gradient before the differences run forward passes (they reset embedding gradients).
            let analytic = model.parameters.map(ModelFixtures.denseGradient)
            for (i, p) in model.parameters.enumerated() {
                let (numeric, dot) = FiniteDifference.directional(
                    values: p.value.data, count: p.count, analytic: analytic[i], seed: UInt64(100 + i)) {
                    ModelFixtures.weightedLoss(model, batch, weights: weights, trainingSeed: Self.trainingSeed)
                }
                XCTAssertEqual(numeric, dot, accuracy: 3e-4 + 3e-2 * max(abs(numeric), abs(dot)),
                               "\(label): directional derivative of \(p.name)")
            }
        }
    }

    func testPerTaskGradientsMatchFiniteDifferencesAndSumToTheWeightedPass() throws {
        for (label, config) in Self.architectures {
            let model = try Self.model(config)
            let batch = ModelFixtures.batch(for: config, size: 5, seed: 4)
            let unit = [Double](repeating: 1, count: model.taskCount)
            ModelFixtures.weightedBackward(model, batch, weights: unit, trainingSeed: Self.trainingSeed)
            var total: [String: [Double]] = [:]
            for p in model.parameters { total[p.name] = ModelFixtures.denseGradient(p) }
            ModelFixtures.perTaskBackward(model, batch, trainingSeed: Self.trainingSeed)
            // Task t's gradient of every parameter, read before the differences run forward passes.
            let perTask = model.parameters.map { p in
                (0..<model.taskCount).map { t -> [Double] in
                    switch p.group {
                    case .shared: return ModelFixtures.denseTaskGradient(p, task: t)
                    case .task(let k): return k == t ? ModelFixtures.denseGradient(p) : [Double](repeating: 0, count: p.count)
                    }
                }
            }
            for (index, p) in model.parameters.enumerated() {
                var sum = [Double](repeating: 0, count: p.count)
                for t in 0..<model.taskCount {
                    let g = perTask[index][t]
                    for i in 0..<p.count { sum[i] += g[i] }
                    let taskWeights = (0..<model.taskCount).map { $0 == t ? 1.0 : 0.0 }
                    let (numeric, dot) = FiniteDifference.directional(values: p.value.data, count: p.count, analytic: g,
                                                                      seed: UInt64(500 + t)) {
                        ModelFixtures.weightedLoss(model, batch, weights: taskWeights, trainingSeed: Self.trainingSeed)
                    }
                    XCTAssertEqual(numeric, dot, accuracy: 3e-4 + 3e-2 * max(abs(numeric), abs(dot)),
                                   "\(label): task \(t) gradient of \(p.name) (\(p.group))")
                }
                for (i, (a, b)) in zip(sum, total[p.name]!).enumerated() where abs(a - b) > 1e-5 + 1e-4 * abs(b) {
                    XCTFail("\(label) \(p.name)[\(i)]: per-task sum \(a) vs weighted pass \(b)")
                    break
                }
            }
        }
    }

    /// Training moves the running statistics; evaluation reads them and
    /// changes nothing, and draws no dropout mask (same logits twice).
    func testEvaluationUsesAndKeepsTheRunningStatistics() throws {
        for (label, config) in Self.architectures {
            let model = try Self.model(config)
            let batch = ModelFixtures.batch(for: config, size: 6, seed: 5)
            func state() -> [Float] { model.stateTensors.flatMap { $0.value.toArray() } }
            let initial = state()
            XCTAssertEqual(initial.count, model.stateTensors.reduce(0) { $0 + $1.value.count })
            let first = model.forward(batch).toArray()
            XCTAssertEqual(state(), initial, "\(label): evaluation changed the running statistics")
            XCTAssertEqual(model.forward(batch).toArray(), first, "\(label): evaluation is deterministic")
            _ = model.forward(batch, mode: ModelFixtures.mode(trainingSeed: 1))
            XCTAssertNotEqual(state(), initial, "\(label): training did not move the running statistics")
            XCTAssertNotEqual(model.forward(batch).toArray(), first, "\(label): evaluation ignores the running statistics")
        }
    }

    /// With all three options off the model is the model of before: the same
    /// parameters, no state, no draws from the dropout generator.
    func testOptionsOffChangeNothing() throws {
        for kind in [ModelKind.sharedBottom, .mmoe, .ple, .esmm] {
            let config = ModelFixtures.configuration(kind)
            let model = try ModelFixtures.model(config)
            XCTAssertTrue(model.stateTensors.isEmpty)
            XCTAssertFalse(model.parameters.contains { $0.name.contains(".bn.") })
            let generator = DropoutGenerator(RandomGenerator(seed: 5))
            let batch = ModelFixtures.batch(for: config, size: 4, seed: 6)
            let trained = model.forward(batch, mode: .training(dropout: generator)).toArray()
            XCTAssertEqual(generator.generator, RandomGenerator(seed: 5), "\(kind): a model without dropout draws nothing")
            XCTAssertEqual(model.forward(batch).toArray(), trained, "\(kind): both modes agree without BatchNorm")
        }
    }
}
