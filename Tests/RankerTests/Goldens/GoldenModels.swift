import Foundation
@testable import Ranker

/// `models.json`: tiny Shared-Bottom, MMoE, PLE and ESMM in float64 — parameters,
/// logits, losses, every parameter gradient of `Σ_k w_k L_k` and `dx`.
///
/// The model input `x` is fed as dense features (no embedding tables), the
/// golden parameters are loaded into the Swift model (MMoE/PLE first expert
/// layers into their column blocks of the concatenated weight), and every
/// output and gradient is compared at the float32 single-step tolerance.
/// Sizes come from the file, so other cases of the same format work too.
func checkModelsGolden(_ json: GoldenValue, _ checker: GoldenChecker) throws {
    let x = json["x"].doubleRows
    for name in ["shared_bottom", "mmoe", "ple", "esmm"] where json[name].exists {
        try checkModelCase(name: name, json[name], x: x, checker)
    }
}

/// A golden linear layer `{"W": [in][out], "b": [out]}`, with its BatchNorm
/// `"bn": {"gamma", "beta", "running_mean", "running_var"}` in `batchnorm.json`
/// (gradients: gamma and beta only; after a step: the running statistics only).
struct GoldenLinear {
    let w: [[Double]]
    let b: [Double]?
    let bn: GoldenValue?
    init(_ v: GoldenValue) {
        w = v["W"].exists ? v["W"].doubleRows : []
        b = v["b"].exists ? v["b"].doubles : nil
        bn = v["bn"].exists ? v["bn"] : nil
    }
    var inputSize: Int { w.count }
    /// Width of the layer's output (from its BatchNorm when `W` is null, as in `running_after`).
    var outputSize: Int { w.first?.count ?? bn.map { max($0["gamma"].count, $0["running_mean"].count) } ?? 0 }
}

func layers(_ v: GoldenValue) -> [GoldenLinear] { v.array.map(GoldenLinear.init) }

/// Copies a golden layer into columns `columnOffset..<columnOffset+out` of a Dense.
func load(_ layer: GoldenLinear, into dense: Dense, columnOffset: Int = 0) {
    let cols = dense.outputSize
    for (i, row) in layer.w.enumerated() {
        for (j, v) in row.enumerated() { dense.weight.value.data[i * cols + columnOffset + j] = Float(v) }
    }
    if let b = layer.b, let bias = dense.bias {
        for (j, v) in b.enumerated() { bias.value.data[columnOffset + j] = Float(v) }
    }
}

func load(_ golden: [GoldenLinear], into mlp: MLP) {
    precondition(golden.count == mlp.layers.count)
    for (i, (g, d)) in zip(golden, mlp.layers).enumerated() {
        load(g, into: d)
        if let bn = g.bn, let layer = mlp.batchNorms[i] { load(batchNorm: bn, into: layer) }
    }
}

/// Copies golden BatchNorm tensors (those present) into columns
/// `columnOffset..<columnOffset+n` of a BatchNorm.
func load(batchNorm golden: GoldenValue, into layer: BatchNorm, columnOffset: Int = 0) {
    let targets = [("gamma", layer.gamma.value), ("beta", layer.beta.value),
                   ("running_mean", layer.runningMean), ("running_var", layer.runningVariance)]
    for (key, matrix) in targets where golden[key].exists {
        for (j, v) in golden[key].doubles.enumerated() { matrix.data[columnOffset + j] = Float(v) }
    }
}

/// Loads one golden expert list (`[expert][layer]`) into an ExpertGroup.
func load(experts golden: [[GoldenLinear]], into group: ExpertGroup) {
    for (e, expert) in golden.enumerated() {
        load(expert[0], into: group.first, columnOffset: e * expert[0].outputSize)
        if let bn = expert[0].bn, let layer = group.firstBatchNorm {
            load(batchNorm: bn, into: layer, columnOffset: e * expert[0].outputSize)
        }
        if expert.count > 1 { load(Array(expert.dropFirst()), into: group.rest[e]) }
    }
}

