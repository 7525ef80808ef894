/// The least common multiple of drive-field dividers: one drive cycle lasts
/// lcm(dividers) / base frequency (MDF's `cycle`).
public func leastCommonMultiple<T: BinaryInteger>(_ values: some Sequence<T>) -> T {
    func gcd(_ a: T, _ b: T) -> T { b == 0 ? a : gcd(b, a % b) }
    return values.reduce(1) { $0 / gcd($0, $1) * $1 }
}
