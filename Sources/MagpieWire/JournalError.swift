/// Why a journal could not be written or read; the message names the file.
public struct JournalError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "archive: \(message)" }
}
