import Foundation
import MagpieCore
import MagpieMDF
import MagpieNeural
import MagpieReco
import MagpieWire

/// `magpie daemon`: receives magpie-stream v1, archives every accepted frame in the scan's
/// journal before anything else happens to it, runs the processing stages on a second thread
/// behind a bounded queue, and turns each scan into one MDF file in the output directory.
public final class Daemon: @unchecked Sendable {  // shared state is behind locks or owned by one thread, as marked
    public let config: DaemonConfig
    public let counters = Counters()
    private let log: @Sendable (String) -> Void
    private let stages: [FrameStage]
    private let reconstruction: ReconstructionStage?
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
        var stages: [FrameStage] = []
        if config.subtractBackground { stages.append(BackgroundStage()) }
        if config.denoise == .ssd {
            do {
                stages.append(try DenoiseStage(model: config.denoiseModel, manifest: config.models))
            } catch {
                throw PipelineError.config("[pipeline] denoise = \"ssd\": \(error)")
            }
        }
        switch config.reconstruction {
        case .off:
            reconstruction = nil
        case .xspace:
            reconstruction = ReconstructionStage(.xspace)
        case .kaczmarz, .cgnr, .score:
            let path = config.systemMatrix!
            let file = try MDFReader.read(path)
            // The score paper's A keeps frequencies with calibration SNR >= 5; the solvers MPIReco's 2.
            let selection = FrequencySelection(snrThreshold: config.reconstruction == .score ? 5 : 2)
            let matrix = try SystemMatrix(try ReconstructionInputs.recordedSystemMatrix(file, path: path), selection: selection)
            if config.reconstruction != .score {
                let solver = SystemMatrixSolver(config.reconstruction == .cgnr ? .cgnr : .kaczmarz, lambda: config.lambda,
                                                iterations: config.iterations, residuals: false).reusable(with: matrix)
                reconstruction = ReconstructionStage(.systemMatrix(matrix, file: file, path: path, solver: solver))
                break
            }
            var parameters = ScoreSampler.Parameters()
            parameters.lambda = config.lambda ?? parameters.lambda
            parameters.steps = config.iterations ?? parameters.steps
            do {
                let sampler = try ScoreSampler(model: LearnedModel(named: config.scoreModel, manifestPath: config.models, kind: ScoreSampler.kind))
                let score = try ScoreReconstruction(matrix: matrix, grid: file.calibration!.size, sampler: sampler, parameters: parameters)
                reconstruction = ReconstructionStage(.score(score, file: file, path: path))
            } catch {
                throw PipelineError.config("[pipeline] reconstruct = \"score\": \(error)")
            }
        }
        if let reconstruction { stages.append(reconstruction) }
        do {
            if let method = try DeblurMethod.named(config.deblur, model: config.deblurModel, manifest: config.models) {
                stages.append(DeblurStage(method))
            }
        } catch {
            throw PipelineError.config("[pipeline] deblur = \"\(config.deblur.rawValue)\": \(error)")
        }
        self.stages = stages
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
        for name in names.sorted() where name.hasPrefix(".") && name.contains(".mdf.partial-") {
            // A file the writer had not finished when the daemon died; its journal is still here.
            try? FileManager.default.removeItem(atPath: (config.directory as NSString).appendingPathComponent(name))
        }
        for name in names.sorted() where name.hasPrefix(".") && name.hasSuffix(".journal") {
            let journal = (config.directory as NSString).appendingPathComponent(name)
            do {
                let record = try ScanRecord(journal: journal)
                let path = try write(record, missing: record.missing(expected: record.start.framesPlanned), status: "recovered after the daemon stopped",
                                     complete: false, images: [], imageFrames: [], counters: nil)
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
        let socket = try ZeroMQSocket(config.socket, endpoint: config.endpoint, bind: config.bind, highWaterMark: config.highWaterMark,
                                      maximumMessageBytes: config.maximumMessageBytes)
        let receiver = StreamReceiver()
        var journal: ScanJournal?
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
                for event in receiver.handle(parts) { handle(event, journal: &journal) }
            }
            for event in receiver.closeIfSilent(timeout: config.scanTimeout) { handle(event, journal: &journal) }
            let beat = state.withLock { heartbeat }
            tick(DispatchTime.now().uptimeNanoseconds - beat.uptimeNanoseconds < 10_000_000_000)
        }
        for event in receiver.closeOpenScan(reason: "incomplete: the daemon stopped before scan-end") { handle(event, journal: &journal) }
        queue.push(.stop)
        finished.wait()
        let total = counters.total
        log("stopped; totals: " + zip(Counters.Values.names, total.all).map { "\($0) \($1)" }.joined(separator: ", "))
    }

    /// Intake: the journal first, then the queue.
    private func handle(_ event: ReceiverEvent, journal: inout ScanJournal?) {
        switch event {
        case let .scanStarted(start, parts):
            let path = newJournalPath(start.scanID)
            openJournal = path
            conversion = start.metadata.acquisition.receiver.dataConversionFactor.map { (Float($0[0]), Float($0[1])) }
            do {
                journal = try ScanJournal(path: path, scanStart: parts)
                queue.push(.begin(ScanContext(start: start, metadata: MDFFile(scanStart: start, frames: start.framesPlanned)), journal: path))
                log("scan \(start.scanID) started: \(start.framesPlanned) frames planned, \(start.channels) x \(start.samplesPerPeriod) \(start.sampleType.rawValue)")
                let repairs = MetadataRepair.repair(start.metadata).1
                if !repairs.isEmpty {
                    log("scan \(start.scanID): metadata that is not valid MDF 2.1.0 is repaired in its file (originals under /_magpie/repairs): "
                        + repairs.map(\.description).joined(separator: "; "))
                }
            } catch {
                journal = nil
                log("scan \(start.scanID): \(error); its frames cannot be archived")
            }
        case let .frame(header, payload, parts):
            counters.update { $0.received += 1 }
            guard let journal else { return }
            do {
                try journal.append(parts)
            } catch {
                log("scan \(header.scanID): frame \(header.frame) not archived: \(error)")
                return
            }
            counters.update { $0.archived += 1 }
            let now = DispatchTime.now().uptimeNanoseconds
            if intake.frames == 0 { intake.first = now }
            intake = (intake.first, now, intake.frames + 1, intake.bytes + payload.count)
            let dropped = queue.push(.frame(workItem(header, payload: payload)))
            if dropped > 0 { counters.update { $0.skipped += dropped } }
        case let .scanClosed(closure):
            try? journal?.close()
            journal = nil
            if intake.frames > 1 {
                let seconds = Double(intake.last - intake.first) / 1e9
                log(String(format: "scan %@: archived %d frames in %.3f s (%.0f frames/s, %.1f MB/s)", closure.scanID, intake.frames, seconds,
                           Double(intake.frames - 1) / seconds, Double(intake.bytes) / seconds / 1e6))
            }
            intake = (0, 0, 0, 0)
            counters.update { $0.lost += MissingFrames.count(closure.missing) }
            queue.push(.end(closure, journal: openJournal ?? "", counters: counters.takeScan()))
            openJournal = nil
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

    private var openJournal: String?   // intake thread only: the open scan's journal
    private var conversion: [(Float, Float)] = []   // intake thread only: the open scan's dataConversionFactor
    private var intake = (first: UInt64(0), last: UInt64(0), frames: 0, bytes: 0)   // intake thread only: the open scan's archive rate

    private func workItem(_ header: FrameHeader, payload: Data) -> WorkItem {
        let (channels, samples) = (header.shape[1], header.shape[2])
        var values = StreamCodec.values(of: payload.prefix(channels * samples * header.sampleType.size), type: header.sampleType)
        for c in 0..<channels {
            let (a, b) = c < conversion.count ? conversion[c] : (1, 0)
            for v in (c * samples)..<((c + 1) * samples) { values[v] = a * values[v] + b }
        }
        return WorkItem(frame: header.frame, isBackground: header.flags.background, sentNs: header.sentNs,
                        periods: NDArray(shape: [channels, samples], storage: values), image: nil)
    }

    // MARK: - Processing

    private struct ScanProgress {
        var context: ScanContext
        var enabled = true
        var images: [Float] = []
        var imageFrames: [Int] = []
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
            case let .begin(context, _):
                scan = ScanProgress(context: context)
                for stage in stages {
                    do {
                        try stage.begin(context)
                    } catch {
                        log("scan \(context.start.scanID): stage \(stage.name) cannot process it (\(error)); it is archived without processing")
                        scan?.enabled = false
                    }
                }
            case let .frame(item):
                // In place: a copy of the progress would copy its growing image list for every frame.
                if scan != nil { process(item, &scan!) }
            case let .end(closure, journal, scanCounters):
                finish(closure, journal: journal, progress: scan, counters: scanCounters)
                scan = nil
            case .stop:
                return
            }
        }
    }

    private func process(_ item: WorkItem, _ progress: inout ScanProgress) {
        guard progress.enabled else { return }
        var item = item
        do {
            for stage in stages {
                guard try stage.process(&item) else { break }
            }
        } catch {
            progress.failures += 1
            if progress.failures <= 3 { log("scan \(progress.context.start.scanID): frame \(item.frame) not processed: \(error)") }
            return
        }
        progress.processed += 1
        counters.update { $0.processed += 1 }
        guard let image = item.image, let geometry = reconstruction?.geometry else { return }
        progress.latencies.append((Double(ScanPublisher.nanosecondsSinceEpoch()) - Double(item.sentNs)) / 1e6)
        progress.images += image.storage
        progress.imageFrames.append(item.frame)
        let now = DispatchTime.now()
        if let preview = config.previewPath, now.uptimeNanoseconds - progress.lastPreview.uptimeNanoseconds > 250_000_000 {
            try? Preview.write(image.storage[...], size: geometry.size, to: preview)
            progress.lastPreview = now
        }
    }

    private func finish(_ closure: ScanClosure, journal: String, progress: ScanProgress?, counters scanCounters: Counters.Values) {
        var values = scanCounters
        values.processed = progress?.processed ?? 0
        do {
            let record = try ScanRecord(journal: journal)
            let path = try write(record, missing: closure.missing, status: closure.status, complete: closure.complete,
                                 images: progress?.images ?? [], imageFrames: progress?.imageFrames ?? [], counters: values)
            if let preview = config.previewPath, let geometry = reconstruction?.geometry, let images = progress?.images, !images.isEmpty {
                let voxels = geometry.size.reduce(1, *)
                try? Preview.write(images[(images.count - voxels)...], size: geometry.size, to: preview)
            }
            try FileManager.default.removeItem(atPath: journal)
            log("scan \(closure.scanID) \(closure.complete ? "complete" : closure.status): "
                + zip(Counters.Values.names, values.all).map { "\($0) \($1)" }.joined(separator: ", ")
                + (closure.missing.isEmpty ? "" : " (missing frames \(MissingFrames.description(closure.missing)))") + " -> \(path)")
            if let latencies = progress?.latencies.sorted(), !latencies.isEmpty {
                log(String(format: "scan %@: send-to-image latency median %.2f ms, 99th percentile %.2f ms, over %d images", closure.scanID,
                           latencies[latencies.count / 2], latencies[min(latencies.count - 1, latencies.count * 99 / 100)], latencies.count))
            }
        } catch {
            log("scan \(closure.scanID): cannot write its file (\(error)); its journal \(journal) is kept and will be recovered at the next start")
        }
    }

    /// Writes a scan's MDF file; returns its path.
    private func write(_ record: ScanRecord, missing: [ClosedRange<Int>], status: String, complete: Bool, images: [Float], imageFrames: [Int],
                       counters values: Counters.Values?) throws -> String {
        var (file, _, streamFields) = record.mdf(missing: missing)
        if let geometry = reconstruction?.geometry, !imageFrames.isEmpty {
            let voxels = geometry.size.reduce(1, *)
            file.reconstruction = MDF.Reconstruction(data: .float32(NDArray(shape: [imageFrames.count, voxels, 1], storage: images)),
                                                     fieldOfView: geometry.fieldOfView, fieldOfViewCenter: [0, 0, 0],
                                                     size: geometry.size, positions: geometry.positions)
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
        try MDFWriter.write(file, to: path) { hdf in
            try streamFields(hdf)
            let g = "/_magpie/daemon"
            try hdf.write("magpie \(MagpieVersion.string)", to: "\(g)/software")
            try hdf.write(config.text, to: "\(g)/config")
            for case let stage as DenoiseStage in self.stages {
                try hdf.write("\(stage.denoiser.model.name) sha256 \(stage.denoiser.model.entry.sha256)", to: "\(g)/denoiser")
            }
            for case let stage as DeblurStage in self.stages {
                try hdf.write(stage.method.provenance, to: "\(g)/deblur")
            }
            if case let .score(score, _, _)? = self.reconstruction?.method {
                try hdf.write("\(score.sampler.model.name) sha256 \(score.sampler.model.entry.sha256)", to: "\(g)/scorePrior")
            }
            try hdf.write(status, to: "\(g)/status")
            try hdf.write(scalar: Int8(complete ? 1 : 0), to: "\(g)/complete")
            try hdf.write(config.reconstruction.rawValue, to: "\(g)/reconstruction")
            try hdf.write(NDArray(imageFrames.map(Int64.init)), to: "\(g)/reconstructedFrames")
            if let values {
                for (name, value) in zip(Counters.Values.names, values.all) { try hdf.write(scalar: Int64(value), to: "\(g)/counters/\(name)") }
            }
        }
        return path
    }
}
