import XCTest
@testable import Ranker

/// GradCraft and PCGrad: the worked examples of ALGORITHMS.md (6.1.4, 6.2), the defining
/// constraints, the edge cases of 6.1.3, and the path through real Parameters.
final class GradientCombinationTests: XCTestCase {
    /// ALGORITHMS.md 6.1.4's gradients (every pair conflicts).
    let example: [[Double]] = [[1, 0, 0], [-1, 2, 0], [-0.5, -1, 0.5]]

    func randomRows(tasks: Int, dimension: Int, seed: UInt64) -> [[Double]] {
        var rng = RandomGenerator(seed: seed)
        return (0..<tasks).map { _ in (0..<dimension).map { _ in rng.normal() } }
    }

    func assertClose(_ actual: [Double], _ expected: [Double], rtol: Double, atol: Double = 0,
                     _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, message, file: file, line: line)
        for (a, e) in zip(actual, expected) where !(abs(a - e) <= atol + rtol * abs(e)) {
            XCTFail("\(message): got \(actual), expected \(expected)", file: file, line: line)
            return
        }
    }

    func project(_ rows: [[Double]], tau: Double, epsilon: Double) throws -> GradCraftProjection {
        try GradCraftProjection(gram: GradientRows.gram(rows), tau: tau, epsilon: epsilon, solver: SymmetricSolver())
    }

    func tilde(_ rows: [[Double]], _ p: GradCraftProjection, _ i: Int) -> [Double] {
        GradientRows.combine(rows, (0..<rows.count).map { p.rawCoefficient(i, $0) })
    }

    // MARK: ALGORITHMS.md 6.1.4

    func testGradCraftWorkedExampleTauOne() throws {
        let p = try project(example, tau: 1, epsilon: 0)
        assertClose(p.norms, [1, 2.236068, 1.224745], rtol: 1e-6, "norms")
        assertClose(p.scales, [2.236068, 1, 1.825742], rtol: 1e-6, "scales")
        XCTAssertEqual(p.conflicts, [[1, 2], [0, 2], [0, 1]])
        assertClose(tilde(example, p, 0), [0.4259177, 0.2129589, 0.8518354], rtol: 1e-6, "g~1")
        assertClose(tilde(example, p, 1), [0, 0.4, 0.8], rtol: 1e-6, atol: 1e-12, "g~2")
        assertClose(tilde(example, p, 2), [0, 0, 0.9128709], rtol: 1e-6, atol: 1e-12, "g~3")
        assertClose(GradientRows.combine(example, p.coefficients), [0.1419726, 0.2043196, 0.8549021], rtol: 1e-6, "combined")
        assertClose(p.coefficients, [1.953937, 0.9570619, 1.709804], rtol: 1e-6, "coefficients")
        XCTAssertEqual(p.pseudoInverseCount, 0)
    }

    func testGradCraftWorkedExampleTauZero() throws {
        let p = try project(example, tau: 0, epsilon: 0)
        assertClose(p.scales, [1, 1, 1], rtol: 0, "scales")
        assertClose(tilde(example, p, 0), [0.1904762, 0.0952381, 0.3809524], rtol: 1e-6, "g~1")
        assertClose(tilde(example, p, 1), [0, 0.4, 0.8], rtol: 1e-6, atol: 1e-12, "g~2")
        assertClose(tilde(example, p, 2), [0, 0, 0.5], rtol: 1e-6, atol: 1e-12, "g~3")
        assertClose(GradientRows.combine(example, p.coefficients), [0.06349206, 0.1650794, 0.5603175], rtol: 1e-6, "combined")
    }

    func testGradCraftWorkedExampleEpsilon() throws {
        let p = try project(example, tau: 1, epsilon: 0.1)
        assertClose(tilde(example, p, 0), [0.002975783, 0.2514879, 1.053674], rtol: 1e-6, "g~1")
        assertClose(tilde(example, p, 1), [0.2236068, 0.09146826, 0.9542659], rtol: 1e-6, "g~2")
        assertClose(tilde(example, p, 2), [0.2236068, 0.3618034, 0.9128709], rtol: 1e-6, "g~3")
        assertClose(GradientRows.combine(example, p.coefficients), [0.1500631, 0.2349198, 0.9736036], rtol: 1e-6, "combined")
        // "every constrained inner product equals 0.1 · 2.236068² = 0.5"
        for i in 0..<3 {
            for j in p.conflicts[i] {
                let hatJ = example[j].map { $0 * p.scales[j] }
                XCTAssertEqual(GradientRows.dot(tilde(example, p, i), hatJ), 0.5, accuracy: 1e-12, "<g~\(i), g^\(j)>")
            }
        }
    }

    // MARK: ALGORITHMS.md 6.2

    func testPCGradWorkedExample() {
        let orders = [[0, 1, 2], [0, 1, 2], [0, 1, 2]]
        let p = PCGradProjection(gram: GradientRows.gram(example), orders: orders, reduction: .sum)
        let pc = (0..<3).map { i in GradientRows.combine(example, (0..<3).map { p.projectionCoefficient(i, $0) }) }
        // The spec's numbers are printed to 7 digits; LibMTL's +1e-8 moves them by ~1e-8.
        assertClose(pc[0], [0.5333333, -0.1333333, 0.2666667], rtol: 1e-6, "pc1")
        assertClose(pc[1], [-0.6666667, 0.6666667, 0.6666667], rtol: 1e-6, "pc2")
        assertClose(pc[2], [-0.4, -0.2, 0.5], rtol: 1e-6, "pc3")
        assertClose(GradientRows.combine(example, p.coefficients), [-0.5333333, 0.3333333, 1.433333], rtol: 1e-6, "sum")
    }

    /// LibMTL projects `pc_i` against `g_i` itself when earlier projections made
    /// `<pc_i, g_i>` negative (the paper's loop would skip it).
    func testPCGradProjectsAgainstItselfWhenNeeded() {
        // g_0 nearly opposite to g_1: after projecting g_0 on g_1, pc_0 · g_0 stays >= 0
        // for two tasks, so build three: g_0 = [1, 0], g_1 = [-1, 0.1], g_2 = [-0.2, -1].
        let rows: [[Double]] = [[1, 0], [-1, 0.1], [-0.2, -1]]
        let gram = GradientRows.gram(rows)
        let withSelfLast = PCGradProjection(gram: gram, orders: [[1, 2, 0], [0, 1, 2], [0, 1, 2]], reduction: .sum,
                                            denominatorEpsilon: 0)
        // Reference computed directly on the vectors, sequentially.
        var pc = rows[0]
        var projections = 0
        for j in [1, 2, 0] {
            let d = GradientRows.dot(pc, rows[j])
            if d < 0 {
                let f = d / GradientRows.dot(rows[j], rows[j])
                pc = zip(pc, rows[j]).map { $0 - f * $1 }
                projections += 1
            }
        }
        XCTAssertEqual(projections, 3, "this case must project against g_0 itself")
        let a = (0..<3).map { withSelfLast.projectionCoefficient(0, $0) }
        assertClose(GradientRows.combine(rows, a), pc, rtol: 1e-12, atol: 1e-15, "pc_0 with the self projection")
    }

    // MARK: properties

    /// After projection `<g~_i, g^_j> = eps ||g^_i|| ||g^_j||` for every `j ∈ C_i`,
    /// and `g~_i − g^_i` lies in the span of the conflicting `g^_j`.
    func testGradCraftConstraintsHoldAfterProjection() throws {
        for seed in UInt64(1)...20 {
            let rows = randomRows(tasks: 5, dimension: 12, seed: seed)
            for (tau, epsilon) in [(1.0, 0.0), (0.5, 0.05), (0.0, 0.0), (1.0, 0.2)] {
                let p = try project(rows, tau: tau, epsilon: epsilon)
                let hats = rows.indices.map { i in rows[i].map { $0 * p.scales[i] } }
                for i in rows.indices {
                    let t = tilde(rows, p, i)
                    for j in p.conflicts[i] {
                        let target = epsilon * GradientRows.norm(hats[i]) * GradientRows.norm(hats[j])
                        XCTAssertEqual(GradientRows.dot(t, hats[j]), target, accuracy: 1e-9 * max(1, target),
                                       "seed \(seed) tau \(tau) eps \(epsilon): <g~\(i), g^\(j)>")
                    }
                    for j in rows.indices where !p.conflicts[i].contains(j) && j != i {
                        XCTAssertEqual(p.projectionWeight(i, j), 0, "no weight outside C_\(i)")
                    }
                    XCTAssertEqual(p.conflicts[i].contains(i), false)
                    // Conflict sets are exactly the negative inner products of the raw gradients.
                    XCTAssertEqual(p.conflicts[i], rows.indices.filter { GradientRows.dot(rows[i], rows[$0]) < 0 })
                }
            }
        }
    }

    /// Two tasks, `tau = 0`, `eps = 0`: GradCraft's mean equals PCGrad's mean
    /// (exact projection; with LibMTL's 1e-8 guard to ~1e-8 relative).
    func testGradCraftTwoTasksEqualsPCGradMean() throws {
        var tested = 0
        for seed in UInt64(100)...140 {
            let rows = randomRows(tasks: 2, dimension: 7, seed: seed)
            let p = try project(rows, tau: 0, epsilon: 0)
            for orders in [[[0, 1], [0, 1]], [[1, 0], [1, 0]]] {
                let exact = PCGradProjection(gram: GradientRows.gram(rows), orders: orders, reduction: .mean,
                                             denominatorEpsilon: 0)
                assertClose(exact.coefficients, p.coefficients, rtol: 1e-12, "seed \(seed): coefficients")
                let libmtl = PCGradProjection(gram: GradientRows.gram(rows), orders: orders, reduction: .mean)
                assertClose(libmtl.coefficients, p.coefficients, rtol: 1e-7, "seed \(seed): LibMTL guard")
            }
            if !p.conflicts[0].isEmpty { tested += 1 }
        }
        XCTAssertGreaterThan(tested, 5, "enough conflicting pairs")
    }

    func testZeroGradientTask() throws {
        let rows: [[Double]] = [[1, 2, -1], [0, 0, 0], [-1, 0.5, 0.5]]
        let p = try project(rows, tau: 1, epsilon: 0)
        XCTAssertEqual(p.scales[1], 1, "zero row keeps scale 1")
        XCTAssertEqual(p.conflicts[1], [])
        XCTAssertFalse(p.conflicts[0].contains(1) || p.conflicts[2].contains(1))
        XCTAssertEqual(p.coefficients[1], 1.0 / 3.0, accuracy: 1e-15, "the zero row still counts in the mean")
        XCTAssertTrue(p.coefficients.allSatisfy(\.isFinite))
        // Combined = mean of g~_0, 0, g~_2 with the zero row contributing nothing.
        let expected = GradientRows.combine([tilde(rows, p, 0), tilde(rows, p, 2)], [1.0 / 3, 1.0 / 3])
        assertClose(GradientRows.combine(rows, p.coefficients), expected, rtol: 1e-13, atol: 1e-15, "combined")

        let pc = PCGradProjection(gram: GradientRows.gram(rows), orders: [[0, 1, 2], [2, 1, 0], [1, 0, 2]], reduction: .sum)
        XCTAssertEqual((0..<3).map { pc.projectionCoefficient($0, 1) }, [0, 1, 0], "nothing is projected on a zero gradient")
    }

    func testAllZeroGradients() throws {
        let rows = [[Double]](repeating: [0, 0, 0, 0], count: 3)
        let p = try project(rows, tau: 1, epsilon: 0.1)
        XCTAssertEqual(p.scales, [1, 1, 1])
        XCTAssertEqual(p.conflicts, [[], [], []])
        XCTAssertEqual(p.coefficients, [1.0 / 3, 1.0 / 3, 1.0 / 3])
        XCTAssertEqual(p.pseudoInverseCount, 0)

        let fixture = TaskGradientFixture(rows: [[Double]](repeating: [Double](repeating: 0, count: 9), count: 3))
        let gradCraft = GradCraft(taskCount: 3)
        try gradCraft.combine(parameters: fixture.parameters, losses: [1, 1, 1])
        XCTAssertEqual(fixture.combinedSharedGradient(), [Double](repeating: 0, count: 9), "result is exactly zero")
        XCTAssertTrue(gradCraft.telemetry.gradientCosines.joined().allSatisfy(\.isNaN), "cosines of zero gradients are NaN")
        let pcgrad = PCGrad(taskCount: 3, seed: 3)
        try pcgrad.combine(parameters: fixture.parameters, losses: [1, 1, 1])
        XCTAssertEqual(fixture.combinedSharedGradient(), [Double](repeating: 0, count: 9))
    }

    /// Duplicated conflicting rows make a conflict system singular: the
    /// pseudo-inverse gives the minimum-norm solution (equal weights on the two
    /// copies), the constraints still hold, and the fallback is counted.
    func testSingularGramUsesCountedFallback() throws {
        let g0: [Double] = [1, 0.5, -0.2, 0.3]
        let g1: [Double] = [-0.8, 0.1, 0.4, 0.2]
        let rows = [g0, g1, g1]
        let p = try project(rows, tau: 1, epsilon: 0.01)
        XCTAssertEqual(p.conflicts[0], [1, 2])
        XCTAssertEqual(p.usedPseudoInverse, [true, false, false])
        XCTAssertEqual(p.projectionWeight(0, 1), p.projectionWeight(0, 2), accuracy: 1e-12, "minimum norm splits evenly")
        // The single-constraint answer for g0 against g1, shared by the two copies.
        let single = try project([g0, g1], tau: 1, epsilon: 0.01)
        XCTAssertEqual(p.projectionWeight(0, 1) + p.projectionWeight(0, 2), single.projectionWeight(0, 1), accuracy: 1e-10)

        let fixture = TaskGradientFixture(rows: rows)
        let balancer = GradCraft(taskCount: 3, options: .init(tau: 1, epsilon: 0.01))
        try balancer.combine(parameters: fixture.parameters, losses: [1, 1, 1])
        XCTAssertEqual(balancer.telemetry.pseudoInverseFallbacks, 1)
        try balancer.combine(parameters: fixture.parameters, losses: [1, 1, 1])
        XCTAssertEqual(balancer.telemetry.pseudoInverseFallbacks, 1)
        XCTAssertEqual(balancer.telemetry.pseudoInverseFallbacksTotal, 2)
        XCTAssertEqual(balancer.methodState, .init(taskCount: 3, steps: 0, pseudoInverseFallbacksTotal: 2))
    }

    // MARK: through Parameters

    /// Combining through real Parameters (dense tensor + embedding table with
    /// `taskGradients`) writes exactly `Σ c_t g_t` of the pure function applied to
    /// the Gram of the same (float) rows; task-specific gradients are untouched.
    func testCombiningThroughParametersEqualsPureFunction() throws {
        for seed in UInt64(1)...6 {
            let t = 2 + Int(seed % 4)
            let rows = randomRows(tasks: t, dimension: 40, seed: seed)
                .map { $0.map { Double(Float($0)) } }   // what the Parameters hold
            let fixture = TaskGradientFixture(rows: rows, embeddingCols: 4)
            XCTAssertGreaterThan(fixture.embedding.gradientCount, 0)

            let gradCraft = GradCraft(taskCount: t, options: .init(tau: 0.5, epsilon: 0.01))
            try gradCraft.combine(parameters: fixture.parameters, losses: [Double](repeating: 0.7, count: t))
            let pure = try project(rows, tau: 0.5, epsilon: 0.01)
            assertClose(gradCraft.lastProjection!.coefficients, pure.coefficients, rtol: 1e-10, "seed \(seed): coefficients")
            XCTAssertEqual(gradCraft.lastProjection!.conflicts, pure.conflicts)
            let expected = GradientRows.combine(rows, pure.coefficients)
            let scale = expected.map(abs).max()!
            assertClose(fixture.combinedSharedGradient(), expected, rtol: 1e-6, atol: 1e-6 * scale, "seed \(seed): GradCraft")
            XCTAssertEqual(fixture.taskSpecificFactors(), [[Double]](repeating: [1, 1, 1, 1, 1, 1], count: t))
            assertClose(gradCraft.telemetry.weights, pure.coefficients, rtol: 1e-10, "telemetry coefficients")
            assertClose(gradCraft.telemetry.gradientNorms, rows.map(GradientRows.norm), rtol: 1e-12, "norms")

            let pcgrad = PCGrad(taskCount: t, seed: seed)
            try pcgrad.combine(parameters: fixture.parameters, losses: [Double](repeating: 0.7, count: t))
            let pc = PCGradProjection(gram: GradientRows.gram(rows), orders: pcgrad.lastOrders, reduction: .sum)
            let expectedPC = GradientRows.combine(rows, pc.coefficients)
            let scalePC = expectedPC.map(abs).max()!
            assertClose(fixture.combinedSharedGradient(), expectedPC, rtol: 1e-6, atol: 1e-6 * scalePC, "seed \(seed): PCGrad")
            XCTAssertEqual(fixture.taskSpecificFactors(), [[Double]](repeating: [1, 1, 1, 1, 1, 1], count: t))
        }
    }

    /// The Gram matrix from Parameters equals the exact double Gram of the
    /// float values (double accumulation), and the telemetry reads it.
    func testGramFromParametersIsDoubleAccurate() throws {
        let rows = randomRows(tasks: 4, dimension: 301, seed: 9).map { $0.map { Double(Float($0)) } }
        let fixture = TaskGradientFixture(rows: rows, embeddingCols: 5)
        let gram = TaskGradientGram(taskCount: 4)
        try gram.compute(parameters: fixture.parameters, include: { $0.group == .shared })
        let exact = GradientRows.gram(rows)
        for i in 0..<4 {
            for j in 0..<4 { XCTAssertEqual(gram[i, j], exact[i, j], accuracy: 1e-12 * exact[i, i]) }
        }
        XCTAssertEqual(gram.conflictingPairCount, exact.conflictingPairCount)
        let example = GradientRows.gram(self.example)
        XCTAssertEqual(example.conflictingPairCount, 3)
        XCTAssertEqual(example.cosine(0, 1), -1 / 5.0.squareRoot(), accuracy: 1e-15)
    }

    /// Dense-shared scope: the embedding table is left out of the Gram matrix
    /// and gets the plain sum of its task gradients.
    func testDenseSharedScope() throws {
        let rows = randomRows(tasks: 3, dimension: 20, seed: 21).map { $0.map { Double(Float($0)) } }
        let fixture = TaskGradientFixture(rows: rows, embeddingCols: 2)
        let denseRows = rows.map { Array($0[0..<fixture.denseCount]) }
        let embeddingRows = rows.map { Array($0[fixture.denseCount...]) }
        let balancer = GradCraft(taskCount: 3, options: .init(scope: .denseShared))
        try balancer.combine(parameters: fixture.parameters, losses: [1, 1, 1])
        let pure = try project(denseRows, tau: 1, epsilon: 0)
        assertClose(balancer.lastProjection!.coefficients, pure.coefficients, rtol: 1e-10, "coefficients from dense rows only")
        let written = fixture.combinedSharedGradient()
        assertClose(Array(written[0..<fixture.denseCount]), GradientRows.combine(denseRows, pure.coefficients),
                    rtol: 1e-6, atol: 1e-6, "dense part")
        assertClose(Array(written[fixture.denseCount...]), GradientRows.combine(embeddingRows, [1, 1, 1]),
                    rtol: 1e-6, atol: 1e-6, "embedding part is the plain sum")
    }

    /// A NaN or infinity in any task gradient: nothing is written, the error
    /// names the tensor and the task.
    func testNonFiniteTaskGradientIsRefused() {
        for bad in [Float.nan, .infinity, -.infinity] {
            let rows = randomRows(tasks: 3, dimension: 10, seed: 4)
            let fixture = TaskGradientFixture(rows: rows)
            fixture.embedding.taskGradient(2)[1] = bad
            fixture.dense.grad.fill(42)
            let balancers: [TaskBalancer] = [GradCraft(taskCount: 3), PCGrad(taskCount: 3, seed: 1),
                                             GradNorm(taskCount: 3, options: .init(scope: .allShared))]
            for balancer in balancers {
                XCTAssertThrowsError(try balancer.combine(parameters: fixture.parameters, losses: [1, 1, 1])) { error in
                    XCTAssertEqual(error as? TaskBalancingError,
                                   .nonFiniteTaskGradient(parameter: "shared.embedding", task: 2), "\(balancer.methodName)")
                }
                XCTAssertTrue(fixture.dense.grad.toArray().allSatisfy { $0 == 42 }, "\(balancer.methodName) wrote nothing")
            }
        }
    }

    func testNonFiniteLossIsRefused() {
        let balancers: [TaskBalancer] = [GradCraft(taskCount: 2), PCGrad(taskCount: 2, seed: 1), FixedWeighting(taskCount: 2),
                                         DynamicWeightAverage(taskCount: 2), UncertaintyWeighting(taskCount: 2),
                                         GradNorm(taskCount: 2, options: .init(scope: .allShared))]
        for balancer in balancers {
            XCTAssertThrowsError(try balancer.lossWeights(losses: [0.3, .nan])) { error in
                guard case .nonFiniteLoss(let task, _)? = error as? TaskBalancingError else {
                    return XCTFail("\(balancer.methodName): \(error)")
                }
                XCTAssertEqual(task, 1)
            }
        }
    }

    /// PCGrad draws a fresh permutation per task from its seeded generator; the
    /// same seed gives the same orders.
    func testPCGradOrdersComeFromTheSeededGenerator() throws {
        let rows = randomRows(tasks: 4, dimension: 8, seed: 2)
        let fixture = TaskGradientFixture(rows: rows)
        let a = PCGrad(taskCount: 4, seed: 77), b = PCGrad(taskCount: 4, seed: 77)
        var reference = RandomGenerator(seed: 77)
        for _ in 0..<3 {
            try a.combine(parameters: fixture.parameters, losses: [1, 1, 1, 1])
            try b.combine(parameters: fixture.parameters, losses: [1, 1, 1, 1])
            XCTAssertEqual(a.lastOrders, b.lastOrders)
            XCTAssertEqual(a.lastOrders, (0..<4).map { _ in reference.permutation(4) })
        }
    }
}
