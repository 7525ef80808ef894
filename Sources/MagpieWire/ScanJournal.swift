import Foundation
import LinuxSystem
import Synchronization

/// The raw archive of one scan while it streams: an append-only file of the stream's messages
/// exactly as received. Format 2 (`MAGPIEJ2`): each record is a marker, its body length and a
/// CRC-32C of length and body, then the body (part count, each part's length and bytes), so a
/// reader finds every whole record and skips a damaged one (resynchronising at the next marker).
/// A write that fails (a full disk) is cut back to the last whole record, so later records follow
/// a clean end. Format 1 (`MAGPIEJ1`, no checksums) is still read.
///
/// A frame is "archived" once `append` returns; what that survives depends on `Durability`.
public final class ScanJournal {
    /// When appended records are forced to the disk (`fsync`).
    public enum Durability: Sendable, Equatable {
        /// Never: a record is in the kernel's page cache, which survives a killed daemon but not a power cut.
        case os
        /// At most about this many milliseconds after a record is appended, by a thread of the
        /// journal's own (`fdatasync`), so that receiving never waits for the disk.
        case interval(milliseconds: Int)
        /// After every record, before `append` returns.
        case frame
    }

    static let magic = Data("MAGPIEJ2".utf8)
    static let magicVersion1 = Data("MAGPIEJ1".utf8)
    static let marker: [UInt8] = [0x4D, 0x4A, 0x52, 0x7E]   // "MJR~"
    /// A body longer than this is damage, not a record (a header of 1 MiB and the largest payload fit).
    static let maximumBody = 1 << 30

    public let path: String
    private let handle: FileHandle
    private let durability: Durability
    /// Bytes of the file that hold whole records: where the next record goes.
    private var committed: UInt64
    /// Where the disk space reserved ahead of the records ends (`reservation`).
    private var reserved: UInt64 = 0
    /// False once the file system has said it cannot reserve.
    private var reserves = true
    /// Reserved at a time ahead of the writes, the file's size unchanged. ext4 then writes into
    /// blocks the file already has instead of reserving them page by page (delayed allocation):
    /// writing 646 kB records took 117 instead of 166 us each (`scripts/bench_journal_write.c`).
    static let reservation = 32 << 20
    /// `.interval`: the thread that forces the file to the disk, so the receiving thread never waits for the disk.
    private let syncer: Syncer?

