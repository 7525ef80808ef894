import Foundation
import Logging
import MagpieCore
import MagpieMDF
import MagpiePlan
import MagpieWire
import ServiceLifecycle

/// The scan writer: turns each finished scan (its journal, its spooled images, the plan's
/// provenance, its counters) into one MDF file in the output directory, then applies retention.
/// At start it recovers the journals a killed daemon left. Files are written one at a time on a
/// thread of their own (HDF5 blocks); graceful shutdown comes after processing's, so every scan
/// processing handed over is written before it returns.
public final class ScanWriter: Service {
    /// What processing hands over at a scan's end.
    struct FinishedScan: Sendable {
        var closure: ScanClosure
        /// nil when nothing of the scan could be archived.
        var journal: String?
        var counters: Counters.Values
        var images: ImageSpool.Finished?
        var geometry: ImageGeometry?
        /// The plan that made the images (nil without images: nothing to reproduce).
        var provenance: PlanProvenance?
        /// Milliseconds from sending to image, per image.
        var latencies: [Double]
        /// What catch-up did, when the live path skipped frames.
        var catchUp: CatchUp?
        /// The configuration the scan was processed under (a reload may have changed it).
        var configText: String
    }

    /// The outcome of a scan's catch-up (ProcessingService): the complete images, or nil when it
    /// stopped or failed; which frames were imaged live; when it stopped, the first frame of each
    /// block left without an image (`magpie reconstruct --plan-from` makes them); one line for the file.
    struct CatchUp: Sendable {
        var images: ImageSpool.Finished?
        var live: Set<Int>
        var notImaged: [Int]
        var note: String
    }

    private let config: DaemonConfig
    private let logger: Logger
    private let scans: AsyncStream<FinishedScan>
    private let input: AsyncStream<FinishedScan>.Continuation
    /// Called with each file's path and how its scan ended, once the file is written (metrics, the console's events, tests).
    private let written: @Sendable (String, ScanClosure) -> Void

    init(config: DaemonConfig, logger: Logger, written: @escaping @Sendable (String, ScanClosure) -> Void = { _, _ in }) {
        (self.config, self.logger, self.written) = (config, logger, written)
        (scans, input) = AsyncStream.makeStream(of: FinishedScan.self)
    }

    func submit(_ scan: FinishedScan) { input.yield(scan) }

    public func run() async throws {
        await withGracefulShutdownHandler {
            for await scan in scans {
                _ = try? await DedicatedThread.run(name: "magpie-writer") { [self] in write(scan) }
            }
        } onGracefulShutdown: { [input] in
            input.finish()
        }
    }

    // MARK: - Writing

    func write(_ scan: FinishedScan) {
        var logger = self.logger
        logger[metadataKey: DaemonLogHandler.scanKey] = "\(scan.closure.scanID)"
        let closure = scan.closure
        defer { scan.images?.remove() }
        guard let journal = scan.journal else {
            logger.warning("\(closure.complete ? "complete" : closure.status): nothing archived (\(scan.counters.summary)); no file written")
            return
        }
        do {
            let record = try ScanRecord(journal: journal)
            var reconstruction: MDF.Reconstruction?
            if let geometry = scan.geometry, let images = scan.images, images.count > 0 {
                reconstruction = geometry.reconstruction(.notLoaded(shape: [images.count, images.voxels, 1], elementType: .float32))
            }
            let path = try write(record, missing: closure.missing, status: closure.status, complete: closure.complete,
                                 reconstruction: reconstruction, images: reconstruction == nil ? nil : scan.images,
                                 provenance: reconstruction == nil ? nil : scan.provenance, catchUp: scan.catchUp, configText: scan.configText,
                                 counters: scan.counters)
            if let preview = config.previewPath, let geometry = scan.geometry, let newest = scan.images?.newest {
                try? Preview.write(newest[...], size: geometry.size, to: preview, unit: scan.provenance?.unit ?? "")
            }
            try FileManager.default.removeItem(atPath: journal)
            let missing = closure.missing.isEmpty ? "" : " (missing frames \(MissingFrames.description(closure.missing)))"
            logger.info("\(closure.complete ? "complete" : closure.status): \(scan.counters.summary)\(missing) -> \(path)")
            let latencies = scan.latencies.sorted()
            if !latencies.isEmpty {
                logger.info("\(String(format: "send-to-image latency median %.2f ms, 99th percentile %.2f ms, over %d images", latencies[latencies.count / 2], latencies[min(latencies.count - 1, latencies.count * 99 / 100)], latencies.count))")
            }
            written(path, closure)
            applyRetention(keeping: path)
        } catch {
            logger.error("cannot write its file (\(error)); its journal \(journal) is kept and will be recovered at the next start")
        }
    }

