import Foundation
import MagpieCore
import MagpieMDF
import MagpieReco
import Synchronization

/// What the system-matrix steps (Kaczmarz, CGNR, score) share: the matrix, its rows, the units.
public struct SystemMatrixSettings: Codable, Sendable, Equatable {
    /// The system-matrix MDF files (`system_matrix`: one path, or a list of them, one per scanner
    /// geometry: each scan runs on the first that fits it).
    public var systemMatrices: [String]
    /// Keep rows whose calibration SNR is at least this.
    public var snrThreshold: Double?
    /// Frequencies used, Hz (defaults: 80 kHz to the receive bandwidth).
    public var minFrequency: Double?
    public var maxFrequency: Double?
    /// Receive channels used, 1-based (default: all).
    public var channels: [Int]?
    /// Matrix compression (Kaczmarz only): `compression = { transform = "dct", keep = 0.01 }`.
    public var compression: Compression?

    /// The rows transformed along the calibration grid (the orthonormal DCT-IV) and cut to the
    /// `keep` fraction of their largest coefficients, once at load; Kaczmarz runs on those.
    public struct Compression: Codable, Sendable, Equatable {
        public static let transforms = ["dct"]
        public var transform: String
        public var keep: Double

        public init(transform: String = "dct", keep: Double) { (self.transform, self.keep) = (transform, keep) }

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            transform = try container.decodeIfPresent(String.self, forKey: .transform) ?? "dct"
            // TOML writes 1 and 0 as integers.
            if let whole = try? container.decode(Int.self, forKey: .keep) { keep = Double(whole) } else { keep = try container.decode(Double.self, forKey: .keep) }
        }

