import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpieNeural
import MagpiePipeline
import MagpiePlan
import MagpieReco

extension ReconstructionMethod: ExpressibleByArgument {}
extension DeblurStep.Method: ExpressibleByArgument {}
extension BackgroundStep.Mode: ExpressibleByArgument {}

struct ReconstructCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconstruct",
        abstract: "Reconstruct images from a measurement: system matrix (Kaczmarz, CGNR, score-based) or x-space.",
        discussion: """
            System-matrix methods follow MPIReco's conventions: rows are (frequency, channel) pairs
            between --min-freq and --max-freq whose calibration SNR (stored, or estimated from the
            SM's background frames) reaches --snr-threshold; the SM is background corrected from its
            background frames; the measurement is converted to volts, its background frames'
            mean is subtracted, --average frames are averaged, and it is Fourier transformed.
            lambda is relative: it is scaled by ||S||_F^2 / N. The score method samples each image
            with the learned prior --model, --iterations network steps, each followed by the
            Tikhonov data-consistency step (lambda) from one SVD of the selected SM, and keeps rows
            with SNR >= 5 unless told otherwise. Images are in mol/L of the SM's
            delta sample when the SM states its tracer concentration, otherwise in its units.
            Frames and channels are numbered from 1, as MPIReco counts them; frames in acquisition
            order when the file stores a frame permutation. x-space images are native, in
            particle-moment units per voxel (docs/RECONSTRUCTION.md).

            The options make a reconstruction plan, the one the daemon runs: --plan runs one from a
            plan file (stages = [...] and [stage.NAME] tables, as in the daemon's config), and
            --plan-from the one an output file records, the daemon's files too, so that a live
            image can be reproduced offline. Every output records its plan.

            Examples:
              magpie reconstruct m.mdf --sm sm.mdf -o recon.mdf --png recon.png
              magpie reconstruct m.mdf --sm sm.mdf --method cgnr --average 100 -o recon.mdf
              magpie reconstruct m.mdf --sm sm19.mdf --method score -o recon.mdf
              magpie reconstruct m.mdf --method xspace -o native.mdf
              magpie reconstruct scan.mdf --plan-from scan.mdf -o again.mdf
            """
    )

    @Argument(help: "The measurement MDF (time domain, with background frames).") var measurement: String
    @Option(help: "kaczmarz, cgnr, score or xspace (default kaczmarz).") var method: ReconstructionMethod?
    @Option(help: "System-matrix MDF (kaczmarz, cgnr, score).") var sm: String?
    @Option(help: "Tikhonov lambda, relative to ||S||_F^2 / N (default: 0.01 Kaczmarz, 0.02 CGNR, \(ScoreSampler.Parameters().lambda) score).") var lambda: Double?
    @Option(help: "Kaczmarz sweeps, CGNR iterations or score steps (default: 1 Kaczmarz, 100 CGNR, \(ScoreSampler.Parameters().steps) score).") var iterations: Int?
    @Option(help: "Keep rows whose calibration SNR is at least this (default: 2; 5 for score).") var snrThreshold: Double?
    @Option(help: "Background correction: interpolated (between the blocks before and after the foreground; default), preceding (the daemon's: the mean of the background frames so far) or off.")
    var background: BackgroundStep.Mode = .interpolated
    @Option(help: "Denoise each foreground frame's periods with this signal denoiser from --manifest (e.g. signal-denoiser-openmpi2d).") var denoise: String?
    @Option(help: "Deblur each x-space image: off, msa (the MSA-transformer), dcgan (the DC-GAN), wiener or rl (Richardson-Lucy).")
    var deblur = "off"
    @Option(help: "Model in --manifest: the score prior (default score-openmpi2d) or the deblurring network (default msa-deblur-openmpi2d, dcgan-deblur-openmpi2d).")
    var model: String?
    @Option(help: "Model manifest (score, --denoise, --deblur msa or dcgan).") var manifest = "models/manifest.json"
    @Option(help: "Seed of the score sampler.") var seed: UInt64?
    @Flag(help: "Run learned models (--denoise, score, --deblur msa or dcgan) on a scan whose scanner differs from the one they were trained for (their manifest fingerprint); the file records the mismatch. Without it such a model is refused.")
    var allowOtherScanner = false
    @Option(help: "Lowest frequency used, Hz (default 80 kHz).") var minFreq: Double?
    @Option(help: "Highest frequency used, Hz (default: the receive bandwidth).") var maxFreq: Double?
    @Option(help: "Receive channels, e.g. 1,2 (default: all).") var channels: String?
    @Option(help: "Kaczmarz on the compressed SM: each row's DCT-IV over the grid cut to this fraction of its largest coefficients (e.g. 0.01; the plan's compression.keep).")
    var compressionKeep: Double?
    @Option(parsing: .unconditional, help: "x-space: the receive chain's polarity: auto (decided from the first image: the particles' mass lies above the background), +1 (Magpie's convention, u = -p d/dt of the moment) or -1 (a chain that records -u). Default auto.")
    var polarity: Polarity?
    @Option(help: "Foreground frames, e.g. 1-100 or 1,5,9 (default: all foreground frames).") var frames: String?
    @Option(help: "Average this many consecutive frames into one image.") var average = 1
    @Option(help: "Run the plan of a plan file (TOML: stages = [...] and [stage.NAME] tables) instead of the options above.") var plan: String?
    @Option(help: "Run the plan an output file records (/_magpie/reconstruction/plan), e.g. a daemon's scan file.") var planFrom: String?
    @Option(name: .shortAndLong, help: "Output MDF file.") var output: String
    @Flag(help: "Replace the output file if it exists.") var overwrite = false
    @Option(help: "Write a PNG preview of the last image (maximum along z for 3D): viridis over its own range, small grids sized up (nearest) to 256 pixels or more.") var png: String?
    @Flag(help: "Leave the colour bar (lowest value at the bottom, highest at the top) out of the --png preview.") var noColourBar = false

    func validate() throws {
        if plan != nil && planFrom != nil { throw ValidationError("--plan and --plan-from are two sources of one plan: give one") }
        guard plan == nil && planFrom == nil else {
            if allowOtherScanner { throw ValidationError("--allow-other-scanner shapes the options' plan; a plan file sets allow_other_scanner = true in its [stage.NAME] tables") }
            return
        }
        let method = self.method ?? .kaczmarz
        if method != .xspace && sm == nil { throw ValidationError("--method \(method.rawValue) needs --sm SM.mdf") }
        if method == .xspace && sm != nil { throw ValidationError("--method xspace does not use a system matrix; drop --sm") }
        if polarity != nil && method != .xspace { throw ValidationError("--polarity is x-space's; --method \(method.rawValue) takes the sign from the system matrix") }
        if deblur != "off" && method != .xspace { throw ValidationError("--deblur deblurs x-space images; it needs --method xspace") }
        if allowOtherScanner && denoise == nil && method != .score && DeblurStep.Method(rawValue: deblur)?.defaultModel == nil {
            throw ValidationError("--allow-other-scanner applies to learned models (--denoise, --method score, --deblur msa or dcgan); none is asked for")
        }
        if deblur != "off" && DeblurStep.Method(rawValue: deblur) == nil {
            throw ValidationError("--deblur must be off, \(DeblurStep.Method.allCases.map(\.rawValue).joined(separator: ", ")), not \(deblur)")
        }
        guard average >= 1 else { throw ValidationError("--average must be at least 1") }
        if let lambda, !(lambda >= 0) { throw ValidationError("--lambda must be 0 or more") }
        if let iterations, iterations < 1 { throw ValidationError("--iterations must be at least 1") }
        if let minFreq, minFreq < 0 { throw ValidationError("--min-freq must be 0 or more") }
        if let maxFreq, maxFreq < (minFreq ?? 80e3) { throw ValidationError("--max-freq must not be below --min-freq") }
        _ = try Self.indices(channels, name: "--channels")
        _ = try Self.indices(frames, name: "--frames")
    }

    /// The plan the options describe.
    func optionsPlan() throws -> ReconstructionPlan {
        let method = self.method ?? .kaczmarz
        var steps: [any PlanStep] = [BackgroundStep(mode: background)]
        if average > 1 { steps.append(AverageStep(frames: average)) }
        let allow = allowOtherScanner ? true : nil
        if let denoise { steps.append(DenoiseStep(model: denoise, allowOtherScanner: allow)) }
        let matrix = SystemMatrixSettings(systemMatrices: sm.map { [$0] } ?? [], snrThreshold: snrThreshold, minFrequency: minFreq, maxFrequency: maxFreq,
                                          channels: try Self.indices(channels, name: "--channels"),
                                          compression: compressionKeep.map { SystemMatrixSettings.Compression(keep: $0) })
        switch method {
        case .xspace: steps.append(XSpaceStep(polarity: polarity))
        case .kaczmarz, .cgnr: steps.append(SystemMatrixStep(method, matrix: matrix, lambda: lambda, iterations: iterations))
        case .score: steps.append(ScoreStep(matrix: matrix, lambda: lambda, iterations: iterations, model: model, seed: seed, allowOtherScanner: allow))
        }
        if let choice = DeblurStep.Method(rawValue: deblur) {
            steps.append(DeblurStep(method: choice, model: model, allowOtherScanner: choice.defaultModel == nil ? nil : allow))
        }
        return try ReconstructionPlan(steps: steps)
    }

    func run() throws {
        do {
            try reconstruct()
        } catch let error as ValidationError {
            throw error
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }

    private func reconstruct() throws {
        let plan = try planFrom.map { try PlanProvenance.plan(of: $0) } ?? plan.map { try ReconstructionPlan(tomlFile: $0) } ?? optionsPlan()
        let runner = try PlanRunner(plan, context: PlanContext(manifest: manifest, residuals: true))
        (runner.imageMaker as? XSpaceStep.Runner)?.onDecision = { _, sign, frame in
            printNote("x-space polarity auto: \(sign > 0 ? "+1" : "-1") (decided from frame \(frame + 1); the output records it)")
        }
        let file = try MDFReader.read(measurement)
        let started = DispatchTime.now()
        let selected = try Self.indices(frames, name: "--frames")?.map { $0 - 1 }
        let result = try runner.reconstruct(file, path: measurement, recordedScanner: ReconstructionInputs.recordedScanner(measurement), frames: selected)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        for key in ["scanner", "systemMatrixBackground"] {
            if case let .text(note)? = runner.provenance[key] { printNote("\(key == "scanner" ? measurement : "the system matrix"): \(note)") }
        }
        var out = file
        out.time = MDF.timestamp()
        out.uuid = MDF.newUUID()
        out.measurement = nil
        out.calibration = nil
        out.reconstruction = result.reconstruction()
        var provenance = PlanProvenance(runner: runner, unit: result.unit, frames: result.frames, measurement: measurement, measurementUUID: file.uuid)
        provenance.fields["seconds"] = .number(seconds)
        try MDFWriter.write(out, to: output, overwrite: overwrite) { try provenance.write(to: $0) }
        if let png {
            let voxels = result.geometry.size.reduce(1, *)
            try Preview.write(result.images.storage[(result.images.count - voxels)...], size: result.geometry.size, to: png,
                              colourBar: !noColourBar, unit: result.unit)
        }
        let q = result.frames.count
        var residual = ""
        if case let .numbers(rows)? = runner.provenance["residuals"], let last = rows.last?.last { residual = String(format: ", relative residual %.4f", last) }
        print("\(output): \(q) image\(q == 1 ? "" : "s") of \(result.geometry.size.map(String.init).joined(separator: " x ")) "
              + "by \(plan.method?.rawValue ?? "?") in \(String(format: "%.2f", seconds)) s\(residual)" + (png.map { ", preview \($0)" } ?? ""))
    }

    /// "1-4,7" as [1, 2, 3, 4, 7]; nil for nil. Numbers start at 1.
    static func indices(_ text: String?, name: String) throws -> [Int]? {
        guard let text else { return nil }
        var result: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(bounds.count), let first = bounds.first!, let last = bounds.last!, first >= 1, last >= first else {
                throw ValidationError("\(name): '\(part)' is not a number or range like 1-4 (numbers start at 1)")
            }
            result += Array(first...last)
        }
        return result
    }
}

extension Polarity: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
}
