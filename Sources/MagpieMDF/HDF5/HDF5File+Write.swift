import CHDF5
import Foundation
import MagpieCore

extension HDF5File {
    /// Writes a new dataset (rank 0 becomes a scalar dataspace), creating missing parent groups.
    public func write<T: HDF5Element>(_ array: NDArray<T>, to path: String) throws {
        let space = try makeDataspace(shape: array.shape, maxShape: nil, path: path)
        defer { H5Sclose(space) }
        let dataset = try T.withFileType { try createDataset(path, type: $0, space: space, creation: nil) }
        defer { H5Dclose(dataset) }
        guard array.count > 0 else { return }
        let status = T.withMemoryType { memoryType in
            array.storage.withUnsafeBufferPointer {
                H5Dwrite(dataset, memoryType, mp_H5S_ALL(), mp_H5S_ALL(), mp_H5P_DEFAULT(), $0.baseAddress)
            }
        }
        guard status >= 0 else { throw failure(path, "cannot write") }
    }

    public func write<T: HDF5Element>(scalar value: T, to path: String) throws {
        try write(NDArray(scalar: value), to: path)
    }

    /// Writes one string as a fixed-length UTF-8 scalar, the way MPIFiles writes single strings.
    public func write(_ string: String, to path: String) throws {
        let bytes = Array(string.utf8)
        let type = try makeStringType(fixedSize: max(bytes.count, 1), path: path)
        defer { H5Tclose(type) }
        let space = try makeDataspace(shape: [], maxShape: nil, path: path)
        defer { H5Sclose(space) }
        let dataset = try createDataset(path, type: type, space: space, creation: nil)
        defer { H5Dclose(dataset) }
        let padded = bytes.isEmpty ? [UInt8(0)] : bytes
        guard H5Dwrite(dataset, type, mp_H5S_ALL(), mp_H5S_ALL(), mp_H5P_DEFAULT(), padded) >= 0 else {
            throw failure(path, "cannot write string")
        }
    }

    /// Writes a string array as variable-length UTF-8, the way MPIFiles writes string arrays.
    public func write(_ strings: NDArray<String>, to path: String) throws {
        if strings.rank == 0 { return try write(strings.storage[0], to: path) }
        let type = try makeStringType(fixedSize: nil, path: path)
        defer { H5Tclose(type) }
        let space = try makeDataspace(shape: strings.shape, maxShape: nil, path: path)
        defer { H5Sclose(space) }
        let dataset = try createDataset(path, type: type, space: space, creation: nil)
        defer { H5Dclose(dataset) }
        guard strings.count > 0 else { return }
        let pointers: [UnsafeMutablePointer<CChar>?] = strings.storage.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        guard H5Dwrite(dataset, type, mp_H5S_ALL(), mp_H5S_ALL(), mp_H5P_DEFAULT(), pointers) >= 0 else {
            throw failure(path, "cannot write strings")
        }
    }

    // MARK: - Internals (identifiers returned here are closed by the caller)

    /// Close with H5Sclose.
    func makeDataspace(shape: [Int], maxShape: [Int?]?, path: String) throws -> hid_t {
        let space: hid_t
        if shape.isEmpty {
            space = H5Screate(H5S_SCALAR)
        } else {
            let dims = shape.map { hsize_t($0) }
            if let maxShape {
                let maxDims = maxShape.map { $0.map { hsize_t($0) } ?? mp_H5S_UNLIMITED() }
                space = H5Screate_simple(Int32(dims.count), dims, maxDims)
            } else {
                space = H5Screate_simple(Int32(dims.count), dims, nil)
            }
        }
        guard space >= 0 else { throw failure(path, "cannot create dataspace of shape \(shape)") }
        return space
    }

    /// UTF-8 string type, fixed-size (NUL-padded) or variable-length. Close with H5Tclose.
    func makeStringType(fixedSize: Int?, path: String) throws -> hid_t {
        let type = H5Tcopy(mp_H5T_C_S1())
        guard type >= 0 else { throw failure(path, "cannot create string type") }
        H5Tset_size(type, fixedSize ?? mp_H5T_VARIABLE())
        H5Tset_cset(type, H5T_CSET_UTF8)
        if fixedSize != nil { H5Tset_strpad(type, H5T_STR_NULLPAD) }
        return type
    }

    /// Close with H5Dclose.
    func createDataset(_ path: String, type: hid_t, space: hid_t, creation: hid_t?) throws -> hid_t {
        HDF5Library.silenceErrorPrinting()
        if try kind(of: path) != nil {
            throw HDF5Error(file: self.path, path: path, message: "already exists")
        }
        let linkProperties = try makeLinkProperties()
        defer { H5Pclose(linkProperties) }
        let dataset = H5Dcreate2(id, path, type, space, linkProperties, creation ?? mp_H5P_DEFAULT(), mp_H5P_DEFAULT())
        guard dataset >= 0 else { throw failure(path, "cannot create dataset") }
        return dataset
    }
}
