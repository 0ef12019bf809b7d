import XCTest
@testable import Ranker

/// Whole-model backward passes against central finite differences, for every
/// architecture and every parameter (embeddings, experts, gates, towers), in
/// the weighted pass and in the multi-gradient pass.
final class ModelGradientTests: XCTestCase {
    static let architectures: [(String, ModelConfiguration)] = [
        ("shared_bottom", ModelFixtures.configuration(.sharedBottom)),
        ("mmoe", ModelFixtures.configuration(.mmoe)),
        ("ple_1_level_ms2_msh1", ModelFixtures.configuration(.ple, levels: 1, specific: 2, shared: 1)),
        ("ple_2_levels_ms1_msh2", ModelFixtures.configuration(.ple, levels: 2, specific: 1, shared: 2)),
        ("ple_3_levels_ms2_msh1", ModelFixtures.configuration(.ple, levels: 3, specific: 2, shared: 1)),
        ("ple_2_levels_shared_only", ModelFixtures.configuration(.ple, levels: 2, specific: 0, shared: 2)),
        ("esmm", ModelFixtures.configuration(.esmm)),
    ]

    /// Checks every parameter of `model` against finite differences of `loss`:
    /// a directional derivative per tensor (tight) and a sample of single
    /// coordinates (loose, float32 noise).
    private func checkAllParameters(_ label: String, _ model: MultiTaskModel, analytic: [String: [Double]],
                                    loss: () -> Double) {
        for (i, p) in model.parameters.enumerated() {
            guard let g = analytic[p.name] else { XCTFail("\(label): no gradient for \(p.name)"); continue }
            let (numeric, dot) = FiniteDifference.directional(values: p.value.data, count: p.count, analytic: g,
                                                              seed: UInt64(100 + i), loss: loss)
            XCTAssertEqual(numeric, dot, accuracy: 2e-4 + 2e-2 * max(abs(numeric), abs(dot)),
                           "\(label): directional derivative of \(p.name)")
            FiniteDifference.assertGradient(name: "\(label) \(p.name)", values: p.value.data, count: p.count,
                                            analytic: g, rtol: 5e-2, atol: 2e-4, maxCoordinates: 12, loss: loss)
        }
    }

    func testWeightedPassMatchesFiniteDifferences() throws {
        for (label, config) in Self.architectures {
            let model = try ModelFixtures.model(config)
            let batch = ModelFixtures.batch(for: config, size: 6, seed: 3)
            let weights = (0..<model.taskCount).map { 0.5 + Double($0) * 0.4 }
            ModelFixtures.weightedBackward(model, batch, weights: weights)
            var analytic: [String: [Double]] = [:]
            for p in model.parameters { analytic[p.name] = ModelFixtures.denseGradient(p) }
            // Every parameter group is exercised.
            let names = model.parameters.map(\.name)
            XCTAssertTrue(names.contains { $0.hasPrefix("embedding.") }, label)
            XCTAssertTrue(names.contains { $0.hasPrefix("tower.") }, label)
            if config.model == .mmoe || config.model == .ple {
                XCTAssertTrue(names.contains { $0.contains("gate") }, label)
                XCTAssertTrue(names.contains { $0.contains("experts") || $0.contains("specific") || $0.contains("shared.") }, label)
            }
            checkAllParameters(label, model, analytic: analytic) {
                ModelFixtures.weightedLoss(model, batch, weights: weights)
            }
        }
    }

    func testPerTaskGradientsMatchFiniteDifferencesOfEachTask() throws {
        for (label, config) in Self.architectures {
            let model = try ModelFixtures.model(config)
            let batch = ModelFixtures.batch(for: config, size: 5, seed: 4)
            ModelFixtures.perTaskBackward(model, batch)
            let shared = model.parameters.filter { $0.group == .shared }
            XCTAssertFalse(shared.isEmpty, label)
            for t in 0..<model.taskCount {
                var analytic: [String: [Double]] = [:]
                for p in model.parameters {
                    switch p.group {
                    case .shared: analytic[p.name] = ModelFixtures.denseTaskGradient(p, task: t)
                    case .task(let k): analytic[p.name] = k == t ? ModelFixtures.denseGradient(p)
                                                                : [Double](repeating: 0, count: p.count)
                    }
                }
                let unit = (0..<model.taskCount).map { $0 == t ? 1.0 : 0.0 }
                for (i, p) in model.parameters.enumerated() {
                    let (numeric, dot) = FiniteDifference.directional(values: p.value.data, count: p.count,
                                                                      analytic: analytic[p.name]!, seed: UInt64(500 + i)) {
                        ModelFixtures.weightedLoss(model, batch, weights: unit)
                    }
                    XCTAssertEqual(numeric, dot, accuracy: 2e-4 + 2e-2 * max(abs(numeric), abs(dot)),
                                   "\(label): task \(t) gradient of \(p.name) (\(p.group))")
                }
            }
        }
    }

