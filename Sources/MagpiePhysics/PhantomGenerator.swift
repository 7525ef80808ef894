import Foundation
import MagpieCore

/// Procedural phantoms, drawn in millimetres on the field of view and rendered onto a pixel grid
/// with 3 x 3 supersampling. Values are relative concentrations in [0, 1]; a seed fixes every
/// random choice, so a phantom is reproducible from (kind, seed, grid, FOV).
public enum PhantomKind: String, CaseIterable, Sendable, Codable {
    case dots, resolution, vessels, shapes, concentration, tumor, digits
}

public struct PhantomOptions: Sendable {
    /// Edge-to-edge gap of the resolution phantom's two tubes, mm (DC-GAN paper: 1.0 to 3.4).
    public var gap: Double
    /// Tube diameter of the resolution phantom, mm (DC-GAN paper: 1.2).
    public var tubeDiameter: Double
    /// The digit to draw (0-9), or nil for a random one.
    public var digit: Int?

    public init(gap: Double = 2.2, tubeDiameter: Double = 1.2, digit: Int? = nil) {
        self.gap = gap
        self.tubeDiameter = tubeDiameter
        self.digit = digit
    }
}

public enum PhantomError: Error, CustomStringConvertible {
    case invalid(String)
    public var description: String { if case let .invalid(message) = self { return message }; return "" }
}

/// A region of the plane with a concentration: the renderer asks each shape for its value at a point.
struct Shape {
    var value: (Double, Double) -> Double
}

public struct PhantomGenerator: Sendable {
    /// Pixels along x and y.
    public let size: (x: Int, y: Int)
    /// Field of view in millimetres along x and y.
    public let fieldOfView: (x: Double, y: Double)

    public init(size: (x: Int, y: Int), fieldOfView: (x: Double, y: Double)) {
        self.size = size
        self.fieldOfView = fieldOfView
    }

    /// The phantom for a scanner's image grid (2D slice; 1D scanners get the central row's profile).
    public init(scanner: MPIScanner) {
        let fov = scanner.fieldOfView
        self.init(size: (scanner.imageSize[0], scanner.imageSize[1]),
                  fieldOfView: (fov[0] * 1e3, scanner.imageSize[1] > 1 ? fov[1] * 1e3 : fov[0] * 1e3))
    }

    /// Renders a phantom, shape [ny, nx] (x fastest), values in [0, 1].
    public func render(_ kind: PhantomKind, seed: UInt64, options: PhantomOptions = PhantomOptions()) throws -> NDArray<Double> {
        var random = SeededRandom(seed: seed ^ UInt64(PhantomKind.allCases.firstIndex(of: kind)! + 1) &* 0x9E37_79B9)
        let shapes = try self.shapes(kind, &random, options)
        return rasterize(shapes)
    }

    // MARK: - Shapes, in mm with the origin at the FOV centre, y pointing down the image rows

