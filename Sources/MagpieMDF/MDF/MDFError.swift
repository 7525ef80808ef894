import Foundation

/// One way in which a file departs from MDF v2.1.0, named by the field's path.
public struct MDFDeviation: Sendable, Equatable, Codable, CustomStringConvertible {
    public let path: String
    public let message: String

    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// Why an MDF file could not be read or written.
public enum MDFError: Error, CustomStringConvertible, LocalizedError, Sendable {
    /// The HDF5 layer failed (missing file, not HDF5, damaged file, ...).
    case hdf5(HDF5Error)
    /// A field is present but cannot be interpreted: wrong type class or shape.
    case invalidField(file: String, path: String, expected: String, found: String)
    /// A file about to be written does not satisfy the spec; nothing was written.
    case notValid(file: String, deviations: [MDFDeviation])

    public var description: String {
        switch self {
        case let .hdf5(error):
            return error.description
        case let .invalidField(file, path, expected, found):
            return "\(file): \(path): expected \(expected), found \(found)"
        case let .notValid(file, deviations):
            let first = deviations.prefix(3).map(\.description).joined(separator: "; ")
            let more = deviations.count > 3 ? " (and \(deviations.count - 3) more)" : ""
            return "\(file): not written, it would not be valid MDF \(MDF.specVersion): \(first)\(more)"
        }
    }

    public var errorDescription: String? { description }
}
