import Foundation
import Ranker

/// One SGEMM throughput measurement: `C = A·B` with square `n × n` operands.
public struct GEMMMeasurement: Codable, Equatable, Sendable {
    public var size: Int
    public var threads: Int
    /// Best GFLOP/s over the repeats (`2n³` FLOPs per call).
    public var gflops: Double
    public var repeats: Int
}

/// The machine's SGEMM peak through the same BLAS the library uses: the
/// denominator of every "fraction of peak" the benchmark reports.
public enum GEMMPeak {
    /// Measures `sizes` (default 512, 1024, 2048) with `threads` OpenBLAS
    /// threads: each repeat times enough calls to last `secondsPerRepeat`, and
    /// the best repeat counts. The previous thread count is restored.
    public static func measure(sizes: [Int] = [512, 1024, 2048], threads: Int, repeats: Int = 5,
                               secondsPerRepeat: Double = 0.25) -> [GEMMMeasurement] {
        let saved = BLAS.threadCount
        BLAS.threadCount = threads
        defer { BLAS.threadCount = saved }
        var rng = RandomGenerator(seed: 1)
        return sizes.map { n in
            let a = Matrix(rows: n, cols: n), b = Matrix(rows: n, cols: n), c = Matrix(rows: n, cols: n)
            for i in 0..<(n * n) {
                a.data[i] = Float(rng.uniform(-1, 1))
                b.data[i] = Float(rng.uniform(-1, 1))
            }
            BLAS.gemm(a.view, b.view, into: c.view)  // warm-up: page-in, thread pool start
            let flopsPerCall = 2.0 * Double(n) * Double(n) * Double(n)
            var best = 0.0
            for _ in 0..<repeats {
                var calls = 0
                let start = MonotonicClock.now
                var elapsed = 0.0
                repeat {
                    BLAS.gemm(a.view, b.view, into: c.view)
                    calls += 1
                    elapsed = MonotonicClock.seconds(since: start)
                } while elapsed < secondsPerRepeat
                best = max(best, flopsPerCall * Double(calls) / elapsed / 1e9)
            }
            return GEMMMeasurement(size: n, threads: threads, gflops: best, repeats: repeats)
        }
    }
}

/// Peak resident memory of this process so far, in MiB (`getrusage`).
public func peakResidentMemoryMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // ru_maxrss is in KiB on Linux
}
