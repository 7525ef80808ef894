import Foundation
import MagpieCore
import MagpieMDF
import MagpieWire

/// A scan as its journal holds it, and the MDF file it becomes. Only an index of the frames is
/// held in memory (about 50 bytes a frame); their samples are read back from the journal in
/// chunks while the file is written, so a scan of any length fits (docs/RELIABILITY.md).
public struct ScanRecord {
    /// What the stream said of one archived frame, and where its record is in the journal.
    public struct Frame: Sendable {
        public var index: Int
        public var sequence: UInt64
        public var timeNs: UInt64
        public var flags: FrameFlags
        /// The frame's record in the journal.
        public var offset: UInt64
    }

    public let journal: String
    public var start: ScanStart
    /// Accepted frames in acquisition order (by frame index).
    public var frames: [Frame]
    /// Journal records that could not be used (damaged, or a frame that does not fit the scan), left out.
    public var unusable = 0
    /// What `magpie recover` had to make up because the journal's scan-start was unusable (see docs/RELIABILITY.md).
    public var defaults: [String] = []

    /// Reads a journal's index (the normal end of a scan and the recovery after a crash alike).
    /// Throws when the journal has no usable scan-start, unless `substituteDefaults`: then the scan
    /// is described by its frames and documented placeholders (`magpie recover`), and throws only
    /// without frames.
    public init(journal path: String, substituteDefaults: Bool = false) throws {
        let reader = try ScanJournal.Reader(path: path)
        var start: ScanStart?
        var startFault = "the journal is empty"
        var frames: [Frame] = []
        var first: FrameHeader?
        var unusable = 0
        var isFirstRecord = true
        while let record = try reader.next() {
            defer { isFirstRecord = false }
            let message: StreamMessage
            do {
                message = try StreamCodec.decode(record.parts)
            } catch {
                if isFirstRecord { startFault = "its scan-start is refused: \(error)" } else { unusable += 1 }
                continue
            }
            switch message {
            case let .scanStart(header) where isFirstRecord:
                start = header
            case let .frame(header, _):
                if isFirstRecord { startFault = "its first record is not a scan-start" }
                guard start == nil || (header.sampleType == start!.sampleType && header.shape == start!.frameShape) else { unusable += 1; continue }
                if first == nil { first = header }
                guard header.sampleType == first!.sampleType, header.shape == first!.shape else { unusable += 1; continue }
                frames.append(Frame(index: header.frame, sequence: header.sequence, timeNs: header.timeNs, flags: header.flags, offset: record.offset))
            default:
                unusable += 1
            }
        }
        unusable += reader.damaged
        if start == nil {
            guard substituteDefaults else { throw PipelineError.archive("\(path): \(startFault)") }
            guard let first else { throw PipelineError.archive("\(path): \(startFault), and it holds no frame to describe the scan by") }
            start = Self.substitute(for: first, journal: path)
            defaults = ["scan-start (\(startFault)): the scan is described by its first frame's shape and sample type; "
                        + "every metadata group holds the placeholders of docs/RELIABILITY.md"]
        }
        // A repeated index (possible only in a journal from elsewhere) keeps its first frame.
        var seen = Set<Int>()
        self.frames = frames.filter { frame in
            let new = seen.insert(frame.index).inserted
            if !new { unusable += 1 }
            return new
        }.sorted { $0.index < $1.index }
        self.journal = path
        self.start = start!
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
        MissingFrames.ranges(received: frames.map(\.index), expected: max(expected, (frames.last?.index ?? -1) + 1))
    }

