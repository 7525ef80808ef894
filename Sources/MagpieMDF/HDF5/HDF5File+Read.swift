import CHDF5
import Foundation
import MagpieCore

extension HDF5File {
    /// Reads a whole dataset. Integer and real widths are converted by HDF5 (Int32 data reads as
    /// Int64, Float32 as Double); a stored type that cannot mean a `T` is an error.
    public func read<T: HDF5Element>(_ path: String, as type: T.Type = T.self) throws -> NDArray<T> {
        let dataset = try openDataset(path, readableAs: T.self)
        defer { H5Dclose(dataset) }
        let shape = try extent(of: dataset, path).shape
        let count = NDArray<T>.count(of: shape)
        var status: herr_t = 0
        let storage = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                status = T.withMemoryType { memoryType in
                    H5Dread(dataset, memoryType, mp_H5S_ALL(), mp_H5S_ALL(), mp_H5P_DEFAULT(), buffer.baseAddress)
                }
            }
            initialized = status < 0 ? 0 : count
        }
        guard status >= 0 else { throw failure(path, "cannot read") }
        return NDArray(shape: shape, storage: storage)
    }

    /// Reads entry `index` along the first axis of a dataset of shape [N, ...] (one image of
    /// /reconstruction/data, say) without reading the rest; its shape is the dataset's without the first axis.
    public func read<T: HDF5Element>(_ path: String, index: Int, as type: T.Type = T.self) throws -> NDArray<T> {
        let dataset = try openDataset(path, readableAs: T.self)
        defer { H5Dclose(dataset) }
        let shape = try extent(of: dataset, path).shape
        guard shape.count >= 1, (0..<shape[0]).contains(index) else {
            throw HDF5Error(file: self.path, path: path, message: "has \(shape.first ?? 0) entries along its first axis; there is no entry \(index)")
        }
        let entryShape = Array(shape.dropFirst())
        let fileSpace = try dataspace(dataset, path)
        defer { H5Sclose(fileSpace) }
        let start = [hsize_t(index)] + entryShape.map { _ in hsize_t(0) }
        let count = ([1] + entryShape).map { hsize_t($0) }
        guard H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, count, nil) >= 0 else { throw failure(path, "cannot select entry \(index)") }
        let memorySpace = try makeDataspace(shape: [1] + entryShape, maxShape: nil, path: path)
        defer { H5Sclose(memorySpace) }
        let total = NDArray<T>.count(of: entryShape)
        var status: herr_t = 0
        let storage = [T](unsafeUninitializedCapacity: total) { buffer, initialized in
            if total > 0 {
                status = T.withMemoryType { H5Dread(dataset, $0, memorySpace, fileSpace, mp_H5P_DEFAULT(), buffer.baseAddress) }
            }
            initialized = status < 0 ? 0 : total
        }
        guard status >= 0 else { throw failure(path, "cannot read entry \(index)") }
        return NDArray(shape: entryShape, storage: storage)
    }

    /// The dataset at `path` (close with H5Dclose), once its stored type is one a `T` can mean.
    private func openDataset<T: HDF5Element>(_ path: String, readableAs type: T.Type) throws -> hid_t {
        let dataset = try openDataset(path)
        do {
            let fileType = try datasetType(dataset, path)
            defer { H5Tclose(fileType) }
            let stored = HDF5Type.classify(fileType)
            guard T.canRead(stored) else {
                throw HDF5Error(file: self.path, path: path, message: "holds \(stored), which cannot be read as \(T.self)")
            }
            return dataset
        } catch {
            H5Dclose(dataset)
            throw error
        }
    }

    /// Reads a scalar, or the single element of a one-element array.
    public func readScalar<T: HDF5Element>(_ path: String, as type: T.Type = T.self) throws -> T {
        let array: NDArray<T> = try read(path)
        guard array.count == 1 else {
            throw HDF5Error(file: self.path, path: path,
                            message: "holds \(array.count) values of shape \(array.shape), expected a single value")
        }
        return array.storage[0]
    }

    /// Reads a string dataset of any rank, fixed or variable length.
    public func readStrings(_ path: String) throws -> NDArray<String> {
        let dataset = try openDataset(path)
        defer { H5Dclose(dataset) }
        let fileType = try datasetType(dataset, path)
        defer { H5Tclose(fileType) }
        let stored = HDF5Type.classify(fileType)
        guard case let .string(variableLength) = stored else {
            throw HDF5Error(file: self.path, path: path, message: "holds \(stored), expected a string")
        }
        let shape = try extent(of: dataset, path).shape
        let count = NDArray<String>.count(of: shape)
        if count == 0 { return NDArray(shape: shape, storage: []) }
        // Reading with a copy of the stored type avoids character-set conversions, which HDF5
        // refuses between ASCII and UTF-8; both decode as UTF-8.
        let memoryType = H5Tcopy(fileType)
        guard memoryType >= 0 else { throw failure(path, "cannot copy string type") }
        defer { H5Tclose(memoryType) }

        if variableLength {
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            guard H5Dread(dataset, memoryType, mp_H5S_ALL(), mp_H5S_ALL(), mp_H5P_DEFAULT(), &pointers) >= 0 else {
                throw failure(path, "cannot read strings")
            }
            let strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
            let space = try dataspace(dataset, path)
            defer { H5Sclose(space) }
            H5Dvlen_reclaim(memoryType, space, mp_H5P_DEFAULT(), &pointers)
            return NDArray(shape: shape, storage: strings)
        }

        let size = Int(H5Tget_size(fileType))
        let spacePadded = H5Tget_strpad(fileType) == H5T_STR_SPACEPAD
        var bytes = [UInt8](repeating: 0, count: count * size)
        guard H5Dread(dataset, memoryType, mp_H5S_ALL(), mp_H5S_ALL(), mp_H5P_DEFAULT(), &bytes) >= 0 else {
            throw failure(path, "cannot read strings")
        }
        let strings = (0..<count).map { index -> String in
            var element = bytes[(index * size)..<((index + 1) * size)]
            if let end = element.firstIndex(of: 0) { element = element[..<end] }
            var text = String(decoding: element, as: UTF8.self)
            if spacePadded { while text.last == " " { text.removeLast() } }
            return text
        }
        return NDArray(shape: shape, storage: strings)
    }

    /// Reads a scalar string, or the single element of a one-element string array.
    public func readString(_ path: String) throws -> String {
        let strings = try readStrings(path)
        guard strings.count == 1 else {
            throw HDF5Error(file: self.path, path: path,
                            message: "holds \(strings.count) strings of shape \(strings.shape), expected one")
        }
        return strings.storage[0]
    }
}
