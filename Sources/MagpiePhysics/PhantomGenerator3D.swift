import Foundation
import MagpieCore

/// The phantom kinds drawn in a volume, for 3D scanners: spheres (dots), two tubes side by side
/// (resolution), a branching vessel tree with a stenosis (vessels), eight cubes in a dilution
/// series (concentration), and the plane kinds (shapes, tumours, digits) extruded through part
/// of the volume and tapered, so no two z slices are alike. Millimetres, origin at the FOV
/// centre, y down the image rows, z the third axis; 3 x 3 x 3 supersampling; values in [0, 1];
/// a seed fixes every random choice.
public struct PhantomGenerator3D: Sendable {
    /// Voxels along x, y and z.
    public let size: [Int]
    /// Field of view in millimetres along x, y and z.
    public let fieldOfView: [Double]

    public init(size: [Int], fieldOfView: [Double]) {
        precondition(size.count == 3 && fieldOfView.count == 3, "a volume needs three extents")
        self.size = size
        self.fieldOfView = fieldOfView
    }

    /// The volume of a scanner's image grid.
    public init(scanner: MPIScanner) {
        self.init(size: scanner.imageSize, fieldOfView: scanner.fieldOfView.map { $0 * 1e3 })
    }

    /// Renders a phantom, shape [nz, ny, nx] (x fastest), values in [0, 1].
    public func render(_ kind: PhantomKind, seed: UInt64, options: PhantomOptions = PhantomOptions()) throws -> NDArray<Double> {
        var random = SeededRandom(seed: seed ^ UInt64(PhantomKind.allCases.firstIndex(of: kind)! + 1) &* 0x9E37_79B9 ^ 0x3D)
        return rasterize(try shapes(kind, &random, options))
    }

    /// A region of the volume with a concentration.
    struct Solid {
        var value: (Double, Double, Double) -> Double
    }

    private var half: [Double] { fieldOfView.map { $0 / 2 } }

    private func shapes(_ kind: PhantomKind, _ random: inout SeededRandom, _ options: PhantomOptions) throws -> [Solid] {
        // In-plane sizes follow the x-y field of view (the 2D phantoms' scale); z is often shorter.
        let half = self.half, scale = min(fieldOfView[0], fieldOfView[1])
        switch kind {
        case .dots:
            return (0..<Int(random.uniform(3...8))).map { _ in
                let r = min(random.uniform(0.04...0.08) * scale, 0.8 * half.min()!)
                let c = (0..<3).map { random.uniform(-half[$0] + r...half[$0] - r) }
                let value = random.uniform(0.4...1)
                return Solid { x, y, z in
                    let d = (x - c[0]) * (x - c[0]) + (y - c[1]) * (y - c[1]) + (z - c[2]) * (z - c[2])
                    return d <= r * r ? value : 0
                }
            }
        case .resolution:
            // Two tubes along y (side-on in every z slice through them), round in x-z.
            let d = options.tubeDiameter, gap = options.gap
            guard d > 0, gap >= 0, 2 * d + gap < fieldOfView[0], d < fieldOfView[2] else {
                throw PhantomError.invalid("two tubes of \(d) mm with a \(gap) mm gap do not fit a \(fieldOfView[0]) x \(fieldOfView[2]) mm cross-section")
            }
            let offset = (d + gap) / 2, length = 0.6 * fieldOfView[1]
            return [-offset, offset].map { cx in
                Solid { x, y, z in (x - cx) * (x - cx) + z * z <= d * d / 4 && abs(y) <= length / 2 ? 1 : 0 }
            }
        case .vessels:
            return [vesselTree(&random)]
        case .concentration:
            // OpenMPIData's eight 2 mm cubes, 1.5 times more dilute each, in the central z plane.
            let side = min(2.0, scale / 10), spacing = 2.2 * side
            return (0..<8).map { i in
                let cx = (Double(i % 4) - 1.5) * spacing, cy = (Double(i / 4) - 0.5) * spacing
                let value = pow(1.5, -Double(i))
                return Solid { x, y, z in abs(x - cx) <= side / 2 && abs(y - cy) <= side / 2 && abs(z) <= side / 2 ? value : 0 }
            }
        case .shapes, .tumor, .digits:
            // The plane kind, extruded over 30-80 % of z and tapered to 50-100 % of its size at one end.
            let plane = try PhantomGenerator(size: (size[0], size[1]), fieldOfView: (fieldOfView[0], fieldOfView[1])).shapes(kind, &random, options)
            return plane.map { shape in
                let thickness = random.uniform(0.3...0.8) * fieldOfView[2]
                let centre = random.uniform(-half[2] + thickness / 2...half[2] - thickness / 2)
                let taper = random.uniform(0.5...1)
                return Solid { x, y, z in
                    let t = (z - centre) / thickness + 0.5   // 0 ... 1 through the solid
                    guard t >= 0, t <= 1 else { return 0 }
                    let s = 1 - (1 - taper) * t
                    return shape.value(x / s, y / s)
                }
            }
        }
    }

