import MagpieCore
import MagpieNeural

/// The self-supervised signal denoiser (models/signal-denoiser) on each foreground frame's (or block's) periods:
/// its receive channels go through the model as one batch. The model must be trained for the
/// scan's scanner (its signals' physics, `ScannerFingerprint`) unless `allow_other_scanner`.
public struct DenoiseStep: PlanStep {
    public static let names = ["denoise"]
    public static let keys = ["model", ModelScannerCheck.key]
    public static let input = StepData.signals, output = StepData.signals
    public static let defaultModel = "signal-denoiser-openmpi2d"

    public var model: String?
    public var allowOtherScanner: Bool?

    enum CodingKeys: String, CodingKey { case model, allowOtherScanner = "allow_other_scanner" }

    public init(model: String? = nil, allowOtherScanner: Bool? = nil) { (self.model, self.allowOtherScanner) = (model, allowOtherScanner) }

    public func resolved() -> DenoiseStep { DenoiseStep(model: model ?? Self.defaultModel, allowOtherScanner: allowOtherScanner) }

    public func makeRunner(_ context: PlanContext) throws -> any StepRunner {
        let name = model ?? Self.defaultModel
        do {
            return Runner(try SignalDenoiser(model: LearnedModel(named: name, manifestPath: context.manifest, kind: SignalDenoiser.kind)),
                          allowOtherScanner: allowOtherScanner ?? false)
        } catch {
            throw PlanError("[stage.denoise] model \"\(name)\": \(error)")
        }
    }

    public final class Runner: StepRunner {
        public let denoiser: SignalDenoiser
        let allowOtherScanner: Bool
        private var mismatch: String?

        init(_ denoiser: SignalDenoiser, allowOtherScanner: Bool) { (self.denoiser, self.allowOtherScanner) = (denoiser, allowOtherScanner) }

        public func begin(_ scan: ScanDescription) throws {
            // A period length the model cannot take is refused even where another scanner is allowed.
            let samples = scan.metadata.acquisition.receiver.numSamplingPoints
            guard samples == denoiser.samples else {
                throw PlanError("denoiser \(denoiser.model.name) takes periods of \(denoiser.samples) samples (\(denoiser.model.entry.scanner)); \(scan.name) has \(samples)")
            }
            mismatch = try ModelScannerCheck.check(denoiser.model, scanner: scan.scanner, stage: "denoise", allowed: allowOtherScanner, scan: scan)
        }

        public func process(_ item: inout PlanItem) throws -> Bool {
            if !item.isBackground { item.signals = try denoiser.denoise(item.signals) }
            return true
        }

        /// Every foreground item's periods through the model together, `denoiser.batch` periods a call.
        public func process(batch items: inout [PlanItem]) throws {
            let foreground = items.indices.filter { !items[$0].isBackground }
            guard let first = foreground.first else { return }
            let size = items[first].signals.count
            guard foreground.allSatisfy({ items[$0].signals.count == size }) else {
                for i in foreground { items[i].signals = try denoiser.denoise(items[i].signals) }
                return
            }
            var periods = [Float]()
            periods.reserveCapacity(foreground.count * size)
            for i in foreground { periods += items[i].signals.storage }
            let out = try denoiser.denoise(NDArray(shape: [foreground.count * size / denoiser.samples, denoiser.samples], storage: periods))
            for (k, i) in foreground.enumerated() { items[i].signals.storage = Array(out.storage[(k * size)..<((k + 1) * size)]) }
        }

        public var provenance: [String: ProvenanceValue] {
            var fields: [String: ProvenanceValue] = ["denoiser": .text("\(denoiser.model.name) sha256 \(denoiser.model.entry.sha256)")]
            if let mismatch { fields["denoiseScannerMismatch"] = .text(mismatch) }
            return fields
        }
    }
}
