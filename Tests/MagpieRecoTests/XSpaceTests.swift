import Foundation
import MagpieCore
import MagpiePhysics
import MagpieReco
import Testing

/// x-space images of simulated 2D Lissajous scans (openmpi-2d, 64 x 64, SNR 30 dB) against the
/// phantom convolved with the direction-averaged Langevin PSF of `LangevinPSF`.
@Suite struct XSpaceTests {
    let scanner = ScannerPreset.openmpi2d.scanner

    /// Mean foreground minus mean background, as the x-space pipeline prepares a measurement.
    func nativeImage(_ kind: PhantomKind, seed: UInt64 = 3, snr: Double? = 30) throws -> (native: [Double], phantom: NDArray<Double>) {
        let phantom = try PhantomGenerator(scanner: scanner).render(kind, seed: seed)
        let scan = try MeasurementSimulator(scanner: scanner, noise: NoiseModel(snr: snr))
            .scan(concentration: phantom.map { $0 * 0.1 }, foregroundFrames: 4, backgroundFrames: 2, seed: seed)
        let (frames, channels, samples) = (scan.frames.shape[0], scan.frames.shape[1], scan.frames.shape[2])
        var period = NDArray<Double>(repeating: 0, shape: [channels, samples])
        for n in 0..<frames {
            let weight = scan.isBackgroundFrame[n] ? -1.0 / 2 : 1.0 / 4
            for i in 0..<(channels * samples) { period.storage[i] += weight * Double(scan.frames.storage[n * channels * samples + i]) }
        }
        let image = try XSpaceReconstruction(scanner: scanner).reconstruct(period)
        return (image.storage, phantom)
    }

    func normalised(_ x: [Double]) -> [Double] {
        let top = x.max()!
        return x.map { $0 / top }
    }

    @Test(arguments: PhantomKind.allCases)
    func nativeImageMatchesThePhantomBlurredByThePSF(kind: PhantomKind) throws {
        let (native, phantom) = try nativeImage(kind)
        let kernel = LangevinPSF.kernel(scanner: scanner)
        let blurred = Convolution2D(imageRows: 64, imageColumns: 64, kernel: kernel).apply(phantom.storage)
        let ssim = ImageMetrics.ssim(normalised(native), reference: normalised(blurred), rows: 64, columns: 64, dataRange: 1)
        print("x-space \(kind.rawValue): SSIM \(ssim) against phantom * PSF")
        if let directory = ProcessInfo.processInfo.environment["MAGPIE_XSPACE_PNG"] {
            try PNG.write(native, width: 64, height: 64, to: "\(directory)/\(kind.rawValue)-native.png")
            try PNG.write(blurred, width: 64, height: 64, to: "\(directory)/\(kind.rawValue)-blurred.png")
            try PNG.write(phantom.storage, width: 64, height: 64, to: "\(directory)/\(kind.rawValue)-phantom.png")
        }
        #expect(ssim >= 0.90, "\(kind): SSIM \(ssim)")
    }
}
