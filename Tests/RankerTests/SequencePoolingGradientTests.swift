import XCTest
@testable import Ranker

/// Sequence fields in `EmbeddingInput`: the pooled slices of `x` against
/// sums written out here, and every table and attention-MLP gradient against
/// central finite differences — sum and mean bags, attention with raw and
/// softmax weights, a table shared by a field and two sequences, empty
/// lists, repeated ids — for one upstream gradient and for stacked per-task ones.
final class SequencePoolingGradientTests: XCTestCase {
    private let fields = [SparseField(name: "user", vocabulary: 5, dimension: 3),
                          SparseField(name: "item", vocabulary: 7, dimension: 3)]
    private let sequences = [
        SequenceField(name: "history", vocabulary: 7, dimension: 3, maxLength: 4, sharesEmbeddingWith: "item", pooling: .mean),
        SequenceField(name: "tags", vocabulary: 6, dimension: 2, maxLength: 3, pooling: .sum),
        SequenceField(name: "clicks", vocabulary: 7, dimension: 3, maxLength: 4, sharesEmbeddingWith: "item",
                      pooling: .attention, target: "item", attentionHidden: [5], attentionSoftmax: false),
        SequenceField(name: "views", vocabulary: 4, dimension: 3, maxLength: 3, pooling: .attention, target: "user",
                      attentionHidden: [4, 3], attentionSoftmax: true),
    ]
    private let batchSize = 5
    private let ids: [[Int32]] = [[1, 2], [3, 2], [1, 6], [0, 2], [4, 5]]
    /// One list per example and sequence field: empty lists, repeats, ids shared with the item field.
    private let lists: [[[Int32]]] = [
        [[2, 2, 5], [], [1, 3], [1, 1, 2], [6]],
        [[0, 5, 5], [1], [], [2, 3, 4], [5, 5]],
        [[2, 6, 6, 1], [2], [], [3, 2], [6, 5, 4, 0]],
        [[1, 3], [], [2, 2, 1], [0], [3]],
    ]

    private func makeInput() -> (EmbeddingInput, Batch) {
        let input = EmbeddingInput(name: "emb", fields: fields, sequences: sequences, denseCount: 2)
        var rng = RandomGenerator(seed: 71)
        input.initialize(using: &rng, standardDeviation: 0.6)
        let batch = Batch(size: batchSize, fieldCount: 2, denseCount: 2, labelCount: 1, sequenceCount: sequences.count)
        for b in 0..<batchSize { batch.setIDs(example: b, ids[b]) }
        for s in sequences.indices { batch.setSequence(s, lists: lists[s]) }
        batch.dense.copy(from: TestData.randomMatrix(rows: batchSize, cols: 2, seed: 72))
        return (input, batch)
    }

    func testLayoutAndBags() {
        let (input, batch) = makeInput()
        XCTAssertEqual(input.sequenceColumns, [6, 9, 11, 14])
        XCTAssertEqual(input.outputSize, 3 + 3 + 3 + 2 + 3 + 3 + 2)
        XCTAssertEqual(input.tables.map(\.name), ["emb.user", "emb.item", "emb.tags", "emb.views"])
        XCTAssertTrue(input.sequenceTables[0] === input.tables[1] && input.sequenceTables[2] === input.tables[1])
        XCTAssertEqual(input.parameters.count, 4 + 4 + 6)  // tables, clicks MLP (2 layers), views MLP (3 layers)
        let x = input.forward(batch)
        let item = input.tables[1].value, tags = input.tables[2].value
        for b in 0..<batchSize {
            let history = lists[0][b]
            for c in 0..<3 {
                let sum = history.reduce(Float(0)) { $0 + item[Int($1), c] }
                XCTAssertEqual(x[b, 6 + c], history.isEmpty ? 0 : sum / Float(history.count), accuracy: 1e-6)
            }
            for c in 0..<2 {
                XCTAssertEqual(x[b, 9 + c], lists[1][b].reduce(Float(0)) { $0 + tags[Int($1), c] }, accuracy: 1e-6)
            }
        }
        // Empty lists pool to zeros in every mode (example 2's clicks, example 1's views).
        for c in 0..<3 { XCTAssertEqual(x[2, 11 + c], 0); XCTAssertEqual(x[1, 14 + c], 0) }
        // The item table's touched rows: the field's ids first, then the sequences' new ones.
        XCTAssertEqual(input.tables[1].sparseGrad!.rowIDs, [2, 6, 5, 1, 3, 4, 0])
    }

    func testGradientsMatchFiniteDifferences() {
        checkGradients(tasks: 1, seed: 73)
    }

    func testStackedGradientsMatchFiniteDifferences() {
        checkGradients(tasks: 3, seed: 74)
    }

    private func checkGradients(tasks: Int, seed: UInt64) {
        let (input, batch) = makeInput()
        let upstream = StackedUpstream(tasks: tasks, rows: batchSize, cols: input.outputSize, seed: seed)
        _ = input.forward(batch)
        input.backward(upstream.stacked.view)
        // Snapshot every gradient first: each forward re-registers the batch.
        var analytic: [[[Double]]] = []
        for p in input.parameters {
            analytic.append((0..<tasks).map { t in
                if p.kind == .dense {
                    return tasks == 1 ? p.grad.toArray().map(Double.init) : TestData.snapshot(p.taskGradient(t), count: p.count)
                }
                let sparse = p.sparseGrad!
                let rows = tasks == 1 ? sparse.values.toArray().map(Double.init)
                    : TestData.snapshot(p.taskGradient(t), count: sparse.rowCount * p.cols)
                var full = [Double](repeating: 0, count: p.count)
                for (slot, id) in sparse.rowIDs.enumerated() {
                    for c in 0..<p.cols { full[Int(id) * p.cols + c] += rows[slot * p.cols + c] }
                }
                return full
            })
        }
        for (n, p) in input.parameters.enumerated() {
            for t in 0..<tasks {
                // The loss is a Float32 output summed in double: its rounding (~1e-6) over
                // 2h is the difference's noise, so the MLP weights (small gradients) take a
                // larger step (the helper retries at h/10 across a ReLU kink).
                let dense = p.kind == .dense
                FiniteDifference.assertGradient(name: "\(p.name) task \(t)", values: p.value.data, count: p.count,
                                                analytic: analytic[n][t], h: dense ? 1e-2 : 1e-3,
                                                atol: dense ? 1e-4 : 2e-5) {
                    upstream.loss(t, of: input.forward(batch))
                }
            }
        }
    }
}
