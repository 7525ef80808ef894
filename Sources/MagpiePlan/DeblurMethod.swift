import MagpieCore
import MagpieNeural
import MagpieReco

/// How a native x-space image is deblurred: a learned image deblurrer from the manifest (the
/// MSA-transformer, the DC-GAN's generator), or a classical deconvolution by the scanner's Langevin PSF.
public enum DeblurMethod {
    case learned(ImageDeblurrer)
    /// Wiener filter with noise-to-signal power ratio k.
    case wiener(noiseToSignal: Double)
    case richardsonLucy(iterations: Int)

    /// Defaults chosen on the deblur validation set (`magpie bench deblur`, docs/BENCHMARKS.md).
    public static var wienerDefault: DeblurMethod { .wiener(noiseToSignal: 1e-4) }
    public static var richardsonLucyDefault: DeblurMethod { .richardsonLucy(iterations: 40) }

    /// The method a plan names. A learned model (`model`, or the choice's default) is loaded and verified.
    public static func named(_ choice: DeblurStep.Method, model: String?, manifest: String) throws -> DeblurMethod {
        switch choice {
        case .wiener: return wienerDefault
        case .rl: return richardsonLucyDefault
        case .msa, .dcgan: return .learned(try ImageDeblurrer(named: model ?? choice.defaultModel!, manifestPath: manifest))
        }
    }

    public var name: String {
        switch self {
        case let .learned(deblurrer): return deblurrer.model.name
        case let .wiener(k): return "Wiener (k \(k))"
        case let .richardsonLucy(iterations): return "Richardson-Lucy (\(iterations) iterations)"
        }
    }

    /// What a file records of it: the name, and for a learned model its sha256.
    public var provenance: String {
        if case let .learned(deblurrer) = self { return "\(name) sha256 \(deblurrer.model.entry.sha256)" }
        return name
    }

    /// The PSF the classical methods divide out (2D scanners only); nil for the learned one.
    public func kernel(for scanner: MPIScanner) throws -> NDArray<Double>? {
        if case .learned = self { return nil }
        guard scanner.imageSize[0] > 1, scanner.imageSize[1] > 1, scanner.imageSize[2] == 1 else {
            throw PlanError("deblurring takes 2D images; \(scanner.name) images \(scanner.imageSize)")
        }
        return LangevinPSF.kernel(scanner: scanner)
    }

    /// Deblurs a native image [ny, nx] (or [1, ny, nx]); `kernel` from `kernel(for:)`.
    public func deblur(_ image: NDArray<Double>, kernel: NDArray<Double>?) throws -> NDArray<Double> {
        let plane = image.reshaped(Array(image.shape.suffix(2)))
        let result: NDArray<Double>
        switch self {
        case let .learned(deblurrer): result = try deblurrer.deblur(plane)
        case let .wiener(k): result = Deconvolution.wiener(plane, kernel: kernel!, noiseToSignal: k)
        case let .richardsonLucy(iterations): result = Deconvolution.richardsonLucy(plane, kernel: kernel!, iterations: iterations)
        }
        return result.reshaped(image.shape)
    }
}
