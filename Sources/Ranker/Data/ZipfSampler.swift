import Foundation

/// Draws ranks `0..<count` with Zipf-like probabilities
/// `P(k) ∝ 1 / (k + 1)^exponent` (exponent 0: uniform), by binary search of
/// one uniform draw in the cumulative weights.
struct ZipfSampler {
    let count: Int
    private let cumulative: [Double]

    init(count: Int, exponent: Double) {
        precondition(count >= 1 && exponent >= 0)
        self.count = count
        var running = 0.0
        var cumulative = [Double](repeating: 0, count: count)
        for k in 0..<count {
            running += exponent == 0 ? 1 : 1 / Foundation.pow(Double(k + 1), exponent)
            cumulative[k] = running
        }
        self.cumulative = cumulative
    }

    /// The probability of rank `k`.
    func probability(_ k: Int) -> Double {
        (cumulative[k] - (k > 0 ? cumulative[k - 1] : 0)) / cumulative[count - 1]
    }

    /// One rank; consumes one `nextDouble()` of `rng`.
    @inline(__always)
    func sample(_ rng: inout RandomGenerator) -> Int {
        let target = rng.nextDouble() * cumulative[count - 1]
        var low = 0
        var high = count - 1
        cumulative.withUnsafeBufferPointer { c in
            while low < high {
                let mid = (low + high) >> 1
                if c[mid] <= target { low = mid + 1 } else { high = mid }
            }
        }
        return low
    }
}
