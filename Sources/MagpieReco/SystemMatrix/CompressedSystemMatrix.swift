import Foundation
import MagpieCore

/// A system matrix whose rows are transformed along the calibration grid by an orthonormal
/// sparsity transform (DCT-IV) and cut to their `kept` largest coefficients each, as MPIReco's
/// matrix compression and MDF's `isSparsityTransformed` store it (Knopp et al. 2015: the same
/// number of coefficients per frequency). Kaczmarz then solves for the image's coefficients y,
/// S x = (S T)(T x) = S' y, and the image is T y. A 37^3 calibration's rows at keep 0.01 are
/// 1.5 % of the dense bytes (an index and a complex value per kept coefficient).
public final class CompressedSystemMatrix: @unchecked Sendable {  // written in init only, then read
    public let rows: [FrequencyRow]
    /// N: voxels of the grid (x fastest).
    public let columns: Int
    /// The calibration grid (x, y, z extents) the transform runs over.
    public let grid: [Int]
    /// B: coefficients kept per row.
    public let kept: Int
    /// Per row, B coefficient indices (0-based, ascending), then their values (re, im interleaved).
    let indices: [Int32]
    let values: [Float]
    public let rowEnergy: [Float]
    /// ||S'||_F^2 of the kept coefficients (||S||_F^2 when nothing is dropped).
    public let frobeniusSquared: Double
    public let isBackgroundCorrected: Bool

    /// The transform's name as MDF's `sparsityTransformation` states it.
    public static let transformName = "DCT-IV"

    /// Coefficients MPIReco keeps for a fraction: floor(keep N), at least one.
    public static func kept(fraction keep: Double, of columns: Int) -> Int {
        max(1, min(columns, Int((keep * Double(columns)).rounded(.down))))
    }

    /// Compresses `matrix` (its columns the positions of `grid`, x fastest), keeping the
    /// largest `keep` fraction of each row's coefficients by magnitude.
    public convenience init(_ matrix: SystemMatrix, grid: [Int], keep: Double) throws {
        guard keep > 0, keep <= 1 else { throw ReconstructionError.parameter("compression keep = \(keep) is out of range; allowed: above 0, up to 1") }
        guard grid.count == 3, grid.reduce(1, *) == matrix.columns else {
            throw ReconstructionError.systemMatrix("a \(grid) grid does not hold the system matrix's \(matrix.columns) positions")
        }
        guard !matrix.rows.isEmpty, matrix.columns > 0 else { throw ReconstructionError.systemMatrix("a system matrix without rows or voxels has nothing to compress") }
        let n = matrix.columns, b = Self.kept(fraction: keep, of: n), m = matrix.rows.count
        var indices = [Int32](repeating: 0, count: m * b), values = [Float](repeating: 0, count: 2 * m * b)
        let workers = min(m, ProcessInfo.processInfo.activeProcessorCount)
        indices.withUnsafeMutableBufferPointer { indexBuffer in
            values.withUnsafeMutableBufferPointer { valueBuffer in
                let indexOut = DisjointWrites(indexBuffer.baseAddress!), valueOut = DisjointWrites(valueBuffer.baseAddress!)
                parallelFor(workers) { w in
                    let dct = GridDCT(grid: grid)
                    var re = [Float](repeating: 0, count: n), im = re, order = Array(0..<n)
                    for i in (m * w / workers)..<(m * (w + 1) / workers) {
                        let row = matrix.row(i)
                        for c in 0..<n { re[c] = row[c]; im[c] = row[matrix.stride + c] }
                        dct.apply(&re)
                        dct.apply(&im)
                        // The b largest by magnitude, ties to the lower index, then stored in index order.
                        order.withUnsafeMutableBufferPointer { order in
                            for c in 0..<n { order[c] = c }
                            func magnitude(_ c: Int) -> Float { re[c] * re[c] + im[c] * im[c] }
                            if b < n {
                                order.sort { magnitude($0) != magnitude($1) ? magnitude($0) > magnitude($1) : $0 < $1 }
                            }
                            let chosen = order[0..<b].sorted()
                            for (k, c) in chosen.enumerated() {
                                indexOut[i * b + k] = Int32(c)
                                valueOut[2 * (i * b + k)] = re[c]
                                valueOut[2 * (i * b + k) + 1] = im[c]
                            }
                        }
                    }
                }
            }
        }
        self.init(rows: matrix.rows, grid: grid, kept: b, indices: indices, values: values, isBackgroundCorrected: matrix.isBackgroundCorrected)
    }

