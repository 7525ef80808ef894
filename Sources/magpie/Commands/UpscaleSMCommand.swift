import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpieNeural
import MagpieCalibration

struct UpscaleSMCommand: ParsableCommand {
    enum Method: String, CaseIterable, ExpressibleByArgument { case learned, bicubic }

    static let configuration = CommandConfiguration(
        commandName: "upscale-sm",
        abstract: "Upscale a coarse 2D system matrix onto a 2x, 4x or 8x finer grid (calibration time).",
        discussion: """
            Every frequency whose calibration SNR (stored, or estimated from the background frames)
            reaches --snr-threshold is upscaled by the learned super-resolution network (models/sm-upscaler:
            SwinIR-style, RIM embedding, FSC loss); the others, and all with --method bicubic, by
            bicubic interpolation. /_magpie/upscale/learned flags which (C x K, 1 = network).

            The coarse points keep their measured positions: the fine grid puts factor - 1 points
            after each, so its field of view keeps its extent and its centre moves by
            (factor - 1) / (2 factor) coarse pitches. Background frames are carried over; each
            frequency's background mean is removed before upscaling and added back after. The
            network was trained for the smsr-paper scanner's 32 x 32 grid; it takes the coarse grid
            it was trained on (8 x 8 for 4x).

            Example:
              magpie simulate sm --preset smsr-paper --grid 8 --snr 20 -o sm8.mdf
              magpie upscale-sm sm8.mdf -o sm32.mdf --factor 4
            """
    )

    @Argument(help: "The coarse system-matrix MDF.") var input: String
    @Option(name: .shortAndLong, help: "The upscaled system-matrix MDF.") var output: String
    @Option(help: "Upscaling factor per driven axis: 2, 4 or 8.") var factor = 4
    @Option(help: "learned or bicubic.") var method: Method = .learned
    @Option(help: "Model in --manifest (default sm-upscaler-x<factor>).") var model: String?
    @Option(help: "Model manifest.") var manifest = "models/manifest.json"
    @Option(help: "Frequencies with a calibration SNR below this are upscaled by bicubic interpolation.") var snrThreshold = 5.0
    @Option(help: "LibTorch threads (default: all cores).") var threads: Int?
    @Flag(help: "Replace the output file if it exists.") var overwrite = false

    func validate() throws {
        guard [2, 4, 8].contains(factor) else { throw ValidationError("--factor must be 2, 4 or 8, got \(factor)") }
        if method == .bicubic && model != nil { throw ValidationError("--model is for --method learned") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        try reportingFailure {
            if !overwrite && FileManager.default.fileExists(atPath: output) {
                throw ValidationError("\(output) exists (use --overwrite to replace it)")
            }
            if let threads { TorchModule.threads = threads }
            let coarse = try MDFReader.read(input)
            let upscaler = method == .learned
                ? try SystemMatrixUpscaler(named: model ?? "sm-upscaler-x\(factor)", manifestPath: manifest) : nil
            let upscaling = try SystemMatrixUpscaling(factor: factor, snrThreshold: snrThreshold, upscaler: upscaler)
            var bar: Progress.Bar?
            let result = try upscaling.upscale(coarse, path: input) { done, total in
                if bar == nil { bar = Progress.Bar("upscaling frequency images", total: total) }
                bar?.update(done)
            }
            let learnedCount = result.learned.storage.filter { $0 == 1 }.count
            try MDFWriter.write(result.mdf, to: output, overwrite: overwrite) { file in
                let g = "/_magpie/upscale"
                try file.write(method.rawValue, to: "\(g)/method")
                try file.write(scalar: Int64(factor), to: "\(g)/factor")
                try file.write(input, to: "\(g)/input")
                try file.write(coarse.uuid, to: "\(g)/inputUUID")
                try file.write(scalar: snrThreshold, to: "\(g)/snrThreshold")
                try file.write(result.learned, to: "\(g)/learned")
                try file.write(scalar: result.seconds, to: "\(g)/seconds")
                if let upscaler { try file.write("\(upscaler.model.name) sha256 \(upscaler.model.entry.sha256)", to: "\(g)/model") }
                try file.write("magpie \(MagpieVersion.string)", to: "\(g)/software")
            }
            let size = result.mdf.calibration!.size.map(String.init).joined(separator: " x ")
            print("\(output): \(size) grid; \(learnedCount) of \(result.learned.count) frequency images by \(upscaler?.model.name ?? "the network"), "
                  + "\(result.learned.count - learnedCount) by bicubic interpolation; \(String(format: "%.2f", result.seconds)) s")
        }
    }
}
