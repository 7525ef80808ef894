import CHDF5
import MagpieCore

/// What an HDF5 dataset stores per element, as far as MDF cares.
public enum HDF5Type: Equatable, Sendable, CustomStringConvertible {
    case integer(signed: Bool, bytes: Int)
    case float(bytes: Int)
    /// A compound with float members `r` and `i`: the MDF encoding of complex numbers.
    case complex(bytesPerPart: Int)
    case string(variableLength: Bool)
    case other(String)

    public var description: String {
        switch self {
        case let .integer(signed, bytes): return "\(signed ? "Int" : "UInt")\(bytes * 8)"
        case let .float(bytes): return "Float\(bytes * 8)"
        case let .complex(bytes): return "Complex{r,i} of Float\(bytes * 8)"
        case let .string(variable): return variable ? "String (variable length)" : "String (fixed length)"
        case let .other(text): return text
        }
    }

    public var isNumeric: Bool {
        switch self {
        case .integer, .float: return true
        default: return false
        }
    }

    /// Classifies an HDF5 datatype identifier.
    static func classify(_ type: hid_t) -> HDF5Type {
        let size = Int(H5Tget_size(type))
        switch H5Tget_class(type) {
        case H5T_INTEGER:
            return .integer(signed: H5Tget_sign(type) == H5T_SGN_2, bytes: size)
        case H5T_FLOAT:
            return .float(bytes: size)
        case H5T_STRING:
            return .string(variableLength: H5Tis_variable_str(type) > 0)
        case H5T_COMPOUND:
            let count = H5Tget_nmembers(type)
            var names: [String] = []
            var floatParts = true
            var partSize = 0
            for index in 0..<max(count, 0) {
                if let name = H5Tget_member_name(type, UInt32(index)) {
                    names.append(String(cString: name))
                    H5free_memory(name)
                }
                floatParts = floatParts && H5Tget_member_class(type, UInt32(index)) == H5T_FLOAT
                let member = H5Tget_member_type(type, UInt32(index))
                if member >= 0 {
                    partSize = Int(H5Tget_size(member))
                    H5Tclose(member)
                }
            }
            if Set(names) == ["r", "i"] && names.count == 2 && floatParts {
                return .complex(bytesPerPart: partSize)
            }
            return .other("compound {\(names.joined(separator: ", "))}")
        case H5T_ENUM: return .other("enum")
        case H5T_ARRAY: return .other("array")
        case H5T_VLEN: return .other("variable-length sequence")
        case H5T_OPAQUE: return .other("opaque")
        case H5T_BITFIELD: return .other("bitfield")
        case H5T_REFERENCE: return .other("reference")
        default: return .other("unknown HDF5 type")
        }
    }
}

/// A Swift type that can be stored as the element of an HDF5 dataset.
public protocol HDF5Element {
    /// The datatype in memory while reading or writing; the id is only valid inside `body`.
    static func withMemoryType<R>(_ body: (hid_t) throws -> R) rethrows -> R
    /// The datatype written to files: little-endian whatever the host, as MDF files are exchanged.
    static func withFileType<R>(_ body: (hid_t) throws -> R) rethrows -> R
    /// Whether HDF5 may convert a stored element of `type` into this type without losing its meaning.
    static func canRead(_ type: HDF5Type) -> Bool
}

/// Integers and reals, converted by HDF5 between widths on read.
public protocol HDF5Numeric: HDF5Element {
    static var nativeType: hid_t { get }
    static var littleEndianType: hid_t { get }
}

extension HDF5Numeric {
    public static func withMemoryType<R>(_ body: (hid_t) throws -> R) rethrows -> R { try body(nativeType) }
    public static func withFileType<R>(_ body: (hid_t) throws -> R) rethrows -> R { try body(littleEndianType) }
}

/// Integers read only integer data: reading a float into an integer would truncate silently.
public protocol HDF5Integer: HDF5Numeric {}
extension HDF5Integer {
    public static func canRead(_ type: HDF5Type) -> Bool {
        if case .integer = type { return true }
        return false
    }
}

/// Reals read integer or real data.
public protocol HDF5Real: HDF5Numeric, Real {}
extension HDF5Real {
    public static func canRead(_ type: HDF5Type) -> Bool { type.isNumeric }
}

extension Int8: HDF5Integer {
    public static var nativeType: hid_t { mp_H5T_NATIVE_INT8() }
    public static var littleEndianType: hid_t { mp_H5T_STD_I8LE() }
}
extension Int16: HDF5Integer {
    public static var nativeType: hid_t { mp_H5T_NATIVE_INT16() }
    public static var littleEndianType: hid_t { mp_H5T_STD_I16LE() }
}
extension Int32: HDF5Integer {
    public static var nativeType: hid_t { mp_H5T_NATIVE_INT32() }
    public static var littleEndianType: hid_t { mp_H5T_STD_I32LE() }
}
extension Int64: HDF5Integer {
    public static var nativeType: hid_t { mp_H5T_NATIVE_INT64() }
    public static var littleEndianType: hid_t { mp_H5T_STD_I64LE() }
}
extension Float: HDF5Real {
    public static var nativeType: hid_t { mp_H5T_NATIVE_FLOAT() }
    public static var littleEndianType: hid_t { mp_H5T_IEEE_F32LE() }
}
extension Double: HDF5Real {
    public static var nativeType: hid_t { mp_H5T_NATIVE_DOUBLE() }
    public static var littleEndianType: hid_t { mp_H5T_IEEE_F64LE() }
}

/// Complex numbers are the MDF compound {r, i}; HDF5 matches compound members by name on read.
extension Complex: HDF5Element where RealType: HDF5Real {
    public static func withMemoryType<R>(_ body: (hid_t) throws -> R) rethrows -> R {
        try withCompound(part: RealType.nativeType, body)
    }

    public static func withFileType<R>(_ body: (hid_t) throws -> R) rethrows -> R {
        try withCompound(part: RealType.littleEndianType, body)
    }

    public static func canRead(_ type: HDF5Type) -> Bool {
        if case .complex = type { return true }
        return false
    }

    private static func withCompound<R>(part: hid_t, _ body: (hid_t) throws -> R) rethrows -> R {
        let partSize = MemoryLayout<RealType>.size
        let compound = H5Tcreate(H5T_COMPOUND, 2 * partSize)
        defer { H5Tclose(compound) }
        H5Tinsert(compound, "r", 0, part)
        H5Tinsert(compound, "i", partSize, part)
        return try body(compound)
    }
}