        func check(stage: String) throws {
            guard Self.transforms.contains(transform) else {
                throw PlanError("[stage.\(stage)] compression transform = \"\(transform)\" is not offered; allowed: \(Self.transforms.joined(separator: ", ")) (a real transform, so the image stays real in the compressed domain)")
            }
            guard keep.isFinite, keep > 0, keep <= 1 else {
                throw PlanError("[stage.\(stage)] compression keep = \(keep) is out of range; allowed: above 0, up to 1 (the fraction of each row's coefficients kept)")
            }
        }
    }

    /// Compression only where the solver runs on compressed rows (Kaczmarz), with valid settings.
    func checkCompression(stage: String, solverTakesIt: Bool) throws {
        guard let compression else { return }
        guard solverTakesIt else { throw PlanError("[stage.\(stage)] compression works with kaczmarz only") }
        try compression.check(stage: stage)
    }

    public init(systemMatrices: [String] = [], snrThreshold: Double? = nil, minFrequency: Double? = nil, maxFrequency: Double? = nil,
                channels: [Int]? = nil, compression: Compression? = nil) {
        (self.systemMatrices, self.snrThreshold, self.minFrequency, self.maxFrequency, self.channels, self.compression) =
            (systemMatrices, snrThreshold, minFrequency, maxFrequency, channels, compression)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case systemMatrix = "system_matrix", snrThreshold = "snr_threshold", minFrequency = "min_frequency"
        case maxFrequency = "max_frequency", channels, compression
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let one = try? container.decodeIfPresent(String.self, forKey: .systemMatrix) {
            systemMatrices = [one]
        } else {
            systemMatrices = try container.decodeIfPresent([String].self, forKey: .systemMatrix) ?? []
        }
        snrThreshold = try container.decodeIfPresent(Double.self, forKey: .snrThreshold)
        minFrequency = try container.decodeIfPresent(Double.self, forKey: .minFrequency)
        maxFrequency = try container.decodeIfPresent(Double.self, forKey: .maxFrequency)
        channels = try container.decodeIfPresent([Int].self, forKey: .channels)
        compression = try container.decodeIfPresent(Compression.self, forKey: .compression)
    }

    /// One matrix as a string (as files written before lists were allowed record it), several as a list.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if systemMatrices.count == 1 {
            try container.encode(systemMatrices[0], forKey: .systemMatrix)
        } else if !systemMatrices.isEmpty {
            try container.encode(systemMatrices, forKey: .systemMatrix)
        }
        try container.encodeIfPresent(snrThreshold, forKey: .snrThreshold)
        try container.encodeIfPresent(minFrequency, forKey: .minFrequency)
        try container.encodeIfPresent(maxFrequency, forKey: .maxFrequency)
        try container.encodeIfPresent(channels, forKey: .channels)
        try container.encodeIfPresent(compression, forKey: .compression)
    }

    /// Every listed matrix loaded once, with what a step builds from each (a solver's reusable
    /// state, the score model's decomposition), before any scan; `begin` picks, per scan, the
    /// first whose geometry fits it (the scan's frequencies, channels and drive field).
    final class Choice<Built> {
        let entries: [(loaded: Loaded, built: Built)]
        private var current = 0

        init(_ settings: SystemMatrixSettings, defaultThreshold: Double, stage: String, allowsCompressed: Bool = false,
             build: (Loaded) throws -> Built) throws {
            guard !settings.systemMatrices.isEmpty, !settings.systemMatrices.contains(where: \.isEmpty) else {
                throw PlanError("[stage.\(stage)] needs system_matrix = \"/path/to/sm.mdf\" (or a list of them, one per scanner geometry)")
            }
            entries = try settings.systemMatrices.map { path in
                let loaded = try Loaded(settings, path: path, defaultThreshold: defaultThreshold, stage: stage, allowsCompressed: allowsCompressed)
                return (loaded, try build(loaded))
            }
        }

        /// The matrix the current scan runs on (the first listed before any scan).
        var loaded: Loaded { entries[current].loaded }
        var built: Built { entries[current].built }

        func begin(_ scan: ScanDescription) throws {
            var reasons: [String] = []
            for (index, entry) in entries.enumerated() {
                do {
                    try entry.loaded.begin(scan)
                    current = index
                    return
                } catch {
                    if entries.count == 1 { throw error }
                    reasons.append("\(entry.loaded.path): \(error)")
                }
            }
            throw PlanError("none of the \(entries.count) system matrices fits \(scan.name): \(reasons.joined(separator: "; "))")
        }
    }

    /// The loaded matrix, checked against each scan, and the factor to mol/L.
    final class Loaded {
        let path: String
        let file: MDFFile
        /// The dense rows, or nil where only compressed rows are kept (a compressed file, or
        /// `compression` at load: the dense rows are dropped, as 3D ones are large).
        let matrix: SystemMatrix?
        let compressed: CompressedSystemMatrix?
        /// The delta sample's tracer concentration: x times it is mol/L (1 when the SM states none).
        let scale: Float
        let unit: String
        let geometry: ImageGeometry

        init(_ settings: SystemMatrixSettings, path: String, defaultThreshold: Double, stage: String, allowsCompressed: Bool) throws {
            do {
                file = try MDFReader.read(path)
                let selection = FrequencySelection(minFrequency: settings.minFrequency ?? 80e3, maxFrequency: settings.maxFrequency,
                                                   channels: settings.channels?.map { $0 - 1 }, snrThreshold: settings.snrThreshold ?? defaultThreshold)
                if file.measurement?.isSparsityTransformed == true {
                    guard allowsCompressed else {
                        throw PlanError("[stage.\(stage)] system_matrix: \(path) is a compressed system matrix; \(stage) needs the dense one (compressed ones work with kaczmarz)")
                    }
                    guard settings.compression == nil else {
                        throw PlanError("[stage.\(stage)] \(path) is compressed already; leave compression out for it")
                    }
                    compressed = try CompressedSystemMatrix(file, path: path, selection: selection)
                    matrix = nil
                } else {
                    let recorded = try ReconstructionInputs.recordedSystemMatrix(file, path: path)
                    if let bad = settings.channels?.first(where: { $0 < 1 || $0 > recorded.channels }) {
                        throw PlanError("[stage.\(stage)] channels: channel \(bad) does not exist; \(path) has \(recorded.channels)")
                    }
                    let dense = try SystemMatrix(recorded, selection: selection)
                    if let compression = settings.compression {
                        compressed = try CompressedSystemMatrix(dense, grid: recorded.grid, keep: compression.keep)
                        matrix = nil
                    } else {
                        (matrix, compressed) = (dense, nil)
                    }
                }
            } catch let error as PlanError {
                throw error
            } catch {
                throw PlanError("[stage.\(stage)] system_matrix: \(error)")
            }
            self.path = path
            let concentration = file.tracer?.concentration.first.flatMap { $0 > 0 ? $0 : nil }
            scale = Float(concentration ?? 1)
            unit = concentration == nil ? "delta-sample units" : "mol/L"
            let calibration = file.calibration!
            geometry = ImageGeometry(size: calibration.size, fieldOfView: calibration.fieldOfView, fieldOfViewCenter: calibration.fieldOfViewCenter,
                                     order: calibration.order, positions: calibration.positions ?? gridPositions(calibration.size, calibration.fieldOfView))
        }

        var rows: [FrequencyRow] { matrix?.rows ?? compressed?.rows ?? [] }

        /// The dense rows, for the solvers that have no compressed form.
        func dense(stage: String) throws -> SystemMatrix {
            guard let matrix else { throw PlanError("[stage.\(stage)] needs the dense system matrix; \(path) is used compressed") }
            return matrix
        }

        /// Reconstructs with the compressed rows when there are some (Kaczmarz only), else the dense ones.
        func solve(_ solver: SystemMatrixSolver, _ u: NDArray<Complex<Float>>) throws -> SolverResult {
            if let compressed, case let .kaczmarz(kaczmarz) = solver { return try kaczmarz.solve(compressed, u) }
            return try solver.solve(try dense(stage: "cgnr"), u)   // only Kaczmarz is given compressed rows
        }

        func begin(_ scan: ScanDescription) throws {
            try ReconstructionInputs.checkCompatible(systemMatrix: file, smPath: path, measurement: scan.metadata, measurementPath: scan.name)
        }

        /// The measurement vector of one item's signals (1 x M).
        /// The transform of a frame's periods, planned once per matrix, not per frame (on openmpi-3d,
        /// 53 856 samples, planning per frame cost about 0.4 ms of a 6.5 ms median latency).
        private let fft = Mutex<RealFFT?>(nil)

        func vectors(_ item: PlanItem) throws -> NDArray<Complex<Float>> {
            try fft.withLock { fft in
                let samples = item.signals.shape.last ?? 0
                if fft?.length != samples { fft = RealFFT(length: max(samples, 1)) }
                return try FrequencyRow.measurementVectors(item.signals.reshaped([1] + item.signals.shape), rows: rows, fft: fft)
            }
        }

        /// The SM file and uuid, and the rows in solver order: 1-based receive channel and 0-based frequency bin.
        var provenance: [String: ProvenanceValue] {
            var fields: [String: ProvenanceValue] = ["systemMatrix": .text(path), "systemMatrixUUID": .text(file.uuid),
                                                     "rows": .integers(rows.map { [Int64($0.channel + 1), Int64($0.bin)] })]
            if let compressed {
                fields["compression"] = .text(CompressedSystemMatrix.transformName)
                fields["compressionKept"] = .integer(Int64(compressed.kept))
            }
            if let matrix, !matrix.isBackgroundCorrected {
                fields["systemMatrixBackground"] = .text("\(path) has no background frames; its system matrix is used without background correction")
            }
            return fields
        }
    }
}

