import Foundation
import MagpieCore
import MagpieMDF
import MagpiePlan
import MagpieReco
import MagpieWire

/// `magpie daemon`: receives magpie-stream v1, archives every accepted frame in the scan's
/// journal before anything else happens to it, runs the reconstruction plan on a second thread
/// behind a bounded queue, and turns each scan into one MDF file in the output directory.
public final class Daemon: @unchecked Sendable {  // shared state is behind locks or owned by one thread, as marked
    public let config: DaemonConfig
    public let counters = Counters()
    private let log: @Sendable (String) -> Void
    /// The plan's steps, built once (models and matrices loaded and verified before listening).
    private let runner: PlanRunner
    private let queue: WorkQueue
    private let state = NSLock()
    private var stopRequested = false          // under `state`
    private var heartbeat = DispatchTime.now()  // under `state`: the processing thread's last sign of life

    /// `log` gets one line per event, with control characters escaped (text from the stream goes into it).
    public init(config: DaemonConfig, log: @escaping @Sendable (String) -> Void) throws {
        self.config = config
        self.log = { log(LogText.escaped($0)) }
        do {
            try FileManager.default.createDirectory(atPath: config.directory, withIntermediateDirectories: true)
        } catch {
            throw PipelineError.config("output directory \(config.directory) cannot be created: \(error.localizedDescription)")
        }
        guard FileManager.default.isWritableFile(atPath: config.directory) else {
            throw PipelineError.config("output directory \(config.directory) is not writable")
        }
        do {
            runner = try PlanRunner(config.plan, context: PlanContext(manifest: config.models))
        } catch {
            throw PipelineError.config("\(error)")
        }
        queue = WorkQueue(capacity: config.queueLength)
    }

    public func stop() { state.withLock { stopRequested = true } }

    private var stopping: Bool { state.withLock { stopRequested } }

    // MARK: - Recovery

