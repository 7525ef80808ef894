import MagpieCore
import MagpieReco

/// x-space reconstruction (Goodwill & Conolly, with every receive channel; docs/PHYSICS.md): a
/// plan from the scan's drive field, receiver and gradient, then one sparse product per frame.
/// Plans are kept per scanner description (the last `cachedPlans`), so the daemon builds one once
/// per geometry, not at every scan start (seconds for a 3D grid, while frames wait).
/// Images are native (blurred by the Langevin PSF) in particle-moment units per voxel.
public struct XSpaceStep: ReconstructionStep {
    public static let names = ["xspace"]
    public static let keys = ["polarity"]
    public static let input = StepData.signals, output = StepData.images
    /// What the fit recovers: particles x moment x beta per voxel (no calibration scales it to mol/L).
    public static let unit = "n m beta per voxel (x-space, native)"

    /// The receive chain's polarity: `auto` (decided per scan from its first image), "+1" or "-1".
    public var polarity: Polarity?

    public var method: ReconstructionMethod { .xspace }

    public init(polarity: Polarity? = nil) { self.polarity = polarity }

    public func resolved() -> XSpaceStep { XSpaceStep(polarity: polarity ?? .auto) }

    public func makeRunner(_ context: PlanContext) throws -> any StepRunner { Runner(polarity: polarity ?? .auto) }

    /// Plans kept for scanners seen before: a lab switches between a few sequences.
    static let cachedPlans = 4

    public final class Runner: ImageMaking {
        private var plan: XSpaceReconstruction.Plan?
        /// The most recently used plans, newest last.
        private var plans: [(scanner: MPIScanner, plan: XSpaceReconstruction.Plan)] = []
        /// How many plans this runner has built (the rest came from `plans`).
        public private(set) var plansBuilt = 0
        public let polarity: Polarity
        /// The sign applied in this scan: the fixed one, or `auto`'s decision from the scan's first
        /// foreground image (nil until then), with that image's frame.
        public private(set) var sign: Double?
        private var decidedAt: Int?
        /// Called once a scan when `auto` decides (the daemon logs it).
        public var onDecision: (@Sendable (_ scan: String, _ sign: Double, _ frame: Int) -> Void)?
        private var scanName = ""

        public init(polarity: Polarity = .auto) { self.polarity = polarity }
        public private(set) var geometry: ImageGeometry?
        /// The scanner of the scan being processed (the deblurring step's PSF comes from it).
        public private(set) var scanner: MPIScanner?
        public let unit = XSpaceStep.unit
        private var preset: ScannerPreset?

        public func begin(_ scan: ScanDescription) throws {
            let (scanner, preset) = try ReconstructionInputs.xSpaceScanner(scan.metadata, recorded: scan.recordedScanner)
            if let index = plans.firstIndex(where: { $0.scanner == scanner }) {
                plans.append(plans.remove(at: index))
            } else {
                plans.append((scanner, try XSpaceReconstruction(scanner: scanner).plan()))
                plansBuilt += 1
                if plans.count > XSpaceStep.cachedPlans { plans.removeFirst() }
            }
            plan = plans.last!.plan
            geometry = ImageGeometry(size: scanner.imageSize, fieldOfView: scanner.fieldOfView, positions: scanner.pixelCenters())
            (self.scanner, self.preset) = (scanner, preset)
            // A second begin of the same scan (the daemon's catch-up) keeps auto's decision.
            if polarity != .auto || scan.name != scanName || sign == nil {
                (sign, decidedAt, scanName) = (polarity.sign, nil, scan.name)
            }
        }

        public func process(_ item: inout PlanItem) throws -> Bool {
            guard !item.isBackground, let plan else { return false }
            let (c, v) = (item.signals.shape[0], item.signals.shape[1])
            let voltages = item.signals.storage.map(Double.init)
            if sign == nil {
                let decided = try XSpaceReconstruction.dominantSign(plan, of: voltages, shape: [c, v])
                (sign, decidedAt) = (decided, item.frame)
                onDecision?(scanName, decided, item.frame)
            }
            item.image = try XSpaceReconstruction.apply(plan, to: voltages, shape: [c, v], sign: sign!).map(Float.init)
            return true
        }

        public var provenance: [String: ProvenanceValue] {
            var fields: [String: ProvenanceValue] = [:]
            if let preset { fields["scanner"] = .text("particle and image grid of the \(preset.rawValue) preset (the file records neither)") }
            if let sign { fields["polarity"] = .integer(Int64(sign)) }
            if let decidedAt { fields["polarityDecidedAtFrame"] = .integer(Int64(decidedAt)) }
            return fields
        }
    }
}
