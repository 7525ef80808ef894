import MagpieCore
import MagpieMDF
import MagpiePhysics

extension MDFFile {
    /// A small openmpi-1d measurement (resolution phantom, 30 dB): 2 background frames, 8
    /// foreground, 2 background, as `magpie simulate measurement` writes them.
    static func simulatedMeasurement() -> MDFFile {
        let scanner = ScannerPreset.openmpi1d.scanner
        let image = try! PhantomGenerator.concentration(.resolution, for: scanner, seed: 1, peak: 0.1)
        let scan = try! MeasurementSimulator(scanner: scanner, noise: NoiseModel(snr: 30)).scan(concentration: image, foregroundFrames: 8,
                                                                                               backgroundFrames: 4, seed: 1)
        var file = MDFFile.simulated(scanner: scanner, frames: 12, experiment: "plan test", description: "", tracerConcentration: 0.1)
        let shape = scan.frames.shape
        file.measurement = MDF.Measurement(data: .float32(scan.frames.reshaped([shape[0], 1, shape[1], shape[2]])), isBackgroundFrame: scan.isBackgroundFrame)
        return file
    }
}
