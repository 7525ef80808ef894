import Foundation
import Logging
import MagpieMDF
import MagpiePlan
import MagpieWire
import Metrics
import ServiceLifecycle
import Synchronization

/// Processing: the reconstruction plan over the frames intake queues, on a thread of its own
/// (LibTorch, FFTs and BLAS block). Each image goes to the scan's image spool and the preview;
/// at a scan's end the scan goes to the writer. Graceful shutdown comes after intake's, so the
/// queue is drained (the open scan's end included) before it returns.
final class ProcessingService: Service {
    private let config: DaemonConfig
    private let queue: WorkQueue
    private let counters: Counters
    private let writer: ScanWriter
    private let logger: Logger
    /// The plan's steps (models and matrices loaded and verified before they get here) and the
    /// config they came from: the processing thread takes it at start, and a reloaded one at the
    /// next scan start.
    private let incoming: Mutex<PlanHandOff?>
    private let live: LiveView
    private let factory: any MetricsFactory
    private let frameTime: Metrics.Timer
    private let latency: Metrics.Timer
    let heartbeat = Heartbeat()

    init(config: DaemonConfig, runner: consuming sending PlanRunner, queue: WorkQueue, counters: Counters, writer: ScanWriter,
         live: LiveView, logger: Logger, factory: any MetricsFactory) {
        (self.config, self.queue, self.counters, self.writer, self.live, self.logger, self.factory) = (config, queue, counters, writer, live, logger, factory)
        incoming = Mutex(PlanHandOff(ProcessingPlan(runner: runner, config: config)))
        frameTime = Metrics.Timer(label: "magpie_frame_processing_seconds", factory: factory)
        latency = Metrics.Timer(label: "magpie_live_latency_seconds", factory: factory)
        live.setChain(config.plan)
    }

    /// Each step's time per frame into `magpie_stage_processing_seconds{stage="..."}` (a histogram).
    private func timeSteps(of runner: PlanRunner) {
        let timers = runner.plan.steps.map { Metrics.Timer(label: "magpie_stage_processing_seconds", dimensions: [("stage", $0.name)], factory: factory) }
        runner.stepTime = { index, nanoseconds in timers[index].recordNanoseconds(Int64(nanoseconds)) }
    }

