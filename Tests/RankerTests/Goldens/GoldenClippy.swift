import Foundation
@testable import Ranker

/// `clippy.json`: 4-step dense sequences (d = 5, 50) and 3-step sparse
/// sequences (duplicates, a zero row) for every option set, plus the zero-bias
/// demo, through `ClippyAdagrad` in `Float`, built from a configuration decoded
/// from JSON with every option of the case spelled out. Cases named after a
/// preset also check that the preset holds exactly the case's options.
/// Clip-or-not decisions (`sigma < 1`) must match exactly; values at the
/// float32 tolerances (first step single-step, later steps sequence).
func checkClippyGoldens(_ json: GoldenValue, _ checker: GoldenChecker) throws {
    for (c, testCase) in json["cases"].array.enumerated() {
        let kind = testCase["kind"].string
        let presetName = testCase["preset"].string
        let label = "cases[\(c)] \(kind) \(presetName)"
        var configuration: [String: Any] = [
            "kind": "clippy",
            "learning_rate": testCase["learning_rate"].double,
            "initial_accumulator_value": testCase["initial_accumulator_value"].double,
            // Unlisted boolean options are false (file description).
            "use_standard_accumulator_update": false,
            "clip_accumulator_update": false,
        ]
        for key in testCase["options"].keys { configuration[key] = testCase["options"][key].raw }
        let (optimizer, learningRate) = try OptimizerFixtures.optimizer(json: configuration)
        if let preset = clippyPreset(named: presetName) {
            checker.equal((optimizer as! ClippyAdagrad).options, preset.options, "\(label): preset \(preset) options")
        }

        let parameter: Parameter
        switch kind {
        case "dense": parameter = OptimizerFixtures.dense("w", values: testCase["w0"].floats)
        case "sparse_rows": parameter = OptimizerFixtures.table("table", rows: testCase["table0"].floatRows)
        default:
            checker.fail("\(label): unknown kind")
            continue
        }
        for (s, step) in testCase["steps"].array.enumerated() {
            if kind == "dense" {
                OptimizerFixtures.setGradient(parameter, step["grad"].floats)
            } else {
                OptimizerFixtures.setSparseGradient(parameter, ids: step["indices"].ints, rows: step["values"].floatRows)
            }
            optimizer.step(parameters: [parameter], learningRate: learningRate)
            let tolerance = s == 0 ? GoldenTolerance.floatStep : GoldenTolerance.floatSequence
            let wKey = kind == "dense" ? "w_after" : "table_after"
            checker.close(parameter.value.toArray(), step[wKey].flatDoubles,
                          rtol: tolerance.rtol, atol: tolerance.atol, "\(label) step \(s) \(wKey)")
            checker.close(OptimizerFixtures.accumulator(optimizer, parameter.name), step["acc_after"].flatDoubles,
                          rtol: tolerance.rtol, atol: tolerance.atol, "\(label) step \(s) acc_after")
            checkFactor(optimizer.clippingFactor(at: 0), step["clipping_factor"].double, rtol: tolerance.rtol,
                        checker, "\(label) step \(s)")
        }
    }

    let demo = json["zero_bias_demo"]
    for presetName in demo["trajectories"].keys {
        let label = "zero_bias_demo \(presetName)"
        guard let preset = clippyPreset(named: presetName) else {
            checker.fail("\(label): unknown preset")
            continue
        }
        let (optimizer, learningRate) = try OptimizerFixtures.optimizer(json: [
            "kind": "clippy", "preset": preset.rawValue, "learning_rate": demo["learning_rate"].double,
        ])
        let bias = OptimizerFixtures.dense("bias", values: demo["w0"].floats)
        for (s, step) in demo["trajectories"][presetName].array.enumerated() {
            OptimizerFixtures.setGradient(bias, demo["grad_each_step"].floats)
            optimizer.step(parameters: [bias], learningRate: learningRate)
            let tolerance = s == 0 ? GoldenTolerance.floatStep : GoldenTolerance.floatSequence
            checker.close(bias.value.toArray(), step["w_after"].doubles,
                          rtol: tolerance.rtol, atol: tolerance.atol, "\(label) step \(s) w_after")
            checkFactor(optimizer.clippingFactor(named: "bias")!, step["clipping_factor"].double, rtol: tolerance.rtol,
                        checker, "\(label) step \(s)")
        }
    }
}

/// The golden files' preset names.
private func clippyPreset(named name: String) -> ClippyPreset? {
    switch name {
    case "tfrs_defaults": return .tfrs
    case "project_default": return .project
    case "paper_form": return .paper
    default: return nil
    }
}

/// The clip decision exactly, the value relatively (factors can be ~1e-8,
/// so no absolute tolerance).
private func checkFactor(_ actual: Float, _ expected: Double, rtol: Double, _ checker: GoldenChecker, _ label: String) {
    checker.equal(actual < 1, expected < 1, "\(label) clips")
    checker.close(Double(actual), expected, rtol: rtol, atol: 0, "\(label) clipping factor")
}
