import MagpieCore
import MagpieReco

/// The score sampler bound to one system matrix and its SVD (computed here, once): what
/// `magpie reconstruct --method score` and the daemon's `reconstruct = "score"` run per frame.
public final class ScoreReconstruction {
    public let matrix: SystemMatrix
    public let svd: TikhonovSVD
    public let sampler: ScoreSampler
    public var parameters: ScoreSampler.Parameters
    /// The SM's grid: rows (y) and columns (x) of voxels.
    public let rows: Int, columns: Int

    /// `grid` is the calibration's size (x, y, z); it must be 2D and fit the model's image.
    public init(matrix: SystemMatrix, grid: [Int], sampler: ScoreSampler, parameters: ScoreSampler.Parameters = .init()) throws {
        try parameters.validate()
        guard grid.count == 3, grid[2] == 1, grid[0] * grid[1] == matrix.columns else {
            throw NeuralError.shape(model: sampler.model.name, reason: "score reconstruction needs a 2D system matrix; its grid is \(grid)")
        }
        guard grid[1] <= sampler.height, grid[0] <= sampler.width else {
            throw NeuralError.shape(model: sampler.model.name, reason: "the system matrix's \(grid[0]) x \(grid[1]) grid is larger than the model's \(sampler.width) x \(sampler.height)")
        }
        self.matrix = matrix
        svd = try TikhonovSVD(matrix)
        self.sampler = sampler
        self.parameters = parameters
        (rows, columns) = (grid[1], grid[0])
    }

    /// One image per row of `u` (Q x M measurement vectors in the matrix's row order): Q x N.
    public func reconstruct(_ u: NDArray<Complex<Float>>) throws -> NDArray<Float> {
        let m = matrix.rows.count
        guard u.rank == 2, u.shape[1] == m else {
            throw ReconstructionError.mismatch("measurement vectors of shape \(u.shape) for a system matrix of \(m) rows")
        }
        let b = (0..<u.shape[0]).map { TikhonovSVD.stacked(u.storage[($0 * m)..<(($0 + 1) * m)]) }
        let images = try sampler.reconstruct(b, svd: svd, rows: rows, columns: columns, parameters: parameters)
        return NDArray(shape: [u.shape[0], matrix.columns], storage: images.flatMap { $0.map(Float.init) })
    }

    /// ||A x - b|| / ||b|| of one image against its measurement vector (M complex values).
    public func residual(_ x: [Double], _ u: ArraySlice<Complex<Float>>) -> Double {
        let b = TikhonovSVD.stacked(u)
        let norm = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? svd.relativeResidual(x, coefficients: svd.coefficients(b), norm: norm) : 0
    }
}
