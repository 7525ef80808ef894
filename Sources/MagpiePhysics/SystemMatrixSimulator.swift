import Foundation
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

        var responses: [NDArray<Double>] = []
        responses.reserveCapacity(count)
        for o in 0..<count {
            responses.append(simulator.voltages(sources: [(position: [positions[o, 0], positions[o, 1], positions[o, 2]], particles: particles)]))
            if o % 64 == 63 && o + 1 < count { progress?(o + 1, count) }
        }
        progress?(count, count)
        // Noise and background levels follow the mean response, as a calibration's would.
        var reference = NDArray<Double>(repeating: 0, shape: [channels, samples])
        for response in responses {
            for i in 0..<reference.count { reference.storage[i] += response.storage[i] * response.storage[i] / Double(count) }
        }
        reference = reference.map { $0.squareRoot() }
        let chain = ReceiveChain(scanner: scanner, noise: noise, reference: reference, seed: seed)

        // Frames in time, then one FFT per frame and channel into J x C x K x N.
        let frameSize = channels * samples
        let responsesCopy = responses
        let time = parallelFill(count: frames * frameSize, repeating: Float(0), chunks: frames) { range, out in
            for frame in (range.lowerBound / frameSize)..<(range.upperBound / frameSize) {
                chain.record(frame < count ? responsesCopy[frame] : nil, frame: frame, of: frames, into: out, at: frame * frameSize)
            }
        }
        var data = NDArray<Complex<Float>>(repeating: .zero, shape: [1, channels, frequencies, frames])
        let fft = RealFFT(length: samples)
        for frame in 0..<frames {
            for c in 0..<channels {
                let start = frame * frameSize + c * samples
                let spectrum = fft.forward(time[start..<(start + samples)])
                for k in 0..<frequencies { data.storage[(c * frequencies + k) * frames + frame] = spectrum[k] }
            }
        }
        return SimulatedSystemMatrix(data: data, isBackgroundFrame: (0..<frames).map { $0 >= count },
                                     positions: positions, grid: grid,
                                     fieldOfView: fieldOfView, deltaSampleSize: deltaSampleSize)
    }
}
