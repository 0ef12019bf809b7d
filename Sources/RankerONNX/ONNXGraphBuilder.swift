import Foundation

/// Collects the nodes and initializers of one ONNX graph, in topological
/// order (a node is appended after the nodes that make its inputs), and
/// hands out unique value names.
///
/// Only what the Ranker scoring graph needs: float32 and int64 initializers
/// stored as raw little-endian bytes, nodes of the standard (`""`) domain,
/// and integer, integer-list and float attributes.
struct ONNXGraphBuilder {
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    private var usedNames: Set<String> = []

    /// `hint`, or `hint_2`, `hint_3`, … when that name is taken.
    mutating func uniqueName(_ hint: String) -> String {
        var name = hint
        var suffix = 2
        while usedNames.contains(name) {
            name = "\(hint)_\(suffix)"
            suffix += 1
        }
        usedNames.insert(name)
        return name
    }

    /// Marks a graph input's name as taken.
    mutating func reserve(_ name: String) {
        usedNames.insert(name)
    }

    /// A float32 initializer of shape `dims` holding `values` (row-major);
    /// returns its name.
    mutating func floatInitializer(_ hint: String, dims: [Int], values: UnsafeBufferPointer<Float>) -> String {
        precondition(dims.reduce(1, *) == values.count, "\(hint): \(values.count) values for shape \(dims)")
        var bytes = [UInt8]()
        bytes.reserveCapacity(4 * values.count)
        for v in values {
            let bits = v.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
        }
        return initializer(hint, dims: dims, type: .float, bytes: bytes)
    }

    /// An int64 initializer of shape `dims` (`[]` for a scalar); returns its name.
    mutating func int64Initializer(_ hint: String, dims: [Int], values: [Int64]) -> String {
        precondition(dims.reduce(1, *) == values.count, "\(hint): \(values.count) values for shape \(dims)")
        var bytes = [UInt8]()
        bytes.reserveCapacity(8 * values.count)
        for v in values {
            withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return initializer(hint, dims: dims, type: .int64, bytes: bytes)
    }

    private mutating func initializer(_ hint: String, dims: [Int], type: Onnx_TensorProto.DataType,
                                      bytes: [UInt8]) -> String {
        var tensor = Onnx_TensorProto()
        tensor.name = uniqueName(hint)
        tensor.dims = dims.map(Int64.init)
        tensor.dataType = Int32(type.rawValue)
        tensor.rawData = Data(bytes)
        initializers.append(tensor)
        return tensor.name
    }

    /// Appends a node `op(inputs) -> outputs` and returns its output names
    /// (`outputCount` of them, named after `hint`).
    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], _ hint: String,
                       attributes: [Onnx_AttributeProto] = [], outputCount: Int = 1) -> [String] {
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = uniqueName("\(hint)/\(op)")
        node.input = inputs
        node.output = (0..<outputCount).map { uniqueName(outputCount == 1 ? hint : "\(hint)_\($0)") }
        node.attribute = attributes
        nodes.append(node)
        return node.output
    }

    /// Like `node`, for a node with one output: its name.
    mutating func value(_ op: String, _ inputs: [String], _ hint: String,
                        attributes: [Onnx_AttributeProto] = []) -> String {
        node(op, inputs, hint, attributes: attributes)[0]
    }

    /// A node whose single output has exactly the name `output` (a graph output).
    mutating func node(_ op: String, _ inputs: [String], output: String, attributes: [Onnx_AttributeProto] = []) {
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = uniqueName("\(output)/\(op)")
        node.input = inputs
        precondition(!usedNames.contains(output), "the output name \(output) is taken")
        usedNames.insert(output)
        node.output = [output]
        node.attribute = attributes
        nodes.append(node)
    }
}

/// ONNX node attributes.
enum ONNXAttribute {
    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }

    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = value
        return a
    }
}

/// ONNX value descriptions (graph inputs and outputs).
enum ONNXValueInfo {
    /// A tensor of element type `type` whose dimensions are symbolic (`String`)
    /// or fixed (`Int`).
    static func tensor(_ name: String, _ type: Onnx_TensorProto.DataType, shape: [ONNXDimension]) -> Onnx_ValueInfoProto {
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(type.rawValue)
        tensorType.shape.dim = shape.map { d in
            var dimension = Onnx_TensorShapeProto.Dimension()
            switch d {
            case .symbolic(let name): dimension.dimParam = name
            case .fixed(let size): dimension.dimValue = Int64(size)
            }
            return dimension
        }
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType = tensorType
        return info
    }
}

/// One dimension of a graph input or output.
enum ONNXDimension {
    case symbolic(String)
    case fixed(Int)
}
