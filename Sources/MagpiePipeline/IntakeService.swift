import Foundation
import Logging
import MagpieCore
import MagpieMDF
import MagpiePlan
import MagpieReco
import MagpieWire
import ServiceLifecycle
import Synchronization

/// Intake: the socket, the stream's rules (`StreamReceiver`), and each accepted frame written to
/// the scan's journal before it goes to the processing queue. The blocking receive loop runs on a
/// thread of its own; graceful shutdown stops it within 100 ms, and the open scan is closed as
/// incomplete and handed on, so its file is still written.
final class IntakeService: Service {
    private let config: DaemonConfig
    private let queue: WorkQueue
    private let counters: Counters
    private let logger: Logger
    let heartbeat = Heartbeat()
    private let stopRequested = Atomic(false)
    /// Called once the socket listens (systemd's READY=1).
    private let ready: @Sendable () -> Void

    init(config: DaemonConfig, queue: WorkQueue, counters: Counters, logger: Logger, ready: @escaping @Sendable () -> Void) {
        (self.config, self.queue, self.counters, self.logger, self.ready) = (config, queue, counters, logger, ready)
    }

    func run() async throws {
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await DedicatedThread.run(name: "magpie-intake") { [self] in try receive() }
        } onCancelOrGracefulShutdown: {
            self.stopRequested.store(true, ordering: .relaxed)
        }
    }

    /// The most messages, and about the most bytes, taken off the socket at once.
    static let batch = 32, batchBytes = 256 << 10

    private func receive() throws {
        var curve: ZeroMQSocket.Curve?
        var authenticator: ZAPAuthenticator?
        if let secretFile = config.curveSecretKeyFile, let clientsFile = config.curveAllowedClientsFile {
            let key = try CurveKey.load(secretKeyFile: secretFile)
            let allowed = try CurveKey.loadList(clientsFile)
            let (counters, logger) = (self.counters, self.logger)
            authenticator = try ZAPAuthenticator(allowed: allowed) { key, address in
                counters.update { $0.refusedHandshakes += 1 }
                logger.warning("refused a CURVE handshake from \(address): public key \(key) is not in \(clientsFile)")
            }
            curve = .server(secretKey: key.secretKey!)
            logger.info("CURVE: the daemon's public key is \(key.publicKey); \(allowed.count) client key\(allowed.count == 1 ? "" : "s") allowed")
        }
        defer { authenticator?.stop() }
        let socket = try ZeroMQSocket(config.socket, endpoint: config.endpoint, bind: config.bind, highWaterMark: config.highWaterMark,
                                      maximumMessageBytes: config.maximumMessageBytes, curve: curve)
        defer { socket.close() }
        logger.info("listening on \(config.endpoint) (\(config.socket.rawValue), \(config.bind ? "bind" : "connect")), writing to \(config.directory)")
        ready()
        var intake = Intake(service: self)
        while !stopRequested.load(ordering: .relaxed) {
            heartbeat.beat()
            if let parts = try socket.receive(timeoutMilliseconds: 100) {
                // What else waits is taken too (up to 32 messages or 256 KiB), so its frames are
                // journalled with one write: the per-call cost of the write is most of intake's own
                // for small frames. A 3D frame (646 kB) is journalled alone: batching those was
                // measured 0.6 x as fast (a batch no longer fits the caches).
                var events = intake.receiver.handle(parts)
                var bytes = parts.reduce(0) { $0 + $1.count }
                for _ in 1..<Self.batch where bytes < Self.batchBytes {
                    guard let more = try socket.receive(timeoutMilliseconds: 0) else { break }
                    events += intake.receiver.handle(more)
                    bytes += more.reduce(0) { $0 + $1.count }
                }
                intake.handle(events)
            }
            intake.handle(intake.receiver.closeIfSilent(timeout: config.scanTimeout))
            intake.tick()
        }
        intake.handle(intake.receiver.closeOpenScan(reason: "incomplete: the daemon stopped before scan-end"))
        logger.info("intake stopped")
    }

    /// The intake thread's own state: the receiver and the open scan.
    private struct Intake {
        let service: IntakeService
        let receiver = StreamReceiver()
        var scan: OpenScan?

        var config: DaemonConfig { service.config }
        var counters: Counters { service.counters }

        /// Forces the journal to the disk when its durability setting says so.
        mutating func tick() {
            guard var open = scan else { return }
            do {
                try open.journal?.tick()
            } catch {
                if !open.syncFailed { open.logger.error("\(error) (logged once a scan)") }
                open.syncFailed = true
            }
            scan = open
        }

        /// Events in order; each run of frames is journalled together.
        mutating func handle(_ events: [ReceiverEvent]) {
            var frames: [(FrameHeader, Data, [Data])] = []
            for event in events {
                if case let .frame(header, payload, parts) = event {
                    frames.append((header, payload, parts))
                    continue
                }
                archive(frames)
                frames.removeAll()
                handle(event)
            }
            archive(frames)
        }

        /// Frames into the journal (one write), then each to the queue. If the write fails, none
        /// of them is archived (the journal is cut back to its last whole record) and each is counted.
        mutating func archive(_ frames: [(header: FrameHeader, payload: Data, parts: [Data])]) {
            guard !frames.isEmpty else { return }
            guard var open = scan else {
                counters.update { $0.received += frames.count }
                return
            }
            defer { scan = open }
            // Taken before the write, so the scan's logged intake rate counts the first batch's time too.
            let now = DispatchTime.now().uptimeNanoseconds
            if open.journal == nil { open.openJournal(durability: config.durability) }
            do {
                guard let journal = open.journal else { throw PipelineError.archive("no journal for the scan") }
                try journal.append(records: frames.map(\.parts))
            } catch {
                let before = open.notArchived
                open.notArchived += frames.count
                counters.update {
                    $0.received += frames.count
                    $0.notArchived += frames.count
                }
                if before == 0 || before / 1000 != open.notArchived / 1000 {   // logged at the first and every 1000th
                    open.logger.error("frame \(frames[0].header.frame) not archived (\(open.notArchived) so far in this scan): \(error)")
                }
                return
            }
            counters.update {   // one update a write: the counters' lock is on the hot path
                $0.received += frames.count
                $0.archived += frames.count
            }
            if open.intake.frames == 0 { open.intake.first = now }
            let bytes = frames.reduce(0) { $0 + $1.payload.count }
            counters.addArchived(bytes: bytes)
            open.intake = (open.intake.first, DispatchTime.now().uptimeNanoseconds, open.intake.frames + frames.count, open.intake.bytes + bytes)
            for (header, payload, _) in frames {
                guard service.queue.takesFrames else {   // archive only: the plan makes no images
                    if !header.flags.background { open.foreground += 1 }
                    continue
                }
                let item = PlanItem(frame: header.frame, shape: header.shape, sampleType: header.sampleType, payload: payload, conversion: open.conversion,
                                    ordinal: header.flags.background ? nil : open.foreground, sentNs: header.sentNs)
                if !header.flags.background { open.foreground += 1 }
                let dropped = service.queue.push(.frame(item))
                if dropped > 0 { counters.update { $0.skipped += dropped } }
            }
        }

        /// The journal first, then the queue.
        mutating func handle(_ event: ReceiverEvent) {
            switch event {
            case let .scanStarted(start, parts):
                var logger = service.logger
                logger[metadataKey: DaemonLogHandler.scanKey] = "\(start.scanID)"
                var open = OpenScan(startParts: parts, journalPath: newJournalPath(start.scanID), logger: logger, conversion: start.conversion)
                logger.info("started: \(start.framesPlanned) frames planned, \(start.channels) x \(start.samplesPerPeriod) \(start.sampleType.rawValue)")
                let repairs = MetadataRepair.repair(start.metadata).1
                if !repairs.isEmpty {
                    logger.warning("metadata that is not valid MDF 2.1.0 is repaired in its file (originals under /_magpie/repairs): \(repairs.map(\.description).joined(separator: "; "))")
                }
                checkFreeSpace(for: start, logger: logger)
                open.openJournal(durability: config.durability)
                scan = open
                service.queue.push(.begin(ScanDescription(metadata: MDFFile(scanStart: start, frames: start.framesPlanned), name: "scan \(start.scanID)"), scanID: start.scanID))
            case let .frame(header, payload, parts):
                archive([(header, payload, parts)])
            case let .scanClosed(closure):
                var journal: String?
                if let open = scan {
                    do {
                        try open.journal?.close()
                    } catch {
                        open.logger.error("\(error)")
                    }
                    if open.journal != nil { journal = open.journalPath }
                    if open.intake.frames > 1 {
                        let seconds = Double(open.intake.last - open.intake.first) / 1e9
                        open.logger.info("\(String(format: "archived %d frames in %.3f s (%.0f frames/s, %.1f MB/s)", open.intake.frames, seconds, Double(open.intake.frames - 1) / seconds, Double(open.intake.bytes) / seconds / 1e6))")
                    }
                    if open.notArchived > 0 { open.logger.error("\(open.notArchived) frames received but not archived (see the log above)") }
                }
                scan = nil
                counters.update { $0.lost += MissingFrames.count(closure.missing) }
                service.queue.push(.end(closure, journal: journal, counters: counters.takeScan()))
            case let .rejected(reason, isFrame):
                counters.update {
                    $0.rejected += 1
                    if isFrame { $0.received += 1 }
                }
                if let reason { service.logger.warning("rejected: \(reason)") }
            case let .gap(after, count):
                service.logger.warning("sequence gap: \(count) message\(count == 1 ? "" : "s") missing after \(after)")
            case let .resynchronized(from, to):
                service.logger.warning("sequence jumped from \(from) to \(to), beyond \(StreamLimits.maximumSequenceJump): a restarted sender or a wild value; counting afresh")
            case let .dropped(count):
                counters.update { $0.lost += count }
                service.logger.warning("dropped \(count) frame\(count == 1 ? "" : "s") held too long for a scan-start that never came")
            }
        }

        /// A journal path no other journal has: scan ids that sanitise alike, or a journal kept for
        /// recovery, are never overwritten.
        private func newJournalPath(_ scanID: String) -> String {
            let safe = LogText.fileSafe(scanID)
            var path = (config.directory as NSString).appendingPathComponent(".\(safe).journal")
            var attempt = 1
            while FileManager.default.fileExists(atPath: path) {
                attempt += 1
                path = (config.directory as NSString).appendingPathComponent(".\(safe)-\(attempt).journal")
            }
            return path
        }

        /// Warns when the scan's planned journal and file (twice its payload) or `min_free_bytes` would not fit.
        private func checkFreeSpace(for start: ScanStart, logger: Logger) {
            var info = statvfs()
            guard statvfs(config.directory, &info) == 0 else { return }
            let free = Int64(info.f_bavail) * Int64(info.f_frsize)
            counters.setFreeBytes(free)
            let frameBytes = Int64(StreamLimits.payloadBytes(start.frameShape, elementSize: start.sampleType.size) ?? 0)
            let (planned, overflow) = Int64(start.framesPlanned).multipliedReportingOverflow(by: 2 * frameBytes)
            let needed = max(overflow ? Int64.max : planned, config.minFreeBytes)
            if free < needed {
                counters.update { $0.lowSpaceWarnings += 1 }
                let plannedMB = overflow ? "more than 9e12" : "\(planned / 1_000_000)"
                logger.warning("\(free / 1_000_000) MB free in \(config.directory); the scan plans \(start.framesPlanned) frames (about \(plannedMB) MB with its journal), min_free_bytes is \(config.minFreeBytes / 1_000_000) MB")
            }
        }
    }

    /// The open scan as intake sees it.
    private struct OpenScan {
        /// The scan-start message, kept to create the journal late when the disk had no room at first.
        let startParts: [Data]
        let journalPath: String
        /// The daemon's logger with the scan's id as metadata.
        let logger: Logger
        var journal: ScanJournal?
        /// When creating the journal last failed (uptime ns): retried at most once a second.
        var lastAttempt: UInt64 = 0
        var notArchived = 0
        var syncFailed = false
        /// Foreground frames archived so far: the next one's ordinal (the plan's blocks count on it).
        var foreground = 0
        var intake = (first: UInt64(0), last: UInt64(0), frames: 0, bytes: 0)
        /// The dataConversionFactor per channel, applied before processing.
        let conversion: NDArray<Double>

        init(startParts: [Data], journalPath: String, logger: Logger, conversion: NDArray<Double>) {
            (self.startParts, self.journalPath, self.logger, self.conversion) = (startParts, journalPath, logger, conversion)
        }

        /// Creates the journal; on failure (a full disk) the scan goes on unarchived and the next
        /// frame tries again, at most once a second.
        mutating func openJournal(durability: ScanJournal.Durability) {
            let now = DispatchTime.now().uptimeNanoseconds
            guard journal == nil, lastAttempt == 0 || now - lastAttempt >= 1_000_000_000 else { return }
            do {
                journal = try ScanJournal(path: journalPath, scanStart: startParts, durability: durability)
                if lastAttempt != 0 { logger.info("archiving resumed in \(journalPath)") }
            } catch {
                if lastAttempt == 0 { logger.error("\(error); its frames are not archived until the journal can be created") }
                lastAttempt = now
            }
        }
    }
}
