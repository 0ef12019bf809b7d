/// Where results go and what is shown while training.
public struct OutputSettings: Codable, Equatable, Sendable {
    public enum Progress: String, ConfigurationEnum {
        /// A progress bar on a terminal, plain periodic lines otherwise.
        case auto
        case bar, lines, none
        /// No progress and no evaluation or event lines on standard output
        /// (for programs that run many trainings and print their own summary);
        /// telemetry is written as always.
        case silent
    }

    /// The run directory (default `runs/<name>`).
    public var directory: String?
    public var progress: Progress = .auto
    /// Write a `step` telemetry line every N steps (evaluations and events always).
    public var telemetryEverySteps: Int = 1
    /// Write `report.html` at the end of the run.
    public var report: Bool = true

    enum CodingKeys: String, CodingKey, CaseIterable {
        case directory, progress, report
        case telemetryEverySteps = "telemetry_every_steps"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try StrictDecoding.container(decoder, CodingKeys.self, section: "output")
        var s = OutputSettings()
        s.directory = try c.decodeChecked(String.self, forKey: .directory)
        s.progress = try c.decode(.progress, default: s.progress)
        s.telemetryEverySteps = try c.decode(.telemetryEverySteps, default: s.telemetryEverySteps)
        s.report = try c.decode(.report, default: s.report)
        self = s
    }
}
