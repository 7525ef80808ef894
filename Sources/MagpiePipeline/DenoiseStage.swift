import MagpieCore
import MagpieNeural

/// Denoises each foreground frame's periods with the self-supervised signal denoiser ("ssd"):
/// the frame's receive channels go through the model as one batch. Background frames pass
/// unchanged (their noise averages out in the background estimate).
public final class DenoiseStage: FrameStage {
    public let name = "denoise"
    public let denoiser: SignalDenoiser

    public init(_ denoiser: SignalDenoiser) {
        self.denoiser = denoiser
    }

    /// The named model of kind signal-denoiser from the manifest, verified (sha256, LibTorch load).
    public convenience init(model name: String, manifest: String) throws {
        try self.init(SignalDenoiser(model: LearnedModel(named: name, manifestPath: manifest, kind: SignalDenoiser.kind)))
    }

    public func begin(_ scan: ScanContext) throws {
        let samples = scan.start.samplesPerPeriod
        guard samples == denoiser.samples else {
            throw PipelineError.config("denoiser \(denoiser.model.name) takes periods of \(denoiser.samples) samples (\(denoiser.model.entry.scanner)); this scan has \(samples)")
        }
    }

    public func process(_ item: inout WorkItem) throws -> Bool {
        if !item.isBackground { item.periods = try denoiser.denoise(item.periods) }
        return true
    }
}
