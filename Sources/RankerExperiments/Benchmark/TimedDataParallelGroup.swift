import Foundation
import Ranker

/// A `DataParallelGroup` that forwards every collective to another group and
/// records, per kind of collective, how many calls it made, how long they
/// took and how many bytes each rank contributed — what `ranker bench
/// --ranks N` reports as the time spent exchanging (where the step goes
/// when N ranks do not scale).
///
/// A collective's time includes waiting for the slowest rank to reach it, so
/// the first collective of a step (the allreduce of the per-task losses, a few
/// doubles, right after the forward pass) is mostly the imbalance of the
/// forward passes, not transfer.
public final class TimedDataParallelGroup: DataParallelGroup {
    /// One kind of collective: calls, total nanoseconds, total bytes sent by this rank.
    public struct Tally: Codable, Equatable, Sendable {
        public var calls = 0
        public var nanoseconds: UInt64 = 0
        public var bytes = 0
    }

    public let inner: DataParallelGroup
    /// Per kind: `allreduce f32`, `allreduce f64`, `allgather u64`,
    /// `allgatherv i32`, `allgatherv f32`, or a name given to `record`.
    public private(set) var tallies: [String: Tally] = [:]

    public init(_ inner: DataParallelGroup) { self.inner = inner }

    public var rank: Int { inner.rank }
    public var size: Int { inner.size }

    /// Forgets what was recorded (after a warm-up).
    public func reset() { tallies.removeAll(keepingCapacity: true) }

    /// Nanoseconds spent in every collective so far.
    public var totalNanoseconds: UInt64 { tallies.values.reduce(0) { $0 + $1.nanoseconds } }

    /// Runs `body` (one collective), booking its time and `bytes` under `kind`.
    public func record<R>(_ kind: String, bytes: Int, _ body: () throws -> R) rethrows -> R {
        let start = MonotonicClock.now
        defer {
            var tally = tallies[kind, default: Tally()]
            tally.calls += 1
            tally.nanoseconds += MonotonicClock.now - start
            tally.bytes += bytes
            tallies[kind] = tally
        }
        return try body()
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try record("allreduce f32", bytes: buffer.count * 4) { try inner.allreduceSum(buffer) }
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        try record("allreduce f64", bytes: buffer.count * 8) { try inner.allreduceSum(buffer) }
    }

    public func allgather(_ local: [UInt64]) throws -> [UInt64] {
        try record("allgather u64", bytes: local.count * 8) { try inner.allgather(local) }
    }

    public func allgatherv(_ local: UnsafeBufferPointer<Int32>, counts: [Int],
                           into output: UnsafeMutableBufferPointer<Int32>) throws {
        try record("allgatherv i32", bytes: local.count * 4) { try inner.allgatherv(local, counts: counts, into: output) }
    }

    public func allgatherv(_ local: UnsafeBufferPointer<Float>, counts: [Int],
                           into output: UnsafeMutableBufferPointer<Float>) throws {
        try record("allgatherv f32", bytes: local.count * 4) { try inner.allgatherv(local, counts: counts, into: output) }
    }
}
