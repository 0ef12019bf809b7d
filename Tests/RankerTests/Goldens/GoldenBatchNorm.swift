import Foundation
@testable import Ranker

/// `batchnorm.json` (ALGORITHMS.md 3.2.1), float64 references from
/// `torch.nn.BatchNorm1d`:
///
/// * `layer_cases`: a training forward, backward, the running statistics
///   after it, a second training forward and an evaluation forward, at the
///   layer tolerance (`rtol 1e-5, atol 1e-6`);
/// * `shared_bottom_bn` (BatchNorm in bottom and towers, with the per-task
///   bottom gradients of the stacked pass) and `mmoe_bn` (torch-rechub's MMoE:
///   BatchNorm in experts, gates and towers): one training step's logits,
///   losses, every gradient, `dx` and the running statistics after it;
/// * `tower_eval`: a tower in evaluation mode;
///
/// the model cases at the model tolerance (`rtol 1e-4, atol 1e-6`). Sizes come
/// from the file, so other cases of the same format work too.
enum GoldenBatchNorm {
    static let layerTolerance = (rtol: 1e-5, atol: 1e-6)
    static let modelTolerance = (rtol: 1e-4, atol: 1e-6)

    static func check(_ json: GoldenValue, _ checker: GoldenChecker) throws {
        checker.close(BatchNorm.momentum, json["momentum"].double, rtol: 0, "momentum")
        checker.close(BatchNorm.epsilon, json["eps"].double, rtol: 0, "eps")
        for c in json["layer_cases"].array { checkLayer(c, checker) }
        if json["shared_bottom_bn"].exists { try checkModel(json["shared_bottom_bn"], x: json["x"], isMMoE: false, checker) }
        if json["mmoe_bn"].exists { try checkModel(json["mmoe_bn"], x: json["x"], isMMoE: true, checker) }
        if json["tower_eval"].exists { checkTowerEvaluation(json["tower_eval"], checker) }
    }

    static func matrix(_ v: GoldenValue) -> Matrix { Matrix(v.floatRows) }

    static func training() -> ForwardMode { .training(dropout: DropoutGenerator(RandomGenerator(seed: 1))) }

    // MARK: layer cases

    static func checkLayer(_ c: GoldenValue, _ checker: GoldenChecker) {
        let name = c["name"].stringOrNil ?? "layer"
        let tol = layerTolerance
        let z = matrix(c["z"])
        let layer = BatchNorm(name: name, width: z.cols, group: .shared)
        load(batchNorm: c["bn"], into: layer)
        func close(_ m: MatrixView, _ key: String) {
            checker.close(m.toArray(), c[key].flatDoubles, rtol: tol.rtol, atol: tol.atol, "\(name).\(key)")
        }
        layer.forward(z.view, mode: training())
        close(z.view, "y_train")
        checker.close(layer.runningMean.toArray(), c["running_after_step1"]["running_mean"].doubles,
                      rtol: tol.rtol, atol: tol.atol, "\(name).running_after_step1.running_mean")
        checker.close(layer.runningVariance.toArray(), c["running_after_step1"]["running_var"].doubles,
                      rtol: tol.rtol, atol: tol.atol, "\(name).running_after_step1.running_var")
        let dy = matrix(c["dy"])
        layer.backward(dy.view)
        close(dy.view, "dz")
        close(layer.gamma.grad.view, "dgamma")
        close(layer.beta.grad.view, "dbeta")
        let z2 = matrix(c["z_step2"])
        layer.forward(z2.view, mode: training())
        close(z2.view, "y_train_step2")
        checker.close(layer.runningMean.toArray(), c["running_after_step2"]["running_mean"].doubles,
                      rtol: tol.rtol, atol: tol.atol, "\(name).running_after_step2.running_mean")
        checker.close(layer.runningVariance.toArray(), c["running_after_step2"]["running_var"].doubles,
                      rtol: tol.rtol, atol: tol.atol, "\(name).running_after_step2.running_var")
        let before = layer.runningMean.toArray() + layer.runningVariance.toArray()
        let zEval = matrix(c["z_eval"])
        layer.forward(zEval.view, mode: .evaluation)
        close(zEval.view, "y_eval_after_step2")
        checker.equal(layer.runningMean.toArray() + layer.runningVariance.toArray(), before,
                      "\(name): evaluation leaves the running statistics alone")
    }

