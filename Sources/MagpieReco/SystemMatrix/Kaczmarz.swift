import Foundation
import KaczmarzSweep
import MagpieCore

/// What a system-matrix solver returns for a batch of Q frames.
public struct SolverResult: Sendable {
    /// Q x N real images, one value per voxel (calibration positions in order).
    public var images: NDArray<Float>
    /// Per frame, ||S x - u|| / ||u|| after each iteration (empty when not computed).
    public var residuals: [[Double]]
    /// The regularisation actually applied: lambda * ||S||_F^2 / N.
    public var effectiveLambda: Double

    public init(images: NDArray<Float>, residuals: [[Double]], effectiveLambda: Double) {
        self.images = images
        self.residuals = residuals
        self.effectiveLambda = effectiveLambda
    }
}

/// Regularised Kaczmarz (algebraic reconstruction) as RegularizedLeastSquares.jl runs it for
/// MPIReco: for each row i, tau = s_i . x, alpha = (u_i - tau - sqrt(lambda) v_i) / (|s_i|^2 + lambda),
/// x += alpha conj(s_i), v_i += alpha sqrt(lambda); after each sweep over the rows x is projected
/// to real and non-negative values. lambda is the user's lambda times ||S||_F^2 / N.
public struct Kaczmarz: Sendable {
    public var lambda: Double
    public var iterations: Int
    public var enforceReal: Bool
    public var enforcePositive: Bool
    /// Visit the rows in a new random order each sweep, drawn from this seed; nil: in order.
    public var shuffleSeed: UInt64?
    /// Compute ||S x - u|| after each sweep (one more read of S per sweep).
    public var computeResiduals: Bool
    /// The sweep's inner loop; it must be available on this processor.
    public var kernel: KaczmarzKernel

    public init(lambda: Double = 1e-2, iterations: Int = 1, enforceReal: Bool = true, enforcePositive: Bool = true,
                shuffleSeed: UInt64? = nil, computeResiduals: Bool = true, kernel: KaczmarzKernel = .best) {
        self.lambda = lambda
        self.iterations = iterations
        self.enforceReal = enforceReal
        self.enforcePositive = enforcePositive
        self.shuffleSeed = shuffleSeed
        self.computeResiduals = computeResiduals
        self.kernel = kernel
    }

    /// Reconstructs each row of `u` (Q x M measurement vectors). Frames are split over the cores;
    /// each worker streams every row of S once per sweep and applies it to all of its frames
    /// while the row is in cache.
    public func solve(_ matrix: SystemMatrix, _ u: NDArray<Complex<Float>>) throws -> SolverResult {
        try check(u, rows: matrix.rows.count)
        guard kernel.isAvailable else { throw ReconstructionError.parameter("the \(kernel.rawValue) Kaczmarz kernel does not run on this processor") }
        let frames = u.shape[0]
        let effectiveLambda = lambda * matrix.frobeniusSquared / Double(matrix.columns)
        let workerCount = min(frames, ProcessInfo.processInfo.activeProcessorCount)
        let workers = (0..<workerCount).map { w in
            KaczmarzWorker(matrix: matrix, u: u, frames: (frames * w / workerCount)..<(frames * (w + 1) / workerCount),
                           lambda: Float(effectiveLambda))
        }
        let orders = rowOrders(matrix.rows.count)
        let (real, positive, residuals) = (enforceReal, enforcePositive, computeResiduals)
        parallelFor(workerCount) { w in
            for order in orders {
                workers[w].sweep(order: order, kernel: kernel)
                workers[w].project(real: real, positive: positive)
                if residuals { workers[w].recordResiduals() }
            }
        }
        var images = NDArray<Float>(repeating: 0, shape: [frames, matrix.columns])
        for worker in workers {
            for (i, q) in worker.frames.enumerated() {
                let xr = worker.image(i)
                for n in 0..<matrix.columns { images.storage[q * matrix.columns + n] = xr[n] }
            }
        }
        return SolverResult(images: images, residuals: workers.flatMap(\.residuals), effectiveLambda: effectiveLambda)
    }

    /// The settings and measurement vectors (Q x M, M the matrix's rows) both solvers need.
    func check(_ u: NDArray<Complex<Float>>, rows: Int) throws {
        guard u.rank == 2, u.shape[1] == rows else {
            throw ReconstructionError.mismatch("measurement vectors of shape \(u.shape) for a system matrix of \(rows) rows")
        }
        guard lambda >= 0, iterations >= 1 else { throw ReconstructionError.parameter("Kaczmarz needs lambda >= 0 and at least one iteration") }
    }

