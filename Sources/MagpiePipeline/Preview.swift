import MagpieCore

/// PNG previews of reconstructed images.
public enum Preview {
    /// Writes `image` (x fastest over `size`) scaled to its own range; volumes as their maximum along z.
    public static func write(_ image: ArraySlice<Float>, size: [Int], to path: String) throws {
        let plane = size[0] * size[1]
        var pixels = [Double](repeating: -.infinity, count: plane)
        for z in 0..<size[2] {
            for i in 0..<plane { pixels[i] = max(pixels[i], Double(image[image.startIndex + z * plane + i])) }
        }
        try PNG.write(pixels, width: size[0], height: size[1], to: path)
    }
}
