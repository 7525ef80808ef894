import MagpieCore
import MagpieNeural

/// The self-supervised signal denoiser (models/signal-denoiser) on each foreground frame's (or block's) periods:
/// its receive channels go through the model as one batch. The model must be trained for the
/// scan's samples per period.
public struct DenoiseStep: PlanStep {
    public static let names = ["denoise"]
    public static let keys = ["model"]
    public static let input = StepData.signals, output = StepData.signals
    public static let defaultModel = "signal-denoiser-openmpi2d"

    public var model: String?

    public init(model: String? = nil) { self.model = model }

    public func resolved() -> DenoiseStep { DenoiseStep(model: model ?? Self.defaultModel) }

    public func makeRunner(_ context: PlanContext) throws -> any StepRunner {
        let name = model ?? Self.defaultModel
        do {
            return Runner(try SignalDenoiser(model: LearnedModel(named: name, manifestPath: context.manifest, kind: SignalDenoiser.kind)))
        } catch {
            throw PlanError("[stage.denoise] model \"\(name)\": \(error)")
        }
    }

    public final class Runner: StepRunner {
        public let denoiser: SignalDenoiser

        init(_ denoiser: SignalDenoiser) { self.denoiser = denoiser }

        public func begin(_ scan: ScanDescription) throws {
            let samples = scan.metadata.acquisition.receiver.numSamplingPoints
            guard samples == denoiser.samples else {
                throw PlanError("denoiser \(denoiser.model.name) takes periods of \(denoiser.samples) samples (\(denoiser.model.entry.scanner)); \(scan.name) has \(samples)")
            }
        }

        public func process(_ item: inout PlanItem) throws -> Bool {
            if !item.isBackground { item.signals = try denoiser.denoise(item.signals) }
            return true
        }

        public var provenance: [String: ProvenanceValue] { ["denoiser": .text("\(denoiser.model.name) sha256 \(denoiser.model.entry.sha256)")] }
    }
}
