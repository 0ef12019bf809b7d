import Foundation
import RankerExperiments

/// `ranker bench --ranks N`: how N ranks × 1 thread compare with one process
/// on the same workload — speed-up over 1 rank × 1 thread, scaling
/// efficiency (that speed-up / N), speed-up over 1 rank × N threads (the
/// other way to use N cores) — and where rank 0's step time goes: each kind
/// of collective (time and bytes per step) and every rank's time outside
/// the collectives.
extension BenchCommand {
    /// The 1-rank results `r` (N ranks × 1 thread) is compared with.
    private func baselines(_ r: WorkloadResult, among results: [WorkloadResult])
        -> (single: WorkloadResult?, threaded: WorkloadResult?) {
        let oneRank = results.filter { $0.name == r.name && $0.ranks == 1 }
        return (oneRank.first { $0.threads == 1 }, oneRank.first { $0.threads == r.ranks * r.threads })
    }

    func printScaling(_ results: [WorkloadResult]) {
        print("")
        print("Scaling (\(ranks) ranks × 1 thread; efficiency = speed-up over 1 rank × 1 thread / \(ranks)):")
        for r in results where r.ranks > 1 {
            let (single, threaded) = baselines(r, among: results)
            var line = "\(r.name): \(fixed(r.samplesPerSecond, 0)) samples/s"
            if let single {
                let speedup = r.samplesPerSecond / single.samplesPerSecond
                line += ", \(fixed(speedup, 2))× 1 rank × 1 thread (efficiency \(fixed(speedup / Double(r.ranks), 2)))"
            }
            if let threaded {
                line += ", \(fixed(r.samplesPerSecond / threaded.samplesPerSecond, 2))× 1 rank × \(threaded.threads) threads"
            }
            print(line)
            let exchange = (r.exchange ?? [:]).sorted { $0.value.milliseconds > $1.value.milliseconds }
            let total = exchange.reduce(0) { $0 + $1.value.milliseconds }
            print("  rank 0 in collectives: \(fixed(total, 2)) of \(fixed(r.msPerStep, 2)) ms/step — "
                  + exchange.map {
                      "\($0.key) \(fixed($0.value.milliseconds, 2)) ms (\(fixed($0.value.calls, 0))×, "
                          + "\(fixed($0.value.bytes / 1024, 1)) KiB)"
                  }.joined(separator: ", "))
            if let compute = r.computeMillisecondsPerRank {
                print("  outside collectives, ms/step by rank: " + compute.map { fixed($0, 2) }.joined(separator: ", "))
            }
        }
    }

    /// The scaling fields of `r`'s entry in `--json`.
    func scalingJSON(_ r: WorkloadResult, among results: [WorkloadResult]) -> [String: Any] {
        let (single, threaded) = baselines(r, among: results)
        var object: [String: Any] = [:]
        if let single {
            let speedup = r.samplesPerSecond / single.samplesPerSecond
            object["speedup_over_single_thread"] = rounded(speedup, 3)
            object["scaling_efficiency"] = rounded(speedup / Double(r.ranks), 3)
        }
        if let threaded {
            object["speedup_over_threads"] = rounded(r.samplesPerSecond / threaded.samplesPerSecond, 3)
        }
        if let exchange = r.exchange {
            object["exchange"] = exchange.mapValues { c in
                ["calls_per_step": rounded(c.calls, 1), "ms_per_step": rounded(c.milliseconds, 3),
                 "bytes_per_step": rounded(c.bytes, 0)]
            }
        }
        if let compute = r.computeMillisecondsPerRank { object["compute_ms_per_rank"] = compute.map { rounded($0, 3) } }
        return object
    }
}

private func fixed(_ v: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", v) }
private func rounded(_ v: Double, _ decimals: Int) -> Double {
    let scale = pow(10, Double(decimals))
    return (v * scale).rounded() / scale
}
