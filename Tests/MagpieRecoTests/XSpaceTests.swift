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

/// A Cartesian raster: fast 25 kHz sine in x, slow 250 Hz sine in y (200 passes per cycle),
/// 2 T/m, 12 mT, 25 nm cores, 64 x 64 over 12 x 12 mm. The FFP moves along x almost always, so
/// the reference is the PSF projected onto x.
@Suite struct XSpaceCartesianTests {
    @Test(arguments: [PhantomKind.digits, .shapes])
    func rasterImageMatchesThePhantomBlurredByThePSF(kind: PhantomKind) throws {
        let scanner = MPIScanner(
            name: "raster", gradient: [-2, -2, 4], baseFrequency: 2.5e6,
            drive: [DriveChannel(axis: 0, amplitude: 0.012, divider: 100, phase: Double.pi / 2),
                    DriveChannel(axis: 1, amplitude: 0.012, divider: 10000, phase: Double.pi / 2)],
            samplingRate: 2.5e6, samplesPerPeriod: 10000, receive: [ReceiveChannel(axis: 0), ReceiveChannel(axis: 1)],
            particle: Particle(coreDiameter: 25e-9), imageSize: [64, 64, 1])
        let phantom = try PhantomGenerator(scanner: scanner).render(kind, seed: 2)
        let signal = try SignalSimulator(scanner: scanner).voltages(concentration: phantom.map { $0 * 0.1 })
        let image = try XSpaceReconstruction(scanner: scanner).reconstruct(signal)
        let kernel = LangevinPSF.kernel(scanner: scanner, projectedOnto: (1, 0))
        let blurred = Convolution2D(imageRows: 64, imageColumns: 64, kernel: kernel).apply(phantom.storage)
        let top = (image.storage.max()!, blurred.max()!)
        let ssim = ImageMetrics.ssim(image.storage.map { $0 / top.0 }, reference: blurred.map { $0 / top.1 }, rows: 64, columns: 64, dataRange: 1)
        print("x-space raster \(kind.rawValue): SSIM \(ssim)")
        if let directory = ProcessInfo.processInfo.environment["MAGPIE_XSPACE_PNG"] {
            try PNG.write(image.storage, width: 64, height: 64, to: "\(directory)/raster-\(kind.rawValue)-native.png")
            try PNG.write(blurred, width: 64, height: 64, to: "\(directory)/raster-\(kind.rawValue)-blurred.png")
        }
        #expect(ssim >= 0.90)
    }
}

@Suite struct DeconvolutionTests {
    /// Least-squares scale of `image` onto `reference`: images in different units compare fairly.
    func fitted(_ image: [Double], to reference: [Double]) -> [Double] {
        let scale = zip(image, reference).reduce(0) { $0 + $1.0 * $1.1 } / image.reduce(0) { $0 + $1 * $1 }
        return image.map { $0 * scale }
    }

    @Test func wienerAndRichardsonLucyRaisePSNROnTheResolutionPhantom() throws {
        let tests = XSpaceTests()
        let (native, phantom) = try tests.nativeImage(.resolution)
        let kernel = LangevinPSF.kernel(scanner: tests.scanner)
        let image = NDArray(shape: [64, 64], storage: native)
        let wiener = Deconvolution.wiener(image, kernel: kernel, noiseToSignal: 1e-2)
        let lucy = Deconvolution.richardsonLucy(image, kernel: kernel, iterations: 30)
        func psnr(_ x: [Double]) -> Double { ImageMetrics.psnr(fitted(x, to: phantom.storage), reference: phantom.storage, dataRange: 1) }
        let (p0, p1, p2) = (psnr(native), psnr(wiener.storage), psnr(lucy.storage))
        print(String(format: "resolution phantom PSNR: native %.2f dB, Wiener %.2f dB, Richardson-Lucy %.2f dB", p0, p1, p2))
        #expect(p1 > p0)
        #expect(p2 > p0)
    }

    /// Deconvolving a phantom blurred by the same kernel (no noise) recovers it closely.
    @Test func richardsonLucyInvertsAKnownBlur() throws {
        let scanner = ScannerPreset.openmpi2d.scanner
        let phantom = try PhantomGenerator(scanner: scanner).render(.dots, seed: 4)
        let kernel = LangevinPSF.kernel(scanner: scanner)
        let blurred = Convolution2D(imageRows: 64, imageColumns: 64, kernel: kernel).apply(phantom.storage)
        let restored = Deconvolution.richardsonLucy(NDArray(shape: [64, 64], storage: blurred), kernel: kernel, iterations: 200)
        let before = ImageMetrics.nrmse(blurred, reference: phantom.storage)
        let after = ImageMetrics.nrmse(restored.storage, reference: phantom.storage)
        #expect(after < 0.95 * before, "nRMSE \(before) -> \(after)")
    }