    /// A trunk from the top of the volume to the bottom (a quadratic Bezier through the volume)
    /// with two branches leaving it, tubes narrowing along their length; one stenosis in the trunk.
    private func vesselTree(_ random: inout SeededRandom) -> Solid {
        let half = self.half, scale = min(fieldOfView[0], fieldOfView[1])
        func point(_ fraction: [Double]) -> [Double] { (0..<3).map { fraction[$0] * half[$0] } }
        func bezier(_ p: [[Double]], width: Double, stenosis: (at: Double, length: Double, narrowing: Double)?) -> [(p: [Double], r: Double)] {
            (0...120).map { i in
                let t = Double(i) / 120, u = 1 - t
                let q = (0..<3).map { u * u * p[0][$0] + 2 * u * t * p[1][$0] + t * t * p[2][$0] }
                var r = width / 2 * (1 - 0.35 * t)
                if let stenosis {
                    let x = abs(t - stenosis.at) / stenosis.length
                    if x < 1 { r *= 1 - (1 - stenosis.narrowing) * 0.5 * (1 + cos(Double.pi * x)) }
                }
                return (q, r)
            }
        }
        let width = min(random.uniform(0.06...0.09) * scale, 0.5 * half[2])
        let trunk = bezier([point([random.uniform(-0.5...0.5), -0.9, random.uniform(-0.5...0.5)]),
                            point([random.uniform(-0.6...0.6), random.uniform(-0.3...0.3), random.uniform(-0.6...0.6)]),
                            point([random.uniform(-0.5...0.5), 0.9, random.uniform(-0.5...0.5)])],
                           width: width, stenosis: (random.uniform(0.3...0.7), random.uniform(0.06...0.12), random.uniform(0.3...0.6)))
        var segments = [trunk]
        for _ in 0..<2 {
            let start = trunk[Int(random.uniform(20...100))].p
            let end = point([random.uniform(-0.9...0.9), random.uniform(-0.9...0.9), random.uniform(-0.9...0.9)])
            let middle = (0..<3).map { (start[$0] + end[$0]) / 2 + random.uniform(-0.2...0.2) * half[$0] }
            segments.append(bezier([start, middle, end], width: width * random.uniform(0.5...0.75), stenosis: nil))
        }
        let points = segments.flatMap { $0 }
        let value = random.uniform(0.6...1)
        return Solid { x, y, z in
            for s in points where abs(s.p[0] - x) <= s.r && abs(s.p[1] - y) <= s.r && abs(s.p[2] - z) <= s.r {
                if (s.p[0] - x) * (s.p[0] - x) + (s.p[1] - y) * (s.p[1] - y) + (s.p[2] - z) * (s.p[2] - z) <= s.r * s.r { return value }
            }
            return 0
        }
    }

    private func rasterize(_ solids: [Solid]) -> NDArray<Double> {
        let (nx, ny, nz) = (size[0], size[1], size[2])
        let step = (0..<3).map { fieldOfView[$0] / Double(size[$0]) }
        let sub = 3
        func coordinate(_ axis: Int, _ i: Int, _ s: Int) -> Double {
            -fieldOfView[axis] / 2 + (Double(i) + (Double(s) + 0.5) / Double(sub)) * step[axis]
        }
        var volume = NDArray<Double>(repeating: 0, shape: [nz, ny, nx])
        for index in 0..<volume.count {
            let (i, j, k) = (index % nx, (index / nx) % ny, index / (nx * ny))
            var sum = 0.0
            for sk in 0..<sub {
                let z = coordinate(2, k, sk)
                for sj in 0..<sub {
                    let y = coordinate(1, j, sj)
                    for si in 0..<sub {
                        // Overlapping solids take the larger value, as a fluid fills the union.
                        let x = coordinate(0, i, si)
                        sum += solids.reduce(0) { max($0, $1.value(x, y, z)) }
                    }
                }
            }
            volume.storage[index] = sum / Double(sub * sub * sub)
        }
        return volume
    }
}
