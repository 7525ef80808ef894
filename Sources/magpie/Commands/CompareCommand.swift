import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpieReco

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Image metrics of an image against a reference: PSNR, SSIM, nRMSE, pSNR.",
        discussion: """
            Each image is an MDF reconstruction (its first frame) or FILE:/path, a 2D (or
            [1, ny, nx]) dataset in any HDF5 file, such as the phantom a simulated measurement
            stores. SSIM is scikit-image's with Gaussian weights (sigma 1.5); PSNR and SSIM use the
            reference's range (max - min) unless --data-range is given; nRMSE is Frobenius; pSNR is
            eq. 15 of the FSC-loss paper.

            Example:
              magpie compare recon.mdf m.mdf:/_magpie/phantom --scale
            """
    )

    @Argument(help: "The image.") var image: String
    @Argument(help: "The reference.") var reference: String
    @Option(help: "Data range for PSNR and SSIM.") var dataRange: Double?
    @Flag(help: "Scale the image by least squares onto the reference first (images in other units).") var scale = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        do {
            let x = try Self.load(image), y = try Self.load(reference)
            guard x.shape == y.shape, x.rank == 2 else {
                throw ValidationError("image is \(x.shape), reference is \(y.shape): need two 2D images of one size")
            }
            var values = x.storage
            if scale {
                let factor = zip(values, y.storage).reduce(0) { $0 + $1.0 * $1.1 } / values.reduce(0) { $0 + $1 * $1 }
                values = values.map { $0 * factor }
            }
            let range = dataRange ?? ((y.storage.max() ?? 0) - (y.storage.min() ?? 0))
            let metrics = [
                "psnr": ImageMetrics.psnr(values, reference: y.storage, dataRange: range),
                "ssim": ImageMetrics.ssim(values, reference: y.storage, rows: y.shape[0], columns: y.shape[1], dataRange: range),
                "nrmse": ImageMetrics.nrmse(values, reference: y.storage),
                "psnr_eq15": ImageMetrics.pSNR(values, reference: y.storage),
            ]
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(metrics), as: UTF8.self))
            } else {
                print(String(format: "PSNR %.3f dB   SSIM %.4f   nRMSE %.4f   pSNR(eq. 15) %.3f dB",
                             metrics["psnr"]!, metrics["ssim"]!, metrics["nrmse"]!, metrics["psnr_eq15"]!))
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }

    /// An image from `FILE:/dataset` or from an MDF reconstruction's first frame, as [ny, nx].
    static func load(_ argument: String) throws -> NDArray<Double> {
        if let colon = argument.range(of: ":/", options: .backwards) {
            let path = String(argument[..<colon.lowerBound]), dataset = String(argument[argument.index(after: colon.lowerBound)...])
            let array = try HDF5File.open(path).read(dataset, as: Double.self)
            let shape = array.shape.filter { $0 > 1 }
            guard shape.count == 2 else { throw ValidationError("\(argument) has shape \(array.shape), not an image") }
            return array.reshaped(shape)
        }
        let mdf = try MDFReader.read(argument)
        guard let reconstruction = mdf.reconstruction else {
            throw ValidationError("\(argument) holds no /reconstruction; give FILE:/dataset for another dataset")
        }
        let size = reconstruction.size
        guard size.count == 3, size[2] == 1 else { throw ValidationError("\(argument): only 2D reconstructions (size z = 1) compare") }
        let voxels = size[0] * size[1]
        let frame: [Double]
        switch reconstruction.data {
        case let .float32(a): frame = a.storage.prefix(voxels).map(Double.init)
        case let .float64(a): frame = Array(a.storage.prefix(voxels))
        default: throw ValidationError("\(argument): reconstruction data must be real")
        }
        return NDArray(shape: [size[1], size[0]], storage: frame)
    }
}
