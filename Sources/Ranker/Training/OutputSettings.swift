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
        try StrictDecoding.rejectUnknownKeys(decoder, CodingKeys.self, section: "output")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var s = OutputSettings()
        s.directory = try c.decodeIfPresent(String.self, forKey: .directory)
        s.progress = try c.decodeIfPresent(Progress.self, forKey: .progress) ?? s.progress
        s.telemetryEverySteps = try c.decodeIfPresent(Int.self, forKey: .telemetryEverySteps) ?? s.telemetryEverySteps
        s.report = try c.decodeIfPresent(Bool.self, forKey: .report) ?? s.report
        self = s
    }
}
