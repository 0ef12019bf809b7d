import Foundation

/// libFuzzer target `telemetry`: RankerReport's telemetry reader.
///
/// The input is the bytes of a `telemetry.jsonl`. They are written to a file
/// in a private directory (no `config.json` beside it) and read by
/// `TelemetryLogReader.forEachRecord` with a small chunk size derived from the
/// input length (1…61 bytes, so lines straddle reads and the carry-over code
/// runs), decoding every line as the core's `TelemetryRecord`. A file the
/// reader accepts is then turned into the HTML report
/// (`TrainingReport(telemetryFile:)`: `TrainingRunSummary`, charts,
/// bucketing), as `ranker report` does. Errors are expected and ignored;
/// crashes and sanitizer reports are findings.
@_cdecl("ranker_fuzz_telemetry")
public func telemetryFuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let url = FuzzSupport.write(UnsafeRawBufferPointer(start: data, count: size), to: "telemetry.jsonl")
    var reader = TelemetryLogReader(url: url)
    reader.chunkSize = 1 + size % 61
    var records = 0
    let summary = try? reader.forEachRecord { _, line in
        records += 1
        _ = line.malformed("fuzz")
    }
    if summary != nil, let report = try? TrainingReport(telemetryFile: url) {
        _ = report.html.utf8.count
    }
    return 0
}
