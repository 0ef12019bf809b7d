import Ranker

/// The evaluation-mode forward pass of every model kind as ONNX nodes, read
/// from the model's tensors by their export names (docs/EXPORT.md, "Tensor
/// names and layout"; the same equations as `tools/export_predict.py`).
///
/// Shapes: `B` is the symbolic batch; `x` (`B × D_in`) is the model input
/// `[E_1[id_1], …, E_F[id_F], pool_1, …, pool_S, dense]` (`EmbeddingInput`), a
/// sequence field `s`'s list padded to `L_s = max_length` with a 0/1 mask.
struct ScoringGraph {
    let configuration: ModelConfiguration
    private(set) var builder = ONNXGraphBuilder()
    private let tensors: [String: Matrix]
    private var used: Set<String> = []
    /// Initializer name of each tensor already added (a tensor is stored once).
    private var initializerNames: [String: String] = [:]
    /// The `B × n × h` stack of an expert list already built (keyed by the experts' value names).
    private var stacks: [[String]: String] = [:]

    init(configuration: ModelConfiguration, tensors: [(name: String, value: Matrix)]) {
        self.configuration = configuration
        self.tensors = Dictionary(tensors.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        builder.reserve(ONNXExport.Name.sparseIDs)
        builder.reserve(ONNXExport.Name.dense)
        for field in configuration.sequenceFields {
            builder.reserve(ONNXExport.Name.sequenceIDs(field.name))
            builder.reserve(ONNXExport.Name.sequenceMask(field.name))
        }
    }

    /// Adds every node; returns the output's name (`probabilities`).
    mutating func build() throws -> String {
        let x = try modelInput()
        let c = configuration
        if c.model == .esmm {
            // pCTR = σ(tower_ctr(x)), pCVR = σ(tower_cvr(x)), pCTCVR = pCTR · pCVR (ALGORITHMS.md 3.6).
            let ctr = builder.value("Sigmoid", [try tower("tower.ctr", x)], "p_ctr")
            let cvr = builder.value("Sigmoid", [try tower("tower.cvr", x)], "p_cvr")
            let ctcvr = builder.value("Mul", [ctr, cvr], "p_ctcvr")
            builder.node("Concat", [ctr, cvr, ctcvr], output: ONNXExport.Name.probabilities,
                         attributes: [ONNXAttribute.int("axis", 1)])
            return ONNXExport.Name.probabilities
        }
        let logits = try taskLogits(x)
        let columns = zip(c.tasks, logits).map { task, z in
            task.kind == .regression ? z : builder.value("Sigmoid", [z], "p_\(task.name)")
        }
        builder.node("Concat", columns, output: ONNXExport.Name.probabilities, attributes: [ONNXAttribute.int("axis", 1)])
        return ONNXExport.Name.probabilities
    }

    /// Every tensor of the model must have been read: a left-over tensor means
    /// the graph does not compute what the model computes.
    func checkEveryTensorUsed() throws {
        let unused = Set(tensors.keys).subtracting(used).sorted()
        if !unused.isEmpty {
            throw ONNXExportError(message: "the \(configuration.model.rawValue) graph does not use the tensors "
                                  + unused.joined(separator: ", "))
        }
    }

    // MARK: input (ALGORITHMS.md 3.1)

    /// `x = [E_1[id_1], …, E_F[id_F], pool_1, …, pool_S, dense]` (`B × D_in`), as
    /// `EmbeddingInput` builds it: field `f`'s ids are column `f` of `sparse_ids`
    /// (`Gather` axis 1), its rows of `embedding.<f>` a `Gather` axis 0; then the
    /// pooled vector of each sequence field in `sequence_fields` order (`pooledSequence`).
    private mutating func modelInput() throws -> String {
        let inputNames = [ONNXExport.Name.sparseIDs, ONNXExport.Name.dense, ONNXExport.Name.probabilities]
            + configuration.sequenceFields.flatMap { [ONNXExport.Name.sequenceIDs($0.name), ONNXExport.Name.sequenceMask($0.name)] }
        if Set(inputNames).count != inputNames.count {
            throw ONNXExportError(message: "the sequence fields \(configuration.sequenceFields.map(\.name)) give graph "
                                  + "inputs \(inputNames.dropFirst(3)) that clash with sparse_ids or each other")
        }
        var parts: [String] = []
        for (f, field) in configuration.sparseFields.enumerated() {
            let column = builder.int64Initializer("field_index.\(field.name)", dims: [], values: [Int64(f)])
            let ids = builder.value("Gather", [ONNXExport.Name.sparseIDs, column], "ids.\(field.name)",
                                    attributes: [ONNXAttribute.int("axis", 1)])
            let table = try weight("embedding.\(field.name)", rows: field.vocabulary, cols: field.dimension)
            parts.append(builder.value("Gather", [table, ids], "embedded.\(field.name)",
                                       attributes: [ONNXAttribute.int("axis", 0)]))
        }
        let embedded = parts
        for field in configuration.sequenceFields {
            parts.append(try pooledSequence(field, embedded: embedded))
        }
        if configuration.denseFeatures > 0 { parts.append(ONNXExport.Name.dense) }
        if parts.count == 1 { return parts[0] }
        return builder.value("Concat", parts, "x", attributes: [ONNXAttribute.int("axis", 1)])
    }

    /// Sequence field `field`'s pooled vector (`B × d`) from the inputs `<name>_ids` (int64 `B × L`,
    /// padding any valid id) and `<name>_mask` (float `B × L`, 1 present, 0 padding), `L = max_length`:
    /// keys `k = Gather(E, ids)` (`B × L × d`) from `embedding.<shares_embedding_with or name>` (a
    /// shared table is one initializer), `m` the mask as `B × L × 1`;
    ///
    ///     sum:        Σ_i m_i k_i                                 ReduceSum(m ⊙ k, axis 1)
    ///     mean:       Σ_i m_i k_i / max(Σ_i m_i, 1)               (zeros for an empty list)
    ///     attention:  Σ_i w_i k_i, s = MLP([q, k, q − k, q ⊙ k])  (q: the target field's row, over L)
    ///                 w = s ⊙ m (DIN, raw), or softmax_L(s + (1 − m)·(−1e9)) ⊙ m (attention_softmax)
    ///
    /// — `PooledBag` and `TargetAttention` over the present ids only (padding has weight 0;
    /// a softmax over an all-padding row is multiplied by a zero mask).
    private mutating func pooledSequence(_ field: SequenceField, embedded: [String]) throws -> String {
        let name = field.name
        let d = field.dimension
        let table = try weight("embedding.\(field.sharesEmbeddingWith ?? name)", rows: field.vocabulary, cols: d)
        let keys = builder.value("Gather", [table, ONNXExport.Name.sequenceIDs(name)], "\(name).keys",
                                 attributes: [ONNXAttribute.int("axis", 0)])
        let axis1 = builder.int64Initializer("\(name).axis1", dims: [1], values: [1])
        let axis2 = builder.int64Initializer("\(name).axis2", dims: [1], values: [2])
        let mask = builder.value("Unsqueeze", [ONNXExport.Name.sequenceMask(name), axis2], "\(name).mask")
        let weights: String
        switch field.pooling {
        case .sum, .mean:
            let masked = builder.value("Mul", [keys, mask], "\(name).masked_keys")
            let sum = builder.value("ReduceSum", [masked, axis1], "\(name).sum", attributes: [ONNXAttribute.int("keepdims", 0)])
            if field.pooling == .sum { return sum }
            let count = builder.value("ReduceSum", [ONNXExport.Name.sequenceMask(name), axis1], "\(name).count",
                                      attributes: [ONNXAttribute.int("keepdims", 1)])
            let one = floatScalar("\(name).one", 1)
            let denominator = builder.value("Max", [count, one], "\(name).denominator")
            return builder.value("Div", [sum, denominator], "\(name).mean")
        case .attention:
            guard let target = field.target,
                  let t = configuration.sparseFields.firstIndex(where: { $0.name == target }),
                  configuration.sparseFields[t].dimension == d else {
                throw ONNXExportError(message: "sequence field \(name): attention needs a target sparse field of "
                                      + "dimension \(d), found \(field.target ?? "none")")
            }
            let query = builder.value("Unsqueeze", [embedded[t], axis1], "\(name).query")
            let shape = builder.value("Shape", [keys], "\(name).keys_shape")
            let q = builder.value("Expand", [query, shape], "\(name).queries")
            let difference = builder.value("Sub", [q, keys], "\(name).q_minus_k")
            let product = builder.value("Mul", [q, keys], "\(name).q_times_k")
            var h = builder.value("Concat", [q, keys, difference, product], "\(name).z",
                                  attributes: [ONNXAttribute.int("axis", 2)])
            let layers = field.attentionHidden.count + 1
            var width = 4 * d
            for i in 0..<layers {
                let layer = "attention.\(name).\(i)"
                let outputs = i == layers - 1 ? 1 : field.attentionHidden[i]
                let w = try weight(layer + ".W", rows: width, cols: outputs)
                let b = try weight(layer + ".b", rows: 1, cols: outputs)
                let linear = builder.value("MatMul", [h, w], layer + ".product")
                h = builder.value("Add", [linear, b], layer)
                if i < layers - 1 { h = builder.value("Relu", [h], layer + ".relu") }
                width = outputs
            }
            if field.attentionSoftmax {
                let one = floatScalar("\(name).one", 1)
                let padding = builder.value("Sub", [one, mask], "\(name).padding")
                let large = floatScalar("\(name).minus_1e9", -1e9)
                let offset = builder.value("Mul", [padding, large], "\(name).score_offset")
                let shifted = builder.value("Add", [h, offset], "\(name).masked_scores")
                let p = builder.value("Softmax", [shifted], "\(name).softmax", attributes: [ONNXAttribute.int("axis", 1)])
                weights = builder.value("Mul", [p, mask], "\(name).weights")
            } else {
                weights = builder.value("Mul", [h, mask], "\(name).weights")
            }
        }
        let weighted = builder.value("Mul", [keys, weights], "\(name).weighted_keys")
        return builder.value("ReduceSum", [weighted, axis1], "\(name).pooled", attributes: [ONNXAttribute.int("keepdims", 0)])
    }

    /// A float32 scalar initializer.
    private mutating func floatScalar(_ hint: String, _ value: Float) -> String {
        [value].withUnsafeBufferPointer { builder.floatInitializer(hint, dims: [], values: $0) }
    }

    // MARK: building blocks (ALGORITHMS.md 3.2, 3.4)

    /// `y = x W + b` (`W`: `in × out`, `b`: `1 × out`, absent for a bias-free gate): `Gemm`, or `MatMul`.
    private mutating func dense(_ name: String, _ x: String, outputs: Int? = nil) throws -> String {
        let w = try weight(name + ".W", cols: outputs)
        if tensors[name + ".b"] != nil {
            let b = try weight(name + ".b", rows: 1, cols: tensors[name + ".W"]!.cols)
            return builder.value("Gemm", [x, w, b], name)
        }
        return builder.value("MatMul", [x, w], name)
    }

    /// BatchNorm in evaluation form, `gamma (z − running_mean) / sqrt(running_var + 1e-5) + beta`
    /// per column (ALGORITHMS.md 3.2.1), on `B × n`: `BatchNormalization` (channels = columns).
    private mutating func batchNorm(_ name: String, _ z: String, columns: Int) throws -> String {
        let parameters = try ["gamma", "beta", "running_mean", "running_var"].map {
            try weight("\(name).\($0)", rows: 1, cols: columns, flatten: true)
        }
        return builder.value("BatchNormalization", [z] + parameters, name,
                             attributes: [ONNXAttribute.float("epsilon", Float(BatchNorm.epsilon))])
    }

    /// Linear → (BatchNorm) → ReLU; dropout is the identity at prediction.
    private mutating func hiddenLayer(_ name: String, _ x: String, batchNorm bn: Bool) throws -> String {
        var z = try dense(name, x)
        if bn { z = try batchNorm(name + ".bn", z, columns: tensors[name + ".W"]!.cols) }
        return builder.value("Relu", [z], name + ".relu")
    }

    /// Layers `<name>.0 … <name>.{count−1}`, all hidden layers.
    private mutating func hiddenLayers(_ name: String, _ x: String, count: Int) throws -> String {
        var h = x
        for i in 0..<count { h = try hiddenLayer("\(name).\(i)", h, batchNorm: configuration.batchNorm) }
        return h
    }

    /// A tower: hidden layers `<name>.0 …`, then the plain Linear `<name>.<last>` with one output (the logit, `B × 1`).
    private mutating func tower(_ name: String, _ x: String) throws -> String {
        let hidden = configuration.towerHidden.count
        let h = try hiddenLayers(name, x, count: hidden)
        return try dense("\(name).\(hidden)", h, outputs: 1)
    }

    /// `count` experts reading `u`: `<name>.0` is the first layer of all of them side by side
    /// (`in × count·h_1`, expert `e` owns columns `e·h_1 ..< (e+1)·h_1`, as does its BatchNorm),
    /// split into `count` blocks; then `<name>.<e>.<i>` are expert `e`'s later layers. Returns the `B × h_m` outputs.
    private mutating func expertGroup(_ name: String, _ u: String, count: Int) throws -> [String] {
        guard count > 0 else { return [] }
        let hidden = configuration.expertHidden
        let first = try hiddenLayer(name + ".0", u, batchNorm: configuration.batchNorm)
        let blocks: [String]
        if count == 1 {
            blocks = [first]
        } else {
            let sizes = builder.int64Initializer("\(name).split", dims: [count],
                                                 values: Array(repeating: Int64(hidden[0]), count: count))
            blocks = builder.node("Split", [first, sizes], name + ".expert", attributes: [ONNXAttribute.int("axis", 1)],
                                  outputCount: count)
        }
        return try blocks.enumerated().map { e, block in
            try hiddenLayers("\(name).\(e)", block, count: hidden.count - 1)
        }
    }

    /// Gate `<name>` over `experts` (each `B × h`): `p = softmax_rows(u W (+ b))` (BatchNorm on the
    /// logits when `gate_batch_norm`), `f = Σ_e p[:, e] · E_e`, as `ReduceSum_1(stack(E) ⊙ p[:, :, None])`.
    private mutating func gate(_ name: String, _ u: String, experts: [String]) throws -> String {
        var a = try dense(name, u, outputs: experts.count)
        if configuration.gateBatchNorm { a = try batchNorm(name + ".bn", a, columns: experts.count) }
        let p = builder.value("Softmax", [a], name + ".softmax", attributes: [ONNXAttribute.int("axis", 1)])
        let axis2 = builder.int64Initializer("\(name).axis2", dims: [1], values: [2])
        let weights = builder.value("Unsqueeze", [p, axis2], name + ".weights")
        let stacked = stack(experts)
        let weighted = builder.value("Mul", [stacked, weights], name + ".weighted")
        let axis1 = builder.int64Initializer("\(name).axis1", dims: [1], values: [1])
        return builder.value("ReduceSum", [weighted, axis1], name + ".mixed", attributes: [ONNXAttribute.int("keepdims", 0)])
    }

    /// The experts' outputs stacked along a new axis 1 (`B × n × h`), built once per expert list.
    private mutating func stack(_ experts: [String]) -> String {
        if let built = stacks[experts] { return built }
        let axis1 = builder.int64Initializer("stack.axis1", dims: [1], values: [1])
        let expanded = experts.map { builder.value("Unsqueeze", [$0, axis1], $0 + ".expanded") }
        let stacked = expanded.count == 1
            ? expanded[0]
            : builder.value("Concat", expanded, "stack", attributes: [ONNXAttribute.int("axis", 1)])
        stacks[experts] = stacked
        return stacked
    }

    // MARK: models (ALGORITHMS.md 3.3 – 3.5)

    /// The `B × 1` logit of each task of Shared-Bottom, MMoE and PLE.
    private mutating func taskLogits(_ x: String) throws -> [String] {
        let c = configuration
        let tasks = c.tasks.map(\.name)
        switch c.model {
        case .sharedBottom:
            let s = try hiddenLayers("bottom", x, count: c.bottomHidden.count)
            return try tasks.map { try tower("tower.\($0)", s) }
        case .mmoe:
            let experts = try expertGroup("experts", x, count: c.experts)
            return try tasks.map { try tower("tower.\($0)", try gate("gate.\($0)", x, experts: experts)) }
        case .ple:
            // u_k^0 = u_s^0 = x; level l: task k's specific experts read u_k^{l−1}, the shared ones u_s^{l−1};
            // u_k^l = gate_k(u_k^{l−1}; [own specific…, shared…]), below the last level
            // u_s^l = shared_gate(u_s^{l−1}; [every task's specific…, shared…]); z_k = tower_k(u_k^L).
            var taskInputs = Array(repeating: x, count: tasks.count)
            var sharedInput = x
            for level in 1...c.levels {
                let prefix = "level\(level)"
                let specific = try tasks.enumerated().map { k, task in
                    try expertGroup("\(prefix).specific.\(task)", taskInputs[k], count: c.specificExperts)
                }
                let shared = try expertGroup("\(prefix).shared", sharedInput, count: c.sharedExperts)
                let next = try tasks.enumerated().map { k, task in
                    try gate("\(prefix).gate.\(task)", taskInputs[k], experts: specific[k] + shared)
                }
                if level < c.levels {
                    sharedInput = try gate("\(prefix).shared_gate", sharedInput, experts: specific.flatMap { $0 } + shared)
                }
                taskInputs = next
            }
            return try tasks.enumerated().map { k, task in try tower("tower.\(task)", taskInputs[k]) }
        case .esmm:
            preconditionFailure("ESMM is built by build()")
        }
    }

    // MARK: weights

    /// The initializer of tensor `name`, checked to be `rows × cols` where given
    /// (`flatten`: stored 1-D, `[rows·cols]`).
    private mutating func weight(_ name: String, rows: Int? = nil, cols: Int? = nil, flatten: Bool = false) throws -> String {
        guard let m = tensors[name] else {
            throw ONNXExportError(message: "the \(configuration.model.rawValue) graph needs the tensor \(name), "
                                  + "which the model does not have")
        }
        if let rows, m.rows != rows {
            throw ONNXExportError(message: "tensor \(name) is \(m.rows) × \(m.cols), expected \(rows) rows")
        }
        if let cols, m.cols != cols {
            throw ONNXExportError(message: "tensor \(name) is \(m.rows) × \(m.cols), expected \(cols) columns")
        }
        used.insert(name)
        let key = flatten ? name + "#1d" : name
        if let existing = initializerNames[key] { return existing }
        let dims = flatten ? [m.count] : [m.rows, m.cols]
        let added = builder.floatInitializer(name, dims: dims, values: UnsafeBufferPointer(m.buffer))
        initializerNames[key] = added
        return added
    }
}
