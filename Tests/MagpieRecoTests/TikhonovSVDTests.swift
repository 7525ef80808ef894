import Foundation
import MagpieCore
import MagpieReco
import Testing

@Suite struct TikhonovSVDTests {
    static let svd = try! TikhonovSVD(Calibration2D.matrix)

    /// b = A x for a phantom, stacked real.
    static func measurement() throws -> (x: [Double], b: [Double]) {
        let phantom = try Calibration2D.scan(.shapes, snr: 60, frames: 1).phantom.storage
        let b = TikhonovSVD.stacked(Calibration2D.matrix.apply(phantom.map(Float.init))[...])
        return (phantom, b)
    }

    static func residual(_ x: [Double], _ b: [Double]) -> Double {
        let ax = TikhonovSVD.stacked(Calibration2D.matrix.apply(x.map(Float.init))[...])
        return (zip(ax, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / b.reduce(0) { $0 + $1 * $1 }).squareRoot()
    }

    @Test func theDecompositionIsOrderedAndScalesLambdaLikeTheSolvers() {
        let s = Self.svd.singularValues
        #expect(s.count == min(2 * Calibration2D.matrix.rows.count, Calibration2D.matrix.columns))
        #expect(zip(s, s.dropFirst()).allSatisfy { $0 >= $1 })
        // ||S||_F^2 is the sum of the squared singular values.
        let frobenius = s.reduce(0) { $0 + $1 * $1 }
        #expect(abs(frobenius / Double(Calibration2D.matrix.columns) - Self.svd.lambdaScale) <= 1e-3 * Self.svd.lambdaScale)
    }

    @Test func dataConsistencyWithoutRegularisationFitsTheMeasurement() throws {
        let (_, b) = try Self.measurement()
        let c = Self.svd.coefficients(b)
        let norm = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let start = [Double](repeating: 0.5, count: Self.svd.columns)
        let x = Self.svd.consistent(start, coefficients: c, lambda: 0)
        // Float32 matrix products limit the direct check; the SVD's own figure is far tighter.
        #expect(Self.residual(x, b) < 1e-4)
        #expect(abs(Self.svd.relativeResidual(x, coefficients: c, norm: norm) - Self.residual(x, b)) < 1e-4)
        // Strong regularisation keeps the start: the step shrinks as lambda grows.
        let kept = Self.svd.consistent(start, coefficients: c, lambda: 1e6)
        #expect(zip(kept, start).map { abs($0 - $1) }.max()! < 1e-3)
    }

    @Test func theTikhonovSolutionTradesResidualForLambda() throws {
        let (x, b) = try Self.measurement()
        let c = Self.svd.coefficients(b)
        let residuals = [1e-6, 1e-3, 1e-1].map { Self.residual(Self.svd.solution(coefficients: c, lambda: $0), b) }
        #expect(residuals[0] < 1e-3)
        #expect(residuals[0] < residuals[1] && residuals[1] < residuals[2])
        let recovered = Self.svd.solution(coefficients: c, lambda: 1e-6)
        #expect(ImageMetrics.nrmse(recovered, reference: x) < 0.2)
    }
}
