/// The one `Optimizer` implementation: drives an `UpdateRule` over a
/// parameter list (the contract is `Optimizer`'s).
///
/// It binds to the list (`Rule.stateNames.count` state tensors per parameter,
/// each of its shape), scans
/// every gradient for NaN/infinity and skips the whole step when one is
/// found, calls the rule's `beginStep`, then `updateDense` for dense tensors
/// and `updateRows` for embedding tables with touched rows (an untouched table
/// keeps factor 1), passing the index of the applied step (from 1; skipped
/// steps do not count), records each tensor's clipping factor, counts clipped
/// (`< 1`) and zero-bound (`== 0`) tensors, and counts steps.
///
/// State storage: the dense parameters' state tensors are segments of one
/// `Slab` (one allocation, each tensor a `Matrix` view); every embedding
/// table's state tensors are matrices of their own (large, updated row by
/// row). A rule's only state tensor is named after its parameter, each of
/// several `<parameter>/<state name>` (`stateTensorNames(forParameter:)`);
/// `restoreState` checks names, shapes, finiteness and
/// `Rule.isValidStateValue(_:state:)` before changing anything.
///
/// A step allocates nothing once bound (a skipped step allocates its report).
public final class OptimizerDriver<Rule: UpdateRule>: Optimizer {
    public private(set) var rule: Rule
    public private(set) var parameterNames: [String] = []
    public private(set) var scalarState = OptimizerScalarState()
    /// `Rule.stateNames.count` per bound parameter, in bound order: state `k`
    /// of parameter `i` at `i * stateCount + k`.
    private var state: [Matrix] = []
    /// The base pointers of `state`, same order (what the rule receives).
    private var statePointers: [UnsafeMutablePointer<Float>] = []
    private let stateCount = Rule.stateNames.count
    private var slab: Slab?
    private var identities: [ObjectIdentifier] = []
    private var indexByName: [String: Int] = [:]
    /// `1 × parameterCount`: last clipping factor per parameter.
    private let factors = Matrix(rows: 1, cols: 0)

    /// - Throws: `OptimizerConfigurationError` when `options` are invalid.
    public init(options: Rule.Options) throws {
        rule = try Rule(options: options)
    }

    /// The rule's settings.
    public var options: Rule.Options { rule.options }

    public func prepare(for parameters: [Parameter]) { bind(parameters) }

    public func clippingFactor(at index: Int) -> Float {
        precondition(index >= 0 && index < parameterNames.count, "parameter index \(index) out of 0..<\(parameterNames.count)")
        return factors.data[index]
    }

    public func clippingFactor(named name: String) -> Float? {
        indexByName[name].map { factors.data[$0] }
    }

    /// Names of the parameters whose factor the last applied step forced to 0
    /// (Clippy: a zero bound with a non-zero update).
    public var zeroBoundParameters: [String] {
        (0..<parameterNames.count).filter { factors.data[$0] == 0 }.map { parameterNames[$0] }
    }

    public func stateTensorNames(forParameter name: String) -> [String] {
        stateCount == 1 ? [name] : Rule.stateNames.map { name + "/" + $0 }
    }

    public func stateTensors() -> [(name: String, value: Matrix)] {
        parameterNames.enumerated().flatMap { i, name in
            zip(stateTensorNames(forParameter: name), state[(i * stateCount)..<((i + 1) * stateCount)])
                .map { (name: $0, value: $1) }
        }
    }

    @discardableResult
    public func step(parameters: [Parameter], learningRate: Float) -> OptimizerStepReport {
        precondition(learningRate.isFinite && learningRate >= 0, "learning rate must be finite and >= 0, got \(learningRate)")
        bind(parameters)
        if let skipped = GradientScan.nonFiniteReport(parameters) {
            scalarState.skippedStepCount += 1
            return skipped
        }
        rule.beginStep(parameters: parameters)
        let stepIndex = scalarState.stepCount + 1
        var clipped = 0, zeroBound = 0
        statePointers.withUnsafeBufferPointer { pointers in
            for i in 0..<parameters.count {
                let p = parameters[i]
                let s = pointers.baseAddress! + i * stateCount
                var factor: Float = 1
                switch p.kind {
                case .dense:
                    factor = rule.updateDense(weight: p.value.data, states: s, gradient: p.grad.data, rows: p.rows,
                                              cols: p.cols, learningRate: learningRate, step: stepIndex)
                case .embedding:
                    if let sparse = p.sparseGrad, sparse.rowCount > 0 {
                        factor = sparse.rowIDs.withUnsafeBufferPointer { ids in
                            rule.updateRows(weight: p.value.data, states: s, gradient: sparse.values.data,
                                            rowIDs: ids, cols: p.cols, learningRate: learningRate, step: stepIndex)
                        }
                    }
                }
                factors.data[i] = factor
                if factor < 1 { clipped += 1 }
                if factor == 0 { zeroBound += 1 }
            }
        }
        scalarState.stepCount = stepIndex
        return OptimizerStepReport(applied: true, clippedParameterCount: clipped, zeroBoundParameterCount: zeroBound)
    }

