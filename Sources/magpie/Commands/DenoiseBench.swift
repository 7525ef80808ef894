import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpieNeural
import MagpieReco

struct DenoiseBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "denoise",
        abstract: "Signal denoising on a test set: SNR and RMSE of the signal, SSIM and PSNR of its x-space image, speed.",
        discussion: """
            Reads a `magpie simulate dataset denoise` file (/input, /target, /clean). Rows: the noisy
            period, the average of the two periods (a classical baseline), and each --model applied
            to the noisy period. Signal SNR = 20 log10(rms(clean) / rms(out - clean)) and RMSE =
            rms(out - clean) / max|clean|, per channel period, averaged; image SSIM and PSNR of the
            x-space image of each period against the x-space image of the clean period (data range
            of the clean image), averaged. Speed: milliseconds per period and channel through
            LibTorch, per frame (the channels as one batch, as the daemon runs) and in batches of 64.

            Example:
              magpie bench denoise --dataset test.h5 --model signal-denoiser-openmpi2d --model signal-denoiser-n2n-openmpi2d
            """
    )

    @Option(help: "Test set from `magpie simulate dataset denoise`.") var dataset: String
    @Option(help: "A model in --manifest (repeatable).") var model: [String] = []
    @Option(help: "Model manifest.") var manifest = "models/manifest.json"
    @Option(help: "Scanner preset of the data (default: the first model's scanner).") var preset: ScannerPreset?
    @Option(help: "Use only the first N records.") var limit: Int?
    @Option(help: "LibTorch threads.") var threads = 2
    @Flag(help: "Markdown table rows only.") var markdown = false

    func run() throws {
        try reportingFailure(measure)
    }

    private func measure() throws {
        TorchModule.threads = threads
        let denoisers = try model.map { try SignalDenoiser(model: LearnedModel(named: $0, manifestPath: manifest, kind: SignalDenoiser.kind)) }
        let scannerName = preset?.rawValue ?? denoisers.first?.model.entry.scanner ?? ""
        guard let scannerPreset = ScannerPreset(rawValue: scannerName) else {
            throw ValidationError("--preset is needed (the model's scanner '\(scannerName)' is not a preset)")
        }
        let scanner = scannerPreset.scanner
        let file = try HDF5File.open(dataset)
        var input = try file.read("/input", as: Float.self), target = try file.read("/target", as: Float.self)
        var clean = try file.read("/clean", as: Float.self)
        guard input.rank == 3, input.shape == target.shape, input.shape == clean.shape,
              input.shape[1] == scanner.receive.count, input.shape[2] == scanner.samplesPerPeriod else {
            throw ValidationError("\(dataset): /input \(input.shape) does not hold \(scanner.name) periods (records x \(scanner.receive.count) x \(scanner.samplesPerPeriod))")
        }
        if let limit, limit < input.shape[0] {
            let shape = [limit, input.shape[1], input.shape[2]]
            func first(_ a: NDArray<Float>) -> NDArray<Float> { NDArray(shape: shape, storage: Array(a.storage.prefix(NDArray<Float>.count(of: shape)))) }
            (input, target, clean) = (first(input), first(target), first(clean))
        }
        let (records, channels, samples) = (input.shape[0], input.shape[1], input.shape[2])
        let frame = channels * samples
        let reco = try XSpaceReconstruction(scanner: scanner)
        let plan = reco.plan()
        let (rows, columns) = (scanner.imageSize[1], scanner.imageSize[0])
        func image(_ values: ArraySlice<Float>) throws -> [Double] {
            try XSpaceReconstruction.apply(plan, to: values.map(Double.init), shape: [channels, samples]).storage
        }
        let references = try (0..<records).map { try image(clean.storage[($0 * frame)..<(($0 + 1) * frame)]) }

        func score(_ out: [Float]) throws -> (snr: Double, rmse: Double, ssim: Double, psnr: Double) {
            var snr = 0.0, rmse = 0.0, ssim = 0.0, psnr = 0.0
            for r in 0..<records {
                for c in 0..<channels {
                    let base = r * frame + c * samples
                    var signal = 0.0, error = 0.0, peak = 0.0
                    for v in base..<(base + samples) {
                        let (x, y) = (Double(clean.storage[v]), Double(out[v]))
                        signal += x * x; error += (y - x) * (y - x); peak = max(peak, abs(x))
                    }
                    snr += 10 * log10(signal / max(error, 1e-300))
                    rmse += (error / Double(samples)).squareRoot() / max(peak, 1e-300)
                }
                let reference = references[r]
                let range = (reference.max() ?? 1) - (reference.min() ?? 0)
                let picture = try image(out[(r * frame)..<((r + 1) * frame)])
                ssim += ImageMetrics.ssim(picture, reference: reference, rows: rows, columns: columns, dataRange: range)
                psnr += ImageMetrics.psnr(picture, reference: reference, dataRange: range)
            }
            let periods = Double(records * channels)
            return (snr / periods, rmse / periods, ssim / Double(records), psnr / Double(records))
        }

        var table: [(String, (snr: Double, rmse: Double, ssim: Double, psnr: Double), String)] = []
        table.append(("Noisy", try score(input.storage), "-"))
        table.append(("Two-period average", try score(zip(input.storage, target.storage).map { ($0 + $1) / 2 }), "-"))
        let periods = input.reshaped([records * channels, samples])
        for denoiser in denoisers {
            denoiser.batch = 64
            var out = try denoiser.denoise(periods)  // warms LibTorch's profiling executor too
            let batched = try timed(repeats: 3) { out = try denoiser.denoise(periods) } / Double(records * channels) * 1e3
            denoiser.batch = channels
            let perFrameRecords = min(records, 100)
            let sample = NDArray(shape: [perFrameRecords * channels, samples], storage: Array(periods.storage.prefix(perFrameRecords * frame)))
            let perFrame = try timed(repeats: 3) { _ = try denoiser.denoise(sample) } / Double(perFrameRecords * channels) * 1e3
            table.append((denoiser.model.name, try score(out.storage), String(format: "%.2f / %.2f", perFrame, batched)))
        }
        if !markdown {
            print("\(dataset): \(records) records of \(channels) x \(samples) (\(scanner.name)), \(TorchModule.threads) LibTorch threads")
            print("| method | SNR (dB) | RMSE (x 1e-3) | SSIM | PSNR (dB) | ms per period and channel: per frame / batch 64 |")
            print("|---|---|---|---|---|---|")
        }
        for (name, s, speed) in table {
            print("| \(name) | " + String(format: "%.2f | %.2f | %.3f | %.2f", s.snr, s.rmse * 1e3, s.ssim, s.psnr) + " | \(speed) |")
        }
    }
}
