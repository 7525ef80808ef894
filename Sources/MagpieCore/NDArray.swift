/// A dense N-dimensional array stored row-major (last index fastest), the order in which
/// MDF lays out its datasets and numpy reads them. A rank-0 array (shape `[]`) is a scalar.
public struct NDArray<Element> {
    public private(set) var shape: [Int]
    public var storage: [Element]

    /// Wraps `storage` with the given shape. The element count must equal the product of the shape.
    public init(shape: [Int], storage: [Element]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
        precondition(storage.count == NDArray.count(of: shape),
                     "storage holds \(storage.count) elements, shape \(shape) needs \(NDArray.count(of: shape))")
        self.shape = shape
        self.storage = storage
    }

    public init(repeating value: Element, shape: [Int]) {
        self.init(shape: shape, storage: Array(repeating: value, count: NDArray.count(of: shape)))
    }

    /// A rank-0 array holding one value.
    public init(scalar: Element) {
        self.init(shape: [], storage: [scalar])
    }

    /// A rank-1 array.
    public init(_ values: [Element]) {
        self.init(shape: [values.count], storage: values)
    }

    public static func count(of shape: [Int]) -> Int { shape.reduce(1, *) }

    public var rank: Int { shape.count }
    public var count: Int { storage.count }

    /// Row-major strides in elements.
    public var strides: [Int] {
        var strides = Array(repeating: 1, count: shape.count)
        var stride = 1
        for axis in shape.indices.reversed() {
            strides[axis] = stride
            stride *= shape[axis]
        }
        return strides
    }

    public func linearIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == shape.count, "\(indices.count) indices for rank \(shape.count)")
        var index = 0
        for (axis, i) in indices.enumerated() {
            precondition(i >= 0 && i < shape[axis], "index \(i) out of range 0..<\(shape[axis]) on axis \(axis)")
            index = index * shape[axis] + i
        }
        return index
    }

    public subscript(_ indices: Int...) -> Element {
        get { storage[linearIndex(indices)] }
        set { storage[linearIndex(indices)] = newValue }
    }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> NDArray {
        NDArray(shape: newShape, storage: storage)
    }

    public func map<T>(_ transform: (Element) throws -> T) rethrows -> NDArray<T> {
        NDArray<T>(shape: shape, storage: try storage.map(transform))
    }
}

extension NDArray: Equatable where Element: Equatable {}
extension NDArray: Hashable where Element: Hashable {}
extension NDArray: Sendable where Element: Sendable {}

extension NDArray: CustomStringConvertible {
    public var description: String {
        let dims = shape.map(String.init).joined(separator: " x ")
        return "NDArray<\(Element.self)>(\(shape.isEmpty ? "scalar" : dims))"
    }
}
