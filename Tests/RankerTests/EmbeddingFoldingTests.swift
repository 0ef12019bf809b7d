import CRankerKernels
import XCTest
@testable import Ranker

/// The layers that read the model input folded into the embeddings
/// (ALGORITHMS.md 3.1.1, `DistinctRowProduct`): the same gradients as the
/// layers multiplying all of `x`, checked against finite differences and
/// against the unfolded passes; the C loops against plain loops at every
/// instruction-set level; and when `automatic` folds.
final class EmbeddingFoldingTests: XCTestCase {
    override func tearDown() {
        XCTAssertEqual(ranker_kernels_set_simd_level(ranker_kernels_cpu_simd_level()), 1)
        super.tearDown()
    }

    private static func configurations() -> [(String, ModelConfiguration)] {
        ModelGradientTests.architectures.flatMap { label, config -> [(String, ModelConfiguration)] in
            var normalized = config
            normalized.batchNorm = true
            normalized.gateBatchNorm = config.model == .mmoe || config.model == .ple
            return [(label, config), (label + "+bn", normalized)]
        }
    }

    private func assertClose(_ a: [Double], _ b: [Double], _ message: String) {
        XCTAssertEqual(a.count, b.count, message)
        // Rounding differs: relative to the tensor's largest entry, plus an
        // absolute floor for tensors that are zero in exact arithmetic (the
        // bias of a Linear layer followed by BatchNorm: 1e-8 either way).
        let scale = b.map(abs).max() ?? 0
        for (i, (x, y)) in zip(a, b).enumerated() where abs(x - y) > 1e-6 + 1e-4 * scale {
            XCTFail("\(message)[\(i)]: folded \(x), unfolded \(y)")
            return
        }
    }

    /// Logits, the weighted pass's gradients and the per-task gradients of the
    /// multi-gradient pass agree between `.always` and `.never` for every
    /// architecture, with and without BatchNorm (float rounding apart: the
    /// sums run in another order).
    func testFoldedPassesMatchUnfolded() throws {
        for (label, config) in Self.configurations() {
            let folded = try ModelFixtures.model(config)
            let plain = try ModelFixtures.model(config)
            folded.input.folding = .always
            plain.input.folding = .never
            let batch = ModelFixtures.batch(for: config, size: 24, seed: 7)
            let weights = (0..<folded.taskCount).map { 0.7 + Double($0) * 0.3 }
            assertClose(folded.forward(batch).toArray().map(Double.init), plain.forward(batch).toArray().map(Double.init),
                        "\(label) evaluation logits")
            XCTAssertTrue(folded.input.foldsLastBatch, label)
            XCTAssertFalse(plain.input.foldsLastBatch, label)
            ModelFixtures.weightedBackward(folded, batch, weights: weights, trainingSeed: 3)
            ModelFixtures.weightedBackward(plain, batch, weights: weights, trainingSeed: 3)
            for (p, q) in zip(folded.parameters, plain.parameters) {
                assertClose(ModelFixtures.denseGradient(p), ModelFixtures.denseGradient(q), "\(label) weighted \(p.name)")
            }
            ModelFixtures.perTaskBackward(folded, batch, trainingSeed: 3)
            ModelFixtures.perTaskBackward(plain, batch, trainingSeed: 3)
            for (p, q) in zip(folded.parameters, plain.parameters) {
                switch p.group {
                case .shared:
                    for t in 0..<folded.taskCount {
                        assertClose(ModelFixtures.denseTaskGradient(p, task: t), ModelFixtures.denseTaskGradient(q, task: t),
                                    "\(label) task \(t) \(p.name)")
                    }
                case .task:
                    assertClose(ModelFixtures.denseGradient(p), ModelFixtures.denseGradient(q), "\(label) per-task \(p.name)")
                }
            }
        }
    }

    /// The folded weighted pass against central finite differences, every
    /// parameter of every architecture (a directional derivative per tensor).
    func testFoldedWeightedPassMatchesFiniteDifferences() throws {
        for (label, config) in Self.configurations() {
            let model = try ModelFixtures.model(config)
            model.input.folding = .always
            let batch = ModelFixtures.batch(for: config, size: 6, seed: 3)
            let weights = (0..<model.taskCount).map { 0.5 + Double($0) * 0.4 }
            ModelFixtures.weightedBackward(model, batch, weights: weights, trainingSeed: 5)
            XCTAssertTrue(model.input.foldsLastBatch, label)
            // Read every gradient before the differences run forward passes (they reset embedding gradients).
            let analytic = model.parameters.map(ModelFixtures.denseGradient)
            // BatchNormModelTests' tolerance with BatchNorm, ModelGradientTests' without.
            let (atol, rtol) = config.batchNorm ? (3e-4, 3e-2) : (2e-4, 2e-2)
            for (i, p) in model.parameters.enumerated() {
                let (numeric, dot) = FiniteDifference.directional(values: p.value.data, count: p.count,
                                                                  analytic: analytic[i], seed: UInt64(100 + i)) {
                    ModelFixtures.weightedLoss(model, batch, weights: weights, trainingSeed: 5)
                }
                XCTAssertEqual(numeric, dot, accuracy: atol + rtol * max(abs(numeric), abs(dot)),
                               "\(label): directional derivative of \(p.name)")
            }
        }
    }

