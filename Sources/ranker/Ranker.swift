import ArgumentParser
import Foundation
import Ranker

@main
struct RankerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ranker",
        abstract: "Train multitask ranking models (Shared-Bottom, MMoE, PLE, ESMM) on the CPU.",
        version: RankerVersion.string,
        subcommands: [TrainCommand.self, EvalCommand.self, PredictCommand.self, ExportCommand.self, ReportCommand.self,
                      BenchCommand.self]
    )

    /// Data and schemas are looked for from the current directory, then from
    /// this executable's place (`<repository>/.build/…/ranker`).
    static func main() {
        BLASKernelChoice.relaunchOnFittingKernels()  // OpenBLAS's generic kernels on a CPU it does not know
        if let executable = Bundle.main.executablePath { DataLocation.startingPoints = [executable] }
        main(nil)
    }
}
