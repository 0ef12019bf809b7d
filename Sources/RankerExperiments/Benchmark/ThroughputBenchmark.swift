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
    /// Processes training data parallel (1: this process alone); each uses
    /// `threads` OpenBLAS threads and trains its slice of every batch.
    public var ranks: Int
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
    /// With several ranks: rank 0's collectives per step, by kind
    /// (`TimedDataParallelGroup`), and the per-step check that rank 0 wants
    /// another step (`continue flag`).
    public var exchange: [String: ExchangeCost]?
    /// With several ranks: each rank's ms per step outside collectives, in
    /// rank order (their spread is the imbalance the collectives wait for).
    public var computeMillisecondsPerRank: [Double]?
}

/// One kind of collective in a benchmark step, per step.
public struct ExchangeCost: Codable, Equatable, Sendable {
    public var calls: Double
    public var milliseconds: Double
    /// Bytes this rank put into the collective (its slice, or the whole buffer of an allreduce).
    public var bytes: Double
}

/// Training throughput: forward + loss + backward + update on in-memory batches.
public enum ThroughputBenchmark {
    /// Runs `workload` with `threads` OpenBLAS threads after its warm-up.
    ///
    /// With a `group` of several ranks (every rank calls this with the same
    /// arguments), each rank builds the same model and the same global
    /// batches, trains on its slice of each (`DataParallelGroup.slice(of:)`)
    /// and sums gradients over the ranks (`ReplicaGradientReduction`, as
    /// `ranker train` does), so a step still trains `batchSize` samples.
    /// Rank 0 decides when to stop and tells the others every step (one
    /// allreduce of one double, like the trainer's interrupt flag).
    public static func run(_ workload: BenchmarkWorkload, threads: Int, group: DataParallelGroup? = nil,
                           allocationCounter: AllocationCounter? = nil) throws -> WorkloadResult {
        BLAS.threadCount = threads
        let model = try makeModel(workload.model)
        // The FLOP count below assumes every layer multiplies all of x: no
        // folding into the embeddings (ALGORITHMS.md 3.1.1; with uniform ids
        // over 10,000 rows `automatic` would not fold these batches either).
        model.input.folding = .never
        var rng = RandomGenerator(seed: 7)
        model.initialize(using: &rng)
        let optimizer = try Adagrad(form: .keras, initialAccumulatorValue: Float(workload.initialAccumulator))
        // The trainer's own step: forward, losses, weighted backward, update.
        let trainingStep = TrainingStep(model: model, optimizer: optimizer,
                                        balancer: FixedWeighting(taskCount: model.taskCount))
        let timed = group.flatMap { $0.size > 1 ? TimedDataParallelGroup($0) : nil }
        let reduction = try timed.map { try ReplicaGradientReduction(group: $0, model: model) }
        var batches = (0..<8).map { _ in randomBatch(workload, rng: &rng) }
        if let timed { batches = batches.map { rows(timed.slice(of: 0..<workload.batchSize), of: $0) } }

        func step(_ i: Int) throws {
            let batch = batches[i % batches.count]
            reduction?.beginBatch(localRows: batch.size, globalRows: workload.batchSize)
            try trainingStep.computeGradients(batch, replicas: reduction)
            trainingStep.applyUpdate(learningRate: workload.learningRate, batchSize: workload.batchSize)
        }

        // Warm up over every batch at least once: buffers reach their final size.
        for i in 0..<max(workload.warmupSteps, batches.count) { try step(i) }
        trainingStep.phaseTimes = TrainingStepPhaseTimes()
        timed?.reset()
        allocationCounter?.start()
        let start = MonotonicClock.now
        func another(after steps: Int) throws -> Bool {
            let wanted = steps < workload.minimumSteps || MonotonicClock.seconds(since: start) < workload.minimumSeconds
            guard let timed else { return wanted }
            var flag: Double = timed.rank == 0 && wanted ? 1 : 0
            try withUnsafeMutablePointer(to: &flag) { p in
                try timed.record("continue flag", bytes: 8) {
                    try timed.inner.allreduceSum(UnsafeMutableBufferPointer(start: p, count: 1))
                }
            }
            return flag > 0
        }
        var steps = 0
        while try another(after: steps) {
            try step(steps)
            steps += 1
        }
        let seconds = MonotonicClock.seconds(since: start)
        let allocations = allocationCounter?.stop()
        var exchange: [String: ExchangeCost]?
        var computePerRank: [Double]?
        if let timed {
            let n = Double(steps)
            exchange = timed.tallies.mapValues {
                ExchangeCost(calls: Double($0.calls) / n, milliseconds: Double($0.nanoseconds) / 1e6 / n,
                             bytes: Double($0.bytes) / n)
            }
            let compute = UInt64(seconds * 1e9) - min(UInt64(seconds * 1e9), timed.totalNanoseconds)
            computePerRank = try timed.inner.allgather([compute]).map { Double($0) / 1e6 / n }
        }
        let perStep = seconds / Double(steps)
        let flops = BenchmarkWorkload.gemmFLOPsPerStep(parameters: trainingStep.modelParameters,
                                                       batchSize: workload.batchSize)
        var phases: [String: Double] = [:]
        for phase in TrainingStepPhaseTimes.Phase.allCases where phase != .combination {
            phases[phase.rawValue] = trainingStep.phaseTimes!.millisecondsPerStep(phase)
        }
        return WorkloadResult(name: workload.name, batchSize: workload.batchSize, threads: threads,
                              ranks: group?.size ?? 1, steps: steps,
                              msPerStep: perStep * 1000, samplesPerSecond: Double(workload.batchSize) / perStep,
                              flopsPerStep: flops, trainGFLOPS: flops / perStep / 1e9, phaseMilliseconds: phases,
                              maxRSSMiB: peakResidentMemoryMiB(),
                              allocationsPerStep: allocations.map { Double($0) / Double(steps) },
                              finalLoss: trainingStep.losses.reduce(0, +), exchange: exchange,
                              computeMillisecondsPerRank: computePerRank)
    }

    /// A copy of `batch`'s examples `range` (ids, dense features, labels).
    static func rows(_ range: Range<Int>, of batch: Batch) -> Batch {
        let local = Batch(size: range.count, fieldCount: batch.fieldCount, denseCount: batch.denseCount,
                          labelCount: batch.labelCount)
        batch.withIDs { source in
            local.withMutableIDs { $0.update(from: source + range.lowerBound * batch.fieldCount,
                                             count: range.count * batch.fieldCount) }
        }
        local.dense.data.update(from: batch.dense.data + range.lowerBound * batch.denseCount,
                                count: range.count * batch.denseCount)
        local.labels.data.update(from: batch.labels.data + range.lowerBound * batch.labelCount,
                                 count: range.count * batch.labelCount)
        return local
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
