import Foundation
import Ranker

/// A fixed training workload of the benchmark (issue "Performance"): an MMoE
/// over 26 sparse fields (vocabulary 10,000, dimension 16) and 13 dense
/// features (429 inputs), 2 binary tasks, towers [64], Adagrad (lr 0.05,
/// accumulator 0.1), trained on in-memory random batches.
public struct BenchmarkWorkload: Codable, Equatable, Sendable {
    public var name: String
    public var summary: String
    public var model: ModelConfiguration
    public var batchSize: Int
    public var learningRate: Float
    public var initialAccumulator: Double
    /// Steps before timing starts.
    public var warmupSteps: Int
    /// At least this many timed steps …
    public var minimumSteps: Int
    /// … and at least this many seconds.
    public var minimumSeconds: Double

    static func mmoe(experts: Int, hidden: [Int]) -> ModelConfiguration {
        ModelConfiguration(model: .mmoe, tasks: [TaskSpec(name: "task0"), TaskSpec(name: "task1")],
                           sparseFields: (0..<26).map { SparseField(name: "C\($0 + 1)", vocabulary: 10_000, dimension: 16) },
                           denseFeatures: 13, experts: experts, expertHidden: hidden, gateBias: true,
                           towerHidden: [64])
    }

    /// W1 small: MMoE, 4 experts [64, 32], batch 512.
    public static let w1 = BenchmarkWorkload(
        name: "W1", summary: "MMoE 4 experts [64, 32], batch 512", model: mmoe(experts: 4, hidden: [64, 32]),
        batchSize: 512, learningRate: 0.05, initialAccumulator: 0.1, warmupSteps: 10, minimumSteps: 100,
        minimumSeconds: 2)
    /// W2 default: MMoE, 8 experts [256, 128], batch 1024.
    public static let w2 = BenchmarkWorkload(
        name: "W2", summary: "MMoE 8 experts [256, 128], batch 1024", model: mmoe(experts: 8, hidden: [256, 128]),
        batchSize: 1024, learningRate: 0.05, initialAccumulator: 0.1, warmupSteps: 5, minimumSteps: 30,
        minimumSeconds: 3)
    /// W3 heavy: MMoE, 8 experts [1024, 512], batch 1024.
    public static let w3 = BenchmarkWorkload(
        name: "W3", summary: "MMoE 8 experts [1024, 512], batch 1024", model: mmoe(experts: 8, hidden: [1024, 512]),
        batchSize: 1024, learningRate: 0.05, initialAccumulator: 0.1, warmupSteps: 3, minimumSteps: 10,
        minimumSeconds: 4)

    public static let standard = [w1, w2, w3]

    /// Matrix-product FLOPs of one training step, counted from the layer
    /// shapes: each `in × out` weight does `2·B·in·out` FLOPs in forward and
    /// again for `∂W` and for `∂x` in backward (every layer's input gradient
    /// is needed: the first layers feed the embeddings).
    public static func gemmFLOPsPerStep(parameters: [Parameter], batchSize: Int) -> Double {
        let weights = parameters.filter { $0.kind == .dense && $0.name.hasSuffix(".W") }
        return 6 * Double(batchSize) * Double(weights.reduce(0) { $0 + $1.count })
    }
}

/// Counts heap allocations between `start()` and `stop()` (provided by the
/// executable, which can interpose `malloc`; the library cannot).
public protocol AllocationCounter {
    func start()
    /// Number of allocations since `start()`.
    func stop() -> Int
}

/// What one workload measured.
public struct WorkloadResult: Codable, Equatable, Sendable {
    public var name: String
    public var batchSize: Int
    public var threads: Int
    public var steps: Int
    public var msPerStep: Double
    public var samplesPerSecond: Double
    /// GEMM FLOPs of one step (analytic).
    public var flopsPerStep: Double
    /// Training GFLOP/s: `flopsPerStep / secondsPerStep / 1e9`.
    public var trainGFLOPS: Double
    /// Time per phase of a step, in ms: `forward`, `losses`, `backward` and
    /// `update` (the optimizer), as `TrainingStepPhaseTimes` records them.
    public var phaseMilliseconds: [String: Double]
    /// Peak resident memory of the process, MiB.
    public var maxRSSMiB: Double
    /// Heap allocations per steady-state step (`nil` when not measured).
    public var allocationsPerStep: Double?
    /// Final training loss (sum over tasks), to show the run trained.
    public var finalLoss: Double
}

