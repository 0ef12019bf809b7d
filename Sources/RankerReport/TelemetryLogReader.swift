import Foundation
import Ranker

/// Reads a `telemetry.jsonl` line by line (1 MiB at a time, never the whole
/// file) and hands each decoded record (`TelemetryRecord`, the type the
/// trainer writes) to a closure.
///
/// Line rules:
/// * lines end with `\n` (a `\r` before it is dropped); blank lines are skipped;
/// * a complete line that is not a valid record throws
///   `TelemetryLogError.malformedLine` with its 1-based number;
/// * the **last** line, when it has no terminating newline and is not valid
///   JSON, is the half-written line of a crashed run: it is skipped and
///   reported in `Summary.truncatedLastLine` instead of throwing;
/// * the first record must be the `run` line (`missingRunLine` otherwise);
///   a file without any record throws `TelemetryLogError.empty`.
public struct TelemetryLogReader {
    /// What a pass over the file saw besides the records.
    public struct Summary {
        /// Number of lines read (including blank and truncated ones).
        public var lineCount = 0
        /// Number of records handed to the closure.
        public var recordCount = 0
        /// The skipped half-written last line: its number and byte length.
        public var truncatedLastLine: (line: Int, byteCount: Int)?
        /// Lines with a `"type"` this reader does not know, by type.
        public var unknownTypes: [String: Int] = [:]
    }

    /// Where a record came from, to name it in errors found after decoding.
    public struct LineContext {
        public var path: String
        /// 1-based line number.
        public var number: Int
        public var excerpt: String

        public func malformed(_ reason: String) -> TelemetryLogError {
            .malformedLine(path: path, line: number, reason: reason, excerpt: excerpt)
        }
    }

    public let url: URL
    /// Bytes read per system call.
    public var chunkSize = 1 << 20
    private let decoder = JSONDecoder()

    public init(url: URL) {
        self.url = url
    }

    /// Streams every record through `body(record, line)` in file order.
    @discardableResult
    public func forEachRecord(_ body: (TelemetryRecord, LineContext) throws -> Void) throws -> Summary {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw TelemetryLogError.missingFile(path: path) }
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw TelemetryLogError.unreadable(path: path, reason: error.localizedDescription)
        }
        defer { try? handle.close() }

        var summary = Summary()
        var pending: [UInt8] = []   // bytes of the line being assembled
        var lineNumber = 0
        var sawRun = false

        func handleLine(_ bytes: ArraySlice<UInt8>, terminated: Bool) throws {
            lineNumber += 1
            summary.lineCount = lineNumber
            var line = bytes
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
            let record: TelemetryRecord
            do {
                record = try decoder.decode(TelemetryRecord.self, from: Data(line))
            } catch let error as DecodingError {
                if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
                    // Not JSON: the half-written last line of a crashed run, or an error.
                    if !terminated {
                        summary.truncatedLastLine = (line: lineNumber, byteCount: line.count)
                        return
                    }
                    throw malformed(line, lineNumber, "not valid JSON (\(Self.reason(context)))")
                }
                throw malformed(line, lineNumber, Self.recordPrefix(line) + Self.describe(error))
            } catch let error as TelemetryFieldError {
                throw malformed(line, lineNumber, Self.recordPrefix(line) + error.description)
            }
            let excerpt = Self.excerpt(line)
            if case .run = record {
                sawRun = true
            } else if !sawRun {
                throw TelemetryLogError.missingRunLine(path: path, line: lineNumber)
            }
            if case .unknown(let type) = record { summary.unknownTypes[type, default: 0] += 1 }
            summary.recordCount += 1
            try body(record, LineContext(path: path, number: lineNumber, excerpt: excerpt))
        }

        while true {
            let chunk: Data
            do {
                chunk = try handle.read(upToCount: chunkSize) ?? Data()
            } catch {
                throw TelemetryLogError.unreadable(path: path, reason: error.localizedDescription)
            }
            if chunk.isEmpty { break }
            pending.append(contentsOf: chunk)
            var lineStart = 0
            while let newline = pending[lineStart...].firstIndex(of: UInt8(ascii: "\n")) {
                try handleLine(pending[lineStart..<newline], terminated: true)
                lineStart = newline + 1
            }
            pending.removeFirst(lineStart)
        }
        if !pending.isEmpty { try handleLine(pending[...], terminated: false) }
        if summary.recordCount == 0 { throw TelemetryLogError.empty(path: path) }
        return summary
    }

    private func malformed(_ line: ArraySlice<UInt8>, _ number: Int, _ reason: String) -> TelemetryLogError {
        .malformedLine(path: url.path, line: number, reason: reason, excerpt: Self.excerpt(line))
    }

    /// What the JSON parser said, as briefly as it says it.
    private static func reason(_ context: DecodingError.Context) -> String {
        (context.underlyingError.map { "\($0)" } ?? context.debugDescription)
    }

    /// A decoding error of a line that is JSON: the line is not an object, or
    /// a field has the wrong type (records report their own field errors as
    /// `TelemetryFieldError`).
    private static func describe(_ error: DecodingError) -> String {
        func field(_ path: [CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(_, let context) where context.codingPath.isEmpty:
            return "expected a JSON object"
        case .typeMismatch(let type, let context):
            return "field \"\(field(context.codingPath))\": expected \(type)"
        case .valueNotFound(let type, let context):
            return "field \"\(field(context.codingPath))\": expected \(type), got null"
        case .keyNotFound(let key, _):
            return "missing field \"\(key.stringValue)\""
        case .dataCorrupted(let context):
            return "field \"\(field(context.codingPath))\": \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    /// `step line: ` for a line whose `"type"` is readable, else nothing.
    private static func recordPrefix(_ line: ArraySlice<UInt8>) -> String {
        struct TypeOnly: Decodable { var type: String }
        guard let type = try? JSONDecoder().decode(TypeOnly.self, from: Data(line)).type else { return "" }
        return "\(type) line: "
    }

    /// The first 80 characters of a line (invalid UTF-8 replaced), for error messages.
    static func excerpt(_ line: ArraySlice<UInt8>) -> String {
        let text = String(decoding: line.prefix(240), as: UTF8.self)
        return text.count > 80 ? String(text.prefix(80)) + "…" : text
    }
}
