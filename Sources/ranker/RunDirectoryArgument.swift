import ArgumentParser
import Foundation
import Ranker

/// The run directory a command works on (shared by `eval` and `report`).
struct RunDirectoryArgument: ParsableArguments {
    @Argument(help: "Run directory written by `ranker train` (holds config.json, telemetry.jsonl, …).")
    var runDirectory: String

    var directory: RunDirectory { RunDirectory(path: runDirectory) }

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: runDirectory, isDirectory: &isDirectory) else {
            throw ValidationError("\(runDirectory) does not exist")
        }
        guard isDirectory.boolValue else { throw ValidationError("\(runDirectory) is not a directory") }
    }
}

/// Which weights of a run to use (shared by `eval` and `export`).
struct WeightsOption: ParsableArguments {
    @Option(help: "Weights of the run: best (best.safetensors, the best valid state) or last (checkpoint.safetensors).")
    var weights: RunDirectory.Weights?
}

/// The file of `weights` in `directory`, or an error that says what else there is.
func weightsFile(_ weights: RunDirectory.Weights, in directory: RunDirectory) throws -> URL {
    let url = directory.weightsURL(weights)
    guard FileManager.default.fileExists(atPath: url.path) else {
        if weights == .best {
            throw CommandError("\(url.path) does not exist: the run made no evaluation on a valid split "
                               + "(use --weights last for the checkpoint)")
        }
        throw CommandError("\(url.path) does not exist: the run has not written a checkpoint")
    }
    return url
}
