/// Whether the layers that read the model input `x` fold their product with
/// it into the embeddings (ALGORITHMS.md 3.1.1; `DistinctRowProduct`).
///
/// The results are the same up to the order of float additions; the work is
/// not. A Linear layer on `x` costs `B · Σ_f k_f · n` multiply-adds for the
/// sparse fields' columns; folded, it costs `Σ_f U_f · k_f · n` (the
/// products of the batch's `U_f` distinct rows) plus `B · F · n` additions.
public enum EmbeddingFolding: String, Sendable, CaseIterable {
    /// Fold when the estimated cost is at most half:
    /// `5·B·F + 12·Σ_f U_f·k_f ≤ 1.5·B·Σ_f k_f` (ALGORITHMS.md 3.1.1).
    case automatic
    /// Fold every batch (tests).
    case always
    /// Never fold: every layer multiplies all of `x`. Then the field columns
    /// of a model's `lastInputGradient` are the exact `∂L/∂x` rows; folded,
    /// they are not formed (the tables' gradients are, from `∂L/∂x` of each
    /// layer — see `DistinctRowProduct`).
    case never
}

extension EmbeddingInput {
    /// Width of the sparse fields' columns, `Σ_f k_f` (the leading columns of `x`).
    var fieldColumnCount: Int { fields.reduce(0) { $0 + $1.dimension } }

    /// Whether a layer whose input is `x` computes its product from the
    /// distinct rows: `x` is this layer's output of the last batch and the
    /// batch was folded.
    func foldsProduct(of x: MatrixView) -> Bool {
        foldsLastBatch && x.data == lastOutput.data && x.rows == lastOutput.rows && x.cols == outputSize
    }

    /// Total distinct rows of the last batch, `Σ_f U_f`.
    var distinctRowCount: Int { distinctCounts.reduce(0, +) }

    /// Field `f`'s distinct rows of the last batch (`U_f × k_f`, row `s` the
    /// table row of slot `s`).
    func distinctRows(field f: Int) -> MatrixView {
        MatrixView(data: distinctRows.data + distinctStarts[f], rows: distinctCounts[f], cols: fields[f].dimension,
                   ld: fields[f].dimension)
    }

    /// Calls `body(index)`: example `b`'s field `f` is row `index[b·F + f]`
    /// of all fields' distinct rows stacked (`Σ_f U_f`, field after field).
    func withDistinctRowIndex<R>(_ body: (UnsafePointer<Int32>) -> R) -> R {
        distinctRowIndex.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// Shapes `outputGradient` to `stack·B × D` and zeroes it, and the folded
    /// field gradients of the pass: the start of a backward pass of `stack`
    /// blocks, before the layers that read `x` write their input gradients.
    @discardableResult
    public func beginBackward(stack: Int) -> Matrix {
        precondition(stack >= 1 && lastOutput.rows > 0, "EmbeddingInput: beginBackward(stack: \(stack)) before a forward pass")
        outputGradient.resize(rows: stack * lastOutput.rows, cols: outputSize)
        outputGradient.fill(0)
        foldedGradientBlocks = 0
        if foldsLastBatch {
            // One row per block, laid out as the distinct rows (`Σ_f U_f·k_f` floats).
            foldedGradient.resize(rows: stack, cols: distinctRows.cols)
            foldedGradient.fill(0)
            foldedGradientBlocks = stack
        }
        return outputGradient
    }

    /// The stacked block of `outputGradient` at which `dX` starts, when `dX`
    /// is whole blocks of it in the pass begun and the batch was folded; else `nil`.
    func gradientBlock(of dX: MatrixView) -> Int? {
        guard foldedGradientBlocks > 0, dX.ld == outputGradient.view.ld, dX.cols == outputSize else { return nil }
        let batch = lastOutput.rows
        let offset = outputGradient.data.distance(to: dX.data)
        let blockSize = outputGradient.view.ld * batch
        guard offset >= 0, offset % blockSize == 0, dX.rows % batch == 0,
              offset / blockSize + dX.rows / batch <= foldedGradientBlocks else { return nil }
        return offset / blockSize
    }

    /// Block `t`'s `∂L/∂R_f` of field `f` (`U_f × k_f`), to which folded layers add.
    func foldedFieldGradient(block t: Int, field f: Int) -> MatrixView {
        MatrixView(data: foldedGradient.view.row(t) + distinctStarts[f], rows: distinctCounts[f],
                   cols: fields[f].dimension, ld: fields[f].dimension)
    }

    /// Decides whether the batch just registered is folded and, if so, copies
    /// its distinct rows out of the tables (in slot order, field after field).
    func gatherDistinctRows(batch: Int) {
        // Σ_f U_f·k_f: the floats of the distinct rows.
        let weighted = zip(distinctCounts, fields).reduce(0) { $0 + $1.0 * $1.1.dimension }
        foldedGradientBlocks = 0
        switch folding {
        case .never: foldsLastBatch = false
        case .always: foldsLastBatch = !fields.isEmpty
        case .automatic:
            // Per output column, in units of one multiply-add of a large GEMM: unfolded, three
            // products of B·Σk; folded, a gather and a scatter of B·F rows (an addition there
            // costs about 2.5 of those: it is memory-bound) and three products of Σ U_f·k_f rows
            // with an inner dimension of k_f (about 4 each: skinny products run slowly).
            // Fold at half the cost or less (ALGORITHMS.md 3.1.1).
            let unfolded = 3 * batch * fieldColumnCount
            let folded = 5 * batch * fields.count + 12 * weighted
            foldsLastBatch = !fields.isEmpty && 2 * folded <= unfolded
        }
        guard foldsLastBatch else { return }
        let fieldCount = fields.count
        if distinctRowIndex.count < batch * fieldCount {
            distinctRowIndex = [Int32](repeating: 0, count: batch * fieldCount)
        }
        var start = 0
        var base = 0
        distinctRowIndex.withUnsafeMutableBufferPointer { index in
            slots.withUnsafeBufferPointer { slots in
                for f in fields.indices {
                    distinctStarts[f] = start
                    for b in 0..<batch { index[b * fieldCount + f] = Int32(base) + slots[f * batch + b] }
                    start += distinctCounts[f] * fields[f].dimension
                    base += distinctCounts[f]
                }
            }
        }
        distinctRows.resize(rows: 1, cols: max(weighted, 1))
        for f in fields.indices {
            let dim = fields[f].dimension
            let table = tables[f].value.data
            let destination = distinctRows.data + distinctStarts[f]
            let ids = tables[f].sparseGrad!.rowIDs
            for s in 0..<distinctCounts[f] {
                VectorKernels.copy(table + Int(ids[s]) * dim, into: destination + s * dim, count: dim)
            }
        }
    }
}
