import Foundation

/// Reads NumPy's `.npy` format (versions 1 to 3, as `numpy.save` writes it) into Double values:
/// little-endian or byte-sized booleans, integers and floats (2 to 8 bytes), C order. Anything
/// else, and any header or size that does not add up, is refused with the reason.
public enum NumPyArray {
    public struct ReadError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The most values read (2^28: a 645^3 volume), so that a header cannot claim more memory.
    public static let maximumCount = 1 << 28

    public static func read(_ data: Data) throws -> NDArray<Double> {
        let bytes = [UInt8](data)
        func fail(_ message: String) -> ReadError { ReadError(description: ".npy: \(message)") }
        guard bytes.count >= 10, Array(bytes[0..<6]) == [0x93] + Array("NUMPY".utf8) else { throw fail("not a NumPy file (no \\x93NUMPY magic)") }
        let major = bytes[6]
        let (lengthBytes, headerLength): (Int, Int)
        switch major {
        case 1: (lengthBytes, headerLength) = (2, Int(bytes[8]) | Int(bytes[9]) << 8)
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header") }
            (lengthBytes, headerLength) = (4, (8..<12).reduce(0) { $0 | Int(bytes[$1]) << (8 * ($1 - 8)) })
        default: throw fail("format version \(major) is not 1, 2 or 3")
        }
        let dataStart = 8 + lengthBytes + headerLength
        guard headerLength > 0, dataStart <= bytes.count else { throw fail("the header claims \(headerLength) bytes, past the end of the file") }
        let header = String(decoding: bytes[(8 + lengthBytes)..<dataStart], as: UTF8.self)
        func value(of key: String) throws -> Substring {
            guard let range = header.range(of: "'\(key)':") else { throw fail("the header has no '\(key)'") }
            return header[range.upperBound...].drop { $0 == " " }
        }
        let descrField = try value(of: "descr")
        guard descrField.first == "'", let close = descrField.dropFirst().firstIndex(of: "'") else { throw fail("descr is not a plain type string (structured arrays are not read)") }
        let descr = String(descrField[descrField.index(after: descrField.startIndex)..<close])
        if try value(of: "fortran_order").hasPrefix("True") {
            throw fail("fortran_order is True; save a C-ordered array (numpy.ascontiguousarray)")
        }
        let shapeField = try value(of: "shape")
        guard shapeField.first == "(", let end = shapeField.firstIndex(of: ")") else { throw fail("shape is not a tuple") }
        let shapeText = shapeField[shapeField.index(after: shapeField.startIndex)..<end]
        var shape: [Int] = []
        for part in shapeText.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard let n = Int(trimmed), n >= 0 else { throw fail("shape holds \"\(trimmed)\", not a size") }
            shape.append(n)
        }
        var count = 1
        for n in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow, product <= maximumCount else { throw fail("shape \(shape) holds more than \(maximumCount) values") }
            count = product
        }
        guard descr.count >= 3, let order = descr.first, "<|".contains(order) || (order == ">" && descr.hasSuffix("1")) else {
            throw fail("type \(descr) is big-endian or unknown; save it little-endian (numpy's default)")
        }
        let kind = descr.dropFirst().first!, size = Int(descr.dropFirst(2)) ?? 0
        guard bytes.count - dataStart >= count * size, size > 0 else {
            throw fail("shape \(shape) of \(descr) needs \(count * max(size, 1)) bytes of data, the file has \(bytes.count - dataStart)")
        }
        let values: [Double] = try bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + dataStart
            func load<T: FixedWidthInteger>(_: T.Type) -> [Double] {
                (0..<count).map { Double(T(littleEndian: base.loadUnaligned(fromByteOffset: $0 * size, as: T.self))) }
            }
            switch (kind, size) {
            case ("b", 1): return (0..<count).map { base.load(fromByteOffset: $0, as: UInt8.self) != 0 ? 1 : 0 }
            case ("i", 1): return load(Int8.self)
            case ("u", 1): return load(UInt8.self)
            case ("i", 2): return load(Int16.self)
            case ("u", 2): return load(UInt16.self)
            case ("i", 4): return load(Int32.self)
            case ("u", 4): return load(UInt32.self)
            case ("i", 8): return load(Int64.self)
            case ("u", 8): return load(UInt64.self)
            case ("f", 4): return (0..<count).map { Double(Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))) }
            case ("f", 8): return (0..<count).map { Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
            default: throw fail("type \(descr) is not read (booleans, integers, float32 and float64 are)")
            }
        }
        return NDArray(shape: shape, storage: values)
    }
}
