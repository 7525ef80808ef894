import Foundation
import MagpieCore
import MagpieNeural
import MagpiePhysics
import MagpieReco
import Testing

/// The committed score prior on a simulated openmpi-2d calibration of 19 x 19 voxels (the grid it
/// was trained for), frequencies with SNR >= 5 as the sampler uses them.
enum Score19 {
    static let scanner: MPIScanner = {
        var scanner = ScannerPreset.openmpi2d.scanner
        scanner.imageSize = [19, 19, 1]
        return scanner
    }()

    static let matrix: SystemMatrix = {
        let simulated = try! SystemMatrixSimulator(scanner: scanner, grid: [19, 19, 1], noise: NoiseModel(snr: 40)).simulate(backgroundFrames: 10, seed: 3)
        let recorded = try! RecordedSystemMatrix(spectra: simulated.data.reshaped(Array(simulated.data.shape.dropFirst())),
                                                 samplesPerPeriod: scanner.samplesPerPeriod, samplingRate: scanner.samplingRate,
                                                 isBackgroundFrame: simulated.isBackgroundFrame, grid: [19, 19, 1])
        return try! SystemMatrix(recorded, selection: FrequencySelection(snrThreshold: 5))
    }()

    nonisolated(unsafe) static let sampler: ScoreSampler = {  // the suite runs serialized
        let manifest = try! ModelManifest.load(committedManifest)
        let entry = manifest.models.first { $0.kind == ScoreSampler.kind }!
        return try! ScoreSampler(model: LearnedModel(entry: entry, manifestPath: committedManifest, kind: ScoreSampler.kind))
    }()

    /// Noise-free measurement vectors of tumour phantoms (Q x M) and the phantoms.
    static func measurements(seeds: [UInt64]) throws -> (u: NDArray<Complex<Float>>, phantoms: [[Double]]) {
        let phantoms = try seeds.map { try PhantomGenerator(scanner: scanner).render(.tumor, seed: $0).storage.map { $0 * 0.1 } }
        let u = phantoms.flatMap { matrix.apply($0.map(Float.init)) }
        return (NDArray(shape: [seeds.count, matrix.rows.count], storage: u), phantoms)
    }
}

@Suite(.serialized) struct ScoreSamplerTests {
    @Test func theOutputIsConsistentWithTheSignalsAndPositive() throws {
        // lambda 1e-4: nearly exact data consistency (measured ~0.1 % residual); the final step projects onto it, then clips negatives.
        let reconstruction = try ScoreReconstruction(matrix: Score19.matrix, grid: [19, 19, 1], sampler: Score19.sampler,
                                                     parameters: .init(steps: 20, lambda: 1e-4, seed: 1))
        let (u, phantoms) = try Score19.measurements(seeds: [7, 8])
        let images = try reconstruction.reconstruct(u)
        let m = Score19.matrix.rows.count, n = Score19.matrix.columns
        #expect(images.shape == [2, n])
        #expect(images.storage.allSatisfy { $0 >= 0 })
        for i in 0..<2 {
            let x = images.storage[(i * n)..<((i + 1) * n)].map(Double.init)
            let residual = reconstruction.residual(x, u.storage[(i * m)..<((i + 1) * m)])
            #expect(residual < 0.005, "relative residual \(residual) of image \(i)")
            #expect(ImageMetrics.nrmse(x, reference: phantoms[i]) < 0.5)
        }
    }

    @Test func theSamplerIsDeterministicForASeedAndIndependentOfItsBatch() throws {
        let (u, _) = try Score19.measurements(seeds: [11, 12])
        func run(_ u: NDArray<Complex<Float>>, seed: UInt64) throws -> [Float] {
            try ScoreReconstruction(matrix: Score19.matrix, grid: [19, 19, 1], sampler: Score19.sampler,
                                    parameters: .init(steps: 10, seed: seed)).reconstruct(u).storage
        }
        let first = try run(u, seed: 5), again = try run(u, seed: 5), other = try run(u, seed: 6)
        #expect(first == again)
        #expect(first != other)
        let alone = try run(NDArray(shape: [1, u.shape[1]], storage: Array(u.storage.prefix(u.shape[1]))), seed: 5)
        let scale = first.map(abs).max()!
        #expect(zip(alone, first).map { abs($0 - $1) }.max()! <= 1e-3 * scale)
    }

    @Test func badSettingsAndGridsAreRefusedWithTheReason() throws {
        func refusal(_ body: () throws -> Void) -> String {
            do { try body() } catch { return "\(error)" }
            return "accepted"
        }
        #expect(refusal { _ = try ScoreReconstruction(matrix: Score19.matrix, grid: [19, 19, 1], sampler: Score19.sampler, parameters: .init(steps: 0)) }
            .contains("at least one step"))
        #expect(refusal { _ = try ScoreReconstruction(matrix: Score19.matrix, grid: [19, 19, 1], sampler: Score19.sampler, parameters: .init(eta: 2)) }
            .contains("eta"))
        #expect(refusal { _ = try ScoreReconstruction(matrix: Score19.matrix, grid: [19, 1, 19], sampler: Score19.sampler) }.contains("2D"))
        var entry = Score19.sampler.model.entry
        entry.training = .object([:])
        #expect(refusal { _ = try ScoreSampler(model: LearnedModel(entry: entry, manifestPath: committedManifest, kind: ScoreSampler.kind)) }
            .contains("does not record a linear epsilon diffusion"))
        entry = Score19.sampler.model.entry
        entry.input.shape = [-1, 1, 20, 20]
        #expect(refusal { _ = try ScoreSampler(model: LearnedModel(entry: entry, manifestPath: committedManifest, kind: ScoreSampler.kind)) }
            .contains("takes [any, 2, height, width]"))
        let reconstruction = try ScoreReconstruction(matrix: Score19.matrix, grid: [19, 19, 1], sampler: Score19.sampler)
        #expect(refusal { _ = try reconstruction.reconstruct(NDArray(shape: [1, 3], storage: [Complex<Float>](repeating: .zero, count: 3))) }
            .contains("shape [1, 3]"))
    }
}
