import Foundation
import Synchronization
import MagpieCore

/// A simulated calibration: a delta sample moved over a grid, one frame per position, then
/// background frames of the empty scanner; every frame Fourier transformed.
public struct SimulatedSystemMatrix: Sendable {
    /// J x C x K x N (J = 1), complex64, MDF's isFastFrameAxis layout; background frames last.
    public var data: NDArray<Complex<Float>>
    public var isBackgroundFrame: [Bool]
    /// O x 3 grid positions, metres, x fastest.
    public var positions: NDArray<Double>
    public var grid: [Int]
    public var fieldOfView: [Double]
    public var deltaSampleSize: [Double]
    /// The 0-based DFT bins `data` holds, ascending; nil: every bin.
    public var bins: [Int]?
}

/// Which frequencies a simulated calibration stores: the `count` strongest bins at or above
/// `lowest` Hz, by the noise-free responses' power summed over positions and channels. Under
/// white noise that is the order of their calibration SNR, so this is the SNR-based selection
/// done before the noise, for calibrations whose full spectra do not fit in memory (openmpi-3d
/// at 37^3: 32 GB).
public struct StoredFrequencies: Sendable, Equatable {
    public var count: Int
    public var lowest: Double

    public init(count: Int, lowest: Double) {
        self.count = count
        self.lowest = lowest
    }
}

public struct SystemMatrixSimulator: Sendable {
    public let simulator: SignalSimulator
    public let noise: NoiseModel
    /// Grid points per axis.
    public let grid: [Int]
    /// Calibrated region, metres; by default the scanner's field of view.
    public let fieldOfView: [Double]
    /// Tracer concentration of the delta sample, mol Fe / L.
    public let sampleConcentration: Double

    public init(scanner: MPIScanner, grid: [Int], fieldOfView: [Double]? = nil, noise: NoiseModel, sampleConcentration: Double = 0.1) throws {
        simulator = try SignalSimulator(scanner: scanner)
        guard grid.count == 3, grid.allSatisfy({ $0 >= 1 }) else {
            throw ScannerError(scanner: scanner.name, message: "calibration grid needs three positive extents, got \(grid)")
        }
        self.grid = grid
        self.fieldOfView = fieldOfView ?? scanner.fieldOfView
        self.noise = noise
        self.sampleConcentration = sampleConcentration
    }

    /// The delta sample fills one grid cell.
    public var deltaSampleSize: [Double] { (0..<3).map { fieldOfView[$0] / Double(grid[$0]) } }

    public func simulate(backgroundFrames: Int, seed: UInt64, storing stored: StoredFrequencies? = nil,
                         progress: ((Int, Int) -> Void)? = nil) -> SimulatedSystemMatrix {
        let scanner = simulator.scanner
        let positions = gridPositions(grid, fieldOfView)
        let count = positions.shape[0], frames = count + backgroundFrames
        let channels = scanner.receive.count, samples = scanner.samplesPerPeriod, frequencies = samples / 2 + 1
        let particles = simulator.particles(inVolume: deltaSampleSize.reduce(1, *)) * sampleConcentration

        // The responses are not kept (a 19^3 3D calibration's would take 9 GB): a first pass sums
        // their squares for the reference that sets the noise and background levels, as a
        // calibration's follow its mean response (and their power per bin, to choose the stored
        // ones); the second computes each again, records it and transforms it straight into
        // J x C x K x N. Same values as keeping them.
        let simulator = self.simulator
        let response = { @Sendable (o: Int) -> NDArray<Double> in
            simulator.voltages(sources: [(position: [positions[o, 0], positions[o, 1], positions[o, 2]], particles: particles)])
        }
        let (reference, power) = firstPass(response, count: count, spectra: stored != nil, total: count + frames, progress: progress)
        let bins = stored.map { selectBins($0, power: power) } ?? Array(0..<frequencies)
        let chain = ReceiveChain(scanner: scanner, noise: noise, reference: reference, seed: seed)

        let frameSize = channels * samples
        var data = NDArray<Complex<Float>>(repeating: .zero, shape: [1, channels, bins.count, frames])
        let workers = min(frames, ProcessInfo.processInfo.activeProcessorCount)
        let done = Mutex(0)
        nonisolated(unsafe) let report = progress   // called by one worker at a time, under `done`'s lock
        data.storage.withUnsafeMutableBufferPointer { buffer in
            let out = DisjointWrites(buffer.baseAddress!)
            parallelFor(workers) { w in
                let fft = RealFFT(length: samples)
                var time = [Float](repeating: 0, count: frameSize)
                for frame in (frames * w / workers)..<(frames * (w + 1) / workers) {
                    time.withUnsafeMutableBufferPointer { t in
                        chain.record(frame < count ? response(frame) : nil, frame: frame, of: frames, into: DisjointWrites(t.baseAddress!), at: 0)
                    }
                    for c in 0..<channels {
                        let spectrum = fft.forward(time[(c * samples)..<((c + 1) * samples)])
                        for (j, k) in bins.enumerated() { out[(c * bins.count + j) * frames + frame] = spectrum[k] }
                    }
                    done.withLock { finished in
                        finished += 1
                        if finished % 64 == 0 || finished == frames { report?(count + finished, count + frames) }
                    }
                }
            }
        }
        return SimulatedSystemMatrix(data: data, isBackgroundFrame: (0..<frames).map { $0 >= count },
                                     positions: positions, grid: grid,
                                     fieldOfView: fieldOfView, deltaSampleSize: deltaSampleSize,
                                     bins: stored == nil ? nil : bins)
    }

