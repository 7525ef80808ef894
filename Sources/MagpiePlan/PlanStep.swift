import Foundation
import MagpieCore
import MagpieMDF
import Synchronization

/// What a step takes and gives.
public enum StepData: String, Sendable {
    /// A frame's (or block's) periods in physical units, C x V.
    case signals
    /// A reconstructed image.
    case images
}

/// One step of a reconstruction plan: its settings (Codable: JSON in every output file's
/// provenance, a `[stage.NAME]` table in the daemon's config and in plan files) and what runs
/// it. Adding a step is one file with a type conforming to this and one line in
/// `PlanSteps.builtIn`, as MPIReco.jl adds a parameter struct and its `process` method.
public protocol PlanStep: Codable, Sendable {
    /// Its names in `stages = [...]` (most steps have one; kaczmarz and cgnr share a type).
    static var names: [String] { get }
    /// The keys its settings table may hold.
    static var keys: [String] { get }
    static var input: StepData { get }
    static var output: StepData { get }
    /// The name it was given, for a type with several names (called after decoding).
    mutating func named(_ name: String)
    /// Its name in the plan.
    var name: String { get }
    /// Builds what runs it: loads and verifies models and matrices once, before any scan.
    func makeRunner(_ context: PlanContext) throws -> any StepRunner
    /// Checks what the chain rules cannot: the step's place relative to others.
    func check(in plan: ReconstructionPlan, at index: Int) throws
    /// The step with its defaults filled in: what a file records, so that changed defaults
    /// cannot change what `--plan-from` reproduces.
    func resolved() -> Self
}

extension PlanStep {
    public mutating func named(_ name: String) {}
    public var name: String { Self.names[0] }
}

/// What a plan's steps need from where they run: the model manifest, and whether to record
/// per-image residuals (offline; they cost Kaczmarz a pass per sweep, which the daemon spares).
public struct PlanContext: Sendable {
    public var manifest: String
    public var residuals: Bool
    public init(manifest: String = "models/manifest.json", residuals: Bool = false) {
        (self.manifest, self.residuals) = (manifest, residuals)
    }
}

/// A value a step records in a file's provenance.
public enum ProvenanceValue: Sendable, Equatable {
    case text(String)
    case integer(Int64)
    case number(Double)
    /// Rows x columns, row-major.
    case integers([[Int64]])
    case numbers([[Double]])
}

/// A scan (in the daemon) or a measurement file (in `magpie reconstruct`) as the steps see it.
public struct ScanDescription: Sendable {
    /// Its MDF metadata groups.
    public let metadata: MDFFile
    /// How messages name it: "scan ID" or the file's path.
    public let name: String
    /// The scanner a simulated file records (particle, image grid), which MDF itself does not hold.
    public let recordedScanner: MPIScanner?
    public init(metadata: MDFFile, name: String, recordedScanner: MPIScanner? = nil) {
        self.metadata = metadata
        self.name = name
        self.recordedScanner = recordedScanner
    }

    /// The scanner it was acquired with: MDF's drive field, gradient and receiver, with the
    /// recorded (else openmpi preset's) particle and grid (`ReconstructionInputs.xSpaceScanner`).
    public func scanner() throws -> MPIScanner {
        try ReconstructionInputs.xSpaceScanner(metadata, recorded: recordedScanner).scanner
    }
}

/// One frame, or a block of averaged frames, on its way through the steps.
public struct PlanItem: Sendable {
    /// The acquisition index of the (first) frame it holds, 0-based.
    public var frame: Int
    /// Its place among the foreground frames (blocks are counted on it); nil for background frames.
    public var foregroundOrdinal: Int?
    public var isBackground: Bool { foregroundOrdinal == nil }
    /// When the sender sent it, ns since the epoch (the daemon's latency figures); 0 offline.
    public var sentNs: UInt64
    /// C x V in physical units (the mean of the frame's periods).
    public var signals: NDArray<Float>
    public var image: NDArray<Float>?

    public init(frame: Int, foregroundOrdinal: Int?, sentNs: UInt64 = 0, signals: NDArray<Float>) {
        self.frame = frame
        self.foregroundOrdinal = foregroundOrdinal
        self.sentNs = sentNs
        self.signals = signals
    }
}

/// What runs one step of a plan, for one scan after another.
public protocol StepRunner: AnyObject {
    /// Prepares for a scan; a throw means the scan cannot be processed by this plan (the daemon
    /// archives it without images).
    func begin(_ scan: ScanDescription) throws
    /// Transforms `item`; false ends its way (a background frame only taken note of, a frame
    /// waiting for the rest of its block).
    func process(_ item: inout PlanItem) throws -> Bool
    /// Transforms several items, in order, keeping those that go on: the same result as `process`
    /// one by one. Learned steps override it to run one model call across blocks (catch-up).
    func process(batch items: inout [PlanItem]) throws
    /// What an output file records of the step beyond its settings: models with their sha256,
    /// input files with their uuids (field name -> value, under /_magpie/reconstruction).
    var provenance: [String: ProvenanceValue] { get }
}

extension StepRunner {
    public func process(batch items: inout [PlanItem]) throws {
        var kept: [PlanItem] = []
        kept.reserveCapacity(items.count)
        for var item in items where try process(&item) { kept.append(item) }
        items = kept
    }
}

/// A step that makes images: their geometry and unit for the file's /reconstruction.
public protocol ImageMaking: StepRunner {
    var geometry: ImageGeometry? { get }
    /// The unit of the images, as docs/RECONSTRUCTION.md states it.
    var unit: String { get }
}

/// Image geometry for a file's /reconstruction.
public struct ImageGeometry: Sendable {
    public var size: [Int]
    public var fieldOfView: [Double]
    public var fieldOfViewCenter: [Double]
    /// MDF's axis order of the voxels ("xyz": x fastest).
    public var order: String
    public var positions: NDArray<Double>

    public init(size: [Int], fieldOfView: [Double], fieldOfViewCenter: [Double] = [0, 0, 0], order: String = "xyz", positions: NDArray<Double>) {
        (self.size, self.fieldOfView, self.fieldOfViewCenter, self.order, self.positions) = (size, fieldOfView, fieldOfViewCenter, order, positions)
    }

    /// /reconstruction for `images` (Q x P) or, with `.notLoaded`, for images written in pieces.
    public func reconstruction(_ data: MDFData) -> MDF.Reconstruction {
        MDF.Reconstruction(data: data, fieldOfView: fieldOfView, fieldOfViewCenter: fieldOfViewCenter, size: size, order: order, positions: positions)
    }
}

/// Why a plan cannot be read or run; the message names the stage and key.
public struct PlanError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The steps a plan may name.
public enum PlanSteps {
    /// Every built-in step: a new one is one file and one line here.
    public static let builtIn: [any PlanStep.Type] = [
        BackgroundStep.self, AverageStep.self, DenoiseStep.self, XSpaceStep.self, SystemMatrixStep.self, ScoreStep.self, DeblurStep.self,
    ]
    private static let extra = Mutex<[any PlanStep.Type]>([])

    /// Adds a step from outside the module (a lab's own, or a test's).
    public static func register(_ step: any PlanStep.Type) {
        extra.withLock { list in if !list.contains(where: { ObjectIdentifier($0) == ObjectIdentifier(step) }) { list.append(step) } }
    }

    public static var all: [any PlanStep.Type] { builtIn + extra.withLock { $0 } }

    public static var names: [String] { all.flatMap { $0.names } }

    public static func type(named name: String) -> (any PlanStep.Type)? {
        all.first { $0.names.contains(name) }
    }
}
