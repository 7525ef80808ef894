import Foundation
import MagpieCore

/// On-site fine-tuning of a signal denoiser on a lab's own period pairs (two noisy recordings of
/// the same signal; no clean data), through the model's own self-supervised loss
/// (`training_loss`, exported with it) and Adam in LibTorch.
public final class DenoiserFineTuning {
    /// The loss method every signal-denoiser module exports: training_loss(input, target).
    public static let lossMethod = "training_loss"

    /// Pairs of single-channel periods: `input[i]` and `target[i]` hold the same signal.
    public struct Pairs {
        public var input: [Float]
        public var target: [Float]
        public let samples: Int

        public init(samples: Int) {
            self.samples = samples
            input = []
            target = []
        }

        public var count: Int { input.count / samples }

        /// Adds a pair in both directions (a -> b and b -> a), as training uses them.
        public mutating func append(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) {
            precondition(a.count == samples && b.count == samples)
            input += a; target += b
            input += b; target += a
        }

        func rows(_ indices: some Collection<Int>) -> (NDArray<Float>, NDArray<Float>) {
            var x = [Float](), y = [Float]()
            x.reserveCapacity(indices.count * samples)
            y.reserveCapacity(indices.count * samples)
            for i in indices {
                x += input[(i * samples)..<((i + 1) * samples)]
                y += target[(i * samples)..<((i + 1) * samples)]
            }
            let shape = [indices.count, 1, samples]
            return (NDArray(shape: shape, storage: x), NDArray(shape: shape, storage: y))
        }
    }

    public let model: LearnedModel
    /// Samples per period the model takes.
    public let samples: Int

    public init(model: LearnedModel) throws {
        samples = try SignalDenoiser(model: model).samples  // checks the kind and the input spec
        self.model = model
    }

    /// Mean self-supervised loss over `pairs` in evaluation mode (batches of 64).
    public func loss(_ pairs: Pairs) throws -> Double {
        try check(pairs)
        var total = 0.0, start = 0
        while start < pairs.count {
            let n = min(64, pairs.count - start)
            let (x, y) = pairs.rows(start..<(start + n))
            total += try model.module.loss(input: x, target: y, lossMethod: Self.lossMethod) * Double(n)
            start += n
        }
        return total / Double(max(pairs.count, 1))
    }

    /// `steps` Adam steps on random batches of `pairs`, learning rate decaying with a cosine to 0;
    /// `progress(step, loss)` after each step.
    public func train(_ pairs: Pairs, steps: Int, batch: Int, learningRate: Double, seed: UInt64,
                      progress: (Int, Double) -> Void) throws {
        try check(pairs)
        var random = SeededRandom(seed: seed)
        for step in 0..<steps {
            let indices = (0..<min(batch, pairs.count)).map { _ in Int(random.next() % UInt64(pairs.count)) }
            let (x, y) = pairs.rows(indices)
            let rate = learningRate * 0.5 * (1 + cos(Double.pi * Double(step) / Double(steps)))
            let loss = try model.module.trainStep(input: x, target: y, lossMethod: Self.lossMethod, learningRate: max(rate, learningRate * 1e-3))
            progress(step + 1, loss)
        }
    }

    private func check(_ pairs: Pairs) throws {
        guard pairs.samples == samples else {
            throw NeuralError.shape(model: model.name, reason: "periods of \(pairs.samples) samples, the model takes \(samples) (trained for \(model.entry.scanner))")
        }
        guard pairs.count > 0 else { throw NeuralError.shape(model: model.name, reason: "no period pairs to train on") }
    }
}