    /// Writes the scan as MDF to `path`: metadata from scan-start (cosmetic faults repaired),
    /// the raw frames appended from the journal in chunks (foreground first, background last,
    /// with a frame permutation back to acquisition order when the scanner interleaved them),
    /// under /_magpie/stream what the stream said of each frame and which frames never came,
    /// under /_magpie/repairs what was repaired; `reconstruction` and `images` add the images.
    /// Returns the repairs.
    @discardableResult
    public func write(to path: String, missing: [ClosedRange<Int>], reconstruction: MDF.Reconstruction? = nil, images: ImageSpool.Finished? = nil,
                      userFields: @escaping (HDF5File) throws -> Void = { _ in }) throws -> [MetadataRepair] {
        let n = frames.count, frameShape = start.frameShape
        let background = frames.map(\.flags.background)
        let order = (0..<n).filter { !background[$0] } + (0..<n).filter { background[$0] }
        let permuted = order != Array(0..<n)
        var repairedStart = start
        let repairs: [MetadataRepair]
        (repairedStart.metadata, repairs) = MetadataRepair.repair(start.metadata)
        var file = MDFFile(scanStart: repairedStart, frames: n)
        file.acquisition.startTime = MDF.timestamp(Date(timeIntervalSince1970: Double(start.timeNs) / 1e9))
        let elementType: MDFElementType = start.sampleType == .int16 ? .int16 : start.sampleType == .int32 ? .int32 : .float32
        file.measurement = MDF.Measurement(data: .notLoaded(shape: [n] + frameShape, elementType: elementType),
                                           isBackgroundFrame: order.map { background[$0] },
                                           framePermutation: permuted ? order.map { Int64($0 + 1) } : nil)
        if var reconstruction, let images {
            reconstruction.data = .notLoaded(shape: [images.count, images.voxels, 1], elementType: .float32)
            file.reconstruction = reconstruction
        }
        let ordered = order.map { frames[$0] }
        let (start, defaults) = (self.start, self.defaults)
        try MDFWriter.write(file, to: path, streamedData: { hdf in
            try self.appendFrames(ordered, to: hdf)
            try images?.append(to: hdf, at: "/reconstruction/data")
        }, userFields: { hdf in
            let g = "/_magpie/stream"
            try hdf.write(start.scanID, to: "\(g)/scanID")
            try hdf.write(NDArray(ordered.map { Int64($0.index) }), to: "\(g)/frameIndex")
            try hdf.write(NDArray(ordered.map { Int64(bitPattern: $0.sequence) }), to: "\(g)/sequence")
            try hdf.write(NDArray(ordered.map { Int64(bitPattern: $0.timeNs) }), to: "\(g)/timeNs")
            try hdf.write(NDArray(ordered.map { Int8($0.flags.overflow ? 1 : 0) }), to: "\(g)/overflow")
            try hdf.write(NDArray(ordered.map { Int8($0.flags.corrupted ? 1 : 0) }), to: "\(g)/corrupted")
            try hdf.write(NDArray(shape: [missing.count, 2], storage: missing.flatMap { [Int64($0.lowerBound), Int64($0.upperBound)] }),
                          to: "\(g)/missingFrameRanges")
            if !repairs.isEmpty {
                try hdf.write(NDArray(repairs.map(\.field)), to: "/_magpie/repairs/field")
                try hdf.write(NDArray(repairs.map(\.original)), to: "/_magpie/repairs/original")
                try hdf.write(NDArray(repairs.map(\.replacement)), to: "/_magpie/repairs/replacement")
            }
            if !defaults.isEmpty { try hdf.write(NDArray(defaults), to: "/_magpie/recovery/defaults") }
            try userFields(hdf)
        })
        return repairs
    }

    /// A frame's payload read back from the journal. The index was built from these records, each
    /// decoded and validated then: only the payload is read again.
    func payload(of frame: Frame, reader: ScanJournal.Reader) throws -> Data {
        let parts = try reader.record(at: frame.offset)
        guard parts.count == 2, parts[1].count == start.frameShape.reduce(1, *) * start.sampleType.size else {
            throw PipelineError.archive("\(reader.path): the record at byte \(frame.offset) is no longer the frame it was")
        }
        return parts[1]
    }

    /// Frames per HDF5 chunk and per read from the journal: about 1 MiB.
    static func framesPerChunk(_ frameShape: [Int], elementSize: Int) -> Int {
        max(1, (1 << 20) / max(1, frameShape.reduce(1, *) * elementSize))
    }

    /// /measurement/data, appended `framesPerChunk` frames at a time from the journal's records.
    private func appendFrames(_ ordered: [Frame], to hdf: HDF5File) throws {
        let reader = try ScanJournal.Reader(path: journal)
        let shape = start.frameShape, size = shape.reduce(1, *)
        let chunk = Self.framesPerChunk(shape, elementSize: start.sampleType.size)
        func payloads(_ slice: ArraySlice<Frame>) throws -> [Data] {
            try slice.map { try payload(of: $0, reader: reader) }
        }
        func append<T: HDF5Element & FixedWidthInteger>(_ type: T.Type) throws {
            let dataset = try hdf.createAppendable("/measurement/data", of: T.self, frameShape: shape, framesPerChunk: chunk)
            for first in stride(from: 0, to: ordered.count, by: chunk) {
                let slice = ordered[first..<min(first + chunk, ordered.count)]
                let values = try payloads(slice).flatMap { payload in
                    payload.withUnsafeBytes { bytes in (0..<size).map { T(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) } }
                }
                try dataset.append(NDArray(shape: [slice.count] + shape, storage: values))
            }
        }
        switch start.sampleType {
        case .int16: try append(Int16.self)
        case .int32: try append(Int32.self)
        case .float32:
            let dataset = try hdf.createAppendable("/measurement/data", of: Float.self, frameShape: shape, framesPerChunk: chunk)
            for first in stride(from: 0, to: ordered.count, by: chunk) {
                let slice = ordered[first..<min(first + chunk, ordered.count)]
                let values = try payloads(slice).flatMap { StreamCodec.values(of: $0, type: .float32) }
                try dataset.append(NDArray(shape: [slice.count] + shape, storage: values))
            }
        }
    }
}
