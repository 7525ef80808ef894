import Foundation

/// An HDF5 failure, named by file and dataset path, with the library's own explanation taken
/// from its error stack (which is never printed to the terminal).
public struct HDF5Error: Error, CustomStringConvertible, LocalizedError, Sendable {
    public let file: String
    /// The object inside the file, or nil when the failure concerns the file itself.
    public let path: String?
    public let message: String

    public init(file: String, path: String?, message: String) {
        self.file = file
        self.path = path
        self.message = message
    }

    public var description: String {
        if let path { return "\(file): \(path): \(message)" }
        return "\(file): \(message)"
    }

    public var errorDescription: String? { description }
}
