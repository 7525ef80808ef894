/// The least common multiple of drive-field dividers: one drive cycle lasts
/// lcm(dividers) / base frequency (MDF's `cycle`). Nil when a value is not positive or the
/// result does not fit in `T` (dividers come from files and streams: checked, never trapping).
public func leastCommonMultiple<T: BinaryInteger & FixedWidthInteger>(_ values: some Sequence<T>) -> T? {
    func gcd(_ a: T, _ b: T) -> T { b == 0 ? a : gcd(b, a % b) }
    var result: T = 1
    for value in values {
        guard value > 0 else { return nil }
        let (product, overflow) = (result / gcd(result, value)).multipliedReportingOverflow(by: value)
        guard !overflow else { return nil }
        result = product
    }
    return result
}
