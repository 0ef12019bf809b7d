import Foundation
import XCTest
@testable import Ranker

/// The JSON configuration (validation, the both-configured rejection, strict
/// keys, the factory) and checkpoint state round trips.
final class TaskBalancerConfigurationTests: XCTestCase {
    func decode(_ json: String) throws -> TaskBalancerConfiguration {
        try JSONDecoder().decode(TaskBalancerConfiguration.self, from: Data(json.utf8))
    }

    func decodingMessage(_ json: String) -> String {
        do {
            _ = try decode(json)
            return "decoded"
        } catch DecodingError.dataCorrupted(let context) {
            return context.debugDescription
        } catch {
            return "\(error)"
        }
    }

    func testBothConfiguredIsRejected() throws {
        let configuration = try decode("""
            {"weighting": {"method": "dwa"}, "combination": {"method": "gradcraft", "tau": 0.5}}
            """)
        XCTAssertThrowsError(try configuration.validate(taskCount: 2)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("dwa") && message.contains("gradcraft") && message.contains("alternatives"), message)
        }
        XCTAssertThrowsError(try configuration.makeBalancer(taskCount: 2))
        let gradNormAndPCGrad = TaskBalancerConfiguration(weighting: TaskBalancerMethodConfiguration(GradNorm.Options()),
                                                          combination: TaskBalancerMethodConfiguration(PCGrad.Options()))
        XCTAssertThrowsError(try gradNormAndPCGrad.validate(taskCount: 3))
    }

    func testFactoryBuildsEveryMethodWithItsOptions() throws {
        let cases: [(String, String, Bool)] = [
            ("{}", "fixed", false),
            (#"{"weighting": {"method": "fixed", "weights": [0.5, 0.5, 2]}}"#, "fixed", false),
            (#"{"weighting": {"method": "dwa", "temperature": 0.5, "window_steps": 100}}"#, "dwa", false),
            (#"{"weighting": {"method": "gradnorm", "alpha": 0.5, "scope": "all_shared", "variant": "nextrec_clamp"}}"#, "gradnorm", true),
            (#"{"weighting": {"method": "uw", "initial_log_variance": 0}}"#, "uw", false),
            (#"{"combination": {"method": "gradcraft", "tau": 0.1, "epsilon": 1e-10, "scope": "dense_shared"}}"#, "gradcraft", true),
            (#"{"combination": {"method": "pcgrad", "reduction": "mean"}}"#, "pcgrad", true),
        ]
        for (json, method, perTask) in cases {
            let balancer = try decode(json).makeBalancer(taskCount: 3, lastSharedLayer: ["bottom.1.weight"], seed: 9)
            XCTAssertEqual(balancer.methodName, method, json)
            XCTAssertEqual(balancer.requiresPerTaskGradients, perTask, json)
            XCTAssertEqual(balancer.taskCount, 3)
        }
        let fixed = try decode(#"{"weighting": {"method": "fixed", "weights": [0.5, 0.5, 2]}}"#).makeBalancer(taskCount: 3)
        XCTAssertEqual(try fixed.lossWeights(losses: [1, 1, 1]), [0.5, 0.5, 2])
        let gradCraft = try decode(#"{"combination": {"method": "gradcraft", "tau": 0.1}}"#).makeBalancer(taskCount: 2) as? GradCraft
        XCTAssertEqual(gradCraft?.options, GradCraft.Options(tau: 0.1, epsilon: 0, scope: .allShared))
        let gradNorm = try decode(#"{"weighting": {"method": "gradnorm"}}"#)
            .makeBalancer(taskCount: 2, lastSharedLayer: ["a", "b"]) as? GradNorm
        XCTAssertEqual(gradNorm?.options, GradNorm.Options())
        XCTAssertEqual(gradNorm?.layerParameterNames, ["a", "b"])
        let uw = try decode(#"{"weighting": {"method": "uw", "initial_log_variance": 0}}"#).makeBalancer(taskCount: 2)
        XCTAssertEqual(try uw.lossWeights(losses: [1, 1]), [0.5, 0.5])
    }

    func testInvalidOptionsAreRejected() throws {
        let invalid = [
            #"{"weighting": {"method": "fixed", "weights": [1, -0.5]}}"#,
            #"{"weighting": {"method": "fixed", "weights": [1, 1, 1]}}"#,
            #"{"weighting": {"method": "dwa", "temperature": 0}}"#,
            #"{"weighting": {"method": "dwa", "window_steps": 0}}"#,
            #"{"weighting": {"method": "gradnorm", "learning_rate": -1, "scope": "all_shared"}}"#,
            #"{"weighting": {"method": "gradnorm", "loss_ema_decay": 1, "scope": "all_shared"}}"#,
            #"{"combination": {"method": "gradcraft", "tau": 1.5}}"#,
            #"{"combination": {"method": "gradcraft", "epsilon": -0.1}}"#,
        ]
        for json in invalid {
            XCTAssertThrowsError(try decode(json).makeBalancer(taskCount: 2), json) { error in
                XCTAssertTrue(error is TaskBalancerConfigurationError, "\(json): \(error)")
            }
        }
        // Non-finite weights cannot be written in JSON; build them directly.
        XCTAssertThrowsError(try TaskBalancerConfiguration(FixedWeighting.Options(weights: [1, .nan])).validate(taskCount: 2))
        XCTAssertThrowsError(try TaskBalancerConfiguration(FixedWeighting.Options(weights: [.infinity, 1])).validate(taskCount: 2))
        // GradNorm on the last shared layer needs the model's layer names.
        XCTAssertThrowsError(try decode(#"{"weighting": {"method": "gradnorm"}}"#).makeBalancer(taskCount: 2)) { error in
            XCTAssertTrue("\(error)".contains("all_shared"), "\(error)")
        }
    }

    func testStrictDecoding() {
        XCTAssertTrue(decodingMessage(#"{"combination": {"method": "gradcraft", "tua": 1}}"#).contains("unknown key \"tua\""))
        XCTAssertTrue(decodingMessage(#"{"weighting": {"method": "dwa", "tau": 1}}"#).contains("unknown key \"tau\""))
        XCTAssertTrue(decodingMessage(#"{"weigthing": {"method": "dwa"}}"#).contains("unknown key"))
        XCTAssertTrue(decodingMessage(#"{"weighting": {"method": "gradcraft"}}"#).contains("under \"combination\""))
        XCTAssertTrue(decodingMessage(#"{"combination": {"method": "uw"}}"#).contains("under \"weighting\""))
        // (Methods registered by other test targets in the same process follow the built-in ones.)
        XCTAssertTrue(decodingMessage(#"{"weighting": {"method": "mgda"}}"#)
            .hasPrefix("unknown loss weighting method \"mgda\"; known: fixed, dwa, gradnorm, uw"))
        XCTAssertEqual(decodingMessage(#"{"combination": {"method": "gradcraft", "scope": "dense_shared"}}"#), "decoded")
        XCTAssertNotEqual(decodingMessage(#"{"combination": {"method": "gradcraft", "scope": "dense"}}"#), "decoded")
    }

    /// Every camelCase key and kebab-case value of before the snake_case change
    /// is rejected with its new spelling.
    func testOldSpellingsNameTheNewOnes() {
        let renamed = [
            ("dwa", "windowSteps", "window_steps"), ("gradnorm", "learningRate", "learning_rate"),
            ("gradnorm", "adamEpsilon", "adam_epsilon"), ("gradnorm", "lossEMADecay", "loss_ema_decay"),
            ("gradnorm", "initialLossEMASteps", "initial_loss_ema_steps"),
            ("gradnorm", "initialLossEMADecay", "initial_loss_ema_decay"), ("uw", "initialLogVariance", "initial_log_variance"),
        ]
        for (method, old, new) in renamed {
            XCTAssertEqual(decodingMessage(#"{"weighting": {"method": "\#(method)", "\#(old)": 1}}"#),
                           "unknown key \"\(old)\" for method \"\(method)\": renamed to \"\(new)\"")
        }
        let values = [
            (#"{"weighting": {"method": "gradnorm", "scope": "last-shared-layer"}}"#, "scope", "last-shared-layer", "last_shared_layer"),
            (#"{"weighting": {"method": "gradnorm", "scope": "all-shared"}}"#, "scope", "all-shared", "all_shared"),
            (#"{"weighting": {"method": "gradnorm", "variant": "nextrec-clamp"}}"#, "variant", "nextrec-clamp", "nextrec_clamp"),
            (#"{"combination": {"method": "pcgrad", "scope": "dense-shared"}}"#, "scope", "dense-shared", "dense_shared"),
        ]
        for (json, key, old, new) in values {
            XCTAssertEqual(decodingMessage(json), "unknown value \"\(old)\" for \"\(key)\": renamed to \"\(new)\"")
        }
        XCTAssertEqual(decodingMessage(#"{"combination": {"method": "pcgrad", "reduction": "avg"}}"#),
                       "unknown value \"avg\" for \"reduction\"; known: sum, mean")
        XCTAssertEqual(decodingMessage(#"{"weighting": {"method": "dwa", "window": 1}}"#),
                       "unknown key \"window\" for method \"dwa\"; known keys: method, temperature, window_steps")
    }

    func testRegistryListsTheBuiltInMethodsByFamily() throws {
        // Built-in first; other test targets may have registered more.
        XCTAssertEqual(TaskBalancerRegistry.methodNames(.lossWeighting).prefix(4), ["fixed", "dwa", "gradnorm", "uw"])
        XCTAssertEqual(TaskBalancerRegistry.methodNames(.gradientCombination).prefix(2), ["gradcraft", "pcgrad"])
        XCTAssertEqual(try TaskBalancerMethodConfiguration(defaultsOf: "dwa", family: .lossWeighting),
                       TaskBalancerMethodConfiguration(DynamicWeightAverage.Options()))
        XCTAssertThrowsError(try TaskBalancerMethodConfiguration(defaultsOf: "pcgrad", family: .lossWeighting)) { error in
            XCTAssertEqual("\(error)", "invalid loss weighting / gradient combination configuration: \"pcgrad\" is a "
                           + "gradient combination, not a loss weighting: configure it under \"combination\"")
        }
        XCTAssertThrowsError(try TaskBalancerConfiguration(weighting: TaskBalancerMethodConfiguration(GradCraft.Options()))
            .validate(taskCount: 2)) { XCTAssertTrue("\($0)".contains("under \"combination\""), "\($0)") }
        XCTAssertEqual(GradNorm(taskCount: 2, options: .init(scope: .allShared)).family.combinerKind, "loss_weights")
        XCTAssertEqual(PCGrad(taskCount: 2, seed: 1).family.combinerKind, "coefficients")
    }

    func testConfigurationRoundTrip() throws {
        let configurations = [
            TaskBalancerConfiguration(GradNorm.Options(alpha: 0.8, optimizer: .sgd, scope: .allShared,
                                                       variant: .nextrec, lossEMADecay: 0.9, initialLossEMASteps: 3)),
            TaskBalancerConfiguration(DynamicWeightAverage.Options(temperature: 1, windowSteps: 7)),
            TaskBalancerConfiguration(FixedWeighting.Options(weights: [0.25, 4])),
            TaskBalancerConfiguration(UncertaintyWeighting.Options(initialLogVariance: 0.1)),
            TaskBalancerConfiguration(GradCraft.Options(tau: 0.3, epsilon: 1e-9, scope: .denseShared)),
            TaskBalancerConfiguration(PCGrad.Options(reduction: .mean)),
            TaskBalancerConfiguration(),
        ]
        for configuration in configurations {
            let data = try JSONEncoder().encode(configuration)
            XCTAssertEqual(try JSONDecoder().decode(TaskBalancerConfiguration.self, from: data), configuration,
                           String(decoding: data, as: UTF8.self))
        }
    }

    // MARK: checkpoint state

    func roundTrip(_ state: TaskBalancerState) throws -> TaskBalancerState {
        try JSONDecoder().decode(TaskBalancerState.self, from: JSONEncoder().encode(state))
    }

    func testStateIsKeyedByMethodName() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(FixedWeighting(taskCount: 2).state), as: UTF8.self)
        XCTAssertEqual(text, #"{"method":"fixed","state":{"steps":0,"taskCount":2}}"#)
        let unknown = #"{"method": "mgda", "state": {}}"#
        XCTAssertThrowsError(try JSONDecoder().decode(TaskBalancerState.self, from: Data(unknown.utf8))) { error in
            XCTAssertTrue("\(error)".contains("unknown method \"mgda\""), "\(error)")
        }
    }

    /// A balancer restored from the JSON of a checkpoint continues exactly like
    /// the one that kept running.
    func testRestoredBalancersContinueIdentically() throws {
        var rng = RandomGenerator(seed: 12)
        let rows = (0..<3).map { _ in (0..<10).map { _ in rng.normal() } }
        let fixture = TaskGradientFixture(rows: rows)
        let factories: [() -> TaskBalancer] = [
            { GradNorm(taskCount: 3, options: .init(scope: .allShared, lossEMADecay: 0.8, initialLossEMASteps: 2)) },
            { DynamicWeightAverage(taskCount: 3, options: .init(windowSteps: 2)) },
            { PCGrad(taskCount: 3, seed: 5) },
            { GradCraft(taskCount: 3) },
            { UncertaintyWeighting(taskCount: 3) },
            { FixedWeighting(taskCount: 3) },
        ]
        for make in factories {
            let running = make()
            func step(_ balancer: TaskBalancer, _ s: Int) throws -> [Double] {
                let losses = [0.5 + 0.1 * Double(s % 3), 0.7 - 0.05 * Double(s), 0.4 + 0.02 * Double(s * s % 5)]
                var out = try balancer.lossWeights(losses: losses)
                if balancer.requiresPerTaskGradients {
                    try balancer.combine(parameters: fixture.parameters, losses: losses)
                    out += fixture.combinedSharedGradient()
                } else if let uw = balancer as? UncertaintyWeighting {
                    // Stand-in for the optimizer step on the log-variances.
                    for k in 0..<3 { uw.logVariance.value.data[k] -= 0.1 * uw.logVariance.grad.data[k] }
                }
                balancer.finishStep(losses: losses, batchSize: 16)
                return out + balancer.telemetry.weights
            }
            for s in 0..<5 { _ = try step(running, s) }
            let saved = try roundTrip(running.state)
            XCTAssertEqual(saved, running.state, running.methodName)
            let resumed = make()
            try resumed.restore(saved)
            XCTAssertEqual(resumed.state, running.state, running.methodName)
            XCTAssertEqual(resumed.telemetry.step, 5, running.methodName)
            for s in 5..<9 {
                XCTAssertEqual(try step(resumed, s), try step(running, s), "\(running.methodName) step \(s)")
            }
            XCTAssertThrowsError(try FixedWeighting(taskCount: 2).restore(saved), "\(running.methodName): wrong method or size")
        }
        XCTAssertThrowsError(try GradCraft(taskCount: 2).restore(GradCraft(taskCount: 3).state))
    }
}
