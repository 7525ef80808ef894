import Foundation
import MagpieCore
import Testing

/// PNG.luminance reads what Magpie's own writer writes (stored deflate blocks, filter none); the
/// interop tests (test_phantom_file.py) read other writers' files: PIL's, every filter, 1 to 16 bits.
@Suite struct PNGDecodeTests {
    @Test func readsMagpiesGreyAndColourImages() throws {
        let pixels = (0..<(7 * 5)).map { Double($0) }
        let grey = try PNG.luminance(of: PNG.grayscale(pixels, width: 7, height: 5, low: 0, high: 34))
        #expect(grey.shape == [5, 7])
        #expect(zip(grey.storage, pixels).allSatisfy { abs($0 * 255 - ($1 / 34 * 255).rounded()) < 1e-9 })
        let rgb: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]
        let colour = try PNG.luminance(of: PNG.rgb(rgb, width: 2, height: 2))
        #expect(zip(colour.storage, [0.2126, 0.7152, 0.0722, 1.0]).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test func refusesWhatIsNotAPNG() {
        #expect(throws: PNG.DecodeError.self) { try PNG.luminance(of: Data("not a png".utf8)) }
        var damaged = PNG.grayscale([0, 1, 2, 3], width: 2, height: 2)
        damaged[20] ^= 0xFF   // inside IHDR: its CRC no longer matches
        #expect(throws: PNG.DecodeError.self) { try PNG.luminance(of: damaged) }
    }
}
