import Foundation
import MagpieCore

/// What a receive chain adds to the particle signal, after the self-supervised denoising paper:
/// Gaussian noise at an SNR and harmonic interference at an SIR, plus a background that scanners
/// record with an empty bore (feed-through harmonics, offset) drifting slowly over the scan.
public struct NoiseModel: Sendable, Codable, Equatable {
    /// SNR = 20 log10(rms(s) / sigma) per channel (denoising paper eq. 2, with the signal's RMS); nil: none.
    public var snr: Double?
    /// SIR = 20 log10(S_n / gamma) (eq. 3): each harmonic band n = 2...8 of the channel's drive
    /// frequency gets an interfering sinusoid of amplitude uniform in [0, 2 gamma_n] and random
    /// phase per period, gamma_n set from the particle signal's amplitude S_n at that harmonic; nil: none.
    public var sir: Double?
    /// Background amplitude relative to the signal's RMS per channel (0: none).
    public var backgroundLevel: Double
    /// Relative change of the background from the first frame to the last.
    public var backgroundDrift: Double

    public init(snr: Double? = nil, sir: Double? = nil, backgroundLevel: Double = 0.05, backgroundDrift: Double = 0.02) {
        self.snr = snr
        self.sir = sir
        self.backgroundLevel = backgroundLevel
        self.backgroundDrift = backgroundDrift
    }

    static let interferenceHarmonics = 2...8

    /// Gaussian noise of the given SNR for a channel whose noise-free signal has RMS `rms`.
    static func sigma(rms: Double, snr: Double) -> Double { rms / pow(10, snr / 20) }

    static func rms(_ values: ArraySlice<Double>) -> Double {
        (values.reduce(0) { $0 + $1 * $1 } / Double(max(values.count, 1))).squareRoot()
    }

    /// Amplitude of the sinusoid at DFT bin k of one period (2 |X_k| / V).
    static func amplitude(_ values: ArraySlice<Double>, bin k: Int) -> Double {
        2 * dftBin(values, k).length / Double(values.count)
    }
}

/// X_k = sum_v x_v exp(-2 pi i k v / V) of one period: a single DFT bin, for the few bins the
/// noise model and the receive filter look at.
func dftBin(_ values: ArraySlice<Double>, _ k: Int) -> Complex<Double> {
    let n = values.count
    var re = 0.0, im = 0.0
    for (v, x) in values.enumerated() {
        let angle = 2 * Double.pi * Double(k * v % n) / Double(n)
        re += x * cos(angle)
        im -= x * sin(angle)
    }
    return Complex(re, im)
}