    /// Writes a scan's MDF file under a name no other file has; returns its path.
    private func write(_ record: ScanRecord, missing: [ClosedRange<Int>], status: String, complete: Bool, reconstruction: MDF.Reconstruction?,
                       images: ImageSpool.Finished?, provenance: PlanProvenance?, catchUp: CatchUp? = nil, configText: String? = nil,
                       counters values: Counters.Values?) throws -> String {
        let stamp = MDF.timestamp(Date(timeIntervalSince1970: Double(record.start.timeNs) / 1e9))
            .replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "-", with: "").prefix(15)
        let base = "\(stamp)-\(LogText.fileSafe(record.start.scanID, limit: 8))"
        var path = (config.directory as NSString).appendingPathComponent("\(base).mdf")
        var attempt = 1
        while FileManager.default.fileExists(atPath: path) {
            attempt += 1
            path = (config.directory as NSString).appendingPathComponent("\(base)-\(attempt).mdf")
        }
        let configText = configText ?? config.text
        try record.write(to: path, missing: missing, reconstruction: reconstruction, images: images) { hdf in
            let g = "/_magpie/daemon"
            try hdf.write("magpie \(MagpieVersion.string)", to: "\(g)/software")
            try hdf.write(configText, to: "\(g)/config")
            try hdf.write(status, to: "\(g)/status")
            try hdf.write(scalar: Int8(complete ? 1 : 0), to: "\(g)/complete")
            try provenance?.write(to: hdf)
            if let catchUp, let provenance {
                // Which images the live path made (1) and which catch-up made after the scan (0), in /reconstruction's order.
                try hdf.write(catchUp.note, to: "\(PlanProvenance.group)/catchUp")
                try hdf.write(NDArray(provenance.frames.map { Int8(catchUp.live.contains($0) ? 1 : 0) }), to: "\(PlanProvenance.group)/imageLive")
                if !catchUp.notImaged.isEmpty {
                    try hdf.write(NDArray(catchUp.notImaged.map(Int64.init)), to: "\(PlanProvenance.group)/notImagedBlocks")
                }
            }
            if let values {
                for (name, value) in zip(Counters.Values.names, values.all) { try hdf.write(scalar: Int64(value), to: "\(g)/counters/\(name)") }
            }
        }
        return path
    }

    // MARK: - Recovery

    /// Turns journals left by a daemon that was killed into MDF files holding every archived frame.
    /// A journal that cannot become a file is moved to `quarantine/` with a note of why (`magpie
    /// recover` saves what it can from it), so no journal can stop or loop the daemon's start.
    /// Runs before intake starts, so no journal it sees is being written.
    @discardableResult
    public func recover() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: config.directory)) ?? []
        var recovered: [String] = []
        for name in names.sorted() where name.hasPrefix(".") && (name.contains(".mdf.partial-") || name.hasSuffix(ImageSpool.suffix)) {
            // A file the writer had not finished, or the images of a scan, when the daemon died; the journal is still here.
            try? FileManager.default.removeItem(atPath: (config.directory as NSString).appendingPathComponent(name))
        }
        for name in names.sorted() where name.hasPrefix(".") && name.hasSuffix(".journal") {
            let journal = (config.directory as NSString).appendingPathComponent(name)
            do {
                let record = try ScanRecord(journal: journal)
                let path = try write(record, missing: record.missing(expected: record.start.framesPlanned), status: "recovered after the daemon stopped",
                                     complete: false, reconstruction: nil, images: nil, provenance: nil, counters: nil)
                try FileManager.default.removeItem(atPath: journal)
                logger.info("recovered scan \(record.start.scanID): \(record.frames.count) archived frames -> \(path)")
                recovered.append(path)
            } catch {
                quarantine(journal, because: "\(error)")
            }
        }
        return recovered
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
            logger.error("cannot recover \(journal): \(reason); moved to \(target) (magpie recover saves what it holds)")
        } catch {
            logger.error("cannot recover \(journal): \(reason); nor move it to \(folder): \(error); it is left in place")
        }
    }

    // MARK: - Retention

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
                logger.info("retention: deleted \(oldest.path) (\(oldest.size / 1_000_000) MB, written \(MDF.timestamp(oldest.modified)))")
            } catch {
                logger.error("retention: cannot delete \(oldest.path): \(error)")
            }
        }
    }
}
