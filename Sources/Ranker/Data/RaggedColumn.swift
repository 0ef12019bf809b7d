/// The lists of one sequence field over all rows of a dataset, stored ragged:
/// row `r` owns `ids[offsets[r] ..< offsets[r + 1]]` (`count + 1` offsets,
/// `offsets[0] = 0`, nothing padded). Ids index the field's embedding table.
public struct RaggedColumn: Equatable, Sendable {
    public var offsets: [Int]
    public var ids: [Int32]

    public init(offsets: [Int], ids: [Int32]) {
        precondition(offsets.first == 0 && offsets.last == ids.count, "RaggedColumn: offsets must run from 0 to ids.count")
        self.offsets = offsets
        self.ids = ids
    }

    /// One list per row.
    public init(lists: [[Int32]]) {
        var offsets = [0]
        offsets.reserveCapacity(lists.count + 1)
        var ids: [Int32] = []
        for list in lists {
            ids.append(contentsOf: list)
            offsets.append(ids.count)
        }
        self.init(offsets: offsets, ids: ids)
    }

    /// Number of rows.
    public var count: Int { offsets.count - 1 }

    /// The list of row `r`.
    public func list(_ r: Int) -> ArraySlice<Int32> { ids[offsets[r]..<offsets[r + 1]] }
}
