import MagpieCore

/// Deblurring of each native x-space image: the MSA-transformer or the DC-GAN's generator from
/// the model manifest, or Wiener / Richardson-Lucy deconvolution by the scan's own Langevin PSF.
public struct DeblurStep: PlanStep {
    public enum Method: String, Codable, Sendable, CaseIterable {
        case msa, dcgan, wiener, rl

        /// The network a learned method loads unless a model is named; nil for the classical ones.
        public var defaultModel: String? {
            switch self {
            case .msa: return "msa-deblur"
            case .dcgan: return "dcgan-deblur"
            case .wiener, .rl: return nil
            }
        }
    }

    public static let names = ["deblur"]
    public static let keys = ["method", "model"]
    public static let input = StepData.images, output = StepData.images

    public var method: Method
    public var model: String?

    public init(method: Method, model: String? = nil) { (self.method, self.model) = (method, model) }

    public func resolved() -> DeblurStep { DeblurStep(method: method, model: model ?? method.defaultModel) }

    public func check(in plan: ReconstructionPlan, at index: Int) throws {
        if method.defaultModel == nil, model != nil { throw PlanError("[stage.deblur] model applies to msa and dcgan, not \(method.rawValue)") }
        guard plan.method == .xspace else {
            throw PlanError("stages: deblur removes the x-space PSF and needs xspace, not \(plan.method?.rawValue ?? "no reconstruction")")
        }
    }

    public func makeRunner(_ context: PlanContext) throws -> any StepRunner {
        do {
            return Runner(try DeblurMethod.named(method, model: model, manifest: context.manifest))
        } catch {
            throw PlanError("[stage.deblur] method \"\(method.rawValue)\"\(model.map { ", model \"\($0)\"" } ?? ""): \(error)")
        }
    }

    public final class Runner: StepRunner {
        public let method: DeblurMethod
        private var kernel: NDArray<Double>?

        init(_ method: DeblurMethod) { self.method = method }

        public func begin(_ scan: ScanDescription) throws {
            let scanner = try ReconstructionInputs.xSpaceScanner(scan.metadata, recorded: scan.recordedScanner).scanner
            kernel = try method.kernel(for: scanner)
        }

        public func process(_ item: inout PlanItem) throws -> Bool {
            guard let image = item.image else { return true }
            item.image = try method.deblur(image.map(Double.init), kernel: kernel).map(Float.init)
            return true
        }

        public var provenance: [String: ProvenanceValue] { ["deblur": .text(method.provenance)] }
    }
}
