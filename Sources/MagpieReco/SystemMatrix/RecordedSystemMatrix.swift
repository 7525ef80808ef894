import MagpieCore

/// A system-matrix calibration as it was recorded: the spectrum of every calibration frame
/// (one per grid position, then background frames of the empty scanner), before frequency
/// selection and background correction. Independent of the file it came from.
public struct RecordedSystemMatrix: Sendable {
    /// C x K x N spectra, frames fastest (MDF's isFastFrameAxis layout without the period axis).
    public var spectra: NDArray<Complex<Float>>
    /// The K stored frequency bins, 0-based (all of 0 ... V/2 unless the file holds a frequency selection).
    public var bins: [Int]
    /// V: samples per drive-field period, which sets the bin spacing with `samplingRate`.
    public var samplesPerPeriod: Int
    /// Samples per second.
    public var samplingRate: Double
    /// N flags; the foreground frames are the grid positions in order.
    public var isBackgroundFrame: [Bool]
    /// The recorder already subtracted the background.
    public var isBackgroundCorrected: Bool
    /// C x K, as stored with the calibration; estimated from the background frames when nil.
    public var snr: NDArray<Double>?
    /// Grid points per axis (x, y, z): the reconstruction's voxels.
    public var grid: [Int]

    public init(spectra: NDArray<Complex<Float>>, bins: [Int]? = nil, samplesPerPeriod: Int, samplingRate: Double,
                isBackgroundFrame: [Bool], isBackgroundCorrected: Bool = false, snr: NDArray<Double>? = nil, grid: [Int]) throws {
        guard spectra.rank == 3 else { throw ReconstructionError.systemMatrix("spectra must be C x K x N, got shape \(spectra.shape)") }
        let (channels, frequencies, frames) = (spectra.shape[0], spectra.shape[1], spectra.shape[2])
        let bins = bins ?? Array(0..<frequencies)
        guard bins.count == frequencies, bins.allSatisfy({ $0 >= 0 && $0 <= samplesPerPeriod / 2 }) else {
            throw ReconstructionError.systemMatrix("\(frequencies) stored frequencies but \(bins.count) bins, or a bin beyond V/2 = \(samplesPerPeriod / 2)")
        }
        guard isBackgroundFrame.count == frames else {
            throw ReconstructionError.systemMatrix("\(frames) frames but \(isBackgroundFrame.count) background flags")
        }
        guard grid.count == 3, grid.allSatisfy({ $0 >= 1 }) else {
            throw ReconstructionError.systemMatrix("calibration grid must have three positive extents, got \(grid)")
        }
        let foreground = isBackgroundFrame.filter { !$0 }.count
        guard foreground == grid.reduce(1, *) else {
            throw ReconstructionError.systemMatrix("\(foreground) foreground frames for a \(grid.map(String.init).joined(separator: " x ")) grid of \(grid.reduce(1, *)) positions")
        }
        if let snr, snr.shape != [channels, frequencies] {
            throw ReconstructionError.systemMatrix("snr has shape \(snr.shape), the spectra need [\(channels), \(frequencies)]")
        }
        self.spectra = spectra
        self.bins = bins
        self.samplesPerPeriod = samplesPerPeriod
        self.samplingRate = samplingRate
        self.isBackgroundFrame = isBackgroundFrame
        self.isBackgroundCorrected = isBackgroundCorrected
        self.snr = snr
        self.grid = grid
    }

    public var channels: Int { spectra.shape[0] }
    public var frames: Int { spectra.shape[2] }
    public var voxels: Int { grid.reduce(1, *) }
    /// Hz between neighbouring bins.
    public var binSpacing: Double { samplingRate / Double(samplesPerPeriod) }

    /// The stored SNR, or the estimate from the background frames; nil when there is neither.
    public func signalToNoise() -> NDArray<Double>? {
        snr ?? Self.estimateSNR(spectra, isBackgroundFrame: isBackgroundFrame)
    }

    /// SNR per channel and frequency as MPIFiles estimates it for a calibration that stores none:
    /// median over positions of |foreground - mean background| over the mean absolute deviation
    /// of the background frames. `spectra` is C x K x N; nil without background frames.
    public static func estimateSNR(_ spectra: NDArray<Complex<Float>>, isBackgroundFrame: [Bool]) -> NDArray<Double>? {
        let (channels, frequencies, frames) = (spectra.shape[0], spectra.shape[1], spectra.shape[2])
        let background = (0..<frames).filter { isBackgroundFrame[$0] }, foreground = (0..<frames).filter { !isBackgroundFrame[$0] }
        guard !background.isEmpty, !foreground.isEmpty else { return nil }
        let storage = parallelFill(count: channels * frequencies, repeating: 0.0) { range, out in
            var signal = [Double](repeating: 0, count: foreground.count)
            for row in range {
                let base = row * frames
                func value(_ n: Int) -> Complex<Double> {
                    let z = spectra.storage[base + n]
                    return Complex(Double(z.real), Double(z.imaginary))
                }
                var sum = Complex<Double>.zero
                for n in background { sum += value(n) }
                let mean = Complex(sum.real / Double(background.count), sum.imaginary / Double(background.count))
                let noise = background.reduce(0) { $0 + (value($1) - mean).length } / Double(background.count)
                for (i, n) in foreground.enumerated() { signal[i] = (value(n) - mean).length }
                signal.sort()
                let median = signal[signal.count / 2]
                out[row] = noise > 0 ? median / noise : (median > 0 ? .infinity : 0)
            }
        }
        return NDArray(shape: [channels, frequencies], storage: storage)
    }
}
