import MagpieCore

/// Block averaging: each run of `frames` consecutive foreground frames (counted from the scan's
/// first) becomes one mean, reconstructed as one image; a block missing a frame (lost, or skipped
/// by a daemon that fell behind) makes no image. Background frames pass unchanged.
public struct AverageStep: PlanStep {
    public static let names = ["average"]
    public static let keys = ["frames"]
    public static let input = StepData.signals, output = StepData.signals

    public var frames: Int?

    public init(frames: Int? = nil) { self.frames = frames }

    public var effectiveFrames: Int { frames ?? 1 }

    public func resolved() -> AverageStep { AverageStep(frames: effectiveFrames) }

    public func check(in plan: ReconstructionPlan, at index: Int) throws {
        guard (1...100_000).contains(effectiveFrames) else { throw PlanError("[stage.average] frames = \(effectiveFrames) is out of range; allowed: 1 to 100000") }
        if let background = plan.steps.firstIndex(where: { $0 is BackgroundStep }), background > index {
            throw PlanError("stages: background must come before average (a block's frames are corrected one by one)")
        }
    }

    public func makeRunner(_ context: PlanContext) throws -> any StepRunner { Runner(frames: effectiveFrames) }

    final class Runner: StepRunner {
        let frames: Int
        private var block: Int?
        private var first = 0
        private var count = 0
        private var sum: [Double] = []

        init(frames: Int) { self.frames = frames }

        func begin(_ scan: ScanDescription) throws { (block, count) = (nil, 0) }

        func process(_ item: inout PlanItem) throws -> Bool {
            guard let ordinal = item.foregroundOrdinal else { return true }
            if frames == 1 { return true }
            if ordinal / frames != block {
                (block, count, first) = (ordinal / frames, 0, item.frame)
                sum = [Double](repeating: 0, count: item.signals.count)
            }
            for i in 0..<sum.count { sum[i] += Double(item.signals.storage[i]) }
            count += 1
            guard count == frames, ordinal % frames == frames - 1 else { return false }
            item.frame = first
            item.foregroundOrdinal = ordinal / frames
            item.signals.storage = sum.map { Float($0 / Double(frames)) }
            block = nil
            return true
        }

        var provenance: [String: ProvenanceValue] { [:] }
    }
}
