import Foundation
import MagpieCore
import MagpieMDF
import MagpiePlan
import MagpieWire
import Synchronization
import Testing
@testable import MagpiePipeline

/// The scan writer on its own: a journal and spooled images in, one MDF file out.
@Suite struct ScanWriterTests {
    let directory = NSTemporaryDirectory() + "magpie-writer-\(UUID().uuidString)"

    func writer(_ log: LogCapture, written: @escaping @Sendable (String) -> Void = { _ in }) throws -> ScanWriter {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return ScanWriter(config: DaemonConfig(endpoint: "tcp://127.0.0.1:1", directory: directory), logger: log.logger) { path, _ in written(path) }
    }

    /// A journal of scan `id` holding `frames` frames (the last one a background frame).
    func journal(_ id: String, frames: Int) throws -> String {
        let path = "\(directory)/.\(id).journal"
        let journal = try ScanJournal(path: path, scanStart: StreamMessages.start(id, planned: frames))
        for index in 0..<frames {
            try journal.append(StreamMessages.frame(id, index, sequence: UInt64(index), background: index == frames - 1))
        }
        try journal.close()
        return path
    }

    @Test func aFinishedScanBecomesOneFileWithItsFramesImagesAndCounters() throws {
        let log = LogCapture()
        let paths = Mutex<[String]>([])
        let writer = try writer(log) { path in paths.withLock { $0.append(path) } }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try journal("w1", frames: 5)
        let spool = try ImageSpool(path: "\(directory)/.w1\(ImageSpool.suffix)", voxels: 4)
        for frame in 0..<4 { try spool.append([Float(frame), 1, 2, 3], frame: frame) }
        let geometry = ImageGeometry(size: [4, 1, 1], fieldOfView: [0.04, 0, 0], positions: NDArray(shape: [4, 3], storage: Array(repeating: 0, count: 12)))
        var counters = Counters.Values()
        (counters.received, counters.archived, counters.processed) = (5, 5, 4)
        writer.write(ScanWriter.FinishedScan(closure: ScanClosure(scanID: "w1", complete: true, status: "complete", missing: []), journal: journal,
                                             counters: counters, images: spool.finish(), geometry: geometry, provenance: nil, latencies: [1, 2, 3], configText: "[input]"))

        let written = paths.withLock { $0 }
        #expect(written.count == 1)
        let file = try HDF5File.open(written[0])
        #expect(try file.info("/measurement/data").shape[0] == 5)
        #expect(try file.read("/measurement/isBackgroundFrame", as: Int8.self).storage == [0, 0, 0, 0, 1])
        #expect(try file.info("/reconstruction/data").shape == [4, 4, 1])
        #expect(try file.read("/reconstruction/data", as: Float.self).storage[4] == 1)
        #expect(try file.readString("/_magpie/daemon/status") == "complete")
        #expect(try file.readString("/_magpie/daemon/config") == "[input]")   // the configuration the scan ran under
        #expect(try file.readScalar("/_magpie/daemon/counters/processed", as: Int64.self) == 4)
        // The journal and the spool are gone once the file is written.
        #expect(!FileManager.default.fileExists(atPath: journal))
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/.w1\(ImageSpool.suffix)"))
        #expect(log.all.contains { $0.contains("magpie: scan w1: complete: received 5, archived 5, processed 4") })
    }

    @Test func aScanWithNothingArchivedWritesNoFile() throws {
        let log = LogCapture()
        let writer = try writer(log)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        writer.write(ScanWriter.FinishedScan(closure: ScanClosure(scanID: "none", complete: false, status: "incomplete", missing: [0...3]),
                                             journal: nil, counters: Counters.Values(), images: nil, geometry: nil, provenance: nil, latencies: [], configText: ""))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
        #expect(log.all.contains { $0.contains("nothing archived") && $0.contains("no file written") })
    }

    @Test func recoveryWritesWhatJournalsHoldAndQuarantinesTheRest() throws {
        let log = LogCapture()
        let writer = try writer(log)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try journal("r1", frames: 3)
        try Data("not a journal".utf8).write(to: URL(fileURLWithPath: "\(directory)/.junk.journal"))
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: "\(directory)/.r1-abc\(ImageSpool.suffix)"))
        let recovered = writer.recover()
        #expect(recovered.count == 1)
        #expect(try HDF5File.open(recovered[0]).readString("/_magpie/daemon/status") == "recovered after the daemon stopped")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(!names.contains { $0.hasPrefix(".") })
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(directory)/quarantine").sorted() == ["junk.journal", "junk.journal.why.txt"])
    }
}
