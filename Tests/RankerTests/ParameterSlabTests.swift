import XCTest
@testable import Ranker

/// The parameter slab: dense values and gradients of a model in two slabs
/// (shared run first), per-task gradients of the shared run one `T × d`
/// matrix; the Gram matrix and the combination over it against
/// double-precision loops.
final class ParameterSlabTests: XCTestCase {
    /// Shared dense tensors interleaved with an embedding table and
    /// task-specific tensors in list order, bound to a slab, with random
    /// per-task gradients (the embedding table with touched rows, one repeated).
    private struct SlabFixture {
        let taskCount: Int
        let parameters: [Parameter]
        let slab: ParameterSlab
        var named: [String: Parameter] { Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0) }) }

        init(taskCount: Int, seed: UInt64) {
            self.taskCount = taskCount
            parameters = [
                Parameter(name: "table", rows: 9, cols: 3, group: .shared, kind: .embedding),
                Parameter(name: "a.W", rows: 3, cols: 5, group: .shared),
                Parameter(name: "tower0.W", rows: 2, cols: 2, group: .task(0)),
                Parameter(name: "a.b", rows: 1, cols: 7, group: .shared),
                Parameter(name: "c.W", rows: 4, cols: 33, group: .shared),
                Parameter(name: "tower1.W", rows: 3, cols: 1, group: .task(1)),
            ]
            var rng = RandomGenerator(seed: seed)
            for p in parameters { for i in 0..<p.count { p.value.data[i] = Float(rng.normal()) } }
            slab = ParameterSlab(parameters: parameters)
            let table = parameters[0]
            table.sparseGrad!.set(ids: [4, 1, 7, 1], rows: (0..<4).map { _ in [0, 0, 0] })
            for p in parameters where p.group == .shared {
                p.prepareTaskGradients(tasks: taskCount)
                for t in 0..<taskCount {
                    let g = p.taskGradient(t)
                    for k in 0..<p.gradientCount { g[k] = Float(rng.normal() * 3) }
                }
            }
        }

        /// `P[i][j]` as a loop in `Double` over the included tensors.
        func exactGram(include: (Parameter) -> Bool) -> [Double] {
            var p = [Double](repeating: 0, count: taskCount * taskCount)
            for parameter in parameters where include(parameter) {
                for i in 0..<taskCount {
                    for j in 0..<taskCount {
                        let gi = parameter.taskGradient(i), gj = parameter.taskGradient(j)
                        for k in 0..<parameter.gradientCount { p[i * taskCount + j] += Double(gi[k]) * Double(gj[k]) }
                    }
                }
            }
            return p
        }
    }

    func testSlabHoldsTheDenseTensorsSharedFirstAndAliasesThem() throws {
        var rng = RandomGenerator(seed: 3)
        let before = (0..<6).map { _ in Float(rng.normal()) }
        let shared = Parameter(name: "s", rows: 2, cols: 3, group: .shared)
        let task = Parameter(name: "t", rows: 1, cols: 17, group: .task(0))
        let table = Parameter(name: "e", rows: 4, cols: 2, group: .shared, kind: .embedding)
        shared.value.copy(from: before)
        let slab = ParameterSlab(parameters: [task, table, shared])
        XCTAssertEqual(slab.parameters.map(\.name), ["t", "e", "s"], "the model's order is kept")
        XCTAssertEqual(slab.denseParameters.map(\.name), ["s", "t"], "shared dense tensors first")
        XCTAssertEqual(slab.sharedCount, 16, "one 16-float aligned segment")
        XCTAssertEqual(slab.values.offsets, [0, 16])
        XCTAssertEqual(shared.value.toArray(), before, "binding keeps the values")
        XCTAssertFalse(table.value.isBorrowed, "embedding tables keep their own storage")
        XCTAssertTrue(shared.value.isBorrowed && shared.grad.isBorrowed && task.value.isBorrowed)
        // Writing through either side is seen by the other.
        slab.values.data[16 + 5] = 42
        XCTAssertEqual(task.value[0, 5], 42)
        shared.grad[1, 2] = -7
        XCTAssertEqual(slab.gradients.data[5], -7)
        shared.value[0, 1] = 9
        XCTAssertEqual(slab.values.data[1], 9)
        // Per-task gradients of the shared run are rows of one T × d matrix.
        shared.prepareTaskGradients(tasks: 3)
        XCTAssertEqual(slab.taskGradients.view.rows, 3)
        XCTAssertEqual(slab.taskGradients.view.ld, 16)
        shared.taskGradient(2)[4] = 5
        XCTAssertEqual(slab.taskGradients.view[2, 4], 5)
        XCTAssertEqual(task.taskGradients.count, 0, "task-specific tensors have no per-task gradients")
    }

    func testModelParametersLiveInTheSlabAndThePerTaskPassWritesTheMatrix() throws {
        for kind in [ModelKind.sharedBottom, .mmoe, .ple, .esmm] {
            let c = ModelFixtures.configuration(kind)
            let model = try ModelFixtures.model(c)
            let slab = model.parameterSlab
            XCTAssertEqual(model.parameters.map(\.name), slab.parameters.map(\.name))
            for (i, p) in slab.denseParameters.enumerated() {
                XCTAssertEqual(p.value.data, slab.values.data + slab.values.offsets[i], "\(kind) \(p.name)")
                XCTAssertEqual(p.grad.data, slab.gradients.data + slab.values.offsets[i], "\(kind) \(p.name)")
                XCTAssertEqual(slab.values.offsets[i] < slab.sharedCount, p.group == .shared, "\(kind) \(p.name)")
            }
            let batch = ModelFixtures.batch(for: c, size: 6, seed: 5)
            let g = Matrix(rows: 0, cols: 0)
            _ = model.computeLosses(logits: model.forward(batch), labels: batch.labels.view, taskGradients: g)
            model.backwardPerTask(taskLogitGradients: g.view)
            let matrix = slab.taskGradients.view
            XCTAssertEqual(matrix.rows, model.taskCount)
            var covered = [Bool](repeating: false, count: slab.sharedCount)
            for (i, p) in slab.denseParameters.enumerated() where p.group == .shared {
                for t in 0..<model.taskCount {
                    XCTAssertEqual(p.taskGradient(t), matrix.row(t) + slab.values.offsets[i], "\(kind) \(p.name)")
                }
                for k in 0..<p.count { covered[slab.values.offsets[i] + k] = true }
            }
            for t in 0..<model.taskCount {
                for k in 0..<slab.sharedCount where !covered[k] {
                    XCTAssertEqual(matrix[t, k], 0, "\(kind): alignment gap \(k) of task \(t) stays zero")
                }
            }
        }
    }

    func testGramOverTheSlabEqualsADoubleLoop() throws {
        for taskCount in [2, 3, 6] {
            let fixture = SlabFixture(taskCount: taskCount, seed: UInt64(taskCount))
            let scopes: [(String, (Parameter) -> Bool)] = [
                ("all shared", SharedGradientScope.allShared.includes),
                ("dense shared", SharedGradientScope.denseShared.includes),
                ("a.W and c.W", { $0.name == "a.W" || $0.name == "c.W" }),
            ]
            for (label, include) in scopes {
                let exact = fixture.exactGram(include: include)
                for width in [1, 5, 16, 4096] {
                    let gram = TaskGradientGram(taskCount: taskCount, blockColumns: width)
                    try gram.compute(parameters: fixture.parameters, include: include)
                    for i in 0..<taskCount {
                        for j in 0..<taskCount {
                            let bound = 1e-14 * (exact[i * taskCount + i] * exact[j * taskCount + j]).squareRoot()
                            XCTAssertEqual(gram[i, j], exact[i * taskCount + j], accuracy: bound,
                                           "T=\(taskCount) \(label) width \(width) P[\(i)][\(j)]")
                        }
                    }
                }
            }
        }
    }

    func testSharedDenseTensorsAreOneRun() {
        let fixture = SlabFixture(taskCount: 3, seed: 1)
        func runs(_ include: (Parameter) -> Bool) -> [String] {
            var names: [String] = []
            TaskGradientRuns.forEach(parameters: fixture.parameters, taskCount: 3, include: include) { first, g in
                names.append("\(first.name):\(g.cols)")
            }
            return names
        }
        // a.W (15) + gap (1) + a.b (7) + gap (9) + c.W (132) = 164 columns.
        XCTAssertEqual(runs(SharedGradientScope.allShared.includes), ["table:9", "a.W:164"])
        XCTAssertEqual(runs(SharedGradientScope.denseShared.includes), ["a.W:164"])
        XCTAssertEqual(runs { $0.name == "a.W" || $0.name == "c.W" }, ["a.W:15", "c.W:132"], "a gap of a.b splits the run")
    }

    func testNonFiniteTaskGradientNamesTheFirstTensorAndTask() {
        let cases: [([(String, Int, Int, Float)], String, Int)] = [
            ([("c.W", 2, 100, .nan)], "c.W", 2),
            ([("c.W", 2, 100, .nan), ("a.W", 1, 3, .infinity)], "a.W", 1),
            ([("a.b", 1, 6, -.infinity), ("a.b", 0, 0, .nan)], "a.b", 0),
            ([("c.W", 0, 0, .nan), ("table", 2, 8, .infinity)], "table", 2),
        ]
        for (poison, name, task) in cases {
            let fixture = SlabFixture(taskCount: 3, seed: 9)
            for (tensor, t, k, value) in poison { fixture.named[tensor]!.taskGradient(t)[k] = value }
            let gram = TaskGradientGram(taskCount: 3, blockColumns: 16)
            XCTAssertThrowsError(try gram.compute(parameters: fixture.parameters,
                                                  include: SharedGradientScope.allShared.includes)) { error in
                XCTAssertEqual(error as? TaskBalancingError, .nonFiniteTaskGradient(parameter: name, task: task),
                               "\(poison)")
            }
        }
    }

    func testCombinationOverTheSlabEqualsADoubleSum() {
        let fixture = SlabFixture(taskCount: 4, seed: 21)
        let coefficients = [0.7, -0.25, 1.5, 0.125]
        fixture.slab.gradients.buffer.update(repeating: .nan)
        var scratch: [Float] = []
        TaskGradientMixing.writeCombination(coefficients: coefficients, parameters: fixture.parameters, scratch: &scratch,
                                            include: SharedGradientScope.allShared.includes)
        for p in fixture.parameters where p.group == .shared {
            for k in 0..<p.gradientCount {
                var expected = 0.0
                for t in 0..<4 { expected += Double(Float(coefficients[t])) * Double(p.taskGradient(t)[k]) }
                XCTAssertEqual(Double(p.gradientPointer[k]), expected, accuracy: 1e-5 * max(1, abs(expected)), "\(p.name)[\(k)]")
            }
        }
        XCTAssertEqual(fixture.slab.gradients.data[15], 0, "the gap after a.W is Σ c_t · 0")
    }
}
