import Foundation

/// Monotonic wall-clock time for measurements: training throughput, the
/// phase times of a step, benchmarks. (Named so as not to shadow the
/// standard library's `Clock` protocol.)
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point (CLOCK_MONOTONIC).
    public static var now: UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Seconds elapsed since `start` (a value of `now`).
    public static func seconds(since start: UInt64) -> Double {
        Double(now - start) / 1e9
    }
}
