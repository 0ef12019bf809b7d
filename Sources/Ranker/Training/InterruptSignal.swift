import Foundation

/// Ctrl-C during training: the first SIGINT only sets a flag, which the
/// trainer reads after each step (it finishes the step, writes the
/// checkpoint and stops); a second SIGINT ends the process.
enum InterruptSignal {
    nonisolated(unsafe) private static var requested: Int32 = 0

    /// Whether Ctrl-C was pressed since `install()`.
    static var wasRequested: Bool { requested != 0 }

    /// Clears the flag and installs the handler; returns the previous handler for `restore`.
    static func install() -> sig_t? {
        requested = 0
        return signal(SIGINT) { _ in
            InterruptSignal.requested = 1
            signal(SIGINT, SIG_DFL)  // a second Ctrl-C ends the process
        }
    }

    /// Puts back the handler `install()` replaced.
    static func restore(_ previous: sig_t?) {
        signal(SIGINT, previous)
    }
}