/// Kaczmarz or CGNR on the selected system-matrix rows, as MPIReco runs them (lambda relative to
/// ||S||_F^2 / N). Images in mol/L when the SM states its tracer concentration.
public struct SystemMatrixStep: ReconstructionStep {
    public static let names = [ReconstructionMethod.kaczmarz.rawValue, ReconstructionMethod.cgnr.rawValue]
    public static let keys = SystemMatrixSettings.CodingKeys.allCases.map(\.rawValue) + ["lambda", "iterations"]
    public static let input = StepData.signals, output = StepData.images

    public var method: ReconstructionMethod = .kaczmarz
    public var matrix = SystemMatrixSettings()
    /// Relative Tikhonov lambda (default 0.01 Kaczmarz, 0.02 CGNR) and sweeps / iterations (1, 100).
    public var lambda: Double?
    public var iterations: Int?

    public init(_ method: ReconstructionMethod, matrix: SystemMatrixSettings, lambda: Double? = nil, iterations: Int? = nil) {
        (self.method, self.matrix, self.lambda, self.iterations) = (method, matrix, lambda, iterations)
    }

    public var name: String { method.rawValue }
    public mutating func named(_ name: String) { method = ReconstructionMethod(rawValue: name) ?? .kaczmarz }

    enum CodingKeys: String, CodingKey { case lambda, iterations }

