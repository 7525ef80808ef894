import Foundation

/// The Langevin function and the two envelopes of the x-space point-spread function.
/// Series near zero keep them accurate where coth(x) - 1/x cancels catastrophically.
public enum Langevin {
    /// L(x) = coth(x) - 1/x; L(x) ~ x/3 near 0 and -> sign(x) far out.
    @inlinable public static func value(_ x: Double) -> Double {
        let a = abs(x)
        if a < 1e-2 { return x / 3 - x * x * x / 45 }
        if a > 40 { return (x > 0 ? 1 : -1) - 1 / x }
        return 1 / tanh(x) - 1 / x
    }

    /// L'(x) = 1/x^2 - 1/sinh^2(x): the tangential envelope of the PSF (1/3 at 0).
    @inlinable public static func derivative(_ x: Double) -> Double {
        let a = abs(x)
        if a < 1e-2 { return 1.0 / 3 - x * x / 15 }
        if a > 40 { return 1 / (x * x) }
        let s = sinh(x)
        return 1 / (x * x) - 1 / (s * s)
    }

    /// L(x) / x: the normal envelope of the PSF (1/3 at 0).
    @inlinable public static func valueOverArgument(_ x: Double) -> Double {
        abs(x) < 1e-2 ? 1.0 / 3 - x * x / 45 : value(x) / x
    }
}
