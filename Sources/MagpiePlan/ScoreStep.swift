import MagpieCore
import MagpieNeural
import MagpieReco

/// Score-based reconstruction guided by the signals (score-based-sm-reconstruction.txt): the
/// learned prior's sampler with a Tikhonov data-consistency step through the selected SM rows
/// (calibration SNR >= 5 by default, as the paper keeps). Each image draws its noise from `seed`
/// and its first frame's index, so live and offline runs give the same image. The prior must be
/// trained for the scan's scanner on the SM's grid (`ScannerFingerprint`, images) unless
/// `allow_other_scanner`.
public struct ScoreStep: ReconstructionStep {
    public static let names = [ReconstructionMethod.score.rawValue]
    public static let keys = SystemMatrixSettings.CodingKeys.allCases.map(\.rawValue) + ["lambda", "iterations", "model", "seed", ModelScannerCheck.key]
    public static let input = StepData.signals, output = StepData.images
    public static let defaultModel = "score-openmpi2d"

    public var method: ReconstructionMethod { .score }
    public var matrix = SystemMatrixSettings()
    /// Data-consistency lambda and network steps (the sampler's defaults).
    public var lambda: Double?
    public var iterations: Int?
    public var model: String?
    public var seed: UInt64?
    public var allowOtherScanner: Bool?

    public init(matrix: SystemMatrixSettings, lambda: Double? = nil, iterations: Int? = nil, model: String? = nil, seed: UInt64? = nil,
                allowOtherScanner: Bool? = nil) {
        (self.matrix, self.lambda, self.iterations, self.model, self.seed, self.allowOtherScanner) = (matrix, lambda, iterations, model, seed, allowOtherScanner)
    }

    enum CodingKeys: String, CodingKey { case lambda, iterations, model, seed, allowOtherScanner = "allow_other_scanner" }

    public init(from decoder: Decoder) throws {
        matrix = try SystemMatrixSettings(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        lambda = try container.decodeIfPresent(Double.self, forKey: .lambda)
        iterations = try container.decodeIfPresent(Int.self, forKey: .iterations)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed)
        allowOtherScanner = try container.decodeIfPresent(Bool.self, forKey: .allowOtherScanner)
    }

    public func encode(to encoder: Encoder) throws {
        try matrix.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(lambda, forKey: .lambda)
        try container.encodeIfPresent(iterations, forKey: .iterations)
        try container.encodeIfPresent(model, forKey: .model)
        try container.encodeIfPresent(seed, forKey: .seed)
        try container.encodeIfPresent(allowOtherScanner, forKey: .allowOtherScanner)
    }

    var parameters: ScoreSampler.Parameters {
        var parameters = ScoreSampler.Parameters(seed: seed ?? 0)
        parameters.lambda = lambda ?? parameters.lambda
        parameters.steps = iterations ?? parameters.steps
        return parameters
    }

    public func resolved() -> ScoreStep {
        var settings = matrix
        settings.snrThreshold = settings.snrThreshold ?? 5
        settings.minFrequency = settings.minFrequency ?? 80e3
        let parameters = self.parameters
        return ScoreStep(matrix: settings, lambda: parameters.lambda, iterations: parameters.steps, model: model ?? Self.defaultModel, seed: parameters.seed,
                         allowOtherScanner: allowOtherScanner)
    }

    public func check(in plan: ReconstructionPlan, at index: Int) throws {
        try matrix.checkCompression(stage: "score", solverTakesIt: false)
        do {
            try parameters.validate()
        } catch {
            throw PlanError("[stage.score] \(error)")
        }
    }

    public func makeRunner(_ context: PlanContext) throws -> any StepRunner {
        let name = model ?? Self.defaultModel
        let sampler: ScoreSampler
        do {
            sampler = try ScoreSampler(model: LearnedModel(named: name, manifestPath: context.manifest, kind: ScoreSampler.kind))
        } catch {
            throw PlanError("[stage.score] model \"\(name)\": \(error)")
        }
        let parameters = self.parameters
        let matrices = try SystemMatrixSettings.Choice(matrix, defaultThreshold: 5, stage: "score") { loaded in
            do {
                return try ScoreReconstruction(matrix: try loaded.dense(stage: "score"), grid: loaded.geometry.size, sampler: sampler, parameters: parameters)
            } catch {
                throw PlanError("[stage.score] model \"\(name)\" with \(loaded.path): \(error)")
            }
        }
        return Runner(matrices, seed: parameters.seed, residuals: context.residuals, allowOtherScanner: allowOtherScanner ?? false)
    }

    final class Runner: ImageMaking {
        /// Each matrix with the score model's decomposition of it, built once.
        let matrices: SystemMatrixSettings.Choice<ScoreReconstruction>
        var loaded: SystemMatrixSettings.Loaded { matrices.loaded }
        var reconstruction: ScoreReconstruction { matrices.built }
        let seed: UInt64
        let recordsResiduals: Bool
        let allowOtherScanner: Bool
        private var residuals: [[Double]] = []
        private var mismatch: String?

        init(_ matrices: SystemMatrixSettings.Choice<ScoreReconstruction>, seed: UInt64, residuals: Bool, allowOtherScanner: Bool) {
            (self.matrices, self.seed, recordsResiduals, self.allowOtherScanner) = (matrices, seed, residuals, allowOtherScanner)
        }

        var geometry: ImageGeometry? { loaded.geometry }
        var unit: String { loaded.unit }

        func begin(_ scan: ScanDescription) throws {
            try matrices.begin(scan)
            // The prior's images are the SM's grid over the scanner's field of view.
            mismatch = try ModelScannerCheck.check(reconstruction.sampler.model, scanner: {
                var scanner = try scan.scanner()
                scanner.imageSize = loaded.geometry.size
                return scanner
            }, stage: "score", allowed: allowOtherScanner, scan: scan)
        }

        func process(_ item: inout PlanItem) throws -> Bool {
            guard !item.isBackground else { return false }
            reconstruction.parameters.seed = seed &+ UInt64(item.frame) &* 0x9E37_79B9_7F4A_7C15
            let u = try loaded.vectors(item)
            let images = try reconstruction.reconstruct(u)
            item.image = NDArray(shape: [images.count], storage: images.storage.map { $0 * loaded.scale })
            if recordsResiduals { residuals.append([reconstruction.residual(images.storage.map(Double.init), u.storage[...])]) }
            return true
        }

        var provenance: [String: ProvenanceValue] {
            var fields = loaded.provenance
            fields["model"] = .text("\(reconstruction.sampler.model.name) sha256 \(reconstruction.sampler.model.entry.sha256)")
            fields["iterations"] = .integer(Int64(reconstruction.parameters.steps))
            fields["lambda"] = .number(reconstruction.parameters.lambda)
            fields["seed"] = .integer(Int64(bitPattern: seed))
            if !residuals.isEmpty { fields["residuals"] = .numbers(residuals) }
            if let mismatch { fields["scoreScannerMismatch"] = .text(mismatch) }
            return fields
        }
    }
}
