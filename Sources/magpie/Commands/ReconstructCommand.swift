import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpieNeural
import MagpiePipeline
import MagpieReco

enum ReconstructionMethod: String, CaseIterable, ExpressibleByArgument {
    case kaczmarz, cgnr, score, xspace
}

extension DaemonConfig.Deblur: ExpressibleByArgument {}

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
            order when the file stores a frame permutation.

            Examples:
              magpie reconstruct m.mdf --sm sm.mdf -o recon.mdf --png recon.png
              magpie reconstruct m.mdf --sm sm.mdf --method cgnr --average 100 -o recon.mdf
              magpie reconstruct m.mdf --sm sm19.mdf --method score -o recon.mdf
              magpie reconstruct m.mdf --method xspace -o native.mdf
            """
    )

    @Argument(help: "The measurement MDF (time domain, with background frames).") var measurement: String
    @Option(help: "kaczmarz, cgnr, score or xspace.") var method: ReconstructionMethod = .kaczmarz
    @Option(help: "System-matrix MDF (kaczmarz, cgnr, score).") var sm: String?
    @Option(help: "Tikhonov lambda, relative to ||S||_F^2 / N (default: 0.01 Kaczmarz, 0.02 CGNR, \(ScoreSampler.Parameters().lambda) score).") var lambda: Double?
    @Option(help: "Kaczmarz sweeps, CGNR iterations or score steps (default: 1 Kaczmarz, 100 CGNR, \(ScoreSampler.Parameters().steps) score).") var iterations: Int?
    @Option(help: "Keep rows whose calibration SNR is at least this (default: 2; 5 for score).") var snrThreshold: Double?
    @Option(help: "Deblur each x-space image: off, msa (the MSA-transformer), dcgan (the DC-GAN), wiener or rl (Richardson-Lucy).")
    var deblur: DaemonConfig.Deblur = .off
    @Option(help: "Model in --manifest: the score prior (default score-openmpi2d) or the deblurring network (default msa-deblur, dcgan-deblur).")
    var model: String?
    @Option(help: "Model manifest (score, --deblur msa or dcgan).") var manifest = "models/manifest.json"
    @Option(help: "Seed of the score sampler.") var seed: UInt64 = 0
    @Option(help: "Lowest frequency used, Hz.") var minFreq = 80e3
    @Option(help: "Highest frequency used, Hz (default: the receive bandwidth).") var maxFreq: Double?
    @Option(help: "Receive channels, e.g. 1,2 (default: all).") var channels: String?
    @Option(help: "Foreground frames, e.g. 1-100 or 1,5,9 (default: all foreground frames).") var frames: String?
    @Option(help: "Average this many consecutive frames into one image.") var average = 1
    @Option(name: .shortAndLong, help: "Output MDF file.") var output: String
    @Flag(help: "Replace the output file if it exists.") var overwrite = false
    @Option(help: "Write a PNG preview of the last image (maximum along z for 3D).") var png: String?

    func validate() throws {
        if method != .xspace && sm == nil { throw ValidationError("--method \(method.rawValue) needs --sm SM.mdf") }
        if method == .xspace && sm != nil { throw ValidationError("--method xspace does not use a system matrix; drop --sm") }
        if deblur != .off && method != .xspace { throw ValidationError("--deblur deblurs x-space images; it needs --method xspace") }
        guard average >= 1 else { throw ValidationError("--average must be at least 1") }
        if let lambda, !(lambda >= 0) { throw ValidationError("--lambda must be 0 or more") }
        if let iterations, iterations < 1 { throw ValidationError("--iterations must be at least 1") }
        guard minFreq >= 0 else { throw ValidationError("--min-freq must be 0 or more") }
        if let maxFreq, maxFreq < minFreq { throw ValidationError("--max-freq must not be below --min-freq") }
        _ = try Self.indices(channels, name: "--channels")
        _ = try Self.indices(frames, name: "--frames")
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
        let file = try MDFReader.read(measurement)
        let measured = try ReconstructionInputs.measuredFrames(file, path: measurement)
        let selectedFrames = try frameIndices(measured)
        let prepared = try measured.prepared(frames: selectedFrames, average: average)
        let started = DispatchTime.now()
        var parameters = ReconstructionParameters(method: method.rawValue, measurement: measurement, measurementUUID: file.uuid,
                                                  frames: selectedFrames.map { Int64($0 + 1) }, average: average)
        let reconstruction: MDF.Reconstruction
        if method == .xspace {
            reconstruction = try xSpace(file, prepared: prepared, parameters: &parameters)
        } else {
            reconstruction = try systemMatrix(prepared: prepared, measurementFile: file, parameters: &parameters)
        }
        parameters.seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        var out = file
        out.time = MDF.timestamp()
        out.uuid = MDF.newUUID()
        out.measurement = nil
        out.calibration = nil
        out.reconstruction = reconstruction
        try MDFWriter.write(out, to: output, overwrite: overwrite) { try parameters.write(to: $0) }
        if let png, case let .float32(images) = reconstruction.data {
            let voxels = reconstruction.size.reduce(1, *)
            try Preview.write(images.storage[(images.count - voxels)...], size: reconstruction.size, to: png)
        }
        let q = reconstruction.data.shape[0]
        print("\(output): \(q) image\(q == 1 ? "" : "s") of \(reconstruction.size.map(String.init).joined(separator: " x ")) "
              + "by \(method.rawValue) in \(String(format: "%.2f", parameters.seconds)) s"
              + (parameters.residuals.first?.last.map { String(format: ", relative residual %.4f", $0) } ?? "")
              + (png.map { ", preview \($0)" } ?? ""))
    }

    private func systemMatrix(prepared: NDArray<Float>, measurementFile: MDFFile, parameters: inout ReconstructionParameters) throws -> MDF.Reconstruction {
        let smPath = sm!
        let smFile = try MDFReader.read(smPath)
        try ReconstructionInputs.checkCompatible(systemMatrix: smFile, smPath: smPath, measurement: measurementFile, measurementPath: measurement)
        let recorded = try ReconstructionInputs.recordedSystemMatrix(smFile, path: smPath)
        let receiveChannels = try Self.indices(channels, name: "--channels")?.map { $0 - 1 }
        if let bad = receiveChannels?.first(where: { $0 >= recorded.channels }) {
            throw ValidationError("--channels: channel \(bad + 1) does not exist; the files have \(recorded.channels)")
        }
        let selection = FrequencySelection(minFrequency: minFreq, maxFrequency: maxFreq, channels: receiveChannels,
                                           snrThreshold: snrThreshold ?? (method == .score ? 5 : 2))
        let matrix = try SystemMatrix(recorded, selection: selection)
        if !matrix.isBackgroundCorrected {
            printError("note: \(smPath) has no background frames; its system matrix is used without background correction")
        }
        let u = try matrix.measurementVectors(prepared)
        let result: SolverResult
        if method == .score {
            result = try score(matrix, u, grid: smFile.calibration!.size, parameters: &parameters)
        } else {
            let solver = SystemMatrixSolver(method == .cgnr ? .cgnr : .kaczmarz, lambda: lambda, iterations: iterations)
            parameters.lambda = solver.lambda
            parameters.iterations = solver.iterations
            result = try solver.solve(matrix, u)
        }
        // x is in units of the delta sample; its tracer concentration makes it mol/L.
        let sampleConcentration = smFile.tracer?.concentration.first.flatMap { $0 > 0 ? $0 : nil }
        let scale = Float(sampleConcentration ?? 1)
        parameters.unit = sampleConcentration == nil ? "delta-sample units" : "mol/L"
        parameters.effectiveLambda = result.effectiveLambda
        parameters.residuals = result.residuals
        parameters.rows = matrix.rows
        parameters.selection = selection
        parameters.systemMatrix = smPath
        parameters.systemMatrixUUID = smFile.uuid
        let calibration = smFile.calibration!
        let images = result.images.map { $0 * scale }
        return MDF.Reconstruction(data: .float32(images.reshaped([images.shape[0], images.shape[1], 1])),
                                  fieldOfView: calibration.fieldOfView, fieldOfViewCenter: calibration.fieldOfViewCenter,
                                  size: calibration.size, order: calibration.order,
                                  positions: calibration.positions ?? gridPositions(calibration.size, calibration.fieldOfView))
    }

    private func score(_ matrix: SystemMatrix, _ u: NDArray<Complex<Float>>, grid: [Int],
                       parameters: inout ReconstructionParameters) throws -> SolverResult {
        var settings = ScoreSampler.Parameters(seed: seed)
        settings.lambda = lambda ?? settings.lambda
        settings.steps = iterations ?? settings.steps
        let sampler = try ScoreSampler(model: LearnedModel(named: model ?? "score-openmpi2d", manifestPath: manifest, kind: ScoreSampler.kind))
        let reconstruction = try ScoreReconstruction(matrix: matrix, grid: grid, sampler: sampler, parameters: settings)
        let images = try reconstruction.reconstruct(u)
        parameters.lambda = settings.lambda
        parameters.iterations = settings.steps
        parameters.model = "\(sampler.model.name) sha256 \(sampler.model.entry.sha256)"
        parameters.seed = seed
        let n = matrix.columns
        let residuals = (0..<u.shape[0]).map { i in
            [reconstruction.residual(images.storage[(i * n)..<((i + 1) * n)].map(Double.init), u.storage[(i * matrix.rows.count)..<((i + 1) * matrix.rows.count)])]
        }
        return SolverResult(images: images, residuals: residuals, effectiveLambda: settings.lambda * reconstruction.svd.lambdaScale)
    }

    private func xSpace(_ file: MDFFile, prepared: NDArray<Float>, parameters: inout ReconstructionParameters) throws -> MDF.Reconstruction {
        let (scanner, preset) = try ReconstructionInputs.xSpaceScanner(file, recorded: ReconstructionInputs.recordedScanner(measurement))
        if let preset {
            printError("note: \(measurement) does not record particle and image grid; using those of the \(preset.rawValue) preset")
        }
        let reco = try XSpaceReconstruction(scanner: scanner)
        let plan = reco.plan()
        let deblurring = try DeblurMethod.named(deblur, model: model, manifest: manifest)
        let kernel = try deblurring?.kernel(for: scanner)
        parameters.deblur = deblurring?.provenance
        let (q, c, v) = (prepared.shape[0], prepared.shape[1], prepared.shape[2])
        var images: [Float] = []
        for frame in 0..<q {
            let period = prepared.storage[(frame * c * v)..<((frame + 1) * c * v)].map(Double.init)
            var image = try XSpaceReconstruction.apply(plan, to: period, shape: [c, v])
            if let deblurring { image = try deblurring.deblur(image, kernel: kernel) }
            images += image.storage.map(Float.init)
        }
        let voxels = scanner.imageSize.reduce(1, *)
        return MDF.Reconstruction(data: .float32(NDArray(shape: [q, voxels, 1], storage: images)), fieldOfView: scanner.fieldOfView,
                                  fieldOfViewCenter: [0, 0, 0], size: scanner.imageSize, positions: scanner.pixelCenters())
    }

    /// 0-based indices of the selected foreground frames, checked against the file.
    private func frameIndices(_ measured: MeasuredFrames) throws -> [Int] {
        guard let numbers = try Self.indices(frames, name: "--frames") else { return measured.foregroundFrames }
        for number in numbers {
            guard number <= measured.frames else {
                throw ValidationError("--frames: frame \(number) does not exist; \(measurement) has \(measured.frames) frames")
            }
            guard !measured.isBackgroundFrame[number - 1] else { throw ValidationError("--frames: frame \(number) is a background frame") }
        }
        return numbers.map { $0 - 1 }
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
