/// Mean and spread of one quantity over the seeds of an experiment (test AUC
/// of a model, a method's GAUC, samples/s), with the per-seed values kept in
/// the order of the seeds.
public struct SeedStatistic: Equatable, Sendable {
    /// Which standard deviation.
    public enum Spread: Equatable, Sendable {
        /// Divides by `n` (PROTOCOL.md's peer tables); 0 for one value.
        case population
        /// Divides by `n − 1`; NaN for one value.
        case sample
    }

    public var values: [Double]
    /// NaN for no value.
    public var mean: Double
    public var standardDeviation: Double

    public init(values: [Double], spread: Spread) {
        self.values = values
        let n = Double(values.count)
        mean = values.isEmpty ? .nan : values.reduce(0, +) / n
        let divisor = spread == .population ? n : n - 1
        if divisor <= 0 {
            standardDeviation = .nan
        } else {
            let m = mean
            standardDeviation = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / divisor).squareRoot()
        }
    }
}
