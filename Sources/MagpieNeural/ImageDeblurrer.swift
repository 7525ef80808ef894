import MagpieCore

/// A learned deblurring network for native x-space images (MSA-transformer, or the compact
/// Restormer it is compared with): one image [1, 1, H, W] in, the deblurred image out.
///
/// The network was trained on images of a fixed grid and field of view scaled to a maximum of 1.
/// An image of another grid is resampled bilinearly onto the model's grid, scaled to a maximum of 1,
/// deblurred, scaled back and resampled back to its own grid. The blur it removes is that of the
/// scanner it was trained for (the manifest's `scanner`); on another scanner it is an approximation.
public final class ImageDeblurrer {
    public static let kind = "image-deblurrer"
    public let model: LearnedModel
    /// The model's grid: rows, columns.
    public let rows: Int, columns: Int

    public init(model: LearnedModel) throws {
        let shape = model.entry.input.shape
        guard model.entry.kind == Self.kind, shape.count == 4, shape[1] == 1, shape[2] > 0, shape[3] > 0 else {
            throw NeuralError.shape(model: model.name, reason: "an image deblurrer takes [batch, 1, rows, columns], the manifest says \(shape)")
        }
        self.model = model
        (rows, columns) = (shape[2], shape[3])
    }

    public convenience init(named name: String, manifestPath: String) throws {
        try self.init(model: LearnedModel(named: name, manifestPath: manifestPath, kind: Self.kind))
    }

    /// Deblurs a 2D image [rows, columns] (any grid, any scale; negative values are clipped to 0).
    public func deblur(_ image: NDArray<Double>) throws -> NDArray<Double> {
        try deblur([image])[0]
    }

    /// Whether the model takes several images in one call (a free batch dimension in the manifest).
    public var takesBatches: Bool { model.entry.input.shape[0] < 0 }

    /// Deblurs several 2D images, in one model call when the model takes batches.
    public func deblur(_ images: [NDArray<Double>]) throws -> [NDArray<Double>] {
        var inputs: [Float] = [], peaks: [Double] = [], kept: [Int] = []
        for (index, image) in images.enumerated() {
            guard image.rank == 2 || (image.rank == 3 && image.shape[0] == 1) else {
                throw NeuralError.shape(model: model.name, reason: "deblurs 2D images, got shape \(image.shape)")
            }
            let onGrid = image.reshaped(Array(image.shape.suffix(2))).resampled(rows: rows, columns: columns)
            let peak = onGrid.storage.max() ?? 0
            guard peak > 0, peak.isFinite else { continue }   // nothing to deblur: zeros
            inputs += onGrid.storage.map { Float(max($0, 0) / peak) }
            peaks.append(peak)
            kept.append(index)
        }
        var results = images.map { $0.map { _ in 0.0 } }
        let size = rows * columns
        let groups = takesBatches ? (kept.isEmpty ? [] : [0..<kept.count]) : kept.indices.map { $0..<($0 + 1) }
        for group in groups {
            let input = NDArray(shape: [group.count, 1, rows, columns], storage: Array(inputs[(group.lowerBound * size)..<(group.upperBound * size)]))
            let output = try model.run(input)
            for (k, slot) in group.enumerated() {
                let image = images[kept[slot]]
                let deblurred = NDArray(shape: [rows, columns], storage: output.storage[(k * size)..<((k + 1) * size)].map { Double(max($0, 0)) * peaks[slot] })
                results[kept[slot]] = deblurred.resampled(rows: image.shape[image.rank - 2], columns: image.shape[image.rank - 1]).reshaped(image.shape)
            }
        }
        return results
    }
}