    func run() async throws {
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await DedicatedThread.run(name: "magpie-processing") { [self] in process() }
        } onCancelOrGracefulShutdown: { [queue] in
            queue.push(.stop)
        }
    }

    /// Hands processing a reloaded plan; it takes it at the next scan start (an open scan finishes
    /// with the plan it began with).
    func adopt(_ plan: PlanHandOff) {
        incoming.withLock { $0 = plan }
    }

    /// A scan as processing sees it.
    private struct ScanProgress {
        var scan: ScanDescription
        var scanID: String
        var logger: Logger
        var enabled = true
        /// The scan's images, spooled to disk (nil until the first image, or when the spool cannot be created).
        var images: ImageSpool?
        var spoolFailed = false
        var processed = 0
        /// Frames dropped for newer blocks (WorkQueue), beyond those intake counted.
        var skipped = 0
        var lastPreview = DispatchTime(uptimeNanoseconds: 0)
        var failures = 0
        /// Milliseconds from a frame's sending to its image, per reconstructed frame.
        var latencies: [Double] = []
    }

    private func process() {
        guard var plan = incoming.withLock({ $0.take() })?.take() else { return }
        timeSteps(of: plan.runner)
        var scan: ScanProgress?
        while true {
            heartbeat.beat()
            guard let (work, skipped) = queue.pop(timeout: 0.1) else { continue }
            if skipped > 0 {
                counters.updateTotals { $0.skipped += skipped }
                scan?.skipped += skipped
            }
            switch work {
            case let .begin(description, scanID):
                if let reloaded = incoming.withLock({ $0.take() })?.take() {
                    plan = reloaded
                    timeSteps(of: plan.runner)
                    live.setChain(plan.config.plan)
                    queue.block = plan.config.plan.step(AverageStep.self)?.effectiveFrames ?? 1
                    queue.takesFrames = plan.config.plan.method != nil
                    logger.info("the reloaded plan runs from this scan on: \(plan.config.plan.steps.map(\.name).joined(separator: ", "))")
                }
                let runner = plan.runner
                var logger = self.logger
                logger[metadataKey: DaemonLogHandler.scanKey] = "\(scanID)"
                scan = ScanProgress(scan: description, scanID: scanID, logger: logger)
                live.scanStarted(description, scanID: scanID)
                (runner.imageMaker as? XSpaceStep.Runner)?.onDecision = { [logger] _, sign, frame in
                    logger.info("x-space polarity auto: \(sign > 0 ? "+1" : "-1") (decided from frame \(frame); the file records it)")
                }
                do {
                    try runner.begin(description)
                    for (key, value) in runner.provenance where key.hasSuffix("ScannerMismatch") {
                        if case let .text(reason) = value {
                            logger.warning("allow_other_scanner: a model runs on a scanner it was not trained for (\(reason)); the file records it as \(key)")
                        }
                    }
                } catch {
                    logger.warning("the plan cannot process it (\(error)); it is archived without processing")
                    scan?.enabled = false
                }
            case let .frame(item):
                // In place: a copy of the progress would copy its growing latency list for every frame.
                if scan != nil { process(item, &scan!, runner: plan.runner) }
            case let .end(closure, journal, scanCounters):
                live.scanEnded(scanID: closure.scanID, complete: closure.complete, status: closure.status)   // before catch-up's seconds
                var values = scanCounters
                values.processed = scan?.processed ?? 0
                values.skipped += scan?.skipped ?? 0
                var images = scan?.images?.finish()
                var catchUp: ScanWriter.CatchUp?
                let runner = plan.runner
                if let progress = scan, progress.enabled, values.skipped > 0, runner.imageMaker != nil, let journal,
                   let seconds = plan.config.catchUpSeconds {
                    catchUp = self.catchUp(progress, journal: journal, live: images, runner: runner, seconds: seconds,
                                           block: plan.config.plan.step(AverageStep.self)?.effectiveFrames ?? 1)
                    if let complete = catchUp?.images {
                        images?.remove()
                        images = complete
                    }
                }
                let provenance = images.map { PlanProvenance(runner: runner, unit: runner.unit ?? "", frames: $0.frames) }
                writer.submit(ScanWriter.FinishedScan(closure: closure, journal: journal, counters: values, images: images, geometry: runner.geometry,
                                                      provenance: provenance, latencies: scan?.latencies ?? [], catchUp: catchUp,
                                                      configText: plan.config.text))
                scan = nil
            case .stop:
                logger.info("processing drained")
                return
            }
        }
    }

    /// The most blocks catch-up takes through the plan together: one denoiser call across blocks
    /// (64 periods of three channels). It starts at one and doubles while a batch takes under a
    /// quarter second (halving above half a second), so that a slow chain (the score model, about
    /// a second an image here) still gives way to live work and its budget within a second or so.
    static let catchUpBatch = 24

    /// Catch-up: the blocks of a scan that the live path did not image go through the plan from
    /// the journal at the scan's end, batched across blocks, and their images are merged in order
    /// with the live ones into a new spool, so the file holds what `magpie reconstruct
    /// --plan-from` gives. Background frames all go through (the background step's state is the
    /// live path's); a block imaged live is not read again. It stops after `seconds`, or as soon
    /// as work waits (the next scan's: the live path comes first; or a shutdown: stopping stays
    /// prompt); the file then has what was made by then and lists the blocks still without an image.
    private func catchUp(_ progress: ScanProgress, journal: String, live: ImageSpool.Finished?, runner: PlanRunner,
                         seconds: Double, block: Int) -> ScanWriter.CatchUp {
        let began = DispatchTime.now().uptimeNanoseconds
        let elapsed = { Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9 }
        let liveFrames = Set(live?.frames ?? [])
        var spool: ImageSpool?
        var made = 0
        do {
            let record = try ScanRecord(journal: journal)
            let foreground = record.frames.filter { !$0.flags.background }
            /// The first frame of each whole foreground block, in order.
            let blocks = stride(from: 0, to: foreground.count - block + 1, by: block).map { foreground[$0].index }
            let reader = try ScanJournal.Reader(path: journal)
            let liveImages = try live.map(ImageSpool.Finished.Reader.init)
            var pending: [PlanItem] = []
            var pendingForeground = 0
            /// The merged spool: live images before `frame` first, then `image`.
            func keep(_ image: [Float], frame: Int) throws {
                if spool == nil {
                    spool = try ImageSpool(path: (config.directory as NSString).appendingPathComponent(
                        ".\(LogText.fileSafe(progress.scan.name))-catch-up-\(UUID().uuidString.prefix(8))\(ImageSpool.suffix)"), voxels: image.count)
                }
                while let liveImages, let next = liveImages.nextFrame, next < frame { try spool!.append(try liveImages.next(), frame: next) }
                try spool!.append(image, frame: frame)
            }
            var batchBlocks = 1
            func flush() throws {
                let start = DispatchTime.now().uptimeNanoseconds
                defer {
                    let took = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    batchBlocks = took < 0.25 ? min(2 * batchBlocks, Self.catchUpBatch) : took > 0.5 ? max(1, batchBlocks / 2) : batchBlocks
                }
                for item in try runner.process(batch: pending) {
                    guard let image = item.image else { continue }
                    try keep(image.storage, frame: item.frame)
                    made += 1
                }
                pending.removeAll(keepingCapacity: true)
                pendingForeground = 0
            }
            try runner.begin(progress.scan)
            var stopped: String?
            var ordinal = 0
            for frame in record.frames {
                let thisOrdinal = frame.flags.background ? nil : ordinal
                if !frame.flags.background { ordinal += 1 }
                if let n = thisOrdinal {
                    // A frame of a block imaged live, or of the incomplete last block, is not read again.
                    let first = n / block * block
                    guard first + block <= foreground.count, !liveFrames.contains(foreground[first].index) else { continue }
                }
                if pendingForeground >= batchBlocks * block {
                    if elapsed() > seconds || queue.hasWork {
                        stopped = elapsed() > seconds ? "its \(seconds) s budget (catch_up_seconds) ran out" : "work waits (the next scan's, or a shutdown)"
                        progress.logger.warning("catch-up stopped after \(String(format: "%.1f", elapsed())) s at frame \(frame.index): \(stopped!); the file keeps the live images and the \(made) made by then (magpie reconstruct --plan-from completes it)")
                        break
                    }
                    try flush()
                }
                pending.append(PlanItem(frame: frame.index, shape: record.start.frameShape, sampleType: record.start.sampleType,
                                        payload: try record.payload(of: frame, reader: reader), conversion: record.start.conversion,
                                        ordinal: thisOrdinal, sentNs: 0))
                if thisOrdinal != nil { pendingForeground += 1 }
            }
            if stopped == nil { try flush() }
            // The live images after the last one made here.
            if let liveImages, spool != nil {
                while let next = liveImages.nextFrame { try spool!.append(try liveImages.next(), frame: next) }
            }
            let merged = spool?.finish()
            let imaged = Set(merged?.frames ?? Array(liveFrames))
            let missing = blocks.filter { !imaged.contains($0) }
            if let stopped {
                return ScanWriter.CatchUp(images: merged, live: liveFrames, notImaged: missing,
                                          note: "stopped at \(String(format: "%.1f", elapsed())) s: \(stopped); \(made) images made after the scan, \(missing.count) blocks without one")
            }
            progress.logger.info("caught up in \(String(format: "%.1f", elapsed())) s: \(made) images made after the scan, \(liveFrames.count) live")
            return ScanWriter.CatchUp(images: merged, live: liveFrames, notImaged: missing,
                                      note: "complete: \(made) images made from the journal after the scan, \(liveFrames.count) live")
        } catch {
            spool?.remove()
            progress.logger.error("catch-up failed: \(error); the file keeps the \(liveFrames.count) live images")
            return ScanWriter.CatchUp(images: nil, live: liveFrames, notImaged: [], note: "failed: \(error); the images are those made live")
        }
    }

    private func process(_ item: PlanItem, _ progress: inout ScanProgress, runner: PlanRunner) {
        live.frame(item, scanID: progress.scanID)
        guard progress.enabled else { return }
        let result: PlanItem?
        let began = DispatchTime.now()
        do {
            result = try runner.process(item)
        } catch {
            progress.failures += 1
            if progress.failures <= 3 { progress.logger.error("frame \(item.frame) not processed: \(error)") }
            return
        }
        frameTime.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - began.uptimeNanoseconds))
        progress.processed += 1
        counters.update { $0.processed += 1 }
        guard let item = result, let image = item.image, let geometry = runner.geometry else { return }
        let sinceSent = Int64(bitPattern: ScanPublisher.nanosecondsSinceEpoch() &- item.sentNs)   // negative if the sender's clock runs ahead
        progress.latencies.append(Double(sinceSent) / 1e6)
        latency.recordNanoseconds(sinceSent)
        live.image(image.storage, frame: item.frame, geometry: geometry, unit: runner.unit ?? "", scanID: progress.scanID)
        if progress.images == nil && !progress.spoolFailed {
            let path = (config.directory as NSString).appendingPathComponent(".\(LogText.fileSafe(progress.scan.name))-\(UUID().uuidString.prefix(8))\(ImageSpool.suffix)")
            do {
                progress.images = try ImageSpool(path: path, voxels: image.count)
            } catch {
                progress.spoolFailed = true
                progress.logger.error("its images are not kept: \(error)")
            }
        }
        do {
            try progress.images?.append(image.storage, frame: item.frame)
        } catch {
            progress.images?.remove()
            progress.images = nil
            progress.spoolFailed = true
            progress.logger.error("its images are not kept: \(error)")
        }
        let now = DispatchTime.now()
        if let preview = config.previewPath, now.uptimeNanoseconds - progress.lastPreview.uptimeNanoseconds > 250_000_000 {
            try? Preview.write(image.storage[...], size: geometry.size, to: preview, unit: runner.unit ?? "")
            progress.lastPreview = now
        }
    }
}