/// Compares a Dense's gradient with a golden `{"W", "b"}` gradient (column block for experts).
func compare(_ dense: Dense, _ golden: GoldenLinear, columnOffset: Int = 0, _ label: String, _ checker: GoldenChecker,
             tolerance tol: (rtol: Double, atol: Double) = GoldenTolerance.floatStep) {
    let cols = dense.outputSize
    for (i, row) in golden.w.enumerated() {
        for (j, v) in row.enumerated() {
            checker.close(Double(dense.weight.grad.data[i * cols + columnOffset + j]), v, rtol: tol.rtol, atol: tol.atol,
                          "\(label).W[\(i)][\(j)]")
        }
    }
    if let b = golden.b {
        guard let bias = dense.bias else { checker.fail("\(label): the golden has a bias, the model none"); return }
        for (j, v) in b.enumerated() {
            checker.close(Double(bias.grad.data[columnOffset + j]), v, rtol: tol.rtol, atol: tol.atol, "\(label).b[\(j)]")
        }
    }
}

func compare(_ mlp: MLP, _ golden: [GoldenLinear], _ label: String, _ checker: GoldenChecker,
             tolerance tol: (rtol: Double, atol: Double) = GoldenTolerance.floatStep) {
    guard mlp.layers.count == golden.count else { checker.fail("\(label): layer count"); return }
    for (i, (d, g)) in zip(mlp.layers, golden).enumerated() {
        compare(d, g, "\(label)[\(i)]", checker, tolerance: tol)
        compare(batchNorm: mlp.batchNorms[i], g.bn, "\(label)[\(i)].bn", checker, tolerance: tol)
    }
}

func compare(experts golden: [[GoldenLinear]], _ group: ExpertGroup, _ label: String, _ checker: GoldenChecker,
             tolerance tol: (rtol: Double, atol: Double) = GoldenTolerance.floatStep) {
    for (e, expert) in golden.enumerated() {
        let offset = e * expert[0].outputSize
        compare(group.first, expert[0], columnOffset: offset, "\(label)[\(e)][0]", checker, tolerance: tol)
        compare(batchNorm: group.firstBatchNorm, expert[0].bn, columnOffset: offset, "\(label)[\(e)][0].bn", checker,
                tolerance: tol)
        if expert.count > 1 {
            compare(group.rest[e], Array(expert.dropFirst()), "\(label)[\(e)][1...]", checker, tolerance: tol)
        }
    }
}

/// Compares what a golden `bn` object holds: the gradients of `gamma` and
/// `beta` and/or the running statistics (columns `columnOffset…`). A golden
/// without `bn` requires a layer without BatchNorm and vice versa.
func compare(batchNorm layer: BatchNorm?, _ golden: GoldenValue?, columnOffset: Int = 0, _ label: String,
             _ checker: GoldenChecker, tolerance tol: (rtol: Double, atol: Double)) {
    guard let golden else {
        if layer != nil { checker.fail("\(label): the model has BatchNorm, the golden none") }
        return
    }
    guard let layer else { checker.fail("\(label): the golden has BatchNorm, the model none"); return }
    let sources = [("gamma", layer.gamma.grad), ("beta", layer.beta.grad),
                   ("running_mean", layer.runningMean), ("running_var", layer.runningVariance)]
    for (key, matrix) in sources where golden[key].exists {
        for (j, v) in golden[key].doubles.enumerated() {
            checker.close(Double(matrix.data[columnOffset + j]), v, rtol: tol.rtol, atol: tol.atol, "\(label).\(key)[\(j)]")
        }
    }
}

