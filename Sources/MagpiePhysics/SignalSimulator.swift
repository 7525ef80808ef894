import Foundation
import MagpieCore

/// Receive-coil voltages simulated in the time domain: Langevin particles in the superposed
/// selection and drive fields, u_l(t) = -p_l d/dt (sum over voxels of n_p m_mean(B(r_p, t)))_l.
///
/// The time derivative is analytic. With B = B_D(t) + G r, xi = beta |B| and B^ = B / |B|:
///   d/dt [m L(xi) B^] = m [ (beta L'(xi) - beta L(xi)/xi) (B^ . dB/dt) B^ + beta L(xi)/xi dB/dt ],
/// the tangential and normal envelopes of the x-space PSF, both beta/3 at the field-free point.
public struct SignalSimulator: Sendable {
    public let scanner: MPIScanner

    public init(scanner: MPIScanner) throws {
        try scanner.validate()
        self.scanner = scanner
    }

    /// Particles in one voxel of the scanner's grid per mol Fe / L of tracer.
    public var particlesPerVoxelPerMolar: Double {
        particles(inVolume: scanner.voxelVolume)
    }

    public func particles(inVolume volume: Double) -> Double {
        1000 * volume / scanner.particle.ironMolesPerParticle   // 1 mol/L = 1000 mol/m^3
    }

    /// Noise-free voltages of one drive cycle, shape C x V, for point sources: each source is a
    /// position (metres) and a particle count.
    public func voltages(sources: [(position: [Double], particles: Double)]) -> NDArray<Double> {
        let s = scanner
        let samples = s.samplesPerPeriod, channels = s.receive.count
        let beta = s.particle.beta, moment = s.particle.magneticMoment
        // Selection field of each source, and its weight, in flat arrays for the inner loop.
        let count = sources.count
        let bx = sources.map { s.gradient[0] * $0.position[0] }
        let by = sources.map { s.gradient[1] * $0.position[1] }
        let bz = sources.map { s.gradient[2] * $0.position[2] }
        let weight = sources.map { $0.particles * moment }
        // Time samples are independent: chunks of them run on all cores. Each sample gives
        // d/dt of the total moment vector.
        let rates = parallelFill(count: samples, repeating: SIMD3<Double>.zero) { range, out in
            for v in range {
                let drive = s.driveField(at: s.time(ofSample: v))
                let (field, rate) = (SIMD3(drive.field[0], drive.field[1], drive.field[2]), SIMD3(drive.rate[0], drive.rate[1], drive.rate[2]))
                var dm = SIMD3<Double>.zero
                for i in 0..<count {
                    dm += weight[i] * Self.momentRate(field: field + SIMD3(bx[i], by[i], bz[i]), rate: rate, beta: beta)
                }
                out[v] = dm
            }
        }
        var output = [Double](repeating: 0, count: channels * samples)
        for (c, coil) in s.receive.enumerated() {
            for v in 0..<samples { output[c * samples + v] = -coil.sensitivity * rates[v][coil.axis] }
        }
        var result = NDArray(shape: [channels, samples], storage: output)
        if s.receiveFilter { removeDriveFrequencies(&result) }
        return result
    }

    /// d/dt of the unit-moment mean magnetisation direction m_mean / m at total field `field` changing at `rate`.
    @inline(__always) static func momentRate(field b: SIMD3<Double>, rate: SIMD3<Double>, beta: Double) -> SIMD3<Double> {
        let magnitude = (b * b).sum().squareRoot()
        let xi = beta * magnitude
        let normal = beta * Langevin.valueOverArgument(xi)
        guard magnitude > 0 else { return normal * rate }
        let tangential = beta * Langevin.derivative(xi)
        let along = (tangential - normal) * (b * rate).sum() / (magnitude * magnitude)
        return along * b + normal * rate
    }

    /// Noise-free voltages of one drive cycle, C x V, for a concentration image in mol Fe / L on
    /// the scanner's grid (x fastest).
    public func voltages(concentration: NDArray<Double>) throws -> NDArray<Double> {
        guard concentration.count == scanner.imageSize.reduce(1, *) else {
            throw ScannerError(scanner: scanner.name,
                               message: "concentration image has \(concentration.count) pixels, the grid \(scanner.imageSize) has \(scanner.imageSize.reduce(1, *))")
        }
        let perVoxel = particlesPerVoxelPerMolar
        let centers = scanner.pixelCenters()
        let sources = concentration.storage.enumerated().compactMap { index, c in
            c != 0 ? (position: [centers[index, 0], centers[index, 1], centers[index, 2]], particles: c * perVoxel) : nil
        }
        return voltages(sources: sources)
    }

    /// The ideal band-stop of the receive chain: removes the DFT bin of each drive frequency
    /// (exact, since a cycle holds a whole number of drive periods).
    public func removeDriveFrequencies(_ signal: inout NDArray<Double>) {
        let samples = scanner.samplesPerPeriod
        let bins = Set(scanner.activeDrive.map { samples / $0.divider })
        for c in 0..<signal.shape[0] {
            for k in bins {
                let bin = dftBin(signal.storage[(c * samples)..<((c + 1) * samples)], k)
                let (re, im) = (bin.real, bin.imaginary)
                let scale = (k == 0 || 2 * k == samples) ? 1.0 : 2.0
                for v in 0..<samples {
                    let angle = 2 * Double.pi * Double(k * v % samples) / Double(samples)
                    signal.storage[c * samples + v] -= scale * (re * cos(angle) - im * sin(angle)) / Double(samples)
                }
            }
        }
    }
}
