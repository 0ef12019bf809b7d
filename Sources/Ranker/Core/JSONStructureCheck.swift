/// A JSON text checked before it is decoded, for the two mistakes that
/// `JSONDecoder` reports badly or not at all: a syntax error (the decoder
/// says only "not valid JSON"; this says the line, the column and what was
/// expected there) and a key written twice in one object (the decoder
/// silently keeps one of the values; this names the key and its path).
///
/// The check walks the text once without building values; it follows RFC
/// 8259 (objects, arrays, strings with their escapes, numbers, `true`,
/// `false`, `null`, whitespace), and lines and columns are 1-based, columns
/// counted in bytes.
public struct JSONStructureError: Error, Equatable, CustomStringConvertible {
    /// 1-based line of the problem.
    public let line: Int
    /// 1-based byte column of the problem in its line.
    public let column: Int
    /// The key path of the value being read (`training.epochs`), empty at the top.
    public let path: String
    /// What is wrong, and what was expected.
    public let message: String

    public var description: String {
        "line \(line), column \(column)" + (path.isEmpty ? "" : " (\(path))") + ": \(message)"
    }
}

/// The checker behind `JSONStructureError` (see there).
public enum JSONStructureCheck {
    /// Throws the first syntax error or repeated key of `bytes`.
    public static func check(_ bytes: [UInt8]) throws {
        var scanner = Scanner(bytes: bytes)
        scanner.skipWhitespace()
        try scanner.value(path: [])
        scanner.skipWhitespace()
        if scanner.index < bytes.count { throw scanner.error("expected the end of the text after the value", path: []) }
    }

    /// One component of a key path: an object key or an array index.
    enum PathComponent {
        case key(String)
        case index(Int)
    }

    static func pathString(_ path: [PathComponent]) -> String {
        var text = ""
        for component in path {
            switch component {
            case .key(let key): text += text.isEmpty ? key : ".\(key)"
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }

    struct Scanner {
        let bytes: [UInt8]
        var index = 0
        var line = 1
        var lineStart = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        func error(_ message: String, path: [PathComponent]) -> JSONStructureError {
            JSONStructureError(line: line, column: index - lineStart + 1, path: JSONStructureCheck.pathString(path),
                               message: message)
        }

        /// The byte at the current position, shown for a message (`the end of
        /// the text` past the end; a control or non-ASCII byte as `\xNN`).
        var shownByte: String {
            guard index < bytes.count else { return "the end of the text" }
            return "\"" + DiagnosticText.visible(byte: bytes[index]) + "\""
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0D: index += 1
                case 0x0A:
                    index += 1
                    line += 1
                    lineStart = index
                default: return
                }
            }
        }

        mutating func value(path: [PathComponent]) throws {
            guard index < bytes.count else { throw error("expected a value, found the end of the text", path: path) }
            switch bytes[index] {
            case UInt8(ascii: "{"): try object(path: path)
            case UInt8(ascii: "["): try array(path: path)
            case UInt8(ascii: "\""): _ = try string(path: path)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number(path: path)
            case UInt8(ascii: "t"): try literal("true", path: path)
            case UInt8(ascii: "f"): try literal("false", path: path)
            case UInt8(ascii: "n"): try literal("null", path: path)
            default: throw error("expected a value (object, array, string, number, true, false or null), found \(shownByte)", path: path)
            }
        }

        mutating func object(path: [PathComponent]) throws {
            index += 1
            var seen = Set<String>()
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "}") { index += 1; return }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                    throw error("expected a key in quotes, found \(shownByte)", path: path)
                }
                let keyLine = line, keyColumn = index - lineStart + 1
                let key = try string(path: path)
                guard seen.insert(key).inserted else {
                    throw JSONStructureError(line: keyLine, column: keyColumn,
                                             path: JSONStructureCheck.pathString(path + [.key(key)]),
                                             message: "the key \"\(DiagnosticText.visible(key))\" appears twice in one object; keep one")
                }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                    throw error("expected \":\" after the key \"\(DiagnosticText.visible(key))\", found \(shownByte)", path: path)
                }
                index += 1
                skipWhitespace()
                try value(path: path + [.key(key)])
                skipWhitespace()
                guard index < bytes.count else { throw error("expected \",\" or \"}\", found the end of the text", path: path) }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return }
                throw error("expected \",\" or \"}\" after a value, found \(shownByte)", path: path)
            }
        }

        mutating func array(path: [PathComponent]) throws {
            index += 1
            skipWhitespace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "]") { index += 1; return }
            var count = 0
            while true {
                skipWhitespace()
                try value(path: path + [.index(count)])
                count += 1
                skipWhitespace()
                guard index < bytes.count else { throw error("expected \",\" or \"]\", found the end of the text", path: path) }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return }
                throw error("expected \",\" or \"]\" after a value, found \(shownByte)", path: path)
            }
        }

        /// Reads a string (the position is at its opening quote) and returns its text.
        mutating func string(path: [PathComponent]) throws -> String {
            index += 1
            var text: [UInt8] = []
            while true {
                guard index < bytes.count else { throw error("a string is not closed before the end of the text", path: path) }
                let b = bytes[index]
                if b == UInt8(ascii: "\"") { index += 1; return String(decoding: text, as: UTF8.self) }
                if b < 0x20 { throw error("a control character (\(shownByte)) inside a string must be escaped", path: path) }
                if b == UInt8(ascii: "\\") {
                    index += 1
                    guard index < bytes.count else { throw error("a string is not closed before the end of the text", path: path) }
                    switch bytes[index] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                         UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        text.append(bytes[index])
                        index += 1
                    case UInt8(ascii: "u"):
                        let digits = bytes[(index + 1)...].prefix(4)
                        guard digits.count == 4, digits.allSatisfy({ hexValue($0) != nil }) else {
                            throw error("expected four hexadecimal digits after \\u", path: path)
                        }
                        text.append(contentsOf: bytes[index...(index + 4)])
                        index += 5
                    default:
                        throw error("unknown escape \\\(String(decoding: [bytes[index]], as: UTF8.self)) in a string", path: path)
                    }
                    continue
                }
                text.append(b)
                index += 1
            }
        }

        mutating func number(path: [PathComponent]) throws {
            func digits() -> Int {
                let begin = index
                while index < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                return index - begin
            }
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            let leadingZero = index < bytes.count && bytes[index] == UInt8(ascii: "0")
            let integerDigits = digits()
            if integerDigits == 0 { throw error("expected a digit, found \(shownByte)", path: path) }
            if leadingZero && integerDigits > 1 { throw error("a number cannot start with 0 followed by digits", path: path) }
            if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
                index += 1
                if digits() == 0 { throw error("expected a digit after the decimal point, found \(shownByte)", path: path) }
            }
            if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
                index += 1
                if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) { index += 1 }
                if digits() == 0 { throw error("expected a digit in the exponent, found \(shownByte)", path: path) }
            }
        }

        mutating func literal(_ word: String, path: [PathComponent]) throws {
            let expected = Array(word.utf8)
            guard bytes[index...].starts(with: expected) else {
                throw error("expected \(word), found \(shownByte)", path: path)
            }
            index += expected.count
        }

        func hexValue(_ b: UInt8) -> UInt8? {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"): return b
            default: return nil
            }
        }
    }
}
