/// Progressive Layered Extraction: `n_L ≥ 1` levels of Customized Gate Control (ALGORITHMS.md 3.5).
///
/// Level `l` has, per task `k`, `m_s` specific experts `S^l_{k,j}` and `m_sh`
/// shared experts `C^l_j`; a gate per task over `[own specific…, shared…]`; and,
/// at levels `l < n_L` only, a shared gate over
/// `[task 1 specific…, …, task T specific…, shared…]`:
///
///     u_k^0 = u_s^0 = x
///     S^l_{k,j}(u_k^{l-1}),  C^l_j(u_s^{l-1})
///     u_k^l = softmax(u_k^{l-1} Wt^l_k) · [S^l_{k,·}, C^l_·]
///     u_s^l = softmax(u_s^{l-1} Ws^l) · [S^l_{1,·}, …, S^l_{T,·}, C^l_·]     (l < n_L)
///     z_k   = Tower_k(u_k^{n_L})
///
/// Which parameters are shared follows from the graph (ALGORITHMS.md 3.7): a component
/// is shared when at least two towers are reachable from its output, computed
/// by reachability at construction. With 2 levels: the level-1 task gates are
/// task-specific, the level-1 specific experts are shared (they feed the shared
/// gate); with 3 or more levels the low task gates become shared too.
///
/// Parameters: `embedding.<field>`; `level<l>.specific.<task>.*`,
/// `level<l>.shared.*` (expert groups, see `ExpertGroup`), `level<l>.gate.<task>.*`,
/// `level<l>.shared_gate.*`; `tower.<task>.*`. With `batch_norm` every hidden
/// layer of every level's experts and of the towers has `.bn.*`, with
/// `gate_batch_norm` every task and shared gate of every level
/// (ALGORITHMS.md 3.2.1).
public final class PLE: IndependentTasksModel, StackedBackwardModel {
    /// The components of one CGC level.
    final class Level {
        /// Task `k`'s specific experts (`nil` when `m_s == 0`).
        let specific: [ExpertGroup?]
        /// The shared experts (`nil` when `m_sh == 0`).
        let shared: ExpertGroup?
        let taskGates: [Gate]
        /// Only below the last level.
        let sharedGate: Gate?
        /// `∂L/∂u_k^l` (stacked `S·B × H`), one per task.
        let taskOutputGradients: [Matrix]
        /// `∂L/∂u_s^l` (stacked), below the last level.
        let sharedOutputGradient = Matrix(rows: 0, cols: 0)

        init(specific: [ExpertGroup?], shared: ExpertGroup?, taskGates: [Gate], sharedGate: Gate?) {
            self.specific = specific
            self.shared = shared
            self.taskGates = taskGates
            self.sharedGate = sharedGate
            taskOutputGradients = taskGates.map { _ in Matrix(rows: 0, cols: 0) }
        }

        var expertGroups: [ExpertGroup] { specific.compactMap { $0 } + (shared.map { [$0] } ?? []) }

        var parameters: [Parameter] {
            specific.flatMap { $0?.parameters ?? [] } + (shared?.parameters ?? [])
                + taskGates.flatMap { $0.parameters } + (sharedGate?.parameters ?? [])
        }

        var stateTensors: [(name: String, value: Matrix)] {
            specific.flatMap { $0?.stateTensors ?? [] } + (shared?.stateTensors ?? [])
                + taskGates.flatMap { $0.stateTensors } + (sharedGate?.stateTensors ?? [])
        }
    }

    public let configuration: ModelConfiguration
    public let input: EmbeddingInput
    let levels: [Level]
    public let towers: [MLP]
    private let logits = Matrix(rows: 0, cols: 0)
    public let lossHead: TaskLossHead
    private let specificCount: Int
    private let sharedCount: Int
    public let parameterSlab: ParameterSlab

