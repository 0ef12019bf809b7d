import Foundation
import Ranker
import XCTest

/// SGD with heavy-ball momentum (PyTorch's form, no dampening), written
/// outside the library against its public API only:
///
///     buf <- momentum * buf + g
///     w   <- w - lr * buf
///
/// State: the momentum buffer `buf` (parameter's shape, starts at 0; any
/// finite value is valid). Embedding tables update the touched rows only.
/// Nothing is clipped (factor 1).
struct MomentumSGD: RegisteredOptimizer {
    struct Options: Codable, Equatable, Sendable {
        /// `momentum` in `[0, 1)`; default 0.9.
        var momentum: Float = 0.9

        init(momentum: Float = 0.9) { self.momentum = momentum }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            momentum = try c.decodeIfPresent(Float.self, forKey: .momentum) ?? 0.9
        }
    }

    struct InvalidMomentum: Error {}

    static let configurationName = "momentum_sgd"
    static let telemetryName = "momentum_sgd"
    static let configurationKeys = ["momentum"]
    static let defaultConfiguration = Options()

    let options: Options

    init(options: Options) throws {
        guard options.momentum >= 0, options.momentum < 1 else { throw InvalidMomentum() }
        self.options = options
    }

    var initialStateValue: Float { 0 }

    static func isValidStateValue(_ value: Float) -> Bool { true }

    func updateDense(weight: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<Float>,
                     gradient: UnsafePointer<Float>, rows: Int, cols: Int, learningRate: Float, step: Int) -> Float {
        update(weight, state, gradient, count: rows * cols, learningRate: learningRate)
        return 1
    }

    func updateRows(weight: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<Float>,
                    gradient: UnsafePointer<Float>, rowIDs: UnsafeBufferPointer<Int32>, cols: Int,
                    learningRate: Float, step: Int) -> Float {
        for (s, id) in rowIDs.enumerated() {
            let row = Int(id) * cols
            update(weight + row, state + row, gradient + s * cols, count: cols, learningRate: learningRate)
        }
        return 1
    }

    private func update(_ w: UnsafeMutablePointer<Float>, _ buf: UnsafeMutablePointer<Float>,
                        _ g: UnsafePointer<Float>, count: Int, learningRate lr: Float) {
        for j in 0..<count {
            buf[j] = options.momentum * buf[j] + g[j]
            w[j] -= lr * buf[j]
        }
    }
}

/// An optimizer defined outside the library plugs in with one registration:
/// it decodes from a run configuration, trains, checkpoints and resumes
/// exactly like the built-in ones.
final class CustomOptimizerTests: XCTestCase {
    var directories: [URL] = []

    override func setUp() {
        OptimizerRegistry.register(MomentumSGD.self)
    }

    override func tearDown() {
        for d in directories { try? FileManager.default.removeItem(at: d) }
        directories = []
    }

    func temporaryDirectory(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("ranker-custom-optimizer-\(name)-\(UUID().uuidString)")
        directories.append(url)
        return url
    }

    let runJSON = """
        {
          "name": "momentum",
          "data": {"source": "synthetic",
                   "synthetic": {"rows": 3000, "users": 200, "items": 500, "tasks": 2, "positive_rates": [0.3]}},
          "model": {"model": "mmoe", "experts": 3, "expert_hidden": [16, 8], "tower_hidden": [8]},
          "optimizer": {"kind": "momentum_sgd", "learning_rate": 0.05, "momentum": 0.8},
          "training": {"epochs": 2, "batch_size": 256, "seed": 5},
          "output": {"progress": "none", "report": false}
        }
        """

    func testRegisteredByNameAndDecodedWithItsOptions() throws {
        XCTAssertTrue(OptimizerRegistry.names.contains("momentum_sgd"))
        let configuration = try JSONDecoder().decode(RunConfiguration.self, from: Data(runJSON.utf8))
        XCTAssertEqual(configuration.optimizer.kind.rawValue, "momentum_sgd")
        XCTAssertEqual(configuration.optimizer.learningRate, 0.05)
        XCTAssertEqual(try configuration.optimizer.options(of: MomentumSGD.self), MomentumSGD.Options(momentum: 0.8))
        XCTAssertEqual(configuration.optimizer.telemetryName, "momentum_sgd")
        XCTAssertFalse(try configuration.optimizer.reportsClippingFactors())
        let optimizer = try configuration.optimizer.makeOptimizer()
        XCTAssertEqual((optimizer as? OptimizerDriver<MomentumSGD>)?.options.momentum, 0.8)

        let misspelt = #"{"kind": "momentum_sgd", "momentun": 0.5}"#
        XCTAssertThrowsError(try JSONDecoder().decode(OptimizerConfiguration.self, from: Data(misspelt.utf8))) { error in
            XCTAssertEqual(error as? OptimizerConfigurationError,
                           .unknownKey("momentun", known: ["kind", "learning_rate", "momentum"]))
        }
        let foreign = #"{"kind": "momentum_sgd", "preset": "paper"}"#
        XCTAssertThrowsError(try JSONDecoder().decode(OptimizerConfiguration.self, from: Data(foreign.utf8))) { error in
            XCTAssertEqual(error as? OptimizerConfigurationError, .optionNotApplicable(key: "preset", kind: "momentum_sgd"))
        }
        let invalid = #"{"kind": "momentum_sgd", "momentum": 1.5}"#
        let decoded = try JSONDecoder().decode(OptimizerConfiguration.self, from: Data(invalid.utf8))
        XCTAssertThrowsError(try decoded.validate())
    }

