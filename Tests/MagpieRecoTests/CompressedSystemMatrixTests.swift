import Foundation
import MagpieCore
import MagpieReco
import Testing

@Suite struct CompressedSystemMatrixTests {
    @Test func gridDCTIsOrthonormalAndItsOwnInverse() {
        let dct = GridDCT(grid: [5, 3, 4])
        var random = SeededRandom(seed: 2)
        let values = (0..<60).map { _ in Float(random.normal()) }
        var once = values
        dct.apply(&once)
        var twice = once
        dct.apply(&twice)
        let norm = values.reduce(0) { $0 + $1 * $1 }, transformedNorm = once.reduce(0) { $0 + $1 * $1 }
        #expect(abs(transformedNorm - norm) <= 1e-4 * norm)
        #expect(zip(twice, values).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(zip(once, values).contains { abs($0 - $1) > 0.1 })
        // A grid of one position: the identity.
        var single: [Float] = [3]
        GridDCT(grid: [1, 1, 1]).apply(&single)
        #expect(abs(single[0] - 3) < 1e-6)
    }

    /// At keep = 1 nothing is dropped, and the transform is orthonormal: the same images as the
    /// dense solver, with the positive projection after every sweep, for every frame of a batch.
    @Test func keepingEveryCoefficientMatchesTheDenseSolver() throws {
        let u = try Calibration2D.scan(.shapes, snr: 30, frames: 100).u
        let batch = NDArray(shape: [3, u.shape[1]], storage: u.storage + u.storage.map { $0 * Complex(0.5, 0) } + u.storage)
        let compressed = try CompressedSystemMatrix(Calibration2D.matrix, grid: [32, 32, 1], keep: 1)
        #expect(compressed.kept == 1024)
        #expect(abs(compressed.frobeniusSquared - Calibration2D.matrix.frobeniusSquared) <= 1e-4 * Calibration2D.matrix.frobeniusSquared)
        let solver = Kaczmarz(iterations: 3)
        let dense = try solver.solve(Calibration2D.matrix, batch), sparse = try solver.solve(compressed, batch)
        let scale = dense.images.storage.map(abs).max()!
        let difference = zip(dense.images.storage, sparse.images.storage).map { abs($0 - $1) }.max()!
        #expect(difference <= 1e-3 * scale, "max difference \(difference) of \(scale)")
        for (a, b) in zip(dense.residuals, sparse.residuals) {
            #expect(a.count == 3 && b.count == 3)
            #expect(abs(a.last! - b.last!) <= 1e-3, "residuals \(a) and \(b)")
        }
    }

    /// The SM's rows are smooth over the grid, so a tenth of the DCT coefficients carries
    /// nearly the whole image; a hundredth less. The figures for 3D are in docs/BENCHMARKS.md.
    @Test func compressedReconstructionsStayCloseToTheDenseOne() throws {
        let (phantom, u) = try Calibration2D.scan(.shapes, snr: 30, frames: 100)
        let dense = try Kaczmarz().solve(Calibration2D.matrix, u).images.storage
        func relativeError(_ image: [Float]) -> Double {
            let num = zip(image, dense).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
            return (num / dense.reduce(0.0) { $0 + Double($1 * $1) }).squareRoot()
        }
        let errors = try [0.3, 0.1, 0.03].map { keep in
            relativeError(try Kaczmarz().solve(try CompressedSystemMatrix(Calibration2D.matrix, grid: [32, 32, 1], keep: keep), u).images.storage)
        }
        #expect(errors[0] < 0.15 && errors[1] < 0.3, "nRMSE against dense at keep 0.3, 0.1, 0.03: \(errors)")
        #expect(errors[0] <= errors[1] && errors[1] <= errors[2], "\(errors)")
        let ssim = Calibration2D.ssim(try Kaczmarz().solve(try CompressedSystemMatrix(Calibration2D.matrix, grid: [32, 32, 1], keep: 0.1), u).images.storage[...], phantom)
        #expect(ssim > 0.7, "SSIM at keep 0.1: \(ssim)")
    }

    @Test func badSettingsAreRefused() {
        #expect(throws: ReconstructionError.self) { try CompressedSystemMatrix(Calibration2D.matrix, grid: [32, 32, 1], keep: 0) }
        #expect(throws: ReconstructionError.self) { try CompressedSystemMatrix(Calibration2D.matrix, grid: [32, 32, 1], keep: 1.5) }
        #expect(throws: ReconstructionError.self) { try CompressedSystemMatrix(Calibration2D.matrix, grid: [16, 32, 1], keep: 0.1) }
        #expect(CompressedSystemMatrix.kept(fraction: 1e-9, of: 100) == 1 && CompressedSystemMatrix.kept(fraction: 0.015, of: 1000) == 15)
    }
}
