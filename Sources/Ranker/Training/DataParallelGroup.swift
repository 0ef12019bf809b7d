/// The replicas of a data-parallel run, as the core sees them: the few
/// collective operations the trainer needs, with no transport named
/// (`RankerDistributed` implements them over MPI; `SingleProcessGroup` is the
/// one-process group, whose every operation leaves its input as it is).
///
/// Every rank holds the whole model and optimizer state and calls the same
/// operations in the same order with buffers of the same length (the
/// `allgatherv` receive counts excepted). Each operation is a barrier for its
/// participants. An operation that fails throws; the run must stop (the other
/// replicas cannot continue alone).
public protocol DataParallelGroup: AnyObject {
    /// This process's index, `0 ..< size`; rank 0 is the one writer of files.
    var rank: Int { get }
    /// Number of replicas `N`.
    var size: Int { get }

    /// `buffer[i] ← Σ_r buffer_r[i]` on every rank (element-wise sum over ranks).
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// `buffer[i] ← Σ_r buffer_r[i]` on every rank, in double precision.
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws
    /// Every rank's `local` (the same count on every rank), concatenated in
    /// rank order: `size · local.count` values.
    func allgather(_ local: [UInt64]) throws -> [UInt64]
    /// Every rank's `local` concatenated in rank order into `output`
    /// (`Σ counts` values; `counts[r]` is rank `r`'s count, `local.count ==
    /// counts[rank]`).
    func allgatherv(_ local: UnsafeBufferPointer<Int32>, counts: [Int], into output: UnsafeMutableBufferPointer<Int32>) throws
    /// As the `Int32` form, for `Float` rows.
    func allgatherv(_ local: UnsafeBufferPointer<Float>, counts: [Int], into output: UnsafeMutableBufferPointer<Float>) throws
}

extension DataParallelGroup {
    /// Rank 0 writes telemetry, checkpoints and exports.
    public var isWriter: Bool { rank == 0 }

    /// This rank's rows of a global batch of `rows` rows: `N` contiguous
    /// slices in rank order whose sizes differ by at most one (the first
    /// `rows mod N` ranks take one row more). Empty when `rows < N` and
    /// `rank ≥ rows`.
    public func slice(of rows: Range<Int>) -> Range<Int> {
        DataParallelSlicing.slice(of: rows, rank: rank, size: size)
    }
}

/// The slicing rule of `DataParallelGroup.slice(of:)`, for any rank.
public enum DataParallelSlicing {
    /// Rank `rank`'s part of `rows` cut into `size` contiguous slices.
    public static func slice(of rows: Range<Int>, rank: Int, size: Int) -> Range<Int> {
        precondition(size >= 1 && rank >= 0 && rank < size, "rank \(rank) of \(size)")
        let count = rows.count
        let base = count / size, extra = count % size
        let start = rows.lowerBound + rank * base + min(rank, extra)
        return start ..< start + base + (rank < extra ? 1 : 0)
    }
}

/// The group of one process: rank 0 of 1; every collective returns its input.
/// A trainer given it (or no group) computes exactly what it computes alone.
public final class SingleProcessGroup: DataParallelGroup {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
    public func allgather(_ local: [UInt64]) throws -> [UInt64] { local }
    public func allgatherv(_ local: UnsafeBufferPointer<Int32>, counts: [Int],
                           into output: UnsafeMutableBufferPointer<Int32>) throws {
        precondition(counts == [local.count] && output.count == local.count, "one rank: output is the input")
        _ = output.initialize(from: local)
    }
    public func allgatherv(_ local: UnsafeBufferPointer<Float>, counts: [Int],
                           into output: UnsafeMutableBufferPointer<Float>) throws {
        precondition(counts == [local.count] && output.count == local.count, "one rank: output is the input")
        _ = output.initialize(from: local)
    }
}
