import Foundation
import MagpieCore
import MagpieMDF
import MagpieReco

/// Example MDF files with the geometry of the OpenMPIData 2D sequence (the `openmpi-2d` preset:
/// 2.5 MHz base frequency, dividers 102 and 96, 12 mT, 1632 samples per period; Knopp et al.,
/// Data in Brief 28, 2020). Their data are synthetic waveforms with closed-form values, not a
/// physical simulation (that is `magpie simulate`); Tests/interop checks the values from Python.
enum DemoFiles {
    static let scanner = ScannerPreset.openmpi2d.scanner
    static let dividers = scanner.drive.map(\.divider)
    static let samples = scanner.samplesPerPeriod
    static let channels = scanner.receive.count
    static let foregroundFrames = 6
    static let backgroundFrames = 2
    /// Volts per ADC count.
    static let voltsPerCount = 1e-4
    static let harmonics = [1, 3, 5, 7]

    /// Receive-channel voltage of channel `c` in frame `n` at sample `v`: odd harmonics 1/h of the
    /// channel's drive frequency, amplitude 0.5 + 0.1 n V; background frames hold a 10 mV offset.
    static func voltage(frame n: Int, channel c: Int, sample v: Int) -> Double {
        if n >= foregroundFrames { return 0.01 }
        let periodsPerCycle = Double(samples) / Double(dividers[c])   // 16 and 17 periods
        let phase = 2 * Double.pi * periodsPerCycle * Double(v) / Double(samples)
        return (0.5 + 0.1 * Double(n)) * harmonics.reduce(0) { $0 + sin(Double($1) * phase) / Double($1) }
    }

    /// The preset's drive field, receiver and gradient, with the demo's own study, tracer and
    /// scanner names, and Int16 counts of `voltsPerCount` volts.
    static func metadata(frames: Int, description: String) -> MDFFile {
        var mdf = MDFFile.simulated(scanner: scanner, frames: frames, experiment: "synthetic waveforms",
                                    description: description, tracerConcentration: 0)
        mdf.study = MDF.Study(name: "Magpie demo", number: 1, description: "example files written by magpie demo")
        mdf.experiment.subject = "none"
        mdf.tracer = MDF.Tracer(batch: ["n.a."], name: ["none"], solute: ["Fe"], vendor: ["n.a."], concentration: [0], volume: [0])
        mdf.scanner.name = "demo (OpenMPIData 2D geometry)"
        mdf.scanner.operator = "magpie demo"
        mdf.acquisition.receiver.dataConversionFactor = NDArray(shape: [channels, 2], storage: [voltsPerCount, 0, voltsPerCount, 0])
        return mdf
    }

    /// Raw time-domain Int16 data, N x J x C x V, background frames last.
    static func measurement() -> MDFFile {
        let frames = foregroundFrames + backgroundFrames
        var counts = NDArray<Int16>(repeating: 0, shape: [frames, 1, channels, samples])
        for n in 0..<frames {
            for c in 0..<channels {
                for v in 0..<samples {
                    counts[n, 0, c, v] = Int16((voltage(frame: n, channel: c, sample: v) / voltsPerCount).rounded())
                }
            }
        }
        var mdf = metadata(frames: frames, description: "odd harmonics of the drive frequencies, Int16 counts")
        mdf.measurement = MDF.Measurement(
            data: .int16(counts), isBackgroundFrame: (0..<frames).map { $0 >= foregroundFrames })
        return mdf
    }

    /// The measurement's foreground frames converted to volts, Fourier transformed per period, and
    /// reduced to the harmonic frequencies of both drive channels (1-based frequencySelection).
    static func spectrum(of raw: MDFFile) -> MDFFile {
        guard case let .int16(counts)? = raw.measurement?.data else { preconditionFailure("demo measurement is Int16") }
        let selection = Array(Set(dividers.flatMap { divider in
            harmonics.map { Int64(samples / divider * $0 + 1) }
        })).sorted()
        let fft = RealFFT(length: samples)
        var values: [Complex<Float>] = []
        for n in 0..<foregroundFrames {
            for c in 0..<channels {
                let period = (0..<samples).map { Float(Double(counts[n, 0, c, $0]) * voltsPerCount) }
                let spectrum = fft.forward(period)
                values += selection.map { spectrum[Int($0) - 1] }
            }
        }
        var mdf = metadata(frames: foregroundFrames, description: "spectrum of the demo measurement at the drive harmonics")
        mdf.measurement = MDF.Measurement(
            data: .complex64(NDArray(shape: [foregroundFrames, 1, channels, selection.count], storage: values)),
            isBackgroundFrame: Array(repeating: false, count: foregroundFrames),
            isFourierTransformed: true, frequencySelection: selection)
        return mdf
    }

    static let grid = [4, 3, 1]
    static let calibrationFieldOfView = [0.04, 0.03, 0.001]

    /// A system matrix layout example, J x C x K x N complex with isFastFrameAxis: foreground
    /// value (k + 1) / K + i (n - c) at grid position n, background frames 0.001 (k mod 7).
    static func systemMatrix() -> MDFFile {
        let positions = grid.reduce(1, *)
        let frames = positions + backgroundFrames
        let frequencies = samples / 2 + 1
        var data = NDArray<Complex<Float>>(repeating: .zero, shape: [1, channels, frequencies, frames])
        for c in 0..<channels {
            for k in 0..<frequencies {
                for n in 0..<frames {
                    data[0, c, k, n] = n < positions
                        ? Complex(Float(k + 1) / Float(frequencies), Float(n - c))
                        : Complex(0.001 * Float(k % 7), 0)
                }
            }
        }
        var mdf = metadata(frames: frames, description: "system-matrix layout example with closed-form values")
        mdf.measurement = MDF.Measurement(
            data: .complex64(data), isBackgroundFrame: (0..<frames).map { $0 >= positions },
            isFastFrameAxis: true, isFourierTransformed: true)
        mdf.calibration = MDF.Calibration(
            method: "simulation", size: grid, fieldOfView: calibrationFieldOfView, fieldOfViewCenter: [0, 0, 0],
            positions: gridPositions(grid, calibrationFieldOfView),
            deltaSampleSize: [0.001, 0.001, 0.001],
            snr: NDArray(shape: [1, channels, frequencies], storage: (0..<(channels * frequencies)).map { Double(frequencies - $0 % frequencies) }))
        return mdf
    }

    static let imageGrid = [16, 16, 1]

    /// A reconstruction: one frame of a disc of radius 5 voxels centred in a 16 x 16 grid.
    static func reconstruction() -> MDFFile {
        let fov = [0.032, 0.032, 0.001]
        let voxels = imageGrid.reduce(1, *)
        let image = (0..<voxels).map { p -> Float in
            let x = Double(p % 16) - 7.5, y = Double(p / 16) - 7.5
            return x * x + y * y <= 25 ? 1 : 0
        }
        var mdf = metadata(frames: 1, description: "a disc image in a reconstruction file")
        mdf.reconstruction = MDF.Reconstruction(
            data: .float32(NDArray(shape: [1, voxels, 1], storage: image)),
            fieldOfView: fov, fieldOfViewCenter: [0, 0, 0], size: imageGrid,
            positions: gridPositions(imageGrid, fov), isOverscanRegion: Array(repeating: false, count: voxels))
        return mdf
    }

}
