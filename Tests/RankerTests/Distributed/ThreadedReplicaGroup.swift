import Foundation
@testable import Ranker

/// `N` replicas as threads of one process, the reference the MPI runs are
/// checked against: every collective meets at a barrier, and sums are added
/// in rank order (`Σ_r buffer_r` as `((b_0 + b_1) + b_2) + …`), gathers
/// concatenate in rank order. Rank `r` of the group is `ranks[r]`.
final class ThreadedReplicaGroup {
    let size: Int
    private let condition = NSCondition()
    private var arrived = 0
    private var generation = 0
    /// Each rank's deposited buffer (base address and element count) for the current collective.
    private var deposits: [(UnsafeRawPointer?, Int)]
    private(set) var ranks: [Rank] = []

    init(size: Int) {
        self.size = size
        deposits = Array(repeating: (nil, 0), count: size)
        ranks = (0..<size).map { Rank(rank: $0, group: self) }
    }

    /// Blocks until all `size` ranks have called it.
    private func barrier() {
        condition.lock()
        let mine = generation
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == mine { condition.wait() }
        }
        condition.unlock()
    }

    /// Deposits `rank`'s buffer, waits for all, runs `read` over every rank's
    /// deposit (in rank order), waits again (no rank changes a buffer that
    /// another still reads).
    fileprivate func exchange(rank: Int, _ base: UnsafeRawPointer?, _ count: Int,
                              _ read: ([(UnsafeRawPointer?, Int)]) -> Void, then write: () -> Void) {
        condition.lock()
        deposits[rank] = (base, count)
        condition.unlock()
        barrier()
        condition.lock()
        let all = deposits
        condition.unlock()
        read(all)
        barrier()
        write()
        barrier()
    }

    final class Rank: DataParallelGroup {
        let rank: Int
        unowned let group: ThreadedReplicaGroup
        init(rank: Int, group: ThreadedReplicaGroup) { self.rank = rank; self.group = group }
        var size: Int { group.size }

        private func sum<T: FloatingPoint>(_ buffer: UnsafeMutableBufferPointer<T>) {
            var total = [T](repeating: 0, count: buffer.count)
            group.exchange(rank: rank, UnsafeRawPointer(buffer.baseAddress), buffer.count, { all in
                for i in 0..<buffer.count {
                    var s = all[0].0!.assumingMemoryBound(to: T.self)[i]
                    for r in 1..<all.count { s += all[r].0!.assumingMemoryBound(to: T.self)[i] }
                    total[i] = s
                }
            }, then: { for i in 0..<buffer.count { buffer[i] = total[i] } })
        }

        private func gather<T>(_ local: UnsafeBufferPointer<T>, into output: UnsafeMutableBufferPointer<T>) {
            var result: [T] = []
            group.exchange(rank: rank, UnsafeRawPointer(local.baseAddress), local.count, { all in
                for (base, count) in all where count > 0 {
                    result.append(contentsOf: UnsafeBufferPointer(start: base!.assumingMemoryBound(to: T.self), count: count))
                }
            }, then: {
                precondition(result.count == output.count, "gather: \(result.count) values for \(output.count)")
                _ = output.initialize(from: result)
            })
        }

        func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws { sum(buffer) }
        func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws { sum(buffer) }
        func allgather(_ local: [UInt64]) throws -> [UInt64] {
            var output = [UInt64](repeating: 0, count: local.count * size)
            local.withUnsafeBufferPointer { l in output.withUnsafeMutableBufferPointer { gather(l, into: $0) } }
            return output
        }
        func allgatherv(_ local: UnsafeBufferPointer<Int32>, counts: [Int], into output: UnsafeMutableBufferPointer<Int32>) throws {
            gather(local, into: output)
        }
        func allgatherv(_ local: UnsafeBufferPointer<Float>, counts: [Int], into output: UnsafeMutableBufferPointer<Float>) throws {
            gather(local, into: output)
        }
    }

    /// Trains `configuration` on every rank at once (one thread per rank, one
    /// shared dataset) into `runDirectory`; rethrows the first rank's error.
    func train(_ configuration: RunConfiguration, dataset: Dataset, runDirectory: URL) throws {
        /// The first error of each rank (written under its lock by the rank's thread).
        final class Errors: @unchecked Sendable {
            let lock = NSLock()
            var values: [Error?]
            init(count: Int) { values = Array(repeating: nil, count: count) }
            func set(_ error: Error, at r: Int) { lock.lock(); values[r] = error; lock.unlock() }
        }
        let errors = Errors(count: size)
        let done = DispatchGroup()
        for r in 0..<size {
            done.enter()
            let thread = Thread { [ranks = self.ranks] in
                defer { done.leave() }
                do {
                    let trainer = try Trainer(configuration: configuration, dataset: dataset, runDirectory: runDirectory,
                                              dataParallel: DataParallelSettings(group: ranks[r], checkEverySteps: 1))
                    _ = try trainer.run()
                } catch {
                    errors.set(error, at: r)
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        if let error = errors.values.compactMap({ $0 }).first { throw error }
    }
}
