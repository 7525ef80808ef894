import CHDF5
import MagpieCore

/// A chunked dataset whose first axis grows as frames arrive (the frame axis of a streamed
/// measurement). Each `append` extends the extent and writes the new frames; `HDF5File.flush()`
/// makes them durable.
public final class HDF5AppendableDataset<Element: HDF5Element> {
    public let file: HDF5File
    public let path: String
    /// Shape of one frame: the dataset's shape without its first axis.
    public let frameShape: [Int]
    public private(set) var frameCount: Int
    /// Open for the object's lifetime; closed in deinit.
    private let dataset: hid_t

    init(file: HDF5File, path: String, dataset: hid_t, frameShape: [Int], frameCount: Int) {
        self.file = file
        self.path = path
        self.dataset = dataset
        self.frameShape = frameShape
        self.frameCount = frameCount
    }

    deinit { H5Dclose(dataset) }

    /// Appends frames given as an array of shape [n] + frameShape.
    public func append(_ frames: NDArray<Element>) throws {
        guard frames.rank == frameShape.count + 1, Array(frames.shape.dropFirst()) == frameShape else {
            throw HDF5Error(file: file.path, path: path,
                            message: "cannot append frames of shape \(frames.shape): each frame must have shape \(frameShape)")
        }
        let added = frames.shape[0]
        guard added > 0 else { return }
        HDF5Library.silenceErrorPrinting()
        let newExtent = ([frameCount + added] + frameShape).map { hsize_t($0) }
        guard H5Dset_extent(dataset, newExtent) >= 0 else { throw file.failure(path, "cannot extend") }

        let fileSpace = try file.dataspace(dataset, path)
        defer { H5Sclose(fileSpace) }
        let start = [hsize_t(frameCount)] + frameShape.map { _ in hsize_t(0) }
        let count = frames.shape.map { hsize_t($0) }
        guard H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, count, nil) >= 0 else {
            throw file.failure(path, "cannot select appended frames")
        }
        let memorySpace = try file.makeDataspace(shape: frames.shape, maxShape: nil, path: path)
        defer { H5Sclose(memorySpace) }
        let status = Element.withMemoryType { memoryType in
            frames.storage.withUnsafeBufferPointer {
                H5Dwrite(dataset, memoryType, memorySpace, fileSpace, mp_H5P_DEFAULT(), $0.baseAddress)
            }
        }
        guard status >= 0 else { throw file.failure(path, "cannot write appended frames") }
        frameCount += added
    }
}

extension HDF5File {
    /// Creates an empty dataset of shape [0] + frameShape that grows along its first axis,
    /// chunked by `framesPerChunk` frames.
    public func createAppendable<T: HDF5Element>(
        _ path: String, of type: T.Type, frameShape: [Int], framesPerChunk: Int = 1
    ) throws -> HDF5AppendableDataset<T> {
        guard framesPerChunk > 0, frameShape.allSatisfy({ $0 > 0 }) else {
            throw HDF5Error(file: self.path, path: path,
                            message: "appendable datasets need positive frame extents and chunk size, got \(frameShape) and \(framesPerChunk)")
        }
        let space = try makeDataspace(shape: [0] + frameShape, maxShape: [nil] + frameShape.map { $0 }, path: path)
        defer { H5Sclose(space) }
        let creation = H5Pcreate(mp_H5P_DATASET_CREATE())
        guard creation >= 0 else { throw failure(path, "cannot create dataset properties") }
        defer { H5Pclose(creation) }
        let chunk = ([framesPerChunk] + frameShape).map { hsize_t($0) }
        guard H5Pset_chunk(creation, Int32(chunk.count), chunk) >= 0 else { throw failure(path, "cannot set chunking") }
        let dataset = try T.withFileType { try createDataset(path, type: $0, space: space, creation: creation) }
        return HDF5AppendableDataset(file: self, path: path, dataset: dataset, frameShape: frameShape, frameCount: 0)
    }

    /// Reopens an appendable dataset (for instance to continue a scan after a restart).
    public func openAppendable<T: HDF5Element>(_ path: String, of type: T.Type) throws -> HDF5AppendableDataset<T> {
        let dataset = try openDataset(path)
        do {
            let fileType = try datasetType(dataset, path)
            let stored = HDF5Type.classify(fileType)
            H5Tclose(fileType)
            guard T.canRead(stored) else {
                throw HDF5Error(file: self.path, path: path, message: "holds \(stored), cannot append \(T.self)")
            }
            let (shape, maxShape) = try extent(of: dataset, path)
            guard let first = maxShape.first, first == nil else {
                throw HDF5Error(file: self.path, path: path, message: "is not extendable along its first axis")
            }
            return HDF5AppendableDataset(file: self, path: path, dataset: dataset,
                                         frameShape: Array(shape.dropFirst()), frameCount: shape[0])
        } catch {
            H5Dclose(dataset)
            throw error
        }
    }
}
