import Foundation
import Ranker

/// The step-time cost of gradient combination (issue "loss weighting"): by
/// default the benchmark's W2 model — MMoE, 8 experts [256, 128], towers [64], 26 sparse
/// fields (vocabulary 10,000, dimension 16) + 13 dense features, batch 1024,
/// Adagrad lr 0.05 — trained through `TrainingStep` with the balancers
/// `TaskBalancerConfiguration` builds: `fixed` (one weighted backward pass),
/// `gradcraft` and `pcgrad` (the multi-gradient pass over `T·B` stacked rows,
/// then `combine`), for each task count `T`.
///
/// Within a task count every method has its own model (same initialisation),
/// optimizer and step; the methods run in interleaved blocks — repeat `r` runs
/// `stepsPerRepeat` steps of each method, the order rotated by `r` — so that
/// machine noise falls on all of them alike. A method's time is the median of
/// its blocks' ms/step, its ratio that median over Fixed's.
///
/// Where the time goes: every timed step records its phases
/// (`TrainingStepPhaseTimes`: forward, losses, backward, combination, update).
/// The combination is split further by timing its three parts on the last
/// step's per-task gradients, each `breakdownRepeats` times (median): the
/// double-precision Gram matrix over the shared parameters
/// (`TaskGradientGram`), the `T × T` projection (`GradCraftProjection` /
/// `PCGradProjection`), and writing `Σ_t c_t taskGradients[t]`
/// (`TaskGradientMixing`).
public enum BalancerCostBenchmark {
    /// The methods compared.
    public enum Method: String, Codable, CaseIterable, Sendable {
        case fixed
        case gradcraft
        case pcgrad

        /// The balancing configuration (the library defaults of each method).
        public var configuration: TaskBalancerConfiguration {
            switch self {
            case .fixed: return TaskBalancerConfiguration()
            case .gradcraft: return TaskBalancerConfiguration(GradCraft.Options())
            case .pcgrad: return TaskBalancerConfiguration(PCGrad.Options())
            }
        }
    }

    /// What to measure.
    public struct Options: Codable, Equatable, Sendable {
        /// The model, batch and optimizer settings; its task list is replaced by
        /// `T` binary tasks for each task count (default W2).
        public var workload: BenchmarkWorkload
        public var taskCounts: [Int]
        public var methods: [Method]
        /// OpenBLAS threads.
        public var threads: Int
        /// Interleaved blocks per method.
        public var repeats: Int
        /// Timed steps per block.
        public var stepsPerRepeat: Int
        /// Untimed steps per method before the first block.
        public var warmupSteps: Int
        /// Repetitions of each part of the combination breakdown.
        public var breakdownRepeats: Int

        public init(workload: BenchmarkWorkload = .w2, taskCounts: [Int] = [2, 6], methods: [Method] = Method.allCases,
                    threads: Int = 1, repeats: Int = 5, stepsPerRepeat: Int = 6, warmupSteps: Int = 3,
                    breakdownRepeats: Int = 5) {
            self.workload = workload
            self.taskCounts = taskCounts
            self.methods = methods
            self.threads = threads
            self.repeats = repeats
            self.stepsPerRepeat = stepsPerRepeat
            self.warmupSteps = warmupSteps
            self.breakdownRepeats = breakdownRepeats
        }
    }

    /// The combination's parts, median ms of one call each.
    public struct CombinationBreakdown: Codable, Equatable, Sendable {
        /// `P = G Gᵀ` over every shared parameter (`T(T+1)/2` double dot products of length `d`,
        /// as blocked `ddot` calls over the model's `T × d` per-task gradients and each embedding table).
        public var gramMilliseconds: Double
        /// The `T × T` rule: conflict sets, small solves or sequential projections.
        public var projectionMilliseconds: Double
        /// Writing `Σ_t c_t taskGradients[t]` into every shared parameter (one `sgemv` over the
        /// `T × d` dense part, one per embedding table).
        public var mixingMilliseconds: Double
    }

