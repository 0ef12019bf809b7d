import CRankerKernels

/// Ctrl-C during training: the first SIGINT only sets a flag, which the
/// trainer reads after each step (it finishes the step, writes the
/// checkpoint and stops); a second SIGINT ends the process.
///
/// The flag and the handler are C (`interrupt_flag.c`): an atomic that the
/// handler sets and any number of trainers in the process clear and read.
enum InterruptSignal {
    /// Whether Ctrl-C was pressed since `install()`.
    static var wasRequested: Bool { ranker_interrupt_requested() != 0 }

    /// Clears the flag and installs the handler; returns the previous handler for `restore`.
    static func install() -> UnsafeMutableRawPointer? {
        ranker_interrupt_install()
    }

    /// Puts back the handler `install()` replaced.
    static func restore(_ previous: UnsafeMutableRawPointer?) {
        ranker_interrupt_restore(previous)
    }
}
