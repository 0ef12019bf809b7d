import Foundation

/// What a data file was when a run trained on it: its path, its size in bytes
/// and the FNV-1a-64 hash of its bytes (plain or gzip, as stored). `ranker
/// eval` compares the files it reads with these, so that metrics of a file
/// that changed since training (rows shuffled, appended, replaced) come with
/// a warning instead of silently.
///
/// A run directory keeps them in `data-fingerprints.json`:
///
/// ```json
/// {"format": "ranker-data-fingerprints/1",
///  "files": [{"path": "/data/train.csv", "size": 1048576, "fnv1a64": "85944171f73967e8"}]}
/// ```
public struct DataFileFingerprint: Codable, Equatable, Sendable {
    /// The path as the run resolved it.
    public var path: String
    public var size: UInt64
    /// FNV-1a-64 of the file's bytes, 16 lower-case hexadecimal digits.
    public var fnv1a64: String

    enum CodingKeys: String, CodingKey, CaseIterable { case path, size, fnv1a64 }

    public init(path: String, size: UInt64, fnv1a64: String) {
        self.path = path
        self.size = size
        self.fnv1a64 = fnv1a64
    }

    public init(from decoder: Decoder) throws {
        let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "data fingerprint")
        self.init(path: try c.decode(String.self, forKey: .path), size: try c.decode(UInt64.self, forKey: .size),
                  fnv1a64: try c.decode(String.self, forKey: .fnv1a64))
    }

    /// The fingerprint of the file at `path` now, read in 1 MiB chunks.
    ///
    /// - Throws: `DataError.cannotOpen` / `.readFailed` naming the file.
    public static func of(path: String) throws -> DataFileFingerprint {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DataError(file: path, problem: .cannotOpen(reason: "no such file, or not readable"))
        }
        defer { try? handle.close() }
        var hash = FNV1a.offsetBasis
        var size: UInt64 = 0
        while true {
            let chunk: Data
            do {
                chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            } catch {
                throw DataError(file: path, problem: .readFailed(reason: error.localizedDescription))
            }
            if chunk.isEmpty { break }
            size += UInt64(chunk.count)
            chunk.withUnsafeBytes { raw in
                for byte in raw { hash = (hash ^ UInt64(byte)) &* FNV1a.prime }
            }
        }
        let digits = String(hash, radix: 16)
        return DataFileFingerprint(path: path, size: size,
                                   fnv1a64: String(repeating: "0", count: 16 - digits.count) + digits)
    }

    /// How the file at the same path differs now (`size 1048576 → 1048577
    /// bytes`, `same size, hash 85944171f73967e8 → 0cbf29ce48422232`), or nil
    /// when it is unchanged.
    public func difference(from now: DataFileFingerprint) -> String? {
        if now.size != size { return "size \(size) → \(now.size) bytes" }
        if now.fnv1a64 != fnv1a64 { return "same size, content hash \(fnv1a64) → \(now.fnv1a64)" }
        return nil
    }
}

/// The fingerprints of a run's data files (`data-fingerprints.json`).
public struct DataFingerprints: Codable, Equatable, Sendable {
    /// The value of `format`.
    public static let formatIdentifier = "ranker-data-fingerprints/1"
    /// The file name in a run directory.
    public static let fileName = "data-fingerprints.json"

    public var files: [DataFileFingerprint]

    enum CodingKeys: String, CodingKey, CaseIterable { case format, files }

    public init(files: [DataFileFingerprint]) { self.files = files }

    public init(from decoder: Decoder) throws {
        let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "data fingerprints")
        try StrictDecoding.expectFormat(Self.formatIdentifier, at: .format, in: c)
        files = try c.decode([DataFileFingerprint].self, forKey: .files)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Self.formatIdentifier, forKey: .format)
        try c.encode(files, forKey: .files)
    }

    /// The fingerprints of `paths`, now.
    public static func of(paths: [String]) throws -> DataFingerprints {
        DataFingerprints(files: try paths.map(DataFileFingerprint.of(path:)))
    }

    /// One line per file of `current` (the files read now, in the run's
    /// order) that differs from the one recorded at the same position:
    /// `<path>: <difference> since the run trained on it` (or another path,
    /// or a file the run did not have).
    public func differences(from current: DataFingerprints) -> [String] {
        current.files.enumerated().compactMap { index, now in
            guard index < files.count else { return "\(now.path): the run did not train on this file" }
            let recorded = files[index]
            if recorded.path != now.path {
                return "\(now.path): the run trained on \(recorded.path) in its place"
                    + (recorded.difference(from: now).map { " (\($0))" } ?? "")
            }
            return recorded.difference(from: now).map { "\(now.path): \($0) since the run trained on it" }
        }
    }
}
