/// The arithmetic of one optimizer: how a parameter tensor and its state
/// tensors change given this step's gradient (ALGORITHMS.md 4). `OptimizerDriver`
/// does everything around it — binding, the non-finite scan, dense versus
/// row-sparse dispatch, reports, step counters, checkpoints — so a rule is
/// its options, its state and two update functions.
///
/// **State.** Every parameter tensor has `stateNames.count` state tensors of
/// its own shape (`rows × cols`), all filled with `initialStateValue` when the
/// driver binds (Adagrad: one, the accumulator; Adam: two, `m` and `v`).
/// Dense parameters' state tensors share one slab; an embedding table's are
/// matrices of their own, of which a step touches the gradient's rows only.
/// Checkpoints name a rule's only state tensor after its parameter
/// (`<parameter>`) and each of several `<parameter>/<state name>`.
///
/// **Two ways to write the update.** A rule with one state tensor implements
/// the `state:` pair (`updateDense(weight:state:…)`, `updateRows(weight:state:…)`);
/// a rule with several implements the `states:` pair, which receives the
/// state tensors' base pointers in `stateNames` order. The driver calls the
/// `states:` pair; each pair's default implementation calls the other, so a
/// rule implements exactly one of them.
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

    /// The names of the state tensors of one parameter, in the order the
    /// `states:` updates receive them (at least one). Default: `["accumulator"]`.
    static var stateNames: [String] { get }

    /// The value every state tensor starts from.
    var initialStateValue: Float { get }

    /// Whether a restored state value fits the rule (the driver has already
    /// checked it is finite). Default: `>= 0` (accumulators of squares).
    static func isValidStateValue(_ value: Float) -> Bool

    /// Whether a restored value of state tensor `state` (an index into
    /// `stateNames`) fits the rule. Default: `isValidStateValue(value)`.
    static func isValidStateValue(_ value: Float, state: Int) -> Bool

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

    /// `updateDense` with every state tensor: `states[k]` is the
    /// `rows × cols` state tensor named `stateNames[k]`.
    mutating func updateDense(weight: UnsafeMutablePointer<Float>, states: UnsafePointer<UnsafeMutablePointer<Float>>,
                              gradient: UnsafePointer<Float>, rows: Int, cols: Int,
                              learningRate: Float, step: Int) -> Float

    /// `updateRows` with every state tensor: `states[k]` is the whole
    /// `vocabulary × cols` state table named `stateNames[k]`.
    mutating func updateRows(weight: UnsafeMutablePointer<Float>, states: UnsafePointer<UnsafeMutablePointer<Float>>,
                             gradient: UnsafePointer<Float>, rowIDs: UnsafeBufferPointer<Int32>, cols: Int,
                             learningRate: Float, step: Int) -> Float
}

extension UpdateRule {
    public static var stateNames: [String] { ["accumulator"] }
    public static func isValidStateValue(_ value: Float) -> Bool { value >= 0 }
    public static func isValidStateValue(_ value: Float, state: Int) -> Bool { isValidStateValue(value) }
    public mutating func beginStep(parameters: [Parameter]) {}

    /// A one-state rule's `states:` update: its `state:` update on `states[0]`.
    public mutating func updateDense(weight: UnsafeMutablePointer<Float>, states: UnsafePointer<UnsafeMutablePointer<Float>>,
                                     gradient: UnsafePointer<Float>, rows: Int, cols: Int,
                                     learningRate: Float, step: Int) -> Float {
        updateDense(weight: weight, state: states[0], gradient: gradient, rows: rows, cols: cols,
                    learningRate: learningRate, step: step)
    }

    public mutating func updateRows(weight: UnsafeMutablePointer<Float>, states: UnsafePointer<UnsafeMutablePointer<Float>>,
                                    gradient: UnsafePointer<Float>, rowIDs: UnsafeBufferPointer<Int32>, cols: Int,
                                    learningRate: Float, step: Int) -> Float {
        updateRows(weight: weight, state: states[0], gradient: gradient, rowIDs: rowIDs, cols: cols,
                   learningRate: learningRate, step: step)
    }

    /// The `state:` update of a rule written in the `states:` form: its
    /// `states:` update with `state` as the only state tensor (a rule with
    /// several state tensors has no `state:` form: programmer error).
    public mutating func updateDense(weight: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<Float>,
                                     gradient: UnsafePointer<Float>, rows: Int, cols: Int,
                                     learningRate: Float, step: Int) -> Float {
        Self.withOnlyState(state) {
            updateDense(weight: weight, states: $0, gradient: gradient, rows: rows, cols: cols,
                        learningRate: learningRate, step: step)
        }
    }

    public mutating func updateRows(weight: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<Float>,
                                    gradient: UnsafePointer<Float>, rowIDs: UnsafeBufferPointer<Int32>, cols: Int,
                                    learningRate: Float, step: Int) -> Float {
        Self.withOnlyState(state) {
            updateRows(weight: weight, states: $0, gradient: gradient, rowIDs: rowIDs, cols: cols,
                       learningRate: learningRate, step: step)
        }
    }

    /// `body` with a one-element `states:` list holding `state`.
    private static func withOnlyState(_ state: UnsafeMutablePointer<Float>,
                                      _ body: (UnsafePointer<UnsafeMutablePointer<Float>>) -> Float) -> Float {
        precondition(stateNames.count == 1, "\(Self.self) has \(stateNames.count) state tensors; call the states: update")
        var only = state
        return withUnsafePointer(to: &only, body)
    }
}
