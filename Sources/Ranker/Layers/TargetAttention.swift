import Foundation

/// DIN target attention over a ragged list of embeddings (Zhou et al. 2018).
///
/// For example `b` with query `q` (the target field's embedding, `d` wide)
/// and keys `k_i = E[id_i]`, `i` over the example's `n_b` ids:
///
///     z_i = [q, k_i, q − k_i, q ⊙ k_i]                 (4d)
///     s_i = MLP(z_i)                                   (hidden ReLU layers, then a linear layer to 1)
///     w_i = s_i                                        (DIN: not normalised)
///         = exp(s_i) / Σ_j exp(s_j)                    (with `softmax`; over the example's ids only)
///     p_b = Σ_i w_i k_i                                (p_b = 0 when n_b = 0)
///
/// Only present ids enter (ragged storage, nothing padded), so padding needs
/// no mask: a missing position has no score. All examples' `z_i` are one
/// `N × 4d` matrix (`N = Σ n_b`) and the MLP runs once over it.
///
/// Backward from `g_b = ∂L/∂p_b`:
///
///     ∂L/∂w_i = g_b · k_i
///     ∂L/∂s_i = ∂L/∂w_i                                 (raw weights)
///             = w_i (∂L/∂w_i − Σ_j w_j ∂L/∂w_j)        (softmax)
///     ∂L/∂z_i = MLP backward of ∂L/∂s_i                (also writes the MLP's parameter gradients)
///     ∂L/∂k_i = w_i g_b + ∂z[k] − ∂z[q−k] + q ⊙ ∂z[q⊙k]
///     ∂L/∂q   = Σ_i (∂z[q] + ∂z[q−k] + k_i ⊙ ∂z[q⊙k])
///
/// In the multi-gradient pass (`S` stacked copies of `g`) each copy is taken
/// back separately and the MLP writes `S` per-task gradients (it is shared).
/// Parameters: `<name>.<i>.{W,b}` (group shared).
public final class TargetAttention {
    public let dimension: Int
    public let softmax: Bool
    public let mlp: MLP
    /// `N × 4d` scoring inputs of the last forward (`q` and `k_i` are read back from it).
    private let features = Matrix(rows: 0, cols: 0)
    /// `w_i` of the last forward (`N` values, capacity kept).
    private var weights: [Float] = []
    /// The last forward's offsets (`B + 1`).
    private var offsets: [Int32] = []
    private var batch = 0
    /// `∂L/∂s` (`S·N × 1`) and `∂L/∂z` (`S·N × 4d`).
    private let scoreGradient = Matrix(rows: 0, cols: 0)
    private let featureGradient = Matrix(rows: 0, cols: 0)

    public init(name: String, dimension: Int, hiddenSizes: [Int], softmax: Bool) {
        precondition(dimension > 0)
        self.dimension = dimension
        self.softmax = softmax
        mlp = MLP(name: name, inputSize: 4 * dimension, hiddenSizes: hiddenSizes, outputSize: 1, group: .shared)
    }

    public var parameters: [Parameter] { mlp.parameters }

    public func initialize(using rng: inout RandomGenerator, scheme: LinearInitialization) {
        mlp.initialize(using: &rng, scheme: scheme)
    }

    /// The attention weights `w_i` of the last forward, in id order.
    public var lastWeights: [Float] { Array(weights[0..<features.rows]) }