private func checkModelCase(name: String, _ c: GoldenValue, x: [[Double]], _ checker: GoldenChecker) throws {
    let tol = GoldenTolerance.floatStep
    let batch = x.count
    let inputSize = x[0].count
    let params = c["params"]
    let grads = c["grads"]
    let model: MultiTaskModel
    var taskWeights = c["task_weights"].doubles
    let labelRows: [[Double]]

    func towerHidden(_ tower: [GoldenLinear]) -> [Int] { tower.dropLast().map(\.outputSize) }

    switch name {
    case "shared_bottom":
        let bottom = layers(params["bottom"])
        let towers = params["towers"].array.map(layers)
        let config = ModelConfiguration(model: .sharedBottom, tasks: towers.indices.map { TaskSpec(name: "t\($0)") },
                                        denseFeatures: inputSize, bottomHidden: bottom.map(\.outputSize),
                                        towerHidden: towerHidden(towers[0]))
        let m = try SharedBottom(config)
        load(bottom, into: m.bottom)
        for (t, g) in zip(m.towers, towers) { load(g, into: t) }
        model = m
        labelRows = c["labels"].doubleRows
    case "mmoe":
        let experts = params["experts"].array.map(layers)
        let gates = layers(params["gates"])
        let towers = params["towers"].array.map(layers)
        let config = ModelConfiguration(model: .mmoe, tasks: towers.indices.map { TaskSpec(name: "t\($0)") },
                                        denseFeatures: inputSize, experts: experts.count,
                                        expertHidden: experts[0].map(\.outputSize), gateBias: gates[0].b != nil,
                                        towerHidden: towerHidden(towers[0]))
        let m = try MMoE(config)
        load(experts: experts, into: m.experts)
        for (g, golden) in zip(m.gates, gates) { load(golden, into: g.linear) }
        for (t, g) in zip(m.towers, towers) { load(g, into: t) }
        model = m
        labelRows = c["labels"].doubleRows
    case "ple":
        let levelsJSON = params["levels"].array
        let towers = params["towers"].array.map(layers)
        let firstLevel = levelsJSON[0]
        let specificPerTask = c["specific_experts_per_task"].int
        let sharedCount = c["shared_experts"].int
        let hidden = (firstLevel["shared"].count > 0 ? layers(firstLevel["shared"][0])
                      : layers(firstLevel["specific"][0][0])).map(\.outputSize)
        let config = ModelConfiguration(model: .ple, tasks: towers.indices.map { TaskSpec(name: "t\($0)") },
                                        denseFeatures: inputSize, expertHidden: hidden,
                                        gateBias: firstLevel["task_gates"][0]["b"].exists,
                                        levels: c["n_levels"].int, specificExperts: specificPerTask,
                                        sharedExperts: sharedCount, towerHidden: towerHidden(towers[0]))
        let m = try PLE(config)
        for (level, lj) in zip(m.levels, levelsJSON) {
            for (k, group) in level.specific.enumerated() where group != nil {
                load(experts: lj["specific"][k].array.map(layers), into: group!)
            }
            if let shared = level.shared { load(experts: lj["shared"].array.map(layers), into: shared) }
            for (k, gate) in level.taskGates.enumerated() { load(GoldenLinear(lj["task_gates"][k]), into: gate.linear) }
            if let sg = level.sharedGate {
                guard lj["shared_gate"].exists else { checker.fail("ple: golden lacks a shared gate"); return }
                load(GoldenLinear(lj["shared_gate"]), into: sg.linear)
            } else if lj["shared_gate"].exists && !lj["shared_gate"].isNull {
                checker.fail("ple: the golden has a last-level shared gate, the model must not")
            }
        }
        for (t, g) in zip(m.towers, towers) { load(g, into: t) }
        model = m
        labelRows = c["labels"].doubleRows
    case "esmm":
        let ctr = layers(params["ctr"])
        let cvr = layers(params["cvr"])
        let config = ModelConfiguration(model: .esmm, tasks: [TaskSpec(name: "ctr"), TaskSpec(name: "ctcvr")],
                                        denseFeatures: inputSize, towerHidden: towerHidden(ctr))
        let m = try ESMM(config)
        load(ctr, into: m.ctrTower)
        load(cvr, into: m.cvrTower)
        model = m
        let click = c["y_click"].doubles
        let conversion = c["y_conversion"].doubles
        labelRows = zip(click, conversion).map { [$0, $1] }
        if taskWeights.isEmpty { taskWeights = [1, 1] }
    default:
        checker.fail("unknown model \(name)")
        return
    }

    // Forward on x as dense features.
    let batchData = Batch(size: batch, fieldCount: 0, denseCount: inputSize, labelCount: labelRows[0].count)
    batchData.dense.copy(from: x.flatMap { $0.map(Float.init) })
    batchData.labels.copy(from: labelRows.flatMap { $0.map(Float.init) })
    let logits = model.forward(batchData)
    if name == "esmm" {
        checker.close(logits.cols(0..<1).toArray(), c["logit_ctr"].doubles, rtol: tol.rtol, atol: tol.atol, "esmm.logit_ctr")
        checker.close(logits.cols(1..<2).toArray(), c["logit_cvr"].doubles, rtol: tol.rtol, atol: tol.atol, "esmm.logit_cvr")
        let out = Matrix(rows: batch, cols: 3)
        model.predict(logits: logits, into: out.view)
        for (j, key) in ["p_ctr", "p_cvr", "p_ctcvr"].enumerated() {
            checker.close(out.view.cols(j..<(j + 1)).toArray(), c[key].doubles, rtol: tol.rtol, atol: tol.atol, "esmm.\(key)")
        }
    } else {
        checker.close(logits.toArray(), c["logits"].flatDoubles, rtol: tol.rtol, atol: tol.atol, "\(name).logits")
    }
    if name == "mmoe", c["gate_probs"].exists, let m = model as? MMoE {
        for k in 0..<m.taskCount {
            checker.close(m.gateProbabilities(task: k).toArray(), c["gate_probs"][k].flatDoubles,
                          rtol: tol.rtol, atol: tol.atol, "mmoe.gate_probs[\(k)]")
        }
    }
    // Losses and the weighted backward pass.
    let taskGradients = Matrix(rows: 0, cols: 0)
    let losses = model.computeLosses(logits: logits, labels: batchData.labels.view, taskGradients: taskGradients)
    checker.close(losses, c["losses"].doubles, rtol: tol.rtol, atol: tol.atol, "\(name).losses")
    let weighted = Matrix(rows: batch, cols: model.taskCount)
    for t in 0..<model.taskCount {
        for b in 0..<batch {
            for j in 0..<model.taskCount {
                weighted[b, j] += Float(taskWeights[t]) * taskGradients[t * batch + b, j]
            }
        }
    }
    model.backward(logitGradient: weighted.view)
    checker.close(model.lastInputGradient.toArray(), c["dx"].flatDoubles, rtol: tol.rtol, atol: tol.atol, "\(name).dx")

    switch model {
    case let m as SharedBottom:
        compare(m.bottom, layers(grads["bottom"]), "shared_bottom.bottom", checker)
        for (k, t) in m.towers.enumerated() { compare(t, layers(grads["towers"][k]), "shared_bottom.towers[\(k)]", checker) }
    case let m as MMoE:
        compare(experts: grads["experts"].array.map(layers), m.experts, "mmoe.experts", checker)
        for (k, g) in m.gates.enumerated() { compare(g.linear, GoldenLinear(grads["gates"][k]), "mmoe.gates[\(k)]", checker) }
        for (k, t) in m.towers.enumerated() { compare(t, layers(grads["towers"][k]), "mmoe.towers[\(k)]", checker) }
    case let m as PLE:
        for (l, level) in m.levels.enumerated() {
            let lj = grads["levels"][l]
            for (k, group) in level.specific.enumerated() where group != nil {
                compare(experts: lj["specific"][k].array.map(layers), group!, "ple.levels[\(l)].specific[\(k)]", checker)
            }
            if let shared = level.shared {
                compare(experts: lj["shared"].array.map(layers), shared, "ple.levels[\(l)].shared", checker)
            }
            for (k, g) in level.taskGates.enumerated() {
                compare(g.linear, GoldenLinear(lj["task_gates"][k]), "ple.levels[\(l)].task_gates[\(k)]", checker)
            }
            if let sg = level.sharedGate {
                compare(sg.linear, GoldenLinear(lj["shared_gate"]), "ple.levels[\(l)].shared_gate", checker)
            }
        }
        for (k, t) in m.towers.enumerated() { compare(t, layers(grads["towers"][k]), "ple.towers[\(k)]", checker) }
    case let m as ESMM:
        compare(m.ctrTower, layers(grads["ctr"]), "esmm.ctr", checker)
        compare(m.cvrTower, layers(grads["cvr"]), "esmm.cvr", checker)
    default:
        checker.fail("unexpected model type")
    }
}
