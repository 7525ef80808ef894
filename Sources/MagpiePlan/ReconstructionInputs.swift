import Foundation
import MagpieCore
import MagpieMDF
import MagpieReco

/// The bridge from MDF files to MagpieReco's inputs: which layouts are accepted, and the
/// checks that a system matrix fits a measurement. Errors name the file and the mismatch.
public enum ReconstructionInputs {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The measurement's time-domain frames in physical units (dataConversionFactor applied).
    public static func measuredFrames(_ mdf: MDFFile, path: String) throws -> MeasuredFrames {
        guard let measurement = mdf.measurement else { throw Failure(description: "\(path) has no /measurement") }
        guard !measurement.isFourierTransformed, !measurement.isFastFrameAxis else {
            throw Failure(description: "\(path): reconstruct needs a time-domain measurement (N x J x C x V); this one is Fourier transformed or frame-fastest")
        }
        let shape = measurement.data.shape
        guard shape.count == 4, shape[1] == 1 else {
            throw Failure(description: "\(path): measurement data of shape \(shape); one period per frame (J = 1) is supported")
        }
        var raw = try realValues(measurement.data, path: path)
        var isBackground = measurement.isBackgroundFrame
        // Stored frame n was acquired as frame framePermutation[n]: put them back in acquisition
        // order, which background interpolation and --frames refer to.
        if let permutation = measurement.framePermutation {
            let size = shape[2] * shape[3]
            var acquired = raw
            for (n, p) in permutation.enumerated() {
                let a = Int(p) - 1
                acquired.replaceSubrange((a * size)..<((a + 1) * size), with: raw[(n * size)..<((n + 1) * size)])
                isBackground[a] = measurement.isBackgroundFrame[n]
            }
            raw = acquired
        }
        return try MeasuredFrames(raw: NDArray(shape: [shape[0], shape[2], shape[3]], storage: raw), isBackgroundFrame: isBackground,
                                  conversion: mdf.acquisition.receiver.dataConversionFactor)
    }

    /// A system-matrix file as MagpieReco's recorded calibration.
    public static func recordedSystemMatrix(_ mdf: MDFFile, path: String) throws -> RecordedSystemMatrix {
        guard let calibration = mdf.calibration else {
            throw Failure(description: "\(path) has no /calibration (no calibration grid): not a system matrix")
        }
        guard let measurement = mdf.measurement else { throw Failure(description: "\(path) has no /measurement data") }
        guard !measurement.isSparsityTransformed else {
            throw Failure(description: "\(path) is a compressed system matrix (isSparsityTransformed): Kaczmarz reconstructs with it as it is; other uses need the dense calibration")
        }
        guard measurement.isFourierTransformed else {
            throw Failure(description: "\(path): the system matrix must be Fourier transformed (isFourierTransformed = 1)")
        }
        let shape = measurement.data.shape
        guard shape.count == 4 else { throw Failure(description: "\(path): system-matrix data of shape \(shape)") }
        // Bring J x C x K x N (frame-fastest) or N x J x C x K to C x K x N.
        let (periods, channels, frequencies, frames) = measurement.isFastFrameAxis
            ? (shape[0], shape[1], shape[2], shape[3]) : (shape[1], shape[2], shape[3], shape[0])
        guard periods == 1 else { throw Failure(description: "\(path): \(periods) periods per frame; one (J = 1) is supported") }
        let values = try complexValues(measurement.data, path: path)
        var spectra = NDArray<Complex<Float>>(repeating: .zero, shape: [channels, frequencies, frames])
        if measurement.isFastFrameAxis {
            spectra.storage = values
        } else {
            for n in 0..<frames {
                for row in 0..<(channels * frequencies) { spectra.storage[row * frames + n] = values[n * channels * frequencies + row] }
            }
        }
        if let factor = mdf.acquisition.receiver.dataConversionFactor, factor.shape == [channels, 2] {
            for c in 0..<channels where factor[c, 0] != 1 {
                let a = Complex(Float(factor[c, 0]), 0)
                for i in (c * frequencies * frames)..<((c + 1) * frequencies * frames) { spectra.storage[i] = a * spectra.storage[i] }
            }
        }
        let receiver = mdf.acquisition.receiver
        let bins = measurement.frequencySelection.map { $0.map { Int($0) - 1 } }
        let snr = calibration.snr.flatMap { $0.shape == [1, channels, frequencies] ? $0.reshaped([channels, frequencies]) : nil }
        do {
            return try RecordedSystemMatrix(spectra: spectra, bins: bins, samplesPerPeriod: receiver.numSamplingPoints,
                                            samplingRate: receiver.samplingRate, isBackgroundFrame: measurement.isBackgroundFrame,
                                            isBackgroundCorrected: measurement.isBackgroundCorrected, snr: snr, grid: calibration.size)
        } catch {
            throw Failure(description: "\(path): \(error)")
        }
    }