    // MARK: models

    /// One training step of `shared_bottom_bn` or `mmoe_bn` on `x` (fed as dense features).
    static func checkModel(_ c: GoldenValue, x xValue: GoldenValue, isMMoE: Bool, _ checker: GoldenChecker) throws {
        let tol = modelTolerance
        let label = isMMoE ? "mmoe_bn" : "shared_bottom_bn"
        let x = xValue.floatRows
        let batch = x.count
        let params = c["params"]
        let grads = c["grads"]
        let after = c["running_after"]
        let weights = c["task_weights"].doubles
        let towers = params["towers"].array.map(layers)
        let tasks = towers.indices.map { TaskSpec(name: "t\($0)") }
        let towerHidden = towers[0].dropLast().map(\.outputSize)
        let model: MultiTaskModel
        if isMMoE {
            let experts = params["experts"].array.map(layers)
            let gates = layers(params["gates"])
            let config = ModelConfiguration(model: .mmoe, tasks: tasks, denseFeatures: x[0].count, experts: experts.count,
                                            expertHidden: experts[0].map(\.outputSize), gateBias: gates[0].b != nil,
                                            towerHidden: towerHidden, batchNorm: experts[0][0].bn != nil,
                                            gateBatchNorm: gates[0].bn != nil)
            let m = try MMoE(config)
            load(experts: experts, into: m.experts)
            for (g, golden) in zip(m.gates, gates) {
                load(golden, into: g.linear)
                if let bn = golden.bn, let layer = g.batchNorm { load(batchNorm: bn, into: layer) }
            }
            for (t, g) in zip(m.towers, towers) { load(g, into: t) }
            model = m
        } else {
            let bottom = layers(params["bottom"])
            let config = ModelConfiguration(model: .sharedBottom, tasks: tasks, denseFeatures: x[0].count,
                                            bottomHidden: bottom.map(\.outputSize), towerHidden: towerHidden,
                                            batchNorm: bottom[0].bn != nil)
            let m = try SharedBottom(config)
            load(bottom, into: m.bottom)
            for (t, g) in zip(m.towers, towers) { load(g, into: t) }
            model = m
        }
        let labels = c["labels"].floatRows
        let data = Batch(size: batch, fieldCount: 0, denseCount: x[0].count, labelCount: labels[0].count)
        data.dense.copy(from: x.flatMap { $0 })
        data.labels.copy(from: labels.flatMap { $0 })

        // The training step: forward, losses, the weighted backward pass.
        let logits = model.forward(data, mode: training())
        checker.close(logits.toArray(), c["logits"].flatDoubles, rtol: tol.rtol, atol: tol.atol, "\(label).logits")
        if isMMoE, let m = model as? MMoE, c["gate_probs"].exists {
            for k in 0..<m.taskCount {
                checker.close(m.gateProbabilities(task: k).toArray(), c["gate_probs"][k].flatDoubles,
                              rtol: tol.rtol, atol: tol.atol, "\(label).gate_probs[\(k)]")
            }
        }
        let taskGradients = Matrix(rows: 0, cols: 0)
        let losses = model.computeLosses(logits: logits, labels: data.labels.view, taskGradients: taskGradients)
        checker.close(losses, c["losses"].doubles, rtol: tol.rtol, atol: tol.atol, "\(label).losses")
        let weighted = Matrix(rows: 0, cols: 0)
        weightedLogitGradient(taskGradients: taskGradients.view, weights: weights, into: weighted)
        model.backward(logitGradient: weighted.view)
        checker.close(model.lastInputGradient.toArray(), c["dx"].flatDoubles, rtol: tol.rtol, atol: tol.atol, "\(label).dx")
        compareModel(model, grads, "\(label).grads", checker)
        compareModel(model, after, "\(label).running_after", checker)

        // Per-task bottom gradients: the stacked pass with block k scaled by w_k.
        guard c["per_task_bottom_grads"].exists, let m = model as? SharedBottom else { return }
        _ = model.forward(data, mode: training())
        _ = model.computeLosses(logits: logits, labels: data.labels.view, taskGradients: taskGradients)
        for k in 0..<model.taskCount {
            for r in (k * batch)..<((k + 1) * batch) {
                for j in 0..<model.taskCount { taskGradients[r, j] *= Float(weights[k]) }
            }
        }
        model.backwardPerTask(taskLogitGradients: taskGradients.view)
        for k in 0..<model.taskCount {
            let golden = layers(c["per_task_bottom_grads"][k])
            for (i, (dense, g)) in zip(m.bottom.layers, golden).enumerated() {
                let name = "\(label).per_task_bottom_grads[\(k)][\(i)]"
                checker.close(taskGradient(dense.weight, k), g.w.flatMap { $0 }, rtol: tol.rtol, atol: tol.atol, name + ".W")
                if let b = g.b, let bias = dense.bias {
                    checker.close(taskGradient(bias, k), b, rtol: tol.rtol, atol: tol.atol, name + ".b")
                }
                guard let bn = g.bn, let layer = m.bottom.batchNorms[i] else {
                    if g.bn != nil { checker.fail(name + ": the golden has BatchNorm, the model none") }
                    continue
                }
                checker.close(taskGradient(layer.gamma, k), bn["gamma"].doubles, rtol: tol.rtol, atol: tol.atol, name + ".bn.gamma")
                checker.close(taskGradient(layer.beta, k), bn["beta"].doubles, rtol: tol.rtol, atol: tol.atol, name + ".bn.beta")
            }
        }
    }

