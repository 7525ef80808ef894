import CoreMetrics
import Foundation
import Synchronization

/// The daemon's counters: totals since start, exported through swift-metrics (Prometheus names,
/// `Values.metricNames`), and the open scan's, which its file records.
public final class Counters: Sendable {
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

        /// "received 3000, archived 3000, ...", for the log.
        public var summary: String { zip(Self.names, all).map { "\($0) \($1)" }.joined(separator: ", ") }
    }

    private struct State {
        var totals = Values()
        var scan = Values()
    }

    private let state = Mutex(State())
    private let exported: [CoreMetrics.Counter]
    private let freeBytes: Gauge

    /// `factory`: where the counters are exported (the daemon's Prometheus registry).
    public init(factory: any MetricsFactory) {
        exported = Values.metricNames.map { CoreMetrics.Counter(label: $0, factory: factory) }
        freeBytes = Gauge(label: "magpie_output_free_bytes", factory: factory)
    }

    /// Free bytes in the output directory's file system at the last check.
    public func setFreeBytes(_ bytes: Int64) { freeBytes.record(bytes) }

    public func update(_ change: (inout Values) -> Void) {
        let (before, after) = state.withLock { state in
            let before = state.totals.all
            change(&state.totals)
            change(&state.scan)
            return (before, state.totals.all)
        }
        for (counter, (old, new)) in zip(exported, zip(before, after)) where new > old { counter.increment(by: new - old) }
    }

    public var total: Values { state.withLock { $0.totals } }

    /// The open scan's counters, reset for the next scan.
    public func takeScan() -> Values {
        state.withLock { state in
            defer { state.scan = Values() }
            return state.scan
        }
    }
}
