import Foundation

/// A row-major `Float` matrix that owns 64-byte aligned storage.
///
/// Element `(r, c)` lives at `data[r * cols + c]`. Training buffers are created
/// once and reused: `resize(rows:cols:)` changes the logical shape and only
/// reallocates when the new shape needs more than the current capacity, so a
/// steady-state training step allocates nothing.
///
/// A `Matrix` is a reference type: layers, parameters and optimizers share the
/// same storage without copy-on-write traffic. Use `view` (or `rows(_:)`,
/// `block(rows:cols:)`) to hand a window of it to a BLAS call.
public final class Matrix {
    /// Number of rows of the logical shape.
    public private(set) var rows: Int
    /// Number of columns of the logical shape (also the leading dimension).
    public private(set) var cols: Int
    /// Number of `Float`s the storage can hold without reallocating.
    public private(set) var capacity: Int
    /// The storage: `capacity` floats, 64-byte aligned.
    public private(set) var data: UnsafeMutablePointer<Float>
    /// The object that owns `data` when this matrix is a window on someone
    /// else's storage (a `Slab` segment); `nil` when the matrix owns it.
    public let storageOwner: AnyObject?

    /// Alignment of every allocation, in bytes (one cache line, one AVX-512 vector).
    public static let alignment = 64

    /// A `rows × cols` matrix of zeros.
    public init(rows: Int, cols: Int) {
        precondition(rows >= 0 && cols >= 0, "Matrix shape must be non-negative, got \(rows) × \(cols)")
        self.rows = rows
        self.cols = cols
        self.capacity = max(rows * cols, 1)
        self.data = Matrix.allocate(count: capacity)
        data.initialize(repeating: 0, count: capacity)
        storageOwner = nil
    }

    /// A `rows × cols` matrix on storage owned by `owner` (for example one
    /// segment of a `Slab`): nothing is allocated or freed, the contents are
    /// whatever the storage holds, and `owner` is kept alive as long as the
    /// matrix. Such a matrix cannot grow beyond `rows · cols` elements.
    public init(borrowing storage: UnsafeMutablePointer<Float>, rows: Int, cols: Int, owner: AnyObject) {
        precondition(rows >= 0 && cols >= 0, "Matrix shape must be non-negative, got \(rows) × \(cols)")
        self.rows = rows
        self.cols = cols
        capacity = rows * cols
        data = storage
        storageOwner = owner
    }

    /// A `rows × cols` matrix filled from `values` in row-major order.
    public convenience init(rows: Int, cols: Int, values: [Float]) {
        precondition(values.count == rows * cols,
                     "Matrix(rows: \(rows), cols: \(cols)) needs \(rows * cols) values, got \(values.count)")
        self.init(rows: rows, cols: cols)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
    }

    /// A matrix from nested rows (`[[Float]]`, all of the same length).
    public convenience init(_ nestedRows: [[Float]]) {
        let r = nestedRows.count
        let c = nestedRows.first?.count ?? 0
        precondition(nestedRows.allSatisfy { $0.count == c }, "Matrix rows must all have \(c) columns")
        self.init(rows: r, cols: c, values: nestedRows.flatMap { $0 })
    }

    deinit {
        if storageOwner == nil { free(data) }
    }

    /// `true` when this matrix is a window on storage it does not own.
    @inlinable public var isBorrowed: Bool { storageOwner != nil }

