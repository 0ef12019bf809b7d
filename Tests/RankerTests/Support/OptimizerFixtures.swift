import Foundation
@testable import Ranker

/// Small parameter tensors for optimizer tests.
enum OptimizerFixtures {
    /// A dense `rows × cols` parameter with the given values (row-major) and a zero gradient.
    static func dense(_ name: String, rows: Int = 1, values: [Float]) -> Parameter {
        precondition(values.count % rows == 0)
        let p = Parameter(name: name, rows: rows, cols: values.count / rows, group: .shared)
        p.value.copy(from: values)
        return p
    }

    /// An embedding table with the given rows and no touched rows.
    static func table(_ name: String, rows: [[Float]]) -> Parameter {
        let p = Parameter(name: name, rows: rows.count, cols: rows[0].count, group: .shared, kind: .embedding)
        p.value.copy(from: rows.flatMap { $0 })
        return p
    }

    /// Sets a dense parameter's gradient.
    static func setGradient(_ p: Parameter, _ values: [Float]) {
        p.grad.copy(from: values)
    }

    /// Sets an embedding table's sparse gradient from `(id, row)` pairs (duplicates summed).
    static func setSparseGradient(_ p: Parameter, ids: [Int], rows: [[Float]]) {
        p.sparseGrad!.set(ids: ids, rows: rows)
    }

    /// Sets the accumulator of `p` in `optimizer` (through the checkpoint path).
    static func setAccumulators(_ optimizer: Optimizer, _ parameters: [Parameter], _ values: [[Float]]) throws {
        let tensors = zip(parameters, values).map { p, v in
            (name: p.name, value: Matrix(rows: p.rows, cols: p.cols, values: v))
        }
        try optimizer.restoreState(tensors: tensors, scalars: optimizer.scalarState, parameters: parameters)
    }

    /// The accumulator of the parameter named `name` (flat, row-major).
    static func accumulator(_ optimizer: Optimizer, _ name: String) -> [Float] {
        optimizer.stateTensors().first { $0.name == name }!.value.toArray()
    }

    /// An optimizer built from a configuration given as a JSON object.
    static func optimizer(json object: [String: Any]) throws -> (optimizer: Optimizer, learningRate: Float) {
        let data = try JSONSerialization.data(withJSONObject: object)
        let configuration = try JSONDecoder().decode(OptimizerConfiguration.self, from: data)
        return (try configuration.makeOptimizer(), configuration.learningRate)
    }
}
