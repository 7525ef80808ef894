import Foundation
import MagpieCore

/// x-space reconstruction (Goodwill & Conolly) that uses every receive channel.
///
/// Each sample's voltages, divided by the coil sensitivities, are y = M z: z = G x_s' is the
/// rate of the drive field (per driven axis) and M is the matrix image c * H, H the Langevin
/// matrix PSF beta [L'(xi) B^B^T + L(xi)/xi (I - B^B^T)]. Classic scalar x-space keeps only the
/// projection onto the FFP velocity, z^T y / |z|^2 = z^T M z / |z|^2; on a Lissajous trajectory
/// the velocity direction changes from line to line, and so does that projection, which imprints
/// the trajectory on the image. Magpie instead fits the symmetric M in each pixel by weighted
/// least squares over the nearby samples (velocity compensation: each equation is divided by |z|),
/// and returns trace(M) / D, the image of the direction-averaged PSF that `LangevinPSF` describes.
/// Where the samples near a pixel all move one way, an anisotropy penalty makes the fit the
/// classic projection. In 1D the fit is exactly u / (p G x_s').
///
/// Lost first harmonic / DC: with the receive filter on, the drive frequency is missing from the
/// signal, which takes a smooth, nearly constant offset out of the image. Magpie restores only
/// what a single full field of view allows: the image is shifted so that its lowest 5 % of pixels
/// (a phantom's empty border) sit at zero. Partial-FOV continuity (Lu et al.) needs overlapping
/// patches and is not done here.
public struct XSpaceReconstruction: Sendable {
    public let scanner: MPIScanner
    /// Pixels per axis of the image (x, y, z).
    public let imageSize: [Int]
    /// Samples slower than this fraction of the peak FFP speed are skipped: velocity
    /// compensation divides by the speed, which vanishes at the turning points.
    public let minimumSpeedFraction: Double
    /// Driven axes, in order; the matrix image lives on these.
    let axes: [Int]

    public init(scanner: MPIScanner, imageSize: [Int]? = nil, minimumSpeedFraction: Double = 0.1) throws {
        try scanner.validate()
        self.scanner = scanner
        self.imageSize = imageSize ?? scanner.imageSize
        self.minimumSpeedFraction = minimumSpeedFraction
        axes = Array(Set(scanner.drive.map(\.axis))).sorted()
        guard self.imageSize.count == 3, self.imageSize.allSatisfy({ $0 >= 1 }) else {
            throw ScannerError(scanner: scanner.name, message: "image size needs three positive extents")
        }
        for axis in axes where !scanner.receive.contains(where: { $0.axis == axis }) {
            throw ScannerError(scanner: scanner.name, message: "x-space needs a receive channel along every driven axis; none along axis \(axis)")
        }
    }

    /// The samples of one cycle that x-space uses: FFP position in pixels, the unit direction of
    /// the drive-field rate z^ and 1 / |z| for each. Depends on the scanner only.
    public struct Trajectory: Sendable {
        public let samples: [Int]
        public let pixel: [SIMD3<Double>]
        public let direction: [SIMD3<Double>]
        public let inverseRate: [Double]
    }

