import Foundation

/// The daemon's counters, shared by its threads; totals since start and per open scan.
public final class Counters: @unchecked Sendable {  // every access holds `lock`
    public struct Values: Sendable, Equatable, Codable {
        /// Frame messages taken off the socket (valid or not).
        public var received = 0
        /// Frames written to the scan journal.
        public var archived = 0
        /// Frames that went through the processing stages.
        public var processed = 0
        /// Frames the processing stages skipped to keep up (they are archived all the same).
        public var skipped = 0
        /// Frames of closed scans that never arrived.
        public var lost = 0
        /// Messages refused as invalid.
        public var rejected = 0
        /// Accepted frames that could not be written to the journal (a full or failing disk).
        public var notArchived = 0
        /// Scans that started with less free space in the output directory than they plan to need.
        public var lowSpaceWarnings = 0
        /// CURVE handshakes refused (a public key not in the allowed list).
        public var refusedHandshakes = 0

        public init() {}

        public static let names = ["received", "archived", "processed", "skipped", "lost", "rejected", "not_archived", "low_space_warnings",
                                   "refused_handshakes"]
        public var all: [Int] { [received, archived, processed, skipped, lost, rejected, notArchived, lowSpaceWarnings, refusedHandshakes] }

        /// The Prometheus name of each counter (`names` order): frames, then the output directory, then the stream.
        public static let metricNames = names.map { name in
            switch name {
            case "low_space_warnings": return "magpie_output_\(name)_total"
            case "refused_handshakes": return "magpie_stream_\(name)_total"
            default: return "magpie_frames_\(name)_total"
            }
        }
    }

    private let lock = NSLock()
    private var totals = Values()
    private var scan = Values()
    private var freeBytes: Int64?

    public init() {}

    /// Free bytes in the output directory's file system at the last check (a gauge).
    public func setFreeBytes(_ bytes: Int64) { lock.withLock { freeBytes = bytes } }
    public var outputFreeBytes: Int64? { lock.withLock { freeBytes } }

    public func update(_ change: (inout Values) -> Void) {
        lock.withLock {
            change(&totals)
            change(&scan)
        }
    }

    public var total: Values { lock.withLock { totals } }

    /// The open scan's counters, reset for the next scan.
    public func takeScan() -> Values {
        lock.withLock {
            defer { scan = Values() }
            return scan
        }
    }
}
