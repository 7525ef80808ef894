import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpieNeural
import MagpiePlan
import MagpiePipeline
import MagpieReco

struct ScoreBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score-based reconstruction against Kaczmarz on phantoms: PSNR, SSIM, nRMSE and time per image.",
        discussion: """
            The paper's protocol: b = A x + noise, A the SM after background removal and frequency
            selection (SNR >= --snr-threshold), x a phantom of a `magpie simulate dataset score`
            file (/phantom, on the SM's grid), complex Gaussian noise at each --snr (dB, against the
            mean power of A x). Parameters are chosen on the first --tune-count phantoms of
            --validation, never on the test set: Kaczmarz's lambda and sweeps, and the score
            sampler's lambda, each by mean PSNR. Rows: Tikhonov (the SVD's solution at Kaczmarz's
            lambda), Kaczmarz, score. PSNR and SSIM with the phantom's maximum as data range, nRMSE
            = ||x - ref|| / ||ref||, each per image, averaged. Time per image: one image at a time,
            as the scanner delivers them (median of --timing-count), and in one batch.

            Example:
              magpie bench score --sm sm19.mdf --phantoms test.h5 --validation val.h5 --model score-openmpi2d
            """
    )

    @Option(help: "System-matrix MDF (2D).") var sm: String
    @Option(help: "Test phantoms (`magpie simulate dataset score`).") var phantoms: String
    @Option(help: "Validation phantoms for choosing parameters.") var validation: String
    @Option(help: "The score prior in --manifest.") var model = "score-openmpi2d"
    @Option(help: "Model manifest.") var manifest = "models/manifest.json"
    @Option(help: "Measurement SNR in dB (repeatable).") var snr: [Double] = [15, 25]
    @Option(help: "Calibration SNR a frequency needs to enter A.") var snrThreshold = 5.0
    @Option(help: "Use only the first N test phantoms.") var limit: Int?
    @Option(help: "Validation phantoms used for choosing parameters.") var tuneCount = 50
    @Option(help: "Images timed one at a time.") var timingCount = 10
    @Option(help: "Sampler steps.") var steps = ScoreSampler.Parameters().steps
    @Option(help: "Sampler eta.") var eta = ScoreSampler.Parameters().eta
    @Option(help: "Posterior samples averaged per image.") var samples = ScoreSampler.Parameters().samples
    @Option(help: "Images per network batch.") var batch = 50
    @Option(help: "LibTorch threads.") var threads = 2
    @Option(help: "Seed of the measurement noise and the sampler.") var seed: UInt64 = 0
    @Flag(help: "Markdown table rows only.") var markdown = false

    func run() throws {
        try reportingFailure(measure)
    }

    struct Quality { var psnr = 0.0, ssim = 0.0, nrmse = 0.0 }

    private func measure() throws {
        TorchModule.threads = threads
        let smFile = try MDFReader.read(sm)
        let recorded = try ReconstructionInputs.recordedSystemMatrix(smFile, path: sm)
        let size = smFile.calibration!.size
        guard size.count == 3, size[2] == 1 else { throw ValidationError("\(sm): a 2D system matrix is needed, its grid is \(size)") }
        let matrix = try SystemMatrix(recorded, selection: FrequencySelection(snrThreshold: snrThreshold))
        let started = DispatchTime.now()
        let svd = try TikhonovSVD(matrix)
        let svdSeconds = seconds(started)
        let sampler = try ScoreSampler(model: LearnedModel(named: model, manifestPath: manifest, kind: ScoreSampler.kind))
        let test = try Self.phantoms(phantoms, limit: limit, voxels: matrix.columns)
        let tune = try Self.phantoms(validation, limit: tuneCount, voxels: matrix.columns)
        let (rows, columns) = (size[1], size[0])
        if !markdown {
            print("\(sm): \(matrix.rows.count) frequencies (SNR >= \(snrThreshold)) x \(matrix.columns) voxels; SVD \(String(format: "%.2f", svdSeconds)) s; "
                  + "\(test.count) test phantoms, \(tune.count) for choosing parameters; \(model), \(steps) steps, eta \(eta), \(samples) sample(s) per image, \(threads) threads")
        }
        func quality(_ images: [[Double]], _ truths: [[Double]]) -> Quality {
            var q = Quality()
            for (image, truth) in zip(images, truths) {
                let range = truth.max() ?? 1
                q.psnr += ImageMetrics.psnr(image, reference: truth, dataRange: range)
                q.ssim += ImageMetrics.ssim(image, reference: truth, rows: rows, columns: columns, dataRange: range)
                q.nrmse += ImageMetrics.nrmse(image, reference: truth)
            }
            let n = Double(images.count)
            return Quality(psnr: q.psnr / n, ssim: q.ssim / n, nrmse: q.nrmse / n)
        }
        func kaczmarz(_ u: NDArray<Complex<Float>>, lambda: Double, sweeps: Int) throws -> [[Double]] {
            let images = try Kaczmarz(lambda: lambda, iterations: sweeps, computeResiduals: false).solve(matrix, u).images
            return (0..<u.shape[0]).map { i in images.storage[(i * matrix.columns)..<((i + 1) * matrix.columns)].map(Double.init) }
        }
        func score(_ u: NDArray<Complex<Float>>, lambda: Double, count: Int? = nil) throws -> [[Double]] {
            let m = u.shape[1], n = count ?? u.shape[0]
            let stacked = (0..<n).map { TikhonovSVD.stacked(u.storage[($0 * m)..<(($0 + 1) * m)]) }
            var out: [[Double]] = []
            for start in stride(from: 0, to: n, by: batch) {
                let parameters = ScoreSampler.Parameters(steps: steps, lambda: lambda, eta: eta, samples: samples, seed: seed &+ UInt64(start))
                out += try sampler.reconstruct(Array(stacked[start..<min(start + batch, n)]), svd: svd, rows: rows, columns: columns, parameters: parameters)
            }
            return out
        }

        if markdown { print("| SNR | method | parameters | PSNR (dB) | SSIM | nRMSE | ms per image (one / batched) |\n|---|---|---|---|---|---|---|") }
        for level in snr {
            let uTune = measurements(tune, matrix: matrix, snr: level, seed: seed ^ 0x7475_6E65)
            let uTest = measurements(test, matrix: matrix, snr: level, seed: seed)
            var best = (lambda: 0.0, sweeps: 0, psnr: -Double.infinity)
            for lambda in [1e-4, 1e-3, 1e-2, 1e-1, 1] {
                for sweeps in [1, 3, 10] {
                    let p = quality(try kaczmarz(uTune, lambda: lambda, sweeps: sweeps), tune).psnr
                    if p > best.psnr { best = (lambda, sweeps, p) }
                }
            }
            var bestScore = (lambda: 0.0, psnr: -Double.infinity)
            for lambda in [1e-2, 1e-1, 1, 3, 10] {
                let p = quality(try score(uTune, lambda: lambda), tune).psnr
                if p > bestScore.psnr { bestScore = (lambda, p) }
            }
            let m = matrix.rows.count
            let tikhonov = (0..<test.count).map { i in
                svd.solution(coefficients: svd.coefficients(TikhonovSVD.stacked(uTest.storage[(i * m)..<((i + 1) * m)])), lambda: best.lambda).map { max($0, 0) }
            }
            let one = NDArray(shape: [1, m], storage: Array(uTest.storage.prefix(m)))
            let kaczmarzOne = try timed(repeats: timingCount) { _ = try kaczmarz(one, lambda: best.lambda, sweeps: best.sweeps) }
            var started = DispatchTime.now()
            let kaczmarzImages = try kaczmarz(uTest, lambda: best.lambda, sweeps: best.sweeps)
            let kaczmarzBatched = seconds(started) / Double(test.count)
            let scoreOne = try timed(repeats: timingCount) { _ = try score(one, lambda: bestScore.lambda) }
            started = DispatchTime.now()
            let scoreImages = try score(uTest, lambda: bestScore.lambda)
            let scoreBatched = seconds(started) / Double(test.count)
            let rowsOut: [(String, String, Quality, String)] = [
                ("Tikhonov (SVD), positive", "lambda \(best.lambda)", quality(tikhonov, test), "-"),
                ("Kaczmarz", "lambda \(best.lambda), \(best.sweeps) sweeps", quality(kaczmarzImages, test),
                 String(format: "%.2f / %.2f", kaczmarzOne * 1e3, kaczmarzBatched * 1e3)),
                ("score (\(model))", "lambda \(bestScore.lambda), \(steps) steps, \(samples) sample(s)", quality(scoreImages, test),
                 String(format: "%.1f / %.1f", scoreOne * 1e3, scoreBatched * 1e3)),
            ]
            for (name, parameters, q, time) in rowsOut {
                if markdown {
                    print(String(format: "| %.0f dB | \(name) | \(parameters) | %.2f | %.3f | %.3f | \(time) |", level, q.psnr, q.ssim, q.nrmse))
                } else {
                    func padded(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(width - text.count, 0)) }
                    print("SNR \(Int(level)) dB  \(padded(name, 26)) \(padded(parameters, 38)) "
                          + String(format: "PSNR %6.2f dB  SSIM %.3f  nRMSE %.3f  ", q.psnr, q.ssim, q.nrmse) + "ms \(time)")
                }
            }
        }
    }

    /// b = A x + complex Gaussian noise at `snr` dB against the mean power of A x, one row per phantom.
    private func measurements(_ images: [[Double]], matrix: SystemMatrix, snr: Double, seed: UInt64) -> NDArray<Complex<Float>> {
        var storage: [Complex<Float>] = []
        for (i, image) in images.enumerated() {
            let b = matrix.apply(image.map(Float.init))
            let power = b.reduce(0.0) { $0 + Double($1.real * $1.real + $1.imaginary * $1.imaginary) } / Double(b.count)
            let sigma = (power / pow(10, snr / 10) / 2).squareRoot()
            var random = SeededRandom(seed: seed).derived(UInt64(i))
            storage += b.map { Complex($0.real + Float(sigma * random.normal()), $0.imaginary + Float(sigma * random.normal())) }
        }
        return NDArray(shape: [images.count, matrix.rows.count], storage: storage)
    }

    /// /phantom of a score dataset as images of `voxels` values (x fastest).
    static func phantoms(_ path: String, limit: Int?, voxels: Int) throws -> [[Double]] {
        let data = try HDF5File.open(path).read("/phantom", as: Float.self)
        guard data.rank == 3, data.shape[1] * data.shape[2] == voxels else {
            throw ValidationError("\(path): /phantom \(data.shape) does not hold images of the system matrix's \(voxels) voxels")
        }
        let n = min(limit ?? data.shape[0], data.shape[0])
        return (0..<n).map { i in data.storage[(i * voxels)..<((i + 1) * voxels)].map(Double.init) }
    }
}
