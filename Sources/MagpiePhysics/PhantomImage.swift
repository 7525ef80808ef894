import Foundation
import MagpieCore

/// A phantom the user brings: an image (a PNG's luminance, or the values of a 1D/2D/3D array)
/// covering a field of view centred on the scanner's, placed on the scanner's grid. Arrays are
/// x fastest as `/_magpie/phantom` is ([ny, nx], [nz, ny, nx]); a PNG's row 0 is y index 0, the
/// way Magpie's previews draw images.
public struct PhantomImage: Sendable {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// [nx], [ny, nx] or [nz, ny, nx].
    public let values: NDArray<Double>
    /// Metres per axis (x, y, z) that the image covers; nil: the scanner's field of view.
    public let fieldOfView: [Double]?

    public init(values: NDArray<Double>, fieldOfView: [Double]? = nil) throws {
        guard (1...3).contains(values.rank), values.shape.allSatisfy({ $0 >= 1 }) else {
            throw Failure(description: "a phantom is a 1D, 2D or 3D array of at least one value per axis, not shape \(values.shape)")
        }
        if let bad = values.storage.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
            throw Failure(description: "value \(values.storage[bad]) at flat index \(bad): concentrations are finite and not negative")
        }
        guard values.storage.contains(where: { $0 > 0 }) else { throw Failure(description: "every value is 0: the phantom is empty") }
        if let fieldOfView {
            guard fieldOfView.count == 3, fieldOfView.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw Failure(description: "a phantom's field of view needs three positive extents (metres), not \(fieldOfView)")
            }
        }
        (self.values, self.fieldOfView) = (values, fieldOfView)
    }

    /// The concentration (mol Fe / L) on the scanner's grid, shape [nz, ny, nx]: each voxel the
    /// mean of the image, linearly interpolated, over sub-positions fine enough for the image's
    /// resolution (up to 8 per axis); 0 outside the image. Scaled so the image's brightest value
    /// is `peak`, or, given `scale`, each value times it.
    public func concentration(for scanner: MPIScanner, peak: Double, scale: Double? = nil) throws -> NDArray<Double> {
        let size = scanner.imageSize
        let axes = (size.lastIndex { $0 > 1 } ?? 0) + 1
        guard values.rank == axes else {
            throw Failure(description: "scanner \(scanner.name) images \(axes)D (\(size.map(String.init).joined(separator: " x "))), the phantom is \(values.rank)D (shape \(values.shape))")
        }
        let extent = Array(values.shape.reversed()) + [Int](repeating: 1, count: 3 - values.rank)   // x, y, z
        let gridFOV = scanner.fieldOfView, imageFOV = fieldOfView ?? gridFOV
        let factor = scale ?? peak / values.storage.max()!
        let step = (0..<3).map { gridFOV[$0] / Double(size[$0]) }
        let sub = (0..<3).map { a in a < axes ? min(8, max(1, Int((step[a] / (imageFOV[a] / Double(extent[a]))).rounded(.up)))) : 1 }
        /// Continuous image index along axis a of position x (metres), nil outside the image.
        func index(_ x: Double, _ a: Int) -> Double? {
            let f = (x + imageFOV[a] / 2) / imageFOV[a] * Double(extent[a]) - 0.5
            return f < -0.5 || f > Double(extent[a]) - 0.5 ? nil : min(max(f, 0), Double(extent[a] - 1))
        }
        func value(_ p: [Double]) -> Double {
            var corners = [(offset: 0, weight: 1.0)]
            var stride = 1
            for a in 0..<axes {
                guard let f = index(p[a], a) else { return 0 }
                let low = Int(f.rounded(.down)), t = f - Double(low), high = min(low + 1, extent[a] - 1)
                corners = corners.flatMap { [($0.offset + low * stride, $0.weight * (1 - t)), ($0.offset + high * stride, $0.weight * t)] }
                stride *= extent[a]
            }
            return corners.reduce(0) { $0 + $1.weight * values.storage[$1.offset] }
        }
        let centers = scanner.pixelCenters(), count = sub.reduce(1, *)
        var result = [Double](repeating: 0, count: size.reduce(1, *))
        for voxel in result.indices {
            var sum = 0.0
            for s in 0..<count {
                let position = (0..<3).map { a in
                    let t = (s / sub[0..<a].reduce(1, *)) % sub[a]
                    return centers[voxel, a] + ((Double(t) + 0.5) / Double(sub[a]) - 0.5) * step[a]
                }
                sum += value(position)
            }
            result[voxel] = factor * sum / Double(count)
        }
        return NDArray(shape: size.reversed(), storage: result)
    }
}
