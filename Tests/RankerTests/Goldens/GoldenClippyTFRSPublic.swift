import Foundation
@testable import Ranker

/// `clippy_tfrs_public.json`: the TFRS test vectors — `shrink_by_references`
/// through `ShrinkByReferences.shrink` (the kernels `ClippyAdagrad` uses) and
/// the four single optimizer steps, dense and sparse, through `ClippyAdagrad`
/// built from a configuration decoded from JSON (unlisted options take the
/// TFRS defaults, i.e. the `tfrs` preset).
func checkClippyTFRSPublicGoldens(_ json: GoldenValue, _ checker: GoldenChecker) throws {
    let tolerance = GoldenTolerance.floatStep
    for (c, testCase) in json["shrink_by_references"].array.enumerated() {
        let label = "shrink_by_references[\(c)]"
        let tensor = flattened(testCase["tensor"]).map(Float.init)
        let references = testCase["references"].array.map { flattened($0).map(Float.init) }
        let (shrunk, scale) = try ShrinkByReferences.shrink(
            tensor, references: references, relativeFactors: testCase["relative_factors"].floats,
            absoluteFactor: testCase["absolute_factor"].float)
        let expectedScale = testCase["expected_scale"].double
        checker.equal(scale < 1, expectedScale < 1, "\(label) clips")
        checker.close(Double(scale), expectedScale, rtol: tolerance.rtol, atol: tolerance.atol, "\(label) scale")
        checker.close(shrunk, flattened(testCase["expected_tensor"]),
                      rtol: tolerance.rtol, atol: tolerance.atol, "\(label) tensor")
    }

    for testCase in json["optimizer_single_step"].array {
        let label = testCase["name"].string
        var configuration: [String: Any] = [
            "kind": "clippy", "preset": "tfrs",
            "learning_rate": testCase["learning_rate"].double,
            "initial_accumulator_value": testCase["initial_accumulator_value"].double,
        ]
        for key in testCase["options"].keys { configuration[key] = testCase["options"][key].raw }
        let expectedFactors = testCase["expected_clipping_factors"].doubles

        // Dense variable.
        let (dense, learningRate) = try OptimizerFixtures.optimizer(json: configuration)
        let x = OptimizerFixtures.dense("x", values: testCase["x"].floats)
        OptimizerFixtures.setGradient(x, testCase["g"].floats)
        dense.step(parameters: [x], learningRate: learningRate)
        checker.close(x.value.toArray(), testCase["expected_x"].doubles,
                      rtol: tolerance.rtol, atol: tolerance.atol, "\(label) dense x")
        checker.close(OptimizerFixtures.accumulator(dense, "x"), testCase["expected_accumulator"].doubles,
                      rtol: tolerance.rtol, atol: tolerance.atol, "\(label) dense accumulator")
        checker.equal(dense.clippingFactor(named: "x")! < 1, expectedFactors[0] < 1, "\(label) dense clips")
        checker.close(Double(dense.clippingFactor(named: "x")!), expectedFactors[0],
                      rtol: tolerance.rtol, atol: tolerance.atol, "\(label) dense clipping factor")

        // Sparse variable (embedding table, one touched row).
        let (sparse, _) = try OptimizerFixtures.optimizer(json: configuration)
        let table = OptimizerFixtures.table("table", rows: testCase["sparse_x"].floatRows)
        OptimizerFixtures.setSparseGradient(table, ids: testCase["sparse_indices"].ints,
                                            rows: testCase["sparse_values"].floatRows)
        sparse.step(parameters: [table], learningRate: learningRate)
        checker.close(table.value.toArray(), testCase["expected_sparse_x"].flatDoubles,
                      rtol: tolerance.rtol, atol: tolerance.atol, "\(label) sparse x")
        checker.close(OptimizerFixtures.accumulator(sparse, "table"), testCase["expected_sparse_accumulator"].flatDoubles,
                      rtol: tolerance.rtol, atol: tolerance.atol, "\(label) sparse accumulator")
        checker.equal(sparse.clippingFactor(named: "table")! < 1, expectedFactors[1] < 1, "\(label) sparse clips")
        checker.close(Double(sparse.clippingFactor(named: "table")!), expectedFactors[1],
                      rtol: tolerance.rtol, atol: tolerance.atol, "\(label) sparse clipping factor")
    }
}

/// A golden number or (nested) array of numbers as a flat list.
private func flattened(_ value: GoldenValue) -> [Double] {
    value.raw is [Any] ? value.flatDoubles : [value.double]
}
