import Foundation
import MagpieCore

/// Classical deblurring of native x-space images by the scanner's Langevin PSF.
public enum Deconvolution {
    /// Wiener filter X = conj(H) Y / (|H|^2 + k), k the noise-to-signal power ratio.
    public static func wiener(_ image: NDArray<Double>, kernel: NDArray<Double>, noiseToSignal k: Double = 1e-2) -> NDArray<Double> {
        let (rows, columns) = (image.shape[image.rank - 2], image.shape[image.rank - 1])
        let convolution = Convolution2D(imageRows: rows, imageColumns: columns, kernel: kernel)
        let y = convolution.transform(image: image.storage)
        let x = zip(y, convolution.kernelSpectrum).map { y, h -> Complex<Double> in
            let power = h.lengthSquared
            return h.conjugate * y * Complex(1 / (power + k), 0)
        }
        return NDArray(shape: image.shape, storage: convolution.image(from: x))
    }

    /// Richardson-Lucy: x <- x (h~ * (y / (h * x))), started from the image itself; values stay >= 0.
    public static func richardsonLucy(_ image: NDArray<Double>, kernel: NDArray<Double>, iterations: Int = 30) -> NDArray<Double> {
        let (rows, columns) = (image.shape[image.rank - 2], image.shape[image.rank - 1])
        let convolution = Convolution2D(imageRows: rows, imageColumns: columns, kernel: kernel)
        let observed = image.storage.map { max($0, 0) }
        let epsilon = 1e-12 * (observed.max() ?? 1)
        var estimate = observed
        for _ in 0..<iterations {
            let blurred = convolution.apply(estimate)
            let ratio = zip(observed, blurred).map { $0 / max($1, epsilon) }
            let correction = convolution.apply(ratio, adjoint: true)
            estimate = zip(estimate, correction).map { max($0 * $1, 0) }
        }
        return NDArray(shape: image.shape, storage: estimate)
    }
}
