/// One mini-batch in the layout the models read.
///
/// * `ids`: `size × fieldCount` row-major sparse-field ids (already encoded:
///   `0..<vocabulary` of each field);
/// * `dense`: `size × denseCount` dense features (already transformed);
/// * `labels`: `size × labelCount` (one column per label column of the data:
///   task labels for most models; click and conversion for ESMM);
/// * `users`: one user id per example when the data has a user column (GAUC);
/// * `days`: one day index per example when the data has a day column;
/// * `sequenceOffsets[s]`, `sequenceIDs[s]`: sequence field `s` as ragged
///   lists: example `b` owns `sequenceIDs[s][offsets[b] ..< offsets[b+1]]`
///   (`size + 1` offsets, nothing padded).
///
/// A batch is a reusable buffer: `resize(size:)` keeps its capacity.
public final class Batch {
    public let fieldCount: Int
    public let denseCount: Int
    public let labelCount: Int
    public private(set) var size: Int
    public private(set) var ids: [Int32]
    public let dense: Matrix
    public let labels: Matrix
    public var users: [Int64]
    public var days: [Int32]
    /// Number of sequence fields.
    public let sequenceCount: Int
    /// Per sequence field: `size + 1` offsets into `sequenceIDs[s]`.
    public var sequenceOffsets: [[Int32]]
    /// Per sequence field: the ids of all examples, example after example.
    public var sequenceIDs: [[Int32]]

    public init(size: Int, fieldCount: Int, denseCount: Int, labelCount: Int, sequenceCount: Int = 0) {
        precondition(size >= 0 && fieldCount >= 0 && denseCount >= 0 && labelCount >= 0)
        self.fieldCount = fieldCount
        self.denseCount = denseCount
        self.labelCount = labelCount
        self.size = size
        ids = [Int32](repeating: 0, count: max(size * fieldCount, 1))
        dense = Matrix(rows: size, cols: denseCount)
        labels = Matrix(rows: size, cols: labelCount)
        users = []
        days = []
        self.sequenceCount = sequenceCount
        sequenceOffsets = [[Int32]](repeating: [Int32](repeating: 0, count: size + 1), count: sequenceCount)
        sequenceIDs = [[Int32]](repeating: [], count: sequenceCount)
    }

    /// Changes the number of examples, keeping storage when it is large enough.
    public func resize(size newSize: Int) {
        precondition(newSize >= 0)
        size = newSize
        let needed = newSize * fieldCount
        if ids.count < needed {
            ids.append(contentsOf: repeatElement(0, count: needed - ids.count))
        }
        dense.resize(rows: newSize, cols: denseCount)
        labels.resize(rows: newSize, cols: labelCount)
        for s in 0..<sequenceCount where sequenceOffsets[s].count != newSize + 1 {
            // A batch built example by example (tests, prediction) starts with empty lists.
            if sequenceOffsets[s].count > newSize + 1 {
                sequenceOffsets[s].removeLast(sequenceOffsets[s].count - newSize - 1)
                sequenceIDs[s].removeLast(sequenceIDs[s].count - Int(sequenceOffsets[s][newSize]))
            } else {
                let end = sequenceOffsets[s].last ?? 0
                sequenceOffsets[s].append(contentsOf: repeatElement(end, count: newSize + 1 - sequenceOffsets[s].count))
            }
        }
    }

    /// Sets sequence field `s` of every example from one list per example
    /// (`size` lists; convenience for tests and small inputs).
    public func setSequence(_ s: Int, lists: [[Int32]]) {
        precondition(s < sequenceCount && lists.count == size, "setSequence: \(lists.count) lists for \(size) examples")
        sequenceOffsets[s].removeAll(keepingCapacity: true)
        sequenceIDs[s].removeAll(keepingCapacity: true)
        sequenceOffsets[s].append(0)
        for list in lists {
            sequenceIDs[s].append(contentsOf: list)
            sequenceOffsets[s].append(Int32(sequenceIDs[s].count))
        }
    }

    /// `ids[example * fieldCount + field]`.
    @inlinable public func id(example: Int, field: Int) -> Int32 { ids[example * fieldCount + field] }

    /// Calls `body` with a pointer to the `size × fieldCount` ids.
    public func withIDs<R>(_ body: (UnsafePointer<Int32>) throws -> R) rethrows -> R {
        try ids.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// Sets the ids of one example (`fieldCount` values).
    public func setIDs(example: Int, _ values: [Int32]) {
        precondition(values.count == fieldCount && example < size)
        for f in 0..<fieldCount { ids[example * fieldCount + f] = values[f] }
    }

    /// Writes `ids` directly through a pointer (`size × fieldCount`).
    public func withMutableIDs<R>(_ body: (UnsafeMutablePointer<Int32>) throws -> R) rethrows -> R {
        try ids.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    }
}
