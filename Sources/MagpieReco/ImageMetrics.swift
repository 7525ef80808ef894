import Foundation
import MagpieCore

/// Image-quality figures used throughout Magpie's evaluations.
public enum ImageMetrics {
    /// Peak signal-to-noise ratio, 10 log10(R^2 / MSE), R the data range (scikit-image's
    /// `peak_signal_noise_ratio`).
    public static func psnr(_ image: [Double], reference: [Double], dataRange: Double) -> Double {
        precondition(image.count == reference.count && !image.isEmpty, "PSNR needs two images of the same size")
        let mse = zip(image, reference).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(image.count)
        return 10 * log10(dataRange * dataRange / mse)
    }

    /// Normalised RMSE with the Frobenius norm: ||x - ref||_F / ||ref||_F.
    public static func nrmse(_ image: [Double], reference: [Double]) -> Double {
        let error = zip(image, reference).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let norm = reference.reduce(0) { $0 + $1 * $1 }
        return (error / norm).squareRoot()
    }

    /// The FSC-loss paper's pSNR (its eq. 15): 20 log10(sqrt(K) ||ref||_inf / ||x - ref||_2), K the element count.
    public static func pSNR(_ image: [Double], reference: [Double]) -> Double {
        let peak = reference.map(abs).max() ?? 0
        let error = zip(image, reference).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        return 20 * log10(Double(reference.count).squareRoot() * peak / error)
    }

    /// Structural similarity as scikit-image computes it with `gaussian_weights=True, sigma=1.5,
    /// use_sample_covariance=False` (Wang et al. 2004): Gaussian statistics (truncate 3.5, so an
    /// 11-pixel window) with scipy's 'reflect' borders, K1 0.01, K2 0.03, and the mean of the SSIM
    /// map without the 5-pixel border.
    public static func ssim(_ image: [Double], reference: [Double], rows: Int, columns: Int, dataRange: Double) -> Double {
        precondition(image.count == rows * columns && reference.count == rows * columns, "SSIM: image sizes differ")
        let sigma = 1.5, radius = Int(3.5 * sigma + 0.5)
        let weights: [Double] = {
            let raw = (-radius...radius).map { exp(-0.5 * Double($0 * $0) / (sigma * sigma)) }
            let sum = raw.reduce(0, +)
            return raw.map { $0 / sum }
        }()
        func reflect(_ i: Int, _ n: Int) -> Int {
            // scipy 'reflect': (d c b a | a b c d | d c b a), for any distance.
            var i = i
            let period = 2 * n
            i = ((i % period) + period) % period
            return i < n ? i : period - 1 - i
        }
        func filter(_ x: [Double]) -> [Double] {
            var horizontal = [Double](repeating: 0, count: x.count)
            for r in 0..<rows {
                for c in 0..<columns {
                    var s = 0.0
                    for (k, w) in weights.enumerated() { s += w * x[r * columns + reflect(c + k - radius, columns)] }
                    horizontal[r * columns + c] = s
                }
            }
            var out = [Double](repeating: 0, count: x.count)
            for r in 0..<rows {
                for c in 0..<columns {
                    var s = 0.0
                    for (k, w) in weights.enumerated() { s += w * horizontal[reflect(r + k - radius, rows) * columns + c] }
                    out[r * columns + c] = s
                }
            }
            return out
        }
        let ux = filter(image), uy = filter(reference)
        let uxx = filter(image.map { $0 * $0 }), uyy = filter(reference.map { $0 * $0 })
        let uxy = filter(zip(image, reference).map { $0 * $1 })
        let c1 = (0.01 * dataRange) * (0.01 * dataRange), c2 = (0.03 * dataRange) * (0.03 * dataRange)
        let pad = (2 * radius + 1 - 1) / 2
        var total = 0.0, count = 0
        for r in pad..<max(pad, rows - pad) {
            for c in pad..<max(pad, columns - pad) {
                let i = r * columns + c
                let vx = uxx[i] - ux[i] * ux[i], vy = uyy[i] - uy[i] * uy[i], vxy = uxy[i] - ux[i] * uy[i]
                total += ((2 * ux[i] * uy[i] + c1) * (2 * vxy + c2)) / ((ux[i] * ux[i] + uy[i] * uy[i] + c1) * (vx + vy + c2))
                count += 1
            }
        }
        return total / Double(count)
    }
}
