import CMPI

/// An MPI call that returned an error code (the communicator is set to
/// `MPI_ERRORS_RETURN`, so errors come back instead of aborting): the call,
/// the code and Open MPI's own description of it (`MPI_Error_string`).
public struct MPIError: Error, CustomStringConvertible {
    public let call: String
    public let code: Int32
    public let message: String

    public var description: String { "\(call) failed (MPI error \(code)): \(message)" }

    /// Checks `code`, the result of `call`.
    static func check(_ code: Int32, _ call: @autoclosure () -> String) throws {
        guard code != MPI_SUCCESS else { return }
        throw MPIError(call: call(), code: code, message: errorString(code))
    }

    /// `MPI_Error_string(code)`.
    static func errorString(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var length: Int32 = 0
        guard MPI_Error_string(code, &buffer, &length) == MPI_SUCCESS else { return "unknown error" }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
