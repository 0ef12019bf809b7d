import Foundation

/// A seeded, serialisable pseudo-random generator (xoshiro256**, seeded
/// through SplitMix64).
///
/// Everything random in Ranker — initialisation, shuffling, synthetic data,
/// PCGrad's task order — draws from one of these, so a run is reproducible
/// from its seed, and its `state` goes into checkpoints so that a resumed run
/// draws the same numbers as an uninterrupted one. The algorithms used for
/// floats, normals, integers and shuffles are written out here (not Swift's
/// standard-library ones) so that they cannot change under us.
public struct RandomGenerator: Codable, Equatable, Sendable {
    /// The four 64-bit words of the xoshiro256** state.
    public private(set) var state: [UInt64]

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var splitmix = seed
        func next() -> UInt64 {
            splitmix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitmix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = [next(), next(), next(), next()]
    }

    /// Restores a generator from a saved `state` (four words, not all zero).
    public init(state: [UInt64]) {
        precondition(state.count == 4 && state.contains { $0 != 0 }, "RandomGenerator state must be 4 words, not all zero")
        self.state = state
    }

    @inline(__always) private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// The next 64 random bits.
    public mutating func nextUInt64() -> UInt64 {
        let result = RandomGenerator.rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = RandomGenerator.rotl(state[3], 45)
        return result
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    public mutating func nextDouble() -> Double {
        Double(nextUInt64() >> 11) * 0x1.0p-53
    }

    /// Uniform in `[0, 1)` with 24 random bits.
    public mutating func nextFloat() -> Float {
        Float(nextUInt64() >> 40) * 0x1.0p-24
    }

    /// `count` successive `nextFloat()` values into `values`: the same numbers
    /// and the same final state as calling `nextFloat()` `count` times, with
    /// the state held in registers (dropout draws one per activation).
    public mutating func fillUniformFloats(_ values: UnsafeMutablePointer<Float>, count: Int) {
        var (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
        for i in 0..<count {
            let result = RandomGenerator.rotl(s1 &* 5, 7) &* 9
            let t = s1 << 17
            s2 ^= s0
            s3 ^= s1
            s1 ^= s2
            s0 ^= s3
            s2 ^= t
            s3 = RandomGenerator.rotl(s3, 45)
            values[i] = Float(result >> 40) * 0x1.0p-24
        }
        state[0] = s0
        state[1] = s1
        state[2] = s2
        state[3] = s3
    }

    /// Uniform in `[low, high)`.
    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * nextDouble()
    }

    /// Standard normal sample (Box–Muller; one sample per call).
    public mutating func normal() -> Double {
        var u1 = nextDouble()
        while u1 <= 0 { u1 = nextDouble() }
        let u2 = nextDouble()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// Normal sample with the given mean and standard deviation.
    public mutating func normal(mean: Double, standardDeviation: Double) -> Double {
        mean + standardDeviation * normal()
    }

    /// Uniform integer in `0..<bound` (Lemire's unbiased method).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:) needs a positive bound")
        let b = UInt64(bound)
        var m = nextUInt64().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = nextUInt64().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// Shuffles `array` in place (Fisher–Yates, from the back).
    public mutating func shuffle<T>(_ array: inout [T]) {
        if array.count < 2 { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }

    /// A random permutation of `0..<n`.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }
}