    public init(_ configuration: ModelConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
        let taskCount = configuration.tasks.count
        let levelCount = configuration.levels
        let ms = configuration.specificExperts
        let msh = configuration.sharedExperts
        specificCount = ms
        sharedCount = msh
        input = EmbeddingInput(configuration)
        let reach = PLE.reachability(tasks: taskCount, levels: levelCount, specificExperts: ms, sharedExperts: msh)
        let hidden = configuration.expertHidden
        var levels: [Level] = []
        for l in 1...levelCount {
            let inputSize = l == 1 ? input.outputSize : hidden.last!
            let name = "level\(l)"
            let specific: [ExpertGroup?] = configuration.tasks.enumerated().map { k, task in
                ms == 0 ? nil : ExpertGroup(name: "\(name).specific.\(task.name)", count: ms, inputSize: inputSize,
                                            hiddenSizes: hidden, group: reach.specificExperts[l - 1][k],
                                            batchNorm: configuration.batchNorm, dropout: configuration.dropout)
            }
            let shared = msh == 0 ? nil : ExpertGroup(name: "\(name).shared", count: msh, inputSize: inputSize,
                                                      hiddenSizes: hidden, group: reach.sharedExperts[l - 1],
                                                      batchNorm: configuration.batchNorm, dropout: configuration.dropout)
            let taskGates = configuration.tasks.enumerated().map { k, task in
                Gate(name: "\(name).gate.\(task.name)", inputSize: inputSize, expertCount: ms + msh,
                     hasBias: configuration.gateBias, group: reach.taskGates[l - 1][k],
                     batchNorm: configuration.gateBatchNorm)
            }
            let sharedGate = l == levelCount ? nil
                : Gate(name: "\(name).shared_gate", inputSize: inputSize, expertCount: taskCount * ms + msh,
                       hasBias: configuration.gateBias, group: reach.sharedGates[l - 1],
                       batchNorm: configuration.gateBatchNorm)
            levels.append(Level(specific: specific, shared: shared, taskGates: taskGates, sharedGate: sharedGate))
        }
        self.levels = levels
        // The first level reads the model input x.
        let first = levels[0]
        for layer in first.expertGroups.map(\.first) + (first.taskGates + [first.sharedGate].compactMap { $0 }).map(\.linear) {
            layer.foldingSource = input
        }
        towers = makeTaskTowers(configuration, inputSize: hidden.last!)
        lossHead = TaskLossHead(tasks: configuration.tasks)
        parameterSlab = ParameterSlab(parameters: input.parameters + levels.flatMap { $0.parameters }
                                          + towers.flatMap { $0.parameters })
    }

    /// Parameter groups of every component, from which towers its output reaches.
    struct Reachability {
        var specificExperts: [[ParameterGroup]]  // [level][task]
        var sharedExperts: [ParameterGroup]      // [level]
        var taskGates: [[ParameterGroup]]        // [level][task]
        var sharedGates: [ParameterGroup]        // [level] (meaningful below the last level)
    }

    /// Computes the shared/specific map of ALGORITHMS.md 3.7 by graph reachability:
    /// `reach(u_k^{n_L}) = {k}`; `u_k^l` feeds level `l+1`'s task-`k` specific
    /// experts and task gate; `u_s^l` feeds level `l+1`'s shared experts and
    /// shared gate; a specific expert feeds its task gate and (below the last
    /// level) the shared gate; a shared expert feeds every gate of its level.
    static func reachability(tasks: Int, levels: Int, specificExperts ms: Int, sharedExperts msh: Int) -> Reachability {
        // reachTask[l][k] = towers reachable from u_k^l; reachShared[l] from u_s^l (l = 1...levels).
        var reachTask = [[Set<Int>]](repeating: [Set<Int>](repeating: [], count: tasks), count: levels + 1)
        var reachShared = [Set<Int>](repeating: [], count: levels + 1)
        for k in 0..<tasks { reachTask[levels][k] = [k] }
        func specificExpertReach(_ l: Int, _ k: Int) -> Set<Int> {
            reachTask[l][k].union(l < levels ? reachShared[l] : [])
        }
        func sharedExpertReach(_ l: Int) -> Set<Int> {
            var r = l < levels ? reachShared[l] : []
            for k in 0..<tasks { r.formUnion(reachTask[l][k]) }
            return r
        }
        if levels >= 2 {
            for l in stride(from: levels - 1, through: 1, by: -1) {
                // u_s^l feeds level l+1's shared experts and shared gate (if any).
                var s: Set<Int> = msh > 0 ? sharedExpertReach(l + 1) : []
                if l + 1 < levels { s.formUnion(reachShared[l + 1]) }
                reachShared[l] = s
                for k in 0..<tasks {
                    // u_k^l feeds level l+1's task gate k and specific experts of task k.
                    var r = reachTask[l + 1][k]
                    if ms > 0 { r.formUnion(specificExpertReach(l + 1, k)) }
                    reachTask[l][k] = r
                }
            }
        }
        func group(_ r: Set<Int>) -> ParameterGroup { r.count == 1 ? .task(r.first!) : .shared }
        var result = Reachability(specificExperts: [], sharedExperts: [], taskGates: [], sharedGates: [])
        for l in 1...levels {
            result.specificExperts.append((0..<tasks).map { group(specificExpertReach(l, $0)) })
            result.sharedExperts.append(group(sharedExpertReach(l)))
            result.taskGates.append((0..<tasks).map { group(reachTask[l][$0]) })
            result.sharedGates.append(group(reachShared[l]))
        }
        return result
    }

