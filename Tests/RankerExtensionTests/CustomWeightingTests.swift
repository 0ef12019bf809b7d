import Foundation
import Ranker
import XCTest

/// A loss weighting defined outside the library: weights proportional to an
/// exponential moving average of each task's loss, normalised to sum `T`:
///
///     m_k ← L_k                          (first applied step)
///     m_k ← d · m_k + (1 − d) · L_k      (later steps; d = `decay`)
///     w_k = T · m_k / Σ_i m_i            (m including this step's losses)
///
/// so on the first step `w_k = T · L_k / Σ_i L_i`. The EMA is the state a
/// checkpoint must carry; it changes only in `finishStep` (a skipped step
/// leaves no trace).
final class LossProportionalWeighting: LossWeightingMethod {
    static let methodName = "loss_proportional"

    struct Options: TaskBalancerOptions {
        typealias Method = LossProportionalWeighting
        /// `d ∈ [0, 1)`.
        var decay = 0.9

        enum CodingKeys: String, CodingKey, CaseIterable { case decay }

        init() {}

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            decay = try c.decodeIfPresent(Double.self, forKey: .decay) ?? 0.9
        }

        func problem(taskCount: Int) -> String? {
            decay >= 0 && decay < 1 ? nil : "loss_proportional: decay must be in [0, 1), got \(decay)"
        }
    }

    struct State: TaskBalancerMethodState {
        var taskCount: Int
        var steps: Int
        /// `m`, `nil` before the first applied step.
        var lossAverages: [Double]?
    }

    let taskCount: Int
    let decay: Double
    private(set) var telemetry: TaskBalancerTelemetry
    private var current: State
    /// `m` of this step, committed by `finishStep`.
    private var pending: [Double] = []

    init(options: Options, context: TaskBalancerContext) {
        taskCount = context.taskCount
        decay = options.decay
        current = State(taskCount: taskCount, steps: 0, lossAverages: nil)
        telemetry = TaskBalancerTelemetry(weights: [Double](repeating: 1, count: taskCount))
    }

    static func weights(averages: [Double]) -> [Double] {
        var sum = 0.0
        for m in averages { sum += m }
        return averages.map { Double(averages.count) * $0 / sum }
    }

    func lossWeights(losses: [Double]) throws -> [Double] {
        try validateLosses(losses)
        if let previous = current.lossAverages {
            pending = (0..<taskCount).map { decay * previous[$0] + (1 - decay) * losses[$0] }
        } else {
            pending = losses
        }
        telemetry.weights = Self.weights(averages: pending)
        return telemetry.weights
    }

    func objective(losses: [Double]) -> Double { weightedObjective(weights: telemetry.weights, losses: losses) }

    func finishStep(losses: [Double], batchSize: Int) {
        current.lossAverages = pending
        current.steps += 1
        telemetry.step = current.steps
    }

    var methodState: State { current }

    func restore(methodState saved: State) {
        current = saved
        telemetry = TaskBalancerTelemetry(step: saved.steps, weights: telemetry.weights)
    }
}

/// The outside method registered, configured from JSON, trained, checked
/// against its closed form, and resumed bitwise from a checkpoint.
final class CustomWeightingTests: XCTestCase {
    var directories: [URL] = []

    override func setUp() {
        TaskBalancerRegistry.register(LossProportionalWeighting.self)
    }

    override func tearDown() {
        for d in directories { try? FileManager.default.removeItem(at: d) }
        directories = []
    }

    func temporaryDirectory(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("ranker-custom-weighting-\(name)-\(UUID().uuidString)")
        directories.append(url)
        return url
    }

    /// Two epochs of 12 steps on a small synthetic log, MMoE, Adagrad.
    static let runJSON = """
        {
          "name": "custom-weighting",
          "data": {"source": "synthetic",
                   "synthetic": {"rows": 3000, "users": 200, "items": 500, "tasks": 2, "positive_rates": [0.3]}},
          "model": {"model": "mmoe", "experts": 3, "expert_hidden": [16, 8], "tower_hidden": [8]},
          "optimizer": {"kind": "adagrad", "learning_rate": 0.05},
          "balancer": {"weighting": {"method": "loss_proportional", "decay": 0.8}},
          "training": {"epochs": 2, "batch_size": 256, "seed": 5},
          "output": {"progress": "none", "report": false}
        }
        """

    func configuration() throws -> RunConfiguration {
        try JSONDecoder().decode(RunConfiguration.self, from: Data(Self.runJSON.utf8))
    }

