import Foundation

/// libFuzzer target `checkpoint`: the safetensors / checkpoint reader.
///
/// The input is the bytes of a checkpoint file. They are written to a file
/// (the reader works on a file descriptor with `pread`) and read with
/// `SafeTensorsReader` (8-byte header length, JSON header, tensor table,
/// bounds and overlap checks), every tensor is read (`readAllMatrices`), then
/// `Checkpoint.read(from:)` (format check) and the metadata accessors the
/// trainer uses on resume (`step`, `epoch`, `randomGenerator`,
/// `optimizerScalarState`, the stored run configuration). Errors are expected
/// and ignored; crashes and sanitizer reports are findings.
///
/// With `RANKER_FUZZ_WRITE_SEEDS=dir` the first call writes a small valid
/// checkpoint made by the library's own writer (`Checkpoint.write`) into dir.
@_cdecl("ranker_fuzz_checkpoint")
public func checkpointFuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    CheckpointFuzz.writeSeedOnce
    let url = FuzzSupport.write(UnsafeRawBufferPointer(start: data, count: size), to: "checkpoint.safetensors")
    if let reader = try? SafeTensorsReader(url: url) {
        _ = reader.tensorNames
        _ = reader.metadata
        for name in reader.tensorNames { _ = try? reader.matrixEntry(named: name) }
        _ = try? reader.readAllMatrices()
    }
    if let checkpoint = try? Checkpoint.read(from: url) {
        _ = try? checkpoint.step()
        _ = try? checkpoint.epoch()
        _ = try? checkpoint.randomGenerator()
        _ = try? checkpoint.optimizerScalarState()
        if let text = try? checkpoint.string(forKey: Checkpoint.Key.configuration) {
            _ = try? decodeConfiguration(RunConfiguration.self, data: Data(text.utf8), file: "checkpoint")
        }
        _ = checkpoint.deepCopy()
    }
    return 0
}

enum CheckpointFuzz {
    static let writeSeedOnce: Void = {
        guard let directory = FuzzSupport.seedDirectory else { return }
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let weights = Matrix(rows: 2, cols: 3)
        weights.copy(from: [0.5, -1, 2, 0.25, 0, -3])
        let bias = Matrix(rows: 1, cols: 3)
        bias.copy(from: [0.1, 0.2, 0.3])
        let accumulator = Matrix(rows: 2, cols: 3)
        accumulator.fill(0.1)
        var checkpoint = Checkpoint(tensors: [Checkpoint.Prefix.model + "towers.0.W": weights,
                                              Checkpoint.Prefix.model + "towers.0.b": bias,
                                              Checkpoint.Prefix.optimizer + "towers.0.W": accumulator])
        checkpoint.metadata[Checkpoint.Key.format] = Checkpoint.formatIdentifier
        checkpoint.metadata[Checkpoint.Key.configuration] = RunConfiguration.default.encodedJSON()
        do {
            try checkpoint.encode(12, forKey: Checkpoint.Key.step)
            try checkpoint.encode(1, forKey: Checkpoint.Key.epoch)
            try checkpoint.encode(RandomGenerator(seed: 7), forKey: Checkpoint.Key.randomGenerator)
            try checkpoint.write(to: directory.appendingPathComponent("library-checkpoint.safetensors"))
            // A bare safetensors file (no ranker metadata), also from the library's writer.
            try SafeTensorsWriter.write(tensors: [(name: "w", value: weights)], metadata: [:],
                                        to: directory.appendingPathComponent("library-plain.safetensors"))
        } catch {
            fatalError("cannot write the checkpoint seeds: \(error)")
        }
    }()
}
