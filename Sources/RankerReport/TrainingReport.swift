import Foundation
import Ranker

/// The HTML report of a training run: reads the run directory's
/// `telemetry.jsonl` in one streaming pass and renders one self-contained
/// `report.html` (inline CSS and SVG; no script, font or network access;
/// well-formed XHTML).
///
/// ```swift
/// let url = try TrainingReport.writeReport(runDirectory: runDirectory)
/// ```
/// or, to show the notes (e.g. a truncated last line) before writing:
/// ```swift
/// let report = try TrainingReport(runDirectory: runDirectory)
/// report.notes.forEach { print("note:", $0) }
/// try report.write()
/// ```
///
/// Memory stays bounded for any run length: every series is downsampled
/// while reading (at most 2,000 buckets, min/max envelopes kept).
public struct TrainingReport {
    /// `telemetry.jsonl`
    public static let telemetryFileName = "telemetry.jsonl"
    /// `report.html`
    public static let reportFileName = "report.html"
    /// `config.json` (shown in the report when present)
    public static let configurationFileName = "config.json"

    /// The directory holding the telemetry (and where `write()` puts the report).
    public let runDirectory: URL
    /// Things the reader of the report should know that are not errors: a
    /// truncated last line skipped (crashed run), extra `run` lines (resumed
    /// run), unknown line types. Also shown at the top of the report.
    public let notes: [String]
    /// The complete XHTML document.
    public let html: String

    /// Reads `runDirectory/telemetry.jsonl` (and `config.json` if present) and
    /// renders the report.
    ///
    /// - Throws: `TelemetryLogError` for a missing, unreadable or empty file,
    ///   a malformed line (with its number), or telemetry before the `run` line.
    public init(runDirectory: URL) throws {
        try self.init(telemetryFile: runDirectory.appendingPathComponent(Self.telemetryFileName), generated: Date())
    }

    /// Reads a telemetry file anywhere; `config.json` is looked for beside it.
    public init(telemetryFile: URL) throws {
        try self.init(telemetryFile: telemetryFile, generated: Date())
    }

    init(telemetryFile: URL, generated: Date) throws {
        runDirectory = telemetryFile.deletingLastPathComponent()
        let (summary, reading) = try TrainingRunSummary.read(url: telemetryFile)
        var notes: [String] = []
        if let truncated = reading.truncatedLastLine {
            notes.append("The last line (line \(truncated.line), \(truncated.byteCount) bytes) is incomplete — the run was probably interrupted while writing it — and was skipped.")
        }
        if summary.additionalRunLines > 0 {
            notes.append("The telemetry holds \(summary.additionalRunLines + 1) run lines (the run was resumed); the first one is shown.")
        }
        for (type, count) in reading.unknownTypes.sorted(by: { $0.key < $1.key }) {
            notes.append("\(count) line\(count == 1 ? "" : "s") of unknown type \"\(type)\" ignored.")
        }
        if summary.eventTotal > TrainingRunSummary.eventLimit {
            notes.append("\(summary.eventTotal) stability events; the first \(TrainingRunSummary.eventLimit) are shown.")
        }
        let configurationURL = runDirectory.appendingPathComponent(Self.configurationFileName)
        var configuration: String?
        if let data = try? Data(contentsOf: configurationURL) {
            let limit = 256 * 1024
            let text = String(decoding: data.prefix(limit), as: UTF8.self)
            configuration = data.count > limit ? text + "\n… (\(data.count - limit) more bytes not shown)" : text
        }
        self.notes = notes
        html = TrainingReportDocument(summary: summary, notes: notes, configuration: configuration, generated: generated).render()
    }

    /// Writes the report atomically (temporary file, then rename) to `url`,
    /// by default `runDirectory/report.html`, and returns where it went.
    @discardableResult
    public func write(to url: URL? = nil) throws -> URL {
        let destination = url ?? runDirectory.appendingPathComponent(Self.reportFileName)
        do {
            try Data(html.utf8).write(to: destination, options: .atomic)
        } catch {
            throw TrainingReportWriteError(path: destination.path, reason: error.localizedDescription)
        }
        return destination
    }

    /// Reads `runDirectory/telemetry.jsonl` and writes `runDirectory/report.html`;
    /// returns the report's URL. Used by `ranker report RUN_DIR` and after training.
    @discardableResult
    public static func writeReport(runDirectory: URL) throws -> URL {
        try TrainingReport(runDirectory: runDirectory).write()
    }

    /// After `Trainer.run()` returned `summary`: writes the run's `report.html`
    /// when `output.report` asks for it and the run came to its end (an
    /// interrupted run gets its report when the resumed run ends). A report
    /// that cannot be written does not fail the run: the reason is printed
    /// (unless `output.progress` is `silent`) and returned.
    @discardableResult
    public static func writeAfterRun(_ summary: TrainingSummary, output: OutputSettings) -> Error? {
        guard output.report, summary.stopReason != .interrupted else { return nil }
        do {
            try writeReport(runDirectory: URL(fileURLWithPath: summary.runDirectory))
            return nil
        } catch {
            if output.progress != .silent { print("report.html not written: \(error)") }
            return error
        }
    }
}

/// The report could not be written (directory missing, no permission, disk full).
public struct TrainingReportWriteError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public var description: String { "\(path): cannot write the report: \(reason)" }
}
