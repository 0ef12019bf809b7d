import ArgumentParser
import Ranker

@main
struct RankerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ranker",
        abstract: "Train multitask ranking models (Shared-Bottom, MMoE, PLE, ESMM) on the CPU.",
        version: RankerVersion.string,
        subcommands: [TrainCommand.self, BenchCommand.self]
    )
}
