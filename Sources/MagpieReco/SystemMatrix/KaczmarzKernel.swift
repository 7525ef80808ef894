import KaczmarzSweep

/// Which inner loop runs a Kaczmarz sweep: one per vector width, compiled into every binary and
/// chosen at run time, so the same build runs on any x86-64 (or ARM) lab machine and uses the
/// widest vectors the one it runs on has.
public enum KaczmarzKernel: String, CaseIterable, Sendable {
    /// 8-float vectors in the baseline instruction set (SSE2 on x86-64, NEON on ARM).
    case portable
    /// 8-float vectors with fused multiply-add (x86-64 with AVX2 and FMA).
    case avx2
    /// 16-float vectors (x86-64 with AVX-512F).
    case avx512

    /// The widest kernel this processor runs.
    public static let best: KaczmarzKernel = KaczmarzKernel(kaczmarz_kernel_best())

    public var isAvailable: Bool { kaczmarz_kernel_available(c) != 0 }

    var c: kaczmarz_kernel {
        switch self {
        case .portable: kaczmarz_kernel_portable
        case .avx2: kaczmarz_kernel_avx2
        case .avx512: kaczmarz_kernel_avx512
        }
    }

    init(_ c: kaczmarz_kernel) {
        self = Self.allCases.first { $0.c == c } ?? .portable
    }
}
