/// A model's dense parameters and gradients in two contiguous slabs
/// (DESIGN.md, "Parameter"; llm.c's parameter table).
///
/// Built once, when the model's parameter list is final: every dense tensor
/// gets one segment of `values` and the segment at the same offset of
/// `gradients`, its current value is copied in, and the `Parameter` is rebound
/// to windows on both (`Parameter.bind`). The segments are ordered
///
///     [shared dense tensors, in list order | task-specific dense tensors, in list order]
///
/// so that floats `0 ..< sharedCount` of each slab are the shared run: one
/// vector of shared values, one of shared gradients. Per-task gradients of
/// the shared run form `taskGradients`, a `T × sharedCount` matrix whose
/// columns follow the same layout (tensor at slab offset `o` owns columns
/// `o ..< o + count` of every row). Segments start on 16-float boundaries;
/// the gaps are zero in all three buffers.
///
/// Embedding tables are listed in `parameters` but keep their own table and
/// row-sparse gradient (their touched rows change every step).
///
/// The whole of `values` or `gradients` is one buffer to checksum or to hand
/// to an allreduce.
public final class ParameterSlab {
    /// Every parameter of the model, in its stable order (checkpoints use it).
    public let parameters: [Parameter]
    /// The dense parameters in slab order (shared first); `denseParameters[i]`
    /// is segment `i` of both slabs (starting at `values.offsets[i]`).
    public let denseParameters: [Parameter]
    /// Values of the dense tensors.
    public let values: Slab
    /// Gradients of the dense tensors, same layout as `values`.
    public let gradients: Slab
    /// Floats of the shared run (gaps included; a multiple of 16): floats
    /// `0 ..< sharedCount` of `values` and `gradients`.
    public let sharedCount: Int
    /// `T × sharedCount` per-task gradients of the shared run (allocated by
    /// the first multi-gradient pass).
    public let taskGradients: TaskGradientMatrix

    /// Moves the dense tensors of `parameters` (the model's final list, each
    /// still holding its own storage) into fresh slabs.
    public init(parameters: [Parameter]) {
        var names = Set<String>()
        for p in parameters {
            precondition(names.insert(p.name).inserted, "parameter name \(p.name) appears twice")
        }
        self.parameters = parameters
        let dense = parameters.filter { $0.kind == .dense }
        let shared = dense.filter { $0.group == .shared }
        denseParameters = shared + dense.filter { $0.group != .shared }
        let sizes = denseParameters.map(\.count)
        values = Slab(sizes: sizes)
        gradients = Slab(sizes: sizes)
        sharedCount = shared.count < sizes.count ? values.offsets[shared.count] : values.count
        taskGradients = TaskGradientMatrix(columns: sharedCount)
        for (i, p) in denseParameters.enumerated() {
            p.bind(value: values.matrix(segment: i, rows: p.rows, cols: p.cols),
                   grad: gradients.matrix(segment: i, rows: p.rows, cols: p.cols),
                   taskGradients: p.group == .shared ? (taskGradients, values.offsets[i]) : nil)
        }
    }
}
