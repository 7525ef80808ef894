import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpiePhysics
import MagpieReco

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate scans, system matrices and training data from the physics model.",
        discussion: """
            Signals are simulated in the time domain: Langevin particles in the selection and drive
            fields of a preset scanner, receive-coil voltages by reciprocity. Everything is
            deterministic for a seed.

            Examples:
              magpie simulate measurement --preset openmpi-2d --phantom resolution --frames 4 -o m.mdf
              magpie simulate sm --preset openmpi-2d --grid 32 -o sm.mdf
            """,
        subcommands: [SimulateMeasurement.self, SimulateSystemMatrix.self, SimulateDataset.self]
    )
}

extension ScannerPreset: ExpressibleByArgument {}
extension PhantomKind: ExpressibleByArgument {}

/// `value` as JSON with sorted keys, as simulated files record their scanner and noise.
func jsonText<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Options every simulation shares.
struct SimulationOptions: ParsableArguments {
    @Option(help: "Scanner preset: \(ScannerPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: ScannerPreset = .openmpi2d

    @OptionGroup var source: ScannerSourceOptions

    @Option(help: "Gaussian noise, SNR in dB (signal RMS over noise sigma); none if omitted.")
    var snr: Double?

    @Option(help: "Harmonic interference, SIR in dB; none if omitted.")
    var sir: Double?

    @Option(help: "Background amplitude relative to the signal RMS.")
    var background = 0.05

    @Option(help: "Seed of every random choice.")
    var seed: UInt64 = 0

    @Flag(help: "Remove the drive frequencies in the receive chain (feed-through filter).")
    var receiveFilter = false

    @Option(name: .shortAndLong, help: "Output MDF file.")
    var output: String

    @Flag(help: "Replace the output file if it exists.")
    var overwrite = false

    func validate() throws {
        guard background >= 0 else { throw ValidationError("--background must be 0 or more") }
    }

    /// --scanner-from's scanner, else the preset's; --receive-filter adds the filter. A file that
    /// cannot describe one is one line on stderr and exit status 1.
    func scanner() throws -> MPIScanner {
        do {
            var scanner = try source.scanner() ?? preset.scanner
            scanner.receiveFilter = scanner.receiveFilter || receiveFilter
            return scanner
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }

    var noise: NoiseModel { NoiseModel(snr: snr, sir: sir, backgroundLevel: background) }

    /// Writes the file, turning failures into one line on stderr and exit status 1.
    func write(_ mdf: MDFFile, scanner: MPIScanner, userFields: @escaping (HDF5File) throws -> Void) throws {
        do {
            try MDFWriter.write(mdf, to: output, overwrite: overwrite) { file in
                try file.write(try jsonText(scanner), to: "/_magpie/scanner")
                try file.write(try jsonText(noise), to: "/_magpie/noise")
                try file.write(scalar: Int64(bitPattern: seed), to: "/_magpie/seed")
                try file.write("magpie \(MagpieVersion.string)", to: "/_magpie/software")
                try userFields(file)
            }
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }
}

struct SimulateMeasurement: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measurement",
        abstract: "A raw time-domain MDF measurement of a phantom, with background frames.",
        discussion: """
            Writes N x J x C x V Float32 volts: the foreground frames, then the background frames
            (empty scanner), each with its own noise. The phantom itself is stored in the file under
            /_magpie/phantom (mol Fe / L on the scanner's grid, x fastest) for comparisons.

            Example:
              magpie simulate measurement --preset openmpi-2d --phantom resolution --frames 4 --snr 30 -o m.mdf
            """
    )

    @OptionGroup var options: SimulationOptions

    @Option(help: "Phantom: \(PhantomKind.allCases.map(\.rawValue).joined(separator: ", ")) (default resolution), or --phantom-file.")
    var phantom: PhantomKind?

    @Option(help: "Foreground frames.")
    var frames = 4

    @Option(help: "Background frames (recorded after the foreground).")
    var backgroundFrames = 2

    @Option(help: "Tracer concentration of the phantom's brightest region, mol Fe / L.")
    var concentration = 0.1

    @Option(help: "Gap of the resolution phantom's tubes, mm.")
    var gap = 2.2

    @Option(help: "Digit for --phantom digits (random if omitted).")
    var digit: Int?

    @OptionGroup var phantomFile: PhantomFileOptions

    func validate() throws {
        guard phantomFile.phantomFile.count <= 1 else { throw ValidationError("--phantom-file: one phantom a measurement") }
        guard phantom == nil || phantomFile.phantomFile.isEmpty else { throw ValidationError("--phantom and --phantom-file are two phantoms: give one") }
        guard frames >= 0, backgroundFrames >= 0, frames + backgroundFrames > 0 else {
            throw ValidationError("--frames and --background-frames must be 0 or more, and not both 0")
        }
        guard concentration > 0 else { throw ValidationError("--concentration must be positive") }
    }

    func run() throws {
        let scanner = try options.scanner()
        let concentrationImage: NDArray<Double>
        let simulated: SimulatedScan
        do {
            if let image = try phantomFile.images(for: scanner).first {
                concentrationImage = try image.concentration(for: scanner, peak: concentration, scale: phantomFile.phantomScale)
            } else {
                concentrationImage = try PhantomGenerator.concentration(phantom ?? .resolution, for: scanner, seed: options.seed,
                                                                        options: PhantomOptions(gap: gap, digit: digit), peak: concentration)
            }
            let simulator = try MeasurementSimulator(scanner: scanner, noise: options.noise)
            simulated = try simulator.scan(concentration: concentrationImage, foregroundFrames: frames,
                                           backgroundFrames: backgroundFrames, seed: options.seed)
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
        let total = frames + backgroundFrames
        let kind = phantomFile.phantomFile.first.map { "file \(($0 as NSString).lastPathComponent)" } ?? (phantom ?? .resolution).rawValue
        var mdf = MDFFile.simulated(scanner: scanner, frames: total, experiment: "\(kind) phantom",
                                    description: "magpie simulate measurement, scanner \(scanner.name), seed \(options.seed)",
                                    tracerConcentration: concentration)
        let shape = simulated.frames.shape
        mdf.measurement = MDF.Measurement(data: .float32(simulated.frames.reshaped([shape[0], 1, shape[1], shape[2]])),
                                          isBackgroundFrame: simulated.isBackgroundFrame)
        let image = concentrationImage.reshaped(scanner.imageSize.reversed())
        try options.write(mdf, scanner: scanner) { file in
            try file.write(image, to: "/_magpie/phantom")
            try file.write(NDArray(scanner.fieldOfView), to: "/_magpie/phantomFieldOfView")
            try file.write(kind, to: "/_magpie/phantomKind")
        }
        print("\(options.output): \(frames) foreground + \(backgroundFrames) background frames of the \(kind) phantom, "
              + "\(scanner.receive.count) channels x \(scanner.samplesPerPeriod) samples (\(scanner.name))")
    }
}

struct SimulateSystemMatrix: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sm",
        abstract: "A system-matrix calibration MDF: a delta sample on a grid, then background frames.",
        discussion: """
            Writes J x C x K x N complex64 (isFastFrameAxis) with /calibration (size, field of view,
            positions, delta sample size, snr from the background frames).

            Example:
              magpie simulate sm --preset openmpi-2d --grid 32 --snr 40 -o sm.mdf
              magpie simulate sm --preset openmpi-3d --grid 37 --snr 40 --frequencies 1000 -o sm37.mdf
            """
    )

