/// The arithmetic of one optimizer: how a parameter tensor and its state
/// tensor change given this step's gradient (spec 4). `OptimizerDriver`
/// does everything around it — binding, the non-finite scan, dense versus
/// row-sparse dispatch, reports, step counters, checkpoints — so a rule is
/// its options, its state and two update functions.
///
/// **State.** Every parameter tensor has one state tensor of its own shape
/// (`rows × cols`), filled with `initialStateValue` when the driver binds
/// (Adagrad: the accumulator). Dense parameters' state tensors share one
/// slab; an embedding table's is its own matrix, of which a step touches the
/// gradient's rows only.
///
/// **Clipping factor.** Each update returns the factor its tensor's update
/// was scaled by: `1` when nothing was clipped, `< 1` when it was, `0` when
/// the tensor did not move at all (counted as a zero-bound clip).
///
/// Updates run on raw pointers; a rule must not allocate in a steady-state
/// step (grow scratch on the first steps, then reuse it).
public protocol UpdateRule {
    /// Validated settings.
    associatedtype Options: Equatable & Sendable

    /// - Throws: `OptimizerConfigurationError` when `options` are invalid.
    init(options: Options) throws

    var options: Options { get }

    /// The value every state tensor starts from.
    var initialStateValue: Float { get }

    /// Whether a restored state value fits the rule (the driver has already
    /// checked it is finite). Default: `>= 0` (accumulators of squares).
    static func isValidStateValue(_ value: Float) -> Bool

    /// Called once per applied step, after the non-finite scan and before the
    /// first tensor is updated, with the bound parameters (e.g. a global
    /// gradient norm). Default: nothing.
    mutating func beginStep(parameters: [Parameter])

    /// Updates a dense `rows × cols` tensor in place.
    ///
    /// - Parameters:
    ///   - weight: `rows × cols` values.
    ///   - state: `rows × cols` state values.
    ///   - gradient: `rows × cols` gradient (finite).
    ///   - step: index of this applied step, from 1.
    /// - Returns: the clipping factor of the tensor.
    mutating func updateDense(weight: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<Float>,
                              gradient: UnsafePointer<Float>, rows: Int, cols: Int,
                              learningRate: Float, step: Int) -> Float

    /// Updates the rows `rowIDs` of an embedding table (`vocabulary × cols`)
    /// and the same rows of its state; other rows stay as they are.
    ///
    /// - Parameters:
    ///   - weight, state: the whole table and its state, row-major.
    ///   - gradient: `rowIDs.count × cols`, row `s` belongs to table row
    ///     `rowIDs[s]` (ids unique, duplicates already summed; at least one row).
    /// - Returns: the clipping factor of the table for this step.
    mutating func updateRows(weight: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<Float>,
                             gradient: UnsafePointer<Float>, rowIDs: UnsafeBufferPointer<Int32>, cols: Int,
                             learningRate: Float, step: Int) -> Float
}

extension UpdateRule {
    public static func isValidStateValue(_ value: Float) -> Bool { value >= 0 }
    public mutating func beginStep(parameters: [Parameter]) {}
}