    /// Every response once: the RMS over positions (C x V, the reference that sets the noise and
    /// background levels, as a calibration's follow its mean response) and, when asked, each
    /// bin's power summed over positions and channels. Fixed chunks summed in order, so the
    /// figures do not depend on the number of cores.
    private func firstPass(_ response: @Sendable (Int) -> NDArray<Double>, count: Int, spectra: Bool, total: Int,
                           progress: ((Int, Int) -> Void)?) -> (NDArray<Double>, [Double]) {
        let channels = simulator.scanner.receive.count, samples = simulator.scanner.samplesPerPeriod
        let chunks = min(count, 64), done = Mutex(0)
        nonisolated(unsafe) let report = progress   // called by one worker at a time, under `done`'s lock
        let partial = try! parallelMap(chunks) { chunk -> ([Double], [Double]) in   // the body does not throw
            var squares = [Double](repeating: 0, count: channels * samples)
            var power = [Double](repeating: 0, count: spectra ? samples / 2 + 1 : 0)
            let fft = spectra ? RealFFT(length: samples) : nil
            for o in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) {
                let r = response(o)
                for i in 0..<squares.count { squares[i] += r.storage[i] * r.storage[i] }
                if let fft {
                    for c in 0..<channels {
                        let spectrum = fft.forward(r.storage[(c * samples)..<((c + 1) * samples)].map(Float.init))
                        for k in 0..<power.count { power[k] += Double(spectrum[k].real * spectrum[k].real + spectrum[k].imaginary * spectrum[k].imaginary) }
                    }
                }
                done.withLock { finished in
                    finished += 1
                    if finished % 64 == 0 { report?(finished, total) }
                }
            }
            return (squares, power)
        }
        var squares = [Double](repeating: 0, count: channels * samples), power = [Double](repeating: 0, count: spectra ? samples / 2 + 1 : 0)
        for (s, p) in partial {
            for i in 0..<squares.count { squares[i] += s[i] }
            for k in 0..<power.count { power[k] += p[k] }
        }
        return (NDArray(shape: [channels, samples], storage: squares.map { ($0 / Double(count)).squareRoot() }), power)
    }

    /// The `stored.count` strongest bins at or above `stored.lowest` Hz, ascending.
    private func selectBins(_ stored: StoredFrequencies, power: [Double]) -> [Int] {
        let spacing = 1 / simulator.scanner.period
        let candidates = power.indices.filter { $0 > 0 && Double($0) * spacing >= stored.lowest }
        return candidates.sorted { power[$0] > power[$1] || (power[$0] == power[$1] && $0 < $1) }.prefix(stored.count).sorted()
    }
}
