import Foundation

/// A failed system call on a file, with the file, the call and the system's
/// message (for example `write … failed: No space left on device`).
public struct FileIOError: FileError, Equatable {
    public let path: String
    /// The call that failed (`open`, `write`, `fsync`, `rename`, …).
    public let operation: String
    /// The system's error text (`strerror(errno)`) or another explanation.
    public let message: String

    public init(path: String, operation: String, message: String) {
        self.path = path
        self.operation = operation
        self.message = message
    }

    /// The error of the last failed system call (reads `errno`).
    static func lastSystemError(path: String, operation: String) -> FileIOError {
        FileIOError(path: path, operation: operation, message: String(cString: strerror(errno)))
    }

    /// The system's text for an error thrown by Foundation (`FileHandle`,
    /// `FileManager`): the `strerror` of the POSIX error it wraps — "No space
    /// left on device" — which Foundation's own description hides ("The
    /// operation could not be completed. There isn't enough space."); the
    /// error's description when it wraps none.
    static func systemMessage(of error: Error) -> String {
        var current: NSError? = error as NSError
        while let e = current {
            if e.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(e.code))) }
            current = e.userInfo[NSUnderlyingErrorKey] as? NSError
        }
        return error.localizedDescription
    }

    public var location: String { path }

    public var detail: String { "\(operation) failed: \(message)" }
}
