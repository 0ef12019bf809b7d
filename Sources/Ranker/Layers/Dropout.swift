/// Inverted dropout with rate `p` (ALGORITHMS.md 3.2.1), in place on a `B × n`
/// activation.
///
///     training:    h ← h · m / (1 - p),   m[b, j] = 1 when u[b, j] ≥ p, else 0
///     evaluation:  h ← h
///     backward:    dh ← dh · m / (1 - p)  (every stacked copy; identity after
///                                          an evaluation pass)
///
/// `u` is drawn uniformly in `[0, 1)` from the forward pass's
/// `DropoutGenerator`, one `nextFloat()` per entry in row-major order
/// (`fillUniformFloats`), so the run's seed and the generator's checkpointed
/// state fix every mask.
public final class Dropout {
    public let rate: Float
    /// `1 / (1 - p)`.
    private let keptScale: Float
    /// `m / (1 - p)` of the last training pass: `B × n`.
    private let scaledMask = Matrix(rows: 0, cols: 0)
    private var trainedLastForward = false

    public init(rate: Float) {
        precondition(rate > 0 && rate < 1, "Dropout: rate must be in (0, 1), got \(rate)")
        self.rate = rate
        keptScale = Float(1 / (1 - Double(rate)))
    }

    /// The scaled mask of the last training pass (`B × n`).
    public var lastScaledMask: MatrixView { scaledMask.view }

    /// `h ← h · m / (1 - p)` in training mode; nothing in evaluation mode.
    public func forward(_ h: MatrixView, mode: ForwardMode) {
        guard case .training(let source) = mode else {
            trainedLastForward = false
            return
        }
        trainedLastForward = true
        scaledMask.resize(rows: h.rows, cols: h.cols)
        let mask = scaledMask.view
        // The uniforms u first (one pass over the generator), then u → m / (1 - p) in place.
        source.generator.fillUniformFloats(mask.data, count: mask.count)
        let (rate, kept) = (self.rate, keptScale)
        for b in 0..<h.rows {
            let row = h.row(b)
            let m = mask.row(b)
            for j in 0..<h.cols {
                let factor: Float = m[j] < rate ? 0 : kept
                m[j] = factor
                row[j] *= factor
            }
        }
    }

    /// `gradient` (`S·B × n`) ← `gradient · m / (1 - p)`, the mask of row
    /// `r mod B` for stacked row `r`.
    public func backward(_ gradient: MatrixView) {
        guard trainedLastForward else { return }
        let mask = scaledMask.view
        let batch = mask.rows
        precondition(batch > 0 && gradient.cols == mask.cols && gradient.rows % batch == 0,
                     "Dropout backward: gradient \(gradient.rows)×\(gradient.cols) does not stack masks of \(batch) × \(mask.cols)")
        for r in 0..<gradient.rows {
            let g = gradient.row(r)
            let m = mask.row(r % batch)
            for j in 0..<gradient.cols { g[j] *= m[j] }
        }
    }
}
