import MagpieCore

/// Deblurring of each native x-space image: the MSA-transformer or the DC-GAN's generator from
/// the model manifest, trained for the scan's scanner (its images' physics, `ScannerFingerprint`)
/// unless `allow_other_scanner`, or Wiener / Richardson-Lucy deconvolution by the scan's own Langevin PSF.
public struct DeblurStep: PlanStep {
    public enum Method: String, Codable, Sendable, CaseIterable {
        case msa, dcgan, wiener, rl

        /// The network a learned method loads unless a model is named (those trained for openmpi-2d,
        /// the scanner of the demo and of OpenMPI data); nil for the classical ones.
        public var defaultModel: String? {
            switch self {
            case .msa: return "msa-deblur-openmpi2d"
            case .dcgan: return "dcgan-deblur-openmpi2d"
            case .wiener, .rl: return nil
            }
        }
    }

    public static let names = ["deblur"]
    public static let keys = ["method", "model", ModelScannerCheck.key]
    public static let input = StepData.images, output = StepData.images

    public var method: Method
    public var model: String?
    public var allowOtherScanner: Bool?

    enum CodingKeys: String, CodingKey { case method, model, allowOtherScanner = "allow_other_scanner" }

    public init(method: Method, model: String? = nil, allowOtherScanner: Bool? = nil) {
        (self.method, self.model, self.allowOtherScanner) = (method, model, allowOtherScanner)
    }

    public func resolved() -> DeblurStep { DeblurStep(method: method, model: model ?? method.defaultModel, allowOtherScanner: allowOtherScanner) }

    public func check(in plan: ReconstructionPlan, at index: Int) throws {
        if method.defaultModel == nil, model != nil { throw PlanError("[stage.deblur] model applies to msa and dcgan, not \(method.rawValue)") }
        if method.defaultModel == nil, allowOtherScanner != nil {
            throw PlanError("[stage.deblur] \(ModelScannerCheck.key) applies to msa and dcgan; \(method.rawValue) uses the scan's own PSF")
        }
        guard plan.method == .xspace else {
            throw PlanError("stages: deblur removes the x-space PSF and needs xspace, not \(plan.method?.rawValue ?? "no reconstruction")")
        }
    }

    public func makeRunner(_ context: PlanContext) throws -> any StepRunner {
        do {
            return Runner(try DeblurMethod.named(method, model: model, manifest: context.manifest), allowOtherScanner: allowOtherScanner ?? false)
        } catch {
            throw PlanError("[stage.deblur] method \"\(method.rawValue)\"\(model.map { ", model \"\($0)\"" } ?? ""): \(error)")
        }
    }

    public final class Runner: StepRunner {
        public let method: DeblurMethod
        let allowOtherScanner: Bool
        private var kernel: NDArray<Double>?
        private var mismatch: String?

        init(_ method: DeblurMethod, allowOtherScanner: Bool) { (self.method, self.allowOtherScanner) = (method, allowOtherScanner) }

        public func begin(_ scan: ScanDescription) throws {
            let scanner = try scan.scanner()
            kernel = try method.kernel(for: scanner)
            if case let .learned(deblurrer) = method {
                mismatch = try ModelScannerCheck.check(deblurrer.model, scanner: { scanner }, stage: "deblur", allowed: allowOtherScanner, scan: scan)
            }
        }

        public func process(_ item: inout PlanItem) throws -> Bool {
            guard let image = item.image else { return true }
            item.image = try method.deblur(image.map(Double.init), kernel: kernel).map(Float.init)
            return true
        }

        /// A learned model that takes batches deblurs the items' images in one call (catch-up).
        public func process(batch items: inout [PlanItem]) throws {
            guard case let .learned(deblurrer) = method, deblurrer.takesBatches else {
                for i in items.indices { _ = try process(&items[i]) }
                return
            }
            let withImages = items.indices.filter { items[$0].image != nil }
            let planes = withImages.map { items[$0].image!.map(Double.init).reshaped(Array(items[$0].image!.shape.suffix(2))) }
            for (i, deblurred) in zip(withImages, try deblurrer.deblur(planes)) {
                items[i].image = deblurred.reshaped(items[i].image!.shape).map(Float.init)
            }
        }

        public var provenance: [String: ProvenanceValue] {
            var fields: [String: ProvenanceValue] = ["deblur": .text(method.provenance)]
            if let mismatch { fields["deblurScannerMismatch"] = .text(mismatch) }
            return fields
        }
    }
}