    @Test func convolutionMatchesTheDirectSum() {
        let kernel = NDArray(shape: [3, 5], storage: (0..<15).map { Double($0 % 4) + 0.5 })
        let image = (0..<(6 * 7)).map { sin(Double($0)) }
        let fast = Convolution2D(imageRows: 6, imageColumns: 7, kernel: kernel).apply(image)
        for r in 0..<6 {
            for c in 0..<7 {
                var s = 0.0
                for j in 0..<3 {
                    for i in 0..<5 {
                        let (rr, cc) = (r - (j - 1), c - (i - 2))
                        if (0..<6).contains(rr) && (0..<7).contains(cc) { s += kernel[j, i] * image[rr * 7 + cc] }
                    }
                }
                #expect(abs(fast[r * 7 + c] - s) < 1e-9)
            }
        }
    }
}

/// The deblurring networks train with flipped and transposed pairs (`models/msa/train.py --augment
/// dihedral`). That is sound only if the deblur scanner images a transposed or flipped phantom as
/// the transposed or flipped image: equal x and y gradients and a Lissajous of nearly equal
/// frequencies. The raster, whose FFP sweeps x only, is the control that must fail the test.
@Suite struct XSpaceSymmetryTests {
    static let size = 40

    /// The phantom's pixel at (column x, row y) moved by `transform` (x fastest in storage).
    static func transformed(_ image: [Double], _ transform: (Int, Int) -> (Int, Int)) -> [Double] {
        var out = image
        for y in 0..<size {
            for x in 0..<size {
                let (u, v) = transform(x, y)
                out[v * size + u] = image[y * size + x]
            }
        }
        return out
    }

    /// SSIM between the image of each transformed phantom and the transformed image of the phantom
    /// (the phantom's own image simulated once for all of them).
    static func agreement(_ scanner: MPIScanner, _ transforms: [(Int, Int) -> (Int, Int)]) throws -> [Double] {
        var scanner = scanner
        scanner.imageSize = [size, size, 1]
        let phantom = try PhantomGenerator(scanner: scanner).render(.digits, seed: 5)
        let simulator = try SignalSimulator(scanner: scanner), reco = try XSpaceReconstruction(scanner: scanner)
        let image = try reco.reconstruct(simulator.voltages(concentration: phantom.map { $0 * 0.1 })).storage
        let top = image.max()!
        return try transforms.map { transform in
            let moved = NDArray(shape: phantom.shape, storage: transformed(phantom.storage, transform))
            let imageOfMoved = try reco.reconstruct(simulator.voltages(concentration: moved.map { $0 * 0.1 })).storage
            return ImageMetrics.ssim(imageOfMoved.map { $0 / top }, reference: transformed(image, transform).map { $0 / top },
                                     rows: size, columns: size, dataRange: 1)
        }
    }

    static func transpose(_ x: Int, _ y: Int) -> (Int, Int) { (y, x) }

    @Test func deblurScannerImagesTheTransformedPhantomAsTheTransformedImage() throws {
        let transforms: [(name: String, map: (Int, Int) -> (Int, Int))] = [
            ("transpose", Self.transpose), ("flip x", { x, y in (Self.size - 1 - x, y) }),
            ("rotate 90", { x, y in (Self.size - 1 - y, x) })]
        let ssims = try Self.agreement(ScannerPreset.deblurPaper3T.scanner, transforms.map(\.map))
        for (transform, ssim) in zip(transforms, ssims) {
            print("deblur-paper-3T, \(transform.name): SSIM \(ssim)")
            #expect(ssim >= 0.99, "\(transform.name): SSIM \(ssim)")
        }
    }

    @Test func rasterDoesNotImageTheTransposedPhantomAsTheTransposedImage() throws {
        let raster = MPIScanner(
            name: "raster", gradient: [3, 3, 6], baseFrequency: 2.5e6,
            drive: [DriveChannel(axis: 0, amplitude: 0.045, divider: 100, phase: Double.pi / 2),
                    DriveChannel(axis: 1, amplitude: 0.045, divider: 10000, phase: Double.pi / 2)],
            samplingRate: 2.5e6, samplesPerPeriod: 10000, receive: [ReceiveChannel(axis: 0), ReceiveChannel(axis: 1)],
            particle: Particle(coreDiameter: 20e-9, temperature: 293.15), imageSize: [Self.size, Self.size, 1])
        let ssim = try Self.agreement(raster, [Self.transpose])[0]
        print("raster, transpose: SSIM \(ssim)")
        #expect(ssim < 0.99, "raster, transpose: SSIM \(ssim)")
    }
}
