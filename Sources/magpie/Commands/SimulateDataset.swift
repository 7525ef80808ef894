import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpiePhysics
import MagpieReco

struct SimulateDataset: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "HDF5 training sets for the learned stages, written record by record.",
        discussion: """
            Kinds (record i uses seed + i, so a set can be regenerated or extended exactly):
              denoise  /input, /target: two noisy periods of one phantom's signal (C x V, volts),
                       /clean: the noise-free period. Default preset denoise-paper, digits.
              deblur   /native: x-space image at --preset (default deblur-paper-3T) with noise at --snr
                       (in the signals) and --image-snr (white, added to the image; /image_snr),
                       /sharp: the Richardson-Lucy deconvolved (--label-iterations) noise-free x-space image
                       at --label-preset (default: the same scanner with its gradient and drive amplitudes
                       times --label-gradient-factor, 2: deblur-paper-3T's is deblur-paper-6T),
                       /phantom, /snr. Both images scaled to a maximum of 1. With
                       --unpaired, /sharp comes from a different phantom (seed + count + i).
              upscale-sm per simulated SM (smsr-paper, gradient 2-4 T/m and cores 20-35 nm drawn per SM):
                       every frequency with SNR >= 5 as /high (2 x 32 x 32: real, imaginary) and /low
                       (every --factor-th grid point), with /sm, /channel, /frequency and /snr. With --snr,
                       /clean holds the same frequency of the noise-free SM (same particle and gradient).
              score    /phantom (--grid x --grid, default 19) and /signal (C x V) of openmpi-2d.

            --phantom takes a comma-separated list: record i draws kind i mod n. A resolution
            phantom in a dataset has a gap drawn from 1.0-3.4 mm, or --gap. --snr takes a value or a range
            LO...HI, drawn uniformly per record. --phantom-file draws phantoms from image files instead.

            --scanner-from SCAN.mdf takes the scanner from a lab's own file (drive field, receiver,
            gradient; particle and grid as recorded, else openmpi's, or --particle-diameter,
            --temperature, --image-size) instead of a preset. The scanner and the label scanner are
            recorded in the file as JSON (/scanner, /label_scanner).

            Example:
              magpie simulate dataset denoise --count 8000 --snr 15 --sir 5 -o denoise.h5
              magpie simulate dataset deblur --count 1000 --phantom resolution,vessels,tumor,shapes --snr 20...30 -o phantoms.h5
              magpie simulate dataset deblur --scanner-from scan.mdf --count 8000 --snr 20...30 -o lab-train.h5
            """
    )

    enum Kind: String, ExpressibleByArgument, CaseIterable { case denoise, deblur, upscaleSM = "upscale-sm", score }

    @Argument(help: "denoise, deblur, upscale-sm or score: the stage or command whose model trains on it.") var kind: Kind
    @Option(help: "Records (SMs for upscale-sm).") var count = 100
    @Option(help: "Scanner preset (default depends on the kind).") var preset: ScannerPreset?
    @Option(help: "Label scanner for deblur (default: the scanner's sharper twin, --label-gradient-factor).") var labelPreset: ScannerPreset?
    @Option(help: "Richardson-Lucy iterations of the deblur label.") var labelIterations = 30
    @Option(help: "Phantom kinds, comma-separated (default digits; tumor for score).", transform: PhantomKind.list) var phantom: [PhantomKind]?
    @Option(help: "Gaussian noise, SNR in dB: a value or a range LO...HI.") var snr: DecibelRange?
    @Option(help: "deblur: white Gaussian noise added to the native image, SNR in dB (mean square of the image over the noise's variance): a value or LO...HI.")
    var imageSnr: DecibelRange?
    @Option(help: "Harmonic interference, SIR in dB.") var sir: Double?
    @Option(help: "Edge-to-edge gap of resolution phantoms, mm (default: drawn from 1.0-3.4 per record).") var gap: Double?
    @Option(help: "Seed of record 0.") var seed: UInt64 = 0
    @Option(help: "Downsampling factor of /low for upscale-sm (2, 4 or 8).") var factor = 4
    @Option(help: "Image grid for score.") var grid = 19
    @Flag(help: "deblur: draw /sharp from other phantoms than /native (for unpaired training).") var unpaired = false
    @OptionGroup var phantomFile: PhantomFileOptions
    @OptionGroup var source: ScannerSourceOptions
    @Option(help: "deblur without --label-preset: the label scanner is the scanner with its gradient and drive amplitudes times this (the same field of view, a PSF about this much narrower; 2 is the MSA paper's 3 -> 6 T/m).")
    var labelGradientFactor = 2.0
    @Option(name: .shortAndLong, help: "Output HDF5 file.") var output: String
    @Flag(help: "Replace the output file if it exists.") var overwrite = false

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        guard labelGradientFactor >= 1, labelGradientFactor <= 16 else { throw ValidationError("--label-gradient-factor must be between 1 and 16") }
        guard source.scannerFrom == nil || preset == nil else { throw ValidationError("--preset and --scanner-from are two scanners: give one") }
        guard source.scannerFrom == nil || labelPreset == nil else { throw ValidationError("--label-preset is a preset's label scanner; with --scanner-from, --label-gradient-factor makes it") }
        guard phantom == nil || phantomFile.phantomFile.isEmpty else { throw ValidationError("--phantom and --phantom-file are two sources of phantoms: give one") }
        guard labelIterations >= 0 else { throw ValidationError("--label-iterations must be at least 0") }
        guard [2, 4, 8].contains(factor) else { throw ValidationError("--factor must be 2, 4 or 8") }
        guard grid >= 4 && grid <= 256 else { throw ValidationError("--grid must be between 4 and 256") }
        if let gap, !(gap >= 0 && gap.isFinite) { throw ValidationError("--gap must be a length in mm, at least 0") }
    }

    func run() throws {
        do {
            let file = try HDF5File.create(output, overwrite: overwrite)
            try file.write(kind.rawValue, to: "/kind")
            try file.write(CommandLine.arguments.dropFirst().joined(separator: " "), to: "/recipe")
            try file.write("magpie \(MagpieVersion.string)", to: "/software")
            switch kind {
            case .denoise: try denoise(file)
            case .deblur: try deblur(file)
            case .upscaleSM: try upscaleSM(file)
            case .score: try score(file)
            }
            try file.flush()
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }

    private func record(_ i: Int) -> UInt64 { seed &+ UInt64(i) }

    /// The scanner a set was simulated with, as JSON (`MPIScanner`), for the manifest and later checks.
    private func record(_ scanner: MPIScanner, to path: String, in file: HDF5File) throws {
        try file.write(try jsonText(scanner), to: path)
    }

    /// --scanner-from's scanner, else --preset's, else the kind's default preset.
    private func scanner(default kind: ScannerPreset) throws -> MPIScanner {
        try source.scanner() ?? (preset ?? kind).scanner
    }

    private func noise(_ i: Int) -> NoiseModel {
        NoiseModel(snr: snr?.draw(seed: record(i)), sir: sir, backgroundLevel: 0)
    }

    /// Record i's phantom, brightest 1: `files` (--phantom-file, read for the generator's scanner)
    /// in turn, else kinds cycling through --phantom; a resolution phantom gets --gap or a random one.
    private func phantom(_ i: Int, _ generator: PhantomGenerator, files: [PhantomImage], scanner: MPIScanner,
                         default kind: PhantomKind, seed: UInt64) throws -> NDArray<Double> {
        if !files.isEmpty { return try files[i % files.count].phantom(for: scanner, peak: 1, scale: phantomFile.phantomScale) }
        let kinds = phantom ?? [kind], kind = kinds[i % kinds.count]
        var random = SeededRandom(seed: seed ^ 0xC0FFEE)
        let options = kind == .resolution ? PhantomOptions(gap: gap ?? random.uniform(1.0...3.4)) : PhantomOptions()
        return try generator.render(kind, seed: seed, options: options)
    }

    private func denoise(_ file: HDF5File) throws {
        let scanner = try self.scanner(default: .denoisePaper)
        try record(scanner, to: "/scanner", in: file)
        let shape = [scanner.receive.count, scanner.samplesPerPeriod]
        let input = try file.createAppendable("/input", of: Float.self, frameShape: shape)
        let target = try file.createAppendable("/target", of: Float.self, frameShape: shape)
        let clean = try file.createAppendable("/clean", of: Float.self, frameShape: shape)
        let generator = PhantomGenerator(scanner: scanner), files = try phantomFile.images(for: scanner)
        for i in 0..<count {
            let simulator = try MeasurementSimulator(scanner: scanner, noise: noise(i))
            let image = try phantom(i, generator, files: files, scanner: scanner, default: .digits, seed: record(i)).map { $0 * 0.1 }
            let scan = try simulator.scan(concentration: image, foregroundFrames: 2, backgroundFrames: 0, seed: record(i))
            let frame = shape.reduce(1, *)
            try input.append(NDArray(shape: [1] + shape, storage: Array(scan.frames.storage[0..<frame])))
            try target.append(NDArray(shape: [1] + shape, storage: Array(scan.frames.storage[frame..<(2 * frame)])))
            try clean.append(NDArray(shape: [1] + shape, storage: scan.noiseFree.storage.map(Float.init)))
            Progress.report("denoise records", i + 1, count)
        }
    }

    private func deblur(_ file: HDF5File) throws {
        let scanner = try self.scanner(default: .deblurPaper3T)
        let label = labelPreset?.scanner ?? Self.sharper(scanner, by: labelGradientFactor)
        try record(scanner, to: "/scanner", in: file)
        try record(label, to: "/label_scanner", in: file)
        guard scanner.imageSize == label.imageSize, scanner.fieldOfView.indices.allSatisfy({ abs(scanner.fieldOfView[$0] - label.fieldOfView[$0]) <= 1e-9 * scanner.fieldOfView[$0] }) else {
            throw ValidationError("--preset and --label-preset must share grid and field of view")
        }
        let shape = [scanner.imageSize[1], scanner.imageSize[0]]
        let native = try file.createAppendable("/native", of: Float.self, frameShape: shape)
        let sharp = try file.createAppendable("/sharp", of: Float.self, frameShape: shape)
        let phantoms = try file.createAppendable("/phantom", of: Float.self, frameShape: shape)
        let snrs = try file.createAppendable("/snr", of: Float.self, frameShape: [1], framesPerChunk: 256)
        let imageNoise = try file.createAppendable("/image_snr", of: Float.self, frameShape: [1], framesPerChunk: 256)
        Progress.note("computing the pixel signals of \(scanner.name) and \(label.name)")
        // With --label-preset naming the scanner itself (sharper by deconvolution only), its basis and plan are shared.
        let lowBasis = SignalBasis(simulator: try SignalSimulator(scanner: scanner))
        let highBasis = label == scanner ? lowBasis : SignalBasis(simulator: try SignalSimulator(scanner: label))
        let lowReco = try XSpaceReconstruction(scanner: scanner), highReco = label == scanner ? lowReco : try XSpaceReconstruction(scanner: label)
        let lowPlan = lowReco.plan()
        let highPlan = label == scanner ? lowPlan : highReco.plan()
        let highKernel = LangevinPSF.kernel(scanner: label)
        let generator = PhantomGenerator(scanner: scanner), files = try phantomFile.images(for: scanner)
        let block = 32
        for start in stride(from: 0, to: count, by: block) {
            let indices = Array(start..<min(start + block, count))
            let x = try indices.map { try phantom($0, generator, files: files, scanner: scanner, default: .digits, seed: record($0)) }
            let y = unpaired ? try indices.map { try phantom($0, generator, files: files, scanner: scanner, default: .digits, seed: record(count + $0)) } : x
            let lowSignals = try lowBasis.voltages(concentrations: x.map { $0.map { $0 * 0.1 } })
            let highSignals = try highBasis.voltages(concentrations: y.map { $0.map { $0 * 0.1 } })
            // Records are independent: the noise, both reconstructions and the deconvolution run on all cores.
            let noises = indices.map(noise)
            let seeds = indices.map(record)
            let imageSNRs = indices.map { imageSnr?.draw(seed: record($0) ^ 0x1A6E) }
            let images = try parallelMap(indices.count) { k in
                let scan = try MeasurementSimulator(scanner: scanner, noise: noises[k])
                    .scan(signal: lowSignals[k], foregroundFrames: 1, backgroundFrames: 0, seed: seeds[k])
                var nativeImage = try lowReco.reconstruct(scan.frames.reshaped(Array(scan.frames.shape.dropFirst())).map(Double.init), plan: lowPlan)
                if let imageSNR = imageSNRs[k] { nativeImage = Self.addingWhiteNoise(nativeImage, snr: imageSNR, seed: seeds[k]) }
                let labelImage = try highReco.reconstruct(highSignals[k], plan: highPlan)
                return (nativeImage, Deconvolution.richardsonLucy(labelImage.reshaped(shape), kernel: highKernel, iterations: labelIterations))
            }
            for (k, i) in indices.enumerated() {
                try native.append(normalised(images[k].0.storage, shape))
                try sharp.append(normalised(images[k].1.storage, shape))
                try phantoms.append(NDArray(shape: [1] + shape, storage: x[k].storage.map(Float.init)))
                try snrs.append(NDArray(shape: [1, 1], storage: [Float(noises[k].snr ?? .infinity)]))
                try imageNoise.append(NDArray(shape: [1, 1], storage: [Float(imageSNRs[k] ?? .infinity)]))
                Progress.report("deblur records", i + 1, count)
            }
        }
    }

    /// The deblur label's default scanner: gradient and drive amplitudes times `factor`, so the
    /// field of view stays and the PSF narrows by about the factor (deblur-paper-3T's is deblur-paper-6T).
    private static func sharper(_ scanner: MPIScanner, by factor: Double) -> MPIScanner {
        var twin = scanner
        twin.name = "\(scanner.name), gradient x \(factor)"
        twin.gradient = scanner.gradient.map { $0 * factor }
        for d in twin.drive.indices { twin.drive[d].amplitude *= factor }
        return twin
    }

    /// The image with white Gaussian noise of variance mean(x^2) / 10^(snr / 10) (the DC-GAN paper's
    /// noisy native images: noise added to the image, not to the signals).
    private static func addingWhiteNoise(_ image: NDArray<Double>, snr: Double, seed: UInt64) -> NDArray<Double> {
        let power = image.storage.reduce(0) { $0 + $1 * $1 } / Double(max(image.count, 1))
        let sigma = (power / pow(10, snr / 10)).squareRoot()
        var random = SeededRandom(seed: seed ^ 0x1A6E_0015E)
        return image.map { $0 + sigma * random.normal() }
    }

    /// Images scaled to a maximum of 1, as the deblurring papers train on them.
    private func normalised(_ values: [Double], _ shape: [Int]) -> NDArray<Float> {
        let top = max(values.max() ?? 1, 1e-30)
        return NDArray(shape: [1] + shape, storage: values.map { Float(max($0, 0) / top) })
    }

    private func upscaleSM(_ file: HDF5File) throws {
        var base = try self.scanner(default: .smsrPaper)
        let size = base.imageSize[0]
        guard size % factor == 0 else { throw ValidationError("grid \(size) is not divisible by --factor \(factor)") }
        let high = try file.createAppendable("/high", of: Float.self, frameShape: [2, size, size], framesPerChunk: 64)
        let low = try file.createAppendable("/low", of: Float.self, frameShape: [2, size / factor, size / factor], framesPerChunk: 64)
        let clean = snr == nil ? nil : try file.createAppendable("/clean", of: Float.self, frameShape: [2, size, size], framesPerChunk: 64)
        let sm = try file.createAppendable("/sm", of: Int32.self, frameShape: [1], framesPerChunk: 256)
        let channelIndex = try file.createAppendable("/channel", of: Int32.self, frameShape: [1], framesPerChunk: 256)
        let frequencyIndex = try file.createAppendable("/frequency", of: Int32.self, frameShape: [1], framesPerChunk: 256)
        let smSNR = try file.createAppendable("/snr", of: Float.self, frameShape: [1], framesPerChunk: 256)
        let fov = base.fieldOfView
        for i in 0..<count {
            var random = SeededRandom(seed: record(i))
            let gradient = random.uniform(2...4)
            base.gradient = [gradient, gradient, 2 * gradient]
            for d in base.drive.indices where base.drive[d].amplitude > 0 { base.drive[d].amplitude = fov[base.drive[d].axis] * gradient / 2 }
            base.particle.coreDiameter = random.uniform(20...35) * 1e-9
            func simulate(_ noise: NoiseModel) throws -> SimulatedSystemMatrix {
                try SystemMatrixSimulator(scanner: base, grid: [size, size, 1], noise: noise).simulate(backgroundFrames: 10, seed: record(i))
            }
            let simulated = try simulate(NoiseModel(snr: snr?.draw(seed: record(i)), backgroundLevel: 0))
            let noiseFree = clean == nil ? nil : try simulate(NoiseModel(backgroundLevel: 0))
            let (channels, frequencies, frames) = (simulated.data.shape[1], simulated.data.shape[2], simulated.data.shape[3])
            let snr = simulated.estimatedSNR
            func image(_ sm: SimulatedSystemMatrix, _ row: Int) -> [Float] {
                let values = sm.data.storage[row..<(row + size * size)]
                return values.map(\.real) + values.map(\.imaginary)
            }
            for c in 0..<channels {
                for k in 1..<frequencies where snr[0, c, k] >= 5 {
                    let row = (c * frequencies + k) * frames
                    let hr = image(simulated, row)
                    var lr: [Float] = []
                    for part in 0..<2 {
                        for y in stride(from: 0, to: size, by: factor) {
                            for x in stride(from: 0, to: size, by: factor) { lr.append(hr[part * size * size + y * size + x]) }
                        }
                    }
                    try high.append(NDArray(shape: [1, 2, size, size], storage: hr))
                    try low.append(NDArray(shape: [1, 2, size / factor, size / factor], storage: lr))
                    if let clean, let noiseFree { try clean.append(NDArray(shape: [1, 2, size, size], storage: image(noiseFree, row))) }
                    try sm.append(NDArray(shape: [1, 1], storage: [Int32(i)]))
                    try channelIndex.append(NDArray(shape: [1, 1], storage: [Int32(c)]))
                    try frequencyIndex.append(NDArray(shape: [1, 1], storage: [Int32(k)]))
                    try smSNR.append(NDArray(shape: [1, 1], storage: [Float(min(snr[0, c, k], 1e9))]))
                }
            }
            Progress.report("system matrices", i + 1, count)
        }
    }

    private func score(_ file: HDF5File) throws {
        var scanner = try self.scanner(default: .openmpi2d)
        scanner.imageSize = [grid, grid, 1]
        try record(scanner, to: "/scanner", in: file)
        let phantoms = try file.createAppendable("/phantom", of: Float.self, frameShape: [grid, grid])
        let signals = try file.createAppendable("/signal", of: Float.self, frameShape: [scanner.receive.count, scanner.samplesPerPeriod])
        let generator = PhantomGenerator(scanner: scanner), files = try phantomFile.images(for: scanner)
        for i in 0..<count {
            let simulator = try MeasurementSimulator(scanner: scanner, noise: noise(i))
            let image = try phantom(i, generator, files: files, scanner: scanner, default: .tumor, seed: record(i))
            let scan = try simulator.scan(concentration: image.map { $0 * 0.1 }, foregroundFrames: 1, backgroundFrames: 0, seed: record(i))
            try phantoms.append(NDArray(shape: [1, grid, grid], storage: image.storage.map(Float.init)))
            try signals.append(scan.frames)
            Progress.report("score records", i + 1, count)
        }
    }
}

/// An SNR in dB, fixed or drawn uniformly per record from LO...HI.
struct DecibelRange: ExpressibleByArgument {
    let range: ClosedRange<Double>

    init?(argument: String) {
        let parts = argument.components(separatedBy: "...").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...2).contains(parts.count), let lower = parts.first!, let upper = parts.last!, lower.isFinite, upper.isFinite, lower <= upper
        else { return nil }
        range = lower...upper
    }

    func draw(seed: UInt64) -> Double {
        guard range.lowerBound < range.upperBound else { return range.lowerBound }
        var random = SeededRandom(seed: seed ^ 0x5EED_D0B1)
        return random.uniform(range)
    }
}

extension PhantomKind {
    /// "digits" or "resolution,vessels,...": the kinds a dataset cycles through.
    static func list(_ argument: String) throws -> [PhantomKind] {
        try argument.split(separator: ",").map { name in
            guard let kind = PhantomKind(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("unknown phantom '\(name)'; known: \(PhantomKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return kind
        }
    }
}
