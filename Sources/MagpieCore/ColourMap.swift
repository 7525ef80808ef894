/// The perceptual colour map of every image Magpie shows (PNG previews and the console's page):
/// matplotlib's viridis, sampled at nine evenly spaced stops and interpolated linearly between
/// them (within 2 levels of the full 256-entry table). Dark blue is low, yellow high; it reads
/// the same in grey and to the common forms of colour blindness.
public enum ColourMap {
    /// The stops, 0 to 1, as RGB. The console's page draws with these same stops (served with it).
    public static let stops: [[UInt8]] = [
        [0x44, 0x01, 0x54], [0x47, 0x2D, 0x7B], [0x3B, 0x52, 0x8B], [0x2C, 0x72, 0x8E], [0x21, 0x91, 0x8C],
        [0x28, 0xAE, 0x80], [0x5E, 0xC9, 0x62], [0xAD, 0xDC, 0x30], [0xFD, 0xE7, 0x25],
    ]

    /// 256 entries, for mapping bytes.
    public static let table: [(UInt8, UInt8, UInt8)] = (0..<256).map { colour(Double($0) / 255) }

    /// The colour of `value` in [0, 1] (clamped; NaN is the lowest).
    public static func colour(_ value: Double) -> (UInt8, UInt8, UInt8) {
        let t = value.isNaN ? 0 : min(1, max(0, value)) * Double(stops.count - 1)
        let i = min(stops.count - 2, Int(t))
        let f = t - Double(i)
        func mix(_ c: Int) -> UInt8 { UInt8((Double(stops[i][c]) * (1 - f) + Double(stops[i + 1][c]) * f).rounded()) }
        return (mix(0), mix(1), mix(2))
    }
}
