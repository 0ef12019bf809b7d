/// Elementwise kernels over contiguous `Float` runs, written with explicit
/// `SIMD8<Float>` so they vectorize even where the compiler cannot prove that
/// two pointers do not alias. Each has a scalar tail; results are identical to
/// the obvious scalar loop (no reassociation).
public enum VectorKernels {
    @usableFromInline typealias Lane = SIMD8<Float>

    @inlinable @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inlinable @inline(__always)
    static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// `y[i] = x[i]` (short runs such as one embedding row, without a memmove call).
    @inlinable
    public static func copy(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            store(load(x + i), y + i)
            i += 8
        }
        while i < count { y[i] = x[i]; i += 1 }
    }

    /// `y[i] += x[i]`.
    @inlinable
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            store(load(y + i) + load(x + i), y + i)
            i += 8
        }
        while i < count { y[i] += x[i]; i += 1 }
    }

    /// `y[i] += a · x[i]`.
    @inlinable
    public static func addScaled(_ x: UnsafePointer<Float>, by a: Float, into y: UnsafeMutablePointer<Float>, count: Int) {
        let av = SIMD8<Float>(repeating: a)
        var i = 0
        while i + 8 <= count {
            store(load(y + i) + av * load(x + i), y + i)
            i += 8
        }
        while i < count { y[i] += a * x[i]; i += 1 }
    }

    /// `Σ x[i] y[i]` in single precision (eight interleaved partial sums).
    @inlinable
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            acc += load(x + i) * load(y + i)
            i += 8
        }
        var s = acc.sum()
        while i < count { s += x[i] * y[i]; i += 1 }
        return s
    }

    /// `v[i] = max(v[i], 0)`; NaN stays NaN.
    @inlinable
    public static func relu(_ v: UnsafeMutablePointer<Float>, count: Int) {
        let zero = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            let x = load(v + i)
            // Keep x where x > 0 or x is NaN (x != x); zero where x <= 0.
            store(x.replacing(with: zero, where: x .<= zero), v + i)
            i += 8
        }
        while i < count { v[i] = v[i] <= 0 ? 0 : v[i]; i += 1 }
    }

    /// `g[i] = h[i] > 0 ? g[i] : 0` (ReLU backward with the forward output as mask).
    @inlinable
    public static func reluMask(_ g: UnsafeMutablePointer<Float>, output h: UnsafePointer<Float>, count: Int) {
        let zero = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            let hv = load(h + i)
            store(load(g + i).replacing(with: zero, where: .!(hv .> zero)), g + i)
            i += 8
        }
        while i < count { g[i] = h[i] > 0 ? g[i] : 0; i += 1 }
    }
}
