/// A model tensor holding NaN or an infinity where only finite weights make
/// sense (`ranker export` refuses to write such a model: every prediction
/// through it would be NaN, and the consumer of the export would find out
/// only in production).
public struct NonFiniteTensorError: FileError, Equatable {
    /// The file the weights came from.
    public let path: String
    /// The tensor (`Parameter.name`, or a state tensor's name).
    public let tensor: String
    /// How many of its values are not finite, and the first of them.
    public let count: Int
    public let firstIndex: Int
    public let firstValue: Float

    public var location: String { path }

    public var detail: String {
        "tensor \(tensor) holds \(count) non-finite value\(count == 1 ? "" : "s") (the first, \(firstValue), at "
            + "index \(firstIndex)); refusing to export a model that predicts NaN"
    }

    /// Throws for the first of `tensors` (in order) that holds a non-finite value.
    ///
    /// - Throws: `NonFiniteTensorError` naming `path` and the tensor.
    public static func check(_ tensors: [(name: String, value: Matrix)], from path: String) throws {
        for t in tensors {
            var count = 0, first = -1
            for i in 0..<t.value.count where !t.value.data[i].isFinite {
                if first < 0 { first = i }
                count += 1
            }
            if count > 0 {
                throw NonFiniteTensorError(path: path, tensor: t.name, count: count, firstIndex: first,
                                           firstValue: t.value.data[first])
            }
        }
    }
}
