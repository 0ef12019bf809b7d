/// Sum and mean pooling of ragged id lists (torch `EmbeddingBag` semantics).
///
/// Example `b` owns the ids `ids[offsets[b] ..< offsets[b+1]]` (`n_b` of them,
/// possibly none, possibly repeated). With table `E` (`V × d`):
///
///     sum:   p_b = Σ_i E[id_i]
///     mean:  p_b = (1/n_b) Σ_i E[id_i]          (p_b = 0 when n_b = 0)
///
/// Backward, from `∂L/∂p_b` (`g_b`): row `id_i` of `∂L/∂E` receives `g_b`
/// (sum) or `g_b / n_b` (mean) for every occurrence `i`; occurrences of the
/// same id add up (the caller's slots map every occurrence of an id to the
/// same gradient row).
public enum PooledBag {
    /// Writes `p_b` into row `b` of `output` (`B × d`, any leading dimension).
    ///
    /// - Parameters:
    ///   - table: `V × d` row-major embedding values.
    ///   - ids: the `offsets[B]` ids, each in `0..<V` (checked by the caller).
    ///   - offsets: `B + 1` nondecreasing offsets, `offsets[0] = 0`.
    public static func forward(table: UnsafePointer<Float>, dimension d: Int, ids: UnsafePointer<Int32>,
                               offsets: UnsafePointer<Int32>, batch: Int, mean: Bool, into output: MatrixView) {
        precondition(output.rows == batch && output.cols == d, "PooledBag: output \(output.rows)×\(output.cols)")
        for b in 0..<batch {
            let out = output.row(b)
            out.update(repeating: 0, count: d)
            let start = Int(offsets[b]), end = Int(offsets[b + 1])
            if start == end { continue }
            for i in start..<end { VectorKernels.add(table + Int(ids[i]) * d, into: out, count: d) }
            if mean {
                let scale = 1 / Float(end - start)
                for c in 0..<d { out[c] *= scale }
            }
        }
    }

    /// Adds the table gradient of the pooled rows.
    ///
    /// - Parameters:
    ///   - gradient: `∂L/∂p` (`B × d`, any leading dimension).
    ///   - slots: for every id occurrence, the row of `destination` it adds to.
    ///   - destination: gradient rows (`d` floats each); added to, not overwritten.
    public static func backward(_ gradient: MatrixView, offsets: UnsafePointer<Int32>, slots: UnsafePointer<Int32>,
                                mean: Bool, into destination: UnsafeMutablePointer<Float>) {
        let d = gradient.cols
        for b in 0..<gradient.rows {
            let start = Int(offsets[b]), end = Int(offsets[b + 1])
            if start == end { continue }
            let g = gradient.row(b)
            let scale: Float = mean ? 1 / Float(end - start) : 1
            for i in start..<end {
                VectorKernels.addScaled(g, by: scale, into: destination + Int(slots[i]) * d, count: d)
            }
        }
    }
}
