import Foundation

/// One contiguous, 64-byte aligned `Float` allocation cut into segments, each
/// handed out as a `Matrix` that borrows its storage (DESIGN.md, "parameter
/// slab").
///
/// Segment `i` of `sizes[i]` floats starts at `offsets[i]`, a multiple of 16
/// floats (one cache line) so that every segment keeps the alignment a
/// freshly allocated `Matrix` has; the gaps between segments are zero and
/// stay zero. The whole slab is one buffer to checksum, to hand to an
/// allreduce, or to read with one BLAS call.
public final class Slab {
    /// Floats between segment starts are rounded up to this multiple (64 bytes).
    public static let segmentAlignment = Matrix.alignment / MemoryLayout<Float>.stride

    /// Start of each segment, in floats from `data`.
    public let offsets: [Int]
    /// Number of floats of each segment.
    public let sizes: [Int]
    /// Total number of floats, gaps included.
    public let count: Int
    /// The storage: `count` floats, zero-initialised, 64-byte aligned.
    public let data: UnsafeMutablePointer<Float>

    /// A zeroed slab with one segment per entry of `sizes`.
    public init(sizes: [Int]) {
        precondition(sizes.allSatisfy { $0 >= 0 }, "segment sizes must be non-negative")
        var offsets: [Int] = []
        offsets.reserveCapacity(sizes.count)
        var next = 0
        for size in sizes {
            offsets.append(next)
            next += (size + Slab.segmentAlignment - 1) / Slab.segmentAlignment * Slab.segmentAlignment
        }
        self.offsets = offsets
        self.sizes = sizes
        count = next
        data = Matrix.allocate(count: max(next, 1))
        data.initialize(repeating: 0, count: max(next, 1))
    }

    deinit { free(data) }

    /// Segment `i` as a `rows × cols` matrix (`rows · cols == sizes[i]`).
    public func matrix(segment i: Int, rows: Int, cols: Int) -> Matrix {
        precondition(rows * cols == sizes[i], "segment \(i) holds \(sizes[i]) floats, not \(rows) × \(cols)")
        return Matrix(borrowing: data + offsets[i], rows: rows, cols: cols, owner: self)
    }

    /// The whole storage (`count` floats, gaps included).
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: data, count: count) }
}
