import XCTest
@testable import Ranker

/// EmbeddingInput: the concatenated lookup, and the row-sparse table
/// gradients against central finite differences over every table entry
/// (touched rows, rows touched several times in the batch, untouched rows),
/// for one upstream gradient and for stacked per-task gradients.
final class EmbeddingInputGradientTests: XCTestCase {
    private let fields = [SparseField(name: "user", vocabulary: 5, dimension: 3),
                          SparseField(name: "item", vocabulary: 4, dimension: 2)]
    private let batch = 6
    /// `B × F`; field 0 repeats id 1 three times and id 3 twice, field 1 repeats id 2.
    private let ids: [Int32] = [1, 2,
                                3, 0,
                                1, 2,
                                1, 3,
                                0, 2,
                                3, 1]

    private func makeInput() -> (EmbeddingInput, Matrix) {
        let input = EmbeddingInput(name: "emb", fields: fields, denseCount: 2)
        var rng = RandomGenerator(seed: 51)
        input.initialize(using: &rng, standardDeviation: 0.5)
        let dense = TestData.randomMatrix(rows: batch, cols: 2, seed: 52)
        return (input, dense)
    }

    private func forward(_ input: EmbeddingInput, dense: Matrix) -> MatrixView {
        ids.withUnsafeBufferPointer { input.forward(ids: $0.baseAddress!, dense: dense.view, batch: batch) }
    }

    /// Expands a row-sparse gradient (rows in `rowIDs` order) to the full table.
    private func denseTableGradient(rowIDs: [Int32], rows: [Double], vocabulary: Int, dimension: Int) -> [Double] {
        var full = [Double](repeating: 0, count: vocabulary * dimension)
        for (slot, id) in rowIDs.enumerated() {
            for c in 0..<dimension { full[Int(id) * dimension + c] += rows[slot * dimension + c] }
        }
        return full
    }

    func testLookupConcatenatesFieldsThenDense() {
        let (input, dense) = makeInput()
        XCTAssertEqual(input.outputSize, 3 + 2 + 2)
        XCTAssertEqual(input.offsets, [0, 3])
        let x = forward(input, dense: dense)
        for b in 0..<batch {
            for c in 0..<3 { XCTAssertEqual(x[b, c], input.tables[0].value[Int(ids[2 * b]), c]) }
            for c in 0..<2 { XCTAssertEqual(x[b, 3 + c], input.tables[1].value[Int(ids[2 * b + 1]), c]) }
            for c in 0..<2 { XCTAssertEqual(x[b, 5 + c], dense[b, c]) }
        }
        // Touched rows: unique, in order of first appearance.
        XCTAssertEqual(input.tables[0].sparseGrad!.rowIDs, [1, 3, 0])
        XCTAssertEqual(input.tables[1].sparseGrad!.rowIDs, [2, 0, 3, 1])
    }

    func testTableGradientsMatchFiniteDifferences() {
        let (input, dense) = makeInput()
        let upstream = StackedUpstream(tasks: 1, rows: batch, cols: input.outputSize, seed: 53)
        _ = forward(input, dense: dense)
        input.backward(upstream.stacked.view)
        // Snapshot every table's gradient first: each forward re-registers the
        // batch and zeroes the sparse rows.
        let analytic = input.tables.enumerated().map { f, table -> [Double] in
            let sparse = table.sparseGrad!
            XCTAssertEqual(sparse.values.rows, sparse.rowCount)
            return denseTableGradient(rowIDs: sparse.rowIDs, rows: sparse.values.toArray().map(Double.init),
                                      vocabulary: fields[f].vocabulary, dimension: fields[f].dimension)
        }
        for (f, table) in input.tables.enumerated() {
            // The loss is linear in the tables, so a large step is exact and beats Float rounding.
            FiniteDifference.assertGradient(name: "table \(f)", values: table.value.data, count: table.count,
                                            analytic: analytic[f], h: 0.1) {
                upstream.loss(0, of: forward(input, dense: dense))
            }
        }
    }

    /// Stacked pass: `taskGradients` row `t` holds task `t`'s summed rows in
    /// `rowIDs` order.
    func testStackedTableGradientsMatchFiniteDifferences() {
        let tasks = 3
        let (input, dense) = makeInput()
        let upstream = StackedUpstream(tasks: tasks, rows: batch, cols: input.outputSize, seed: 54)
        _ = forward(input, dense: dense)
        input.backward(upstream.stacked.view)
        let analytic = input.tables.enumerated().map { f, table -> [[Double]] in
            let sparse = table.sparseGrad!
            let width = sparse.rowCount * fields[f].dimension
            XCTAssertEqual(table.taskGradients.rows, tasks)
            XCTAssertEqual(table.taskGradients.cols, width)
            return (0..<tasks).map { t in
                denseTableGradient(rowIDs: sparse.rowIDs, rows: TestData.snapshot(table.taskGradient(t), count: width),
                                   vocabulary: fields[f].vocabulary, dimension: fields[f].dimension)
            }
        }
        for (f, table) in input.tables.enumerated() {
            for t in 0..<tasks {
                FiniteDifference.assertGradient(name: "table \(f) task \(t)", values: table.value.data,
                                                count: table.count, analytic: analytic[f][t], h: 0.1) {
                    upstream.loss(t, of: forward(input, dense: dense))
                }
            }
        }
    }
}
