#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A set of byte strings numbered in order of first insertion, for building
/// vocabularies without making a `String` per field.
///
/// Open addressing with linear probing over a power-of-two slot array, kept
/// at most half full; keys live back to back in one growing byte arena and
/// are compared with `memcmp` after their FNV-1a hashes match. `intern`
/// returns the index of the key (`0..<count`), adding it if new; `index(of:)`
/// only looks it up.
final class ByteStringTable {
    private var slots: UnsafeMutablePointer<Int32>       // -1 empty, else entry index
    private var slotHashes: UnsafeMutablePointer<UInt64>
    private var slotCount: Int
    private var arena: UnsafeMutablePointer<UInt8>
    private var arenaCapacity: Int
    private var arenaUsed = 0
    private let offsets = ColumnBuffer<Int>(capacity: 64)
    private let lengths = ColumnBuffer<Int>(capacity: 64)
    /// Number of distinct keys.
    private(set) var count = 0

    init(expectedCount: Int = 64) {
        var n = 16
        while n < expectedCount * 2 { n *= 2 }
        slotCount = n
        slots = .allocate(capacity: n)
        slots.initialize(repeating: -1, count: n)
        slotHashes = .allocate(capacity: n)
        slotHashes.initialize(repeating: 0, count: n)
        arenaCapacity = 1024
        arena = .allocate(capacity: arenaCapacity)
    }

    deinit {
        slots.deallocate()
        slotHashes.deallocate()
        arena.deallocate()
    }

    /// The index of `bytes[0..<length]`, inserting it when new.
    @inline(__always)
    func intern(_ bytes: UnsafePointer<UInt8>, length: Int) -> Int32 {
        let h = FNV1a.hash(bytes, count: length)
        let mask = slotCount - 1
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let entry = slots[s]
            if entry < 0 { break }
            if slotHashes[s] == h {
                let e = Int(entry)
                if lengths[e] == length && memcmp(arena + offsets[e], bytes, length) == 0 { return entry }
            }
            s = (s + 1) & mask
        }
        return insert(bytes, length: length, hash: h, slot: s)
    }

    /// The index of `bytes[0..<length]`, or nil when the table does not hold
    /// it (nothing is inserted).
    @inline(__always)
    func index(of bytes: UnsafePointer<UInt8>, length: Int) -> Int32? {
        let h = FNV1a.hash(bytes, count: length)
        let mask = slotCount - 1
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let entry = slots[s]
            if entry < 0 { return nil }
            if slotHashes[s] == h {
                let e = Int(entry)
                if lengths[e] == length && memcmp(arena + offsets[e], bytes, length) == 0 { return entry }
            }
            s = (s + 1) & mask
        }
    }

    private func insert(_ bytes: UnsafePointer<UInt8>, length: Int, hash h: UInt64, slot: Int) -> Int32 {
        if arenaUsed + length > arenaCapacity {
            var newCapacity = arenaCapacity * 2
            while arenaUsed + length > newCapacity { newCapacity *= 2 }
            let newArena = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            newArena.update(from: arena, count: arenaUsed)
            arena.deallocate()
            arena = newArena
            arenaCapacity = newCapacity
        }
        (arena + arenaUsed).update(from: bytes, count: length)
        offsets.append(arenaUsed)
        lengths.append(length)
        arenaUsed += length
        let index = Int32(count)
        count += 1
        slots[slot] = index
        slotHashes[slot] = h
        if count * 2 > slotCount { grow() }
        return index
    }

    private func grow() {
        let newCount = slotCount * 2
        let newSlots = UnsafeMutablePointer<Int32>.allocate(capacity: newCount)
        newSlots.initialize(repeating: -1, count: newCount)
        let newHashes = UnsafeMutablePointer<UInt64>.allocate(capacity: newCount)
        newHashes.initialize(repeating: 0, count: newCount)
        let mask = newCount - 1
        for s in 0..<slotCount where slots[s] >= 0 {
            var t = Int(truncatingIfNeeded: slotHashes[s]) & mask
            while newSlots[t] >= 0 { t = (t + 1) & mask }
            newSlots[t] = slots[s]
            newHashes[t] = slotHashes[s]
        }
        slots.deallocate()
        slotHashes.deallocate()
        slots = newSlots
        slotHashes = newHashes
        slotCount = newCount
    }

    /// Key `index` as a `String` (UTF-8, invalid bytes replaced).
    func string(at index: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: arena + offsets[index], count: lengths[index]), as: UTF8.self)
    }
}
