import Foundation

extension MDF {
    /// The spec's time format, yyyy-mm-ddThh:mm:ss.ms in UTC.
    public static func timestamp(_ date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS"
        return formatter.string(from: date)
    }

    /// A random (version 4) UUID in lower case, as MPIFiles writes them.
    public static func newUUID() -> String { UUID().uuidString.lowercased() }

    /// Whether `text` is in the spec's time format (the milliseconds may be absent).
    public static func isTimestamp(_ text: String) -> Bool {
        text.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?$"#, options: .regularExpression) != nil
    }
}
