import Foundation

/// A list of seeds written on a command line: comma-separated items, each a
/// seed (`3`) or an inclusive range (`0-4`), in the order written:
///
///     0-4        → 0, 1, 2, 3, 4
///     0,2,5      → 0, 2, 5
///     0-2,7      → 0, 1, 2, 7
///
/// Seeds are unsigned 64-bit integers. Spaces around items are allowed; an
/// empty item, a reversed range (`4-0`), anything that is not a number, and a
/// seed listed twice are errors (`SeedListError`), since every seed names one
/// run and a repeated one would count that run twice in the means. More than
/// `maximumCount` seeds is an error too (each seed is a whole training run).
public enum SeedList {
    /// The most seeds one list may name.
    public static let maximumCount = 1_000

    /// The seeds of `text` in the order written.
    /// - Throws: `SeedListError` naming the offending item.
    public static func parse(_ text: String) throws -> [UInt64] {
        var seeds: [UInt64] = []
        var seen = Set<UInt64>()
        for rawItem in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = rawItem.trimmingCharacters(in: .whitespaces)
            guard !item.isEmpty else { throw SeedListError(text: text, message: "an empty item") }
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            let first: UInt64, last: UInt64
            switch bounds.count {
            case 1:
                first = try number(bounds[0], in: text)
                last = first
            case 2:
                first = try number(bounds[0], in: text)
                last = try number(bounds[1], in: text)
                guard first <= last else {
                    throw SeedListError(text: text, message: "the range \(item) runs backwards (write \(last)-\(first))")
                }
            default:
                throw SeedListError(text: text, message: "\(item) is neither a seed nor a range FIRST-LAST")
            }
            guard last - first < UInt64(maximumCount) - UInt64(seeds.count) else {
                throw SeedListError(text: text, message: "more than \(maximumCount) seeds")
            }
            for seed in first...last {
                guard seen.insert(seed).inserted else {
                    throw SeedListError(text: text, message: "seed \(seed) is listed twice")
                }
                seeds.append(seed)
            }
        }
        return seeds
    }

    private static func number(_ part: Substring, in text: String) throws -> UInt64 {
        let digits = part.trimmingCharacters(in: .whitespaces)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
              let value = UInt64(digits) else {
            throw SeedListError(text: text, message: digits.isEmpty
                                ? "a range needs a seed on both sides of -"
                                : "\(digits) is not a seed (a non-negative integer below 2^64)")
        }
        return value
    }
}

/// A seed list that `SeedList.parse` cannot read: the text and what is wrong with it.
public struct SeedListError: Error, Equatable, CustomStringConvertible {
    public let text: String
    public let message: String

    public var description: String {
        "seed list \"\(text)\": \(message); write seeds and ranges separated by commas, like 0-4 or 0,2,5"
    }
}