    /// The scanner Magpie recorded with a file it simulated (`/_magpie/scanner`), or nil.
    public static func recordedScanner(_ path: String) -> MPIScanner? {
        guard let text = try? HDF5File.open(path).readString("/_magpie/scanner") else { return nil }
        return try? JSONDecoder().decode(MPIScanner.self, from: Data(text.utf8))
    }

    /// The scanner x-space reconstruction needs for `mdf`. MDF records drive field, receiver and
    /// gradient but not the particle or image grid: those come from `recorded`, or else from the
    /// openmpi preset with as many drive channels, which is then returned as `preset`.
    public static func xSpaceScanner(_ mdf: MDFFile, recorded: MPIScanner?) throws -> (scanner: MPIScanner, preset: ScannerPreset?) {
        if let recorded { return (try MPIScanner(mdf: mdf, defaults: recorded), nil) }
        let drives = mdf.acquisition.driveField.activeChannels.count
        let preset: ScannerPreset = drives >= 3 ? .openmpi3d : drives == 2 ? .openmpi2d : .openmpi1d
        return (try MPIScanner(mdf: mdf, defaults: preset.scanner), preset)
    }

    /// Refuses a system matrix recorded with another receiver or drive field than the measurement.
    public static func checkCompatible(systemMatrix sm: MDFFile, smPath: String, measurement m: MDFFile, measurementPath: String) throws {
        var problems: [String] = []
        let a = sm.acquisition, b = m.acquisition
        if a.receiver.bandwidth != b.receiver.bandwidth {
            problems.append("receive bandwidth \(a.receiver.bandwidth) Hz vs \(b.receiver.bandwidth) Hz")
        }
        if a.receiver.numSamplingPoints != b.receiver.numSamplingPoints {
            problems.append("samples per period \(a.receiver.numSamplingPoints) vs \(b.receiver.numSamplingPoints)")
        }
        if a.receiver.numChannels != b.receiver.numChannels {
            problems.append("receive channels \(a.receiver.numChannels) vs \(b.receiver.numChannels)")
        }
        let da = a.driveField, db = b.driveField
        if da.baseFrequency != db.baseFrequency { problems.append("drive base frequency \(da.baseFrequency) Hz vs \(db.baseFrequency) Hz") }
        if da.divider.storage != db.divider.storage { problems.append("drive dividers \(da.divider.storage) vs \(db.divider.storage)") }
        if da.strength.shape != db.strength.shape {
            problems.append("drive-field strength of shape \(da.strength.shape) vs \(db.strength.shape)")
        } else {
            for (x, y) in zip(da.strength.storage, db.strength.storage) where abs(x - y) > 0.01 * max(abs(x), abs(y)) {
                problems.append(String(format: "drive-field strength %.4g vs %.4g T/mu0 (more than 1%% apart)", x, y))
                break
            }
        }
        guard problems.isEmpty else {
            throw Failure(description: "\(smPath) does not fit \(measurementPath): " + problems.joined(separator: "; "))
        }
    }

    private static func realValues(_ data: MDFData, path: String) throws -> [Float] {
        switch data {
        case let .int16(a): return a.storage.map(Float.init)
        case let .int32(a): return a.storage.map(Float.init)
        case let .float32(a): return a.storage
        case let .float64(a): return a.storage.map(Float.init)
        case .complex64, .complex128: throw Failure(description: "\(path): time-domain data must be real, not complex")
        case .notLoaded: throw Failure(description: "\(path): measurement data not loaded")
        }
    }

    static func complexValues(_ data: MDFData, path: String) throws -> [Complex<Float>] {
        switch data {
        case let .complex64(a): return a.storage
        case let .complex128(a): return a.storage.map { Complex(Float($0.real), Float($0.imaginary)) }
        default: throw Failure(description: "\(path): system-matrix data must be complex, got \(data.elementType.rawValue)")
        }
    }
}
