import Foundation
@testable import Ranker

/// Small models and batches for model tests.
enum ModelFixtures {
    static let fields = [
        SparseField(name: "user", vocabulary: 7, dimension: 3),
        SparseField(name: "item", vocabulary: 5, dimension: 4),
        SparseField(name: "context", vocabulary: 3, dimension: 2),
    ]

    static func tasks(_ n: Int) -> [TaskSpec] { (0..<n).map { TaskSpec(name: "task\($0)") } }

    /// One configuration per architecture (and PLE variants), with sparse fields and dense features.
    static func configuration(_ kind: ModelKind, tasks taskCount: Int = 3, levels: Int = 2,
                              specific: Int = 2, shared: Int = 1) -> ModelConfiguration {
        var c = ModelConfiguration(model: kind, tasks: tasks(taskCount), sparseFields: fields, denseFeatures: 2,
                                   bottomHidden: [6, 5], experts: 3, expertHidden: [5, 4], gateBias: true,
                                   levels: levels, specificExperts: specific, sharedExperts: shared,
                                   towerHidden: [3], embeddingInitStd: 0.3)
        if kind == .esmm { c.tasks = [TaskSpec(name: "ctr"), TaskSpec(name: "ctcvr")] }
        return c
    }

    /// A random batch with repeated ids (so sparse rows get summed), labels in {0,1}.
    static func batch(for c: ModelConfiguration, size: Int, seed: UInt64) -> Batch {
        var rng = RandomGenerator(seed: seed)
        let labelCount = c.model == .esmm ? 2 : c.tasks.count
        let b = Batch(size: size, fieldCount: c.sparseFields.count, denseCount: c.denseFeatures, labelCount: labelCount)
        for e in 0..<size {
            b.setIDs(example: e, c.sparseFields.map { Int32(rng.nextInt(below: $0.vocabulary)) })
            for j in 0..<c.denseFeatures { b.dense[e, j] = Float(rng.normal()) }
            for t in 0..<labelCount { b.labels[e, t] = rng.nextDouble() < 0.5 ? 1 : 0 }
        }
        if c.model == .esmm {
            // Conversions only on clicks, as in the data; keep at least one of each.
            for e in 0..<size where b.labels[e, 0] == 0 { b.labels[e, 1] = 0 }
        }
        return b
    }

    /// Builds and initialises a model with a fixed seed.
    static func model(_ c: ModelConfiguration, seed: UInt64 = 11) throws -> MultiTaskModel {
        let m = try makeModel(c)
        var rng = RandomGenerator(seed: seed)
        m.initialize(using: &rng)
        // Non-zero biases so their gradients are exercised away from symmetric points.
        for p in m.parameters where p.name.hasSuffix(".b") {
            for i in 0..<p.count { p.value.data[i] = Float(rng.normal() * 0.1) }
        }
        return m
    }

    /// The forward mode of a gradient check: evaluation when `trainingSeed` is
    /// `nil`, otherwise training with a fresh dropout generator from that seed,
    /// so that every call draws the same masks (a fixed mask for finite
    /// differences; BatchNorm's batch statistics do not depend on the running ones).
    static func mode(trainingSeed: UInt64?) -> ForwardMode {
        trainingSeed.map { .training(dropout: DropoutGenerator(RandomGenerator(seed: $0))) } ?? .evaluation
    }

    /// `Σ_t w_t L_t` after a fresh forward pass.
    static func weightedLoss(_ m: MultiTaskModel, _ batch: Batch, weights: [Double], trainingSeed: UInt64? = nil) -> Double {
        let logits = m.forward(batch, mode: mode(trainingSeed: trainingSeed))
        let g = Matrix(rows: 0, cols: 0)
        let losses = m.computeLosses(logits: logits, labels: batch.labels.view, taskGradients: g)
        return zip(losses, weights).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// Forward, losses, and the weighted backward pass; returns the losses.
    @discardableResult
    static func weightedBackward(_ m: MultiTaskModel, _ batch: Batch, weights: [Double],
                                 trainingSeed: UInt64? = nil) -> [Double] {
        let logits = m.forward(batch, mode: mode(trainingSeed: trainingSeed))
        let g = Matrix(rows: 0, cols: 0)
        let losses = m.computeLosses(logits: logits, labels: batch.labels.view, taskGradients: g)
        let weighted = Matrix(rows: batch.size, cols: m.taskCount)
        for t in 0..<m.taskCount {
            for b in 0..<batch.size {
                for j in 0..<m.taskCount { weighted[b, j] += Float(weights[t]) * g[t * batch.size + b, j] }
            }
        }
        m.backward(logitGradient: weighted.view)
        return losses
    }

    /// Forward, losses, and the multi-gradient pass.
    static func perTaskBackward(_ m: MultiTaskModel, _ batch: Batch, trainingSeed: UInt64? = nil) {
        let logits = m.forward(batch, mode: mode(trainingSeed: trainingSeed))
        let g = Matrix(rows: 0, cols: 0)
        _ = m.computeLosses(logits: logits, labels: batch.labels.view, taskGradients: g)
        m.backwardPerTask(taskLogitGradients: g.view)
    }

    /// The analytic gradient of `p` over its full value shape (sparse rows
    /// scattered into a dense table, untouched rows zero).
    static func denseGradient(_ p: Parameter) -> [Double] {
        switch p.kind {
        case .dense:
            return p.grad.toArray().map(Double.init)
        case .embedding:
            var g = [Double](repeating: 0, count: p.count)
            let s = p.sparseGrad!
            for (slot, id) in s.rowIDs.enumerated() {
                for c in 0..<p.cols { g[Int(id) * p.cols + c] = Double(s.values[slot, c]) }
            }
            return g
        }
    }

    /// Task `t`'s gradient of a shared parameter after the multi-gradient pass, over the full shape.
    static func denseTaskGradient(_ p: Parameter, task t: Int) -> [Double] {
        let src = p.taskGradient(t)
        switch p.kind {
        case .dense:
            return (0..<p.count).map { Double(src[$0]) }
        case .embedding:
            var g = [Double](repeating: 0, count: p.count)
            for (slot, id) in p.sparseGrad!.rowIDs.enumerated() {
                for c in 0..<p.cols { g[Int(id) * p.cols + c] = Double(src[slot * p.cols + c]) }
            }
            return g
        }
    }
}
