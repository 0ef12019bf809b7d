import XCTest
@testable import Ranker

/// `dwa.json` (ALGORITHMS.md 5.2): per-epoch weights from per-epoch average losses.
///
/// Each case drives a `DynamicWeightAverage` balancer through its epochs: the
/// weights it returns during epoch `e` must equal `weights_for_epoch[e]`
/// (`GoldenTolerance.double`). Each epoch is fed as two batches of sizes 1 and
/// 3 whose per-example mean is the golden epoch average (batch means
/// `avg·(1 + a)` and `avg·(1 − a/3)`, `a` alternating 0.5 / −0.4 over tasks and
/// epochs), so the size weighting of the averages is exercised: an unweighted
/// mean of the batch means, `avg·(1 + a/3)`, changes the ratios and fails. The same case runs once per data epoch (`finishEpoch`) and once on
/// windows of 2 steps (`window_steps = 2`, `finishEpoch` never called).
enum GoldenDWA {
    static func check(_ json: GoldenValue, _ checker: GoldenChecker) throws {
        for (index, c) in json["cases"].array.enumerated() {
            let t = c["T"].int
            let temperature = c["temperature"].double
            let averages = c["epoch_avg_losses"].doubleRows
            let expected = c["weights_for_epoch"].doubleRows
            for windowed in [false, true] {
                let label = "cases[\(index)] T=\(t) temp=\(temperature)" + (windowed ? " window" : " epoch")
                let balancer = DynamicWeightAverage(
                    taskCount: t, options: .init(temperature: temperature, windowSteps: windowed ? 2 : nil))
                for epoch in 0..<expected.count {
                    // Batch means avg·(1 + a) (size 1) and avg·(1 − a/3) (size 3): per-example mean avg.
                    let spread = (0..<t).map { k in (k + epoch) % 2 == 0 ? 0.5 : -0.4 }
                    let small = epoch < averages.count ? (0..<t).map { averages[epoch][$0] * (1 + spread[$0]) }
                                                       : [Double](repeating: 1, count: t)
                    let large = epoch < averages.count ? (0..<t).map { averages[epoch][$0] * (1 - spread[$0] / 3) } : small
                    checker.close(try balancer.lossWeights(losses: small), expected[epoch], rtol: GoldenTolerance.double.rtol,
                                  "\(label): weights during epoch \(epoch)")
                    guard epoch < averages.count else { break }
                    balancer.finishStep(losses: small, batchSize: 1)
                    checker.close(try balancer.lossWeights(losses: large), expected[epoch], rtol: GoldenTolerance.double.rtol,
                                  "\(label): weights later in epoch \(epoch)")
                    balancer.finishStep(losses: large, batchSize: 3)
                    if !windowed { balancer.finishEpoch() }
                }
                checker.close(balancer.telemetry.weights.reduce(0, +), Double(t), rtol: 1e-14, "\(label): weights sum to T")
            }
        }
    }
}
