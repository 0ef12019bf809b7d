import XCTest
@testable import Ranker
@testable import RankerExperiments

/// `TrainingStep.phaseTimes` and `BalancerCostBenchmark` on a tiny MMoE.
final class BalancerCostBenchmarkTests: XCTestCase {
    /// A small workload of the benchmark's shape (MMoE, sparse + dense inputs).
    static let tiny = BenchmarkWorkload(
        name: "tiny", summary: "MMoE 3 experts [8, 6], batch 32",
        model: ModelConfiguration(model: .mmoe, tasks: ModelFixtures.tasks(2), sparseFields: ModelFixtures.fields,
                                  denseFeatures: 2, experts: 3, expertHidden: [8, 6], gateBias: true, towerHidden: [4]),
        batchSize: 32, learningRate: 0.05, initialAccumulator: 0.1, warmupSteps: 1, minimumSteps: 1, minimumSeconds: 0)

    func makeStep(_ method: BalancerCostBenchmark.Method, tasks: Int) throws -> TrainingStep {
        let model = try ModelFixtures.model(ModelFixtures.configuration(.mmoe, tasks: tasks))
        let balancer = try method.configuration.makeBalancer(taskCount: tasks, seed: 3)
        return TrainingStep(model: model, optimizer: try Adagrad(form: .keras, initialAccumulatorValue: 0.1),
                            balancer: balancer)
    }

    /// Recording phases changes no number, counts the steps, and puts the
    /// combination only where a multi-gradient method runs.
    func testPhaseTimesRecordWithoutChangingTheStep() throws {
        let configuration = ModelFixtures.configuration(.mmoe, tasks: 3)
        let batches = (0..<3).map { ModelFixtures.batch(for: configuration, size: 16, seed: UInt64(20 + $0)) }
        for method in BalancerCostBenchmark.Method.allCases {
            let plain = try makeStep(method, tasks: 3)
            let timed = try makeStep(method, tasks: 3)
            timed.phaseTimes = TrainingStepPhaseTimes()
            for batch in batches {
                for step in [plain, timed] {
                    XCTAssertNil(step.computeGradients(batch))
                    XCTAssertTrue(step.applyUpdate(learningRate: 0.05, batchSize: batch.size).applied)
                }
            }
            XCTAssertNil(plain.phaseTimes, "\(method)")
            for (a, b) in zip(plain.parameters, timed.parameters) {
                XCTAssertEqual(a.value.toArray(), b.value.toArray(), "\(method): \(a.name)")
            }
            let times = try XCTUnwrap(timed.phaseTimes)
            XCTAssertEqual(times.steps, batches.count, "\(method)")
            for phase in [TrainingStepPhaseTimes.Phase.forward, .losses, .backward, .update] {
                XCTAssertGreaterThan(times[phase], 0, "\(method): \(phase)")
            }
            if method == .fixed {
                XCTAssertEqual(times.combination, 0, "fixed weights combine nothing")
            } else {
                XCTAssertGreaterThan(times.combination, 0, "\(method)")
            }
            XCTAssertEqual(times.millisecondsPerStep(.forward), Double(times.forward) / 1e6 / 3, accuracy: 1e-12)
        }
    }

    func testBenchmarkReportsEveryMethodAndTaskCount() throws {
        let options = BalancerCostBenchmark.Options(workload: Self.tiny, taskCounts: [2, 3], threads: 1, repeats: 3,
                                                    stepsPerRepeat: 2, warmupSteps: 1, breakdownRepeats: 2)
        var lines: [String] = []
        let report = try BalancerCostBenchmark.run(options) { lines.append($0) }
        XCTAssertEqual(lines.count, 2 * 3 * 3, "one progress line per block")
        XCTAssertEqual(report.results.map(\.taskCount), [2, 2, 2, 3, 3, 3])
        XCTAssertEqual(report.results.map(\.method), [.fixed, .gradcraft, .pcgrad, .fixed, .gradcraft, .pcgrad])
        for t in [2, 3] {
            let fixed = try XCTUnwrap(report.result(taskCount: t, method: .fixed))
            XCTAssertEqual(fixed.ratioToFixed, 1)
            XCTAssertNil(fixed.combination)
            XCTAssertEqual(fixed.backwardRows, 32)
            XCTAssertEqual(fixed.phaseMilliseconds["combination"], 0)
            // Shared coordinates: experts' dense tensors plus the touched embedding rows.
            let model = try makeModel(BalancerCostBenchmark.workload(taskCount: t, base: Self.tiny).model)
            let dense = model.parameters.filter { $0.group == .shared && $0.kind == .dense }.reduce(0) { $0 + $1.count }
            let tables = model.parameters.filter { $0.group == .shared && $0.kind == .embedding }.reduce(0) { $0 + $1.count }
            for method in BalancerCostBenchmark.Method.allCases {
                let r = try XCTUnwrap(report.result(taskCount: t, method: method))
                XCTAssertEqual(r.blockMsPerStep.count, 3)
                XCTAssertEqual(r.msPerStep, r.blockMsPerStep.sorted()[1], "median of three blocks")
                XCTAssertEqual(try XCTUnwrap(r.ratioToFixed), r.msPerStep / fixed.msPerStep, accuracy: 1e-12)
                XCTAssertTrue(r.finalLoss.isFinite && r.finalLoss > 0)
                XCTAssertGreaterThan(r.sharedGradientCount, dense)
                XCTAssertLessThanOrEqual(r.sharedGradientCount, dense + tables)
                XCTAssertEqual(Set(r.phaseMilliseconds.keys), Set(TrainingStepPhaseTimes.Phase.allCases.map(\.rawValue)))
                if method != .fixed {
                    XCTAssertEqual(r.backwardRows, t * 32)
                    let parts = try XCTUnwrap(r.combination)
                    XCTAssertGreaterThan(parts.gramMilliseconds, 0)
                    XCTAssertGreaterThan(r.phaseMilliseconds["combination"] ?? 0, 0)
                }
            }
        }
        // The report survives JSON (no NaN).
        let decoded = try JSONDecoder().decode(BalancerCostBenchmark.Report.self, from: JSONEncoder().encode(report))
        XCTAssertEqual(decoded, report)
    }

    func testMedian() {
        XCTAssertEqual(BalancerCostBenchmark.median([3, 1, 2]), 2)
        XCTAssertEqual(BalancerCostBenchmark.median([4, 1, 3, 2]), 2.5)
        XCTAssertEqual(BalancerCostBenchmark.median([7]), 7)
    }
}
