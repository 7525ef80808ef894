/// The background under each frame of a scan, from its background frames: contiguous runs of
/// background frames form blocks, each block's mean stands at the block's mean frame index,
/// and a frame's background is interpolated linearly in time between the blocks around it
/// (the nearest block outside them). With one block, every frame gets that block's mean, the
/// plain "subtract the mean of the background frames".
public struct BackgroundInterpolation: Sendable {
    /// Frame ranges of the background blocks, in order.
    public let blocks: [Range<Int>]

    public init(isBackgroundFrame: [Bool]) {
        var blocks: [Range<Int>] = []
        var start: Int?
        for (n, flag) in isBackgroundFrame.enumerated() {
            if flag, start == nil { start = n }
            if !flag, let s = start { blocks.append(s..<n); start = nil }
        }
        if let s = start { blocks.append(s..<isBackgroundFrame.count) }
        self.blocks = blocks
    }

    public var isEmpty: Bool { blocks.isEmpty }

    /// Weights of the block means that make frame `n`'s background; they sum to 1.
    public func weights(frame n: Int) -> [(block: Int, weight: Double)] {
        let centers = blocks.map { Double($0.lowerBound + $0.upperBound - 1) / 2 }
        let t = Double(n)
        guard let first = centers.first, let last = centers.last else { return [] }
        if t <= first { return [(0, 1)] }
        if t >= last { return [(blocks.count - 1, 1)] }
        let upper = centers.firstIndex { $0 >= t }!
        let w = (t - centers[upper - 1]) / (centers[upper] - centers[upper - 1])
        return [(upper - 1, 1 - w), (upper, w)]
    }
}
