import Foundation
@testable import Ranker

/// `adagrad.json`: dense sequences (Keras and PyTorch forms, d = 5 and 50,
/// 3 steps) and a sparse-row sequence (duplicates summed, untouched rows kept),
/// run through `Adagrad` in `Float` from a configuration decoded from JSON.
func checkAdagradGoldens(_ json: GoldenValue, _ checker: GoldenChecker) throws {
    for (c, testCase) in json["cases"].array.enumerated() {
        let kind = testCase["kind"].string
        let form = testCase["form"].string
        let label = "cases[\(c)] \(kind) \(form)"
        let (optimizer, learningRate) = try OptimizerFixtures.optimizer(json: [
            "kind": "adagrad",
            "form": form == "torch" ? "pytorch" : form,
            "learning_rate": testCase["lr"].double,
            "epsilon": testCase["epsilon"].double,
            "initial_accumulator_value": testCase["initial_accumulator_value"].double,
        ])
        let parameter: Parameter
        switch kind {
        case "dense":
            parameter = OptimizerFixtures.dense("w", values: testCase["w0"].floats)
        case "sparse_rows":
            parameter = OptimizerFixtures.table("table", rows: testCase["table0"].floatRows)
            try OptimizerFixtures.setAccumulators(optimizer, [parameter], [testCase["acc0"].flatDoubles.map(Float.init)])
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
            let report = optimizer.step(parameters: [parameter], learningRate: learningRate)
            checker.equal(report.applied, true, "\(label) step \(s) applied")
            let tolerance = s == 0 ? GoldenTolerance.floatStep : GoldenTolerance.floatSequence
            let wKey = kind == "dense" ? "w_after" : "table_after"
            checker.close(parameter.value.toArray(), step[wKey].flatDoubles,
                          rtol: tolerance.rtol, atol: tolerance.atol, "\(label) step \(s) \(wKey)")
            checker.close(OptimizerFixtures.accumulator(optimizer, parameter.name), step["acc_after"].flatDoubles,
                          rtol: tolerance.rtol, atol: tolerance.atol, "\(label) step \(s) acc_after")
            checker.equal(optimizer.clippingFactor(at: 0), 1, "\(label) step \(s) factor without clipping")
        }
    }
}