    /// Two steps on a dense tensor and an embedding table against the closed
    /// form: `buf1 = g1, w1 = w0 - lr g1; buf2 = mu g1 + g2, w2 = w1 - lr buf2`.
    func testTwoStepsMatchTheClosedForm() throws {
        let optimizer = try OptimizerDriver<MomentumSGD>(options: .init(momentum: 0.9))
        let dense = Parameter(name: "w", rows: 1, cols: 3, group: .shared)
        dense.value.copy(from: [1, -2, 0.5])
        let table = Parameter(name: "table", rows: 4, cols: 2, group: .shared, kind: .embedding)
        table.value.copy(from: [1, 1, 2, 2, 3, 3, 4, 4])
        let parameters = [dense, table]

        dense.grad.copy(from: [0.5, 1, -2])
        table.sparseGrad!.set(ids: [2, 0], rows: [[1, -1], [0.5, 0.25]])
        let first = optimizer.step(parameters: parameters, learningRate: 0.1)
        XCTAssertTrue(first.applied)
        XCTAssertEqual(first.clippedParameterCount, 0)
        assertClose(dense.value.toArray(), [0.95, -2.1, 0.7])
        assertClose(table.value.toArray(), [0.95, 0.975, 2, 2, 2.9, 3.1, 4, 4])

        dense.grad.copy(from: [1, 1, 1])
        table.sparseGrad!.set(ids: [2], rows: [[1, 1]])
        optimizer.step(parameters: parameters, learningRate: 0.1)
        // buf = 0.9 * [0.5, 1, -2] + 1 = [1.45, 1.9, -0.8].
        assertClose(dense.value.toArray(), [0.805, -2.29, 0.78])
        // Row 2: buf = 0.9 * [1, -1] + 1 = [1.9, 0.1]; rows 0, 1 and 3 untouched.
        assertClose(table.value.toArray(), [0.95, 0.975, 2, 2, 2.71, 3.09, 4, 4])
        let state = Dictionary(uniqueKeysWithValues: optimizer.stateTensors().map { ($0.name, $0.value.toArray()) })
        assertClose(state["w"] ?? [], [1.45, 1.9, -0.8])
        assertClose(state["table"] ?? [], [0.5, 0.25, 0, 0, 1.9, 0.1, 0, 0])
        XCTAssertEqual(optimizer.scalarState, OptimizerScalarState(stepCount: 2, skippedStepCount: 0))
    }

    /// Trained from the JSON run configuration, interrupted after a checkpoint
    /// and resumed: every tensor of the final checkpoint (model and momentum
    /// buffers) equals the uninterrupted run's bit for bit.
    func testResumedRunEndsBitwiseEqualToTheUninterruptedOne() throws {
        let configuration = try JSONDecoder().decode(RunConfiguration.self, from: Data(runJSON.utf8))
        let dataset = try RunData.load(configuration.data)
        let straight = temporaryDirectory("straight")
        let s = try Trainer(configuration: configuration, dataset: dataset, runDirectory: straight).run()
        XCTAssertEqual(s.stopReason, .completed)

        var interrupted = configuration
        interrupted.training.interruptAfterSteps = s.steps / 2
        let dir = temporaryDirectory("resumed")
        let first = try Trainer(configuration: interrupted, dataset: dataset, runDirectory: dir).run()
        XCTAssertEqual(first.stopReason, .interrupted)
        let resumed = try Trainer(configuration: configuration, dataset: dataset, runDirectory: dir, resume: true).run()
        XCTAssertEqual(resumed.stopReason, .completed)
        XCTAssertEqual(resumed.steps, s.steps)

        let a = try Checkpoint.read(from: straight.appendingPathComponent("checkpoint.safetensors")).tensors
        let b = try Checkpoint.read(from: dir.appendingPathComponent("checkpoint.safetensors")).tensors
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted())
        XCTAssertTrue(a.keys.contains { $0.hasPrefix("optimizer/") }, "the momentum buffers are checkpointed")
        for key in a.keys.sorted() {
            XCTAssertEqual(a[key]!.toArray().map(\.bitPattern), b[key]!.toArray().map(\.bitPattern), "tensor \(key)")
        }
        XCTAssertEqual(s.test?.meanAUC, resumed.test?.meanAUC)
        let untrained = try Trainer(configuration: configuration, dataset: dataset, runDirectory: temporaryDirectory("new"))
        XCTAssertNotNil(untrained.model.parameters.first { p in
            a["model/" + p.name].map { $0.toArray() != p.value.toArray() } ?? false
        }, "training moved the weights")
    }

    func assertClose(_ actual: [Float], _ expected: [Float], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for (a, e) in zip(actual, expected) where abs(a - e) > 1e-5 {
            XCTFail("got \(actual), expected \(expected)", file: file, line: line)
            return
        }
    }
}
