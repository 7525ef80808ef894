import Foundation
import MagpieCore
import MagpieMDF
import MagpieNeural
import MagpieReco
import MagpieWire

/// A scan as the processing stages see it.
public struct ScanContext {
    public let start: ScanStart
    /// The scan's MDF metadata groups.
    public let metadata: MDFFile
}

/// One frame on its way through the stages: its periods in physical units (C x V, the first
/// period of the frame), then its image once a reconstruction stage has made one.
public struct WorkItem {
    public var frame: Int
    public var isBackground: Bool
    /// When the sender sent it, ns since the epoch (for the latency figures).
    public var sentNs: UInt64
    public var periods: NDArray<Float>
    public var image: NDArray<Float>?
}

/// The one interface every processing stage implements (background, denoising, reconstruction,
/// deblurring). Stages run on the processing thread, in the configured order.
public protocol FrameStage: AnyObject {
    var name: String { get }
    /// Prepares for a scan; a throw means this scan is archived without processing.
    func begin(_ scan: ScanContext) throws
    /// Transforms the item; false ends its way through the stages (a background frame that was only taken note of).
    func process(_ item: inout WorkItem) throws -> Bool
}

/// Image geometry a reconstruction stage produces, for the scan's /reconstruction.
public struct ImageGeometry {
    public var size: [Int]
    public var fieldOfView: [Double]
    public var positions: NDArray<Double>
}

/// Subtracts the running mean of the scan's background frames (recorded before its foreground
/// frames, as scanners do) from each foreground frame.
public final class BackgroundStage: FrameStage {
    public let name = "background"
    private var sum: [Double] = []
    private var count = 0

    public init() {}

    public func begin(_ scan: ScanContext) throws {
        sum = []
        count = 0
    }

    public func process(_ item: inout WorkItem) throws -> Bool {
        if sum.count != item.periods.count { sum = [Double](repeating: 0, count: item.periods.count) }
        if item.isBackground {
            for i in 0..<sum.count { sum[i] += Double(item.periods.storage[i]) }
            count += 1
            return false
        }
        if count > 0 {
            for i in 0..<sum.count { item.periods.storage[i] -= Float(sum[i] / Double(count)) }
        }
        return true
    }
}

/// Reconstructs each frame: x-space (a plan per scan from its metadata) or a system-matrix solver.
public final class ReconstructionStage: FrameStage {
    public enum Method {
        case xspace
        /// The matrix, the calibration file it came from (checked against each scan), and the solver.
        case systemMatrix(SystemMatrix, file: MDFFile, path: String, solver: SystemMatrixSolver)
        /// The score sampler bound to the matrix, and the calibration file it came from.
        case score(ScoreReconstruction, file: MDFFile, path: String)
    }

    public let name = "reconstruct"
    let method: Method
    private var plan: XSpaceReconstruction.Plan?
    public private(set) var geometry: ImageGeometry?

    public init(_ method: Method) {
        self.method = method
    }

    public func begin(_ scan: ScanContext) throws {
        switch method {
        case .xspace:
            let scanner = try ReconstructionInputs.xSpaceScanner(scan.metadata, recorded: nil).scanner
            plan = try XSpaceReconstruction(scanner: scanner).plan()
            geometry = ImageGeometry(size: scanner.imageSize, fieldOfView: scanner.fieldOfView, positions: scanner.pixelCenters())
        case let .systemMatrix(_, file, path, _), let .score(_, file, path):
            try ReconstructionInputs.checkCompatible(systemMatrix: file, smPath: path, measurement: scan.metadata,
                                                     measurementPath: "scan \(scan.start.scanID)")
            let calibration = file.calibration!
            geometry = ImageGeometry(size: calibration.size, fieldOfView: calibration.fieldOfView,
                                     positions: calibration.positions ?? gridPositions(calibration.size, calibration.fieldOfView))
        }
    }

    public func process(_ item: inout WorkItem) throws -> Bool {
        let (c, v) = (item.periods.shape[0], item.periods.shape[1])
        switch method {
        case .xspace:
            guard let plan else { return false }
            let image = try XSpaceReconstruction.apply(plan, to: item.periods.storage.map(Double.init), shape: [c, v])
            item.image = image.map(Float.init)
        case let .systemMatrix(matrix, _, _, solver):
            let u = try matrix.measurementVectors(item.periods.reshaped([1, c, v]))
            item.image = try solver.solve(matrix, u).images
        case let .score(reconstruction, _, _):
            let u = try reconstruction.matrix.measurementVectors(item.periods.reshaped([1, c, v]))
            item.image = try reconstruction.reconstruct(u)
        }
        return true
    }
}
