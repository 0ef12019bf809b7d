/// Measures every applied update against the weights it moved, per tensor,
/// for the stability diagnosis (`StabilityDiagnosis`): before the optimizer
/// steps it copies the weights the update can change (every dense tensor,
/// the touched rows of each embedding table) into one reused buffer; after
/// it, `‖w_after − w_before‖ / ‖w_before‖` per tensor.
///
/// It only reads the parameters, so training stays bitwise the same. Its
/// cost per step is one copy and one pass over the dense weights and the
/// touched rows — small beside the step's matrix products. The buffers grow
/// to the largest step seen and are then reused.
final class UpdateRatioTracker {
    private var before: [Float] = []
    private var rowIDs: [[Int32]] = []
    /// `‖Δw‖ / ‖w‖` of each parameter for the last applied update (nil: zero weights).
    private(set) var ratios: [Double?] = []
    /// The step of that update.
    private(set) var step: Int?

    /// Copies the weights the next update can change.
    func recordBefore(_ parameters: [Parameter]) {
        if rowIDs.count != parameters.count { rowIDs = [[Int32]](repeating: [], count: parameters.count) }
        var total = 0
        for (i, p) in parameters.enumerated() {
            if p.kind == .dense {
                total += p.count
            } else {
                rowIDs[i].removeAll(keepingCapacity: true)
                rowIDs[i].append(contentsOf: p.sparseGrad?.rowIDs ?? [])
                total += rowIDs[i].count * p.cols
            }
        }
        if before.count < total { before = [Float](repeating: 0, count: total) }
        before.withUnsafeMutableBufferPointer { buffer in
            var offset = 0
            for (i, p) in parameters.enumerated() {
                let base = buffer.baseAddress! + offset
                if p.kind == .dense {
                    base.update(from: p.value.data, count: p.count)
                    offset += p.count
                } else {
                    for (k, row) in rowIDs[i].enumerated() {
                        (base + k * p.cols).update(from: p.value.data + Int(row) * p.cols, count: p.cols)
                    }
                    offset += rowIDs[i].count * p.cols
                }
            }
        }
    }

    /// Computes the ratios of the update just applied at `step`.
    func recordAfter(_ parameters: [Parameter], step: Int) {
        if ratios.count != parameters.count { ratios = [Double?](repeating: nil, count: parameters.count) }
        before.withUnsafeBufferPointer { buffer in
            var offset = 0
            for (i, p) in parameters.enumerated() {
                let old = buffer.baseAddress! + offset
                var delta = 0.0, weight = 0.0
                func add(_ new: UnsafeMutablePointer<Float>, _ old: UnsafePointer<Float>, _ n: Int) {
                    for j in 0..<n {
                        let o = Double(old[j])
                        let d = Double(new[j]) - o
                        delta += d * d
                        weight += o * o
                    }
                }
                if p.kind == .dense {
                    add(p.value.data, old, p.count)
                    offset += p.count
                } else {
                    for (k, row) in rowIDs[i].enumerated() {
                        add(p.value.data + Int(row) * p.cols, old + k * p.cols, p.cols)
                    }
                    offset += rowIDs[i].count * p.cols
                }
                ratios[i] = weight > 0 ? (delta / weight).squareRoot() : (delta.isNaN ? .nan : nil)
            }
        }
        self.step = step
    }

    /// `‖g‖ / ‖w‖` of each parameter for the current gradients (embedding
    /// tables: over the touched rows; nil: zero weights).
    static func gradientRatios(_ parameters: [Parameter]) -> [Double?] {
        parameters.map { p in
            var gradient = 0.0, weight = 0.0
            let g = p.gradientPointer
            for j in 0..<p.gradientCount { gradient += Double(g[j]) * Double(g[j]) }
            if p.kind == .dense {
                for j in 0..<p.count { weight += Double(p.value.data[j]) * Double(p.value.data[j]) }
            } else if let sparse = p.sparseGrad {
                for row in sparse.rowIDs {
                    let w = p.value.data + Int(row) * p.cols
                    for j in 0..<p.cols { weight += Double(w[j]) * Double(w[j]) }
                }
            }
            return weight > 0 ? (gradient / weight).squareRoot() : (gradient.isNaN ? .nan : nil)
        }
    }

    /// The diagnosis of an event at the current step.
    func diagnosis(_ parameters: [Parameter]) -> StabilityDiagnosis {
        let names = parameters.map(\.name)
        return StabilityDiagnosis(
            updateStep: step,
            largestUpdateRatio: step == nil ? nil : StabilityDiagnosis.largest(ratios, names: names),
            largestGradientRatio: StabilityDiagnosis.largest(Self.gradientRatios(parameters), names: names))
    }
}
