/// A scan's missing frames as ranges of frame indices: a hostile or broken sender can claim
/// 2^32 frames, so they are never enumerated one by one, in memory, in the file or in the log.
public enum MissingFrames {
    /// The indices in 0..<`expected` that are not in `received`, as ascending ranges. O(received log received).
    public static func ranges(received: some Sequence<Int>, expected: Int) -> [ClosedRange<Int>] {
        var ranges: [ClosedRange<Int>] = []
        var next = 0
        for index in received.sorted() where index >= next && index < expected {
            if index > next { ranges.append(next...(index - 1)) }
            next = index + 1
        }
        if next < expected { ranges.append(next...(expected - 1)) }
        return ranges
    }

    public static func count(_ ranges: [ClosedRange<Int>]) -> Int { ranges.reduce(0) { $0 + $1.count } }

    /// "1-3, 7" for a log line; past `limit` ranges, the rest is counted.
    public static func description(_ ranges: [ClosedRange<Int>], limit: Int = 20) -> String {
        let shown = ranges.prefix(limit).map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
        return shown.joined(separator: ", ") + (ranges.count > limit ? " and \(ranges.count - limit) more ranges" : "")
    }
}
