import MagpieCore

/// A learned system-matrix super-resolution network (SwinIR-style with the RIM embedding,
/// models/sm-upscaler): frequency images [B, 2, h, w] (real, imaginary; any scale) sampled at every
/// `factor`-th point of the fine grid in, [B, 2, factor h, factor w] out. The network scales each
/// image itself, so raw calibration values go in and come out.
public final class SystemMatrixUpscaler {
    public static let kind = "sm-upscaler"
    public let model: LearnedModel
    /// The coarse grid the network takes: rows (y), columns (x).
    public let rows: Int, columns: Int
    public let factor: Int
    /// Images per LibTorch call.
    public var batch = 64

    public init(model: LearnedModel) throws {
        let input = model.entry.input.shape, output = model.entry.output.shape
        guard model.entry.kind == Self.kind, input.count == 4, input[1] == 2, input[2] > 0, input[3] > 0,
              output.count == 4, output[1] == 2, output[2] % input[2] == 0, output[2] / input[2] > 1,
              output[3] == output[2] / input[2] * input[3] else {
            throw NeuralError.shape(model: model.name, reason: "an SM upscaler takes [B, 2, h, w] and gives [B, 2, n h, n w], the manifest says \(input) -> \(output)")
        }
        self.model = model
        (rows, columns, factor) = (input[2], input[3], output[2] / input[2])
    }

    public convenience init(named name: String, manifestPath: String) throws {
        try self.init(model: LearnedModel(named: name, manifestPath: manifestPath, kind: Self.kind))
    }

    /// Upscales [B, 2, rows, columns] in chunks of `batch`, calling `progress(done, total)` after each.
    public func upscale(_ images: NDArray<Float>, progress: ((Int, Int) -> Void)? = nil) throws -> NDArray<Float> {
        guard images.rank == 4, images.shape[1] == 2, images.shape[2] == rows, images.shape[3] == columns else {
            throw NeuralError.shape(model: model.name, reason: "upscales [B, 2, \(rows), \(columns)] frequency images, got \(images.shape)")
        }
        let count = images.shape[0], inSize = 2 * rows * columns, outSize = inSize * factor * factor
        var result = NDArray<Float>(repeating: 0, shape: [count, 2, rows * factor, columns * factor])
        var done = 0
        while done < count {
            let n = min(batch, count - done)
            let chunk = NDArray(shape: [n, 2, rows, columns], storage: Array(images.storage[(done * inSize)..<((done + n) * inSize)]))
            let output = try model.run(chunk)
            result.storage.replaceSubrange((done * outSize)..<((done + n) * outSize), with: output.storage)
            done += n
            progress?(done, count)
        }
        return result
    }
}
