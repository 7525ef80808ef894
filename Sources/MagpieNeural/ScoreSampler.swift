import Foundation
import MagpieCore
import MagpieReco

/// Score-based reconstruction guided by the signals (Wang et al., IWMPI 2025): DDIM sampling
/// from noise with the learned prior (a DDPM noise predictor, `kind` "score-prior"), where each
/// step's estimate of the clean image is pulled to the Tikhonov solution nearest to it for the
/// measurement b = A x + noise (the SM's data consistency, from one SVD per SM) and made
/// non-negative, in the manner of DDNM (Wang et al., ICLR 2023). One network call per step.
///
/// Intensities: the prior was trained on images whose maximum is 0.5-1.5; each measurement is
/// divided by the maximum of its own Tikhonov solution before sampling and the image multiplied
/// back after, so the output is in the SM's units.
public final class ScoreSampler {
    public static let kind = "score-prior"
    public let model: LearnedModel
    /// The model's image grid (rows, columns); an SM grid up to this size is zero-padded to it.
    public let height: Int, width: Int
    /// alpha-bar of the training diffusion, per timestep.
    let alphaBar: [Double]

    public struct Parameters: Sendable, Equatable {
        /// Network calls per image.
        public var steps: Int
        /// Tikhonov lambda of the data-consistency step, relative (times ||S||_F^2 / N) as for Kaczmarz.
        public var lambda: Double
        /// DDIM stochasticity: 0 deterministic given the start, 1 DDPM-like.
        public var eta: Double
        /// Posterior samples averaged per image (run as one batch): their mean estimates the
        /// posterior mean, which has a lower expected error than any one sample.
        public var samples: Int
        public var seed: UInt64

        /// The defaults, chosen on the validation phantoms (docs/BENCHMARKS.md).
        public init(steps: Int = 50, lambda: Double = 1, eta: Double = 1, samples: Int = 4, seed: UInt64 = 0) {
            self.steps = steps
            self.lambda = lambda
            self.eta = eta
            self.samples = samples
            self.seed = seed
        }

        public func validate() throws {
            guard steps >= 1 else { throw NeuralError.parameter("score sampling needs at least one step") }
            guard samples >= 1 else { throw NeuralError.parameter("score sampling needs at least one sample per image") }
            guard lambda >= 0, lambda.isFinite else { throw NeuralError.parameter("the score sampler's lambda must be 0 or more") }
            guard (0...1).contains(eta) else { throw NeuralError.parameter("the score sampler's eta must be between 0 and 1") }
        }
    }

    public init(model: LearnedModel) throws {
        let shape = model.entry.input.shape
        guard model.entry.kind == Self.kind, shape.count == 4, shape[1] == 2, shape[2] > 0, shape[3] > 0 else {
            throw NeuralError.shape(model: model.name, reason: "a score prior takes [any, 2, height, width], the manifest says \(shape)")
        }
        let diffusion = model.entry.training["diffusion"]
        guard diffusion?["schedule"]?.string == "linear", diffusion?["parameterisation"]?.string == "epsilon",
              let steps = diffusion?["steps"]?.number, steps >= 1, let start = diffusion?["beta_start"]?.number,
              let end = diffusion?["beta_end"]?.number else {
            throw NeuralError.manifest(path: model.manifestPath, reason: "model \(model.name) does not record a linear epsilon diffusion under training.diffusion (schedule, steps, beta_start, beta_end, parameterisation)")
        }
        self.model = model
        height = shape[2]
        width = shape[3]
        let count = Int(steps)
        var product = 1.0
        alphaBar = (0..<count).map { t in
            product *= 1 - (start + (end - start) * Double(t) / Double(max(count - 1, 1)))
            return product
        }
    }

    /// The timesteps visited, from the noisiest down to 0.
    func timesteps(_ steps: Int) -> [Int] {
        let last = alphaBar.count - 1
        guard steps > 1 else { return [last] }
        return (0..<steps).map { k in Int((Double(last) * Double(steps - 1 - k) / Double(steps - 1)).rounded()) }
    }

