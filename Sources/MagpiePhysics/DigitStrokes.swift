import Foundation
import MagpieCore

/// Hand-written-like digits: each digit is a few pen strokes (polylines in a unit box, y down),
/// drawn with a random pen width, slant, rotation, scale and stroke wobble, MNIST-like (MNIST
/// itself cannot be downloaded here).
enum DigitStrokes {
    typealias Point = (x: Double, y: Double)

    static func ellipse(_ cx: Double, _ cy: Double, _ rx: Double, _ ry: Double, from: Double = 0, to: Double = 2 * .pi) -> [Point] {
        (0...24).map { i in
            let t = from + (to - from) * Double(i) / 24
            return (cx + rx * cos(t), cy + ry * sin(t))
        }
    }

    static let strokes: [[[Point]]] = [
        [ellipse(0.5, 0.5, 0.27, 0.4)],
        [[(0.35, 0.25), (0.52, 0.1), (0.52, 0.9)]],
        [[(0.25, 0.3), (0.35, 0.15), (0.55, 0.1), (0.72, 0.2), (0.74, 0.36), (0.6, 0.55), (0.25, 0.9), (0.78, 0.9)]],
        [[(0.25, 0.15), (0.6, 0.1), (0.75, 0.25), (0.6, 0.45), (0.4, 0.48)],
         [(0.6, 0.5), (0.78, 0.68), (0.65, 0.88), (0.25, 0.85)]],
        [[(0.62, 0.9), (0.62, 0.1), (0.2, 0.65), (0.8, 0.65)]],
        [[(0.75, 0.1), (0.3, 0.1), (0.27, 0.45), (0.55, 0.4), (0.75, 0.55), (0.72, 0.8), (0.5, 0.92), (0.25, 0.85)]],
        [[(0.7, 0.12), (0.45, 0.2), (0.3, 0.45), (0.28, 0.7), (0.45, 0.9), (0.68, 0.82), (0.72, 0.62), (0.55, 0.5), (0.3, 0.6)]],
        [[(0.22, 0.12), (0.78, 0.12), (0.45, 0.9)]],
        [ellipse(0.5, 0.3, 0.2, 0.18), ellipse(0.5, 0.7, 0.24, 0.2)],
        [ellipse(0.5, 0.32, 0.22, 0.2), [(0.72, 0.32), (0.6, 0.9)]],
    ]

    /// The digit as a shape centred on the origin in a box of `box` mm.
    static func shape(_ digit: Int, _ random: inout SeededRandom, box: Double) -> Shape {
        let slant = random.uniform(-0.25...0.25), rotation = random.uniform(-0.2...0.2)
        let scale = box * random.uniform(0.85...1.05), aspect = random.uniform(0.8...1.1)
        let pen = box * random.uniform(0.07...0.12)
        let shift = (random.uniform(-0.06...0.06) * box, random.uniform(-0.06...0.06) * box)
        let (c, s) = (cos(rotation), sin(rotation))
        let segments: [(Point, Point)] = strokes[digit].flatMap { stroke -> [(Point, Point)] in
            let points: [Point] = stroke.map { p in
                let wobble = (random.uniform(-0.02...0.02), random.uniform(-0.02...0.02))
                var x = (p.x - 0.5 + wobble.0) * aspect, y = p.y - 0.5 + wobble.1
                x += slant * -y
                return (scale * (c * x - s * y) + shift.0, scale * (s * x + c * y) + shift.1)
            }
            return zip(points, points.dropFirst()).map { ($0, $1) }
        }
        let halfPen = pen / 2
        return Shape { x, y in
            for (a, b) in segments {
                let ex = b.x - a.x, ey = b.y - a.y
                let t = max(0, min(1, ((x - a.x) * ex + (y - a.y) * ey) / max(ex * ex + ey * ey, 1e-12)))
                let dx = x - a.x - t * ex, dy = y - a.y - t * ey
                if dx * dx + dy * dy <= halfPen * halfPen { return 1 }
            }
            return 0
        }
    }
}
