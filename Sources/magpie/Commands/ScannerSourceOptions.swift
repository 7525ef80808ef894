import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpiePlan

/// `--scanner-from`: a scanner described by an MDF file (a lab's own scan or calibration) instead
/// of a preset, so that simulations, datasets and the training recipes behind them can serve a
/// scanner that is not a preset. MDF records the drive field, receiver and gradient; the particle
/// and image grid come from the file's `/_magpie/scanner` when Magpie wrote it, else from the
/// openmpi preset with as many active drive channels (25 nm cores at 300 K; 64, 64 x 64 or
/// 24 x 24 x 12 voxels), each overridable.
struct ScannerSourceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Take the scanner from this MDF file (drive field, receiver, gradient) instead of a preset.", valueName: "mdf"))
    var scannerFrom: String?

    @Option(help: "With --scanner-from: particle core diameter, nm (default: the file's recorded particle, else 25).")
    var particleDiameter: Double?

    @Option(help: "With --scanner-from: particle temperature, K (default: recorded, else 300).")
    var temperature: Double?

    @Option(help: ArgumentHelp("With --scanner-from: voxels per axis, e.g. 64,64 (default: recorded, else the openmpi preset's for as many axes).", valueName: "x,y[,z]"))
    var imageSize: String?

    func validate() throws {
        if scannerFrom == nil, particleDiameter != nil || temperature != nil || imageSize != nil {
            throw ValidationError("--particle-diameter, --temperature and --image-size describe a --scanner-from scanner; give one")
        }
        if let particleDiameter, !(particleDiameter > 0 && particleDiameter < 1000) { throw ValidationError("--particle-diameter must be between 0 and 1000 nm") }
        if let temperature, !(temperature > 0 && temperature < 1000) { throw ValidationError("--temperature must be between 0 and 1000 K") }
        _ = try size()
    }

    private func size() throws -> [Int]? {
        guard let imageSize else { return nil }
        let parts = imageSize.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...3).contains(parts.count), parts.allSatisfy({ $0 != nil && $0! >= 1 && $0! <= 1024 }) else {
            throw ValidationError("--image-size takes one to three voxel counts from 1 to 1024, e.g. 64,64; got \(imageSize)")
        }
        return parts.map { $0! } + [Int](repeating: 1, count: 3 - parts.count)
    }

    /// The scanner of --scanner-from with the overrides, or nil without it.
    func scanner() throws -> MPIScanner? {
        guard let scannerFrom else { return nil }
        do {
            let file = try MDFReader.read(scannerFrom, options: MDFReader.Options(loadData: false))
            var scanner = try ReconstructionInputs.xSpaceScanner(file, recorded: ReconstructionInputs.recordedScanner(scannerFrom)).scanner
            let particle = scanner.particle
            scanner.particle = Particle(coreDiameter: particleDiameter.map { $0 * 1e-9 } ?? particle.coreDiameter,
                                        saturationMagnetization: particle.saturationMagnetization, temperature: temperature ?? particle.temperature)
            if let size = try size() { scanner.imageSize = size }
            scanner.name = "from \((scannerFrom as NSString).lastPathComponent)"
            try scanner.validate()
            return scanner
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("--scanner-from \(scannerFrom): \(error)")
        }
    }
}
