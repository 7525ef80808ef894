import Foundation

/// The raw archive of one scan while it streams: an append-only file of the stream's messages
/// exactly as received (each record: part count, then each part's length and bytes). A frame is
/// "archived" once its record is written: the bytes are in the kernel's page cache, so a killed
/// daemon loses nothing it had archived. A record cut short by a crash is ignored on reading.
public final class ScanJournal {
    static let magic = Data("MAGPIEJ1".utf8)
    public let path: String
    private let handle: FileHandle

    /// Creates the journal; the first record is the scan's scan-start message.
    public init(path: String, scanStart parts: [Data]) throws {
        guard FileManager.default.createFile(atPath: path, contents: Self.magic) else {
            throw PipelineError.archive("cannot create journal \(path): \(String(cString: strerror(errno)))")
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw PipelineError.archive("cannot open journal \(path)") }
        self.path = path
        self.handle = handle
        try handle.seekToEnd()
        try append(parts)
    }

    deinit { try? handle.close() }

    /// Appends one message; when this returns the message survives the process.
    public func append(_ parts: [Data]) throws {
        var record = Data()
        var count = UInt32(parts.count).littleEndian
        record.append(Data(bytes: &count, count: 4))
        for part in parts {
            var length = UInt64(part.count).littleEndian
            record.append(Data(bytes: &length, count: 8))
            record.append(part)
        }
        do {
            try handle.write(contentsOf: record)
        } catch {
            throw PipelineError.archive("cannot append to journal \(path): \(error)")
        }
    }

    /// Flushes to the disk itself (for power loss; a killed process needs no flush).
    public func synchronize() throws { try handle.synchronize() }

    public func close() throws { try handle.close() }

    /// Every complete record of a journal, in order.
    public static func read(_ path: String) throws -> [[Data]] {
        guard let data = FileManager.default.contents(atPath: path) else { throw PipelineError.archive("cannot read journal \(path)") }
        guard data.prefix(magic.count) == magic else { throw PipelineError.archive("\(path) is not a Magpie journal") }
        var records: [[Data]] = []
        var offset = data.startIndex + magic.count
        func integer<T: FixedWidthInteger>(_ type: T.Type) -> T? {
            guard data.endIndex - offset >= MemoryLayout<T>.size else { return nil }
            let value = data[offset..<(offset + MemoryLayout<T>.size)].withUnsafeBytes { T(littleEndian: $0.loadUnaligned(as: T.self)) }
            offset += MemoryLayout<T>.size
            return value
        }
        reading: while let count = integer(UInt32.self) {
            var parts: [Data] = []
            for _ in 0..<count {
                guard let length = integer(UInt64.self), UInt64(data.endIndex - offset) >= length else { break reading }
                parts.append(data[offset..<(offset + Int(length))])
                offset += Int(length)
            }
            records.append(parts)
        }
        return records
    }
}

/// Why the pipeline could not do something; the message names the file or setting.
public enum PipelineError: Error, CustomStringConvertible, Equatable {
    case archive(String)
    case config(String)

    public var description: String {
        switch self {
        case let .archive(message): return "archive: \(message)"
        case let .config(message): return "configuration: \(message)"
        }
    }
}
