import Foundation

/// Appends telemetry records to a run's `telemetry.jsonl`, one JSON object
/// per line (TELEMETRY.md; keys sorted, so every line of a type has the same
/// layout). Buffered; `flush()` at evaluations, events and the end of the run.
public final class TelemetryWriter {
    public let url: URL
    private let handle: FileHandle
    private var buffer = Data()
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Opens `url` for appending (creates it when absent).
    public init(url: URL) throws {
        self.url = url
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw FileIOError(path: url.path, operation: "create", message: "cannot create the telemetry file")
            }
        }
        do {
            handle = try FileHandle(forUpdating: url)
            // A crash can leave a half-written last line; cut it off before appending.
            let contents = try handle.readToEnd() ?? Data()
            if let last = contents.last, last != 0x0A {
                let keep = contents.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
                try handle.truncate(atOffset: UInt64(keep))
            }
            try handle.seekToEnd()
        } catch {
            throw FileIOError(path: url.path, operation: "open", message: "\(error.localizedDescription)")
        }
    }

    deinit { try? flush() }

    /// Appends `record` as one line.
    public func write(_ record: TelemetryRecord) {
        do {
            buffer.append(try encoder.encode(record))
        } catch {
            // Records write non-finite numbers as null: nothing else can fail.
            preconditionFailure("telemetry record not encodable: \(error)")
        }
        buffer.append(0x0A)
        if buffer.count > 1 << 20 { try? flush() }
    }

    public func flush() throws {
        if buffer.isEmpty { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw FileIOError(path: url.path, operation: "write", message: "\(error.localizedDescription)")
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
