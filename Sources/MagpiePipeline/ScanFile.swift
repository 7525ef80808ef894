import Foundation
import MagpieCore
import MagpieMDF
import MagpieWire

/// A scan as its journal holds it, and the MDF file it becomes.
public struct ScanRecord {
    public var start: ScanStart
    /// Accepted frames in acquisition order (by frame index).
    public var frames: [(header: FrameHeader, payload: Data)]
    /// Journal records that could not be used (damaged, or a frame that does not fit the scan), left out.
    public var unusable = 0
    /// What `magpie recover` had to make up because the journal's scan-start was unusable (see docs/RELIABILITY.md).
    public var defaults: [String] = []

    /// Reads a journal (the normal end of a scan and the recovery after a crash alike). Throws when
    /// the journal has no usable scan-start, unless `substituteDefaults`: then the scan is described
    /// by its frames and documented placeholders (`magpie recover`), and throws only without frames.
    public init(journal path: String, substituteDefaults: Bool = false) throws {
        let records = try ScanJournal.read(path)
        var start: ScanStart?
        var startFault = "the journal is empty"
        if let first = records.first {
            do {
                if case let .scanStart(header) = try StreamCodec.decode(first) { start = header } else { startFault = "its first record is not a scan-start" }
            } catch {
                startFault = "its scan-start is refused: \(error)"
            }
        }
        if start == nil && !substituteDefaults { throw PipelineError.archive("\(path): \(startFault)") }
        var frames: [(header: FrameHeader, payload: Data)] = []
        var unusable = 0
        for record in records.dropFirst(start == nil ? 0 : 1) {
            guard case let .frame(header, payload)? = try? StreamCodec.decode(record) else { unusable += 1; continue }
            frames.append((header, payload))
        }
        if start == nil {
            guard let first = frames.first?.header else {
                throw PipelineError.archive("\(path): \(startFault), and it holds no frame to describe the scan by")
            }
            start = Self.substitute(for: first, journal: path)
            defaults = ["scan-start (\(startFault)): the scan is described by its first frame's shape and sample type; "
                        + "every metadata group holds the placeholders of docs/RELIABILITY.md"]
        }
        let scan = start!
        // Frames that do not fit the scan-start (possible only in a journal from elsewhere) and repeated indices are left out.
        var seen = Set<Int>()
        self.frames = frames.filter { frame in
            let fits = frame.header.sampleType == scan.sampleType && frame.header.shape == scan.frameShape && seen.insert(frame.header.frame).inserted
            if !fits { unusable += 1 }
            return fits
        }.sorted { $0.header.frame < $1.header.frame }
        self.start = scan
        self.unusable = unusable
    }

    /// A scan-start for frames whose own was lost: the frames' shape and type, placeholder metadata.
    private static func substitute(for frame: FrameHeader, journal: String) -> ScanStart {
        let (periods, channels, samples) = (frame.shape[0], frame.shape[1], frame.shape[2])
        let unknown = MetadataRepair.placeholder
        // One drive channel whose cycle is one period of `samples` samples at 2.5 MS/s (OpenMPIData's rate); strength 0: unknown.
        let metadata = ScanMetadata(
            study: .init(name: "recovered", number: 0, uuid: MDF.newUUID(), description: "recovered by magpie recover from \(journal)"),
            experiment: .init(name: "recovered", number: 0, uuid: MDF.newUUID(), description: "", subject: unknown, isSimulation: false),
            tracer: nil,
            scanner: .init(facility: unknown, manufacturer: unknown, name: unknown, operator: unknown, topology: "FFP"),
            acquisition: .init(numAverages: 1, gradient: nil,
                               drivefield: .init(baseFrequency: 2.5e6, divider: [[Int64(samples)]],
                                                 phase: Array(repeating: [[0]], count: periods), strength: Array(repeating: [[0]], count: periods),
                                                 waveform: [["sine"]]),
                               receiver: .init(bandwidth: 1.25e6, numChannels: channels, numSamplingPoints: samples, unit: "a.u.",
                                               dataConversionFactor: Array(repeating: [1, 0], count: channels))))
        return ScanStart(scanID: frame.scanID, timeNs: frame.timeNs, sampleType: frame.sampleType, periodsPerFrame: periods, channels: channels,
                         samplesPerPeriod: samples, framesPlanned: 0, metadata: metadata)
    }

