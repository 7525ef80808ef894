import Foundation
import MagpieCore

/// PNG previews of reconstructed images (`latest.png`, `magpie reconstruct --png`, the console's
/// thumbnails): the colour map of `ColourMap`, scaled to the image's own range, small grids
/// sized up by an integer factor with nearest-neighbour (each voxel a square, nothing invented
/// between voxels); volumes as their maximum along z. The range is in the file's tEXt chunk.
public enum Preview {
    /// The plane shown: a 2D image as it is, a volume's maximum along z (x fastest).
    public static func plane(_ image: ArraySlice<Float>, size: [Int]) -> [Float] {
        let plane = size[0] * size[1]
        var pixels = [Float](repeating: -.infinity, count: plane)
        for z in 0..<max(1, size.count > 2 ? size[2] : 1) {
            for i in 0..<plane { pixels[i] = max(pixels[i], image[image.startIndex + z * plane + i]) }
        }
        return pixels
    }

    /// `minimumSize`: the longer side is sized up to at least this many pixels; `colourBar`: a
    /// bar from the lowest (bottom) to the highest value (top) at the right.
    public static func png(_ image: ArraySlice<Float>, size: [Int], minimumSize: Int = 256, colourBar: Bool = true, unit: String = "") -> Data {
        let (width, height) = (size[0], size[1])
        let pixels = plane(image, size: size)
        let finite = pixels.filter(\.isFinite)
        let low = finite.min() ?? 0, high = finite.max() ?? 1
        let span = high > low ? high - low : 1
        let scale = max(1, (minimumSize + max(width, height) - 1) / max(width, height))
        let bar = colourBar ? max(8, height * scale / 16) : 0
        let gap = colourBar ? bar / 2 : 0
        let (outWidth, outHeight) = (width * scale + gap + bar, height * scale)
        var rgb = [UInt8](repeating: 24, count: 3 * outWidth * outHeight)
        for y in 0..<outHeight {
            for x in 0..<outWidth {
                let value: Double
                if x < width * scale {
                    value = Double((pixels[(y / scale) * width + x / scale] - low) / span)
                } else if x >= width * scale + gap {
                    value = 1 - Double(y) / Double(max(1, outHeight - 1))
                } else {
                    continue
                }
                let (r, g, b) = ColourMap.colour(value)
                let o = 3 * (y * outWidth + x)
                (rgb[o], rgb[o + 1], rgb[o + 2]) = (r, g, b)
            }
        }
        let range = "\(low) to \(high)\(unit.isEmpty ? "" : " \(unit)")"
        return PNG.rgb(rgb, width: outWidth, height: outHeight, text: [
            ("Title", size.count > 2 && size[2] > 1 ? "maximum along z of a \(size.map(String.init).joined(separator: " x ")) volume" : "\(width) x \(height) image"),
            ("Comment", "viridis colour map over \(range); \(scale) x \(scale) pixels a voxel (nearest)"),
        ])
    }

    /// Writes `png(...)` atomically (a viewer polling the file never reads half of it).
    public static func write(_ image: ArraySlice<Float>, size: [Int], to path: String, colourBar: Bool = true, unit: String = "") throws {
        try png(image, size: size, colourBar: colourBar, unit: unit).writeAtomically(to: path)
    }
}