    public var lastInputGradient: MatrixView { input.outputGradient.view }

    public var taskCount: Int { towers.count }

    public var parameters: [Parameter] { parameterSlab.parameters }

    public var stateTensors: [(name: String, value: Matrix)] {
        levels.flatMap { $0.stateTensors } + towers.flatMap { $0.stateTensors }
    }

    /// The last Linear weights of the last level's shared experts (empty when `m_sh == 0`).
    public var lastSharedLayerParameters: [Parameter] { levels.last!.shared?.lastLayerWeights ?? [] }

    public func initialize(using rng: inout RandomGenerator) {
        input.initialize(using: &rng, standardDeviation: configuration.embeddingInitStd, scheme: configuration.linearInit)
        for level in levels {
            for g in level.expertGroups { g.initialize(using: &rng, scheme: configuration.linearInit) }
            for g in level.taskGates { g.initialize(using: &rng, scheme: configuration.linearInit) }
            level.sharedGate?.initialize(using: &rng, scheme: configuration.linearInit)
        }
        for t in towers { t.initialize(using: &rng, scheme: configuration.linearInit) }
    }

    // MARK: expert order inside the gates

    /// Task gate `k`'s expert `e`: own specific experts, then shared experts.
    private func taskGateExpert(_ level: Level, task k: Int, _ e: Int) -> (ExpertGroup, Int) {
        e < specificCount ? (level.specific[k]!, e) : (level.shared!, e - specificCount)
    }

    /// The shared gate's expert `e`: task 1's specific experts, …, task T's, then shared.
    private func sharedGateExpert(_ level: Level, _ e: Int) -> (ExpertGroup, Int) {
        let specificTotal = specificCount * taskCount
        if e < specificTotal { return (level.specific[e / specificCount]!, e % specificCount) }
        return (level.shared!, e - specificTotal)
    }

    // MARK: forward

    /// `u_k^{l}` for level index `l` (0 = the model input).
    private func taskRepresentation(level l: Int, task k: Int) -> MatrixView {
        l == 0 ? input.lastOutput : levels[l - 1].taskGates[k].output
    }

    /// `u_s^{l}` for level index `l` (0 = the model input).
    private func sharedRepresentation(level l: Int) -> MatrixView {
        l == 0 ? input.lastOutput : levels[l - 1].sharedGate!.output
    }

    public func forward(_ batch: Batch, mode: ForwardMode) -> MatrixView {
        _ = input.forward(batch)
        for (i, level) in levels.enumerated() {
            for k in 0..<taskCount { level.specific[k]?.forward(taskRepresentation(level: i, task: k), mode: mode) }
            level.shared?.forward(sharedRepresentation(level: i), mode: mode)
            for k in 0..<taskCount {
                level.taskGates[k].forward(taskRepresentation(level: i, task: k), mode: mode) { e in
                    let (g, j) = taskGateExpert(level, task: k, e)
                    return g.output(j)
                }
            }
            level.sharedGate?.forward(sharedRepresentation(level: i), mode: mode) { e in
                let (g, j) = sharedGateExpert(level, e)
                return g.output(j)
            }
        }
        logits.resize(rows: batch.size, cols: taskCount)
        for (k, tower) in towers.enumerated() {
            copyColumn(tower.forward(taskRepresentation(level: levels.count, task: k), mode: mode),
                       into: logits.view, column: k)
        }
        return logits.view
    }