    /// Binds to `parameters` (creating the state) the first time; later
    /// checks that `parameters` is the bound list (programmer error otherwise).
    @inline(__always)
    private func bind(_ parameters: [Parameter]) {
        if identities.isEmpty && !parameters.isEmpty {
            create(for: parameters)
            return
        }
        precondition(parameters.count == identities.count,
                     "optimizer is bound to \(identities.count) parameters, step got \(parameters.count)")
        for i in 0..<parameters.count {
            let p = parameters[i]
            let s = state[i * stateCount]
            precondition(ObjectIdentifier(p) == identities[i] && p.rows == s.rows && p.cols == s.cols,
                         "optimizer is bound to another parameter list (index \(i): \(parameterNames[i]), got \(p.name))")
        }
    }

    private func create(for parameters: [Parameter]) {
        var seen = Set<String>()
        for p in parameters {
            precondition(seen.insert(p.name).inserted, "parameter name \(p.name) appears twice; optimizer state is keyed by name")
        }
        parameterNames = parameters.map(\.name)
        identities = parameters.map { ObjectIdentifier($0) }
        indexByName = Dictionary(uniqueKeysWithValues: parameterNames.enumerated().map { ($1, $0) })
        let dense = parameters.filter { $0.kind == .dense }
        let slab = Slab(sizes: dense.flatMap { [Int](repeating: $0.count, count: stateCount) })
        var segment = 0
        state = parameters.flatMap { p in
            (0..<stateCount).map { _ in
                let m: Matrix
                if p.kind == .dense {
                    m = slab.matrix(segment: segment, rows: p.rows, cols: p.cols)
                    segment += 1
                } else {
                    m = Matrix(rows: p.rows, cols: p.cols)
                }
                m.fill(rule.initialStateValue)
                return m
            }
        }
        statePointers = state.map(\.data)
        self.slab = slab
        factors.resize(rows: 1, cols: parameters.count)
        factors.fill(1)
    }

    public func restoreState(tensors: [(name: String, value: Matrix)], scalars: OptimizerScalarState,
                             parameters: [Parameter]) throws {
        guard scalars.stepCount >= 0, scalars.skippedStepCount >= 0 else {
            throw OptimizerStateError.invalidScalars(scalars)
        }
        var byName: [String: Matrix] = [:]
        for t in tensors {
            guard byName[t.name] == nil else { throw OptimizerStateError.duplicateTensor(name: t.name) }
            byName[t.name] = t.value
        }
        let names = Set(parameters.flatMap { stateTensorNames(forParameter: $0.name) })
        for t in tensors where !names.contains(t.name) {
            throw OptimizerStateError.unknownTensor(name: t.name)
        }
        for p in parameters {
            for (k, name) in stateTensorNames(forParameter: p.name).enumerated() {
                guard let m = byName[name] else { throw OptimizerStateError.missingTensor(parameter: name) }
                guard m.rows == p.rows, m.cols == p.cols else {
                    throw OptimizerStateError.shapeMismatch(name: name, expectedRows: p.rows, expectedCols: p.cols,
                                                            rows: m.rows, cols: m.cols)
                }
                for i in 0..<m.count {
                    let v = m.data[i]
                    guard v.isFinite, Rule.isValidStateValue(v, state: k) else {
                        throw OptimizerStateError.invalidValue(name: name, index: i, value: v)
                    }
                }
            }
        }
        let sameList = parameters.count == identities.count
            && zip(parameters, identities).allSatisfy { ObjectIdentifier($0) == $1 }
        if !sameList { create(for: parameters) }
        for (i, p) in parameters.enumerated() {
            for (k, name) in stateTensorNames(forParameter: p.name).enumerated() {
                state[i * stateCount + k].copy(from: byName[name]!)
            }
        }
        factors.fill(1)
        scalarState = scalars
    }
}
