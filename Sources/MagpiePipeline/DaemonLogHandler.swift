import Foundation
import Logging
import MagpieMDF

/// The daemon's swift-log handler: one line per event on standard error (systemd's journal keeps
/// it), `TIMESTAMP magpie: [warning: ]scan ID: message (key=value, ...)`, with every control
/// character escaped, since scan ids, reasons and metadata come from the stream.
public struct DaemonLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    private let write: @Sendable (String) -> Void

    /// `write` takes each finished line, newline included (standard error unless told).
    public init(write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The metadata key of a scan's id: rendered as the line's "scan ID: " prefix.
    public static let scanKey = "scan"

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let scan = all.removeValue(forKey: Self.scanKey)
        var line = event.level >= .error ? "error: " : event.level == .warning ? "warning: " : ""
        if let scan { line += "scan \(scan): " }
        line += "\(event.message)"
        if !all.isEmpty { line += " (" + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + ")" }
        write("\(MDF.timestamp()) magpie: \(LogText.escaped(line))\n")
    }
}
