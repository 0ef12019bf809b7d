/// The update layer (ALGORITHMS.md 4): one step over every parameter tensor of
/// a model, dense tensors from `Parameter.grad`, embedding tables from their
/// row-sparse `Parameter.sparseGrad`. `OptimizerDriver` implements it for
/// every `UpdateRule` (`Adagrad`, `ClippyAdagrad`, `Adam` and registered rules).
///
/// Contract shared by every optimizer:
///
/// * **Local updates.** Every parameter tensor (weight matrix, bias vector,
///   embedding table) is updated — and, where the optimizer clips, clipped —
///   on its own, with its own state tensors of the same shape (Adagrad: one
///   accumulator; Adam: the moments `m` and `v`).
/// * **Row-sparse tables.** Only the rows listed in `sparseGrad.rowIDs` and
///   their accumulator rows change; a table whose sparse gradient has no rows
///   is left untouched.
/// * **Non-finite gradients are never applied.** Every gradient is scanned
///   before anything is written; if one value is NaN or infinite the whole
///   step is skipped — no parameter, accumulator or step counter changes except
///   `skippedStepCount` — and the report names the offending parameters.
/// * **Binding.** The first `prepare(for:)`, `step` or `restoreState` binds the
///   optimizer to a parameter list and creates its state tensors.
///   Later steps must pass the same list (same objects, same order);
///   passing another list is a programmer error (`precondition`).
/// * **No allocation in a steady-state step** (scratch buffers are sized on the
///   first steps and then reused; the report only allocates when a step is
///   skipped).
/// * **Clipping factors.** After every applied step the factor each parameter's
///   update was scaled by is readable (`1` when nothing was clipped or the
///   parameter had nothing to update); a skipped step leaves them unchanged.
/// * **Checkpoints.** `stateTensors()` and `scalarState` hold everything a
///   resumed run needs; `restoreState` validates it before changing anything.
public protocol Optimizer: AnyObject {
    /// Binds the optimizer to `parameters` and creates their state tensors
    /// (no-op when already bound to the same list). Call before exporting
    /// state of an optimizer that has not stepped yet.
    func prepare(for parameters: [Parameter])

    /// Applies one update to every parameter with learning rate
    /// `learningRate` (finite, `>= 0`; read once for the whole step).
    @discardableResult
    func step(parameters: [Parameter], learningRate: Float) -> OptimizerStepReport

    /// Names of the bound parameters, in the order of the list they were bound to.
    var parameterNames: [String] { get }

    /// The clipping factor of the last applied step for the parameter at
    /// `index` of the bound list (`1` before the first step).
    func clippingFactor(at index: Int) -> Float

    /// The clipping factor of the last applied step for the parameter named
    /// `name`, or `nil` when no bound parameter has that name.
    func clippingFactor(named name: String) -> Float?

    /// Step counters for checkpoints.
    var scalarState: OptimizerScalarState { get }

    /// The names of the state tensors of the parameter named `name`: the
    /// parameter's name when the optimizer keeps one tensor per parameter
    /// (Adagrad), `<name>/<state name>` for each of several (Adam:
    /// `<name>/m`, `<name>/v`). Each has the parameter's shape.
    func stateTensorNames(forParameter name: String) -> [String]

    /// The optimizer's tensors, those of each bound parameter
    /// (`stateTensorNames(forParameter:)`) in bound order. The matrices are
    /// the live storage (write them out before the next step; do not modify
    /// them).
    func stateTensors() -> [(name: String, value: Matrix)]

    /// Restores state exported by `stateTensors()` and `scalarState`, binding
    /// the optimizer to `parameters`. Everything is validated first (exactly
    /// the tensors named by `stateTensorNames(forParameter:)`, shapes equal to
    /// the parameter's, values finite and valid for the rule); on error
    /// nothing changes.
    ///
    /// - Throws: `OptimizerStateError`.
    func restoreState(tensors: [(name: String, value: Matrix)], scalars: OptimizerScalarState,
                      parameters: [Parameter]) throws
}

extension Optimizer {
    /// The clipping factors of the last applied step, in bound order
    /// (allocates; for telemetry outside the step).
    public var clippingFactors: [Float] {
        (0..<parameterNames.count).map { clippingFactor(at: $0) }
    }
}

/// Counters an optimizer carries across steps (saved in checkpoints).
public struct OptimizerScalarState: Codable, Equatable, Sendable {
    /// Number of applied steps.
    public var stepCount: Int
    /// Number of steps skipped because a gradient was not finite.
    public var skippedStepCount: Int

    public init(stepCount: Int = 0, skippedStepCount: Int = 0) {
        self.stepCount = stepCount
        self.skippedStepCount = skippedStepCount
    }

    enum CodingKeys: String, CodingKey {
        case stepCount = "step_count"
        case skippedStepCount = "skipped_step_count"
    }
}

/// What one call of `Optimizer.step` did. Made by the optimizer driver
/// (`OptimizerDriver`, `GradientScan`) with the memberwise initializer.
public struct OptimizerStepReport: Equatable, Sendable {
    /// `false` when the step was skipped because a gradient was not finite
    /// (then nothing was changed).
    public var applied: Bool
    /// Names of the parameters whose gradient held a NaN or an infinity, in
    /// bound order (empty when the step was applied).
    public var nonFiniteParameters: [String] = []
    /// Number of non-finite gradient values over all parameters.
    public var nonFiniteValueCount: Int = 0
    /// Number of parameter tensors whose update was scaled down (factor < 1).
    public var clippedParameterCount: Int = 0
    /// Number of tensors whose factor was 0, i.e. that did not move (Clippy
    /// Adagrad: some coordinate had a zero bound and a non-zero update, spec
    /// 4.2.4: legal, but worth logging). 0 for Adagrad in practice.
    public var zeroBoundParameterCount: Int = 0
}
