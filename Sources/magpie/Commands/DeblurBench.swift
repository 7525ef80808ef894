import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpieNeural
import MagpiePlan
import MagpiePipeline
import MagpieReco

struct DeblurBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deblur",
        abstract: "Deblurring of native x-space images: PSNR, SSIM and time per image of native, Wiener, Richardson-Lucy and learned models.",
        discussion: """
            The MSA-transformer paper's Table 2 on `magpie simulate dataset deblur` files: /native
            (input) against /sharp (label), or with --reference phantom against the true
            concentration (/phantom, maximum 1); --by-set gives the DC-GAN paper's Table 1 layout. Wiener's k and Richardson-Lucy's iterations are chosen
            by mean PSNR on the first --tune-count images of --validation, never on a test set; both
            deconvolve by the Langevin PSF of --preset. Native, Wiener and Richardson-Lucy images
            are scaled to a maximum of 1 like the labels; the networks' outputs are used as they
            come (with --reference phantom they too are scaled to a maximum of 1). Every image is clipped to [0, 1]; PSNR and SSIM with data range 1. Time per
            image: median over --timing-count images of the first test set, one at a time.

            Example:
              magpie bench deblur --test digits.h5 --test phantoms.h5 --validation val.h5 --model msa-deblur --model restormer-deblur
            """
    )

    enum Reference: String, ExpressibleByArgument { case sharp, phantom }

    @Option(help: "Test set (repeatable).") var test: [String]
    @Option(help: "Validation set for choosing the classical methods' parameters.") var validation: String
    @Option(help: "Learned deblurring model in --manifest (repeatable).") var model: [String] = []
    @Option(help: "Model manifest.") var manifest = "models/manifest.json"
    @Option(help: "Scanner whose PSF the classical methods divide out.") var preset: ScannerPreset = .deblurPaper3T
    @Option(help: "What the outputs are compared with: sharp (the deconvolved label) or phantom (the true concentration).")
    var reference: Reference = .sharp
    @Option(help: "Use only the first N images of each test set.") var limit: Int?
    @Option(help: "Validation images used for choosing parameters.") var tuneCount = 50
    @Option(help: "Images timed one at a time.") var timingCount = 20
    @Option(help: "LibTorch threads.") var threads = 2
    @Option(help: "Write every method's output images here (HDF5: /SET/METHOD, N x rows x columns).") var outputs: String?
    @Flag(help: "A row per test set, a column pair per method (the DC-GAN paper's Table 1), no timing.") var bySet = false
    @Flag(help: "Markdown table rows only.") var markdown = false

    func run() throws {
        try reportingFailure(measure)
    }

    struct Pairs { var native: [NDArray<Double>], reference: [NDArray<Double>] }

    private func measure() throws {
        TorchModule.threads = threads
        let file = try outputs.map { try HDF5File.create($0, overwrite: true) }  // before the work: a bad path fails at once
        let kernel = LangevinPSF.kernel(scanner: preset.scanner)
        let sets = try test.map { try Self.pairs($0, reference: reference, limit: limit) }
        let tune = try Self.pairs(validation, reference: reference, limit: tuneCount)
        func best(_ candidates: [DeblurMethod]) throws -> DeblurMethod {
            let scores = try candidates.map { try quality($0, tune, kernel: kernel).score.psnr }
            return candidates[scores.indices.max { scores[$0] < scores[$1] }!]
        }
        let wiener = try best([1e-4, 1e-3, 1e-2, 1e-1].map { DeblurMethod.wiener(noiseToSignal: $0) })
        let rl = try best([10, 20, 40, 80].map { DeblurMethod.richardsonLucy(iterations: $0) })
        let learned = try model.map { DeblurMethod.learned(try ImageDeblurrer(named: $0, manifestPath: manifest)) }
        let methods = [nil, wiener, rl] + learned.map(Optional.some)
        let names = test.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension }
        if !markdown {
            print("\(sets.map { "\($0.native.count)" }.joined(separator: " + ")) test images of \(sets[0].native[0].shape), "
                  + "\(tune.native.count) validation images for choosing parameters; PSF of \(preset.rawValue); "
                  + "compared with /\(reference.rawValue); \(threads) LibTorch threads")
        }
        var scores: [[(psnr: Double, ssim: Double)]] = []  // [method][set]
        for method in methods {
            scores.append(try zip(names, sets).map { name, set in
                let (score, images) = try quality(method, set, kernel: kernel)
                try file?.write(NDArray(shape: [images.count] + set.native[0].shape, storage: images.flatMap { $0 }.map(Float.init)),
                                to: "/\(name)/\(Self.key(method))")
                return score
            })
        }
        for (name, set) in zip(names, sets) {
            try file?.write(NDArray(shape: [set.reference.count] + set.native[0].shape,
                                    storage: set.reference.flatMap(\.storage).map(Float.init)), to: "/\(name)/reference")
        }
        try file?.flush()
        if bySet {
            if !markdown {
                print("| test set | " + methods.map { "\($0?.name ?? "native") PSNR (dB) | SSIM" }.joined(separator: " | ") + " |")
            }
            for (s, name) in names.enumerated() {
                print("| \(name) | " + methods.indices.map { String(format: "%.2f | %.4f", scores[$0][s].psnr, scores[$0][s].ssim) }
                    .joined(separator: " | ") + " |")
            }
            return
        }
        if !markdown {
            print("| method | " + names.map { "\($0) PSNR (dB) | SSIM" }.joined(separator: " | ") + " | ms per image |")
        }
        for (m, method) in methods.enumerated() {
            let milliseconds = try latency(method, sets[0], kernel: kernel)
            print("| \(method?.name ?? "native") | "
                  + scores[m].map { String(format: "%.2f | %.4f", $0.psnr, $0.ssim) }.joined(separator: " | ")
                  + " | " + String(format: "%.1f", milliseconds) + " |")
        }
    }

    /// The name of a method's outputs in --outputs.
    private static func key(_ method: DeblurMethod?) -> String {
        switch method {
        case nil: return "native"
        case .wiener?: return "wiener"
        case .richardsonLucy?: return "rl"
        case let .learned(deblurrer)?: return deblurrer.model.name
        }
    }

    /// The method's image scaled and clipped as the comparison takes it.
    private func output(_ method: DeblurMethod?, _ image: NDArray<Double>, kernel: NDArray<Double>) throws -> [Double] {
        guard let method else { return Self.unitPeak(image.storage) }
        let result = try method.deblur(image, kernel: kernel).storage
        // Against the label a network's output is taken as it comes (it learnt the label's scale);
        // against the phantom, whose scale no method knows, every image is scaled to a peak of 1.
        if case .learned = method, reference == .sharp { return result.map { min(max($0, 0), 1) } }
        return Self.unitPeak(result)
    }

    /// Mean PSNR and SSIM over the set, and the compared images.
    private func quality(_ method: DeblurMethod?, _ pairs: Pairs, kernel: NDArray<Double>) throws
        -> (score: (psnr: Double, ssim: Double), images: [[Double]]) {
        let (rows, columns) = (pairs.native[0].shape[0], pairs.native[0].shape[1])
        // Only the classical methods run in parallel (an image per core); a network runs one image at a time.
        // That is what makes sharing `method` sound: its learned runner (LibTorch, not Sendable) is never used by two threads.
        nonisolated(unsafe) let shared = method
        let compute: @Sendable (Int) throws -> (Double, Double, [Double]) = { [self] i in
            let image = try output(shared, pairs.native[i], kernel: kernel), reference = pairs.reference[i].storage
            return (ImageMetrics.psnr(image, reference: reference, dataRange: 1),
                    ImageMetrics.ssim(image, reference: reference, rows: rows, columns: columns, dataRange: 1), image)
        }
        let isLearned = { if case .learned? = method { return true }; return false }()
        let scores = isLearned ? try pairs.native.indices.map(compute) : try parallelMap(pairs.native.count, compute)
        let n = Double(scores.count)
        return ((scores.map(\.0).reduce(0, +) / n, scores.map(\.1).reduce(0, +) / n), scores.map(\.2))
    }

    private func latency(_ method: DeblurMethod?, _ pairs: Pairs, kernel: NDArray<Double>) throws -> Double {
        guard let method else { return 0 }
        let images = pairs.native.prefix(timingCount)
        _ = try method.deblur(images.first!, kernel: kernel)  // warm-up (LibTorch's first calls optimise the graph)
        return try median(images.map { image in try timed(repeats: 1) { _ = try method.deblur(image, kernel: kernel) } }) * 1e3
    }

    private static func unitPeak(_ values: [Double]) -> [Double] {
        let peak = values.max() ?? 0
        return values.map { peak > 0 ? min(max($0 / peak, 0), 1) : 0 }
    }

    static func pairs(_ path: String, reference: Reference, limit: Int?) throws -> Pairs {
        let file = try HDF5File.open(path)
        let native = try file.read("/native", as: Float.self), sharp = try file.read("/\(reference.rawValue)", as: Float.self)
        guard native.rank == 3, native.shape == sharp.shape else {
            throw ValidationError("\(path): /native and /\(reference.rawValue) must be N x rows x columns of one shape (a `magpie simulate dataset deblur` file)")
        }
        let count = min(native.shape[0], limit ?? .max), plane = native.shape[1] * native.shape[2]
        func images(_ array: NDArray<Float>) -> [NDArray<Double>] {
            (0..<count).map { NDArray(shape: [native.shape[1], native.shape[2]], storage: array.storage[($0 * plane)..<(($0 + 1) * plane)].map(Double.init)) }
        }
        return Pairs(native: images(native), reference: images(sharp))
    }
}
