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
        let channels = signal.shape[0], samples = signal.shape[1]
        let frames = foregroundFrames + backgroundFrames
        let chain = ReceiveChain(scanner: scanner, noise: noise, reference: signal, seed: seed)
        let frameSize = channels * samples
        let storage = parallelFill(count: frames * frameSize, repeating: Float(0), chunks: frames) { range, out in
            for frame in (range.lowerBound / frameSize)..<(range.upperBound / frameSize) {
                chain.record(frame < foregroundFrames ? signal : nil, frame: frame, of: frames, into: out, at: frame * frameSize)
            }
        }
        return SimulatedScan(frames: NDArray(shape: [frames, channels, samples], storage: storage),
                             isBackgroundFrame: (0..<frames).map { $0 >= foregroundFrames }, noiseFree: signal)
    }
}
