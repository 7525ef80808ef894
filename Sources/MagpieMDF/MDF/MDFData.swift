import Foundation
import MagpieCore

/// The element types MDF allows for measurement and reconstruction data.
public enum MDFElementType: String, Sendable, Codable, CaseIterable {
    case int16 = "Int16"
    case int32 = "Int32"
    case float32 = "Float32"
    case float64 = "Float64"
    case complex64 = "Complex64"
    case complex128 = "Complex128"

    /// The MDF element type an HDF5 type stands for, or nil when MDF data cannot have it.
    init?(_ type: HDF5Type) {
        switch type {
        case .integer(signed: true, bytes: 2): self = .int16
        case .integer(signed: true, bytes: 4): self = .int32
        case .float(bytes: 4): self = .float32
        case .float(bytes: 8): self = .float64
        case .complex(bytesPerPart: 4): self = .complex64
        case .complex(bytesPerPart: 8): self = .complex128
        default: return nil
        }
    }

    public var isComplex: Bool { self == .complex64 || self == .complex128 }
}

/// A measurement's or reconstruction's data array in the element type it is stored with, or
/// only its shape and type when a file was read without its data (`MDFReader.Options`).
public enum MDFData: Sendable, Equatable {
    case int16(NDArray<Int16>)
    case int32(NDArray<Int32>)
    case float32(NDArray<Float>)
    case float64(NDArray<Double>)
    case complex64(NDArray<Complex<Float>>)
    case complex128(NDArray<Complex<Double>>)
    case notLoaded(shape: [Int], elementType: MDFElementType)

    public var shape: [Int] {
        switch self {
        case let .int16(a): return a.shape
        case let .int32(a): return a.shape
        case let .float32(a): return a.shape
        case let .float64(a): return a.shape
        case let .complex64(a): return a.shape
        case let .complex128(a): return a.shape
        case let .notLoaded(shape, _): return shape
        }
    }

    public var elementType: MDFElementType {
        switch self {
        case .int16: return .int16
        case .int32: return .int32
        case .float32: return .float32
        case .float64: return .float64
        case .complex64: return .complex64
        case .complex128: return .complex128
        case let .notLoaded(_, type): return type
        }
    }

    public var isLoaded: Bool {
        if case .notLoaded = self { return false }
        return true
    }
}
