import Foundation

/// The files of a run directory (TELEMETRY.md) and what the commands that
/// work on a finished run (`ranker eval`, `predict`, `export`, `report`)
/// read from it.
///
/// | file | written by |
/// |---|---|
/// | `config.json` | `Trainer`: the resolved `RunConfiguration` |
/// | `encoding.json` | `Trainer`, for CSV data: the `DatasetEncoding` |
/// | `checkpoint.safetensors` | `Trainer`: the last state (`Checkpoint`) |
/// | `best.safetensors` | `Trainer`: the best valid weights (`ModelExport`) |
/// | `telemetry.jsonl` | `Trainer`: `TelemetryRecord` lines (TELEMETRY.md) |
/// | `report.html` | after the run, by its caller (`ranker train`, `ranker report`: RankerReport) |
/// | `data-fingerprints.json` | `ranker train`, for data read from files: `DataFingerprints` |
public struct RunDirectory: Sendable {
    /// Which weights of a run to use.
    public enum Weights: String, Codable, Sendable, CaseIterable {
        /// `best.safetensors`: the state with the best mean valid AUC.
        case best
        /// The model tensors of `checkpoint.safetensors`: the last state.
        case last
    }

    public let url: URL

    public init(url: URL) { self.url = url }
    public init(path: String) { url = URL(fileURLWithPath: path) }

    public var configurationURL: URL { url.appendingPathComponent("config.json") }
    public var encodingURL: URL { url.appendingPathComponent(DatasetEncoding.fileName) }
    public var checkpointURL: URL { url.appendingPathComponent("checkpoint.safetensors") }
    public var bestURL: URL { url.appendingPathComponent("best.safetensors") }
    public var telemetryURL: URL { url.appendingPathComponent("telemetry.jsonl") }
    public var reportURL: URL { url.appendingPathComponent("report.html") }
    public var fingerprintsURL: URL { url.appendingPathComponent(DataFingerprints.fileName) }

    /// Writes the fingerprints of the files `data` reads (`RunData.dataFiles`)
    /// unless the directory has them already (a resumed run keeps those of
    /// its start); nothing for synthetic data.
    ///
    /// - Throws: `DataError` for an unreadable file, `FileIOError`.
    public func recordDataFingerprints(of data: DataConfiguration) throws {
        let files = try RunData.dataFiles(data)
        guard !files.isEmpty, !FileManager.default.fileExists(atPath: fingerprintsURL.path) else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let text = try encoder.encode(DataFingerprints.of(paths: files))
        try AtomicFile.write(to: fingerprintsURL) { sink in try sink.write(Array(text)) }
    }

    /// The recorded fingerprints, or nil when the run has none (synthetic
    /// data, or a run trained before they were recorded).
    ///
    /// - Throws: `RunConfigurationError` naming the file when it is unusable.
    public func dataFingerprints() throws -> DataFingerprints? {
        guard FileManager.default.fileExists(atPath: fingerprintsURL.path) else { return nil }
        return try decodeConfigurationFile(DataFingerprints.self, path: fingerprintsURL.path)
    }

    /// The file holding `weights`.
    public func weightsURL(_ weights: Weights) -> URL {
        weights == .best ? bestURL : checkpointURL
    }

    /// The run configuration (`config.json`).
    ///
    /// - Throws: `RunConfigurationError` naming the file.
    public func configuration() throws -> RunConfiguration {
        try RunConfiguration.load(path: configurationURL.path)
    }

    /// The data encoding (`encoding.json`), or nil when the run has none
    /// (synthetic data).
    ///
    /// - Throws: `DatasetEncodingError` for a file that is there but unusable.
    public func encoding() throws -> DatasetEncoding? {
        guard FileManager.default.fileExists(atPath: encodingURL.path) else { return nil }
        return try DatasetEncoding.load(path: encodingURL.path)
    }

    /// The model configuration of a run: from `encoding.json` when there is
    /// one (no data is read), else from the data the configuration names
    /// (`RunData.load`).
    public func modelConfiguration(for configuration: RunConfiguration) throws -> ModelConfiguration {
        if let encoding = try encoding() {
            return try RunData.modelConfiguration(configuration.model, for: encoding)
        }
        return try RunData.modelConfiguration(configuration.model, for: RunData.load(configuration.data))
    }
}