    /// One image per measurement (each the real 2M-vector b of `svd`'s rows), on the SM's grid of
    /// `rows` x `columns` voxels (x fastest), batched through the network together. Sample k of
    /// image i draws its noise from `SeededRandom(seed).derived(i * samples + k)`.
    public func reconstruct(_ measurements: [[Double]], svd: TikhonovSVD, rows: Int, columns: Int,
                            parameters: Parameters = Parameters()) throws -> [[Double]] {
        try parameters.validate()
        guard rows * columns == svd.columns else {
            throw NeuralError.shape(model: model.name, reason: "a \(columns) x \(rows) grid for a system matrix of \(svd.columns) voxels")
        }
        guard rows <= height, columns <= width else {
            throw NeuralError.shape(model: model.name, reason: "the system matrix's \(columns) x \(rows) grid is larger than the model's \(width) x \(height)")
        }
        let plane = height * width, k = parameters.samples, batch = measurements.count * k
        guard batch > 0 else { return [] }
        // Each measurement scaled so its Tikhonov solution peaks at 1 (c is linear in b).
        var coefficients: [[Double]] = [], scales: [Double] = []
        for b in measurements {
            let c = svd.coefficients(b)
            let peak = svd.solution(coefficients: c, lambda: parameters.lambda).max() ?? 0
            let scale = peak > 0 ? peak : 1
            scales.append(scale)
            coefficients += Array(repeating: c.map { $0 / scale }, count: k)
        }
        // One random stream per image, so an image does not depend on what it is batched with.
        var randoms = (0..<batch).map { SeededRandom(seed: parameters.seed).derived(UInt64($0)) }
        var z = (0..<batch).flatMap { i in (0..<plane).map { _ in randoms[i].normal() } }
        var images = [[Double]](repeating: [Double](repeating: 0, count: svd.columns), count: batch)
        let times = timesteps(parameters.steps)
        var input = [Float](repeating: 0, count: batch * 2 * plane)
        for (step, t) in times.enumerated() {
            let a = alphaBar[t], next = step + 1 < times.count ? alphaBar[times[step + 1]] : 1
            for i in 0..<batch {
                for p in 0..<plane {
                    input[(2 * i) * plane + p] = Float(z[i * plane + p])
                    input[(2 * i + 1) * plane + p] = Float(t)
                }
            }
            let eps = try model.run(NDArray(shape: [batch, 2, height, width], storage: input)).storage
            let sigma = parameters.eta * ((1 - next) / (1 - a) * (1 - a / next)).squareRoot()
            let keep = max(1 - next - sigma * sigma, 0).squareRoot()
            for i in 0..<batch {
                // The network's estimate of the clean image, on the SM grid (z = 2 x - 1), bounded
                // because early steps (alpha-bar near 0) amplify the predicted noise.
                var x = [Double](repeating: 0, count: svd.columns)
                for r in 0..<rows {
                    for col in 0..<columns {
                        let p = i * plane + r * width + col
                        let z0 = (z[p] - (1 - a).squareRoot() * Double(eps[p])) / a.squareRoot()
                        x[r * columns + col] = min(max((z0 + 1) / 2, -1), 2)
                    }
                }
                x = svd.consistent(x, coefficients: coefficients[i], lambda: parameters.lambda).map { max($0, 0) }
                images[i] = x
                for p in 0..<plane {
                    let (r, col) = (p / width, p % width)
                    let z0 = r < rows && col < columns ? 2 * x[r * columns + col] - 1 : -1
                    let q = i * plane + p
                    z[q] = next.squareRoot() * z0 + keep * Double(eps[q]) + sigma * randoms[i].normal()
                }
            }
        }
        return scales.enumerated().map { i, scale in
            var mean = [Double](repeating: 0, count: svd.columns)
            for sample in images[(i * k)..<((i + 1) * k)] {
                for v in mean.indices { mean[v] += sample[v] }
            }
            return mean.map { $0 * scale / Double(k) }
        }
    }
}
