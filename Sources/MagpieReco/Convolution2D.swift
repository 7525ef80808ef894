import CFFTW
import Foundation
import MagpieCore

/// Linear 2D convolution of images with a fixed kernel through FFTW (double precision): the
/// image is zero-padded to (ny + ky - 1) x (nx + kx - 1), so nothing wraps around.
/// An instance owns its plans and buffers; use one per thread.
public final class Convolution2D {
    public let imageShape: (rows: Int, columns: Int)
    public let kernelShape: (rows: Int, columns: Int)
    let rows: Int, columns: Int, spectrumColumns: Int
    private let real: UnsafeMutablePointer<Double>
    private let spectrum: UnsafeMutablePointer<fftw_complex>
    private let forwardPlan: fftw_plan
    private let inversePlan: fftw_plan
    /// The kernel's transform, with the kernel's centre moved to (0, 0).
    public private(set) var kernelSpectrum: [Complex<Double>]

    /// `kernel` has odd extents, its centre at (ky/2, kx/2); shape [ky, kx].
    public init(imageRows: Int, imageColumns: Int, kernel: NDArray<Double>) {
        precondition(kernel.rank == 2 && kernel.shape[0] % 2 == 1 && kernel.shape[1] % 2 == 1, "kernel needs odd extents")
        imageShape = (imageRows, imageColumns)
        kernelShape = (kernel.shape[0], kernel.shape[1])
        let (paddedRows, paddedColumns) = (Self.fftFriendly(imageRows + kernel.shape[0] - 1), Self.fftFriendly(imageColumns + kernel.shape[1] - 1))
        rows = paddedRows
        columns = paddedColumns
        spectrumColumns = paddedColumns / 2 + 1
        let realBuffer = fftw_alloc_real(paddedRows * paddedColumns)!
        let complexBuffer = fftw_alloc_complex(paddedRows * (paddedColumns / 2 + 1))!
        real = realBuffer
        spectrum = complexBuffer
        (forwardPlan, inversePlan) = FFTWPlanner.lock.withLock {
            (fftw_plan_dft_r2c_2d(Int32(paddedRows), Int32(paddedColumns), realBuffer, complexBuffer, UInt32(FFTW_ESTIMATE)),
             fftw_plan_dft_c2r_2d(Int32(paddedRows), Int32(paddedColumns), complexBuffer, realBuffer, UInt32(FFTW_ESTIMATE)))
        }
        kernelSpectrum = []
        var wrapped = [Double](repeating: 0, count: rows * columns)
        let (ky, kx) = kernelShape
        for j in 0..<ky {
            for i in 0..<kx {
                let r = (j - ky / 2 + rows) % rows, c = (i - kx / 2 + columns) % columns
                wrapped[r * columns + c] = kernel[j, i]
            }
        }
        kernelSpectrum = transform(wrapped)
    }

    deinit {
        FFTWPlanner.lock.withLock {
            fftw_destroy_plan(forwardPlan)
            fftw_destroy_plan(inversePlan)
        }
        fftw_free(real)
        fftw_free(spectrum)
    }

    /// The smallest m >= n with no prime factor above 7: FFTW is several times faster on those
    /// (a 120 x 120 image with its full 239 x 239 PSF pads to 360, not to 358 = 2 x 179).
    static func fftFriendly(_ n: Int) -> Int {
        var m = n
        while true {
            var r = m
            for p in [2, 3, 5, 7] { while r % p == 0 { r /= p } }
            if r == 1 { return m }
            m += 1
        }
    }

    /// The transform of an image (imageRows x imageColumns, row-major), zero-padded.
    public func transform(image: [Double]) -> [Complex<Double>] {
        var padded = [Double](repeating: 0, count: rows * columns)
        for r in 0..<imageShape.rows {
            for c in 0..<imageShape.columns { padded[r * columns + c] = image[r * imageShape.columns + c] }
        }
        return transform(padded)
    }

    private func transform(_ padded: [Double]) -> [Complex<Double>] {
        _ = UnsafeMutableBufferPointer(start: real, count: rows * columns).initialize(from: padded)
        fftw_execute(forwardPlan)
        let pairs = UnsafeRawPointer(spectrum).assumingMemoryBound(to: Complex<Double>.self)
        return Array(UnsafeBufferPointer(start: pairs, count: rows * spectrumColumns))
    }

    /// Back to an image: the inverse transform, normalised, cropped to the image's extent.
    public func image(from values: [Complex<Double>]) -> [Double] {
        let pairs = UnsafeMutableRawPointer(spectrum).assumingMemoryBound(to: Complex<Double>.self)
        _ = UnsafeMutableBufferPointer(start: pairs, count: rows * spectrumColumns).initialize(from: values)
        fftw_execute(inversePlan)
        let scale = 1 / Double(rows * columns)
        var out = [Double](repeating: 0, count: imageShape.rows * imageShape.columns)
        for r in 0..<imageShape.rows {
            for c in 0..<imageShape.columns { out[r * imageShape.columns + c] = real[r * columns + c] * scale }
        }
        return out
    }

    /// image * kernel ("same" size). With `adjoint`, the correlation with the kernel instead.
    public func apply(_ image: [Double], adjoint: Bool = false) -> [Double] {
        let x = transform(image: image)
        return self.image(from: zip(x, kernelSpectrum).map { adjoint ? $0 * $1.conjugate : $0 * $1 })
    }
}