    static func taskGradient(_ p: Parameter, _ k: Int) -> [Double] {
        let g = p.taskGradient(k)
        return (0..<p.count).map { Double(g[$0]) }
    }

    /// Compares a model's gradients (`grads`) or running statistics
    /// (`running_after`) with the golden object of the same layout.
    static func compareModel(_ model: MultiTaskModel, _ golden: GoldenValue, _ label: String, _ checker: GoldenChecker) {
        let tol = modelTolerance
        switch model {
        case let m as SharedBottom:
            compare(m.bottom, layers(golden["bottom"]), label + ".bottom", checker, tolerance: tol)
            for (k, t) in m.towers.enumerated() {
                compare(t, layers(golden["towers"][k]), label + ".towers[\(k)]", checker, tolerance: tol)
            }
        case let m as MMoE:
            compare(experts: golden["experts"].array.map(layers), m.experts, label + ".experts", checker, tolerance: tol)
            for (k, g) in m.gates.enumerated() {
                let gate = GoldenLinear(golden["gates"][k])
                compare(g.linear, gate, label + ".gates[\(k)]", checker, tolerance: tol)
                compare(batchNorm: g.batchNorm, gate.bn, label + ".gates[\(k)].bn", checker, tolerance: tol)
            }
            for (k, t) in m.towers.enumerated() {
                compare(t, layers(golden["towers"][k]), label + ".towers[\(k)]", checker, tolerance: tol)
            }
        default:
            checker.fail("\(label): unexpected model type")
        }
    }

    // MARK: tower in evaluation mode

    /// A tower after a training step, evaluated with its running statistics.
    static func checkTowerEvaluation(_ c: GoldenValue, _ checker: GoldenChecker) {
        let tol = modelTolerance
        let x = matrix(c["x"])
        let golden = layers(c["tower_after_step"])
        let tower = MLP(name: "tower", inputSize: x.cols, hiddenSizes: golden.dropLast().map(\.outputSize),
                        outputSize: golden.last!.outputSize, group: .task(0), batchNorm: golden[0].bn != nil)
        load(golden, into: tower)
        let logit = withExtendedLifetime(x) { tower.forward(x.view, mode: .evaluation).toArray() }
        checker.close(logit, c["logit"].flatDoubles, rtol: tol.rtol, atol: tol.atol, "tower_eval.logit")
    }
}
