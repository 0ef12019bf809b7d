/// Scans of gradient buffers that the driver runs before writing anything.
enum GradientScan {
    /// Number of NaN or infinite values among `count` floats at `values`.
    @inline(__always)
    static func nonFiniteCount(_ values: UnsafePointer<Float>, count: Int) -> Int {
        // Fast pass: x − x is 0 for every finite x and NaN otherwise, so the
        // lanes stay exactly 0 unless something is not finite.
        var lanes = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            let v = VectorKernels.load(values + i)
            lanes += v - v
            i += 8
        }
        var tail: Float = 0
        while i < count { tail += values[i] - values[i]; i += 1 }
        if lanes.sum() + tail == 0 { return 0 }
        var n = 0
        for i in 0..<count where !values[i].isFinite { n += 1 }
        return n
    }

    /// The skip report when some gradient is not finite, else `nil`.
    /// Allocates only on the failing path.
    static func nonFiniteReport(_ parameters: [Parameter]) -> OptimizerStepReport? {
        var total = 0
        for p in parameters { total += nonFiniteCount(p.gradientPointer, count: p.gradientCount) }
        if total == 0 { return nil }
        var names: [String] = []
        for p in parameters where nonFiniteCount(p.gradientPointer, count: p.gradientCount) > 0 {
            names.append(p.name)
        }
        return OptimizerStepReport(applied: false, nonFiniteParameters: names, nonFiniteValueCount: total)
    }

    /// `sum g_i^2` over this step's gradient of `parameter` (dense: all of it;
    /// embedding table: the touched rows), accumulated in `Double`.
    @inline(__always)
    static func sumOfSquares(_ parameter: Parameter) -> Double {
        sumOfSquares(parameter.gradientPointer, count: parameter.gradientCount)
    }

    @inline(__always)
    static func sumOfSquares(_ values: UnsafePointer<Float>, count: Int) -> Double {
        var s = 0.0
        for i in 0..<count {
            let v = Double(values[i])
            s += v * v
        }
        return s
    }
}
