/// A growable column of plain values in manually managed storage, for the
/// loader's hot path: appends without copy-on-write or uniqueness checks.
/// Capacity doubles when full; `toArray()` copies the values out.
final class ColumnBuffer<Element> {
    private(set) var pointer: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 1024) {
        self.capacity = max(capacity, 1)
        pointer = .allocate(capacity: self.capacity)
    }

    deinit {
        pointer.deinitialize(count: count)
        pointer.deallocate()
    }

    @inline(__always) func append(_ value: Element) {
        if count == capacity { grow() }
        (pointer + count).initialize(to: value)
        count += 1
    }

    /// Appends `n` slots and returns a pointer to them; the caller must
    /// initialize all of them before the next call (meant for plain values).
    @inline(__always) func appendSlots(_ n: Int) -> UnsafeMutablePointer<Element> {
        if count + n > capacity { grow(toAtLeast: count + n) }
        let slots = pointer + count
        count += n
        return slots
    }

    /// Drops the last `n` values (plain values only).
    func removeLast(_ n: Int) {
        precondition(n <= count)
        count -= n
    }

    private func grow(toAtLeast needed: Int = 0) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newPointer = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        newPointer.moveInitialize(from: pointer, count: count)
        pointer.deallocate()
        pointer = newPointer
        capacity = newCapacity
    }

    @inline(__always) subscript(index: Int) -> Element {
        get { pointer[index] }
        set { pointer[index] = newValue }
    }

    func toArray() -> [Element] {
        Array(UnsafeBufferPointer(start: pointer, count: count))
    }
}
