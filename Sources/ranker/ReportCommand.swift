import ArgumentParser
import Foundation
import Ranker
import RankerReport

/// `ranker report`: (re)writes a run's report.html from its telemetry.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a run's report.html from its telemetry.jsonl.",
        discussion: """
            Reads telemetry.jsonl (and config.json) of the run directory in one streaming pass and \
            writes a self-contained report.html (inline CSS and SVG charts: losses, task weights, \
            gradient norms and cosines, clipping factors, evaluations, stability events). Works on \
            a run that is still going or that crashed: notes (for example a truncated last line) \
            are printed and shown at the top of the report.
            """
    )

    @OptionGroup var target: RunDirectoryArgument

    @Option(help: ArgumentHelp("Where to write the report (default: report.html in the run directory).", valueName: "file"))
    var out: String?

    func run() throws {
        let report = try TrainingReport(runDirectory: target.directory.url)
        for note in report.notes { print("note: \(note)") }
        let url = try report.write(to: out.map { URL(fileURLWithPath: $0) })
        print("report: \(url.path)")
    }
}
