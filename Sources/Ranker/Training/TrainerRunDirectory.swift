import Foundation

/// The trainer's run directory at the start of a run (see `Trainer`).
extension Trainer {
    /// Creates the run directory (or checks the one a resume continues) and
    /// writes `config.json` and, for CSV data, `encoding.json`.
    func prepareDirectory() throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: runDirectory.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw TrainingError(message: "\(runDirectory.path) exists and is not a directory")
            }
            if !resumed && fm.fileExists(atPath: telemetryURL.path) {
                throw TrainingError(message: "\(runDirectory.path) already holds a run; resume it with --resume, or choose another --out")
            }
        } else {
            if resumed { throw TrainingError(message: "cannot resume: \(runDirectory.path) does not exist") }
            do {
                try fm.createDirectory(at: runDirectory, withIntermediateDirectories: true)
            } catch {
                throw FileIOError(path: runDirectory.path, operation: "mkdir", message: FileIOError.systemMessage(of: error))
            }
        }
        // One process per run directory, for the life of the run (released when `run()` returns).
        directoryLock = try RunDirectoryLock(directory: runDirectory)
        try AtomicFile.write(to: runDirectory.appendingPathComponent("config.json")) { sink in
            try sink.write(Array(configuration.encodedJSON().utf8))
        }
        // CSV data (census, csv sources): how to encode new rows for `ranker predict`.
        if let encoding = DatasetEncoding(dataset: dataset) {
            try encoding.write(to: runDirectory.appendingPathComponent(DatasetEncoding.fileName))
        }
    }
}
