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

        /// Each counter's name (in files and logs) and field, in a fixed order.
        static let fields: [(name: String, path: WritableKeyPath<Values, Int> & Sendable)] = [
            ("received", \.received), ("archived", \.archived), ("processed", \.processed), ("skipped", \.skipped), ("lost", \.lost),
            ("rejected", \.rejected), ("not_archived", \.notArchived), ("low_space_warnings", \.lowSpaceWarnings),
            ("refused_handshakes", \.refusedHandshakes),
        ]
        public static let names = fields.map(\.name)
        public var all: [Int] { Self.fields.map { self[keyPath: $0.path] } }

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
    private let archivedBytes: CoreMetrics.Counter
    private let scansWritten: (complete: CoreMetrics.Counter, incomplete: CoreMetrics.Counter)
    private let lastScanWritten: Gauge

    /// `factory`: where the counters are exported (the daemon's Prometheus registry).
    public init(factory: any MetricsFactory) {
        exported = Values.metricNames.map { CoreMetrics.Counter(label: $0, factory: factory) }
        freeBytes = Gauge(label: "magpie_output_free_bytes", factory: factory)
        archivedBytes = CoreMetrics.Counter(label: "magpie_archived_bytes_total", factory: factory)
        scansWritten = (CoreMetrics.Counter(label: "magpie_scans_written_total", dimensions: [("complete", "true")], factory: factory),
                        CoreMetrics.Counter(label: "magpie_scans_written_total", dimensions: [("complete", "false")], factory: factory))
        // A time, not an age (Prometheus's convention): the age is `time() - magpie_last_scan_written_timestamp_seconds`.
        lastScanWritten = Gauge(label: "magpie_last_scan_written_timestamp_seconds", factory: factory)
    }

    /// Payload bytes written to journals (one call a journal write).
    public func addArchived(bytes: Int) { archivedBytes.increment(by: bytes) }

    /// A scan's file is written.
    public func scanWritten(complete: Bool) {
        (complete ? scansWritten.complete : scansWritten.incomplete).increment()
        lastScanWritten.record(Date().timeIntervalSince1970)
    }

    /// Free bytes in the output directory's file system at the last check.
    public func setFreeBytes(_ bytes: Int64) { freeBytes.record(bytes) }

    /// Applies `change` to the totals and the scan's counters, and exports what grew (per frame: no allocation).
    public func update(_ change: (inout Values) -> Void) {
        let (before, after) = state.withLock { state in
            let before = state.totals
            change(&state.totals)
            change(&state.scan)
            return (before, state.totals)
        }
        export(before, after)
    }

    private func export(_ before: Values, _ after: Values) {
        for (index, field) in Values.fields.enumerated() where after[keyPath: field.path] > before[keyPath: field.path] {
            exported[index].increment(by: after[keyPath: field.path] - before[keyPath: field.path])
        }
    }

    /// Applies `change` to the totals only: for what processing counts of a scan whose counters
    /// intake may already have handed on (processing adds it to that scan's own values).
    public func updateTotals(_ change: (inout Values) -> Void) {
        let (before, after) = state.withLock { state in
            let before = state.totals
            change(&state.totals)
            return (before, state.totals)
        }
        export(before, after)
    }

    public var total: Values { state.withLock { $0.totals } }

    /// The open scan's counters so far.
    public var scan: Values { state.withLock { $0.scan } }

    /// The open scan's counters, reset for the next scan.
    public func takeScan() -> Values {
        state.withLock { state in
            defer { state.scan = Values() }
            return state.scan
        }
    }
}