    public func trajectory() -> Trajectory {
        let fov = scanner.fieldOfView, size = imageSize.map(Double.init)
        var samples: [Int] = [], pixel: [SIMD3<Double>] = [], direction: [SIMD3<Double>] = [], inverseRate: [Double] = []
        let states = (0..<scanner.samplesPerPeriod).map { scanner.fieldFreePoint(at: scanner.time(ofSample: $0)) }
        let speeds = states.map { state in state.velocity.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        let threshold = minimumSpeedFraction * (speeds.max() ?? 0)
        for (v, state) in states.enumerated() where speeds[v] > threshold && speeds[v] > 0 {
            var p = SIMD3<Double>.zero, z = SIMD3<Double>.zero
            for axis in 0..<3 {
                let fraction: Double = (state.position[axis] + fov[axis] / 2) / fov[axis]
                p[axis] = fraction * size[axis] - 0.5
                z[axis] = scanner.gradient[axis] * state.velocity[axis]
            }
            let rate = (z * z).sum().squareRoot()
            samples.append(v)
            pixel.append(p)
            direction.append(z / rate)
            inverseRate.append(1 / rate)
        }
        return Trajectory(samples: samples, pixel: pixel, direction: direction, inverseRate: inverseRate)
    }

    /// The native image of one period of voltages (C x V, background already subtracted), shape
    /// [nz, ny, nx], in particle-moment units (n m beta per voxel, per mol/L of the preset's tracer).
    public func reconstruct(_ voltages: NDArray<Double>, trajectory: Trajectory? = nil) throws -> NDArray<Double> {
        let channels = scanner.receive.count
        guard voltages.shape == [channels, scanner.samplesPerPeriod] else {
            throw ScannerError(scanner: scanner.name, message: "x-space needs \(channels) x \(scanner.samplesPerPeriod) voltages, got shape \(voltages.shape)")
        }
        let path = trajectory ?? self.trajectory()
        // y / |z| per sample along each driven axis (the first receive channel on that axis).
        let coils = axes.map { axis in scanner.receive.firstIndex { $0.axis == axis }! }
        let measured = path.samples.indices.map { i -> [Double] in
            coils.map { c in voltages[c, path.samples[i]] / scanner.receive[c].sensitivity * path.inverseRate[i] }
        }
        let fit = MatrixImageFit(dimensions: axes.count, axes: axes)
        var sigma = samplingSigma(path.samples.count)
        var normal = splat(path, measured, fit, sigma: sigma)
        // Pixels the trajectory does not reach (the slow corners of a Lissajous FOV) take their
        // equations from successively wider kernels; covered pixels keep the sharp one.
        let floor = 1e-2 * (normal.map(\.weight).max() ?? 1)
        while normal.contains(where: { $0.weight < floor }) && sigma < 16 {
            sigma *= 1.5
            let wide = splat(path, measured, fit, sigma: sigma)
            for i in normal.indices where normal[i].weight < floor { normal[i] = wide[i] }
        }
        var image = normal.map { fit.solve($0) }
        if scanner.receiveFilter { restoreOffset(&image) }
        return NDArray(shape: imageSize.reversed(), storage: image)
    }

    /// Kernel width from the sample density: sigma is the mean sample spacing (one sample per
    /// sigma^D), at least 0.7 px. About 1.7 px for openmpi-2d on 64 x 64, well inside its PSF.
    private func samplingSigma(_ count: Int) -> Double {
        let used = imageSize.filter { $0 > 1 }
        let volume = Double(used.reduce(1, *))
        return max(0.7, pow(volume / Double(max(count, 1)), 1 / Double(max(used.count, 1))))
    }

    private func splat(_ path: Trajectory, _ measured: [[Double]], _ fit: MatrixImageFit, sigma: Double) -> [MatrixImageFit.Equations] {
        let (nx, ny, nz) = (imageSize[0], imageSize[1], imageSize[2])
        var equations = [MatrixImageFit.Equations](repeating: fit.empty, count: nx * ny * nz)
        let radius = Int((3 * sigma).rounded(.up))
        let inverse = 1 / (2 * sigma * sigma)
        for i in path.pixel.indices {
            let point = path.pixel[i]
            let rows = fit.rows(direction: path.direction[i], measured: measured[i])
            let cx = Int(point.x.rounded()), cy = Int(point.y.rounded()), cz = Int(point.z.rounded())
            let rz = nz > 1 ? radius : 0, ry = ny > 1 ? radius : 0
            for z in max(0, cz - rz)...min(nz - 1, max(0, cz + rz)) {
                for y in max(0, cy - ry)...min(ny - 1, max(0, cy + ry)) {
                    for x in max(0, cx - radius)...min(nx - 1, max(0, cx + radius)) {
                        let dx = Double(x) - point.x, dy = ny > 1 ? Double(y) - point.y : 0, dz = nz > 1 ? Double(z) - point.z : 0
                        let w = exp(-(dx * dx + dy * dy + dz * dz) * inverse)
                        equations[(z * ny + y) * nx + x].add(rows, weight: w)
                    }
                }
            }
        }
        return equations
    }

    private func restoreOffset(_ image: inout [Double]) {
        let sorted = image.sorted()
        let floor = sorted[max(0, sorted.count / 20 - 1)]
        image = image.map { $0 - floor }
    }
}

/// Weighted least squares for a symmetric D x D matrix M from equations y = M z^ (D = 1, 2, 3),
/// with a small penalty on anisotropy so that a single direction gives the classic projection.
struct MatrixImageFit: Sendable {
    let dimensions: Int
    /// Unknowns: M_ab for a <= b, in a fixed order.
    let pairs: [(Int, Int)]
    let axes: [Int]

