import Foundation

/// Appends telemetry records to a run's `telemetry.jsonl`, one JSON object
/// per line (TELEMETRY.md; keys sorted, so every line of a type has the same
/// layout). Buffered; the trainer flushes at evaluations, at the end of the
/// run and — with `synchronize()` — before every checkpoint becomes visible,
/// so the offset a checkpoint records (`fileSize`) is on disk.
public final class TelemetryWriter {
    public let url: URL
    private let handle: FileHandle
    private var buffer = Data()
    /// Bytes in the file (everything flushed so far): a checkpoint records it
    /// right after a flush, as the offset a resume cuts the file back to.
    public private(set) var fileSize: Int = 0
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Opens `url` for appending (creates it when absent).
    ///
    /// - Parameter offset: when given, the file is first cut back to this
    ///   many bytes (a resumed run cuts it to the size recorded in its
    ///   checkpoint, so that lines written after the checkpoint — which the
    ///   resumed run writes again — are not doubled). Without it, only a
    ///   half-written last line is cut off. A file shorter than `offset`
    ///   (lines lost) is kept as it is.
    public init(url: URL, truncatingTo offset: Int? = nil) throws {
        self.url = url
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw FileIOError(path: url.path, operation: "create", message: "cannot create the telemetry file")
            }
        }
        do {
            handle = try FileHandle(forUpdating: url)
            let size = Int(try handle.seekToEnd())
            if let offset, offset < size {
                try handle.truncate(atOffset: UInt64(offset))
            } else if offset == nil {
                // A crash can leave a half-written last line; cut it off before appending.
                try handle.seek(toOffset: 0)
                let contents = try handle.readToEnd() ?? Data()
                if let last = contents.last, last != 0x0A {
                    let keep = contents.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
                    try handle.truncate(atOffset: UInt64(keep))
                }
            }
            fileSize = Int(try handle.seekToEnd())
        } catch {
            throw FileIOError(path: url.path, operation: "open", message: FileIOError.systemMessage(of: error))
        }
    }

    deinit { try? flush() }

    /// Appends `record` as one line. Past 1 MiB of buffered lines the buffer
    /// is written to the file.
    ///
    /// - Throws: `FileIOError` when that write fails (a full disk, an I/O
    ///   error): the lines stay buffered, and the caller must stop the run
    ///   rather than go on with a telemetry that lost lines.
    public func write(_ record: TelemetryRecord) throws {
        do {
            buffer.append(try encoder.encode(record))
        } catch {
            // Records write non-finite numbers as null: nothing else can fail.
            preconditionFailure("telemetry record not encodable: \(error)")
        }
        buffer.append(0x0A)
        if buffer.count > 1 << 20 { try flush() }
    }

    public func flush() throws {
        if buffer.isEmpty { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw FileIOError(path: url.path, operation: "write", message: FileIOError.systemMessage(of: error))
        }
        fileSize += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, then `fsync`s the file: its lines survive a crash of the machine.
    public func synchronize() throws {
        try flush()
        do {
            try handle.synchronize()
        } catch {
            throw FileIOError(path: url.path, operation: "fsync", message: FileIOError.systemMessage(of: error))
        }
    }
}