    public init(from decoder: Decoder) throws {
        matrix = try SystemMatrixSettings(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        lambda = try container.decodeIfPresent(Double.self, forKey: .lambda)
        iterations = try container.decodeIfPresent(Int.self, forKey: .iterations)
    }

    public func encode(to encoder: Encoder) throws {
        try matrix.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(lambda, forKey: .lambda)
        try container.encodeIfPresent(iterations, forKey: .iterations)
    }

    public func resolved() -> SystemMatrixStep {
        let solver = SystemMatrixSolver(method, lambda: lambda, iterations: iterations)
        var settings = matrix
        settings.snrThreshold = settings.snrThreshold ?? 2
        settings.minFrequency = settings.minFrequency ?? 80e3
        return SystemMatrixStep(method, matrix: settings, lambda: solver.lambda, iterations: solver.iterations)
    }

    public func check(in plan: ReconstructionPlan, at index: Int) throws {
        if let lambda, !(lambda.isFinite && lambda >= 0 && lambda <= 1e6) { throw PlanError("[stage.\(name)] lambda = \(lambda) is out of range; allowed: a finite number from 0 to 1e6") }
        if let iterations, !(1...100_000).contains(iterations) { throw PlanError("[stage.\(name)] iterations = \(iterations) is out of range; allowed: 1 to 100000") }
        try matrix.checkCompression(stage: name, solverTakesIt: method == .kaczmarz)
    }

    public func makeRunner(_ context: PlanContext) throws -> any StepRunner {
        let solver = SystemMatrixSolver(method, lambda: lambda, iterations: iterations, residuals: context.residuals)
        return Runner(try SystemMatrixSettings.Choice(matrix, defaultThreshold: 2, stage: name, allowsCompressed: method == .kaczmarz) { loaded in
            loaded.matrix.map { solver.reusable(with: $0) } ?? solver
        })
    }

    final class Runner: ImageMaking {
        let matrices: SystemMatrixSettings.Choice<SystemMatrixSolver>
        var loaded: SystemMatrixSettings.Loaded { matrices.loaded }
        var solver: SystemMatrixSolver { matrices.built }
        /// Per image, ||S x - u|| / ||u|| after each iteration (when the context asks for them).
        private var residuals: [[Double]] = []
        private var effectiveLambda: Double?

        init(_ matrices: SystemMatrixSettings.Choice<SystemMatrixSolver>) { self.matrices = matrices }

        var geometry: ImageGeometry? { loaded.geometry }
        var unit: String { loaded.unit }

        func begin(_ scan: ScanDescription) throws { try matrices.begin(scan) }

        func process(_ item: inout PlanItem) throws -> Bool {
            guard !item.isBackground else { return false }
            let result = try loaded.solve(solver, loaded.vectors(item))
            item.image = NDArray(shape: [result.images.count], storage: result.images.storage.map { $0 * loaded.scale })
            residuals += result.residuals.filter { !$0.isEmpty }
            effectiveLambda = result.effectiveLambda
            return true
        }

        var provenance: [String: ProvenanceValue] {
            var fields = loaded.provenance
            fields["iterations"] = .integer(Int64(solver.iterations))
            fields["lambda"] = .number(solver.lambda)
            if let effectiveLambda { fields["effectiveLambda"] = .number(effectiveLambda) }
            if !residuals.isEmpty { fields["residuals"] = .numbers(residuals) }
            return fields
        }
    }
}
