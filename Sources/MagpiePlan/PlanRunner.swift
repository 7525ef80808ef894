import Foundation
import MagpieCore
import MagpieMDF
import MagpieReco

/// Runs a plan: built once (models and matrices loaded and verified), then scan after scan, frame
/// after frame in acquisition order. The daemon pushes frames as they arrive; `magpie reconstruct`
/// pushes a file's frames through the same code, so both give the same images.
public final class PlanRunner {
    public let plan: ReconstructionPlan
    /// One per step, in the plan's order.
    public let runners: [any StepRunner]
    /// Told each step's time for each frame `process` takes through it (the daemon's per-stage histograms).
    public var stepTime: ((_ step: Int, _ nanoseconds: UInt64) -> Void)?

    public init(_ plan: ReconstructionPlan, context: PlanContext) throws {
        self.plan = plan
        runners = try plan.steps.map { try $0.makeRunner(context) }
    }

    /// The step that makes images, if any.
    public var imageMaker: (any ImageMaking)? { runners.lazy.compactMap { $0 as? any ImageMaking }.first }

    public var geometry: ImageGeometry? { imageMaker?.geometry }
    public var unit: String? { imageMaker?.unit }

    /// Prepares every step for a scan; throws (naming the step) when the plan cannot process it.
    public func begin(_ scan: ScanDescription) throws {
        // Frames reach the steps as the mean of their periods, which only repetitions allow.
        if scan.metadata.acquisition.numPeriodsPerFrame > 1 { try ReconstructionInputs.checkPeriodsRepeat(scan.metadata, path: scan.name) }
        for (step, runner) in zip(plan.steps, runners) {
            do {
                try runner.begin(scan)
            } catch {
                throw PlanError("stage \(step.name): \(error)")
            }
        }
    }

    /// Takes one frame through the steps from `first`; returns it when it came out of the last
    /// step (with its image, if the plan makes images), nil when a step kept it.
    public func process(_ item: PlanItem, from first: Int = 0) throws -> PlanItem? {
        var item = item
        for index in first..<runners.count {
            let began = stepTime == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            let kept = try runners[index].process(&item)
            stepTime?(index, DispatchTime.now().uptimeNanoseconds - began)
            guard kept else { return nil }
        }
        return item
    }

    /// Takes several frames through the steps, each step over all of them before the next (so a
    /// learned step runs one batch across blocks); returns those that came out of the last step,
    /// in order. The same results as `process` frame by frame: steps keep their state in order.
    public func process(batch items: [PlanItem]) throws -> [PlanItem] {
        var items = items
        for runner in runners where !items.isEmpty { try runner.process(batch: &items) }
        return items
    }

    /// What every step records beyond its settings.
    public var provenance: [String: ProvenanceValue] {
        runners.reduce(into: [:]) { all, runner in all.merge(runner.provenance) { a, _ in a } }
    }
}

/// The images a plan made from a measurement file, and which frames each came from.
public struct PlanImages {
    /// Q x P.
    public var images: NDArray<Float>
    /// The acquisition index (0-based) of each image's first frame.
    public var frames: [Int]
    public var geometry: ImageGeometry
    public var unit: String

    public func reconstruction() -> MDF.Reconstruction {
        geometry.reconstruction(.float32(images.reshaped([images.shape[0], images.shape[1], 1])))
    }
}

