import CZlib
import Foundation

/// Writes 8-bit PNG images (grayscale or RGB) with the image data in stored (uncompressed) deflate
/// blocks, which every PNG reader accepts; zlib gives the checksums.
public enum PNG {
    /// `pixels` row-major (width fastest), mapped linearly from [low, high] to 0...255 (by default
    /// the image's own minimum and maximum).
    public static func grayscale(_ pixels: [Double], width: Int, height: Int, low: Double? = nil, high: Double? = nil) -> Data {
        precondition(pixels.count == width * height, "PNG: \(pixels.count) pixels for \(width) x \(height)")
        let lo = low ?? pixels.min() ?? 0, hi = high ?? pixels.max() ?? 1
        let span = hi > lo ? hi - lo : 1
        let bytes = pixels.map { UInt8(max(0, min(255, (($0 - lo) / span * 255).rounded()))) }
        return encode(bytes, width: width, height: height, channels: 1)
    }

    /// `rgb`: 3 bytes a pixel, row-major; `text`: tEXt chunks (keyword, value), e.g. the value range.
    public static func rgb(_ rgb: [UInt8], width: Int, height: Int, text: [(String, String)] = []) -> Data {
        precondition(rgb.count == 3 * width * height, "PNG: \(rgb.count) bytes for \(width) x \(height) RGB")
        return encode(rgb, width: width, height: height, channels: 3, text: text)
    }

    public static func write(_ pixels: [Double], width: Int, height: Int, to path: String, low: Double? = nil, high: Double? = nil) throws {
        try grayscale(pixels, width: width, height: height, low: low, high: high).writeAtomically(to: path)
    }

    private static func encode(_ bytes: [UInt8], width: Int, height: Int, channels: Int, text: [(String, String)] = []) -> Data {
        let stride = width * channels
        var raw = [UInt8]()
        raw.reserveCapacity((stride + 1) * height)
        for row in 0..<height {
            raw.append(0) // filter: none
            raw.append(contentsOf: bytes[(row * stride)..<((row + 1) * stride)])
        }
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var header = Data()
        header.append(bigEndian: UInt32(width))
        header.append(bigEndian: UInt32(height))
        // 8-bit, grayscale (0) or truecolour (2), deflate, no filter, no interlace
        header.append(contentsOf: [8, channels == 3 ? 2 : 0, 0, 0, 0])
        png.append(chunk: "IHDR", header)
        for (keyword, value) in text { png.append(chunk: "tEXt", Data(keyword.utf8) + Data([0]) + Data(value.utf8)) }
        png.append(chunk: "IDAT", zlibStored(raw))
        png.append(chunk: "IEND", Data())
        return png
    }

    private static func zlibStored(_ bytes: [UInt8]) -> Data {
        var out = Data([0x78, 0x01])
        var offset = 0
        repeat {
            let length = min(65535, bytes.count - offset)
            let final: UInt8 = offset + length == bytes.count ? 1 : 0
            out.append(final)
            out.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)])
            out.append(contentsOf: bytes[offset..<(offset + length)])
            offset += length
        } while offset < bytes.count
        out.append(bigEndian: bytes.withUnsafeBytes { UInt32(adler32(1, $0.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt($0.count))) })
        return out
    }

    /// The CRC-32 of a PNG chunk's type and body (zlib's), for writing and for checking chunks.
    static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        UInt32(CZlib.crc32(0, bytes.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
    }
}

extension Data {
    /// Atomic, so that a viewer polling a live preview never reads half a file.
    public func writeAtomically(to path: String) throws {
        try write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

private extension Data {
    mutating func append(bigEndian value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)])
    }

    mutating func append(chunk type: String, _ body: Data) {
        append(bigEndian: UInt32(body.count))
        let typed = Data(type.utf8) + body
        append(typed)
        append(bigEndian: typed.withUnsafeBytes(PNG.crc32))
    }
}