    /// From stored coefficients (an MDF file's `subsamplingIndices` and `data`).
    public init(rows: [FrequencyRow], grid: [Int], kept: Int, indices: [Int32], values: [Float], isBackgroundCorrected: Bool) {
        precondition(indices.count == rows.count * kept && values.count == 2 * indices.count, "compressed rows of inconsistent sizes")
        self.rows = rows
        self.grid = grid
        columns = grid.reduce(1, *)
        self.kept = kept
        self.indices = indices
        self.values = values
        self.isBackgroundCorrected = isBackgroundCorrected
        var energy = [Float](repeating: 0, count: rows.count), total = 0.0
        for i in 0..<rows.count {
            var sum = 0.0
            for k in (2 * i * kept)..<(2 * (i + 1) * kept) { sum += Double(values[k]) * Double(values[k]) }
            energy[i] = Float(sum)
            total += sum
        }
        rowEnergy = energy
        frobeniusSquared = total
    }

    /// Bytes one sweep reads: an Int32 index and a complex Float32 per kept coefficient.
    public var bytes: Int { indices.count * (MemoryLayout<Int32>.size + 2 * MemoryLayout<Float>.size) }

    /// Row i's kept coefficients as (index, value) pairs, for writing them out.
    public func coefficients(_ i: Int) -> [(index: Int, value: Complex<Float>)] {
        (0..<kept).map { k in (Int(indices[i * kept + k]), Complex(values[2 * (i * kept + k)], values[2 * (i * kept + k) + 1])) }
    }
}

