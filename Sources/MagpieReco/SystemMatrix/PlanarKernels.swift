/// Inner loops of the system-matrix solvers in Swift (Kaczmarz's sweep is C, in KaczmarzSweep)
/// on split-complex ("planar") vectors: the real parts of n values, then their imaginary parts,
/// n a multiple of `PlanarKernels.width`. Split storage lets every operation be a plain lane-wise
/// SIMD multiply-add, with no shuffles of interleaved pairs. Eight independent accumulators hide the add latency; Float sums of at most a few
/// thousand terms stay well inside the solvers' 1e-4 agreement with a Float64 reference.
@usableFromInline
enum PlanarKernels {
    /// Columns are padded to a multiple of this (two SIMD8 registers per step).
    @usableFromInline static let width = 16

    /// sum_j s_j x_j (no conjugation), for s = (sr, si) and x = (xr, xi).
    @inlinable @inline(__always)
    static func dot(_ sr: UnsafePointer<Float>, _ si: UnsafePointer<Float>,
                    _ xr: UnsafePointer<Float>, _ xi: UnsafePointer<Float>, count n: Int) -> (re: Float, im: Float) {
        var re0 = SIMD8<Float>(), re1 = SIMD8<Float>(), im0 = SIMD8<Float>(), im1 = SIMD8<Float>()
        var j = 0
        while j < n {
            let a0 = load(sr, j), a1 = load(sr, j + 8), b0 = load(si, j), b1 = load(si, j + 8)
            let c0 = load(xr, j), c1 = load(xr, j + 8), d0 = load(xi, j), d1 = load(xi, j + 8)
            re0 += a0 * c0 - b0 * d0
            re1 += a1 * c1 - b1 * d1
            im0 += a0 * d0 + b0 * c0
            im1 += a1 * d1 + b1 * c1
            j += 16
        }
        return ((re0 + re1).sum(), (im0 + im1).sum())
    }

    @inlinable @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ j: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inlinable @inline(__always)
    static func load(_ p: UnsafeMutablePointer<Float>, _ j: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inlinable @inline(__always)
    static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ j: Int) {
        UnsafeMutableRawPointer(p + j).storeBytes(of: v, as: SIMD8<Float>.self)
    }
}
