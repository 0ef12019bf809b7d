import Foundation

/// Names the trial a process was running when it dies of a fatal signal
/// (a Swift runtime trap is `SIGILL`/`SIGTRAP`, a bad access `SIGSEGV`), so
/// that a crash in one of `stability --ranks N`'s ranks — which mpirun
/// reports only as "process rank r exited on signal s" — says which trial
/// it was.
///
/// `starting(_:)` formats the line before each trial; the handler only
/// writes those bytes to standard error (`write` is async-signal-safe; no
/// allocation or locking in the handler), calls the handler that was there
/// before (the Swift runtime's backtrace, or Open MPI's), then restores the
/// default action and raises the signal again, so the process dies of it
/// even when the earlier handler returns (it does for a signal sent by
/// `kill`, which no instruction raises again).
enum TrialCrashNotice {
    static let signals: [Int32] = [SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV]
    static let capacity = 1024

    /// Installs the handler (call once, after `MPI_Init`, which installs Open MPI's own).
    static func install(rank: Int?) {
        self.rank = rank
        previousActions.initialize(repeating: sigaction(), count: signals.count)
        handledSignals.initialize(from: signals, count: signals.count)
        starting(nil)
        for (i, s) in signals.enumerated() {
            var action = sigaction()
            action.__sigaction_handler.sa_sigaction = trialCrashHandler
            action.sa_flags = SA_SIGINFO
            sigemptyset(&action.sa_mask)
            sigaction(s, &action, previousActions + i)
        }
    }

    /// Records that `trial` starts (nil: before the first trial).
    static func starting(_ trial: String?) {
        let head = "stability: " + (rank.map { "rank \($0)" } ?? "the process") + " crashed (signal "
        let tail = "); " + (trial.map { "its last trial started: \($0)" } ?? "before its first trial") + "\n"
        // Published length 0 while the bytes change, so a signal in between writes nothing half-made.
        noticeHeadLength = 0
        noticeTailLength = 0
        let headBytes = Array(head.utf8.prefix(capacity)), tailBytes = Array(tail.utf8.prefix(capacity))
        for (i, b) in headBytes.enumerated() { noticeHead[i] = b }
        for (i, b) in tailBytes.enumerated() { noticeTail[i] = b }
        noticeHeadLength = headBytes.count
        noticeTailLength = tailBytes.count
    }

    private static var rank: Int?
}

/// The notice before and after the signal number, and their byte counts.
nonisolated(unsafe) let noticeHead = UnsafeMutablePointer<UInt8>.allocate(capacity: TrialCrashNotice.capacity)
nonisolated(unsafe) let noticeTail = UnsafeMutablePointer<UInt8>.allocate(capacity: TrialCrashNotice.capacity)
nonisolated(unsafe) var noticeHeadLength = 0
nonisolated(unsafe) var noticeTailLength = 0
/// The actions replaced by `install`, one per `TrialCrashNotice.signals` entry.
nonisolated(unsafe) let previousActions = UnsafeMutablePointer<sigaction>.allocate(capacity: TrialCrashNotice.signals.count)
nonisolated(unsafe) let handledSignals = UnsafeMutablePointer<Int32>.allocate(capacity: TrialCrashNotice.signals.count)

/// Writes the notice with the signal number, runs the previous handler,
/// then dies of the signal (default action; raised while blocked, delivered
/// when this handler returns).
private func trialCrashHandler(_ signal: Int32, _ info: UnsafeMutablePointer<siginfo_t>?,
                               _ context: UnsafeMutableRawPointer?) {
    var digits: (UInt8, UInt8, UInt8) = (48 + UInt8((signal / 100) % 10), 48 + UInt8((signal / 10) % 10),
                                          48 + UInt8(signal % 10))
    let skip = signal >= 100 ? 0 : signal >= 10 ? 1 : 2
    _ = write(2, noticeHead, noticeHeadLength)
    withUnsafeBytes(of: &digits) { _ = write(2, $0.baseAddress! + skip, 3 - skip) }
    _ = write(2, noticeTail, noticeTailLength)
    for k in 0..<TrialCrashNotice.signals.count where handledSignals[k] == signal {
        let previous = previousActions[k]
        // SIG_DFL is 0 and SIG_IGN 1: nothing to call.
        if unsafeBitCast(previous.__sigaction_handler, to: Int.self) > 1 {
            if previous.sa_flags & SA_SIGINFO != 0 {
                previous.__sigaction_handler.sa_sigaction?(signal, info, context)
            } else {
                previous.__sigaction_handler.sa_handler?(signal)
            }
        }
    }
    var fallback = sigaction()
    fallback.__sigaction_handler.sa_handler = SIG_DFL
    sigemptyset(&fallback.sa_mask)
    sigaction(signal, &fallback, nil)
    raise(signal)
}