extension Kaczmarz {
    /// Kaczmarz on the compressed rows: the same update as the dense sweep on the coefficients
    /// y of the image, whose transform T y is the image. The real projection runs on y (T is
    /// real); the positive one needs the image, so after each sweep y goes to the image, is
    /// clipped there and comes back: at keep = 1 this is the dense solver's result.
    public func solve(_ matrix: CompressedSystemMatrix, _ u: NDArray<Complex<Float>>) throws -> SolverResult {
        try check(u, rows: matrix.rows.count)
        let frames = u.shape[0], n = matrix.columns, m = matrix.rows.count, b = matrix.kept
        guard frames > 0, n > 0 else { throw ReconstructionError.mismatch("no measurement vectors to reconstruct") }
        let effectiveLambda = lambda * matrix.frobeniusSquared / Double(n)
        let l = Float(effectiveLambda), root = l.squareRoot()
        let orders = rowOrders(m)
        let workerCount = min(frames, ProcessInfo.processInfo.activeProcessorCount)
        var images = NDArray<Float>(repeating: 0, shape: [frames, n])
        var residuals = [[Double]](repeating: [], count: frames)
        let (real, positive, withResiduals) = (enforceReal, enforcePositive, computeResiduals)
        images.storage.withUnsafeMutableBufferPointer { imageBuffer in
            residuals.withUnsafeMutableBufferPointer { residualBuffer in
                let out = DisjointWrites(imageBuffer.baseAddress!), residualsOut = DisjointWrites(residualBuffer.baseAddress!)
                parallelFor(workerCount) { w in
                    let dct = GridDCT(grid: matrix.grid)
                    let range = (frames * w / workerCount)..<(frames * (w + 1) / workerCount)
                    // y per frame: n real parts then n imaginary parts; v per frame and row (re, im).
                    var y = [Float](repeating: 0, count: 2 * n * range.count), v = [Float](repeating: 0, count: 2 * m * range.count)
                    matrix.indices.withUnsafeBufferPointer { index in
                        matrix.values.withUnsafeBufferPointer { value in
                            y.withUnsafeMutableBufferPointer { y in
                                for (sweep, order) in orders.enumerated() {
                                    for i in order {
                                        let i = Int(i), denominator = matrix.rowEnergy[i] + l
                                        guard denominator > 0 else { continue }
                                        let idx = index.baseAddress! + i * b, val = value.baseAddress! + 2 * i * b
                                        for (f, q) in range.enumerated() {
                                            let yr = y.baseAddress! + 2 * n * f, yi = yr + n
                                            var tr: Float = 0, ti: Float = 0
                                            for k in 0..<b {
                                                let c = Int(idx[k]), sr = val[2 * k], si = val[2 * k + 1]
                                                tr += sr * yr[c] - si * yi[c]
                                                ti += sr * yi[c] + si * yr[c]
                                            }
                                            let z = u.storage[q * m + i], vk = 2 * (f * m + i)
                                            let ar = (z.real - tr - root * v[vk]) / denominator
                                            let ai = (z.imaginary - ti - root * v[vk + 1]) / denominator
                                            for k in 0..<b {
                                                let c = Int(idx[k]), sr = val[2 * k], si = val[2 * k + 1]
                                                yr[c] += ar * sr + ai * si
                                                yi[c] += ai * sr - ar * si
                                            }
                                            v[vk] += root * ar
                                            v[vk + 1] += root * ai
                                        }
                                    }
                                    for (f, q) in range.enumerated() {
                                        let yr = y.baseAddress! + 2 * n * f, yi = yr + n
                                        if real { yi.update(repeating: 0, count: n) }
                                        let last = sweep == orders.count - 1
                                        if positive || last {
                                            // To the image, projected; back to coefficients unless this was the last sweep.
                                            dct.apply(yr)
                                            if positive { for c in 0..<n where yr[c] < 0 { yr[c] = 0 } }
                                            if last { (out.base + q * n).update(from: yr, count: n) } else { dct.apply(yr) }
                                        }
                                        if withResiduals {
                                            residualsOut[q].append(Self.residual(matrix, y: yr, yi, inImageDomain: last, dct: dct, u: u, frame: q))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return SolverResult(images: images, residuals: residuals, effectiveLambda: effectiveLambda)
    }

    /// ||S' y - u|| / ||u|| for one frame; y is given in the image domain after the last sweep.
    private static func residual(_ matrix: CompressedSystemMatrix, y yr: UnsafeMutablePointer<Float>, _ yi: UnsafeMutablePointer<Float>,
                                 inImageDomain: Bool, dct: GridDCT, u: NDArray<Complex<Float>>, frame q: Int) -> Double {
        let n = matrix.columns, m = matrix.rows.count, b = matrix.kept
        var coefficients = Array(UnsafeBufferPointer(start: yr, count: n))
        if inImageDomain { dct.apply(&coefficients) }
        let imaginary = UnsafeBufferPointer(start: yi, count: n)
        var sum = 0.0, norm = 0.0
        for i in 0..<m {
            var re = 0.0, im = 0.0
            for k in 0..<b {
                let c = Int(matrix.indices[i * b + k]), sr = Double(matrix.values[2 * (i * b + k)]), si = Double(matrix.values[2 * (i * b + k) + 1])
                re += sr * Double(coefficients[c]) - si * Double(imaginary[c])
                im += sr * Double(imaginary[c]) + si * Double(coefficients[c])
            }
            let z = u.storage[q * m + i]
            sum += (re - Double(z.real)) * (re - Double(z.real)) + (im - Double(z.imaginary)) * (im - Double(z.imaginary))
            norm += Double(z.real) * Double(z.real) + Double(z.imaginary) * Double(z.imaginary)
        }
        return norm > 0 ? (sum / norm).squareRoot() : 0
    }
}
