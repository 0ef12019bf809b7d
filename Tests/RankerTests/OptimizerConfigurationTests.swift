import XCTest
@testable import Ranker

/// `OptimizerConfiguration`: JSON keys, defaults, overrides on presets and
/// forms, strict key checking and value validation.
final class OptimizerConfigurationTests: XCTestCase {
    func decode(_ json: String) throws -> OptimizerConfiguration {
        try JSONDecoder().decode(OptimizerConfiguration.self, from: Data(json.utf8))
    }

    func testClippyPresetWithOverrides() throws {
        let c = try decode("""
            {"kind": "clippy", "preset": "tfrs", "learning_rate": 0.05, "absolute_threshold": 0.001,
             "clip_accumulator_update": true}
            """)
        XCTAssertEqual(c.learningRate, 0.05)
        var expected = ClippyAdagradOptions.tfrs
        expected.absoluteThreshold = 0.001
        expected.clipAccumulatorUpdate = true
        XCTAssertEqual(try c.clippyOptions(), expected)
        let optimizer = try c.makeOptimizer()
        XCTAssertEqual((optimizer as? ClippyAdagrad)?.options, expected)
    }

    func testDefaults() throws {
        let clippy = try decode(#"{"kind": "clippy"}"#)
        XCTAssertEqual(clippy.learningRate, 0.01, "library default learning rate (ALGORITHMS.md 4.2.4)")
        XCTAssertEqual(try clippy.clippyOptions(), .project)
        let adagrad = try decode(#"{"kind": "adagrad"}"#)
        XCTAssertEqual(adagrad.learningRate, 0.01)
        XCTAssertEqual(try adagrad.adagradOptions(), .keras)
        let torch = try decode(#"{"kind": "adagrad", "form": "pytorch"}"#)
        XCTAssertEqual(try torch.adagradOptions(), .pytorch)
        XCTAssertEqual(try OptimizerConfiguration.clippy().clippyOptions(), .project)
    }

    func testAdagradWithClipping() throws {
        let c = try decode("""
            {"kind": "adagrad", "epsilon": 1e-8,
             "clipping": {"method": "gradient_norm", "threshold": 2.0, "global": true}}
            """)
        XCTAssertEqual(try c.adagradOptions(),
                       AdagradOptions(epsilon: 1e-8, clipping: .gradientNorm(threshold: 2, global: true)))
        let agc = try decode(#"{"kind": "adagrad", "clipping": {"method": "adaptive", "lambda": 0.01}}"#)
        XCTAssertEqual(agc.configuration(as: AdagradConfiguration.self)?.clipping, .adaptive(lambda: 0.01, epsilon: 1e-3))
        XCTAssertTrue(try agc.makeOptimizer() is Adagrad)
    }

    func testEncodeDecodeRoundTrip() throws {
        var paper = ClippyAdagradConfiguration(preset: .paper)
        paper.variableRelativeThreshold = 0.3
        let configurations: [OptimizerConfiguration] = [
            .adagrad(learningRate: 0.2, form: .pytorch, clipping: .adaptive(lambda: 0.02, epsilon: 1e-4)),
            .adagrad(clipping: .gradientNorm(threshold: 1)),
            .adagrad(clipping: GradientClipping.none),
            OptimizerConfiguration(ClippyAdagradRule.self, learningRate: 0.1,
                                   configuration: paper),
        ]
        for c in configurations {
            let data = try JSONEncoder().encode(c)
            XCTAssertEqual(try JSONDecoder().decode(OptimizerConfiguration.self, from: data), c,
                           String(decoding: data, as: UTF8.self))
        }
    }

    func testStrictKeysAndInvalidValues() throws {
        func rejects(_ json: String, _ expected: OptimizerConfigurationError, line: UInt = #line) {
            XCTAssertThrowsError(try decode(json).makeOptimizer(), line: line) { error in
                XCTAssertEqual(error as? OptimizerConfigurationError, expected, line: line)
            }
        }
        rejects(#"{"kind": "clippy", "absolut_threshold": 0.1}"#,
                .unknownKey("absolut_threshold", known: (["kind", "learning_rate"] + ClippyAdagradRule.configurationKeys).sorted()))
        rejects(#"{"kind": "adagrad", "preset": "tfrs"}"#, .optionNotApplicable(key: "preset", kind: "adagrad"))
        rejects(#"{"kind": "clippy", "clipping": {"method": "none"}}"#,
                .optionNotApplicable(key: "clipping", kind: "clippy"))
        rejects(#"{"kind": "adagrad", "clipping": {"method": "adaptive", "lambda": 0.1, "threshold": 1}}"#,
                .optionNotApplicable(key: "threshold", kind: "clipping method adaptive"))
        rejects(#"{"kind": "clippy", "learning_rate": 0}"#, .nonPositiveValue(name: "learning_rate", value: 0))
        rejects(#"{"kind": "clippy", "variable_relative_threshold": -0.5}"#,
                .negativeValue(name: "variable_relative_threshold", value: -0.5))
        rejects(#"{"kind": "clippy", "preset": "paper", "clip_accumulator_update": true}"#,
                .clipAccumulatorUpdateWithStandardUpdate)
        rejects(#"{"kind": "adagrad", "clipping": {"method": "gradient_norm", "threshold": -1}}"#,
                .nonPositiveValue(name: "clipping.threshold", value: -1))
        XCTAssertThrowsError(try decode(#"{"kind": "sgd"}"#))
        XCTAssertThrowsError(try decode(#"{"learning_rate": 0.1}"#), "kind is required")
        XCTAssertThrowsError(try decode(#"{"kind": "adagrad", "clipping": {"method": "clip"}}"#))
    }
}
