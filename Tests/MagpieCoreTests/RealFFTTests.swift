import Foundation
import MagpieCore

import Testing

@Suite struct RealFFTTests {
    /// FFTW's r2c against a direct DFT, for even and odd lengths.
    @Test(arguments: [8, 102, 1632, 625])
    func matchesTheDefinitionOfTheDFT(length: Int) {
        let samples = (0..<length).map { Float(sin(Double($0) * 0.37) + 0.25 * cos(Double($0 * $0) * 0.01)) }
        let spectrum = RealFFT(length: length).forward(samples)
        #expect(spectrum.count == length / 2 + 1)
        for k in [0, 1, length / 4, length / 2] {
            var re = 0.0, im = 0.0
            for (n, x) in samples.enumerated() {
                let angle = -2 * Double.pi * Double(k * n) / Double(length)
                re += Double(x) * cos(angle)
                im += Double(x) * sin(angle)
            }
            let tolerance = 1e-4 * Double(length)
            #expect(abs(Double(spectrum[k].real) - re) < tolerance && abs(Double(spectrum[k].imaginary) - im) < tolerance,
                    "bin \(k): \(spectrum[k]) vs \(re) \(im)")
        }
    }

    /// The inverse undoes the forward transform (numpy's irfft), for even and odd lengths.
    @Test(arguments: [8, 1632, 625])
    func inverseUndoesTheForwardTransform(length: Int) {
        let samples = (0..<length).map { Float(sin(Double($0) * 0.37) + 0.25 * cos(Double($0 * $0) * 0.01)) }
        let fft = RealFFT(length: length)
        let back = fft.inverse(fft.forward(samples))
        #expect(zip(back, samples).allSatisfy { abs($0 - $1) < 1e-5 })
    }
}