    static func allocate(count: Int) -> UnsafeMutablePointer<Float> {
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let status = posix_memalign(&raw, alignment, bytes)
        precondition(status == 0 && raw != nil, "posix_memalign of \(bytes) bytes failed (\(status))")
        return raw!.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// Number of elements of the logical shape.
    @inlinable public var count: Int { rows * cols }

    /// Changes the logical shape. Storage is kept when it is large enough;
    /// otherwise it is replaced by a zeroed allocation (old contents are lost).
    /// Contents are unspecified after a resize that changes the shape.
    public func resize(rows newRows: Int, cols newCols: Int) {
        precondition(newRows >= 0 && newCols >= 0, "Matrix shape must be non-negative")
        let needed = newRows * newCols
        if needed > capacity {
            precondition(storageOwner == nil, "a matrix borrowing \(capacity) floats cannot grow to \(newRows) × \(newCols)")
            free(data)
            capacity = needed
            data = Matrix.allocate(count: capacity)
            data.initialize(repeating: 0, count: capacity)
        }
        rows = newRows
        cols = newCols
    }

    /// Makes room for at least `count` elements without changing the shape,
    /// so that later `resize` calls up to that size allocate nothing. The
    /// contents of the logical shape are kept.
    public func reserve(count needed: Int) {
        if needed <= capacity { return }
        precondition(storageOwner == nil, "a matrix borrowing \(capacity) floats cannot grow to \(needed)")
        let fresh = Matrix.allocate(count: needed)
        fresh.initialize(repeating: 0, count: needed)
        fresh.update(from: data, count: count)
        free(data)
        data = fresh
        capacity = needed
    }

    /// The whole matrix as a view (leading dimension `cols`; 1 for a matrix
    /// without columns, as BLAS requires `ld ≥ 1`).
    @inlinable public var view: MatrixView { MatrixView(data: data, rows: rows, cols: cols, ld: max(cols, 1)) }

    /// Rows `range` as a view.
    @inlinable public func rows(_ range: Range<Int>) -> MatrixView { view.rows(range) }

    /// A rectangular block as a view (no copy).
    @inlinable public func block(rows r: Range<Int>, cols c: Range<Int>) -> MatrixView { view.block(rows: r, cols: c) }

    /// The storage of the logical shape as a buffer pointer.
    @inlinable public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: data, count: count)
    }

    @inlinable public subscript(row: Int, col: Int) -> Float {
        get {
            precondition(row >= 0 && row < rows && col >= 0 && col < cols, "index (\(row), \(col)) out of \(rows) × \(cols)")
            return data[row * cols + col]
        }
        set {
            precondition(row >= 0 && row < rows && col >= 0 && col < cols, "index (\(row), \(col)) out of \(rows) × \(cols)")
            data[row * cols + col] = newValue
        }
    }

    /// Sets every element of the logical shape to `value`.
    public func fill(_ value: Float) {
        data.update(repeating: value, count: count)
    }

    /// Copies `other` (same element count) into this matrix.
    public func copy(from other: Matrix) {
        precondition(other.count == count, "copy(from:) needs \(count) elements, got \(other.count)")
        data.update(from: other.data, count: count)
    }

    /// Copies `values` (row-major, exactly `count` of them) into this matrix.
    public func copy(from values: [Float]) {
        precondition(values.count == count, "copy(from:) needs \(count) values, got \(values.count)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    /// The logical contents as a flat row-major array (allocates; not for hot paths).
    public func toArray() -> [Float] { Array(buffer) }

    /// The logical contents as nested rows (allocates; for tests and reports).
    public func toNestedArray() -> [[Float]] {
        (0..<rows).map { r in (0..<cols).map { c in data[r * cols + c] } }
    }

    /// A new matrix with a copy of this matrix's contents.
    public func clone() -> Matrix {
        let m = Matrix(rows: rows, cols: cols)
        m.copy(from: self)
        return m
    }
}

/// A non-owning window on row-major `Float` storage: `rows × cols` elements
/// with leading dimension `ld` (`element(r, c) = data[r * ld + c]`).
///
/// Views are what BLAS wrappers and layer kernels take, so a column block of a
/// wider matrix (for example one expert's slice of the concatenated first
/// expert layer) is read and written in place.
public struct MatrixView {
    public let data: UnsafeMutablePointer<Float>
    public let rows: Int
    public let cols: Int
    public let ld: Int

    @inlinable public init(data: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int) {
        precondition(rows >= 0 && cols >= 0 && ld >= max(cols, 1), "bad view \(rows) × \(cols), ld \(ld)")
        self.data = data
        self.rows = rows
        self.cols = cols
        self.ld = ld
    }

    /// `true` when the rows follow each other without gaps (`ld == cols`).
    @inlinable public var isContiguous: Bool { ld == cols || rows <= 1 }

    /// Number of elements.
    @inlinable public var count: Int { rows * cols }

    /// Rows `range` of this view.
    @inlinable public func rows(_ range: Range<Int>) -> MatrixView {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) out of 0..<\(rows)")
        return MatrixView(data: data + range.lowerBound * ld, rows: range.count, cols: cols, ld: ld)
    }

    /// Columns `range` of this view.
    @inlinable public func cols(_ range: Range<Int>) -> MatrixView {
        precondition(range.lowerBound >= 0 && range.upperBound <= cols, "cols \(range) out of 0..<\(cols)")
        return MatrixView(data: data + range.lowerBound, rows: rows, cols: range.count, ld: ld)
    }

    /// A rectangular block of this view.
    @inlinable public func block(rows r: Range<Int>, cols c: Range<Int>) -> MatrixView {
        self.rows(r).cols(c)
    }

    /// Pointer to the first element of row `r`.
    @inlinable public func row(_ r: Int) -> UnsafeMutablePointer<Float> { data + r * ld }

    @inlinable public subscript(row: Int, col: Int) -> Float {
        get { data[row * ld + col] }
        nonmutating set { data[row * ld + col] = newValue }
    }

    /// Sets every element to `value`.
    public func fill(_ value: Float) {
        if isContiguous {
            data.update(repeating: value, count: count)
        } else {
            for r in 0..<rows { row(r).update(repeating: value, count: cols) }
        }
    }

    /// Copies `source` (same shape) into this view.
    public func copy(from source: MatrixView) {
        precondition(source.rows == rows && source.cols == cols,
                     "copy(from:) shape \(source.rows) × \(source.cols) into \(rows) × \(cols)")
        if isContiguous && source.isContiguous {
            data.update(from: source.data, count: count)
        } else {
            for r in 0..<rows { row(r).update(from: source.row(r), count: cols) }
        }
    }

    /// The contents as a flat row-major array (allocates; for tests).
    public func toArray() -> [Float] {
        var out = [Float]()
        out.reserveCapacity(count)
        for r in 0..<rows { for c in 0..<cols { out.append(data[r * ld + c]) } }
        return out
    }
}