    /// Creates the journal (never replacing a file); the first record is the scan's scan-start message.
    public init(path: String, scanStart parts: [Data], durability: Durability = .os) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw JournalError("cannot create journal \(path): \(String(cString: strerror(errno)))") }
        handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        self.path = path
        self.durability = durability
        committed = 0
        if case let .interval(milliseconds) = durability {
            syncer = Syncer(descriptor: descriptor, path: path, milliseconds: milliseconds)
        } else {
            syncer = nil
        }
        do {
            try handle.write(contentsOf: Self.magic)
            committed = UInt64(Self.magic.count)
            try append(parts)
        } catch {
            syncer?.stop()
            try? handle.close()
            unlink(path)
            throw JournalError("cannot create journal \(path): \(error)")
        }
    }

    deinit { syncer?.stop() }

    /// Appends one message; when this returns it is archived (see `Durability`). On failure the
    /// file is cut back to its last whole record and the error says why.
    public func append(_ parts: [Data]) throws {
        try append(records: [parts])
    }

    /// Appends several messages with one `writev` (intake takes what waits on the socket
    /// together); all of them are archived when this returns, or none is (see `append`).
    public func append(records: [[Data]]) throws {
        let pieces = records.flatMap(Self.pieces)
        let size = pieces.reduce(0) { $0 + $1.count }
        reserve(through: committed + UInt64(size))
        do {
            try Self.write(pieces, to: handle.fileDescriptor)
        } catch {
            let reason = "\(error)"
            do {
                try handle.truncate(atOffset: committed)   // the reservation beyond goes too
                reserved = committed
            } catch {
                throw JournalError("cannot append to journal \(path): \(reason); nor cut it back to its last whole record: \(error)")
            }
            throw JournalError("cannot append to journal \(path): \(reason)")
        }
        committed += UInt64(size)
        if durability == .frame { try synchronize() }
        syncer?.appended()
    }

    /// Reports a failure of the interval's background flush (once); the caller logs it. Not part
    /// of `append`, whose records are written whatever an earlier flush met.
    public func tick() throws {
        if let failure = syncer?.takeFailure() { throw JournalError("cannot flush journal \(path) to the disk: \(failure)") }
    }

    private func synchronize() throws {
        do {
            try handle.synchronize()
        } catch {
            throw JournalError("cannot flush journal \(path) to the disk: \(error)")
        }
    }

    public func close() throws {
        syncer?.stop()
        try tick()
        if reserved > committed { try? handle.truncate(atOffset: committed) }   // gives back what the records did not fill
        if durability != .os { try synchronize() }
        try handle.close()
    }

    /// Reserves the next `reservation` bytes when a write would pass the reserved end. A refusal
    /// changes nothing for the write: a full disk is the write's own error to report, and a file
    /// system that cannot reserve is not asked again.
    private func reserve(through end: UInt64) {
        guard reserves, end > reserved else { return }
        let length = max(UInt64(Self.reservation), end - committed)
        switch linux_reserve_file_space(handle.fileDescriptor, Int64(committed), Int64(length)) {
        case 0:
            reserved = committed + length
        case EOPNOTSUPP, ENOSYS:
            reserves = false
        default:
            // ext4 keeps what a refused reservation took (on a nearly full disk, all that was
            // left, beyond the file's end): given back, so other files see the disk as before.
            try? handle.truncate(atOffset: committed)
            reserved = committed
        }
    }

    /// `.interval`'s flusher: at most `milliseconds` after a record is appended, `fdatasync` on a
    /// thread of its own. A failure is kept for the journal's next `tick` to report.
    private final class Syncer: Sendable {
        private struct State {
            var appended = false
            var stopped = false
            var failure: String?
        }
        private let state = Mutex(State())
        private let wake = DispatchSemaphore(value: 0)
        private let done = DispatchSemaphore(value: 0)

        init(descriptor: Int32, path: String, milliseconds: Int) {
            let thread = Thread { [self] in
                while true {
                    _ = wake.wait(timeout: .now() + .milliseconds(milliseconds))
                    let (appended, stopped) = state.withLock { state in
                        defer { state.appended = false }
                        return (state.appended, state.stopped)
                    }
                    if stopped { break }
                    if appended, fdatasync(descriptor) != 0 {
                        let reason = String(cString: strerror(errno))
                        state.withLock { if $0.failure == nil { $0.failure = reason } }
                    }
                }
                done.signal()
            }
            thread.name = "magpie-journal-sync"
            thread.start()
        }

        func appended() { state.withLock { $0.appended = true } }

        func takeFailure() -> String? { state.withLock { state in defer { state.failure = nil }; return state.failure } }

        /// Ends the thread and waits for it (a flush under way included), so the descriptor can be closed.
        func stop() {
            let first = state.withLock { state in defer { state.stopped = true }; return !state.stopped }
            guard first else { return }
            wake.signal()
            done.wait()
        }
    }

    /// One record of format 2 in one buffer.
    public static func record(_ parts: [Data]) -> Data {
        Data(pieces(parts).joined())
    }

    /// One record of format 2 as the pieces to write in order: the framing before each part, and
    /// the parts themselves (the payload is written from where it was received, never copied).
    static func pieces(_ parts: [Data]) -> [Data] {
        let bodyLength = 4 + parts.reduce(0) { $0 + 4 + $1.count }
        var head = Data(capacity: 20)
        head.append(contentsOf: marker)
        appendInteger(&head, UInt32(bodyLength))
        appendInteger(&head, UInt32(0))   // the checksum, filled in below
        appendInteger(&head, UInt32(parts.count))
        var pieces: [Data] = []
        var framing = head
        var checksum = CRC32C.checksum(head[(head.startIndex + 4)..<(head.startIndex + 8)])
        checksum = CRC32C.checksum(head[(head.startIndex + 12)...], seed: checksum)
        for part in parts {
            var length = Data(capacity: 4)
            appendInteger(&length, UInt32(part.count))
            checksum = CRC32C.checksum(part, seed: CRC32C.checksum(length, seed: checksum))
            framing.append(length)
            pieces += [framing, part]
            framing = Data()
        }
        if pieces.isEmpty { pieces = [framing] }
        withUnsafeBytes(of: checksum.littleEndian) { pieces[0].replaceSubrange((pieces[0].startIndex + 8)..<(pieces[0].startIndex + 12), with: $0) }
        return pieces
    }

    /// Writes the pieces with `writev`, however many calls it takes.
    private static func write(_ pieces: [Data], to descriptor: Int32) throws {
        var vectors: [iovec] = []
        try withVectors(pieces[...], &vectors) { vectors in
            var vectors = vectors[...]
            while !vectors.isEmpty {
                let written = vectors.withUnsafeBufferPointer { writev(descriptor, $0.baseAddress, Int32(min($0.count, 1024))) }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw JournalError(String(cString: strerror(errno)))
                }
                var left = written
                while let first = vectors.first, left >= first.iov_len {
                    left -= first.iov_len
                    vectors.removeFirst()
                }
                if left > 0 {
                    vectors[vectors.startIndex].iov_base += left
                    vectors[vectors.startIndex].iov_len -= left
                }
            }
        }
    }

    /// Calls `body` with an iovec for each piece, valid while it runs.
    private static func withVectors(_ pieces: ArraySlice<Data>, _ vectors: inout [iovec], _ body: ([iovec]) throws -> Void) throws {
        guard let first = pieces.first else { return try body(vectors) }
        try first.withUnsafeBytes { raw in
            vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress), iov_len: raw.count))
            try withVectors(pieces.dropFirst(), &vectors, body)
        }
    }

    static func appendInteger<T: FixedWidthInteger>(_ data: inout Data, _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    /// Every readable record of a journal, in order (for tests and small journals; `Reader` streams).
    public static func read(_ path: String) throws -> [[Data]] {
        let reader = try Reader(path: path)
        var records: [[Data]] = []
        while let record = try reader.next() { records.append(record.parts) }
        return records
    }

    /// Reads a journal record by record without holding more than one in memory.
    public final class Reader {
        public struct Record {
            /// Where the record starts in the file: `record(at:)` reads it again.
            public let offset: UInt64
            public let parts: [Data]
        }

        public let path: String
        public let version: Int
        /// Damaged stretches skipped (format 2: bad checksum, impossible length, garbage; format 1: a torn end).
        public private(set) var damaged = 0
        private let handle: FileHandle
        private let size: UInt64
        private var offset: UInt64

        public init(path: String) throws {
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw JournalError("cannot read journal \(path): \(String(cString: strerror(errno)))")
            }
            self.handle = handle
            self.path = path
            size = (try? handle.seekToEnd()) ?? 0
            let magic = try Self.bytes(handle, at: 0, count: ScanJournal.magic.count)
            switch magic {
            case ScanJournal.magic: version = 2
            case ScanJournal.magicVersion1: version = 1
            default: throw JournalError("\(path) is not a Magpie journal")
            }
            offset = UInt64(ScanJournal.magic.count)
        }

        deinit { try? handle.close() }

        private static func bytes(_ handle: FileHandle, at offset: UInt64, count: Int) throws -> Data? {
            try handle.seek(toOffset: offset)
            let data = try handle.read(upToCount: count) ?? Data()
            return data.count == count ? data : nil
        }

        private func integer<T: FixedWidthInteger>(_ data: Data, at index: Int, as type: T.Type) -> T {
            data.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: index, as: T.self)) }
        }

        /// The next readable record, or nil at the end.
        public func next() throws -> Record? {
            version == 1 ? try nextVersion1() : try nextVersion2()
        }

        /// The record that starts at `offset` (one `next()` returned), read again.
        public func record(at offset: UInt64) throws -> [Data] {
            let saved = self.offset
            defer { self.offset = saved }
            self.offset = offset
            guard let record = try next(), record.offset == offset else { throw JournalError("\(path): no record at byte \(offset)") }
            return record.parts
        }

        private func nextVersion2() throws -> Record? {
            while offset + 12 <= size {
                if let record = try recordVersion2(at: offset) { return record }
                damaged += 1
                guard let next = try nextMarker(after: offset) else { offset = size; return nil }
                offset = next
            }
            return nil
        }

        /// The record at `start` if it is whole and its checksum matches.
        private func recordVersion2(at start: UInt64) throws -> Record? {
            guard let head = try Self.bytes(handle, at: start, count: 12), Array(head.prefix(4)) == ScanJournal.marker else { return nil }
            let length = Int(integer(head, at: 4, as: UInt32.self))
            guard length >= 4, length <= ScanJournal.maximumBody, start + 12 + UInt64(length) <= size,
                  let body = try Self.bytes(handle, at: start + 12, count: length),
                  CRC32C.checksum(body, seed: CRC32C.checksum(head[4..<8])) == integer(head, at: 8, as: UInt32.self) else { return nil }
            var parts: [Data] = []
            var index = 4
            for _ in 0..<Int(integer(body, at: 0, as: UInt32.self)) {
                guard index + 4 <= body.count else { return nil }
                let count = Int(integer(body, at: index, as: UInt32.self))
                index += 4
                guard count <= body.count - index else { return nil }
                parts.append(body.subdata(in: index..<(index + count)))
                index += count
            }
            offset = start + 12 + UInt64(length)
            return Record(offset: start, parts: parts)
        }

        /// The next place after `start` where a record marker begins, searched in 1 MiB blocks.
        private func nextMarker(after start: UInt64) throws -> UInt64? {
            var position = start + 1
            let block = 1 << 20
            while position + 4 <= size {
                try handle.seek(toOffset: position)
                guard let data = try handle.read(upToCount: block), data.count >= 4 else { return nil }
                if let found = data.firstRange(of: ScanJournal.marker) { return position + UInt64(found.lowerBound - data.startIndex) }
                position += UInt64(data.count - 3)
            }
            return nil
        }

        /// Format 1: part count (UInt32), then per part its length (UInt64) and bytes; a torn record ends the journal.
        private func nextVersion1() throws -> Record? {
            let start = offset
            guard let count = try Self.bytes(handle, at: start, count: 4).map({ integer($0, at: 0, as: UInt32.self) }) else { return nil }
            var position = start + 4
            var parts: [Data] = []
            for _ in 0..<count {
                guard let length = try Self.bytes(handle, at: position, count: 8).map({ integer($0, at: 0, as: UInt64.self) }),
                      length <= UInt64(ScanJournal.maximumBody), position + 8 + length <= size,
                      let part = try Self.bytes(handle, at: position + 8, count: Int(length)) else {
                    damaged += 1
                    offset = size
                    return nil
                }
                parts.append(part)
                position += 8 + length
            }
            offset = position
            return Record(offset: start, parts: parts)
        }
    }
}
