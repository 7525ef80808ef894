import CFFTW
import MagpieCore

/// The orthonormal DCT-IV over a calibration grid (x fastest), in every dimension longer than 1:
/// the sparsity transform of compressed system matrices (MDF's "DCT-IV", MPIReco's default).
/// Orthonormal and symmetric, so it is its own inverse: S x = (S T)(T x) for the transform T.
///
/// An instance owns its plan and buffer; use one per thread.
public final class GridDCT {
    public let grid: [Int]
    public var count: Int { grid.reduce(1, *) }
    private let buffer: UnsafeMutablePointer<Float>
    private let plan: fftwf_plan
    private let scale: Float

    public init(grid: [Int]) {
        precondition(!grid.isEmpty && grid.allSatisfy { $0 >= 1 }, "grid \(grid) needs positive extents")
        self.grid = grid
        let count = grid.reduce(1, *)
        // FFTW takes the slowest dimension first; extents of 1 are left out (their DCT-IV is the identity).
        let dimensions = grid.reversed().filter { $0 > 1 }.map { Int32($0) }
        let buffer = fftwf_alloc_real(count)!
        self.buffer = buffer
        let dims = dimensions.isEmpty ? [Int32(1)] : dimensions
        // FFTW's REDFT11 is 2 sum cos(...): each dimension of length n scales by sqrt(2 n).
        scale = Float(1 / dims.reduce(1.0) { $0 * (2 * Double($1)).squareRoot() })
        let kinds = [fftw_r2r_kind](repeating: FFTW_REDFT11, count: dims.count)
        plan = FFTWPlanner.lock.withLock {
            fftwf_plan_r2r(Int32(dims.count), dims, buffer, buffer, kinds, UInt32(FFTW_ESTIMATE))
        }!
    }

    deinit {
        FFTWPlanner.lock.withLock { fftwf_destroy_plan(plan) }
        fftwf_free(buffer)
    }

    /// Transforms `count` values in place (forward and inverse are the same).
    public func apply(_ values: UnsafeMutablePointer<Float>) {
        buffer.update(from: values, count: count)
        fftwf_execute(plan)
        for n in 0..<count { values[n] = buffer[n] * scale }
    }

    public func apply(_ values: inout [Float]) {
        precondition(values.count == count, "DCT over \(count) positions given \(values.count) values")
        values.withUnsafeMutableBufferPointer { apply($0.baseAddress!) }
    }
}
