import MagpieCore
import MagpieReco

/// x-space reconstruction (Goodwill & Conolly, with every receive channel; docs/PHYSICS.md): a
/// plan from the scan's drive field, receiver and gradient, then one sparse product per frame.
/// Plans are kept per scanner description (the last `cachedPlans`), so the daemon builds one once
/// per geometry, not at every scan start (seconds for a 3D grid, while frames wait).
/// Images are native (blurred by the Langevin PSF) in particle-moment units per voxel.
public struct XSpaceStep: ReconstructionStep {
    public static let names = ["xspace"]
    public static let keys: [String] = []
    public static let input = StepData.signals, output = StepData.images
    /// What the fit recovers: particles x moment x beta per voxel (no calibration scales it to mol/L).
    public static let unit = "n m beta per voxel (x-space, native)"

    public var method: ReconstructionMethod { .xspace }

    public init() {}

    public func makeRunner(_ context: PlanContext) throws -> any StepRunner { Runner() }

    /// Plans kept for scanners seen before: a lab switches between a few sequences.
    static let cachedPlans = 4

    public final class Runner: ImageMaking {
        private var plan: XSpaceReconstruction.Plan?
        /// The most recently used plans, newest last.
        private var plans: [(scanner: MPIScanner, plan: XSpaceReconstruction.Plan)] = []
        /// How many plans this runner has built (the rest came from `plans`).
        public private(set) var plansBuilt = 0

        public init() {}
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
        }

        public func process(_ item: inout PlanItem) throws -> Bool {
            guard !item.isBackground, let plan else { return false }
            let (c, v) = (item.signals.shape[0], item.signals.shape[1])
            item.image = try XSpaceReconstruction.apply(plan, to: item.signals.storage.map(Double.init), shape: [c, v]).map(Float.init)
            return true
        }

        public var provenance: [String: ProvenanceValue] {
            preset.map { ["scanner": .text("particle and image grid of the \($0.rawValue) preset (the file records neither)")] } ?? [:]
        }
    }
}