    func testRegisteredMethodIsConfigurableByName() throws {
        XCTAssertTrue(TaskBalancerRegistry.methodNames(.lossWeighting).contains("loss_proportional"))
        XCTAssertFalse(TaskBalancerRegistry.methodNames(.gradientCombination).contains("loss_proportional"))
        let balancer = try configuration().balancer
        XCTAssertEqual(balancer.weighting?.methodName, "loss_proportional")
        var options = LossProportionalWeighting.Options()
        options.decay = 0.8
        XCTAssertEqual(balancer, TaskBalancerConfiguration(options))
        let misplaced = #"{"combination": {"method": "loss_proportional"}}"#
        XCTAssertThrowsError(try JSONDecoder().decode(TaskBalancerConfiguration.self, from: Data(misplaced.utf8))) {
            XCTAssertTrue("\($0)".contains("is a loss weighting, not a gradient combination: configure it under \"weighting\""),
                          "\($0)")
        }
        let unknownKey = #"{"weighting": {"method": "loss_proportional", "decay_rate": 0.5}}"#
        XCTAssertThrowsError(try JSONDecoder().decode(TaskBalancerConfiguration.self, from: Data(unknownKey.utf8))) {
            XCTAssertTrue("\($0)".contains("unknown key \"decay_rate\""), "\($0)")
        }
        let outOfRange = #"{"weighting": {"method": "loss_proportional", "decay": 1}}"#
        let decoded = try JSONDecoder().decode(TaskBalancerConfiguration.self, from: Data(outOfRange.utf8))
        XCTAssertThrowsError(try decoded.validate(taskCount: 2)) {
            XCTAssertTrue("\($0)".contains("decay must be in [0, 1)"), "\($0)")
        }
    }

    /// Telemetry of the first step: `w_k = T · L_k / Σ_i L_i` of that step's losses.
    func testFirstStepWeightsFollowTheClosedForm() throws {
        var c = try configuration()
        c.training.maxSteps = 3
        let dir = temporaryDirectory("first")
        let summary = try Trainer(configuration: c, runDirectory: dir).run()
        XCTAssertEqual(summary.steps, 3)
        let lines = try String(contentsOf: dir.appendingPathComponent("telemetry.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let run = try XCTUnwrap(lines.first { $0["type"] as? String == "run" })
        XCTAssertEqual(run["combiner"] as? String, "loss_proportional")
        XCTAssertEqual(run["combiner_kind"] as? String, "loss_weights")
        let first = try XCTUnwrap(lines.first { $0["type"] as? String == "step" })
        let losses = try XCTUnwrap(first["losses"] as? [Double])
        let weights = try XCTUnwrap(first["weights"] as? [Double])
        XCTAssertEqual(losses.count, 2)
        let sum = losses[0] + losses[1]
        for k in 0..<2 {
            XCTAssertEqual(weights[k], 2 * losses[k] / sum, accuracy: 1e-12, "task \(k)")
        }
        XCTAssertEqual(weights[0] + weights[1], 2, accuracy: 1e-12)
        XCTAssertNotEqual(weights[0], 1, "the losses differ, so must the weights")
    }

    /// Interrupted mid-epoch and resumed from the checkpoint, the run ends
    /// bitwise equal to the uninterrupted one (parameters, optimizer state,
    /// the method's own state).
    func testResumeContinuesBitwiseIdentically() throws {
        let c = try configuration()
        let straight = temporaryDirectory("straight")
        let s = try Trainer(configuration: c, runDirectory: straight).run()
        XCTAssertEqual(s.stopReason, .completed)
        var interrupted = c
        interrupted.training.interruptAfterSteps = 7
        let dir = temporaryDirectory("interrupted")
        let first = try Trainer(configuration: interrupted, runDirectory: dir).run()
        XCTAssertEqual(first.stopReason, .interrupted)
        XCTAssertEqual(first.steps, 7)
        let resumed = try Trainer(configuration: c, runDirectory: dir, resume: true).run()
        XCTAssertEqual(resumed.stopReason, .completed)
        XCTAssertEqual(resumed.steps, s.steps)

        let a = try Checkpoint.read(from: straight.appendingPathComponent("checkpoint.safetensors"))
        let b = try Checkpoint.read(from: dir.appendingPathComponent("checkpoint.safetensors"))
        XCTAssertEqual(a.tensors.keys.sorted(), b.tensors.keys.sorted())
        for key in a.tensors.keys.sorted() {
            XCTAssertEqual(a.tensors[key]?.toArray().map(\.bitPattern), b.tensors[key]?.toArray().map(\.bitPattern), key)
        }
        let state = try a.string(forKey: Checkpoint.Key.weighting)
        XCTAssertEqual(state, try b.string(forKey: Checkpoint.Key.weighting))
        XCTAssertTrue(state.hasPrefix(#"{"method":"loss_proportional","state":{"lossAverages":["#), state)
        XCTAssertEqual(s.test?.meanAUC, resumed.test?.meanAUC)
    }
}
