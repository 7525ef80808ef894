import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpiePhysics

/// `--phantom-file` and its companions: phantoms drawn by the user (PNG, NumPy .npy, or an array
/// in an HDF5 file) instead of the built-in kinds, for `simulate measurement` and `simulate dataset`.
struct PhantomFileOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A phantom from a file instead of --phantom: a PNG (its luminance; row 0 is y index 0, as Magpie's previews draw), a NumPy .npy array, or an array in an HDF5 file (--phantom-dataset). Arrays are x fastest: [ny, nx] for a 2D scanner, [nz, ny, nx] for 3D, as /_magpie/phantom is. simulate dataset takes it several times (record i uses file i mod n).", valueName: "file"))
    var phantomFile: [String] = []

    @Option(help: "The array's dataset in an HDF5 --phantom-file (default: /_magpie/phantom of a file magpie simulate wrote, else /phantom).")
    var phantomDataset: String?

    @Option(help: ArgumentHelp("Field of view the --phantom-file covers, mm, centred on the scanner's: x,y or x,y,z (default: the scanner's; for /_magpie/phantom, the one the file records).", valueName: "mm"))
    var phantomFov: String?

    @Option(help: "mol Fe / L per unit of the --phantom-file's values (default: the brightest value becomes the peak concentration).")
    var phantomScale: Double?

    func validate() throws {
        if let phantomScale, !(phantomScale > 0 && phantomScale.isFinite) { throw ValidationError("--phantom-scale must be a positive number") }
        _ = try fieldOfView()
        if phantomFile.isEmpty, phantomDataset != nil || phantomFov != nil || phantomScale != nil {
            throw ValidationError("--phantom-dataset, --phantom-fov and --phantom-scale describe a --phantom-file; give one")
        }
    }

    /// --phantom-fov in metres, x, y, z (nil where not given).
    func fieldOfView() throws -> [Double?]? {
        guard let phantomFov else { return nil }
        let parts = phantomFov.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard (2...3).contains(parts.count), parts.allSatisfy({ $0 != nil && $0! > 0 && $0!.isFinite }) else {
            throw ValidationError("--phantom-fov takes two or three positive lengths in mm, e.g. 24,24; got \(phantomFov)")
        }
        return parts.map { $0! / 1000 } + (parts.count == 2 ? [nil] : [])
    }

    /// The files as phantom images (read once), each with its field of view for `scanner`.
    func images(for scanner: MPIScanner) throws -> [PhantomImage] {
        try phantomFile.map { path in
            do {
                let (values, recordedFOV) = try Self.read(path, dataset: phantomDataset)
                let given = try fieldOfView()
                let fov = (0..<3).map { a in given?[a] ?? recordedFOV?[a] ?? scanner.fieldOfView[a] }
                return try PhantomImage(values: values, fieldOfView: fov)
            } catch {
                throw ValidationError("--phantom-file \(path): \(error)")
            }
        }
    }

    /// The values of a phantom file and, for /_magpie/phantom, the field of view it records.
    static func read(_ path: String, dataset: String?) throws -> (NDArray<Double>, [Double]?) {
        let lower = path.lowercased()
        if lower.hasSuffix(".png") { return (try PNG.luminance(of: try Data(contentsOf: URL(fileURLWithPath: path))), nil) }
        if lower.hasSuffix(".npy") { return (try NumPyArray.read(try Data(contentsOf: URL(fileURLWithPath: path))), nil) }
        let file = try HDF5File.open(path)
        let name = dataset ?? (file.exists("/_magpie/phantom") ? "/_magpie/phantom" : "/phantom")
        guard file.exists(name) else { throw ValidationError("no dataset \(name) (name the array with --phantom-dataset)") }
        var values = try file.read(name, as: Double.self)
        // /_magpie/phantom is written [nz, ny, nx] with nz (and ny) 1 for 2D (1D) scanners.
        while values.rank > 1, values.shape[0] == 1 { values = values.reshaped(Array(values.shape.dropFirst())) }
        let fov = name == "/_magpie/phantom" && file.exists("/_magpie/phantomFieldOfView")
            ? try file.read("/_magpie/phantomFieldOfView", as: Double.self).storage : nil
        return (values, fov)
    }
}

extension PhantomImage {
    /// `concentration(for:peak:scale:)` shaped as the built-in phantoms are: [nx], [ny, nx] or [nz, ny, nx].
    func phantom(for scanner: MPIScanner, peak: Double, scale: Double?) throws -> NDArray<Double> {
        let image = try concentration(for: scanner, peak: peak, scale: scale)
        return image.reshaped(Array(image.shape.drop { $0 == 1 }.isEmpty ? [1] : image.shape.drop { $0 == 1 }))
    }
}
