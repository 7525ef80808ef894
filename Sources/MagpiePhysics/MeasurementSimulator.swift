import Foundation
import MagpieCore

/// A simulated scan: foreground frames of a phantom and background frames of the empty scanner,
/// each one drive cycle, with independent noise per frame.
public struct SimulatedScan: Sendable {
    /// N x C x V volts, foreground frames first, background frames last (MDF's order).
    public var frames: NDArray<Float>
    public var isBackgroundFrame: [Bool]
    /// The particle signal of one period without noise or background, C x V volts.
    public var noiseFree: NDArray<Double>
}

public struct MeasurementSimulator: Sendable {
    public let simulator: SignalSimulator
    public let noise: NoiseModel

    public init(scanner: MPIScanner, noise: NoiseModel) throws {
        simulator = try SignalSimulator(scanner: scanner)
        self.noise = noise
    }

    public var scanner: MPIScanner { simulator.scanner }

    /// Simulates a scan of `concentration` (mol Fe / L on the scanner's grid). Frames are
    /// deterministic for a seed, whatever the number of cores.
    public func scan(concentration: NDArray<Double>, foregroundFrames: Int, backgroundFrames: Int, seed: UInt64) throws -> SimulatedScan {
        guard foregroundFrames >= 0, backgroundFrames >= 0, foregroundFrames + backgroundFrames > 0 else {
            throw ScannerError(scanner: scanner.name, message: "a scan needs at least one frame")
        }
        let signal = try simulator.voltages(concentration: concentration)
        return scan(signal: signal, foregroundFrames: foregroundFrames, backgroundFrames: backgroundFrames, seed: seed)
    }

    /// Frames around an already simulated noise-free period (C x V).
    public func scan(signal: NDArray<Double>, foregroundFrames: Int, backgroundFrames: Int, seed: UInt64) -> SimulatedScan {
        let pattern = (0..<(foregroundFrames + backgroundFrames)).map { $0 >= foregroundFrames }
        return SimulatedScan(frames: frames(signal: signal, isBackgroundFrame: pattern, range: 0..<pattern.count, seed: seed),
                             isBackgroundFrame: pattern, noiseFree: signal)
    }

    /// Frames `range` of a scan whose frames are background or foreground as `isBackgroundFrame`
    /// says, R x C x V volts. Each frame depends only on its index, the pattern's length and the
    /// seed, so a long scan can be produced block by block (as `magpie publish` streams it).
    public func frames(signal: NDArray<Double>, isBackgroundFrame: [Bool], range: Range<Int>, seed: UInt64) -> NDArray<Float> {
        let channels = signal.shape[0], samples = signal.shape[1], total = isBackgroundFrame.count
        let chain = ReceiveChain(scanner: scanner, noise: noise, reference: signal, seed: seed)
        let frameSize = channels * samples
        let storage = parallelFill(count: range.count * frameSize, repeating: Float(0), chunks: max(range.count, 1)) { chunk, out in
            for local in (chunk.lowerBound / frameSize)..<(chunk.upperBound / frameSize) {
                let frame = range.lowerBound + local
                chain.record(isBackgroundFrame[frame] ? nil : signal, frame: frame, of: total, into: out, at: local * frameSize)
            }
        }
        return NDArray(shape: [range.count, channels, samples], storage: storage)
    }
}
