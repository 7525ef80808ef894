import Foundation
import MagpieCore
import MagpieMDF

/// A scan's reconstructed images on their way to its file: each appended to a spool file beside
/// the journal as raw float32 by the processing service, then, once the scan ends, handed to the
/// scan writer as `Finished` and copied into /reconstruction/data in chunks, so a long scan's
/// images never pile up in memory. Only the newest image is kept (for the preview). A spool
/// left by a killed daemon is deleted at the next start (the scan is recovered from its
/// journal, without images).
public final class ImageSpool {
    static let suffix = ".images"

    /// The spool once no more images come: what the scan writer needs, safe to hand over.
    public struct Finished: Sendable {
        let path: String
        /// Values per image.
        let voxels: Int
        /// The frame index each image came from, in the order appended.
        let frames: [Int]
        let newest: [Float]?

        var count: Int { frames.count }

        /// Writes every image as a [count, voxels, 1] float32 dataset, about 1 MiB at a time.
        func append(to file: HDF5File, at dataset: String) throws {
            guard let handle = FileHandle(forReadingAtPath: path) else { throw PipelineError.archive("image spool \(path) cannot be read") }
            defer { try? handle.close() }
            let chunk = max(1, (1 << 20) / (voxels * 4))
            let target = try file.createAppendable(dataset, of: Float.self, frameShape: [voxels, 1], framesPerChunk: chunk)
            for first in stride(from: 0, to: count, by: chunk) {
                let n = min(chunk, count - first)
                guard let bytes = try handle.read(upToCount: n * voxels * 4), bytes.count == n * voxels * 4 else {
                    throw PipelineError.archive("image spool \(path) ends before image \(first + n)")
                }
                var values = [Float](repeating: 0, count: n * voxels)
                _ = values.withUnsafeMutableBytes { bytes.copyBytes(to: $0) }
                try target.append(NDArray(shape: [n, voxels, 1], storage: values))
            }
        }

        func remove() { unlink(path) }

        /// Reads the images back in order, one at a time (catch-up merges them with its own).
        final class Reader {
            let spool: Finished
            private let handle: FileHandle
            private(set) var position = 0

            init(_ spool: Finished) throws {
                guard let handle = FileHandle(forReadingAtPath: spool.path) else { throw PipelineError.archive("image spool \(spool.path) cannot be read") }
                (self.spool, self.handle) = (spool, handle)
            }

            deinit { try? handle.close() }

            /// The frame the next image came from, nil after the last.
            var nextFrame: Int? { position < spool.count ? spool.frames[position] : nil }

            func next() throws -> [Float] {
                let bytes = spool.voxels * 4
                guard position < spool.count, let data = try handle.read(upToCount: bytes), data.count == bytes else {
                    throw PipelineError.archive("image spool \(spool.path) ends before image \(position + 1)")
                }
                position += 1
                var values = [Float](repeating: 0, count: spool.voxels)
                _ = values.withUnsafeMutableBytes { data.copyBytes(to: $0) }
                return values
            }
        }
    }

    let path: String
    let voxels: Int
    private(set) var frames: [Int] = []
    private(set) var newest: [Float]?
    private let handle: FileHandle

    init(path: String, voxels: Int) throws {
        let descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw PipelineError.archive("cannot create image spool \(path): \(String(cString: strerror(errno)))") }
        handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        self.path = path
        self.voxels = voxels
    }

    func append(_ image: [Float], frame: Int) throws {
        precondition(image.count == voxels, "an image of \(image.count) values in a spool of \(voxels)")
        try image.withUnsafeBufferPointer { try handle.write(contentsOf: Data(buffer: $0)) }
        frames.append(frame)
        newest = image
    }

    /// Closes the spool for writing; its file stays until the writer removes it.
    func finish() -> Finished {
        try? handle.close()
        return Finished(path: path, voxels: voxels, frames: frames, newest: newest)
    }

    func remove() {
        try? handle.close()
        unlink(path)
    }
}