    init(dimensions: Int, axes: [Int]) {
        self.dimensions = dimensions
        self.axes = axes
        pairs = (0..<dimensions).flatMap { a in (a..<dimensions).map { (a, $0) } }
    }

    struct Equations {
        var normal: [Double]      // unknowns x unknowns, row-major
        var right: [Double]
        var weight: Double

        mutating func add(_ rows: [(coefficients: [Double], value: Double)], weight w: Double) {
            let n = right.count
            for row in rows {
                for i in 0..<n where row.coefficients[i] != 0 {
                    right[i] += w * row.coefficients[i] * row.value
                    for j in 0..<n { normal[i * n + j] += w * row.coefficients[i] * row.coefficients[j] }
                }
            }
            weight += w
        }
    }

    var empty: Equations {
        Equations(normal: [Double](repeating: 0, count: pairs.count * pairs.count),
                  right: [Double](repeating: 0, count: pairs.count), weight: 0)
    }

    /// One equation per driven axis a: y_a = sum_b M_ab z^_b.
    func rows(direction: SIMD3<Double>, measured: [Double]) -> [(coefficients: [Double], value: Double)] {
        (0..<dimensions).map { a in
            var coefficients = [Double](repeating: 0, count: pairs.count)
            for b in 0..<dimensions {
                let key = a <= b ? (a, b) : (b, a)
                let k = pairs.firstIndex { $0 == key }!
                coefficients[k] += direction[axes[b]]
            }
            return (coefficients, measured[a])
        }
    }

    /// trace(M) / D of the regularised solution.
    func solve(_ equations: Equations) -> Double {
        let n = pairs.count
        guard equations.weight > 0 else { return 0 }
        var a = equations.normal, b = equations.right
        // Anisotropy penalty: (M_aa - M_bb)^2 for a < b and (2 M_ab)^2, scaled to the equations.
        let scale = 1e-3 * (0..<n).reduce(0) { $0 + a[$1 * n + $1] } / Double(n)
        for (k, pair) in pairs.enumerated() where pair.0 != pair.1 { a[k * n + k] += 4 * scale }
        for i in 0..<dimensions {
            for j in (i + 1)..<max(i + 1, dimensions) {
                let p = pairs.firstIndex { $0 == (i, i) }!, q = pairs.firstIndex { $0 == (j, j) }!
                a[p * n + p] += scale; a[q * n + q] += scale
                a[p * n + q] -= scale; a[q * n + p] -= scale
            }
        }
        // Gaussian elimination with partial pivoting (n <= 6).
        for column in 0..<n {
            let pivot = (column..<n).max { abs(a[$0 * n + column]) < abs(a[$1 * n + column]) }!
            if abs(a[pivot * n + column]) < 1e-300 { return 0 }
            if pivot != column {
                for j in 0..<n { a.swapAt(pivot * n + j, column * n + j) }
                b.swapAt(pivot, column)
            }
            for row in (column + 1)..<n {
                let factor = a[row * n + column] / a[column * n + column]
                for j in column..<n { a[row * n + j] -= factor * a[column * n + j] }
                b[row] -= factor * b[column]
            }
        }
        var m = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var s = b[row]
            for j in (row + 1)..<n { s -= a[row * n + j] * m[j] }
            m[row] = s / a[row * n + row]
        }
        var trace = 0.0
        for (k, pair) in pairs.enumerated() where pair.0 == pair.1 { trace += m[k] }
        return trace / Double(dimensions)
    }
}