    /// Pools every example's keys into row `b` of `output` (`B × d`).
    ///
    /// - Parameters:
    ///   - table: `V × d` row-major key embeddings; `ids` index it.
    ///   - queries: `B × d`, the target embeddings (read again by backward:
    ///     they must stay unchanged until then, as the model input does).
    public func forward(table: UnsafePointer<Float>, ids: UnsafePointer<Int32>, offsets: UnsafePointer<Int32>,
                        batch: Int, queries: MatrixView, into output: MatrixView) {
        let d = dimension
        precondition(queries.rows == batch && queries.cols == d && output.rows == batch && output.cols == d,
                     "TargetAttention: queries \(queries.rows)×\(queries.cols), output \(output.rows)×\(output.cols)")
        self.batch = batch
        self.offsets.removeAll(keepingCapacity: true)
        self.offsets.append(contentsOf: UnsafeBufferPointer(start: offsets, count: batch + 1))
        let n = Int(offsets[batch])
        features.resize(rows: n, cols: 4 * d)
        if weights.count < n { weights.append(contentsOf: repeatElement(0, count: n - weights.count)) }
        let z = features.view
        for b in 0..<batch {
            let q = queries.row(b)
            for i in Int(offsets[b])..<Int(offsets[b + 1]) {
                let k = table + Int(ids[i]) * d
                let row = z.row(i)
                for c in 0..<d {
                    row[c] = q[c]
                    row[d + c] = k[c]
                    row[2 * d + c] = q[c] - k[c]
                    row[3 * d + c] = q[c] * k[c]
                }
            }
        }
        if n > 0 { mlp.forward(z) }
        weights.withUnsafeMutableBufferPointer { w in
            for b in 0..<batch {
                let out = output.row(b)
                out.update(repeating: 0, count: d)
                let start = Int(offsets[b]), end = Int(offsets[b + 1])
                if start == end { continue }
                let scores = mlp.output
                if softmax {
                    var top = -Float.infinity
                    for i in start..<end { top = max(top, scores[i, 0]) }
                    var total: Float = 0
                    for i in start..<end { w[i] = exp(scores[i, 0] - top); total += w[i] }
                    for i in start..<end { w[i] /= total }
                } else {
                    for i in start..<end { w[i] = scores[i, 0] }
                }
                for i in start..<end { VectorKernels.addScaled(z.row(i) + d, by: w[i], into: out, count: d) }
            }
        }
    }

    /// Backward from `gradient` (`S·B × d`, `S` stacked copies of `∂L/∂p`).
    /// Writes the MLP's parameter gradients and adds `∂L/∂k_i` to row
    /// `keySlots[i]` of `keyGradient(t)` and `∂L/∂q_b` to row
    /// `querySlots[b · queryStride]` of `queryGradient(t)` (rows of `d` floats), `t < S`.
    public func backward(_ gradient: MatrixView, keySlots: UnsafePointer<Int32>, querySlots: UnsafePointer<Int32>,
                         queryStride: Int, keyGradient: (Int) -> UnsafeMutablePointer<Float>,
                         queryGradient: (Int) -> UnsafeMutablePointer<Float>) {
        let d = dimension
        precondition(gradient.cols == d && batch > 0 && gradient.rows % batch == 0,
                     "TargetAttention backward: gradient \(gradient.rows)×\(gradient.cols), batch \(batch)")
        let stack = gradient.rows / batch
        let n = features.rows
        let z = features.view
        guard n > 0 else {
            // No ids anywhere: the scores took no part, their MLP's gradient is zero.
            for p in mlp.parameters { p.writeStackedGradients(stack: stack) { _, destination in destination.fill(0) } }
            return
        }
        scoreGradient.resize(rows: stack * n, cols: 1)
        featureGradient.resize(rows: stack * n, cols: 4 * d)
        let ds = scoreGradient.view
        weights.withUnsafeBufferPointer { w in
            offsets.withUnsafeBufferPointer { o in
                for t in 0..<stack {
                    for b in 0..<batch {
                        let g = gradient.row(t * batch + b)
                        let start = Int(o[b]), end = Int(o[b + 1])
                        var weighted: Float = 0
                        for i in start..<end {
                            let dw = VectorKernels.dot(g, z.row(i) + d, count: d)
                            ds[t * n + i, 0] = dw
                            weighted += w[i] * dw
                        }
                        if softmax {
                            for i in start..<end { ds[t * n + i, 0] = w[i] * (ds[t * n + i, 0] - weighted) }
                        }
                    }
                }
            }
        }
        mlp.backward(ds, inputGradient: featureGradient.view)
        let dz = featureGradient.view
        weights.withUnsafeBufferPointer { w in
            offsets.withUnsafeBufferPointer { o in
                for t in 0..<stack {
                    let keys = keyGradient(t)
                    let queries = queryGradient(t)
                    for b in 0..<batch {
                        let g = gradient.row(t * batch + b)
                        let dq = queries + Int(querySlots[b * queryStride]) * d
                        for i in Int(o[b])..<Int(o[b + 1]) {
                            let row = z.row(i)
                            let dzi = dz.row(t * n + i)
                            let dk = keys + Int(keySlots[i]) * d
                            for c in 0..<d {
                                let q = row[c], k = row[d + c]
                                dk[c] += w[i] * g[c] + dzi[d + c] - dzi[2 * d + c] + q * dzi[3 * d + c]
                                dq[c] += dzi[c] + dzi[2 * d + c] + k * dzi[3 * d + c]
                            }
                        }
                    }
                }
            }
        }
    }
}
