import Foundation
import MagpieCore

/// The x-space point-spread function of a scanner on its image grid.
///
/// With xi = beta |G r| (G applied per axis), the matrix PSF has the tangential envelope L'(xi)
/// along the field direction and the normal envelope L(xi)/xi across it. An x-space image
/// projects it onto the FFP velocity; averaged over velocity directions that gives
///   1D: h(r) = L'(xi)            2D: h(r) = (L'(xi) + L(xi)/xi) / 2
/// (3D: (L'(xi) + 2 L(xi)/xi) / 3): the PSF of Magpie's x-space images of trajectories that cross
/// each point in several directions (Lissajous). On a raster, whose velocity keeps one direction
/// v^, the image is the projection h(r) = L'(xi) (v^ . B^)^2 + L(xi)/xi (1 - (v^ . B^)^2), B^ the
/// direction of G r; pass `projectedOnto: v^` for it. Kernels are normalised to sum 1.
public enum LangevinPSF {
    /// Kernel of odd size covering `extent` pixels each way from the centre, shape [ky, kx].
    public static func kernel(scanner: MPIScanner, imageSize: [Int]? = nil, extent: (x: Int, y: Int)? = nil,
                              projectedOnto direction: (x: Double, y: Double)? = nil) -> NDArray<Double> {
        let size = imageSize ?? scanner.imageSize
        let fov = scanner.fieldOfView
        let spacing = (0..<3).map { fov[$0] / Double(size[$0]) }
        let dimensions = Set(scanner.activeDrive.map(\.axis)).count
        let beta = scanner.particle.beta
        let half = extent ?? (size[0] - 1, size[1] > 1 ? size[1] - 1 : 0)
        let ky = 2 * half.y + 1, kx = 2 * half.x + 1
        var kernel = NDArray<Double>(repeating: 0, shape: [ky, kx])
        for j in 0..<ky {
            for i in 0..<kx {
                let gx = scanner.gradient[0] * Double(i - half.x) * spacing[0]
                let gy = scanner.gradient[1] * Double(j - half.y) * spacing[1]
                let xi = beta * (gx * gx + gy * gy).squareRoot()
                let tangential = Langevin.derivative(xi), normal = Langevin.valueOverArgument(xi)
                if let direction {
                    let norm = (gx * gx + gy * gy).squareRoot()
                    let along = norm > 0 ? (direction.x * gx + direction.y * gy) / norm : 1
                    kernel[j, i] = tangential * along * along + normal * (1 - along * along)
                    continue
                }
                switch dimensions {
                case 1: kernel[j, i] = tangential
                case 2: kernel[j, i] = (tangential + normal) / 2
                default: kernel[j, i] = (tangential + 2 * normal) / 3
                }
            }
        }
        let total = kernel.storage.reduce(0, +)
        return kernel.map { $0 / total }
    }
}
