import XCTest
@testable import Ranker

/// The data-parallel parts that need no second process: the batch slicing,
/// the sparse-row merge (against a scripted second rank), the BatchNorm
/// discovery, and the one-process group.
final class DataParallelPartsTests: XCTestCase {
    func testSlicesAreContiguousInRankOrderAndDifferByAtMostOneRow() {
        for size in 1...5 {
            for count in [size, size + 1, 7, 200, 513] {
                let slices = (0..<size).map { DataParallelSlicing.slice(of: 10 ..< 10 + count, rank: $0, size: size) }
                XCTAssertEqual(slices.first?.lowerBound, 10)
                XCTAssertEqual(slices.last?.upperBound, 10 + count)
                for r in 1..<size { XCTAssertEqual(slices[r].lowerBound, slices[r - 1].upperBound) }
                let sizes = slices.map(\.count)
                XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 1, "\(count) rows on \(size) ranks: \(sizes)")
            }
        }
        XCTAssertEqual(DataParallelSlicing.slice(of: 0..<200, rank: 2, size: 3), 134..<200)
    }

    /// Rank 0 of 2, the other rank's contributions given in advance.
    final class ScriptedGroup: DataParallelGroup {
        var otherCounts: [UInt64]
        var otherIDs: [Int32]
        var otherRows: [Float]
        init(counts: [UInt64], ids: [Int32], rows: [Float]) { otherCounts = counts; otherIDs = ids; otherRows = rows }
        var rank: Int { 0 }
        var size: Int { 2 }
        func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
        func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
        func allgather(_ local: [UInt64]) throws -> [UInt64] { local + otherCounts }
        func allgatherv(_ local: UnsafeBufferPointer<Int32>, counts: [Int], into output: UnsafeMutableBufferPointer<Int32>) throws {
            XCTAssertEqual(counts, [local.count, otherIDs.count])
            _ = output.initialize(from: Array(local) + otherIDs)
        }
        func allgatherv(_ local: UnsafeBufferPointer<Float>, counts: [Int], into output: UnsafeMutableBufferPointer<Float>) throws {
            XCTAssertEqual(counts, [local.count, otherRows.count])
            _ = output.initialize(from: Array(local) + otherRows)
        }
    }

    func testRowExchangeMergesIdsInRankOrderAndSumsTheirRows() throws {
        let table = Parameter(name: "emb", rows: 10, cols: 2, group: .shared, kind: .embedding)
        table.sparseGrad!.set(ids: [4, 7], rows: [[1, 2], [3, 4]])
        let group = ScriptedGroup(counts: [3], ids: [7, 1, 9], rows: [10, 20, 30, 40, 50, 60])
        try AllgatherRowExchange(group: group).exchange([table], tasks: [0])
        let sparse = table.sparseGrad!
        XCTAssertEqual(sparse.rowIDs, [4, 7, 1, 9])
        XCTAssertEqual(Array(UnsafeBufferPointer(start: sparse.values.data, count: 8)), [1, 2, 13, 24, 30, 40, 50, 60])
    }

    func testRowExchangeOfPerTaskGradientsKeepsEachTaskApart() throws {
        let table = Parameter(name: "emb", rows: 10, cols: 1, group: .shared, kind: .embedding)
        table.sparseGrad!.set(ids: [2, 5], rows: [[0], [0]])
        table.prepareTaskGradients(tasks: 2)
        table.taskGradient(0).update(from: [1, 2], count: 2)   // task 0: rows 2, 5
        table.taskGradient(1).update(from: [3, 4], count: 2)   // task 1
        // The other rank touched rows 5 and 8: task-major block [t0: 5, 8 | t1: 5, 8].
        let group = ScriptedGroup(counts: [2], ids: [5, 8], rows: [10, 20, 30, 40])
        try AllgatherRowExchange(group: group).exchange([table], tasks: [2])
        XCTAssertEqual(table.sparseGrad!.rowIDs, [2, 5, 8])
        XCTAssertEqual(table.taskGradients.rows, 2)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: table.taskGradient(0), count: 3)), [1, 12, 20])
        XCTAssertEqual(Array(UnsafeBufferPointer(start: table.taskGradient(1), count: 3)), [3, 34, 40])
    }

    /// Two tables in one exchange (one summed, one per-task, different
    /// widths): each rank's block is its tables in order, and the result is
    /// what the two single-table exchanges above give.
    func testOneExchangeOfSeveralTablesEqualsOneExchangePerTable() throws {
        let a = Parameter(name: "a", rows: 10, cols: 2, group: .shared, kind: .embedding)
        a.sparseGrad!.set(ids: [4, 7], rows: [[1, 2], [3, 4]])
        let b = Parameter(name: "b", rows: 10, cols: 1, group: .shared, kind: .embedding)
        b.sparseGrad!.set(ids: [2, 5], rows: [[0], [0]])
        b.prepareTaskGradients(tasks: 2)
        b.taskGradient(0).update(from: [1, 2], count: 2)
        b.taskGradient(1).update(from: [3, 4], count: 2)
        // The other rank: table a rows 7, 1, 9; table b rows 5, 8 (task-major).
        let group = ScriptedGroup(counts: [3, 2], ids: [7, 1, 9, 5, 8],
                                  rows: [10, 20, 30, 40, 50, 60, 10, 20, 30, 40])
        let exchange = AllgatherRowExchange(group: group)
        try exchange.exchange([a, b], tasks: [0, 2])
        XCTAssertEqual(a.sparseGrad!.rowIDs, [4, 7, 1, 9])
        XCTAssertEqual(Array(UnsafeBufferPointer(start: a.sparseGrad!.values.data, count: 8)), [1, 2, 13, 24, 30, 40, 50, 60])
        XCTAssertEqual(b.sparseGrad!.rowIDs, [2, 5, 8])
        XCTAssertEqual(Array(UnsafeBufferPointer(start: b.taskGradient(0), count: 3)), [1, 12, 20])
        XCTAssertEqual(Array(UnsafeBufferPointer(start: b.taskGradient(1), count: 3)), [3, 34, 40])
        // A second step through the same exchange (kept buffers, larger then smaller blocks).
        a.sparseGrad!.set(ids: [1], rows: [[5, 6]])
        b.sparseGrad!.set(ids: [9], rows: [[0]])
        b.prepareTaskGradients(tasks: 2)
        b.taskGradient(0).update(from: [7], count: 1)
        b.taskGradient(1).update(from: [8], count: 1)
        group.otherCounts = [1, 1]
        group.otherIDs = [1, 9]
        group.otherRows = [1, 1, 100, 200]
        try exchange.exchange([a, b], tasks: [0, 2])
        XCTAssertEqual(a.sparseGrad!.rowIDs, [1])
        XCTAssertEqual(Array(UnsafeBufferPointer(start: a.sparseGrad!.values.data, count: 2)), [6, 7])
        XCTAssertEqual(b.sparseGrad!.rowIDs, [9])
        XCTAssertEqual(b.taskGradient(0).pointee, 107)
        XCTAssertEqual(b.taskGradient(1).pointee, 208)
    }

    func testBatchNormDiscoveryFindsEveryLayerOfEachModel() throws {
        for (kind, configuration) in BatchNormModelTests.architectures {
            let model = try makeModel(configuration)
            let found = BatchNormLayers.find(in: model)
            XCTAssertGreaterThan(found.count, 0, "\(kind)")
            XCTAssertEqual(2 * found.count, model.stateTensors.count, "\(kind)")
            XCTAssertEqual(Set(found.map(\.name)).count, found.count, "\(kind): each layer once")
        }
    }

    func testChecksumNamesTheFirstTensorThatDiffersFromRankZero() throws {
        let model = try makeModel(ModelFixtures.configuration(.mmoe))
        var rng = RandomGenerator(seed: 5)
        model.initialize(using: &rng)
        let step = TrainingStep(model: model, optimizer: try Adagrad(form: .keras, initialAccumulatorValue: 0.1),
                                balancer: FixedWeighting(taskCount: model.taskCount))
        let checksum = ReplicaChecksum(step: step)
        let local = checksum.localHashes()
        XCTAssertEqual(local.count, checksum.names.count)
        // Rank 1 agrees: no error.
        try checksum.verify(in: ScriptedGroup(counts: local, ids: [], rows: []), step: 7)
        // Rank 1 differs in the third tensor.
        var other = local
        other[2] ^= 1
        XCTAssertThrowsError(try checksum.verify(in: ScriptedGroup(counts: other, ids: [], rows: []), step: 7)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("'\(checksum.names[2])'") && message.contains("step 7")
                          && message.contains("rank(s) 1"), message)
        }
        // One changed float changes its tensor's hash.
        model.parameters[0].value.data[0] += 1
        XCTAssertNotEqual(checksum.localHashes()[0], local[0])
        XCTAssertEqual(Array(checksum.localHashes()[1...]), Array(local[1...]))
    }

    func testOneProcessGroupLeavesEveryBufferAsItIs() throws {
        let group = SingleProcessGroup()
        var values: [Float] = [1, 2, 3]
        try values.withUnsafeMutableBufferPointer { try group.allreduceSum($0) }
        XCTAssertEqual(values, [1, 2, 3])
        XCTAssertEqual(try group.allgather([5, 6]), [5, 6])
        XCTAssertEqual(group.slice(of: 3..<9), 3..<9)
        XCTAssertTrue(group.isWriter)
    }
}
