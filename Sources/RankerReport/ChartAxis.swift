import Foundation

/// How an axis maps values to positions.
enum AxisScale {
    case linear
    /// Base-10 logarithmic; values at or below the lower bound sit on it.
    case logarithmic
}

/// One chart axis: a domain, its scale, and the tick values with labels.
///
/// Linear domains are widened to "nice" tick multiples (1, 2, 2.5 or 5 times
/// a power of ten, about `targetTickCount` ticks); logarithmic domains to
/// whole decades, with one tick per decade (every second or third decade when
/// there are many; 2× and 5× ticks as well when there are at most two).
struct ChartAxis {
    let scale: AxisScale
    let lower: Double
    let upper: Double
    let ticks: [Double]

    /// A linear axis covering `minimum...maximum` (non-finite or empty
    /// ranges widen around the finite value, or become `0...1`).
    init(linearFrom minimum: Double, to maximum: Double, targetTickCount: Int = 6, nice: Bool = true) {
        var low = minimum.isFinite ? minimum : 0
        var high = maximum.isFinite ? maximum : low + 1
        if high < low { swap(&low, &high) }
        if high == low {
            let pad = low == 0 ? 1 : Swift.abs(low) * 0.1
            low -= pad
            high += pad
        }
        let step = Self.niceStep(forRange: high - low, tickCount: targetTickCount)
        if nice {
            low = (low / step).rounded(.down) * step
            high = (high / step).rounded(.up) * step
        }
        var ticks: [Double] = []
        var tick = (low / step).rounded(.up) * step
        while tick <= high + step * 1e-9 {
            ticks.append(Swift.abs(tick) < step * 1e-9 ? 0 : tick)
            tick += step
        }
        scale = .linear
        lower = low
        upper = high
        self.ticks = ticks
    }

    /// A logarithmic axis covering `minimum...maximum` widened to decades;
    /// `minimum` must be positive (callers pass their smallest positive value
    /// or a floor).
    init(logarithmicFrom minimum: Double, to maximum: Double, maximumTickCount: Int = 9) {
        precondition(minimum > 0 && minimum.isFinite && maximum.isFinite, "log axis needs a positive finite domain")
        var lowDecade = Int(log10(minimum).rounded(.down))
        var highDecade = Int(log10(Swift.max(maximum, minimum)).rounded(.up))
        if highDecade == lowDecade {
            highDecade += 1
        }
        let span = highDecade - lowDecade
        var stride = 1
        while (span + stride - 1) / stride + 1 > Swift.max(2, maximumTickCount) { stride += 1 }
        lowDecade = highDecade - stride * ((span + stride - 1) / stride)
        var ticks: [Double] = []
        for decade in Swift.stride(from: lowDecade, through: highDecade, by: stride) {
            let base = pow(10, Double(decade))
            ticks.append(base)
            if span <= 2 && decade < highDecade { ticks.append(2 * base); ticks.append(5 * base) }
        }
        scale = .logarithmic
        lower = pow(10, Double(lowDecade))
        upper = pow(10, Double(highDecade))
        self.ticks = ticks
    }

    /// Position of `value` in the domain: 0 at `lower`, 1 at `upper`
    /// (outside values extrapolate; log scale clamps values `<= lower` to 0).
    func fraction(_ value: Double) -> Double {
        switch scale {
        case .linear:
            return (value - lower) / (upper - lower)
        case .logarithmic:
            guard value > lower else { return 0 }
            return (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
        }
    }

    /// Tick label: `1e-6` style for decades of a log axis, compact numbers otherwise.
    func label(_ value: Double) -> String {
        if scale == .logarithmic {
            let exponent = log10(value)
            if Swift.abs(exponent - exponent.rounded()) < 1e-9 {
                let e = Int(exponent.rounded())
                if e >= 0 && e <= 3 { return String(Int(pow(10, Double(e)))) }
                return "1e\(e)"
            }
        }
        return Self.compact(value)
    }

    /// `1, 2, 2.5, 5 × 10^k` step giving about `tickCount` intervals over `range`.
    static func niceStep(forRange range: Double, tickCount: Int) -> Double {
        let rough = range / Double(Swift.max(1, tickCount))
        let magnitude = pow(10, log10(rough).rounded(.down))
        let residual = rough / magnitude
        let factor: Double = residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 2.5 ? 2.5 : residual <= 5 ? 5 : 10
        return factor * magnitude
    }

    /// Compact number: up to 4 significant digits (whole numbers from 1e4 to 1e5),
    /// exponent form outside `1e-3 ..< 1e5`.
    static func compact(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "∞" : "−∞") }
        if value == 0 { return "0" }
        let magnitude = Swift.abs(value)
        if magnitude >= 1e4 && magnitude < 1e5 { return String(format: "%.0f", value) }   // %.4g would say 6e+04
        if magnitude >= 1e5 || magnitude < 1e-3 {
            var text = String(format: "%.3g", value)
            // "1e-06" -> "1e-6", "2.5e+05" -> "2.5e5"
            if let e = text.firstIndex(of: "e") {
                let mantissa = text[..<e]
                var exponent = String(text[text.index(after: e)...])
                let negative = exponent.hasPrefix("-")
                exponent = String(exponent.drop(while: { $0 == "+" || $0 == "-" || $0 == "0" }))
                text = mantissa + "e" + (negative ? "-" : "") + (exponent.isEmpty ? "0" : exponent)
            }
            return text
        }
        return String(format: "%.4g", value)
    }

    /// Step counts: `950`, `2.5k`, `1.2M`.
    static func stepLabel(_ value: Double) -> String {
        let magnitude = Swift.abs(value)
        func trimmed(_ x: Double) -> String {
            let text = String(format: "%.2f", x)
            var result = Substring(text)
            while result.hasSuffix("0") { result = result.dropLast() }
            if result.hasSuffix(".") { result = result.dropLast() }
            return String(result)
        }
        if magnitude >= 1e6 { return trimmed(value / 1e6) + "M" }
        if magnitude >= 1e4 { return trimmed(value / 1e3) + "k" }
        return trimmed(value)
    }
}
