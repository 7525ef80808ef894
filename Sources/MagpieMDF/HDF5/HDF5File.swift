import CHDF5
import Foundation
import MagpieCore

/// An open HDF5 file. Objects inside it are addressed by absolute path ("/acquisition/numFrames").
/// Every failure becomes an `HDF5Error` naming the file and the path; nothing is printed and
/// nothing traps on bad input.
public final class HDF5File {
    public enum Mode: Sendable { case readOnly, readWrite }
    public enum ObjectKind: Sendable { case group, dataset, other }

    /// The path the file was opened with, as the user gave it.
    public let path: String
    /// Valid for the object's lifetime; closed in deinit.
    let id: hid_t

    private init(path: String, id: hid_t) {
        self.path = path
        self.id = id
    }

    deinit { H5Fclose(id) }

    /// Opens an existing HDF5 file, failing with a readable reason for a missing path, a
    /// directory, a file that is not HDF5 or one that is damaged.
    public static func open(_ path: String, mode: Mode = .readOnly) throws -> HDF5File {
        HDF5Library.silenceErrorPrinting()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw HDF5Error(file: path, path: nil, message: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw HDF5Error(file: path, path: nil, message: "is a directory, not an HDF5 file")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw HDF5Error(file: path, path: nil, message: "permission denied")
        }
        let signature = H5Fis_hdf5(path)
        if signature == 0 {
            throw HDF5Error(file: path, path: nil, message: "not an HDF5 file (no HDF5 signature)")
        }
        let flags = mode == .readOnly ? mp_H5F_ACC_RDONLY() : mp_H5F_ACC_RDWR()
        let id = H5Fopen(path, flags, mp_H5P_DEFAULT())
        guard id >= 0 else {
            throw HDF5Error(file: path, path: nil,
                            message: "cannot open (damaged or truncated HDF5 file?): \(HDF5Library.takeErrorStack())")
        }
        return HDF5File(path: path, id: id)
    }