    /// One method at one task count.
    public struct Result: Codable, Equatable, Sendable {
        public var taskCount: Int
        public var method: Method
        /// Median over the blocks of ms/step.
        public var msPerStep: Double
        /// `msPerStep` over Fixed's at the same task count (1 for Fixed; `nil`
        /// when Fixed was not measured).
        public var ratioToFixed: Double?
        /// ms/step of every block, in run order.
        public var blockMsPerStep: [Double]
        /// Mean ms/step of each phase over all timed steps (keys: `TrainingStepPhaseTimes.Phase` raw values).
        public var phaseMilliseconds: [String: Double]
        /// The combination's parts (gradient-combination methods only).
        public var combination: CombinationBreakdown?
        /// Shared gradient coordinates `d` of the last step (dense shared tensors + touched embedding rows).
        public var sharedGradientCount: Int
        /// Rows the shared part's backward GEMMs run over (`B`, or `T·B` in the multi-gradient pass).
        public var backwardRows: Int
        /// Sum of the task losses after the last step (shows the run trained and stayed finite).
        public var finalLoss: Double
    }

    /// Everything measured.
    public struct Report: Codable, Equatable, Sendable {
        public var workload: String
        public var batchSize: Int
        public var learningRate: Float
        public var threads: Int
        public var repeats: Int
        public var stepsPerRepeat: Int
        public var results: [Result]

        /// The result of `method` at `taskCount`, if measured.
        public func result(taskCount: Int, method: Method) -> Result? {
            results.first { $0.taskCount == taskCount && $0.method == method }
        }
    }

    /// A failure of the benchmark's own training run.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// `base` (default W2) with `taskCount` binary tasks.
    public static func workload(taskCount: Int, base: BenchmarkWorkload = .w2) -> BenchmarkWorkload {
        var w = base
        w.model.tasks = (0..<taskCount).map { TaskSpec(name: "task\($0)") }
        w.summary = "\(base.summary), \(taskCount) tasks"
        return w
    }

    /// Runs the measurement; `progress` receives one line per finished block.
    public static func run(_ options: Options, progress: ((String) -> Void)? = nil) throws -> Report {
        precondition(options.threads >= 1 && options.repeats >= 1 && options.stepsPerRepeat >= 1
                     && options.breakdownRepeats >= 1 && options.warmupSteps >= 0, "BalancerCostBenchmark: bad options")
        precondition(options.taskCounts.allSatisfy { $0 >= 2 }, "gradient combination needs at least two tasks")
        precondition(!options.methods.isEmpty, "BalancerCostBenchmark: no methods")
        let saved = BLAS.threadCount
        BLAS.threadCount = options.threads
        defer { BLAS.threadCount = saved }
        var results: [Result] = []
        for t in options.taskCounts {
            results += try measure(taskCount: t, options: options, progress: progress)
        }
        let w = options.workload
        return Report(workload: "\(w.name): \(w.summary)", batchSize: w.batchSize, learningRate: w.learningRate,
                      threads: options.threads, repeats: options.repeats, stepsPerRepeat: options.stepsPerRepeat,
                      results: results)
    }

    /// One method's model, step and batches.
    private final class Runner {
        let method: Method
        let step: TrainingStep
        var blocks: [Double] = []
        var taken = 0

        init(method: Method, workload: BenchmarkWorkload, seed: UInt64) throws {
            self.method = method
            let model = try makeModel(workload.model)
            var rng = RandomGenerator(seed: seed)
            model.initialize(using: &rng)
            let optimizer = try Adagrad(form: .keras, initialAccumulatorValue: Float(workload.initialAccumulator))
            let balancer = try method.configuration.makeBalancer(taskCount: workload.model.tasks.count, seed: seed)
            step = TrainingStep(model: model, optimizer: optimizer, balancer: balancer)
        }

        func run(steps: Int, batches: [Batch], learningRate: Float) throws {
            for _ in 0..<steps {
                let batch = batches[taken % batches.count]
                taken += 1
                if let failure = step.computeGradients(batch) {
                    throw Failure(description: "\(method.rawValue): step \(taken) failed: \(failure)")
                }
                let report = step.applyUpdate(learningRate: learningRate, batchSize: batch.size)
                if !report.applied {
                    throw Failure(description: "\(method.rawValue): step \(taken) not applied: \(report.nonFiniteParameters)")
                }
            }
        }
    }

