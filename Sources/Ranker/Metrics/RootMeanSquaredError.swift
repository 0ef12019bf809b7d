extension Metrics {
    /// Root mean squared error of a regression task,
    /// `sqrt((1/n) Σ_i (z_i - y_i)²)`, with differences and sum in double precision.
    ///
    /// - Returns: the RMSE, NaN for empty input; NaN or infinite values propagate.
    /// - Precondition: `predictions.count == targets.count`.
    @inlinable
    public static func rootMeanSquaredError<Predictions: Collection, Targets: Collection>(
        predictions: Predictions, targets: Targets
    ) -> Double
    where Predictions.Element: BinaryFloatingPoint, Targets.Element: BinaryFloatingPoint {
        precondition(predictions.count == targets.count,
                     "rootMeanSquaredError: \(predictions.count) predictions but \(targets.count) targets")
        if predictions.isEmpty { return .nan }
        var sum = 0.0
        var targetIndex = targets.startIndex
        for z in predictions {
            let d = Double(z) - Double(targets[targetIndex])
            sum += d * d
            targetIndex = targets.index(after: targetIndex)
        }
        return (sum / Double(predictions.count)).squareRoot()
    }
}