    /// The frame indices below `expected` (at least up to the highest recorded) that are not in the record.
    public func missing(expected: Int) -> [ClosedRange<Int>] {
        MissingFrames.ranges(received: frames.map(\.header.frame), expected: max(expected, (frames.last?.header.frame ?? -1) + 1))
    }

    /// The scan as MDF: metadata from scan-start (cosmetic faults repaired), the raw frames
    /// (foreground first, background last, with a frame permutation back to acquisition order
    /// when the scanner interleaved them), and under /_magpie/stream what the stream said of
    /// each frame and which frames never came; /_magpie/repairs keeps what was repaired.
    public func mdf(missing: [ClosedRange<Int>]) -> (file: MDFFile, repairs: [MetadataRepair], userFields: (HDF5File) throws -> Void) {
        let n = frames.count, shape = [n] + start.frameShape, size = start.frameShape.reduce(1, *)
        let background = frames.map(\.header.flags.background)
        let order = (0..<n).filter { !background[$0] } + (0..<n).filter { background[$0] }
        let permuted = order != Array(0..<n)
        let data: MDFData
        switch start.sampleType {
        case .int16: data = .int16(NDArray(shape: shape, storage: order.flatMap { Self.raw(frames[$0].payload, as: Int16.self, count: size) }))
        case .int32: data = .int32(NDArray(shape: shape, storage: order.flatMap { Self.raw(frames[$0].payload, as: Int32.self, count: size) }))
        case .float32: data = .float32(NDArray(shape: shape, storage: order.flatMap { StreamCodec.values(of: frames[$0].payload, type: .float32) }))
        }
        var repairedStart = start
        let repairs: [MetadataRepair]
        (repairedStart.metadata, repairs) = MetadataRepair.repair(start.metadata)
        var file = MDFFile(scanStart: repairedStart, frames: n)
        file.acquisition.startTime = MDF.timestamp(Date(timeIntervalSince1970: Double(start.timeNs) / 1e9))
        file.measurement = MDF.Measurement(data: data, isBackgroundFrame: order.map { background[$0] },
                                           framePermutation: permuted ? order.map { Int64($0 + 1) } : nil)
        let headers = order.map { frames[$0].header }
        let defaults = self.defaults
        let fields: (HDF5File) throws -> Void = { hdf in
            let g = "/_magpie/stream"
            try hdf.write(start.scanID, to: "\(g)/scanID")
            try hdf.write(NDArray(headers.map { Int64($0.frame) }), to: "\(g)/frameIndex")
            try hdf.write(NDArray(headers.map { Int64(bitPattern: $0.sequence) }), to: "\(g)/sequence")
            try hdf.write(NDArray(headers.map { Int64(bitPattern: $0.timeNs) }), to: "\(g)/timeNs")
            try hdf.write(NDArray(headers.map { Int8($0.flags.overflow ? 1 : 0) }), to: "\(g)/overflow")
            try hdf.write(NDArray(headers.map { Int8($0.flags.corrupted ? 1 : 0) }), to: "\(g)/corrupted")
            try hdf.write(NDArray(shape: [missing.count, 2], storage: missing.flatMap { [Int64($0.lowerBound), Int64($0.upperBound)] }),
                          to: "\(g)/missingFrameRanges")
            if !repairs.isEmpty {
                try hdf.write(NDArray(repairs.map(\.field)), to: "/_magpie/repairs/field")
                try hdf.write(NDArray(repairs.map(\.original)), to: "/_magpie/repairs/original")
                try hdf.write(NDArray(repairs.map(\.replacement)), to: "/_magpie/repairs/replacement")
            }
            if !defaults.isEmpty { try hdf.write(NDArray(defaults), to: "/_magpie/recovery/defaults") }
        }
        return (file, repairs, fields)
    }

    private static func raw<T: FixedWidthInteger>(_ payload: Data, as type: T.Type, count: Int) -> [T] {
        payload.withUnsafeBytes { bytes in (0..<count).map { T(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) } }
    }
}
