import Foundation
import MagpieCore
import MagpieMDF
import MagpieWire

/// A scan as its journal holds it, and the MDF file it becomes.
public struct ScanRecord {
    public var start: ScanStart
    /// Accepted frames in acquisition order (by frame index).
    public var frames: [(header: FrameHeader, payload: Data)]

    /// Reads a journal (the normal end of a scan and the recovery after a crash alike).
    public init(journal path: String) throws {
        let records = try ScanJournal.read(path)
        guard let first = records.first, case let .scanStart(start) = try StreamCodec.decode(first) else {
            throw PipelineError.archive("\(path) does not begin with a scan-start")
        }
        self.start = start
        var frames: [(FrameHeader, Data)] = []
        for record in records.dropFirst() {
            if case let .frame(header, payload) = try StreamCodec.decode(record) { frames.append((header, payload)) }
        }
        self.frames = frames.sorted { $0.0.frame < $1.0.frame }
    }

    /// The frame indices below `expected` that are not in the record.
    public func missing(expected: Int) -> [Int] {
        let present = Set(frames.map(\.header.frame))
        return (0..<max(expected, (frames.last?.header.frame ?? -1) + 1)).filter { !present.contains($0) }
    }

    /// The scan as MDF: metadata from scan-start, the raw frames (foreground first, background
    /// last, with a frame permutation back to acquisition order when the scanner interleaved
    /// them), and under /_magpie/stream what the stream said of each frame and which frames never came.
    public func mdf(missing: [Int]) -> (file: MDFFile, userFields: (HDF5File) throws -> Void) {
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
        var file = MDFFile(scanStart: start, frames: n)
        file.acquisition.startTime = MDF.timestamp(Date(timeIntervalSince1970: Double(start.timeNs) / 1e9))
        file.measurement = MDF.Measurement(data: data, isBackgroundFrame: order.map { background[$0] },
                                           framePermutation: permuted ? order.map { Int64($0 + 1) } : nil)
        let headers = order.map { frames[$0].header }
        let fields: (HDF5File) throws -> Void = { hdf in
            let g = "/_magpie/stream"
            try hdf.write(start.scanID, to: "\(g)/scanID")
            try hdf.write(NDArray(headers.map { Int64($0.frame) }), to: "\(g)/frameIndex")
            try hdf.write(NDArray(headers.map { Int64(bitPattern: $0.sequence) }), to: "\(g)/sequence")
            try hdf.write(NDArray(headers.map { Int64(bitPattern: $0.timeNs) }), to: "\(g)/timeNs")
            try hdf.write(NDArray(headers.map { Int8($0.flags.overflow ? 1 : 0) }), to: "\(g)/overflow")
            try hdf.write(NDArray(headers.map { Int8($0.flags.corrupted ? 1 : 0) }), to: "\(g)/corrupted")
            try hdf.write(NDArray(missing.map(Int64.init)), to: "\(g)/missingFrames")
        }
        return (file, fields)
    }

    private static func raw<T: FixedWidthInteger>(_ payload: Data, as type: T.Type, count: Int) -> [T] {
        payload.withUnsafeBytes { bytes in (0..<count).map { T(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) } }
    }
}