    private static func measure(taskCount t: Int, options: Options,
                                progress: ((String) -> Void)?) throws -> [Result] {
        let workload = workload(taskCount: t, base: options.workload)
        var rng = RandomGenerator(seed: 11)
        let batches = (0..<4).map { _ in ThroughputBenchmark.randomBatch(workload, rng: &rng) }
        let runners = try options.methods.map { try Runner(method: $0, workload: workload, seed: 7) }
        for runner in runners {
            try runner.run(steps: options.warmupSteps, batches: batches, learningRate: workload.learningRate)
            runner.step.phaseTimes = TrainingStepPhaseTimes()
        }
        for r in 0..<options.repeats {
            for position in 0..<runners.count {
                let runner = runners[(position + r) % runners.count]
                let start = MonotonicClock.now
                try runner.run(steps: options.stepsPerRepeat, batches: batches, learningRate: workload.learningRate)
                let ms = Double(MonotonicClock.now - start) / 1e6 / Double(options.stepsPerRepeat)
                runner.blocks.append(ms)
                progress?("T=\(t) repeat \(r + 1)/\(options.repeats) \(runner.method.rawValue): \(String(format: "%.1f", ms)) ms/step")
            }
        }
        let fixedMedian = runners.first { $0.method == .fixed }.map { median($0.blocks) }
        return try runners.map { runner in
            let step = runner.step
            let times = step.phaseTimes ?? TrainingStepPhaseTimes()
            var phases: [String: Double] = [:]
            for phase in TrainingStepPhaseTimes.Phase.allCases { phases[phase.rawValue] = times.millisecondsPerStep(phase) }
            let perStep = median(runner.blocks)
            let multi = step.balancer.requiresPerTaskGradients
            let breakdown = multi ? try combinationBreakdown(step: step, batch: batches[(runner.taken - 1) % batches.count],
                                                             method: runner.method, repeats: options.breakdownRepeats) : nil
            let shared = step.modelParameters.filter { $0.group == .shared }.reduce(0) { $0 + $1.gradientCount }
            return Result(taskCount: t, method: runner.method, msPerStep: perStep,
                          ratioToFixed: fixedMedian.map { perStep / $0 }, blockMsPerStep: runner.blocks,
                          phaseMilliseconds: phases, combination: breakdown, sharedGradientCount: shared,
                          backwardRows: multi ? t * workload.batchSize : workload.batchSize,
                          finalLoss: step.losses.reduce(0, +))
        }
    }

    /// Times the combination's parts on fresh per-task gradients of `batch`
    /// (one more `computeGradients`, not applied).
    private static func combinationBreakdown(step: TrainingStep, batch: Batch, method: Method,
                                             repeats: Int) throws -> CombinationBreakdown {
        if let failure = step.computeGradients(batch) {
            throw Failure(description: "\(method.rawValue): breakdown step failed: \(failure)")
        }
        let t = step.model.taskCount
        let parameters = step.modelParameters
        let include = SharedGradientScope.allShared.includes
        let gram = TaskGradientGram(taskCount: t)
        let solver = SymmetricSolver()
        let orders = (0..<t).map { _ in Array(0..<t) }
        var scratch = [Float](repeating: 0, count: t)
        var gramTimes: [Double] = [], projectionTimes: [Double] = [], mixingTimes: [Double] = []
        for _ in 0..<repeats {
            var start = MonotonicClock.now
            try gram.compute(parameters: parameters, include: include)
            gramTimes.append(Double(MonotonicClock.now - start) / 1e6)

            start = MonotonicClock.now
            let coefficients: [Double]
            switch method {
            case .gradcraft:
                coefficients = try GradCraftProjection(gram: gram, tau: 1, epsilon: 0, solver: solver).coefficients
            case .pcgrad:
                coefficients = PCGradProjection(gram: gram, orders: orders, reduction: .sum).coefficients
            case .fixed:
                coefficients = [Double](repeating: 1, count: t)
            }
            projectionTimes.append(Double(MonotonicClock.now - start) / 1e6)

            start = MonotonicClock.now
            TaskGradientMixing.writeCombination(coefficients: coefficients, parameters: parameters, scratch: &scratch,
                                                include: include)
            mixingTimes.append(Double(MonotonicClock.now - start) / 1e6)
        }
        return CombinationBreakdown(gramMilliseconds: median(gramTimes), projectionMilliseconds: median(projectionTimes),
                                    mixingMilliseconds: median(mixingTimes))
    }

    /// The median (mean of the middle two for an even count).
    static func median(_ values: [Double]) -> Double {
        precondition(!values.isEmpty)
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}
