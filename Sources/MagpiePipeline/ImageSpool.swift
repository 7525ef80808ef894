import Foundation
import MagpieCore
import MagpieMDF

/// A scan's reconstructed images on their way to its file: each appended to a spool file beside
/// the journal as raw float32, then copied into /reconstruction/data in chunks when the scan
/// closes, so a long scan's images never pile up in memory. Only the newest image is kept
/// (for the preview). The spool is deleted with `remove()`; one left by a killed daemon is
/// deleted at the next start (the scan is recovered from its journal, without images).
public final class ImageSpool {
    static let suffix = ".images"

    public let path: String
    /// Values per image.
    public let voxels: Int
    /// The frame index each image came from, in the order appended.
    public private(set) var frames: [Int] = []
    public private(set) var newest: [Float]?
    private let handle: FileHandle

    public var count: Int { frames.count }

    public init(path: String, voxels: Int) throws {
        let descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw PipelineError.archive("cannot create image spool \(path): \(String(cString: strerror(errno)))") }
        handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        self.path = path
        self.voxels = voxels
    }

    public func append(_ image: [Float], frame: Int) throws {
        precondition(image.count == voxels, "an image of \(image.count) values in a spool of \(voxels)")
        try image.withUnsafeBufferPointer { try handle.write(contentsOf: Data(buffer: $0)) }
        frames.append(frame)
        newest = image
    }

    /// Writes every image as a [count, voxels, 1] float32 dataset, about 1 MiB at a time.
    func append(to file: HDF5File, at path: String) throws {
        let chunk = max(1, (1 << 20) / (voxels * 4))
        let dataset = try file.createAppendable(path, of: Float.self, frameShape: [voxels, 1], framesPerChunk: chunk)
        try handle.seek(toOffset: 0)
        for first in stride(from: 0, to: count, by: chunk) {
            let n = min(chunk, count - first)
            guard let bytes = try handle.read(upToCount: n * voxels * 4), bytes.count == n * voxels * 4 else {
                throw PipelineError.archive("image spool \(self.path) ends before image \(first + n)")
            }
            var values = [Float](repeating: 0, count: n * voxels)
            _ = values.withUnsafeMutableBytes { bytes.copyBytes(to: $0) }
            try dataset.append(NDArray(shape: [n, voxels, 1], storage: values))
        }
    }

    public func remove() {
        try? handle.close()
        unlink(path)
    }
}