extension PlanRunner {
    /// Reconstructs a measurement file: its frames in acquisition order through the plan, the
    /// foreground ones among `selected` (0-based; default all). With background mode
    /// `interpolated` the first steps (background, averaging) are MPIReco's measurement
    /// preparation over the whole file, then each block goes through the remaining steps.
    public func reconstruct(_ file: MDFFile, path: String, recordedScanner: MPIScanner?, frames selected: [Int]? = nil) throws -> PlanImages {
        let measured = try ReconstructionInputs.measuredFrames(file, path: path)
        for n in selected ?? [] {
            guard n >= 0 && n < measured.frames else { throw PlanError("frame \(n + 1) does not exist; \(path) has \(measured.frames) frames") }
            guard !measured.isBackgroundFrame[n] else { throw PlanError("frame \(n + 1) is a background frame") }
        }
        try begin(ScanDescription(metadata: file, name: path, recordedScanner: recordedScanner))
        guard let geometry, let unit else { throw PlanError("the plan makes no images: it needs a reconstruction stage") }
        let (c, v) = (measured.channels, measured.samples), size = c * v
        var images: [Float] = [], frames: [Int] = []
        func keep(_ item: PlanItem?) {
            guard let item, let image = item.image else { return }
            images += image.storage
            frames.append(item.frame)
        }
        let selection = selected ?? measured.foregroundFrames
        if plan.step(BackgroundStep.self)?.effectiveMode == .interpolated {
            let average = plan.steps.count > 1 ? (plan.steps[1] as? AverageStep)?.effectiveFrames : nil
            let prepared = try measured.prepared(frames: selection, average: average ?? 1)
            let first = average == nil ? 1 : 2
            for q in 0..<prepared.shape[0] {
                let signals = NDArray(shape: [c, v], storage: Array(prepared.storage[(q * size)..<((q + 1) * size)]))
                keep(try process(PlanItem(frame: selection[q * (average ?? 1)], foregroundOrdinal: q, signals: signals), from: first))
            }
        } else {
            let chosen = Set(selection)
            var ordinal = 0
            for n in 0..<measured.frames {
                let background = measured.isBackgroundFrame[n]
                guard background || chosen.contains(n) else { continue }
                let signals = NDArray(shape: [c, v], storage: Array(measured.data.storage[(n * size)..<((n + 1) * size)]))
                keep(try process(PlanItem(frame: n, foregroundOrdinal: background ? nil : ordinal, signals: signals)))
                if !background { ordinal += 1 }
            }
        }
        guard !frames.isEmpty else { throw PlanError("\(path): the plan made no image from the frames selected") }
        return PlanImages(images: NDArray(shape: [frames.count, images.count / frames.count], storage: images), frames: frames,
                          geometry: geometry, unit: unit)
    }
}

/// The provenance group every output file carries, written the same way by `magpie reconstruct`
/// and the daemon: /_magpie/reconstruction with the plan (JSON, defaults filled in), the method,
/// the unit, the software, the inputs with their uuids, the models with their sha256, and the
/// acquisition index of each image's first frame.
public struct PlanProvenance: Sendable {
    public var plan: ReconstructionPlan
    public var fields: [String: ProvenanceValue]
    public var unit: String
    /// Each image's first frame (0-based acquisition index).
    public var frames: [Int]
    public var measurement: String?
    public var measurementUUID: String?

    public init(runner: PlanRunner, unit: String, frames: [Int], measurement: String? = nil, measurementUUID: String? = nil) {
        plan = runner.plan
        fields = runner.provenance
        (self.unit, self.frames, self.measurement, self.measurementUUID) = (unit, frames, measurement, measurementUUID)
    }

    public static let group = "/_magpie/reconstruction"

    public func write(to file: HDF5File) throws {
        let g = Self.group
        try file.write(try plan.resolved().json(), to: "\(g)/plan")
        try file.write(plan.method?.rawValue ?? "off", to: "\(g)/method")
        try file.write("magpie \(MagpieVersion.string)", to: "\(g)/software")
        try file.write(unit, to: "\(g)/unit")
        try file.write(NDArray(frames.map(Int64.init)), to: "\(g)/imageFrames")
        if let measurement { try file.write(measurement, to: "\(g)/measurement") }
        if let measurementUUID { try file.write(measurementUUID, to: "\(g)/measurementUUID") }
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            let path = "\(g)/\(key)"
            switch value {
            case let .text(text): try file.write(text, to: path)
            case let .integer(number): try file.write(scalar: number, to: path)
            case let .number(number): try file.write(scalar: number, to: path)
            case let .integers(rows): try file.write(NDArray(shape: [rows.count, rows.first?.count ?? 0], storage: rows.flatMap { $0 }), to: path)
            case let .numbers(rows): try file.write(NDArray(shape: [rows.count, rows.first?.count ?? 0], storage: rows.flatMap { $0 }), to: path)
            }
        }
    }

    /// The plan a file's provenance records.
    public static func plan(of path: String) throws -> ReconstructionPlan {
        let text: String
        do {
            text = try HDF5File.open(path).readString("\(group)/plan")
        } catch {
            throw PlanError("\(path) records no reconstruction plan (\(group)/plan): \(error)")
        }
        return try ReconstructionPlan(json: text)
    }
}
