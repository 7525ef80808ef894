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

    public func simulate(backgroundFrames: Int, seed: UInt64, progress: ((Int, Int) -> Void)? = nil) -> SimulatedSystemMatrix {
        let scanner = simulator.scanner
        let positions = gridPositions(grid, fieldOfView)
        let count = positions.shape[0], frames = count + backgroundFrames
        let channels = scanner.receive.count, samples = scanner.samplesPerPeriod, frequencies = samples / 2 + 1
        let particles = simulator.particles(inVolume: deltaSampleSize.reduce(1, *)) * sampleConcentration

        // The responses are not kept (a 19^3 3D calibration's would take 9 GB): a first pass sums
        // their squares for the reference that sets the noise and background levels, as a
        // calibration's follow its mean response; the second computes each again, records it and
        // transforms it straight into J x C x K x N. Same values as keeping them.
        let simulator = self.simulator
        let response = { @Sendable (o: Int) -> NDArray<Double> in
            simulator.voltages(sources: [(position: [positions[o, 0], positions[o, 1], positions[o, 2]], particles: particles)])
        }
        var reference = NDArray<Double>(repeating: 0, shape: [channels, samples])
        for o in 0..<count {
            let r = response(o)
            for i in 0..<reference.count { reference.storage[i] += r.storage[i] * r.storage[i] / Double(count) }
            if o % 64 == 63 { progress?(o + 1, count + frames) }
        }
        reference = reference.map { $0.squareRoot() }
        let chain = ReceiveChain(scanner: scanner, noise: noise, reference: reference, seed: seed)

        let frameSize = channels * samples
        var data = NDArray<Complex<Float>>(repeating: .zero, shape: [1, channels, frequencies, frames])
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
                        for k in 0..<frequencies { out[(c * frequencies + k) * frames + frame] = spectrum[k] }
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
                                     fieldOfView: fieldOfView, deltaSampleSize: deltaSampleSize)
    }
}
