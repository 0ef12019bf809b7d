import CRankerKernels

/// `x W` for a Linear layer on the model input `x` (`B × D`), computed from
/// the batch's distinct embedding rows, and its backward (ALGORITHMS.md 3.1.1).
///
/// The leading `Σ_f k_f` columns of `x` are embedding rows: example `b`'s
/// slice of field `f` is `R_f[s_f(b)]`, row `s_f(b)` (its slot) of the
/// field's `U_f × k_f` distinct rows `R_f`. With `W_f` the `k_f × n` rows of
/// `W` that meet field `f`'s columns, and `W_r`, `x_r` the rest (sequence
/// pools and dense features):
///
///     forward:  P_f = R_f W_f                              (U_f × n)
///               y_b = b + x_r[b] W_r + Σ_f P_f[s_f(b)]     (fields added in order)
///     backward: S_f[s] = Σ_{b : s_f(b) = s} dY[b]          (U_f × n, rows b in order)
///               dW_f = R_fᵀ S_f,   dW_r = x_rᵀ dY
///               ∂L/∂R_f = S_f W_fᵀ (U_f × k_f),   dX_r = dY W_rᵀ
///
/// `∂L/∂R_f` is what the table's row-sparse gradient receives (the sum of the
/// `dX` rows of each slot), so the field columns of `dX` are never formed
/// when `dX` is (a block of) the input's gradient buffer: the layer adds
/// `S_f W_fᵀ` to the input's folded field gradients instead
/// (`EmbeddingInput.foldedFieldGradient`). Bias gradients stay in `Dense`.
///
/// The products and sums of all fields are stacked, field after field, in one
/// `Σ_f U_f × n` buffer each (`EmbeddingInput.withDistinctRowIndex` gives
/// each example's rows in it).
final class DistinctRowProduct {
    /// Row stride of `products` and `sums` for `n` columns: a multiple of 16
    /// floats that is not a multiple of 256, so that the 256-byte column tiles
    /// the C loops walk (field_rows.c) fall into different cache sets (with
    /// `n = 512`, a stride of 2 KiB puts every row's tile into the same few).
    static func paddedStride(columns n: Int) -> Int { (n + 15) / 16 * 16 + 16 }

    /// `P`, all fields: `Σ_f U_f × n`.
    private let products = Matrix(rows: 0, cols: 0)
    /// `S` of one stacked block, all fields: `Σ_f U_f × n`.
    private let sums = Matrix(rows: 0, cols: 0)

    /// Adds `x W` to `y` (`B × n`, holding the bias), `x` being `source`'s output.
    func forward(_ x: MatrixView, weight: MatrixView, source: EmbeddingInput, into y: MatrixView) {
        let rest = source.fieldColumnCount ..< x.cols
        if !rest.isEmpty { BLAS.gemm(x.cols(rest), weight.rows(rest), into: y, beta: 1) }
        products.resize(rows: source.distinctRowCount, cols: Self.paddedStride(columns: y.cols))
        let table = products.view.cols(0 ..< y.cols)
        var base = 0
        for f in source.fields.indices {
            let count = source.distinctCounts[f]
            BLAS.gemm(source.distinctRows(field: f), weight.rows(source.fieldColumns(f)),
                      into: table.rows(base ..< (base + count)))
            base += count
        }
        source.withDistinctRowIndex { index in
            ranker_add_field_rows(y.data, y.ld, y.rows, y.cols, table.data, table.ld, index, source.fields.count)
        }
    }

    /// Backward from `dY` (`S·B × n`, `S` stacked blocks): the gradient of
    /// `weight` for every block it keeps (`writeStackedGradients`' rule), and,
    /// when `dX` is given, the input gradient (added when `accumulateInput`).
    func backward(_ x: MatrixView, upstream dY: MatrixView, weight: Parameter, source: EmbeddingInput,
                  inputGradient dX: MatrixView?, accumulateInput: Bool) {
        let batch = x.rows
        let stack = dY.rows / batch
        let fieldColumns = 0 ..< source.fieldColumnCount
        let rest = fieldColumns.upperBound ..< x.cols
        let w = weight.value.view
        let beta: Float = accumulateInput ? 1 : 0
        // The stacked block of the input's gradient buffer that dX starts at, if it is one.
        var firstBlock: Int?
        if let dX {
            firstBlock = source.gradientBlock(of: dX)
            if firstBlock != nil {
                if !rest.isEmpty { BLAS.gemm(dY, w.rows(rest), into: dX.cols(rest), transposeB: true, beta: beta) }
                if !accumulateInput { dX.cols(fieldColumns).fill(0) }
            } else {
                BLAS.gemm(dY, w, into: dX, transposeB: true, beta: beta)
            }
        }
        weight.beginStackedGradients(stack: stack)
        sums.resize(rows: source.distinctRowCount, cols: Self.paddedStride(columns: dY.cols))
        let summed = sums.view.cols(0 ..< dY.cols)
        for t in 0..<stack {
            let destination = weight.stackedGradientDestination(block: t, stack: stack)
            if destination == nil && firstBlock == nil { continue }
            let block = dY.rows(t * batch ..< (t + 1) * batch)
            source.withDistinctRowIndex { index in
                ranker_scatter_field_rows(block.data, block.ld, block.rows, block.cols, summed.data, summed.ld,
                                          summed.rows, index, source.fields.count)
            }
            if let destination, !rest.isEmpty {
                BLAS.gemm(x.cols(rest), block, into: destination.rows(rest), transposeA: true)
            }
            var base = 0
            for f in source.fields.indices {
                let count = source.distinctCounts[f]
                let fieldSums = summed.rows(base ..< (base + count))
                let columns = source.fieldColumns(f)
                if let destination {
                    BLAS.gemm(source.distinctRows(field: f), fieldSums, into: destination.rows(columns), transposeA: true)
                }
                if let firstBlock {
                    BLAS.gemm(fieldSums, w.rows(columns), into: source.foldedFieldGradient(block: firstBlock + t, field: f),
                              transposeB: true, beta: 1)
                }
                base += count
            }
        }
    }
}