    /// Row orders of the sweeps: in order, or shuffled from `shuffleSeed`.
    func rowOrders(_ rows: Int) -> [[Int32]] {
        var random = SeededRandom(seed: shuffleSeed ?? 0)
        let count = Int32(rows)
        return (0..<iterations).map { _ in shuffleSeed == nil ? Array(0..<count) : Array(0..<count).shuffled(using: &random) }
    }
}

/// The state of one worker's frames: x (split complex, padded), v and u per frame, all
/// allocated up front so that the sweep allocates nothing.
private final class KaczmarzWorker: @unchecked Sendable {  // each worker is used by one thread at a time
    let matrix: SystemMatrix
    let frames: Range<Int>
    let lambda: Float
    /// Per frame: xr then xi, `matrix.stride` each.
    var x: [Float]
    /// Per frame and row: v (re, im) and u (re, im).
    var v: [Float]
    let u: [Float]
    let uNorm: [Double]
    var residuals: [[Double]]
    /// The pending dot product per frame (re, im): the sweep's scratch.
    var tau: [Float]

    init(matrix: SystemMatrix, u measured: NDArray<Complex<Float>>, frames: Range<Int>, lambda: Float) {
        self.matrix = matrix
        self.frames = frames
        self.lambda = lambda
        let m = matrix.rows.count
        x = [Float](repeating: 0, count: frames.count * 2 * matrix.stride)
        v = [Float](repeating: 0, count: frames.count * 2 * m)
        var u = [Float](repeating: 0, count: frames.count * 2 * m)
        var norms = [Double](repeating: 0, count: frames.count)
        for (f, q) in frames.enumerated() {
            for i in 0..<m {
                let z = measured.storage[q * m + i]
                u[2 * (f * m + i)] = z.real
                u[2 * (f * m + i) + 1] = z.imaginary
                norms[f] += Double(z.real) * Double(z.real) + Double(z.imaginary) * Double(z.imaginary)
            }
        }
        self.u = u
        uNorm = norms.map { $0.squareRoot() }
        residuals = Array(repeating: [], count: frames.count)
        tau = [Float](repeating: 0, count: 2 * frames.count)
    }

    func sweep(order: [Int32], kernel: KaczmarzKernel) {
        x.withUnsafeMutableBufferPointer { x in
            v.withUnsafeMutableBufferPointer { v in
                tau.withUnsafeMutableBufferPointer { tau in
                    u.withUnsafeBufferPointer { u in
                        matrix.rowEnergy.withUnsafeBufferPointer { energy in
                            order.withUnsafeBufferPointer { order in
                                var args = kaczmarz_sweep_args(
                                    matrix: matrix.row(0), stride: Int64(matrix.stride), rows: Int64(matrix.rows.count),
                                    row_energy: energy.baseAddress, order: order.baseAddress, order_count: Int64(order.count),
                                    lambda: lambda, frames: Int64(frames.count), x: x.baseAddress, v: v.baseAddress,
                                    u: u.baseAddress, tau: tau.baseAddress)
                                kaczmarz_sweep(kernel.c, &args)
                            }
                        }
                    }
                }
            }
        }
    }

    func project(real: Bool, positive: Bool) {
        let stride = matrix.stride
        for f in 0..<frames.count {
            let base = 2 * stride * f
            for n in 0..<stride {
                if real { x[base + stride + n] = 0 }
                if positive, x[base + n] < 0 { x[base + n] = 0 }
            }
        }
    }

    func recordResiduals() {
        let stride = matrix.stride, m = matrix.rows.count
        x.withUnsafeBufferPointer { x in
            for f in 0..<frames.count {
                let xr = x.baseAddress! + 2 * stride * f, xi = xr + stride
                var sum = 0.0
                for i in 0..<m {
                    let sr = matrix.row(i)
                    let (re, im) = PlanarKernels.dot(sr, sr + stride, xr, xi, count: stride)
                    let dr = Double(re) - Double(u[2 * (f * m + i)]), di = Double(im) - Double(u[2 * (f * m + i) + 1])
                    sum += dr * dr + di * di
                }
                residuals[f].append(uNorm[f] > 0 ? sum.squareRoot() / uNorm[f] : 0)
            }
        }
    }

    /// Real parts of frame f's image (the first `matrix.columns` values).
    func image(_ f: Int) -> [Float] {
        let base = 2 * matrix.stride * f
        return Array(x[base..<(base + matrix.columns)])
    }
}