    func testPerTaskGradientsSumToTheWeightedPass() throws {
        for (label, config) in Self.architectures {
            let model = try ModelFixtures.model(config)
            let batch = ModelFixtures.batch(for: config, size: 8, seed: 5)
            let unit = [Double](repeating: 1, count: model.taskCount)
            ModelFixtures.weightedBackward(model, batch, weights: unit)
            var total: [String: [Double]] = [:]
            for p in model.parameters { total[p.name] = ModelFixtures.denseGradient(p) }
            ModelFixtures.perTaskBackward(model, batch)
            for p in model.parameters {
                var sum = [Double](repeating: 0, count: p.count)
                switch p.group {
                case .shared:
                    XCTAssertEqual(p.taskGradients.rows, model.taskCount, "\(label) \(p.name)")
                    for t in 0..<model.taskCount {
                        for (i, v) in ModelFixtures.denseTaskGradient(p, task: t).enumerated() { sum[i] += v }
                    }
                case .task:
                    sum = ModelFixtures.denseGradient(p)
                }
                for (i, (a, b)) in zip(sum, total[p.name]!).enumerated() where abs(a - b) > 1e-6 + 1e-5 * abs(b) {
                    XCTFail("\(label) \(p.name)[\(i)]: per-task sum \(a) vs weighted pass \(b)")
                    break
                }
            }
        }
    }

    func testPLESharingMapFollowsTheSpecTable() throws {
        func groups(_ levels: Int) throws -> [String: ParameterGroup] {
            let m = try PLE(ModelFixtures.configuration(.ple, tasks: 3, levels: levels, specific: 1, shared: 1))
            return Dictionary(uniqueKeysWithValues: m.parameters.map { ($0.name, $0.group) })
        }
        let one = try groups(1)
        XCTAssertEqual(one["level1.specific.task1.0.W"], .task(1))
        XCTAssertEqual(one["level1.shared.0.W"], .shared)
        XCTAssertEqual(one["level1.gate.task2.W"], .task(2))
        XCTAssertNil(one["level1.shared_gate.W"], "no shared gate at the last level")
        let two = try groups(2)
        XCTAssertEqual(two["level1.specific.task0.0.W"], .shared, "feeds the level-1 shared gate")
        XCTAssertEqual(two["level1.gate.task0.W"], .task(0))
        XCTAssertEqual(two["level1.shared_gate.W"], .shared)
        XCTAssertEqual(two["level2.specific.task1.0.W"], .task(1))
        XCTAssertEqual(two["level2.shared.0.W"], .shared)
        XCTAssertEqual(two["level2.gate.task1.W"], .task(1))
        XCTAssertNil(two["level2.shared_gate.W"])
        let three = try groups(3)
        XCTAssertEqual(three["level1.gate.task0.W"], .shared, "reaches the level-2 shared gate through its experts")
        XCTAssertEqual(three["level2.gate.task0.W"], .task(0))
        XCTAssertEqual(three["level2.specific.task0.0.W"], .shared)
        XCTAssertEqual(three["level3.specific.task0.0.W"], .task(0))
        XCTAssertNil(three["level3.shared_gate.W"])
        XCTAssertNotNil(three["level2.shared_gate.W"])
    }

    func testESMMStaysFiniteForExtremeLogits() throws {
        let config = ModelFixtures.configuration(.esmm)
        let model = try ModelFixtures.model(config) as! ESMM
        let batch = ModelFixtures.batch(for: config, size: 6, seed: 9)
        for (a, b) in [(-60.0, -40.0), (50.0, 45.0), (-45.0, 50.0), (60.0, -60.0)] {
            model.ctrTower.layers.last!.bias!.value.data[0] = Float(a)
            model.cvrTower.layers.last!.bias!.value.data[0] = Float(b)
            let losses = ModelFixtures.weightedBackward(model, batch, weights: [1, 1])
            XCTAssertTrue(losses.allSatisfy { $0.isFinite }, "losses \(losses) at a≈\(a), b≈\(b)")
            for p in model.parameters {
                let g = ModelFixtures.denseGradient(p)
                XCTAssertTrue(g.allSatisfy { $0.isFinite }, "\(p.name) gradient not finite at a≈\(a), b≈\(b)")
            }
            let out = Matrix(rows: batch.size, cols: 3)
            model.predict(logits: model.forward(batch), into: out.view)
            XCTAssertTrue(out.toArray().allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
        }
    }

    func testOneGradientStepLowersTheLossOnAFixedBatch() throws {
        for (label, config) in Self.architectures {
            let model = try ModelFixtures.model(config)
            let batch = ModelFixtures.batch(for: config, size: 16, seed: 6)
            let weights = [Double](repeating: 1, count: model.taskCount)
            let before = ModelFixtures.weightedBackward(model, batch, weights: weights).reduce(0, +)
            for p in model.parameters {
                let g = ModelFixtures.denseGradient(p)
                for i in 0..<p.count { p.value.data[i] -= Float(0.05 * g[i]) }
            }
            let after = ModelFixtures.weightedLoss(model, batch, weights: weights)
            XCTAssertLessThan(after, before, "\(label): loss \(before) → \(after)")
        }
    }
}
