import Foundation
import MagpieCore

/// Turns noise-free periods into recorded frames: adds the drifting background, Gaussian noise
/// and harmonic interference of a `NoiseModel`, with levels set once from a reference signal
/// (the particle signal of the scan), so that every frame of a scan shares them.
struct ReceiveChain: Sendable {
    let channels: Int
    let samples: Int
    let sigmas: [Double]
    /// Per channel: the DFT bins of the interfering harmonics and their gamma_n.
    let interference: [[(bin: Int, gamma: Double)]]
    let background: NDArray<Double>
    let drift: Double
    let root: SeededRandom

    init(scanner: MPIScanner, noise: NoiseModel, reference signal: NDArray<Double>, seed: UInt64) {
        channels = signal.shape[0]
        samples = signal.shape[1]
        let (channels, samples) = (self.channels, self.samples)
        func slice(_ c: Int) -> ArraySlice<Double> { signal.storage[(c * samples)..<((c + 1) * samples)] }
        sigmas = (0..<channels).map { c in noise.snr.map { NoiseModel.sigma(rms: NoiseModel.rms(slice(c)), snr: $0) } ?? 0 }
        interference = (0..<channels).map { c in
            guard let sir = noise.sir else { return [] }
            let axis = scanner.receive[c].axis
            let fundamental = samples / (scanner.activeDrive.first { $0.axis == axis } ?? scanner.activeDrive[0]).divider
            return NoiseModel.interferenceHarmonics.map { $0 * fundamental }.filter { $0 < samples / 2 }.map { bin in
                (bin, NoiseModel.amplitude(slice(c), bin: bin) / pow(10, sir / 20))
            }
        }
        root = SeededRandom(seed: seed)
        drift = noise.backgroundDrift
        // The empty scanner: feed-through at the first three harmonics of each drive frequency
        // with fixed random phases, plus an offset, at backgroundLevel x the signal's RMS.
        var random = root.derived(0xB6)
        var background = NDArray<Double>(repeating: 0, shape: [channels, samples])
        if noise.backgroundLevel > 0 {
            for c in 0..<channels {
                let level = noise.backgroundLevel * NoiseModel.rms(slice(c))
                let offset = level * random.uniform(-0.5...0.5)
                let tones = scanner.activeDrive.flatMap { drive in (1...3).map { h in (bin: h * samples / drive.divider, weight: 1 / Double(h)) } }
                let norm = (tones.reduce(0) { $0 + $1.weight * $1.weight } / 2).squareRoot()
                let phases = tones.map { _ in random.uniform(0...(2 * Double.pi)) }
                for v in 0..<samples {
                    background[c, v] = offset + zip(tones, phases).reduce(0) { sum, tone in
                        sum + level / norm * tone.0.weight * sin(2 * Double.pi * Double(tone.0.bin * v % samples) / Double(samples) + tone.1)
                    }
                }
            }
        }
        self.background = background
    }

    /// Frame `index` of `total`: `signal` (C x V, nil for a background frame) plus the background
    /// at this point of its drift, noise and interference; C x V values written to `out` from `offset`.
    func record(_ signal: NDArray<Double>?, frame index: Int, of total: Int, into out: DisjointWrites<Float>, at offset: Int) {
        var random = root.derived(UInt64(index) + 1)
        let drift = 1 + self.drift * (total > 1 ? Double(index) / Double(total - 1) : 0)
        var period = [Double](repeating: 0, count: samples)
        for c in 0..<channels {
            for v in 0..<samples {
                period[v] = (signal?[c, v] ?? 0) + drift * background[c, v] + sigmas[c] * random.normal()
            }
            for (bin, gamma) in interference[c] {
                let amplitude = random.uniform(0...(2 * gamma)), phase = random.uniform(0...(2 * Double.pi))
                for v in 0..<samples {
                    period[v] += amplitude * cos(2 * Double.pi * Double(bin * v % samples) / Double(samples) + phase)
                }
            }
            for v in 0..<samples { out[offset + c * samples + v] = Float(period[v]) }
        }
    }
}
