import MagpieCore

/// Background correction of each foreground frame. `preceding` (the daemon's default): minus the
/// running mean of the background frames recorded before it, all a live scan can know.
/// `interpolated` (`magpie reconstruct`'s default, MPIReco's): minus the background interpolated
/// between the blocks of background frames before and after the foreground; it needs the whole
/// measurement, so only `magpie reconstruct` runs it. `off`: none. Background frames end here.
public struct BackgroundStep: PlanStep {
    public enum Mode: String, Codable, Sendable, CaseIterable { case preceding, interpolated, off }

    public static let names = ["background"]
    public static let keys = ["mode"]
    public static let input = StepData.signals, output = StepData.signals

    public var mode: Mode?

    public init(mode: Mode? = nil) { self.mode = mode }

    public var effectiveMode: Mode { mode ?? .preceding }

    public func resolved() -> BackgroundStep { BackgroundStep(mode: effectiveMode) }

    /// Refuses what a live scan cannot run (the daemon checks its plan with it before listening).
    public static func checkLive(_ plan: ReconstructionPlan) throws {
        if plan.step(BackgroundStep.self)?.effectiveMode == .interpolated { throw PlanError("[stage.background] \(interpolatedNeedsTheFile)") }
    }

    public func check(in plan: ReconstructionPlan, at index: Int) throws {
        if effectiveMode == .interpolated && index != 0 {
            throw PlanError("[stage.background] mode = \"interpolated\" interpolates whole frames: it must be the first stage")
        }
    }

    public func makeRunner(_ context: PlanContext) throws -> any StepRunner { Runner(mode: effectiveMode) }

    static let interpolatedNeedsTheFile = "background mode \"interpolated\" needs the whole measurement (magpie reconstruct); a live scan uses \"preceding\""

    final class Runner: StepRunner {
        let mode: Mode
        private var sum: [Double] = []
        private var count = 0

        init(mode: Mode) { self.mode = mode }

        func begin(_ scan: ScanDescription) throws {
            sum = []
            count = 0
        }

        func process(_ item: inout PlanItem) throws -> Bool {
            // `PlanRunner.reconstruct` runs interpolation over the whole file before this step.
            guard mode != .interpolated else { throw PlanError(BackgroundStep.interpolatedNeedsTheFile) }
            if sum.count != item.signals.count { sum = [Double](repeating: 0, count: item.signals.count) }
            if item.isBackground {
                if mode == .preceding {
                    for i in 0..<sum.count { sum[i] += Double(item.signals.storage[i]) }
                    count += 1
                }
                return false
            }
            if count > 0 {
                for i in 0..<sum.count { item.signals.storage[i] -= Float(sum[i] / Double(count)) }
            }
            return true
        }

        var provenance: [String: ProvenanceValue] { [:] }
    }
}
