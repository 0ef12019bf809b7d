import ArgumentParser
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
}
