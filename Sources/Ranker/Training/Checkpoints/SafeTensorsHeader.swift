import Foundation

/// One tensor of a safetensors file: its name, element type, shape and the
/// byte range `[begin, end)` of its data, relative to the start of the byte
/// buffer that follows the header.
public struct SafeTensorsEntry: Equatable, Sendable {
    public var name: String
    public var dtype: SafeTensorsDType
    public var shape: [Int]
    public var begin: Int
    public var end: Int

    public init(name: String, dtype: SafeTensorsDType, shape: [Int], begin: Int, end: Int) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.begin = begin
        self.end = end
    }

    /// `end − begin`.
    public var byteCount: Int { end - begin }

    /// Product of the shape (`1` for a scalar, shape `[]`), or `nil` on overflow.
    public var elementCount: Int? {
        var n = 1
        for d in shape {
            let (product, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = product
        }
        return n
    }
}

/// The header of a safetensors file.
///
/// File layout (all integers little-endian):
///
///     [8 bytes]  N, the header length (UInt64)
///     [N bytes]  UTF-8 JSON object (padded with spaces so that 8 + N is a multiple of 8):
///                {"__metadata__": {"key": "value", …},
///                 "<name>": {"dtype": "F32", "shape": [r, c], "data_offsets": [begin, end]}, …}
///     [rest]     the byte buffer: every tensor's raw little-endian elements, row-major,
///                at [begin, end) relative to the start of the buffer
///
/// A valid file (what `decode` checks): `2 ≤ N ≤ 100 000 000` and the header
/// fits in the file; the header is UTF-8 and a JSON object; `__metadata__`, if
/// present, maps strings to strings; every other key is a non-empty tensor
/// name whose value has exactly the fields `dtype` (a known type), `shape`
/// (non-negative integers) and `data_offsets` (two integers,
/// `0 ≤ begin ≤ end ≤ buffer size`); `product(shape) × size(dtype) = end − begin`,
/// computed with overflow checks;
/// and the tensors, ordered by offset, tile the buffer exactly: no overlap, no
/// gap, no trailing bytes.
public struct SafeTensorsHeader: Equatable, Sendable {
    /// Largest accepted header (the limit of the reference implementation).
    public static let maximumHeaderLength = 100_000_000
    /// The reserved key of the metadata object.
    public static let metadataKey = "__metadata__"

    /// The `__metadata__` entries (string to string).
    public var metadata: [String: String]
    /// The tensors, ordered by their offset in the byte buffer.
    public var entries: [SafeTensorsEntry]

    public init(metadata: [String: String], entries: [SafeTensorsEntry]) {
        self.metadata = metadata
        self.entries = entries
    }

    /// The entry named `name`, if any.
    public func entry(named name: String) -> SafeTensorsEntry? {
        entries.first { $0.name == name }
    }

    /// Size of the byte buffer the entries describe (the largest `end`).
    public var bufferSize: Int { entries.map(\.end).max() ?? 0 }

    // MARK: encoding

    /// The header JSON in the order given (metadata first, keys sorted;
    /// then the entries in order), padded with spaces so that `8 + N` is a
    /// multiple of 8; `__metadata__` is left out when there is none.
    public func encodedJSON() -> [UInt8] {
        var json = "{"
        var first = true
        if !metadata.isEmpty {
            json += JSONLine.quote(SafeTensorsHeader.metadataKey) + ":{"
            json += metadata.keys.sorted().map { JSONLine.quote($0) + ":" + JSONLine.quote(metadata[$0]!) }
                .joined(separator: ",")
            json += "}"
            first = false
        }
        for e in entries {
            if !first { json += "," }
            first = false
            json += JSONLine.quote(e.name) + ":{\"dtype\":" + JSONLine.quote(e.dtype.rawValue)
                + ",\"shape\":[" + e.shape.map(String.init).joined(separator: ",")
                + "],\"data_offsets\":[\(e.begin),\(e.end)]}"
        }
        json += "}"
        var bytes = Array(json.utf8)
        while (8 + bytes.count) % 8 != 0 { bytes.append(0x20) }
        return bytes
    }

    // MARK: decoding