    func shapes(_ kind: PhantomKind, _ random: inout SeededRandom, _ options: PhantomOptions) throws -> [Shape] {
        let half = (x: fieldOfView.x / 2, y: fieldOfView.y / 2)
        let scale = min(fieldOfView.x, fieldOfView.y)
        switch kind {
        case .dots:
            return (0..<Int(random.uniform(3...8))).map { _ in
                let r = random.uniform(0.03...0.07) * scale
                return disc(center: (random.uniform(-half.x + r...half.x - r), random.uniform(-half.y + r...half.y - r)),
                            radius: r, value: random.uniform(0.4...1))
            }
        case .resolution:
            let d = options.tubeDiameter, gap = options.gap
            guard d > 0, gap >= 0, 2 * d + gap < fieldOfView.x else {
                throw PhantomError.invalid("two tubes of \(d) mm with a \(gap) mm gap do not fit a \(fieldOfView.x) mm field of view")
            }
            let offset = (d + gap) / 2
            let length = 0.6 * fieldOfView.y   // tubes seen side-on: bars along y
            return [-offset, offset].map { x in
                Shape { px, py in abs(px - x) <= d / 2 && abs(py) <= length / 2 ? 1 : 0 }
            }
        case .vessels:
            return (0..<Int(random.uniform(1...3.99))).map { _ in vessel(&random, half) }
        case .shapes:
            var list: [Shape] = []
            for _ in 0..<Int(random.uniform(2...4.99)) {
                let center = (random.uniform(-0.5 * half.x...0.5 * half.x), random.uniform(-0.5 * half.y...0.5 * half.y))
                let size = random.uniform(0.12...0.25) * scale
                let value = random.uniform(0.5...1)
                switch Int(random.uniform(0...2.99)) {
                case 0: list.append(star(center: center, outer: size, inner: size * random.uniform(0.35...0.55),
                                         points: Int(random.uniform(4...7.99)), rotation: random.uniform(0...6.28), value: value))
                case 1: list.append(ring(center: center, outer: size, inner: size * random.uniform(0.4...0.7), value: value))
                default: list.append(ellipse(center: center, radii: (size, size * random.uniform(0.4...0.9)),
                                             rotation: random.uniform(0...3.14), value: value))
                }
            }
            return list
        case .concentration:
            // Eight 2 mm cubes in two rows, each 1.5 times more dilute than the last (OpenMPIData).
            let side = min(2.0, scale / 10), spacing = 2.2 * side
            return (0..<8).map { i in
                let cx = (Double(i % 4) - 1.5) * spacing, cy = (Double(i / 4) - 0.5) * spacing
                let value = pow(1.5, -Double(i))
                return Shape { px, py in abs(px - cx) <= side / 2 && abs(py - cy) <= side / 2 ? value : 0 }
            }
        case .tumor:
            return (0..<Int(random.uniform(1...3.99))).map { _ in blob(&random, half, scale) }
        case .digits:
            let digit = options.digit ?? Int(random.uniform(0...9.999))
            guard (0...9).contains(digit) else { throw PhantomError.invalid("digit \(digit) is not 0-9") }
            return [DigitStrokes.shape(digit, &random, box: 0.75 * scale)]
        }
    }

    private func disc(center: (Double, Double), radius: Double, value: Double) -> Shape {
        Shape { x, y in (x - center.0) * (x - center.0) + (y - center.1) * (y - center.1) <= radius * radius ? value : 0 }
    }

    private func ellipse(center: (Double, Double), radii: (Double, Double), rotation: Double, value: Double) -> Shape {
        let (c, s) = (cos(rotation), sin(rotation))
        return Shape { x, y in
            let dx = x - center.0, dy = y - center.1
            let u = (c * dx + s * dy) / radii.0, v = (-s * dx + c * dy) / radii.1
            return u * u + v * v <= 1 ? value : 0
        }
    }

    private func ring(center: (Double, Double), outer: Double, inner: Double, value: Double) -> Shape {
        Shape { x, y in
            let r2 = (x - center.0) * (x - center.0) + (y - center.1) * (y - center.1)
            return r2 <= outer * outer && r2 >= inner * inner ? value : 0
        }
    }

    private func star(center: (Double, Double), outer: Double, inner: Double, points: Int, rotation: Double, value: Double) -> Shape {
        Shape { x, y in
            let dx = x - center.0, dy = y - center.1
            let r = (dx * dx + dy * dy).squareRoot()
            let sector = 2 * Double.pi / Double(points)
            var angle = atan2(dy, dx) - rotation
            angle = angle - sector * floor(angle / sector)          // 0..<sector
            let t = abs(angle / sector * 2 - 1)                       // 1 at the tips, 0 between
            return r <= inner + (outer - inner) * t ? value : 0
        }
    }

