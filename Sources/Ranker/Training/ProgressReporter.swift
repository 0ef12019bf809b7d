import Foundation

/// Shows training progress on standard error: a progress bar with samples/s
/// and ETA when standard error is a terminal, otherwise a plain line every few
/// seconds (logs stay readable). Messages (evaluations, events) go through
/// `print(_:)`, which clears the bar first (and prints nothing when the
/// setting is `silent`).
public final class ProgressReporter {
    public enum Style { case bar, lines, none }

    public let style: Style
    /// Whether `print(_:)` writes (false for the `silent` setting).
    public let printsMessages: Bool
    private let totalSteps: Int
    private let start = MonotonicClock.now
    private var lastDraw: UInt64 = 0
    private var samples = 0
    private var barVisible = false
    /// Seconds between plain lines.
    private let lineInterval: Double

    /// - Parameters:
    ///   - setting: `auto` picks `bar` on a terminal, `lines` otherwise.
    ///   - totalSteps: steps of the whole run (for the percentage and ETA).
    public init(setting: OutputSettings.Progress, totalSteps: Int, lineInterval: Double = 5) {
        switch setting {
        case .auto: style = isatty(STDERR_FILENO) != 0 ? .bar : .lines
        case .bar: style = .bar
        case .lines: style = .lines
        case .none, .silent: style = .none
        }
        printsMessages = setting != .silent
        self.totalSteps = max(totalSteps, 1)
        self.lineInterval = lineInterval
    }

    /// Reports that `step` (1-based count of steps done) finished with `batchSize` examples.
    public func update(step: Int, batchSize: Int, epoch: String, loss: Double) {
        samples += batchSize
        if style == .none { return }
        let now = MonotonicClock.now
        let sinceDraw = Double(now - lastDraw) / 1e9
        let elapsed = Double(now - start) / 1e9
        let rate = elapsed > 0 ? Double(samples) / elapsed : 0
        let fraction = min(1, Double(step) / Double(totalSteps))
        let eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0
        switch style {
        case .bar:
            if sinceDraw < 0.1 && step < totalSteps { return }
            let width = 28
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "")
                + String(repeating: " ", count: max(0, width - filled - 1))
            let line = String(format: "\r[%@] %3.0f%% %@ step %d/%d  %@ samples/s  ETA %@  loss %.4f",
                              bar, fraction * 100, epoch, step, totalSteps, formatRate(rate), formatDuration(eta), loss)
            FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
            barVisible = true
        case .lines:
            if sinceDraw < lineInterval && step < totalSteps { return }
            let line = String(format: "%@ step %d/%d (%.0f%%)  %@ samples/s  ETA %@  loss %.4f\n",
                              epoch, step, totalSteps, fraction * 100, formatRate(rate), formatDuration(eta), loss)
            FileHandle.standardError.write(Data(line.utf8))
        case .none:
            break
        }
        lastDraw = now
    }

    /// Prints a message line on standard output (clearing the bar first).
    public func print(_ message: String) {
        guard printsMessages else { return }
        if barVisible {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            barVisible = false
        }
        Swift.print(message)
        fflush(stdout)
    }

    /// Ends the bar line.
    public func finish() {
        if barVisible {
            FileHandle.standardError.write(Data("\n".utf8))
            barVisible = false
        }
    }
}

private func formatRate(_ r: Double) -> String {
    r >= 1e6 ? String(format: "%.2fM", r / 1e6) : r >= 1e3 ? String(format: "%.1fk", r / 1e3) : String(format: "%.0f", r)
}

private func formatDuration(_ s: Double) -> String {
    guard s.isFinite else { return "?" }
    let t = Int(s.rounded())
    return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, (t / 60) % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
}