    @OptionGroup var options: SimulationOptions

    @Option(help: "Grid points per driven axis (N gives N x N x 1 for a 2D scanner).")
    var grid = 32

    @Option(help: "Background frames after the grid.")
    var backgroundFrames = 10

    @Option(help: "Delta-sample concentration, mol Fe / L.")
    var concentration = 0.1

    @Option(help: ArgumentHelp("Store only this many frequencies: the strongest at or above 80 kHz (the reconstruction's default lowest), "
                               + "chosen before the noise; for calibrations whose full spectra do not fit in memory.", valueName: "count"))
    var frequencies: Int?

    func validate() throws {
        guard grid >= 1, grid <= 512 else { throw ValidationError("--grid must be between 1 and 512") }
        if let frequencies, frequencies < 1 { throw ValidationError("--frequencies must be at least 1, got \(frequencies)") }
        guard backgroundFrames >= 1 else { throw ValidationError("--background-frames must be at least 1 (they give the SNR)") }
    }

    func run() throws {
        let scanner = try options.scanner()
        let driven = Set(scanner.activeDrive.map(\.axis))
        let size = (0..<3).map { driven.contains($0) ? grid : 1 }
        let stored = frequencies.map { StoredFrequencies(count: $0, lowest: FrequencySelection().minFrequency) }
        let bytes = Double(size.reduce(1, *) + backgroundFrames) * Double(scanner.receive.count)
            * Double(min(stored?.count ?? Int.max, scanner.samplesPerPeriod / 2 + 1)) * 8
        guard bytes < 0.8 * Double(ProcessInfo.processInfo.physicalMemory) else {
            printError(String(format: "the calibration's spectra would take %.1f GB, more than this machine's memory (%.1f GB); "
                              + "store fewer frequencies with --frequencies", bytes / 1e9, Double(ProcessInfo.processInfo.physicalMemory) / 1e9))
            throw ExitCode.failure
        }
        let sm: SimulatedSystemMatrix
        do {
            let simulator = try SystemMatrixSimulator(scanner: scanner, grid: size, noise: options.noise, sampleConcentration: concentration)
            sm = simulator.simulate(backgroundFrames: backgroundFrames, seed: options.seed, storing: stored) { done, total in
                Progress.report("simulating system matrix", done, total)
            }
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
        let frames = sm.isBackgroundFrame.count
        var mdf = MDFFile.simulated(scanner: scanner, frames: frames, experiment: "system matrix",
                                    description: "magpie simulate sm, scanner \(scanner.name), seed \(options.seed)",
                                    tracerConcentration: concentration)
        mdf.measurement = MDF.Measurement(data: .complex64(sm.data), isBackgroundFrame: sm.isBackgroundFrame,
                                          isFastFrameAxis: true, isFourierTransformed: true,
                                          frequencySelection: sm.bins.map { $0.map { Int64($0 + 1) } })
        mdf.calibration = MDF.Calibration(method: "simulation", size: sm.grid, fieldOfView: sm.fieldOfView,
                                          fieldOfViewCenter: [0, 0, 0], positions: sm.positions,
                                          deltaSampleSize: sm.deltaSampleSize, snr: sm.estimatedSNR)
        try options.write(mdf, scanner: scanner) { _ in }
        print("\(options.output): \(size.map(String.init).joined(separator: " x ")) grid + \(backgroundFrames) background frames, "
              + "\(scanner.receive.count) channels x \(sm.data.shape[2]) frequencies\(sm.bins == nil ? "" : " (selected)") (\(scanner.name))")
    }
}

extension SimulatedSystemMatrix {
    /// J x C x K: the SNR MPIFiles estimates from the background frames, stored with the calibration.
    var estimatedSNR: NDArray<Double> {
        let shape = data.shape
        let snr = RecordedSystemMatrix.estimateSNR(data.reshaped(Array(shape.dropFirst())), isBackgroundFrame: isBackgroundFrame)
        return (snr ?? NDArray(repeating: 0, shape: [shape[1], shape[2]])).reshaped([1, shape[1], shape[2]])
    }
}