    /// A curved tube (quadratic Bezier) with a stenosis: its width narrows to 30-60 % over a short stretch.
    private func vessel(_ random: inout SeededRandom, _ half: (x: Double, y: Double)) -> Shape {
        let p0 = (random.uniform(-half.x...half.x) * 0.9, -half.y * 0.9)
        let p1 = (random.uniform(-half.x...half.x) * 0.8, random.uniform(-half.y...half.y) * 0.5)
        let p2 = (random.uniform(-half.x...half.x) * 0.9, half.y * 0.9)
        let width = random.uniform(0.05...0.09) * min(half.x, half.y) * 2
        let stenosisAt = random.uniform(0.3...0.7), stenosisLength = random.uniform(0.06...0.14)
        let narrowing = random.uniform(0.3...0.6)
        let value = random.uniform(0.6...1)
        let steps = 200
        let curve: [(x: Double, y: Double, halfWidth: Double)] = (0...steps).map { i in
            let t = Double(i) / Double(steps), u = 1 - t
            let x = u * u * p0.0 + 2 * u * t * p1.0 + t * t * p2.0
            let y = u * u * p0.1 + 2 * u * t * p1.1 + t * t * p2.1
            let inStenosis = abs(t - stenosisAt) / stenosisLength
            let factor = inStenosis < 1 ? 1 - (1 - narrowing) * 0.5 * (1 + cos(Double.pi * inStenosis)) : 1
            return (x, y, width / 2 * factor)
        }
        return Shape { x, y in
            for point in curve where abs(point.x - x) <= point.halfWidth && abs(point.y - y) <= point.halfWidth {
                if (point.x - x) * (point.x - x) + (point.y - y) * (point.y - y) <= point.halfWidth * point.halfWidth { return value }
            }
            return 0
        }
    }

    /// A tumour-like blob: a wobbly outline r(theta) = r0 (1 + sum a_k cos(k theta + phi_k)) with a
    /// brighter rim and a slightly darker core.
    private func blob(_ random: inout SeededRandom, _ half: (x: Double, y: Double), _ scale: Double) -> Shape {
        let r0 = random.uniform(0.06...0.15) * scale
        let center = (random.uniform(-half.x + 1.6 * r0...half.x - 1.6 * r0), random.uniform(-half.y + 1.6 * r0...half.y - 1.6 * r0))
        let harmonics = (2...5).map { k in (k: Double(k), a: random.uniform(0...0.12), phase: random.uniform(0...6.28)) }
        let value = random.uniform(0.6...1)
        return Shape { x, y in
            let dx = x - center.0, dy = y - center.1
            let theta = atan2(dy, dx)
            let edge = r0 * (1 + harmonics.reduce(0) { $0 + $1.a * cos($1.k * theta + $1.phase) })
            let r = (dx * dx + dy * dy).squareRoot()
            guard r <= edge else { return 0 }
            return value * (0.75 + 0.25 * (r / edge) * (r / edge))
        }
    }

    // MARK: - Rasterisation

    private func rasterize(_ shapes: [Shape]) -> NDArray<Double> {
        let (nx, ny) = size
        let dx = fieldOfView.x / Double(nx), dy = fieldOfView.y / Double(ny)
        let sub = 3
        var image = NDArray<Double>(repeating: 0, shape: [ny, nx])
        for j in 0..<ny {
            for i in 0..<nx {
                var sum = 0.0
                for sj in 0..<sub {
                    for si in 0..<sub {
                        let x = -fieldOfView.x / 2 + (Double(i) + (Double(si) + 0.5) / Double(sub)) * dx
                        let y = -fieldOfView.y / 2 + (Double(j) + (Double(sj) + 0.5) / Double(sub)) * dy
                        // Overlapping shapes take the larger value, as a fluid fills the union.
                        sum += shapes.reduce(0) { max($0, $1.value(x, y)) }
                    }
                }
                image[j, i] = sum / Double(sub * sub)
            }
        }
        return image
    }
}

extension PhantomGenerator {
    /// The phantom as a tracer concentration (mol Fe / L, `peak` at its brightest) on the scanner's
    /// own grid, x fastest: the middle row for a 1D scanner, the image for 2D, and for 3D the
    /// phantom drawn in the volume (PhantomGenerator3D).
    public static func concentration(_ kind: PhantomKind, for scanner: MPIScanner, seed: UInt64, options: PhantomOptions = PhantomOptions(),
                                     peak: Double) throws -> NDArray<Double> {
        let size = scanner.imageSize
        if size[2] > 1 {
            return try PhantomGenerator3D(scanner: scanner).render(kind, seed: seed, options: options).map { $0 * peak }
        }
        let image = try PhantomGenerator(scanner: scanner).render(kind, seed: seed, options: options).map { $0 * peak }
        if size[1] == 1 {
            return NDArray(shape: [size[0]], storage: (0..<size[0]).map { image[image.shape[0] / 2, $0] })
        }
        return image
    }
}
