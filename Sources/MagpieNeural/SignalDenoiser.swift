import MagpieCore

/// The self-supervised signal denoiser: periods of single receive channels in, the same periods
/// denoised out, in volts, run through the model `batch` periods at a time.
public final class SignalDenoiser {
    public static let kind = "signal-denoiser"
    public let model: LearnedModel
    /// Samples per period the model was trained for (the manifest's input spec).
    public let samples: Int
    public var batch: Int

    public init(model: LearnedModel, batch: Int = 64) throws {
        let shape = model.entry.input.shape
        guard model.entry.kind == Self.kind, shape.count == 3, shape[1] == 1, shape[2] > 0 else {
            throw NeuralError.shape(model: model.name, reason: "a signal denoiser takes [any, 1, samples], the manifest says \(shape)")
        }
        self.model = model
        samples = shape[2]
        self.batch = max(batch, 1)
    }

    /// `periods` is P x V (any leading shape whose last extent is V): each row denoised on its own.
    public func denoise(_ periods: NDArray<Float>) throws -> NDArray<Float> {
        guard let length = periods.shape.last, length == samples else {
            throw NeuralError.shape(model: model.name, reason: "periods of \(periods.shape.last ?? 0) samples, the model takes \(samples) (trained for \(model.entry.scanner))")
        }
        let rows = periods.count / samples
        var out = [Float]()
        out.reserveCapacity(periods.count)
        var start = 0
        while start < rows {
            let n = min(batch, rows - start)
            let chunk = NDArray(shape: [n, 1, samples], storage: Array(periods.storage[(start * samples)..<((start + n) * samples)]))
            out += try model.run(chunk).storage
            start += n
        }
        return NDArray(shape: periods.shape, storage: out)
    }
}
