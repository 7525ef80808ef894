import Foundation
import MagpieCore
import MagpieMDF
import Synchronization

/// The finished scan files of the output directory as the console serves them. A name from a
/// request is only ever looked up among the directory's own listing (visible regular `.mdf`
/// files, no links), so no request can name anything else; summaries are cached by name, size and
/// modification time (a file is read once, not once per page view).
final class ScanDirectory: Sendable {
    /// One file: `magpie inspect --json`'s summary, with what the daemon recorded of the scan.
    struct Entry: Encodable, Sendable {
        var name: String
        var bytes: Int64
        var modified: String
        /// The daemon's word for how the scan ended ("complete", "incomplete: ...", "recovered ..."); nil for files it did not write.
        var status: String?
        var complete: Bool?
        /// Images in /reconstruction.
        var images: Int
        var summary: MDFSummary?
        /// Why the summary could not be read (a file that is not MDF, say).
        var error: String?
    }

    enum Lookup: Error {
        case badName(String)
        case notFound(String)
    }

    let directory: String
    private let cache = Mutex([String: (key: FileKey, entry: Entry)]())
    /// The last listing and the directory's modification time then (a file written, renamed in or
    /// deleted changes it): every open page asks for the status twice a second.
    private let listing = Mutex<(directoryModified: timespec, files: [(name: String, bytes: Int64, modified: Double)])?>(nil)

    private struct FileKey: Equatable {
        var bytes: Int64
        var modified: Double
    }

    init(directory: String) { self.directory = directory }

    /// Names a file may have: what the scan writer makes (letters, digits, '-', '_', '.'), ending in .mdf, not hidden.
    static func isValidName(_ name: String) -> Bool {
        name.count <= 255 && name.hasSuffix(".mdf") && !name.hasPrefix(".")
            && name.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }
    }

    /// The directory's scan files with their size and modification time, newest first.
    func list() -> [(name: String, bytes: Int64, modified: Double)] {
        var info = stat()
        guard stat(directory, &info) == 0 else { return [] }
        if let last = listing.withLock({ $0 }), last.directoryModified.tv_sec == info.st_mtim.tv_sec,
           last.directoryModified.tv_nsec == info.st_mtim.tv_nsec {
            return last.files
        }
        let files = read()
        listing.withLock { $0 = (info.st_mtim, files) }
        return files
    }

    private func read() -> [(name: String, bytes: Int64, modified: Double)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter(Self.isValidName).compactMap { name -> (String, Int64, Double)? in
            var info = stat()
            guard lstat(path(name), &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
            return (name, Int64(info.st_size), Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
        }.sorted { ($0.2, $0.0) > ($1.2, $1.0) }
    }

    private func find(_ name: String) throws(Lookup) -> (name: String, bytes: Int64, modified: Double) {
        guard Self.isValidName(name) else { throw .badName(name) }
        guard let file = list().first(where: { $0.name == name }) else { throw .notFound(name) }
        return file
    }

    /// The path of a listed file; `Lookup` errors for a name that is not one.
    func resolve(_ name: String) throws(Lookup) -> String { path(try find(name).name) }

    func entry(_ name: String) throws(Lookup) -> Entry { entry(try find(name)) }

    func entry(_ file: (name: String, bytes: Int64, modified: Double)) -> Entry {
        let key = FileKey(bytes: file.bytes, modified: file.modified)
        if let cached = cache.withLock({ $0[file.name] }), cached.key == key { return cached.entry }
        let path = self.path(file.name)
        var entry = Entry(name: file.name, bytes: file.bytes, modified: MDF.timestamp(Date(timeIntervalSince1970: file.modified)), images: 0)
        do {
            let hdf = try HDF5File.open(path)
            entry.summary = try MDFSummary(hdf)
            entry.images = entry.summary?.reconstruction?.axes.first?.length ?? 0
            entry.status = try? hdf.readString("/_magpie/daemon/status")
            entry.complete = (try? hdf.readScalar("/_magpie/daemon/complete", as: Int64.self)).map { $0 != 0 }
        } catch {
            entry.error = "\(error)"
        }
        cache.withLock { cache in
            cache[file.name] = (key, entry)
            if cache.count > 4096 { cache.removeAll() }   // files deleted by retention: start again rather than grow
        }
        return entry
    }

    /// Image `index` of the file's /reconstruction (negative: from the end, -1 the newest) and its grid.
    func image(_ name: String, index: Int) throws -> (values: [Float], size: [Int]) {
        let summary = try entry(name)
        guard summary.images > 0, let size = summary.summary?.reconstructionGrid else { throw Lookup.notFound("\(name) has no images") }
        let position = index < 0 ? summary.images + index : index
        guard (0..<summary.images).contains(position) else {
            throw Lookup.notFound("\(name) has \(summary.images) images (0 to \(summary.images - 1), or -1 for the last); there is no image \(index)")
        }
        let image: NDArray<Float> = try HDF5File.open(path(name)).read("/reconstruction/data", index: position)
        return (image.storage, size)
    }

    private func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
}
