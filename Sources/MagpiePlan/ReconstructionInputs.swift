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

    /// The measurement's time-domain frames in physical units (dataConversionFactor applied), the
    /// variants MPIFiles writes brought to that form or refused with the field that stops them:
    /// a full Fourier-domain spectrum is transformed back (numpy's `irfft`), the periods of a frame
    /// that repeat one sequence are averaged, and a receive transfer function not yet corrected is
    /// divided out (`transferFunction(of:)`).
    public static func measuredFrames(_ mdf: MDFFile, path: String) throws -> MeasuredFrames {
        guard let measurement = mdf.measurement else { throw Failure(description: "\(path) has no /measurement") }
        func refuse(_ field: String, _ why: String) -> Failure { Failure(description: "\(path): /measurement/\(field): \(why)") }
        guard !measurement.isFastFrameAxis else {
            throw refuse("isFastFrameAxis = 1", "frames on the fastest axis (J x C x K x N) is a system matrix's layout; a measurement to reconstruct is N x J x C x V or N x J x C x K")
        }
        guard !measurement.isSparsityTransformed else { throw refuse("isSparsityTransformed = 1", "only system matrices are stored compressed") }
        let shape = measurement.data.shape
        guard shape.count == 4 else { throw refuse("data", "shape \(shape) is not N x J x C x V") }
        let (frames, periods, channels) = (shape[0], shape[1], shape[2])
        let samples = mdf.acquisition.receiver.numSamplingPoints
        var raw: [Float]
        if measurement.isFourierTransformed {
            guard !measurement.isFrequencySelection else {
                throw refuse("isFrequencySelection = 1", "a spectrum of \(shape[3]) selected frequencies cannot be brought back to the time domain the plan's steps take; give the raw data or the full spectrum")
            }
            guard samples > 0, shape[3] == samples / 2 + 1 else {
                throw refuse("data", "a Fourier-transformed measurement of \(shape[3]) frequencies; numSamplingPoints = \(samples) needs \(samples / 2 + 1)")
            }
            let spectra = try complexValues(measurement.data, path: path)
            let fft = RealFFT(length: samples), k = shape[3]
            raw = []
            raw.reserveCapacity(frames * periods * channels * samples)
            for row in 0..<(frames * periods * channels) { raw += fft.inverse(spectra[(row * k)..<((row + 1) * k)]) }
        } else {
            guard shape[3] == samples else { throw refuse("data", "\(shape[3]) samples per period, /acquisition/receiver/numSamplingPoints says \(samples)") }
            raw = try realValues(measurement.data, path: path)
        }
        if periods > 1 {
            try checkPeriodsRepeat(mdf, path: path)
            raw = averagePeriods(raw, frames: frames, periods: periods, size: channels * samples)
        }
        // Back in acquisition order, which background interpolation and --frames refer to.
        let order = try measurement.storedFrames(file: path)
        var isBackground = measurement.isBackgroundFrame
        if measurement.isFramePermutation {
            let size = channels * samples
            var acquired = raw
            for (a, n) in order.enumerated() {
                acquired.replaceSubrange((a * size)..<((a + 1) * size), with: raw[(n * size)..<((n + 1) * size)])
                isBackground[a] = measurement.isBackgroundFrame[n]
            }
            raw = acquired
        }
        var measured = try MeasuredFrames(raw: NDArray(shape: [frames, channels, samples], storage: raw), isBackgroundFrame: isBackground,
                                          conversion: mdf.acquisition.receiver.dataConversionFactor)
        if let transfer = try transferFunction(of: mdf, path: path) { divide(&measured.data, by: transfer) }
        return measured
    }

    /// The receive chain's transfer function C x (V/2 + 1) when the file carries one its data
    /// still contains (`isTransferFunctionCorrected` = 0), nil otherwise; refused when its shape
    /// does not fit the receiver or it is zero everywhere on a channel.
    public static func transferFunction(of mdf: MDFFile, path: String) throws -> NDArray<Complex<Double>>? {
        guard mdf.carriesTransferFunction, let transfer = mdf.acquisition.receiver.transferFunction else { return nil }
        let receiver = mdf.acquisition.receiver
        guard transfer.shape == [receiver.numChannels, receiver.numSamplingPoints / 2 + 1] else {
            throw Failure(description: "\(path): /acquisition/receiver/transferFunction has shape \(transfer.shape), the receiver's \(receiver.numChannels) channels x \(receiver.numSamplingPoints / 2 + 1) frequencies need [\(receiver.numChannels), \(receiver.numSamplingPoints / 2 + 1)]")
        }
        let k = transfer.shape[1]
        for c in 0..<transfer.shape[0] where !(0..<k).contains(where: { transfer[c, $0].length > 0 && transfer[c, $0].length.isFinite }) {
            throw Failure(description: "\(path): /acquisition/receiver/transferFunction is zero or not finite at every frequency of channel \(c + 1)")
        }
        return transfer
    }

    /// Frequencies where the chain passes less than this fraction of its largest gain are set to
    /// zero instead of divided (the band-stop of the drive frequency, the band edges): dividing
    /// by almost nothing would only amplify noise.
    static let transferFloor = 1e-3

    /// 1 / H at each frequency of channel c of the transfer function H; 0 where the chain passes
    /// less than `transferFloor` of its peak gain, or H is not finite.
    static func inverseGains(_ transfer: NDArray<Complex<Double>>, channel c: Int) -> [Complex<Float>] {
        let row = (0..<transfer.shape[1]).map { transfer[c, $0] }
        let floor = transferFloor * (row.map(\.length).filter(\.isFinite).max() ?? 0)
        return row.map { t in
            let m2 = t.real * t.real + t.imaginary * t.imaginary
            return t.length > floor && m2.isFinite ? Complex(Float(t.real / m2), Float(-t.imaginary / m2)) : .zero
        }
    }

    /// Each channel's spectrum divided by the transfer function (`inverseGains`). `frames` is N x C x V.
    static func divide(_ frames: inout NDArray<Float>, by transfer: NDArray<Complex<Double>>) {
        let (count, channels, samples) = (frames.shape[0], frames.shape[1], frames.shape[2])
        let fft = RealFFT(length: samples)
        let inverse = (0..<channels).map { inverseGains(transfer, channel: $0) }
        for n in 0..<count {
            for c in 0..<channels {
                let base = (n * channels + c) * samples
                let spectrum = zip(fft.forward(frames.storage[base..<(base + samples)]), inverse[c]).map { $0 * $1 }
                frames.storage.replaceSubrange(base..<(base + samples), with: fft.inverse(spectrum))
            }
        }
    }

    /// Refuses the periods of a frame that are not repetitions of one sequence (a multi-patch
    /// frame: focus fields, per-period drive strengths), naming the field that differs.
    public static func checkPeriodsRepeat(_ mdf: MDFFile, path: String) throws {
        let acquisition = mdf.acquisition
        func differs(_ array: NDArray<Double>?) -> Bool {
            guard let array, array.rank >= 1, array.shape[0] > 1 else { return false }
            let size = array.count / array.shape[0]
            return (1..<array.shape[0]).contains { j in array.storage[(j * size)..<((j + 1) * size)] != array.storage[0..<size] }
        }
        for (field, array) in [("drivefield/strength", acquisition.driveField.strength), ("drivefield/phase", acquisition.driveField.phase),
                               ("offsetField", acquisition.offsetField), ("gradient", acquisition.gradient)] where differs(array) {
            throw Failure(description: "\(path): /acquisition/\(field) differs between the \(acquisition.numPeriodsPerFrame) periods of a frame (a multi-patch sequence); Magpie reconstructs frames whose periods repeat one sequence, and averages those")
        }
    }

    /// The mean of each frame's J periods: N x J x S values to N x S.
    public static func averagePeriods(_ values: [Float], frames: Int, periods: Int, size: Int) -> [Float] {
        var result = [Float](repeating: 0, count: frames * size)
        for n in 0..<frames {
            for j in 0..<periods {
                let base = (n * periods + j) * size
                for i in 0..<size { result[n * size + i] += values[base + i] }
            }
        }
        let scale = 1 / Float(periods)
        return result.map { $0 * scale }
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
        let bins = try measurement.selectedBins(file: path, binCount: receiver.numSamplingPoints / 2 + 1)
        if let transfer = try transferFunction(of: mdf, path: path) {
            // Each row divided by the chain's gain at its frequency, as the measurement is.
            for c in 0..<channels {
                let inverse = inverseGains(transfer, channel: c)
                for f in 0..<frequencies {
                    let bin = bins?[f] ?? f
                    guard bin >= 0, bin < inverse.count else {
                        throw Failure(description: "\(path): frequency bin \(bin + 1) lies outside /acquisition/receiver/transferFunction's \(inverse.count) frequencies")
                    }
                    let factor = inverse[bin], base = (c * frequencies + f) * frames
                    for i in base..<(base + frames) { spectra.storage[i] = factor * spectra.storage[i] }
                }
            }
        }
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
        // Both free of their chain, or both with the same unknown chain.
        if sm.isFreeOfTransferFunction != m.isFreeOfTransferFunction {
            let (free, other) = sm.isFreeOfTransferFunction ? ("the system matrix", "the measurement") : ("the measurement", "the system matrix")
            problems.append("/acquisition/receiver/transferFunction: \(free) has its receive chain divided out (recorded, or isTransferFunctionCorrected) and \(other) neither records nor corrects one, so one side would keep the chain's gain")
        }
        let da = a.driveField, db = b.driveField
        if da.baseFrequency != db.baseFrequency { problems.append("drive base frequency \(da.baseFrequency) Hz vs \(db.baseFrequency) Hz") }
        if da.divider.storage != db.divider.storage { problems.append("drive dividers \(da.divider.storage) vs \(db.divider.storage)") }
        // The first period's strengths (a measurement's periods repeat one sequence: `checkPeriodsRepeat`).
        if da.strength.rank != 3 || da.strength.shape.dropFirst() != db.strength.shape.dropFirst() {
            problems.append("drive-field strength of shape \(da.strength.shape) vs \(db.strength.shape)")
        } else {
            let period = da.strength.count / max(da.strength.shape[0], 1)
            for (x, y) in zip(da.strength.storage.prefix(period), db.strength.storage.prefix(period)) where abs(x - y) > 0.01 * max(abs(x), abs(y)) {
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