    /// Creates a new file, replacing an existing one only when `overwrite` is set.
    public static func create(_ path: String, overwrite: Bool = false) throws -> HDF5File {
        HDF5Library.silenceErrorPrinting()
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue {
                throw HDF5Error(file: path, path: nil, message: "is a directory")
            }
            if !overwrite {
                throw HDF5Error(file: path, path: nil, message: "already exists (refusing to overwrite)")
            }
        }
        let flags = overwrite ? mp_H5F_ACC_TRUNC() : mp_H5F_ACC_EXCL()
        let id = H5Fcreate(path, flags, mp_H5P_DEFAULT(), mp_H5P_DEFAULT())
        guard id >= 0 else {
            throw HDF5Error(file: path, path: nil, message: "cannot create: \(HDF5Library.takeErrorStack())")
        }
        return HDF5File(path: path, id: id)
    }

    /// Writes buffered data to disk so that a crash after this point loses none of it.
    public func flush() throws {
        HDF5Library.silenceErrorPrinting()
        guard H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0 else { throw failure(nil, "cannot flush") }
    }

    // MARK: - Objects

    /// Whether a group or dataset exists at `path`.
    public func exists(_ path: String) -> Bool {
        (try? kind(of: path)) != nil
    }

    /// The kind of object at `path`, or nil when nothing is there.
    public func kind(of path: String) throws -> ObjectKind? {
        HDF5Library.silenceErrorPrinting()
        let components = try HDF5File.components(of: path)
        if components.isEmpty { return .group }
        // H5Lexists fails rather than answering false when an intermediate link is missing,
        // so every prefix is checked in turn.
        var prefix = ""
        for component in components {
            prefix += "/" + component
            let status = H5Lexists(id, prefix, mp_H5P_DEFAULT())
            if status < 0 { throw failure(prefix, "cannot look up") }
            if status == 0 { return nil }
        }
        var info = H5O_info_t()
        guard H5Oget_info_by_name2(id, path, &info, UInt32(H5O_INFO_BASIC), mp_H5P_DEFAULT()) >= 0 else {
            throw failure(path, "cannot inspect object")
        }
        switch info.type {
        case H5O_TYPE_GROUP: return .group
        case H5O_TYPE_DATASET: return .dataset
        default: return .other
        }
    }

    /// Names of the direct members of a group, sorted.
    public func members(of group: String) throws -> [String] {
        HDF5Library.silenceErrorPrinting()
        guard try kind(of: group) == .group else {
            throw HDF5Error(file: self.path, path: group, message: "is not a group")
        }
        final class Names { var list: [String] = [] }
        let names = Names()
        var index: hsize_t = 0
        let status = H5Literate_by_name(id, group, H5_INDEX_NAME, H5_ITER_INC, &index, { _, name, _, context in
            guard let name, let context else { return 0 }
            Unmanaged<Names>.fromOpaque(context).takeUnretainedValue().list.append(String(cString: name))
            return 0
        }, Unmanaged.passUnretained(names).toOpaque(), mp_H5P_DEFAULT())
        guard status >= 0 else { throw failure(group, "cannot list members") }
        return names.list.sorted()
    }

    /// Creates a group and any missing parents; an existing group is left as it is.
    public func createGroup(_ path: String) throws {
        HDF5Library.silenceErrorPrinting()
        switch try kind(of: path) {
        case .group: return
        case .some: throw HDF5Error(file: self.path, path: path, message: "exists and is not a group")
        case nil: break
        }
        let linkProperties = try makeLinkProperties()
        defer { H5Pclose(linkProperties) }
        let group = H5Gcreate2(id, path, linkProperties, mp_H5P_DEFAULT(), mp_H5P_DEFAULT())
        guard group >= 0 else { throw failure(path, "cannot create group") }
        H5Gclose(group)
    }

    // MARK: - Dataset metadata

    /// Shape (empty for a scalar), element type, and maximum shape (nil entries are unlimited).
    public struct DatasetInfo: Sendable {
        public let shape: [Int]
        public let type: HDF5Type
        public let maxShape: [Int?]
    }

    public func info(_ path: String) throws -> DatasetInfo {
        let dataset = try openDataset(path)
        defer { H5Dclose(dataset) }
        let type = try datasetType(dataset, path)
        defer { H5Tclose(type) }
        let (shape, maxShape) = try extent(of: dataset, path)
        return DatasetInfo(shape: shape, type: HDF5Type.classify(type), maxShape: maxShape)
    }

    // MARK: - Internals shared by reading and writing

    static func components(of path: String) throws -> [String] {
        guard path.hasPrefix("/") else {
            throw HDF5Error(file: "", path: path, message: "object paths must be absolute (start with '/')")
        }
        return path.split(separator: "/").map(String.init)
    }

    func failure(_ path: String?, _ what: String) -> HDF5Error {
        HDF5Error(file: self.path, path: path, message: "\(what): \(HDF5Library.takeErrorStack())")
    }

    // The helpers below return raw identifiers that the caller closes (with `defer`): an
    // identifier must stay open until its last use, which object lifetimes do not guarantee.

    /// Close with H5Dclose.
    func openDataset(_ path: String) throws -> hid_t {
        HDF5Library.silenceErrorPrinting()
        switch try kind(of: path) {
        case .dataset: break
        case nil: throw HDF5Error(file: self.path, path: path, message: "no such dataset")
        case .some: throw HDF5Error(file: self.path, path: path, message: "is a group, not a dataset")
        }
        let dataset = H5Dopen2(id, path, mp_H5P_DEFAULT())
        guard dataset >= 0 else { throw failure(path, "cannot open dataset") }
        return dataset
    }

    /// Close with H5Tclose.
    func datasetType(_ dataset: hid_t, _ path: String) throws -> hid_t {
        let type = H5Dget_type(dataset)
        guard type >= 0 else { throw failure(path, "cannot read datatype") }
        return type
    }

    /// Close with H5Sclose.
    func dataspace(_ dataset: hid_t, _ path: String) throws -> hid_t {
        let space = H5Dget_space(dataset)
        guard space >= 0 else { throw failure(path, "cannot read dataspace") }
        return space
    }

    func extent(of dataset: hid_t, _ path: String) throws -> (shape: [Int], maxShape: [Int?]) {
        let space = try dataspace(dataset, path)
        defer { H5Sclose(space) }
        if H5Sget_simple_extent_type(space) == H5S_NULL {
            return ([0], [0])
        }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 0 else { throw failure(path, "cannot read dataspace rank") }
        var dims = [hsize_t](repeating: 0, count: rank)
        var maxDims = [hsize_t](repeating: 0, count: rank)
        guard H5Sget_simple_extent_dims(space, &dims, &maxDims) >= 0 else {
            throw failure(path, "cannot read dataspace extent")
        }
        let unlimited = mp_H5S_UNLIMITED()
        return (dims.map { Int($0) }, maxDims.map { $0 == unlimited ? nil : Int($0) })
    }

    /// Link-creation properties that create missing parent groups. Close with H5Pclose.
    func makeLinkProperties() throws -> hid_t {
        let properties = H5Pcreate(mp_H5P_LINK_CREATE())
        guard properties >= 0 else { throw failure(nil, "cannot create link properties") }
        H5Pset_create_intermediate_group(properties, 1)
        return properties
    }
}
