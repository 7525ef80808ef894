import MagpiePlan

/// A test-only stage: every image times `factor`. One file, plus one line to register it
/// (`PlanSteps.register(ScaleStep.self)`): what adding a stage takes.
struct ScaleStep: PlanStep {
    static let names = ["scale"]
    static let keys = ["factor"]
    static let input = StepData.images, output = StepData.images

    var factor: Double?

    func makeRunner(_ context: PlanContext) throws -> any StepRunner { Runner(factor: Float(factor ?? 1)) }

    final class Runner: StepRunner {
        let factor: Float
        init(factor: Float) { self.factor = factor }
        func begin(_ scan: ScanDescription) throws {}
        func process(_ item: inout PlanItem) throws -> Bool {
            item.image = item.image?.map { $0 * factor }
            return true
        }
        var provenance: [String: ProvenanceValue] { ["scale": .number(Double(factor))] }
    }
}
