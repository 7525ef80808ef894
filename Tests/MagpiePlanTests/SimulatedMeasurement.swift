import MagpieCore
import MagpieMDF
import MagpiePhysics

extension MDFFile {
    /// A small measurement as `magpie simulate measurement` writes it (30 dB), half its
    /// background frames before the foreground and half after. The default: openmpi-1d,
    /// resolution phantom, 8 foreground frames between 2 + 2 background frames.
    static func simulatedMeasurement(_ preset: ScannerPreset = .openmpi1d, phantom: PhantomKind = .resolution,
                                     foreground: Int = 8, background: Int = 4, seed: UInt64 = 1) -> MDFFile {
        let scanner = preset.scanner
        let image = try! PhantomGenerator.concentration(phantom, for: scanner, seed: seed, peak: 0.1)
        let scan = try! MeasurementSimulator(scanner: scanner, noise: NoiseModel(snr: 30)).scan(concentration: image, foregroundFrames: foreground,
                                                                                               backgroundFrames: background, seed: seed)
        var file = MDFFile.simulated(scanner: scanner, frames: foreground + background, experiment: "plan test", description: "", tracerConcentration: 0.1)
        let shape = scan.frames.shape
        file.measurement = MDF.Measurement(data: .float32(scan.frames.reshaped([shape[0], 1, shape[1], shape[2]])), isBackgroundFrame: scan.isBackgroundFrame)
        return file
    }
}
