/// A growable scratch array of a trivial element type (`Float`, `Double`)
/// owned by an optimizer: `reserve(n)` returns storage for at least `n`
/// elements and only reallocates when `n` exceeds every earlier request, so
/// after the first steps a training step allocates nothing. Contents are
/// unspecified after `reserve`.
final class ScratchBuffer<Element: BinaryFloatingPoint> {
    private(set) var capacity: Int
    private var storage: UnsafeMutablePointer<Element>

    init(capacity: Int = 0) {
        self.capacity = max(capacity, 1)
        storage = UnsafeMutablePointer<Element>.allocate(capacity: self.capacity)
        storage.initialize(repeating: 0, count: self.capacity)
    }

    deinit {
        storage.deallocate()
    }

    /// Storage for `count` elements.
    @inline(__always)
    func reserve(_ count: Int) -> UnsafeMutablePointer<Element> {
        if count > capacity { grow(to: count) }
        return storage
    }

    private func grow(to count: Int) {
        storage.deallocate()
        capacity = count
        storage = UnsafeMutablePointer<Element>.allocate(capacity: count)
        storage.initialize(repeating: 0, count: count)
    }
}