    // MARK: backward

    /// Gradient buffer of `u_k^{l}` (level index `l`; 0 = the model input).
    private func taskRepresentationGradient(level l: Int, task k: Int) -> Matrix {
        l == 0 ? input.outputGradient : levels[l - 1].taskOutputGradients[k]
    }

    /// Gradient buffer of `u_s^{l}` (level index `l`; 0 = the model input).
    private func sharedRepresentationGradient(level l: Int) -> Matrix {
        l == 0 ? input.outputGradient : levels[l - 1].sharedOutputGradient
    }

    public func backward(_ upstream: LogitGradients) {
        let batch = upstream.batch
        let stack = upstream.stack
        let rowCount = stack * batch
        let width = configuration.expertHidden.last!
        // Towers → ∂L/∂u_k^{n_L}.
        let top = levels.last!
        for (k, tower) in towers.enumerated() {
            let rows = stackedRows(for: .task(k), stack: stack, batch: batch)
            let gradient = top.taskOutputGradients[k]
            gradient.resize(rows: rowCount, cols: width)
            gradient.fill(0)
            tower.backward(upstream.column(k, rows: rows), inputGradient: gradient.view.rows(rows))
        }
        for i in stride(from: levels.count - 1, through: 0, by: -1) {
            let level = levels[i]
            // Zero the gradient buffers of this level's inputs (level i-1's outputs, or x).
            let inputWidth = i == 0 ? input.outputSize : width
            if i == 0 {
                input.beginBackward(stack: stack)
            } else {
                let below = levels[i - 1]
                for m in below.taskOutputGradients {
                    m.resize(rows: rowCount, cols: inputWidth)
                    m.fill(0)
                }
                if below.sharedGate != nil {
                    below.sharedOutputGradient.resize(rows: rowCount, cols: inputWidth)
                    below.sharedOutputGradient.fill(0)
                }
            }
            for g in level.expertGroups { g.beginBackward(rows: rowCount) }
            // Gates: mixture backward into the experts' output gradients and the gate inputs.
            for k in 0..<taskCount {
                let gate = level.taskGates[k]
                let rows = stackedRows(for: gate.group, stack: stack, batch: batch)
                gate.backward(level.taskOutputGradients[k].view.rows(rows),
                              experts: { e in
                                  let (g, j) = taskGateExpert(level, task: k, e)
                                  return g.output(j)
                              },
                              expertGradients: { e in
                                  let (g, j) = taskGateExpert(level, task: k, e)
                                  return g.outputGradient(j, rows: rows)
                              },
                              inputGradient: taskRepresentationGradient(level: i, task: k).view.rows(rows),
                              accumulateInput: true)
            }
            if let gate = level.sharedGate {
                let rows = stackedRows(for: gate.group, stack: stack, batch: batch)
                gate.backward(level.sharedOutputGradient.view.rows(rows),
                              experts: { e in
                                  let (g, j) = sharedGateExpert(level, e)
                                  return g.output(j)
                              },
                              expertGradients: { e in
                                  let (g, j) = sharedGateExpert(level, e)
                                  return g.outputGradient(j, rows: rows)
                              },
                              inputGradient: sharedRepresentationGradient(level: i).view.rows(rows),
                              accumulateInput: true)
            }
            // Experts → their inputs.
            for k in 0..<taskCount {
                guard let group = level.specific[k] else { continue }
                let rows = stackedRows(for: group.group, stack: stack, batch: batch)
                group.backward(rows: rows, inputGradient: taskRepresentationGradient(level: i, task: k).view.rows(rows),
                               accumulateInput: true)
            }
            if let group = level.shared {
                let rows = stackedRows(for: group.group, stack: stack, batch: batch)
                group.backward(rows: rows, inputGradient: sharedRepresentationGradient(level: i).view.rows(rows),
                               accumulateInput: true)
            }
        }
        input.backward(input.outputGradient.view)
    }
}
