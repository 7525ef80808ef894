import CBLAS
import Foundation
import MagpieCore

/// The system matrix as a real linear map, A = [Re S; Im S] (2M x N), decomposed once as
/// A = U diag(s) V^T. It gives the Tikhonov solution x = V diag(s / (s^2 + lambda)) U^T b and the
/// data-consistency step of the score sampler, x + V diag(1 / (s^2 + lambda)) (s c - s^2 V^T x)
/// with c = U^T b, each in O(rN) once c is known (r = min(2M, N)). lambda is relative, as for
/// the solvers: it is scaled by ||S||_F^2 / N.
public final class TikhonovSVD: Sendable {
    /// 2M: real parts of the selected rows, then their imaginary parts.
    public let rows: Int
    /// N: voxels.
    public let columns: Int
    /// Singular values, largest first (r of them).
    public let singularValues: [Double]
    /// V^T, r x N, row-major.
    let vt: [Double]
    /// U^T, r x 2M, row-major.
    let ut: [Double]
    /// ||S||_F^2 / N, what a relative lambda is multiplied by.
    public let lambdaScale: Double

    public init(_ matrix: SystemMatrix) throws {
        let m = 2 * matrix.rows.count, n = matrix.columns, r = min(m, n)
        var a = [Double](repeating: 0, count: m * n)
        for i in 0..<matrix.rows.count {
            let re = matrix.row(i), im = re + matrix.stride
            for j in 0..<n {
                a[i * n + j] = Double(re[j])
                a[(matrix.rows.count + i) * n + j] = Double(im[j])
            }
        }
        var s = [Double](repeating: 0, count: r), u = [Double](repeating: 0, count: m * r), vt = [Double](repeating: 0, count: r * n)
        let info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "S")), Int32(m), Int32(n), &a, Int32(n), &s, &u, Int32(r), &vt, Int32(n))
        guard info == 0 else { throw ReconstructionError.parameter("the SVD of the \(m) x \(n) system matrix did not converge (LAPACK dgesdd info \(info))") }
        var ut = [Double](repeating: 0, count: r * m)
        for i in 0..<m { for k in 0..<r { ut[k * m + i] = u[i * r + k] } }
        rows = m
        columns = n
        singularValues = s
        self.vt = vt
        self.ut = ut
        lambdaScale = matrix.frobeniusSquared / Double(n)
    }

    /// A complex measurement vector (M values, the matrix's row order) as the real 2M-vector b.
    public static func stacked(_ u: ArraySlice<Complex<Float>>) -> [Double] {
        u.map { Double($0.real) } + u.map { Double($0.imaginary) }
    }

    /// c = U^T b: all the sampler needs of a measurement.
    public func coefficients(_ b: [Double]) -> [Double] {
        precondition(b.count == rows, "measurement of \(b.count) values for \(rows) rows")
        return multiply(ut, rows: singularValues.count, columns: rows, b)
    }

    /// The Tikhonov-regularised least-squares solution from c = U^T b.
    public func solution(coefficients c: [Double], lambda: Double) -> [Double] {
        let mu = lambda * lambdaScale
        let w = zip(singularValues, c).map { s, c in s * c / (s * s + mu) }
        return multiplyTransposed(vt, rows: singularValues.count, columns: columns, w)
    }

    /// The Tikhonov solution nearest to x: argmin ||A y - b||^2 + mu ||y - x||^2, i.e.
    /// x + V diag(1 / (s^2 + mu)) (s c - s^2 V^T x). lambda 0 projects x onto the solutions of
    /// the least-squares problem (its component in the null space of A is kept).
    public func consistent(_ x: [Double], coefficients c: [Double], lambda: Double) -> [Double] {
        precondition(x.count == columns, "image of \(x.count) voxels for \(columns) columns")
        let mu = lambda * lambdaScale
        let vx = multiply(vt, rows: singularValues.count, columns: columns, x)
        var w = [Double](repeating: 0, count: singularValues.count)
        for k in w.indices {
            let s = singularValues[k]
            w[k] = s * s + mu > 0 ? (s * c[k] - s * s * vx[k]) / (s * s + mu) : 0
        }
        let step = multiplyTransposed(vt, rows: singularValues.count, columns: columns, w)
        return zip(x, step).map(+)
    }

    /// ||A x - b|| / ||b|| from c = U^T b and ||b||: the part of b outside the range of A is
    /// sqrt(||b||^2 - ||c||^2), the rest ||diag(s) V^T x - c||.
    public func relativeResidual(_ x: [Double], coefficients c: [Double], norm b: Double) -> Double {
        let vx = multiply(vt, rows: singularValues.count, columns: columns, x)
        var inRange = 0.0, captured = 0.0
        for k in c.indices {
            let d = singularValues[k] * vx[k] - c[k]
            inRange += d * d
            captured += c[k] * c[k]
        }
        return (inRange + max(b * b - captured, 0)).squareRoot() / b
    }

    private func multiply(_ a: [Double], rows: Int, columns: Int, _ x: [Double]) -> [Double] {
        var y = [Double](repeating: 0, count: rows)
        cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(rows), Int32(columns), 1, a, Int32(columns), x, 1, 0, &y, 1)
        return y
    }

    private func multiplyTransposed(_ a: [Double], rows: Int, columns: Int, _ x: [Double]) -> [Double] {
        var y = [Double](repeating: 0, count: columns)
        cblas_dgemv(CblasRowMajor, CblasTrans, Int32(rows), Int32(columns), 1, a, Int32(columns), x, 1, 0, &y, 1)
        return y
    }
}
