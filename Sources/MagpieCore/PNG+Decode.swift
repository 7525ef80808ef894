import CZlib
import Foundation

extension PNG {
    public struct DecodeError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The largest image read: a phantom needs nothing near it, and a hostile header cannot make
    /// the reader allocate more than about 4 x 2^24 x 2 bytes.
    public static let maximumSide = 16_384, maximumPixels = 1 << 24

    /// A PNG image's luminance in [0, 1] (Rec. 709 weights for colour; multiplied by alpha, so
    /// what is transparent is empty), shape [height, width], row 0 the file's first row: the way
    /// Magpie's previews draw images (row 0 is y index 0). Every colour type, bit depths 1 to 16,
    /// palettes with transparency; interlaced images are refused with the reason.
    public static func luminance(of data: Data) throws -> NDArray<Double> {
        let bytes = [UInt8](data)
        func fail(_ message: String) -> DecodeError { DecodeError(description: "PNG: \(message)") }
        func word(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
        guard bytes.count >= 8, Array(bytes[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else {
            throw fail("not a PNG file (its first 8 bytes are not the PNG signature)")
        }
        var (width, height, depth, colour, interlace) = (0, 0, 0, -1, 0)
        var palette: [(Double, Double, Double)] = [], paletteAlpha: [Double] = []
        var compressed: [UInt8] = []
        var offset = 8, ended = false
        while !ended {
            guard offset + 12 <= bytes.count else { throw fail("the file ends before its IEND chunk (truncated)") }
            let length = word(offset)
            guard length <= bytes.count - offset - 12 else { throw fail("a chunk at byte \(offset) claims \(length) bytes, past the end of the file") }
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let crc = bytes.withUnsafeBytes { PNG.crc32(UnsafeRawBufferPointer(rebasing: $0[(offset + 4)..<(offset + 8 + length)])) }
            guard crc == UInt32(word(offset + 8 + length)) else { throw fail("chunk \(type) at byte \(offset) fails its CRC (a damaged file)") }
            let body = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            switch type {
            case "IHDR":
                guard length == 13 else { throw fail("IHDR of \(length) bytes, not 13") }
                (width, height) = (Int(UInt32(truncatingIfNeeded: word(offset + 8))), Int(UInt32(truncatingIfNeeded: word(offset + 12))))
                (depth, colour, interlace) = (Int(body[8]), Int(body[9]), Int(body[12]))
            case "PLTE":
                guard length % 3 == 0, length <= 768 else { throw fail("PLTE of \(length) bytes") }
                palette = stride(from: 0, to: length, by: 3).map { (Double(body[$0]) / 255, Double(body[$0 + 1]) / 255, Double(body[$0 + 2]) / 255) }
            case "tRNS" where colour == 3:
                paletteAlpha = body.map { Double($0) / 255 }
            case "IDAT":
                compressed += body
            case "IEND":
                ended = true
            default:
                // Ancillary chunks (lower-case first letter) carry nothing a phantom needs.
                guard let first = type.unicodeScalars.first, first.properties.isLowercase else {
                    throw fail("critical chunk \(type) is not one this reader knows")
                }
            }
            offset += 12 + length
        }
        guard width > 0, height > 0, colour >= 0 else { throw fail("no IHDR chunk with a positive width and height") }
        guard width <= maximumSide, height <= maximumSide, width * height <= maximumPixels else {
            throw fail("\(width) x \(height) pixels is more than this reader takes (\(maximumSide) per side, \(maximumPixels) in all)")
        }
        let depths: [Int: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
        guard let allowed = depths[colour], allowed.contains(depth) else { throw fail("colour type \(colour) with bit depth \(depth) is not valid PNG") }
        guard interlace == 0 else { throw fail("interlaced (Adam7) images are not read; save the image without interlacing") }
        guard colour != 3 || !palette.isEmpty else { throw fail("a palette image without its PLTE chunk") }
        let channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colour]!
        let bitsPerPixel = channels * depth, stride = (width * bitsPerPixel + 7) / 8, step = max(1, bitsPerPixel / 8)
        var raw = [UInt8](repeating: 0, count: (stride + 1) * height)
        var produced = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { out in
            compressed.withUnsafeBufferPointer { input in
                uncompress(out.baseAddress, &produced, input.baseAddress, uLong(input.count))
            }
        }
        guard status == Z_OK, produced == uLongf(raw.count) else {
            throw fail(status == Z_BUF_ERROR ? "its image data inflate to more than \(width) x \(height) pixels need" : "its image data do not inflate to \(width) x \(height) pixels (zlib status \(status), \(produced) bytes)")
        }
        // Undo the row filters in place (PNG spec 9): row r's bytes at r * (stride + 1) + 1.
        for r in 0..<height {
            let start = r * (stride + 1) + 1, filter = raw[start - 1]
            guard filter <= 4 else { throw fail("row \(r) has filter type \(filter), not 0 to 4") }
            for i in 0..<stride {
                let a = i >= step ? Int(raw[start + i - step]) : 0
                let b = r > 0 ? Int(raw[start - stride - 1 + i]) : 0
                let c = r > 0 && i >= step ? Int(raw[start - stride - 1 + i - step]) : 0
                let predictor: Int
                switch filter {
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: predictor = 0
                }
                raw[start + i] = UInt8(truncatingIfNeeded: Int(raw[start + i]) + predictor)
            }
        }
        let maximum = Double((1 << depth) - 1)
        /// Sample `k` (0-based, of `channels` per pixel) of pixel x in row r, as stored.
        func level(_ r: Int, _ x: Int, _ k: Int) -> Int {
            let start = r * (stride + 1) + 1
            switch depth {
            case 16:
                let at = start + (x * channels + k) * 2
                return Int(raw[at]) << 8 | Int(raw[at + 1])
            case 8:
                return Int(raw[start + x * channels + k])
            default:   // 1, 2 or 4 bits, one channel, most significant bits first
                let bit = x * depth
                return Int(raw[start + bit / 8]) >> (8 - depth - bit % 8) & ((1 << depth) - 1)
            }
        }
        func fraction(_ r: Int, _ x: Int, _ k: Int) -> Double { Double(level(r, x, k)) / maximum }
        func luminance(_ red: Double, _ green: Double, _ blue: Double) -> Double { 0.2126 * red + 0.7152 * green + 0.0722 * blue }
        var values = [Double](repeating: 0, count: width * height)
        for r in 0..<height {
            for x in 0..<width {
                let value: Double
                switch colour {
                case 0: value = fraction(r, x, 0)
                case 2: value = luminance(fraction(r, x, 0), fraction(r, x, 1), fraction(r, x, 2))
                case 3:
                    let index = level(r, x, 0)
                    guard index < palette.count else { throw fail("pixel (\(x), \(r)) uses palette entry \(index) of \(palette.count)") }
                    let (red, green, blue) = palette[index]
                    value = luminance(red, green, blue) * (index < paletteAlpha.count ? paletteAlpha[index] : 1)
                case 4: value = fraction(r, x, 0) * fraction(r, x, 1)
                default: value = luminance(fraction(r, x, 0), fraction(r, x, 1), fraction(r, x, 2)) * fraction(r, x, 3)
                }
                values[r * width + x] = value
            }
        }
        return NDArray(shape: [height, width], storage: values)
    }
}
