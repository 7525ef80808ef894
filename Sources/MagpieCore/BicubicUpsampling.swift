/// Bicubic interpolation (Keys' kernel, a = -0.5) from a coarse grid onto a grid `factor` times
/// finer that keeps every coarse point: fine index i lies at coarse coordinate i / factor, so fine
/// point factor * j is coarse point j (a coarse calibration measures every factor-th point of the
/// fine one). Beyond the last coarse point the edge value repeats. models/sm-upscaler/model.py builds
/// the same weights for the network's bicubic path.
public struct BicubicUpsampling: Sendable {
    public let factor: Int
    /// fine x coarse weights per axis.
    let rowWeights: [Float], columnWeights: [Float]
    public let coarseRows: Int, coarseColumns: Int

    public init(coarseRows: Int, coarseColumns: Int, factor: Int) {
        precondition(coarseRows >= 1 && coarseColumns >= 1 && factor >= 1)
        (self.coarseRows, self.coarseColumns, self.factor) = (coarseRows, coarseColumns, factor)
        rowWeights = Self.weights(coarse: coarseRows, factor: factor)
        columnWeights = Self.weights(coarse: coarseColumns, factor: factor)
    }

    public var fineRows: Int { coarseRows * factor }
    public var fineColumns: Int { coarseColumns * factor }

    static func keys(_ t: Double) -> Double {
        let t = abs(t)
        if t <= 1 { return 1.5 * t * t * t - 2.5 * t * t + 1 }
        if t < 2 { return -0.5 * t * t * t + 2.5 * t * t - 4 * t + 2 }
        return 0
    }

    static func weights(coarse: Int, factor: Int) -> [Float] {
        var matrix = [Double](repeating: 0, count: coarse * factor * coarse)
        for i in 0..<(coarse * factor) {
            let x = Double(i) / Double(factor), base = Int(x.rounded(.down))
            for j in (base - 1)...(base + 2) { matrix[i * coarse + min(max(j, 0), coarse - 1)] += keys(x - Double(j)) }
        }
        return matrix.map(Float.init)
    }

    /// One coarse image, row-major [coarseRows, coarseColumns], to [fineRows, fineColumns].
    public func upsample<C: RandomAccessCollection>(_ image: C) -> [Float] where C.Element == Float, C.Index == Int {
        precondition(image.count == coarseRows * coarseColumns, "image of \(image.count) values for a \(coarseRows) x \(coarseColumns) grid")
        // Columns first: [coarseRows, fineColumns], then rows.
        let start = image.startIndex
        var wide = [Float](repeating: 0, count: coarseRows * fineColumns)
        for r in 0..<coarseRows {
            for i in 0..<fineColumns {
                var sum: Float = 0
                for j in 0..<coarseColumns { sum += columnWeights[i * coarseColumns + j] * image[start + r * coarseColumns + j] }
                wide[r * fineColumns + i] = sum
            }
        }
        var fine = [Float](repeating: 0, count: fineRows * fineColumns)
        for i in 0..<fineRows {
            for r in 0..<coarseRows {
                let w = rowWeights[i * coarseRows + r]
                if w == 0 { continue }
                for c in 0..<fineColumns { fine[i * fineColumns + c] += w * wide[r * fineColumns + c] }
            }
        }
        return fine
    }
}
