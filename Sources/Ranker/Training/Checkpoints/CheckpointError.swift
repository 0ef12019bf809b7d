/// A checkpoint that does not fit the model, optimizer or run it is restored
/// into, or whose metadata is missing or malformed. Each case names the
/// tensor or metadata key concerned. (File problems are `SafeTensorsError`s
/// and `FileIOError`s.)
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    /// The file is a safetensors file but not of the expected kind
    /// (`__metadata__["format"]` differs).
    case wrongFormat(path: String, expected: String, found: String?)
    /// The model or optimizer needs this tensor (full checkpoint name, e.g.
    /// `model/experts.0.W`) and the checkpoint does not have it.
    case missingTensor(name: String)
    /// The checkpoint has a tensor that nothing in the model or optimizer
    /// corresponds to.
    case unexpectedTensor(name: String)
    /// The tensor exists with another shape than its parameter's.
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    /// A metadata entry that is needed is absent.
    case missingMetadata(key: String)
    /// A metadata entry cannot be decoded (`reason` says why).
    case invalidMetadata(key: String, reason: String)
    /// The optimizer refused its state (for example a negative accumulator).
    case invalidOptimizerState(OptimizerStateError)

    public var description: String {
        switch self {
        case .wrongFormat(let path, let expected, let found):
            return "\(path): not a \(expected) file (format: \(found ?? "none"))"
        case .missingTensor(let name):
            return "checkpoint has no tensor \(name)"
        case .unexpectedTensor(let name):
            return "checkpoint tensor \(name) matches nothing in the model or optimizer"
        case .shapeMismatch(let name, let expected, let found):
            return "checkpoint tensor \(name) has shape \(found), expected \(expected)"
        case .missingMetadata(let key):
            return "checkpoint metadata has no entry \(key)"
        case .invalidMetadata(let key, let reason):
            return "checkpoint metadata \(key): \(reason)"
        case .invalidOptimizerState(let error):
            return "checkpoint optimizer state: \(error)"
        }
    }
}