    /// `automatic` folds a batch whose ids repeat a lot (census: 32 fields of
    /// 3 to 52 values, batches of 1024), and not one whose ids are all
    /// distinct, whose embeddings are too narrow to gain, or whose distinct
    /// rows are a quarter of its lookups (`make run`'s synthetic click log,
    /// where folding measured 9 % slower).
    func testAutomaticFoldsWhenItSavesWork() throws {
        func folds(fields: [SparseField], batchSize: Int, ids: (Int, Int) -> Int) -> Bool {
            let input = EmbeddingInput(fields: fields, denseCount: 2)
            let batch = Batch(size: batchSize, fieldCount: fields.count, denseCount: 2, labelCount: 1)
            for e in 0..<batchSize { batch.setIDs(example: e, fields.indices.map { Int32(ids(e, $0)) }) }
            _ = input.forward(batch)
            return input.foldsLastBatch
        }
        let census = (0..<32).map { SparseField(name: "f\($0)", vocabulary: 52, dimension: 8) }
        XCTAssertTrue(folds(fields: census, batchSize: 1024) { e, f in (e * 7 + f) % 52 })
        let wide = (0..<4).map { SparseField(name: "f\($0)", vocabulary: 5000, dimension: 8) }
        XCTAssertFalse(folds(fields: wide, batchSize: 1024) { e, _ in e }, "all ids distinct")
        let narrow = (0..<32).map { SparseField(name: "f\($0)", vocabulary: 4, dimension: 1) }
        XCTAssertFalse(folds(fields: narrow, batchSize: 1024) { e, f in (e + f) % 4 }, "k = 1: nothing to gain")
        // The synthetic log's batch of 512: 315, 250, 69, 24 and 8 distinct ids in its 5 fields.
        let distinct = [315, 250, 69, 24, 8]
        let synthetic = distinct.indices.map { SparseField(name: "f\($0)", vocabulary: 1000, dimension: 8) }
        XCTAssertFalse(folds(fields: synthetic, batchSize: 512) { e, f in e % distinct[f] }, "26 % distinct rows")
    }

    /// The two C loops against plain loops in the same order, bit for bit, at
    /// every instruction-set level: widths below, at and above the column tile,
    /// a view with a leading dimension wider than its columns.
    func testFieldRowLoopsAddInOrderAtEveryLevel() {
        var rng = RandomGenerator(seed: 17)
        let rows = 23, fieldCount = 5, tableRows = 19
        for width in [8, 64, 131] {
            let ld = width + 3
            let table = (0..<(tableRows * ld)).map { _ in Float(rng.normal()) }
            let g = (0..<(rows * ld)).map { _ in Float(rng.normal()) }
            let start = (0..<(rows * ld)).map { _ in Float(rng.normal()) }
            let index = (0..<(rows * fieldCount)).map { _ in Int32(rng.nextInt(below: tableRows)) }
            var expectedY = start
            var expectedSums = [Float](repeating: 0, count: tableRows * ld)
            for b in 0..<rows {
                for f in 0..<fieldCount {
                    let r = Int(index[b * fieldCount + f])
                    for j in 0..<width {
                        expectedY[b * ld + j] += table[r * ld + j]
                        expectedSums[r * ld + j] += g[b * ld + j]
                    }
                }
            }
            for level in 0...ranker_kernels_cpu_simd_level() {
                XCTAssertEqual(ranker_kernels_set_simd_level(level), 1)
                var y = start
                var sums = [Float](repeating: .nan, count: tableRows * ld)
                for r in 0..<tableRows { for j in width..<ld { sums[r * ld + j] = 0 } }
                ranker_add_field_rows(&y, ld, rows, width, table, ld, index, fieldCount)
                ranker_scatter_field_rows(g, ld, rows, width, &sums, ld, tableRows, index, fieldCount)
                XCTAssertEqual(y.map(\.bitPattern), expectedY.map(\.bitPattern), "add, width \(width), level \(level)")
                XCTAssertEqual(sums.map(\.bitPattern), expectedSums.map(\.bitPattern), "scatter, width \(width), level \(level)")
            }
        }
    }
}
