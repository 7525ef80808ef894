import Testing
import MagpieCore
@testable import MagpiePhysics

@Suite struct SystemMatrixSimulatorTests {
    static let scanner = ScannerPreset.openmpi2d.scanner

    static func simulator(_ noise: NoiseModel) throws -> SystemMatrixSimulator {
        try SystemMatrixSimulator(scanner: scanner, grid: [8, 8, 1], noise: noise, sampleConcentration: 0.1)
    }

    @Test func storedFrequenciesAreTheFullCalibrationsStrongestBins() throws {
        let stored = StoredFrequencies(count: 40, lowest: 80e3)
        let noise = NoiseModel(snr: 30, sir: 20)
        let full = try Self.simulator(noise).simulate(backgroundFrames: 3, seed: 7)
        let selected = try Self.simulator(noise).simulate(backgroundFrames: 3, seed: 7, storing: stored)
        let bins = try #require(selected.bins)
        #expect(full.bins == nil)
        #expect(bins.count == 40 && bins == bins.sorted() && Set(bins).count == 40)
        #expect(bins.allSatisfy { Double($0) / Self.scanner.period >= 80e3 })

        // Every stored value is the full calibration's at that bin: same noise, same frames.
        let (channels, frequencies, frames) = (full.data.shape[1], full.data.shape[2], full.data.shape[3])
        #expect(selected.data.shape == [1, channels, 40, frames])
        for c in 0..<channels {
            for (j, k) in bins.enumerated() {
                for n in 0..<frames {
                    #expect(selected.data.storage[(c * 40 + j) * frames + n] == full.data.storage[(c * frequencies + k) * frames + n])
                }
            }
        }

        // No bin left out (at or above 80 kHz) is stronger than a stored one, by the noise-free power.
        let clean = try Self.simulator(NoiseModel(backgroundLevel: 0)).simulate(backgroundFrames: 1, seed: 7)
        let positions = clean.positions.shape[0]
        func power(_ k: Int) -> Double {
            (0..<channels).reduce(0) { sum, c in
                (0..<positions).reduce(sum) { sum, n in
                    let z = clean.data.storage[(c * frequencies + k) * (positions + 1) + n]
                    return sum + Double(z.real * z.real + z.imaginary * z.imaginary)
                }
            }
        }
        let weakestStored = bins.map(power).min()!
        let left = (1..<frequencies).filter { Double($0) / Self.scanner.period >= 80e3 && !bins.contains($0) }
        #expect(left.map(power).max()! <= weakestStored * (1 + 1e-4))
    }

    @Test func storingMoreFrequenciesThanThereAreKeepsEveryCandidate() throws {
        let sm = try Self.simulator(NoiseModel(snr: 30)).simulate(backgroundFrames: 1, seed: 1,
                                                                   storing: StoredFrequencies(count: 1_000_000, lowest: 0))
        #expect(sm.bins == Array(1...(Self.scanner.samplesPerPeriod / 2)))
    }
}