/// Training throughput: forward + loss + backward + update on in-memory batches.
public enum ThroughputBenchmark {
    /// Runs `workload` with `threads` OpenBLAS threads after its warm-up.
    public static func run(_ workload: BenchmarkWorkload, threads: Int,
                           allocationCounter: AllocationCounter? = nil) throws -> WorkloadResult {
        BLAS.threadCount = threads
        let model = try makeModel(workload.model)
        var rng = RandomGenerator(seed: 7)
        model.initialize(using: &rng)
        let optimizer = try Adagrad(form: .keras, initialAccumulatorValue: Float(workload.initialAccumulator))
        // The trainer's own step: forward, losses, weighted backward, update.
        let trainingStep = TrainingStep(model: model, optimizer: optimizer,
                                        balancer: FixedWeighting(taskCount: model.taskCount))
        let batches = (0..<8).map { _ in randomBatch(workload, rng: &rng) }

        func step(_ i: Int) {
            let batch = batches[i % batches.count]
            trainingStep.computeGradients(batch)
            trainingStep.applyUpdate(learningRate: workload.learningRate, batchSize: batch.size)
        }

        // Warm up over every batch at least once: buffers reach their final size.
        for i in 0..<max(workload.warmupSteps, batches.count) { step(i) }
        trainingStep.phaseTimes = TrainingStepPhaseTimes()
        allocationCounter?.start()
        let start = MonotonicClock.now
        var steps = 0
        while steps < workload.minimumSteps || MonotonicClock.seconds(since: start) < workload.minimumSeconds {
            step(steps)
            steps += 1
        }
        let seconds = MonotonicClock.seconds(since: start)
        let allocations = allocationCounter?.stop()
        let perStep = seconds / Double(steps)
        let flops = BenchmarkWorkload.gemmFLOPsPerStep(parameters: trainingStep.modelParameters,
                                                       batchSize: workload.batchSize)
        var phases: [String: Double] = [:]
        for phase in TrainingStepPhaseTimes.Phase.allCases where phase != .combination {
            phases[phase.rawValue] = trainingStep.phaseTimes!.millisecondsPerStep(phase)
        }
        return WorkloadResult(name: workload.name, batchSize: workload.batchSize, threads: threads, steps: steps,
                              msPerStep: perStep * 1000, samplesPerSecond: Double(workload.batchSize) / perStep,
                              flopsPerStep: flops, trainGFLOPS: flops / perStep / 1e9, phaseMilliseconds: phases,
                              maxRSSMiB: peakResidentMemoryMiB(),
                              allocationsPerStep: allocations.map { Double($0) / Double(steps) },
                              finalLoss: trainingStep.losses.reduce(0, +))
    }

    /// A batch of uniform random ids, normal dense features and random labels.
    static func randomBatch(_ w: BenchmarkWorkload, rng: inout RandomGenerator) -> Batch {
        let fields = w.model.sparseFields
        let batch = Batch(size: w.batchSize, fieldCount: fields.count, denseCount: w.model.denseFeatures,
                          labelCount: w.model.tasks.count)
        batch.withMutableIDs { ids in
            for e in 0..<w.batchSize {
                for (f, field) in fields.enumerated() {
                    ids[e * fields.count + f] = Int32(rng.nextInt(below: field.vocabulary))
                }
            }
        }
        for i in 0..<batch.dense.count { batch.dense.data[i] = Float(rng.normal()) }
        for i in 0..<batch.labels.count { batch.labels.data[i] = rng.nextDouble() < 0.5 ? 1 : 0 }
        return batch
    }
}