    /// Parses and validates header bytes.
    ///
    /// - Parameters:
    ///   - bytes: the `N` header bytes.
    ///   - bufferSize: bytes after the header in the file (`file size − 8 − N`).
    ///   - path: the file, for errors.
    /// - Throws: `SafeTensorsError` naming the first problem found.
    public static func decode(_ bytes: [UInt8], bufferSize: Int, path: String) throws -> SafeTensorsHeader {
        func fail(_ problem: SafeTensorsError.Problem) -> SafeTensorsError {
            SafeTensorsError(path: path, problem: problem)
        }
        // Decoding repairs invalid UTF-8 with U+FFFD, so valid bytes are exactly those that survive unchanged.
        guard Array(String(decoding: bytes, as: UTF8.self).utf8) == bytes else { throw fail(.headerNotUTF8) }
        let decoded: DecodedHeader
        do {
            decoded = try JSONDecoder().decode(DecodedHeader.self, from: Data(bytes))
        } catch let problem as HeaderProblem {
            throw fail(problem.problem)
        } catch {
            throw fail(.invalidJSON(SafeTensorsHeader.describe(error)))
        }
        let header = SafeTensorsHeader(metadata: decoded.metadata, entries: decoded.entries.sorted {
            ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name)
        })
        try header.validateLayout(bufferSize: bufferSize, path: path)
        return header
    }

    /// Sizes and tiling of the byte buffer (see the type's documentation);
    /// `entries` must be sorted by offset.
    func validateLayout(bufferSize: Int, path: String) throws {
        func fail(_ problem: SafeTensorsError.Problem) -> SafeTensorsError {
            SafeTensorsError(path: path, problem: problem)
        }
        for e in entries {
            guard e.end <= bufferSize else {
                throw fail(.offsetsOutOfRange(name: e.name, begin: e.begin, end: e.end, bufferSize: bufferSize))
            }
            // Overflow-checked: a shape such as [2^62, 2^62] must not wrap to a small or negative size.
            guard let count = e.elementCount,
                  case let (bytes, overflow) = count.multipliedReportingOverflow(by: e.dtype.byteSize), !overflow else {
                throw fail(.shapeTooLarge(name: e.name, shape: e.shape, dtype: e.dtype.rawValue))
            }
            guard bytes == e.byteCount else {
                throw fail(.sizeMismatch(name: e.name, shape: e.shape, dtype: e.dtype.rawValue,
                                         expectedBytes: bytes, actualBytes: e.byteCount))
            }
        }
        var cursor = 0
        var previous: String?
        for e in entries {
            if e.begin < cursor { throw fail(.overlappingTensors(first: previous!, second: e.name)) }
            if e.begin > cursor { throw fail(.unaccountedBytes(offset: cursor, count: e.begin - cursor)) }
            cursor = e.end
            previous = e.name
        }
        if cursor < bufferSize { throw fail(.trailingBytes(offset: cursor, count: bufferSize - cursor)) }
    }

    /// A short description of a JSON decoding error.
    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context):
            return context.underlyingError.map { "\(context.debugDescription) (\($0.localizedDescription))" }
                ?? context.debugDescription
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
             DecodingError.keyNotFound(_, let context):
            return context.debugDescription
        default:
            return "\(error)"
        }
    }
}

/// A problem found while decoding, before the file's path is attached.
private struct HeaderProblem: Error {
    let problem: SafeTensorsError.Problem
}

private struct AnyKey: CodingKey {
    let stringValue: String
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}

/// The JSON object of the header, decoded field by field so that each
/// malformed entry is reported by name.
private struct DecodedHeader: Decodable {
    var metadata: [String: String] = [:]
    var entries: [SafeTensorsEntry] = []

    init(from decoder: Decoder) throws {
        let container: KeyedDecodingContainer<AnyKey>
        do {
            container = try decoder.container(keyedBy: AnyKey.self)
        } catch {
            throw HeaderProblem(problem: .invalidJSON("the header is not a JSON object"))
        }
        for key in container.allKeys {
            let name = key.stringValue
            if name == SafeTensorsHeader.metadataKey {
                do {
                    metadata = try container.decode([String: String].self, forKey: key)
                } catch {
                    throw HeaderProblem(problem: .invalidMetadata("must be an object whose values are all strings"))
                }
                continue
            }
            entries.append(try DecodedHeader.entry(name, in: container, key: key))
        }
    }

    private static func entry(_ name: String, in container: KeyedDecodingContainer<AnyKey>,
                              key: AnyKey) throws -> SafeTensorsEntry {
        func invalid(_ reason: String) -> HeaderProblem {
            HeaderProblem(problem: .invalidEntry(name: name, reason: reason))
        }
        guard !name.isEmpty else { throw invalid("a tensor name must not be empty") }
        let fields: KeyedDecodingContainer<AnyKey>
        do {
            fields = try container.nestedContainer(keyedBy: AnyKey.self, forKey: key)
        } catch {
            throw invalid("must be an object with dtype, shape and data_offsets")
        }
        let known = ["dtype", "shape", "data_offsets"]
        if let extra = fields.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw invalid("unexpected field \(extra)")
        }
        func field<T: Decodable>(_ field: String, _ type: T.Type, _ what: String) throws -> T {
            guard fields.contains(AnyKey(field)) else { throw invalid("missing field \(field)") }
            do {
                return try fields.decode(T.self, forKey: AnyKey(field))
            } catch {
                throw invalid("\(field) must be \(what)")
            }
        }
        let dtypeName = try field("dtype", String.self, "a string")
        let shape = try field("shape", [Int].self, "an array of integers")
        let offsets = try field("data_offsets", [Int].self, "an array of two integers")
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw HeaderProblem(problem: .unknownDType(name: name, dtype: dtypeName))
        }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw invalid("negative dimension in shape \(shape)") }
        guard offsets.count == 2 else { throw invalid("data_offsets must be [begin, end], got \(offsets)") }
        guard offsets[0] >= 0, offsets[0] <= offsets[1] else {
            throw invalid("data_offsets must satisfy 0 <= begin <= end, got \(offsets)")
        }
        return SafeTensorsEntry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
    }
}
