import CBLAS
import Foundation
import MagpieCore

/// Conjugate gradients on the normal equations with Tikhonov regularisation, on a precomputed
/// Gram matrix. Images are real, so the normal equations are those of a real unknown:
/// (Re(S^H S) + lambda I) x = Re(S^H u), lambda normalised as for Kaczmarz. The Gram matrix
/// costs one pass of O(M N^2) (BLAS syrk, both cores); each iteration is then one N x N product
/// for the whole batch of frames (BLAS symm). Negative values are set to zero at the end.
public struct CGNR: Sendable {
    public var lambda: Double
    public var iterations: Int
    public var enforcePositive: Bool
    /// Stop a frame early once ||S x - u|| / ||u|| changes by less than this between iterations (0: never).
    public var tolerance: Double

    public init(lambda: Double = 2e-2, iterations: Int = 100, enforcePositive: Bool = true, tolerance: Double = 0) {
        self.lambda = lambda
        self.iterations = iterations
        self.enforcePositive = enforcePositive
        self.tolerance = tolerance
    }

    /// Re(S^H S), N x N row-major (both triangles).
    public final class Gram: Sendable {
        public let size: Int
        let values: [Float]

        public init(_ matrix: SystemMatrix) {
            let n = matrix.columns, rows = 2 * matrix.rows.count
            var values = [Float](repeating: 0, count: n * n)
            // The split-complex rows are a (2M) x stride real matrix R with Re(S^H S) = R^T R.
            values.withUnsafeMutableBufferPointer { g in
                cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(n), Int32(rows), 1,
                            matrix.storage, Int32(matrix.stride), 0, g.baseAddress, Int32(n))
                for i in 0..<n { for j in 0..<i { g[i * n + j] = g[j * n + i] } }
            }
            size = n
            self.values = values
        }
    }

    public func solve(_ matrix: SystemMatrix, _ u: NDArray<Complex<Float>>, gram: Gram? = nil) throws -> SolverResult {
        guard u.rank == 2, u.shape[1] == matrix.rows.count else {
            throw ReconstructionError.mismatch("measurement vectors of shape \(u.shape) for a system matrix of \(matrix.rows.count) rows")
        }
        guard lambda >= 0, iterations >= 1 else { throw ReconstructionError.parameter("CGNR needs lambda >= 0 and at least one iteration") }
        let gram = gram ?? Gram(matrix)
        let n = matrix.columns, m = matrix.rows.count, q = u.shape[0]
        let effectiveLambda = lambda * matrix.frobeniusSquared / Double(n)
        // b = Re(S^H u) = R^T w, w the measurement as 2M x Q real (re, im interleaved by row).
        var w = [Float](repeating: 0, count: 2 * m * q)
        var uNormSquared = [Double](repeating: 0, count: q)
        for f in 0..<q {
            for i in 0..<m {
                let z = u.storage[f * m + i]
                w[(2 * i) * q + f] = z.real
                w[(2 * i + 1) * q + f] = z.imaginary
                uNormSquared[f] += Double(z.real) * Double(z.real) + Double(z.imaginary) * Double(z.imaginary)
            }
        }
        // Row-major N x Q blocks, frames fastest: b, x, r (residual of the normal equations), p, and g p.
        var b = [Float](repeating: 0, count: n * q)
        w.withUnsafeBufferPointer { w in
            b.withUnsafeMutableBufferPointer { b in
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(n), Int32(q), Int32(2 * m), 1,
                            matrix.storage, Int32(matrix.stride), w.baseAddress, Int32(q), 0, b.baseAddress, Int32(q))
            }
        }
        var x = [Float](repeating: 0, count: n * q), r = b, p = b, gp = [Float](repeating: 0, count: n * q)
        var rr = columnDots(r, r, q)
        var active = (0..<q).map { _ in true }
        var residuals = [[Double]](repeating: [], count: q)
        let lambdaF = Float(effectiveLambda)
        for _ in 0..<iterations where active.contains(true) {
            gram.values.withUnsafeBufferPointer { g in
                p.withUnsafeBufferPointer { p in
                    gp.withUnsafeMutableBufferPointer { gp in
                        cblas_ssymm(CblasRowMajor, CblasLeft, CblasUpper, Int32(n), Int32(q), 1, g.baseAddress, Int32(n),
                                    p.baseAddress, Int32(q), 0, gp.baseAddress, Int32(q))
                    }
                }
            }
            for i in 0..<(n * q) { gp[i] += lambdaF * p[i] }
            let pAp = columnDots(p, gp, q)
            var alpha = [Float](repeating: 0, count: q), beta = [Float](repeating: 0, count: q)
            for f in 0..<q where active[f] && pAp[f] > 0 { alpha[f] = Float(rr[f] / pAp[f]) }
            for j in 0..<n {
                for f in 0..<q {
                    x[j * q + f] += alpha[f] * p[j * q + f]
                    r[j * q + f] -= alpha[f] * gp[j * q + f]
                }
            }
            let rrNew = columnDots(r, r, q)
            // ||S x - u||^2 = x.(G x) - 2 x.b + ||u||^2, with G x = b - r - lambda x.
            let xb = columnDots(x, b, q), xr = columnDots(x, r, q), xx = columnDots(x, x, q)
            for f in 0..<q where active[f] {
                let squared = max(0, uNormSquared[f] - xb[f] - xr[f] - effectiveLambda * xx[f])
                let residual = uNormSquared[f] > 0 ? (squared / uNormSquared[f]).squareRoot() : 0
                if let previous = residuals[f].last, abs(previous - residual) < tolerance { active[f] = false }
                residuals[f].append(residual)
                beta[f] = rr[f] > 0 ? Float(rrNew[f] / rr[f]) : 0
                if rrNew[f] == 0 { active[f] = false }
            }
            for j in 0..<n {
                for f in 0..<q { p[j * q + f] = r[j * q + f] + beta[f] * p[j * q + f] }
            }
            rr = rrNew
        }
        var images = NDArray<Float>(repeating: 0, shape: [q, n])
        for f in 0..<q {
            for j in 0..<n {
                let value = x[j * q + f]
                images.storage[f * n + j] = enforcePositive ? max(value, 0) : value
            }
        }
        return SolverResult(images: images, residuals: residuals, effectiveLambda: effectiveLambda)
    }

    /// Per column f of two N x Q blocks, sum_j a[j, f] b[j, f].
    private func columnDots(_ a: [Float], _ b: [Float], _ q: Int) -> [Double] {
        var sums = [Double](repeating: 0, count: q)
        for i in 0..<a.count { sums[i % q] += Double(a[i]) * Double(b[i]) }
        return sums
    }
}