    /// Turns journals left by a daemon that was killed into MDF files holding every archived frame.
    /// A journal that cannot become a file is moved to `quarantine/` with a note of why (`magpie
    /// recover` saves what it can from it), so no journal can stop or loop the daemon's start.
    @discardableResult
    public func recover() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: config.directory)) ?? []
        var written: [String] = []
        for name in names.sorted() where name.hasPrefix(".") && (name.contains(".mdf.partial-") || name.hasSuffix(ImageSpool.suffix)) {
            // A file the writer had not finished, or the images of a scan, when the daemon died; the journal is still here.
            try? FileManager.default.removeItem(atPath: (config.directory as NSString).appendingPathComponent(name))
        }
        for name in names.sorted() where name.hasPrefix(".") && name.hasSuffix(".journal") {
            let journal = (config.directory as NSString).appendingPathComponent(name)
            do {
                let record = try ScanRecord(journal: journal)
                let path = try write(record, missing: record.missing(expected: record.start.framesPlanned), status: "recovered after the daemon stopped",
                                     complete: false, images: nil, counters: nil)
                try FileManager.default.removeItem(atPath: journal)
                log("recovered scan \(record.start.scanID): \(record.frames.count) archived frames -> \(path)")
                written.append(path)
            } catch {
                quarantine(journal, because: "\(error)")
            }
        }
        return written
    }

    /// Moves a journal that cannot become a file out of the way, with a note beside it.
    private func quarantine(_ journal: String, because reason: String) {
        let folder = (config.directory as NSString).appendingPathComponent("quarantine")
        let name = String((journal as NSString).lastPathComponent.dropFirst())   // visible there
        var target = (folder as NSString).appendingPathComponent(name)
        var attempt = 1
        while FileManager.default.fileExists(atPath: target) {
            attempt += 1
            target = (folder as NSString).appendingPathComponent("\(attempt)-\(name)")
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileManager.default.moveItem(atPath: journal, toPath: target)
            let note = "\(MDF.timestamp()) magpie \(MagpieVersion.string) could not turn this journal into an MDF file:\n\(reason)\n"
                + "Save what it holds with: magpie recover \(target) -o recovered.mdf\n"
            try? Data(note.utf8).write(to: URL(fileURLWithPath: target + ".why.txt"))
            log("cannot recover \(journal): \(reason); moved to \(target) (magpie recover saves what it holds)")
        } catch {
            log("cannot recover \(journal): \(reason); nor move it to \(folder): \(error); it is left in place")
        }
    }

    // MARK: - Running

    /// Receives until `stop()`; then closes the open scan, drains the stages and returns.
    /// `ready` is called once the socket is open; `tick` on every pass of the intake loop (at
    /// least every 100 ms), saying whether the processing thread is alive too (the systemd watchdog).
    public func run(ready: () -> Void = {}, tick: (_ processingAlive: Bool) -> Void = { _ in }) throws {
        var curve: ZeroMQSocket.Curve?
        var authenticator: ZAPAuthenticator?
        if let secretFile = config.curveSecretKeyFile, let clientsFile = config.curveAllowedClientsFile {
            let key = try CurveKey.load(secretKeyFile: secretFile)
            let allowed = try CurveKey.loadList(clientsFile)
            let counters = self.counters, log = self.log
            authenticator = try ZAPAuthenticator(allowed: allowed) { key, address in
                counters.update { $0.refusedHandshakes += 1 }
                log("refused a CURVE handshake from \(address): public key \(key) is not in \(clientsFile)")
            }
            curve = .server(secretKey: key.secretKey!)
            log("CURVE: the daemon's public key is \(key.publicKey); \(allowed.count) client key\(allowed.count == 1 ? "" : "s") allowed")
        }
        defer { authenticator?.stop() }
        let socket = try ZeroMQSocket(config.socket, endpoint: config.endpoint, bind: config.bind, highWaterMark: config.highWaterMark,
                                      maximumMessageBytes: config.maximumMessageBytes, curve: curve)
        let receiver = StreamReceiver()
        var scan: OpenScan?
        let finished = DispatchSemaphore(value: 0)
        let processing = Thread { [self] in
            processLoop()
            finished.signal()
        }
        processing.name = "magpie-processing"
        processing.start()
        log("listening on \(config.endpoint) (\(config.socket.rawValue), \(config.bind ? "bind" : "connect")), writing to \(config.directory)")
        ready()
        while !stopping {
            if let parts = try socket.receive(timeoutMilliseconds: 100) {
                for event in receiver.handle(parts) { handle(event, scan: &scan) }
            }
            for event in receiver.closeIfSilent(timeout: config.scanTimeout) { handle(event, scan: &scan) }
            do {
                try scan?.journal?.tick()
            } catch {
                if scan?.syncFailed == false { log("scan \(scan!.start.scanID): \(error) (logged once a scan)") }
                scan?.syncFailed = true
            }
            let beat = state.withLock { heartbeat }
            tick(DispatchTime.now().uptimeNanoseconds - beat.uptimeNanoseconds < 10_000_000_000)
        }
        for event in receiver.closeOpenScan(reason: "incomplete: the daemon stopped before scan-end") { handle(event, scan: &scan) }
        queue.push(.stop)
        finished.wait()
        let total = counters.total
        log("stopped; totals: " + zip(Counters.Values.names, total.all).map { "\($0) \($1)" }.joined(separator: ", "))
    }

    /// The open scan as the intake thread sees it.
    private struct OpenScan {
        let start: ScanStart
        /// The scan-start message, kept to create the journal late when the disk had no room at first.
        let startParts: [Data]
        let journalPath: String
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
    }

    /// Intake: the journal first, then the queue.
    private func handle(_ event: ReceiverEvent, scan: inout OpenScan?) {
        switch event {
        case let .scanStarted(start, parts):
            var open = OpenScan(start: start, startParts: parts, journalPath: newJournalPath(start.scanID),
                                conversion: NDArray(shape: [start.channels, 2], storage: start.metadata.acquisition.receiver.dataConversionFactor.flatMap { $0 }))
            log("scan \(start.scanID) started: \(start.framesPlanned) frames planned, \(start.channels) x \(start.samplesPerPeriod) \(start.sampleType.rawValue)")
            let repairs = MetadataRepair.repair(start.metadata).1
            if !repairs.isEmpty {
                log("scan \(start.scanID): metadata that is not valid MDF 2.1.0 is repaired in its file (originals under /_magpie/repairs): "
                    + repairs.map(\.description).joined(separator: "; "))
            }
            checkFreeSpace(for: start)
            openJournal(&open)
            scan = open
            queue.push(.begin(ScanDescription(metadata: MDFFile(scanStart: start, frames: start.framesPlanned), name: "scan \(start.scanID)")))
        case let .frame(header, payload, parts):
            counters.update { $0.received += 1 }
            guard var open = scan else { return }
            defer { scan = open }
            if open.journal == nil { openJournal(&open) }
            do {
                guard let journal = open.journal else { throw PipelineError.archive("no journal for the scan") }
                try journal.append(parts)
            } catch {
                open.notArchived += 1
                counters.update { $0.notArchived += 1 }
                if open.notArchived == 1 || open.notArchived.isMultiple(of: 1000) {
                    log("scan \(header.scanID): frame \(header.frame) not archived (\(open.notArchived) so far in this scan): \(error)")
                }
                return
            }
            counters.update { $0.archived += 1 }
            let now = DispatchTime.now().uptimeNanoseconds
            if open.intake.frames == 0 { open.intake.first = now }
            open.intake = (open.intake.first, now, open.intake.frames + 1, open.intake.bytes + payload.count)
            let item = planItem(header, payload: payload, conversion: open.conversion, ordinal: header.flags.background ? nil : open.foreground)
            if !header.flags.background { open.foreground += 1 }
            let dropped = queue.push(.frame(item))
            if dropped > 0 { counters.update { $0.skipped += dropped } }
        case let .scanClosed(closure):
            var journal: String?
            if let open = scan {
                do {
                    try open.journal?.close()
                } catch {
                    log("scan \(closure.scanID): \(error)")
                }
                if open.journal != nil { journal = open.journalPath }
                if open.intake.frames > 1 {
                    let seconds = Double(open.intake.last - open.intake.first) / 1e9
                    log(String(format: "scan %@: archived %d frames in %.3f s (%.0f frames/s, %.1f MB/s)", closure.scanID, open.intake.frames, seconds,
                               Double(open.intake.frames - 1) / seconds, Double(open.intake.bytes) / seconds / 1e6))
                }
                if open.notArchived > 0 { log("scan \(closure.scanID): \(open.notArchived) frames received but not archived (see the log above)") }
            }
            scan = nil
            counters.update { $0.lost += MissingFrames.count(closure.missing) }
            queue.push(.end(closure, journal: journal, counters: counters.takeScan()))
        case let .rejected(reason, isFrame):
            counters.update {
                $0.rejected += 1
                if isFrame { $0.received += 1 }
            }
            if let reason { log("rejected: \(reason)") }
        case let .gap(after, count):
            log("sequence gap: \(count) message\(count == 1 ? "" : "s") missing after \(after)")
        case let .resynchronized(from, to):
            log("sequence jumped from \(from) to \(to), beyond \(StreamLimits.maximumSequenceJump): a restarted sender or a wild value; counting afresh")
        case let .dropped(count):
            counters.update { $0.lost += count }
            log("dropped \(count) frame\(count == 1 ? "" : "s") held too long for a scan-start that never came")
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

    /// Creates the open scan's journal; on failure (a full disk) the scan goes on unarchived and
    /// the next frame tries again, at most once a second.
    private func openJournal(_ open: inout OpenScan) {
        let now = DispatchTime.now().uptimeNanoseconds
        guard open.journal == nil, open.lastAttempt == 0 || now - open.lastAttempt >= 1_000_000_000 else { return }
        do {
            open.journal = try ScanJournal(path: open.journalPath, scanStart: open.startParts, durability: config.durability)
            if open.lastAttempt != 0 { log("scan \(open.start.scanID): archiving resumed in \(open.journalPath)") }
        } catch {
            if open.lastAttempt == 0 { log("scan \(open.start.scanID): \(error); its frames are not archived until the journal can be created") }
            open.lastAttempt = now
        }
    }

    /// Free bytes in the output directory's file system, or nil when it cannot be told.
    private func freeBytes() -> Int64? {
        var info = statvfs()
        guard statvfs(config.directory, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// Warns when the scan's planned journal and file (twice its payload) or `min_free_bytes` would not fit.
    private func checkFreeSpace(for start: ScanStart) {
        guard let free = freeBytes() else { return }
        counters.setFreeBytes(free)
        let frameBytes = Int64(StreamLimits.payloadBytes(start.frameShape, elementSize: start.sampleType.size) ?? 0)
        let (planned, overflow) = Int64(start.framesPlanned).multipliedReportingOverflow(by: 2 * frameBytes)
        let needed = max(overflow ? Int64.max : planned, config.minFreeBytes)
        if free < needed {
            counters.update { $0.lowSpaceWarnings += 1 }
            log("warning: \(free / 1_000_000) MB free in \(config.directory); scan \(start.scanID) plans \(start.framesPlanned) frames "
                + "(about \(overflow ? "more than 9e12" : "\(planned / 1_000_000)") MB with its journal), min_free_bytes is \(config.minFreeBytes / 1_000_000) MB")
        }
    }

    /// The frame's first period in physical units (the scan-start's conversion, validated C x 2).
    private func planItem(_ header: FrameHeader, payload: Data, conversion: NDArray<Double>, ordinal: Int?) -> PlanItem {
        let (channels, samples) = (header.shape[1], header.shape[2])
        var period = NDArray(shape: [1, channels, samples],
                             storage: StreamCodec.values(of: payload.prefix(channels * samples * header.sampleType.size), type: header.sampleType))
        try? MeasuredFrames.convert(&period, conversion: conversion)
        return PlanItem(frame: header.frame, foregroundOrdinal: ordinal, sentNs: header.sentNs, signals: period.reshaped([channels, samples]))
    }

    // MARK: - Processing

    private struct ScanProgress {
        var scan: ScanDescription
        var enabled = true
        /// The scan's images, spooled to disk (nil until the first image, or when the spool cannot be created).
        var images: ImageSpool?
        var spoolFailed = false
        var processed = 0
        var lastPreview = DispatchTime(uptimeNanoseconds: 0)
        var failures = 0
        /// Milliseconds from a frame's sending to its image, per reconstructed frame.
        var latencies: [Double] = []
    }

    private func processLoop() {
        var scan: ScanProgress?
        while true {
            state.withLock { heartbeat = DispatchTime.now() }
            guard let work = queue.pop(timeout: 0.1) else { continue }
            switch work {
            case let .begin(description):
                scan = ScanProgress(scan: description)
                do {
                    try runner.begin(description)
                } catch {
                    log("\(description.name): the plan cannot process it (\(error)); it is archived without processing")
                    scan?.enabled = false
                }
            case let .frame(item):
                // In place: a copy of the progress would copy its growing latency list for every frame.
                if scan != nil { process(item, &scan!) }
            case let .end(closure, journal, scanCounters):
                finish(closure, journal: journal, progress: scan, counters: scanCounters)
                scan = nil
            case .stop:
                return
            }
        }
    }

    private func process(_ item: PlanItem, _ progress: inout ScanProgress) {
        guard progress.enabled else { return }
        let result: PlanItem?
        do {
            result = try runner.process(item)
        } catch {
            progress.failures += 1
            if progress.failures <= 3 { log("\(progress.scan.name): frame \(item.frame) not processed: \(error)") }
            return
        }
        progress.processed += 1
        counters.update { $0.processed += 1 }
        guard let item = result, let image = item.image, let geometry = runner.geometry else { return }
        progress.latencies.append((Double(ScanPublisher.nanosecondsSinceEpoch()) - Double(item.sentNs)) / 1e6)
        if progress.images == nil && !progress.spoolFailed {
            let path = (config.directory as NSString).appendingPathComponent(".\(LogText.fileSafe(progress.scan.name))-\(UUID().uuidString.prefix(8))\(ImageSpool.suffix)")
            do {
                progress.images = try ImageSpool(path: path, voxels: image.count)
            } catch {
                progress.spoolFailed = true
                log("\(progress.scan.name): its images are not kept: \(error)")
            }
        }
        do {
            try progress.images?.append(image.storage, frame: item.frame)
        } catch {
            progress.images?.remove()
            progress.images = nil
            progress.spoolFailed = true
            log("\(progress.scan.name): its images are not kept: \(error)")
        }
        let now = DispatchTime.now()
        if let preview = config.previewPath, now.uptimeNanoseconds - progress.lastPreview.uptimeNanoseconds > 250_000_000 {
            try? Preview.write(image.storage[...], size: geometry.size, to: preview)
            progress.lastPreview = now
        }
    }

    private func finish(_ closure: ScanClosure, journal: String?, progress: ScanProgress?, counters scanCounters: Counters.Values) {
        var values = scanCounters
        values.processed = progress?.processed ?? 0
        defer { progress?.images?.remove() }
        guard let journal else {
            log("scan \(closure.scanID) \(closure.complete ? "complete" : closure.status): nothing archived ("
                + zip(Counters.Values.names, values.all).map { "\($0) \($1)" }.joined(separator: ", ") + "); no file written")
            return
        }
        do {
            let record = try ScanRecord(journal: journal)
            let path = try write(record, missing: closure.missing, status: closure.status, complete: closure.complete,
                                 images: progress?.images, counters: values)
            if let preview = config.previewPath, let geometry = runner.geometry, let newest = progress?.images?.newest {
                try? Preview.write(newest[...], size: geometry.size, to: preview)
            }
            try FileManager.default.removeItem(atPath: journal)
            log("scan \(closure.scanID) \(closure.complete ? "complete" : closure.status): "
                + zip(Counters.Values.names, values.all).map { "\($0) \($1)" }.joined(separator: ", ")
                + (closure.missing.isEmpty ? "" : " (missing frames \(MissingFrames.description(closure.missing)))") + " -> \(path)")
            if let latencies = progress?.latencies.sorted(), !latencies.isEmpty {
                log(String(format: "scan %@: send-to-image latency median %.2f ms, 99th percentile %.2f ms, over %d images", closure.scanID,
                           latencies[latencies.count / 2], latencies[min(latencies.count - 1, latencies.count * 99 / 100)], latencies.count))
            }
            applyRetention(keeping: path)
        } catch {
            log("scan \(closure.scanID): cannot write its file (\(error)); its journal \(journal) is kept and will be recovered at the next start")
        }
    }

    /// Writes a scan's MDF file; returns its path.
    private func write(_ record: ScanRecord, missing: [ClosedRange<Int>], status: String, complete: Bool, images: ImageSpool?,
                       counters values: Counters.Values?) throws -> String {
        var reconstruction: MDF.Reconstruction?
        if let geometry = runner.geometry, let images, images.count > 0 {
            reconstruction = geometry.reconstruction(.notLoaded(shape: [images.count, images.voxels, 1], elementType: .float32))
        }
        let stamp = MDF.timestamp(Date(timeIntervalSince1970: Double(record.start.timeNs) / 1e9))
            .replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "-", with: "").prefix(15)
        let base = "\(stamp)-\(LogText.fileSafe(record.start.scanID, limit: 8))"
        var path = (config.directory as NSString).appendingPathComponent("\(base).mdf")
        var attempt = 1
        while FileManager.default.fileExists(atPath: path) {
            attempt += 1
            path = (config.directory as NSString).appendingPathComponent("\(base)-\(attempt).mdf")
        }
        let config = self.config
        // The plan that made the images (none for a recovered or archive-only scan: nothing to reproduce).
        let provenance = reconstruction.map { _ in PlanProvenance(runner: runner, unit: runner.unit ?? "", frames: images?.frames ?? []) }
        try record.write(to: path, missing: missing, reconstruction: reconstruction, images: reconstruction == nil ? nil : images) { hdf in
            let g = "/_magpie/daemon"
            try hdf.write("magpie \(MagpieVersion.string)", to: "\(g)/software")
            try hdf.write(config.text, to: "\(g)/config")
            try hdf.write(status, to: "\(g)/status")
            try hdf.write(scalar: Int8(complete ? 1 : 0), to: "\(g)/complete")
            try provenance?.write(to: hdf)
            if let values {
                for (name, value) in zip(Counters.Values.names, values.all) { try hdf.write(scalar: Int64(value), to: "\(g)/counters/\(name)") }
            }
        }
        return path
    }

    /// Deletes the oldest finished scan files beyond `[output] keep_days` / `keep_bytes` (never a
    /// journal, a quarantined journal, a file being written, or `keeping`, the newest).
    func applyRetention(keeping newest: String? = nil) {
        guard config.keepDays != nil || config.keepBytes != nil else { return }
        let directory = config.directory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var files: [(path: String, modified: Date, size: Int64)] = names.filter { !$0.hasPrefix(".") && $0.hasSuffix(".mdf") }.compactMap { name in
            let path = (directory as NSString).appendingPathComponent(name)
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                  let modified = attributes[.modificationDate] as? Date, let size = attributes[.size] as? Int64 else { return nil }
            return (path, modified, size)
        }.sorted { $0.modified < $1.modified }
        var total = files.reduce(0) { $0 + $1.size }
        let cutoff = config.keepDays.map { Date(timeIntervalSinceNow: -$0 * 86_400) }
        while let oldest = files.first, oldest.path != newest,
              (cutoff.map { oldest.modified < $0 } ?? false) || (config.keepBytes.map { total > $0 } ?? false) {
            files.removeFirst()
            do {
                try FileManager.default.removeItem(atPath: oldest.path)
                total -= oldest.size
                log("retention: deleted \(oldest.path) (\(oldest.size / 1_000_000) MB, written \(MDF.timestamp(oldest.modified)))")
            } catch {
                log("retention: cannot delete \(oldest.path): \(error)")
            }
        }
    }
}
