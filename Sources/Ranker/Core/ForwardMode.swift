/// How a forward pass runs the layers whose behaviour depends on training
/// (ALGORITHMS.md 3.2.1): BatchNorm and dropout.
///
/// * `.training`: BatchNorm normalises with the batch's own statistics and
///   moves its running statistics; dropout draws a fresh mask from `dropout`.
/// * `.evaluation`: BatchNorm uses the running statistics (a fixed affine
///   map), dropout is the identity. Evaluation, prediction and export run in
///   this mode; it never changes any state.
///
/// A model without BatchNorm and dropout computes the same in both modes.
public enum ForwardMode {
    case training(dropout: DropoutGenerator)
    case evaluation

    public var isTraining: Bool {
        if case .training = self { return true }
        return false
    }
}

/// The random stream dropout masks are drawn from, shared by reference so
/// that every dropout layer of one forward pass draws from the same stream
/// without copying the generator (a copy would allocate on its first draw).
///
/// The trainer seeds it from the run's seed and stores its state in every
/// checkpoint, so a resumed run draws the same masks as an uninterrupted one.
public final class DropoutGenerator {
    public var generator: RandomGenerator

    public init(_ generator: RandomGenerator) {
        self.generator = generator
    }
}
