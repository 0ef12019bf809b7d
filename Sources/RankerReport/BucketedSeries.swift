/// A streaming downsampler for one `(step, value)` series of any length,
/// keeping at most `capacity` buckets in memory.
///
/// Values are grouped into buckets of `width` consecutive steps
/// (bucket key = `floor(step / width)`); each bucket keeps the count, the sum,
/// the minimum and the maximum of its values and the sum of their steps. When
/// more than `capacity` buckets exist, `width` doubles and neighbouring
/// buckets merge (key `k` → `floor(k / 2)`), so memory is `O(capacity)` however
/// long the run. Because every bucket keeps its min and max, a one-step spike
/// survives any amount of downsampling in the envelope.
///
/// Steps need not be increasing: after a rollback the replayed steps fall
/// into the buckets of their first pass. Non-finite values are counted in
/// `nonFiniteCount` and otherwise ignored (they leave gaps in a chart).
struct BucketedSeries {
    /// One downsampled point: the mean step and mean value of a bucket and
    /// the min/max envelope of its values.
    struct Point: Equatable {
        var step: Double
        var mean: Double
        var minimum: Double
        var maximum: Double
        var count: Int
    }

    struct Bucket {
        var count = 0
        var stepSum = 0.0
        var sum = 0.0
        var minimum = Double.infinity
        var maximum = -Double.infinity

        mutating func add(step: Int, value: Double) {
            count += 1
            stepSum += Double(step)
            sum += value
            minimum = Swift.min(minimum, value)
            maximum = Swift.max(maximum, value)
        }

        mutating func merge(_ other: Bucket) {
            count += other.count
            stepSum += other.stepSum
            sum += other.sum
            minimum = Swift.min(minimum, other.minimum)
            maximum = Swift.max(maximum, other.maximum)
        }

        var point: Point {
            Point(step: stepSum / Double(count), mean: sum / Double(count), minimum: minimum, maximum: maximum, count: count)
        }
    }

    /// Most buckets kept in memory (≥ 2).
    let capacity: Int
    /// Steps per bucket (a power of two).
    private(set) var width = 1
    /// Finite values added.
    private(set) var count = 0
    /// Non-finite values seen (not stored).
    private(set) var nonFiniteCount = 0
    private var buckets: [Int: Bucket] = [:]
    /// The bucket being filled, kept out of the dictionary while steps stay in it.
    private var currentKey = 0
    private var current = Bucket()

    init(capacity: Int = 2000) {
        precondition(capacity >= 2, "BucketedSeries needs a capacity of at least 2")
        self.capacity = capacity
    }

    var isEmpty: Bool { count == 0 }

    mutating func add(step: Int, value: Double) {
        guard value.isFinite else {
            nonFiniteCount += 1
            return
        }
        count += 1
        let key = Self.floorDivide(step, width)
        if current.count > 0 && key != currentKey { flushCurrent() }
        if current.count == 0 {
            currentKey = key
            if let existing = buckets.removeValue(forKey: key) { current = existing }
        }
        current.add(step: step, value: value)
        while buckets.count + 1 > capacity { halveResolution() }
    }

    /// The buckets in step order, merged further (by doubling the width again)
    /// until at most `maxCount` points remain.
    func points(maxCount: Int = .max) -> [Point] {
        precondition(maxCount >= 1, "maxCount must be positive")
        var all = buckets
        if current.count > 0 { all[currentKey, default: Bucket()].merge(current) }
        var factor = 1
        while all.count > maxCount {
            factor *= 2
            var merged: [Int: Bucket] = [:]
            merged.reserveCapacity(all.count / 2 + 1)
            for (key, bucket) in all { merged[Self.floorDivide(key, 2), default: Bucket()].merge(bucket) }
            all = merged
        }
        return all.keys.sorted().map { all[$0]!.point }
    }

    private mutating func flushCurrent() {
        buckets[currentKey] = current
        current = Bucket()
    }

    private mutating func halveResolution() {
        if current.count > 0 { flushCurrent() }
        width *= 2
        var merged: [Int: Bucket] = [:]
        merged.reserveCapacity(buckets.count / 2 + 1)
        for (key, bucket) in buckets { merged[Self.floorDivide(key, 2), default: Bucket()].merge(bucket) }
        buckets = merged
    }

    /// `floor(a / b)` for `b > 0` (Swift's `/` truncates toward zero).
    static func floorDivide(_ a: Int, _ b: Int) -> Int {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }
}
