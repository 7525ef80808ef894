import MagpieCore
import MagpieReco

/// x-space reconstruction (Goodwill & Conolly, with every receive channel; docs/PHYSICS.md): a
/// plan per scan from its drive field, receiver and gradient, then one sparse product per frame.
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

    public final class Runner: ImageMaking {
        private var plan: XSpaceReconstruction.Plan?
        public private(set) var geometry: ImageGeometry?
        /// The scanner of the scan being processed (the deblurring step's PSF comes from it).
        public private(set) var scanner: MPIScanner?
        public let unit = XSpaceStep.unit
        private var preset: ScannerPreset?

        public func begin(_ scan: ScanDescription) throws {
            let (scanner, preset) = try ReconstructionInputs.xSpaceScanner(scan.metadata, recorded: scan.recordedScanner)
            plan = try XSpaceReconstruction(scanner: scanner).plan()
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
