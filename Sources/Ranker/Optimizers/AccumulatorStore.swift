/// The per-parameter state shared by Adagrad and Clippy Adagrad: one
/// accumulator per parameter tensor (same shape, filled with the initial
/// accumulator value when created), the last clipping factor per parameter,
/// and the step counters.
///
/// The store is bound to one parameter list (objects and order); `bind`
/// checks that every step passes the same list.
final class AccumulatorStore {
    let initialValue: Float
    private(set) var names: [String] = []
    private(set) var accumulators: [Matrix] = []
    private var identities: [ObjectIdentifier] = []
    private var indexByName: [String: Int] = [:]
    /// `1 × parameterCount`: last clipping factor per parameter.
    private let factors = Matrix(rows: 1, cols: 0)
    /// `1 × parameterCount`: 1 where the last applied step had a zero-bound clip.
    private let zeroBoundFlags = Matrix(rows: 1, cols: 0)
    var scalars = OptimizerScalarState()

    init(initialValue: Float) {
        self.initialValue = initialValue
    }

    var isBound: Bool { !identities.isEmpty }

    /// Binds to `parameters` (creating accumulators) the first time; later
    /// checks that `parameters` is the bound list (programmer error otherwise).
    @inline(__always)
    func bind(_ parameters: [Parameter]) {
        if identities.isEmpty && !parameters.isEmpty {
            create(for: parameters)
            return
        }
        precondition(parameters.count == identities.count,
                     "optimizer is bound to \(identities.count) parameters, step got \(parameters.count)")
        for i in 0..<parameters.count {
            let p = parameters[i]
            precondition(ObjectIdentifier(p) == identities[i]
                         && p.rows == accumulators[i].rows && p.cols == accumulators[i].cols,
                         "optimizer is bound to another parameter list (index \(i): \(names[i]), got \(p.name))")
        }
    }

    private func create(for parameters: [Parameter]) {
        var seen = Set<String>()
        for p in parameters {
            precondition(seen.insert(p.name).inserted, "parameter name \(p.name) appears twice; optimizer state is keyed by name")
        }
        names = parameters.map(\.name)
        identities = parameters.map { ObjectIdentifier($0) }
        indexByName = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        accumulators = parameters.map { p in
            let m = Matrix(rows: p.rows, cols: p.cols)
            m.fill(initialValue)
            return m
        }
        factors.resize(rows: 1, cols: parameters.count)
        factors.fill(1)
        zeroBoundFlags.resize(rows: 1, cols: parameters.count)
        zeroBoundFlags.fill(0)
    }

    func index(named name: String) -> Int? { indexByName[name] }

    @inline(__always) func setFactor(_ value: Float, zeroBound: Bool, at index: Int) {
        factors.data[index] = value
        zeroBoundFlags.data[index] = zeroBound ? 1 : 0
    }

    func factor(at index: Int) -> Float {
        precondition(index >= 0 && index < names.count, "parameter index \(index) out of 0..<\(names.count)")
        return factors.data[index]
    }

    func factor(named name: String) -> Float? {
        index(named: name).map { factors.data[$0] }
    }

    /// Names of the parameters whose last applied step had a zero-bound clip.
    var zeroBoundParameters: [String] {
        (0..<names.count).filter { zeroBoundFlags.data[$0] != 0 }.map { names[$0] }
    }

    func stateTensors() -> [(name: String, value: Matrix)] {
        (0..<names.count).map { (name: names[$0], value: accumulators[$0]) }
    }

    /// Validates `tensors` against `parameters`, then (re)binds and copies.
    func restore(tensors: [(name: String, value: Matrix)], scalars newScalars: OptimizerScalarState,
                 parameters: [Parameter]) throws {
        guard newScalars.stepCount >= 0, newScalars.skippedStepCount >= 0 else {
            throw OptimizerStateError.invalidScalars(newScalars)
        }
        var byName: [String: Matrix] = [:]
        for t in tensors {
            guard byName[t.name] == nil else { throw OptimizerStateError.duplicateTensor(name: t.name) }
            byName[t.name] = t.value
        }
        let parameterNames = Set(parameters.map(\.name))
        for t in tensors where !parameterNames.contains(t.name) {
            throw OptimizerStateError.unknownTensor(name: t.name)
        }
        for p in parameters {
            guard let m = byName[p.name] else { throw OptimizerStateError.missingTensor(parameter: p.name) }
            guard m.rows == p.rows, m.cols == p.cols else {
                throw OptimizerStateError.shapeMismatch(name: p.name, expectedRows: p.rows, expectedCols: p.cols,
                                                        rows: m.rows, cols: m.cols)
            }
            for i in 0..<m.count {
                let v = m.data[i]
                guard v.isFinite, v >= 0 else { throw OptimizerStateError.invalidValue(name: p.name, index: i, value: v) }
            }
        }
        let sameList = parameters.count == identities.count
            && zip(parameters, identities).allSatisfy { ObjectIdentifier($0) == $1 }
        if !sameList {
            identities = []
            create(for: parameters)
        }
        for (i, p) in parameters.enumerated() {
            accumulators[i].copy(from: byName[p.name]!)
        }
        factors.fill(1)
        zeroBoundFlags.fill(0)
        scalars = newScalars
    }
}

/// Scans of gradient buffers that the optimizers run before writing anything.
enum GradientScan {
    /// Number of NaN or infinite values among `count` floats at `values`.
    @inline(__always)
    static func nonFiniteCount(_ values: UnsafePointer<Float>, count: Int) -> Int {
        // Fast pass: x − x is 0 for every finite x and NaN otherwise, so the
        // lanes stay exactly 0 unless something is not finite.
        var lanes = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            let v = VectorKernels.load(values + i)
            lanes += v - v
            i += 8
        }
        var tail: Float = 0
        while i < count { tail += values[i] - values[i]; i += 1 }
        if lanes.sum() + tail == 0 { return 0 }
        var n = 0
        for i in 0..<count where !values[i].isFinite { n += 1 }
        return n
    }

    /// The skip report when some gradient is not finite, else `nil`.
    /// Allocates only on the failing path.
    static func nonFiniteReport(_ parameters: [Parameter]) -> OptimizerStepReport? {
        var total = 0
        for p in parameters { total += nonFiniteCount(p.gradientPointer, count: p.gradientCount) }
        if total == 0 { return nil }
        var names: [String] = []
        for p in parameters where nonFiniteCount(p.gradientPointer, count: p.gradientCount) > 0 {
            names.append(p.name)
        }
        return OptimizerStepReport(applied: false, nonFiniteParameters: names, nonFiniteValueCount: total)
    }

    /// `sum g_i^2` over this step's gradient of `parameter` (dense: all of it;
    /// embedding table: the touched rows), accumulated in `Double`.
    @inline(__always)
    static func sumOfSquares(_ parameter: Parameter) -> Double {
        sumOfSquares(parameter.gradientPointer, count: parameter.gradientCount)
    }

    @inline(__always)
    static func sumOfSquares(_ values: UnsafePointer<Float>, count: Int) -> Double {
        var s = 0.0
        for i in 0..<count {
            let v = Double(values[i])
            s += v * v
        }
        return s
    }
}
