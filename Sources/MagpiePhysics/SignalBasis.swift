import CBLAS
import Foundation
import MagpieCore

/// The noise-free voltages of every grid pixel at unit concentration, kept in memory so that the
/// signals of many phantoms are one matrix product (the time-domain system matrix). A deblur
/// dataset record (two 120 x 120 scans, their reconstructions and a deconvolution) went from 0.75 s
/// to 0.19 s this way (with the rest of a batch's records run on both cores); the price is memory: pixels x channels x samples floats (1.2 GB for deblur-paper).
public final class SignalBasis: Sendable {
    public let simulator: SignalSimulator
    /// Row p: channel-major voltages of pixel p at 1 mol Fe / L, before the receive filter.
    private let rows: [Float]
    private let pixels: Int, length: Int

    public init(simulator: SignalSimulator) {
        self.simulator = simulator
        let s = simulator.scanner
        let samples = s.samplesPerPeriod, channels = s.receive.count
        pixels = s.imageSize.reduce(1, *)
        length = channels * samples
        let beta = s.particle.beta
        let centers = s.pixelCenters()
        let drive = (0..<samples).map { v in
            let d = s.driveField(at: s.time(ofSample: v))
            return (field: SIMD3(d.field[0], d.field[1], d.field[2]), rate: SIMD3(d.rate[0], d.rate[1], d.rate[2]))
        }
        let gradient = SIMD3(s.gradient[0], s.gradient[1], s.gradient[2])
        let weight = simulator.particlesPerVoxelPerMolar * s.particle.magneticMoment
        let receive = s.receive
        let (pixels, length) = (pixels, length)
        rows = parallelFill(count: pixels * length, repeating: Float(0), chunks: pixels) { range, out in
            for p in (range.lowerBound / length)..<(range.upperBound / length) {
                let offset = gradient * SIMD3(centers[p, 0], centers[p, 1], centers[p, 2])
                for v in 0..<samples {
                    let rate = weight * SignalSimulator.momentRate(field: drive[v].field + offset, rate: drive[v].rate, beta: beta)
                    for (c, coil) in receive.enumerated() {
                        out[p * length + c * samples + v] = Float(-coil.sensitivity * rate[coil.axis])
                    }
                }
            }
        }
    }

    /// Noise-free voltages (C x V, receive filter applied) of each concentration image (mol Fe / L
    /// on the scanner's grid, x fastest), as `SignalSimulator.voltages(concentration:)` gives them
    /// to float precision.
    public func voltages(concentrations: [NDArray<Double>]) throws -> [NDArray<Double>] {
        if let wrong = concentrations.first(where: { $0.count != pixels }) {
            throw ScannerError(scanner: simulator.scanner.name,
                               message: "concentration image has \(wrong.count) pixels, the grid \(simulator.scanner.imageSize) has \(pixels)")
        }
        let batch = concentrations.count
        guard batch > 0 else { return [] }
        let weights = concentrations.flatMap { $0.storage.map(Float.init) }
        var product = [Float](repeating: 0, count: batch * length)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(batch), Int32(length), Int32(pixels), 1,
                    weights, Int32(pixels), rows, Int32(length), 0, &product, Int32(length))
        let shape = [simulator.scanner.receive.count, simulator.scanner.samplesPerPeriod]
        return (0..<batch).map { b in
            var signal = NDArray(shape: shape, storage: product[(b * length)..<((b + 1) * length)].map(Double.init))
            if simulator.scanner.receiveFilter { simulator.removeDriveFrequencies(&signal) }
            return signal
        }
    }
}
