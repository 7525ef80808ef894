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
///
/// Conventions (docs/PHYSICS.md): coil c records u_c = -p_c d/dt of the moment along its axis
/// (`Polarity` handles chains that record -u); the FFP is x_s = -B_D / G; voxels are x fastest
/// (MDF order "xyz"), images shaped [nz, ny, nx] with index 0 at -FOV/2 on every axis.
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
        axes = Array(Set(scanner.activeDrive.map(\.axis))).sorted()
        guard self.imageSize.count == 3, self.imageSize.allSatisfy({ $0 >= 1 }) else {
            throw ScannerError(scanner: scanner.name, message: "image size needs three positive extents")
        }
        for axis in axes where !scanner.receive.contains(where: { $0.axis == axis }) {
            throw ScannerError(scanner: scanner.name, message: "x-space needs a receive channel along every driven axis; none along axis \(axis)")
        }
    }

    /// The samples of one cycle that x-space uses: FFP position in pixels, the unit direction of
    /// the drive-field rate z^ and 1 / |z| for each. Depends on the scanner only.
    struct Trajectory: Sendable {
        let samples: [Int]
        let pixel: [SIMD3<Double>]
        let direction: [SIMD3<Double>]
        let inverseRate: [Double]
    }

    func trajectory() -> Trajectory {
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

    /// The reconstruction as a fixed sparse linear map: the fit's normal equations depend on the
    /// trajectory only, so each pixel is a weighted sum of samples' voltages (compressed rows:
    /// pixel p uses entries rowStart[p]..<rowStart[p + 1]). Built once per scanner and grid.
    public struct Plan: Sendable {
        public let imageSize: [Int]
        public let channels: Int
        public let samples: Int
        let rowStart: [Int]
        /// Index into the voltages, c * V + v.
        let source: [Int32]
        let weight: [Double]
        let restoresOffset: Bool

        public var nonZeros: Int { weight.count }
    }

    public func plan() -> Plan {
        let path = trajectory()
        let fit = MatrixImageFit(dimensions: axes.count, axes: axes)
        let coils = axes.map { axis in scanner.receive.firstIndex { $0.axis == axis }! }
        var sigma = samplingSigma(path.samples.count)
        var normal = splat(path, fit, sigma: sigma)
        // Pixels the trajectory does not reach (the slow corners of a Lissajous FOV) take their
        // equations from successively wider kernels; covered pixels keep the sharp one.
        var pixelSigma = [Double](repeating: sigma, count: normal.count)
        let floor = 1e-2 * (normal.map(\.weight).max() ?? 1)
        while normal.contains(where: { $0.weight < floor }) && sigma < 16 {
            sigma *= 1.5
            let wide = splat(path, fit, sigma: sigma)
            for i in normal.indices where normal[i].weight < floor {
                normal[i] = wide[i]
                pixelSigma[i] = sigma
            }
        }
        // image[p] = t . m with A m = b and b linear in the data, so image[p] = g . b with A g = t.
        let (nx, ny) = (imageSize[0], imageSize[1])
        let rows = path.direction.map { fit.rows(direction: $0) }
        // Samples bucketed by nearest pixel, so each pixel visits only its neighbourhood.
        var buckets: [SIMD3<Int>: [Int]] = [:]
        for (i, point) in path.pixel.enumerated() {
            buckets[SIMD3(Int(point.x.rounded()), Int(point.y.rounded()), Int(point.z.rounded())), default: []].append(i)
        }
        var rowStart = [0], source: [Int32] = [], weight: [Double] = []
        for p in normal.indices {
            let g = fit.traceFunctional(normal[p])
            // The kernel support of `splat`: samples whose nearest pixel is within ceil(3 sigma).
            let sigma = pixelSigma[p], reach = Int((3 * sigma).rounded(.up))
            let center = SIMD3<Int>(p % nx, (p / nx) % ny, p / (nx * ny))
            let (ry, rz) = (imageSize[1] > 1 ? reach : 0, imageSize[2] > 1 ? reach : 0)
            for bz in (center.z - rz)...(center.z + rz) {
                for by in (center.y - ry)...(center.y + ry) {
                    for bx in (center.x - reach)...(center.x + reach) {
                        for i in buckets[SIMD3(bx, by, bz)] ?? [] {
                            var d = path.pixel[i] - SIMD3<Double>(Double(center.x), Double(center.y), Double(center.z))
                            if imageSize[1] == 1 { d.y = 0 }
                            if imageSize[2] == 1 { d.z = 0 }
                            let w = exp(-(d * d).sum() / (2 * sigma * sigma))
                            for (a, row) in rows[i].enumerated() {
                                let coefficient = zip(g, row).reduce(0) { $0 + $1.0 * $1.1 }
                                guard coefficient != 0 else { continue }
                                let c = coils[a]
                                source.append(Int32(c * scanner.samplesPerPeriod + path.samples[i]))
                                weight.append(w * coefficient * path.inverseRate[i] / scanner.receive[c].sensitivity)
                            }
                        }
                    }
                }
            }
            rowStart.append(weight.count)
        }
        return Plan(imageSize: imageSize, channels: scanner.receive.count, samples: scanner.samplesPerPeriod,
                    rowStart: rowStart, source: source, weight: weight, restoresOffset: scanner.receiveFilter)
    }

    /// The native image of one period of voltages (C x V, background already subtracted), shape
    /// [nz, ny, nx], in particle-moment units (n m beta per voxel).
    public func reconstruct(_ voltages: NDArray<Double>, plan: Plan? = nil) throws -> NDArray<Double> {
        let plan = plan ?? self.plan()
        return try XSpaceReconstruction.apply(plan, to: voltages.storage, shape: voltages.shape)
    }

    /// Applies a plan to one period given as C x V values. `sign` is the receive chain's polarity
    /// (`Polarity`): +1 for Magpie's convention u = -p d/dt(moment), -1 for a chain that records -u.
    public static func apply(_ plan: Plan, to voltages: [Double], shape: [Int], sign: Double = 1) throws -> NDArray<Double> {
        var image = try product(plan, voltages, shape: shape)
        if sign != 1 { for i in image.indices { image[i] *= sign } }
        if plan.restoresOffset {
            let sorted = image.sorted()
            let floor = sorted[max(0, sorted.count / 20 - 1)]
            image = image.map { $0 - floor }
        }
        return NDArray(shape: plan.imageSize.reversed(), storage: image)
    }

    /// The polarity `auto` chooses from one period: the sign that puts its image's dominant mass
    /// above the background, judged before the offset is restored (which would hide it).
    public static func dominantSign(_ plan: Plan, of voltages: [Double], shape: [Int]) throws -> Double {
        Polarity.dominantSign(of: try product(plan, voltages, shape: shape), size: plan.imageSize)
    }

    /// The image before polarity and offset: the plan's sparse rows times the voltages.
    private static func product(_ plan: Plan, _ voltages: [Double], shape: [Int]) throws -> [Double] {
        guard shape == [plan.channels, plan.samples] else {
            throw ScannerError(scanner: "x-space", message: "needs \(plan.channels) x \(plan.samples) voltages, got shape \(shape)")
        }
        var image = [Double](repeating: 0, count: plan.rowStart.count - 1)
        plan.source.withUnsafeBufferPointer { source in
            plan.weight.withUnsafeBufferPointer { weight in
                voltages.withUnsafeBufferPointer { u in
                    for p in image.indices {
                        var sum = 0.0
                        for k in plan.rowStart[p]..<plan.rowStart[p + 1] { sum += weight[k] * u[Int(source[k])] }
                        image[p] = sum
                    }
                }
            }
        }
        return image
    }

    /// Kernel width from the sample density: sigma is the mean sample spacing (one sample per
    /// sigma^D), at least 0.7 px. About 1.7 px for openmpi-2d on 64 x 64, well inside its PSF.
    private func samplingSigma(_ count: Int) -> Double {
        let used = imageSize.filter { $0 > 1 }
        let volume = Double(used.reduce(1, *))
        return max(0.7, pow(volume / Double(max(count, 1)), 1 / Double(max(used.count, 1))))
    }

    private func splat(_ path: Trajectory, _ fit: MatrixImageFit, sigma: Double) -> [MatrixImageFit.Equations] {
        let (nx, ny, nz) = (imageSize[0], imageSize[1], imageSize[2])
        var equations = [MatrixImageFit.Equations](repeating: fit.empty, count: nx * ny * nz)
        let radius = Int((3 * sigma).rounded(.up))
        let inverse = 1 / (2 * sigma * sigma)
        for i in path.pixel.indices {
            let point = path.pixel[i]
            let rows = fit.rows(direction: path.direction[i])
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

    /// The weighted normal matrix sum_i w_i e_i e_i^T of a pixel (its right-hand side is the
    /// data's, applied later through `traceFunctional`), and the total weight.
    struct Equations {
        var normal: [Double]      // unknowns x unknowns, row-major
        var weight: Double

        mutating func add(_ rows: [[Double]], weight w: Double) {
            let n = rows.first?.count ?? 0
            for row in rows {
                for i in 0..<n where row[i] != 0 {
                    for j in 0..<n { normal[i * n + j] += w * row[i] * row[j] }
                }
            }
            weight += w
        }
    }

    var empty: Equations { Equations(normal: [Double](repeating: 0, count: pairs.count * pairs.count), weight: 0) }

    /// The coefficients of one equation per driven axis a: y_a = sum_b M_ab z^_b.
    func rows(direction: SIMD3<Double>) -> [[Double]] {
        (0..<dimensions).map { a in
            var coefficients = [Double](repeating: 0, count: pairs.count)
            for b in 0..<dimensions {
                let key = a <= b ? (a, b) : (b, a)
                let k = pairs.firstIndex { $0 == key }!
                coefficients[k] += direction[axes[b]]
            }
            return coefficients
        }
    }

    /// g with A g = t, t selecting trace(M) / D, for the regularised normal matrix A: the
    /// pixel's value is then g . b for right-hand side b. Zero where the system is singular.
    func traceFunctional(_ equations: Equations) -> [Double] {
        let n = pairs.count
        guard equations.weight > 0 else { return [Double](repeating: 0, count: n) }
        var a = equations.normal
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
        var b = pairs.map { $0.0 == $0.1 ? 1 / Double(dimensions) : 0 }
        // Gaussian elimination with partial pivoting (n <= 6); A is symmetric, so A^T g = t is A g = t.
        for column in 0..<n {
            let pivot = (column..<n).max { abs(a[$0 * n + column]) < abs(a[$1 * n + column]) }!
            if abs(a[pivot * n + column]) < 1e-300 { return [Double](repeating: 0, count: n) }
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
        var g = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var s = b[row]
            for j in (row + 1)..<n { s -= a[row * n + j] * g[j] }
            g[row] = s / a[row * n + row]
        }
        return g
    }
}
