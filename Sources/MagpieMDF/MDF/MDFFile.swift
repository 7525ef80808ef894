import MagpieCore

/// One MDF v2.1.0 file in memory: the metadata groups every MDF file has, plus whichever of
/// measurement, calibration and reconstruction it holds. Names follow the spec's field names.
public struct MDFFile: Sendable, Equatable {
    public var time: String
    public var uuid: String
    public var version: String
    public var study: MDF.Study
    public var experiment: MDF.Experiment
    public var tracer: MDF.Tracer?
    public var scanner: MDF.Scanner
    public var acquisition: MDF.Acquisition
    public var measurement: MDF.Measurement?
    public var calibration: MDF.Calibration?
    public var reconstruction: MDF.Reconstruction?

    public init(
        time: String = MDF.timestamp(), uuid: String = MDF.newUUID(), version: String = MDF.specVersion,
        study: MDF.Study, experiment: MDF.Experiment, tracer: MDF.Tracer? = nil, scanner: MDF.Scanner,
        acquisition: MDF.Acquisition, measurement: MDF.Measurement? = nil,
        calibration: MDF.Calibration? = nil, reconstruction: MDF.Reconstruction? = nil
    ) {
        self.time = time
        self.uuid = uuid
        self.version = version
        self.study = study
        self.experiment = experiment
        self.tracer = tracer
        self.scanner = scanner
        self.acquisition = acquisition
        self.measurement = measurement
        self.calibration = calibration
        self.reconstruction = reconstruction
    }

    /// Whether the data still contain the receive transfer function the file records
    /// (`transferFunction` without `isTransferFunctionCorrected`): readers divide it out.
    public var carriesTransferFunction: Bool {
        acquisition.receiver.transferFunction != nil && measurement?.isTransferFunctionCorrected != true
    }

    /// Whether the data, once a recorded transfer function is divided out, are free of the
    /// receive chain's gain (recorded, or corrected in the file).
    public var isFreeOfTransferFunction: Bool {
        acquisition.receiver.transferFunction != nil || measurement?.isTransferFunctionCorrected == true
    }

    public enum Kind: String, Sendable, Codable {
        case measurement
        case systemMatrix = "system matrix"
        case reconstruction
        case metadataOnly = "metadata only"
    }

    /// A calibration group makes a system matrix; otherwise raw data makes a measurement.
    public var kind: Kind {
        if calibration != nil { return .systemMatrix }
        if measurement != nil { return .measurement }
        if reconstruction != nil { return .reconstruction }
        return .metadataOnly
    }
}

/// Namespace for the MDF groups and spec-wide constants.
public enum MDF {
    /// The spec version Magpie writes.
    public static let specVersion = "2.1.0"

    public struct Study: Sendable, Equatable {
        public var name: String
        public var number: Int64
        public var uuid: String
        public var description: String
        public var time: String?

        public init(name: String, number: Int64 = 0, uuid: String = MDF.newUUID(), description: String = "", time: String? = nil) {
            self.name = name
            self.number = number
            self.uuid = uuid
            self.description = description
            self.time = time
        }
    }

    public struct Experiment: Sendable, Equatable {
        public var name: String
        public var number: Int64
        public var uuid: String
        public var description: String
        public var subject: String
        public var isSimulation: Bool

        public init(name: String, number: Int64 = 0, uuid: String = MDF.newUUID(), description: String = "",
                    subject: String = "", isSimulation: Bool) {
            self.name = name
            self.number = number
            self.uuid = uuid
            self.description = description
            self.subject = subject
            self.isSimulation = isSimulation
        }
    }

    /// One entry per tracer (the spec's dimension A).
    public struct Tracer: Sendable, Equatable {
        public var batch: [String]
        public var name: [String]
        public var solute: [String]
        public var vendor: [String]
        /// mol/L of the solute.
        public var concentration: [Double]
        /// Litres.
        public var volume: [Double]
        public var injectionTime: [String]?

        public init(batch: [String], name: [String], solute: [String], vendor: [String],
                    concentration: [Double], volume: [Double], injectionTime: [String]? = nil) {
            self.batch = batch
            self.name = name
            self.solute = solute
            self.vendor = vendor
            self.concentration = concentration
            self.volume = volume
            self.injectionTime = injectionTime
        }

        public var count: Int { name.count }
    }

    public struct Scanner: Sendable, Equatable {
        public var facility: String
        public var manufacturer: String
        public var name: String
        public var `operator`: String
        /// "FFP", "FFL" or "MPS".
        public var topology: String
        /// Metres.
        public var boreSize: Double?

        public init(facility: String, manufacturer: String, name: String, operator: String,
                    topology: String, boreSize: Double? = nil) {
            self.facility = facility
            self.manufacturer = manufacturer
            self.name = name
            self.operator = `operator`
            self.topology = topology
            self.boreSize = boreSize
        }
    }

    public struct Acquisition: Sendable, Equatable {
        public var numAverages: Int
        /// N: frames, foreground and background together.
        public var numFrames: Int
        /// J: periods (patches) per frame.
        public var numPeriodsPerFrame: Int
        public var startTime: String
        /// J x Y x 3 x 3, T/m.
        public var gradient: NDArray<Double>?
        /// J x Y x 3, T/mu0.
        public var offsetField: NDArray<Double>?
        public var driveField: DriveField
        public var receiver: Receiver

        public init(numAverages: Int = 1, numFrames: Int, numPeriodsPerFrame: Int = 1, startTime: String = MDF.timestamp(),
                    gradient: NDArray<Double>? = nil, offsetField: NDArray<Double>? = nil,
                    driveField: DriveField, receiver: Receiver) {
            self.numAverages = numAverages
            self.numFrames = numFrames
            self.numPeriodsPerFrame = numPeriodsPerFrame
            self.startTime = startTime
            self.gradient = gradient
            self.offsetField = offsetField
            self.driveField = driveField
            self.receiver = receiver
        }
    }

    public struct DriveField: Sendable, Equatable {
        /// Hz.
        public var baseFrequency: Double
        /// Seconds: lcm(divider) / baseFrequency.
        public var cycle: Double
        /// D x F.
        public var divider: NDArray<Int64>
        /// D.
        public var numChannels: Int
        /// J x D x F, radians.
        public var phase: NDArray<Double>
        /// J x D x F, T/mu0.
        public var strength: NDArray<Double>
        /// D x F, e.g. "sine".
        public var waveform: NDArray<String>

        public init(baseFrequency: Double, cycle: Double, divider: NDArray<Int64>, numChannels: Int,
                    phase: NDArray<Double>, strength: NDArray<Double>, waveform: NDArray<String>) {
            self.baseFrequency = baseFrequency
            self.cycle = cycle
            self.divider = divider
            self.numChannels = numChannels
            self.phase = phase
            self.strength = strength
            self.waveform = waveform
        }

        /// Drive frequencies in Hz, D x F.
        public var frequencies: NDArray<Double> { divider.map { baseFrequency / Double($0) } }

        /// The channels that drive: strength non-zero in some period and frequency. A channel that is
        /// off (strength 0 throughout, as a 2D sequence on a 3-channel scanner stores its unused coil)
        /// neither moves the field-free point nor counts in the cycle. All channels when the strength
        /// array does not have the spec's J x D x F shape.
        public var activeChannels: [Int] {
            Self.activeChannels(divider: divider, strength: strength)
        }

        public static func activeChannels(divider: NDArray<Int64>, strength: NDArray<Double>) -> [Int] {
            let d = divider.rank == 2 ? divider.shape[0] : 0
            guard strength.rank == 3, strength.shape[1] == d else { return Array(0..<d) }
            let (j, f) = (strength.shape[0], strength.shape[2])
            return (0..<d).filter { c in (0..<j).contains { p in (0..<f).contains { strength[p, c, $0] != 0 } } }
        }

        /// lcm(dividers of the active channels) / baseFrequency, MPIFiles' reading of the spec's
        /// cycle; nil when the lcm overflows or no channel is active.
        public static func cycle(baseFrequency: Double, divider: NDArray<Int64>, strength: NDArray<Double>) -> Double? {
            let active = activeChannels(divider: divider, strength: strength)
            let f = divider.rank == 2 ? divider.shape[1] : 0
            guard !active.isEmpty, let lcm = leastCommonMultiple(active.flatMap { c in (0..<f).map { divider[c, $0] } }) else { return nil }
            return Double(lcm) / baseFrequency
        }
    }

    public struct Receiver: Sendable, Equatable {
        /// Hz, half the sampling rate.
        public var bandwidth: Double
        /// C.
        public var numChannels: Int
        /// V.
        public var numSamplingPoints: Int
        public var unit: String
        /// C x 2: physical value = a * raw + b.
        public var dataConversionFactor: NDArray<Double>?
        /// C.
        public var inductionFactor: [Double]?
        /// C x K.
        public var transferFunction: NDArray<Complex<Double>>?

        public init(bandwidth: Double, numChannels: Int, numSamplingPoints: Int, unit: String = "V",
                    dataConversionFactor: NDArray<Double>? = nil, inductionFactor: [Double]? = nil,
                    transferFunction: NDArray<Complex<Double>>? = nil) {
            self.bandwidth = bandwidth
            self.numChannels = numChannels
            self.numSamplingPoints = numSamplingPoints
            self.unit = unit
            self.dataConversionFactor = dataConversionFactor
            self.inductionFactor = inductionFactor
            self.transferFunction = transferFunction
        }

        /// Samples per second.
        public var samplingRate: Double { 2 * bandwidth }
        /// K: frequencies of a real FFT over one period.
        public var numFrequencies: Int { numSamplingPoints / 2 + 1 }
    }

    public struct Measurement: Sendable, Equatable {
        /// N x J x C x V (time domain), N x J x C x K (Fourier transformed),
        /// or J x C x K x N with `isFastFrameAxis` (the usual system-matrix layout).
        public var data: MDFData
        public var isBackgroundFrame: [Bool]
        public var isBackgroundCorrected: Bool
        public var isFastFrameAxis: Bool
        public var isFourierTransformed: Bool
        public var isSparsityTransformed: Bool
        public var isSpectralLeakageCorrected: Bool
        public var isTransferFunctionCorrected: Bool
        /// N, 1-based frame order; present exactly when isFramePermutation.
        public var framePermutation: [Int64]?
        /// K, 1-based indices of the kept frequencies; present exactly when isFrequencySelection.
        public var frequencySelection: [Int64]?
        /// With isSparsityTransformed: the transform's name ("DCT-IV") and, J x C x K x B, the
        /// 1-based indices of the B coefficients kept per row; `data` is then J x C x K x (B + E).
        public var sparsityTransformation: String?
        public var subsamplingIndices: NDArray<Int64>?

        public init(data: MDFData, isBackgroundFrame: [Bool], isBackgroundCorrected: Bool = false,
                    isFastFrameAxis: Bool = false, isFourierTransformed: Bool = false,
                    isSparsityTransformed: Bool = false, isSpectralLeakageCorrected: Bool = false,
                    isTransferFunctionCorrected: Bool = false, framePermutation: [Int64]? = nil,
                    frequencySelection: [Int64]? = nil, sparsityTransformation: String? = nil, subsamplingIndices: NDArray<Int64>? = nil) {
            self.data = data
            self.isBackgroundFrame = isBackgroundFrame
            self.isBackgroundCorrected = isBackgroundCorrected
            self.isFastFrameAxis = isFastFrameAxis
            self.isFourierTransformed = isFourierTransformed
            self.isSparsityTransformed = isSparsityTransformed
            self.isSpectralLeakageCorrected = isSpectralLeakageCorrected
            self.isTransferFunctionCorrected = isTransferFunctionCorrected
            self.framePermutation = framePermutation
            self.frequencySelection = frequencySelection
            self.sparsityTransformation = sparsityTransformation
            self.subsamplingIndices = subsamplingIndices
        }

        public var isFramePermutation: Bool { framePermutation != nil }

        /// The stored frame of each acquired frame: stored frame n was acquired as
        /// framePermutation[n] (1-based); the identity without one. Refuses a permutation that is
        /// not one of 1...N (the reader takes the field as it is; the validator reports it).
        public func storedFrames(file: String) throws -> [Int] {
            let frames = data.shape.first ?? 0
            guard let framePermutation else { return Array(0..<frames) }
            guard framePermutation.count == frames, isBackgroundFrame.count == frames,
                  framePermutation.sorted() == (0..<frames).map({ Int64($0 + 1) }) else {
                throw MDFError.invalidField(file: file, path: "/measurement/framePermutation", expected: "a permutation of 1...\(frames)",
                                            found: "\(framePermutation.count) values from \(framePermutation.min() ?? 0) to \(framePermutation.max() ?? 0)")
            }
            var stored = [Int](repeating: 0, count: frames)
            for (n, acquired) in framePermutation.enumerated() { stored[Int(acquired) - 1] = n }
            return stored
        }
        public var isFrequencySelection: Bool { frequencySelection != nil }
        /// frequencySelection as 0-based bins of a spectrum of `binCount` (V/2 + 1); nil without
        /// one. Refuses a bin outside 1...binCount (the reader takes the field as it is; `Int($0) - 1`
        /// would trap on Int64.min).
        public func selectedBins(file: String, binCount: Int) throws -> [Int]? {
            guard let frequencySelection else { return nil }
            guard frequencySelection.allSatisfy({ $0 >= 1 && $0 <= Int64(binCount) }) else {
                throw MDFError.invalidField(file: file, path: "/measurement/frequencySelection", expected: "bins in 1...\(binCount)",
                                            found: "values from \(frequencySelection.min() ?? 0) to \(frequencySelection.max() ?? 0)")
            }
            return frequencySelection.map { Int($0) - 1 }
        }

        /// The spec's letters for the axes of `data`, in storage order.
        public var axisLetters: [Character] {
            let sample: Character = isFourierTransformed ? "K" : "V"
            return isFastFrameAxis ? ["J", "C", sample, "N"] : ["N", "J", "C", sample]
        }

        /// N: frames in `data`.
        public var numFrames: Int {
            let shape = data.shape
            guard shape.count == 4 else { return 0 }
            return isFastFrameAxis ? shape[3] : shape[0]
        }

        public var numBackgroundFrames: Int { isBackgroundFrame.filter { $0 }.count }
    }

    public struct Calibration: Sendable, Equatable {
        /// "robot", "hybrid" or "simulation".
        public var method: String
        /// Grid points per axis (x, y, z).
        public var size: [Int]
        /// Metres.
        public var fieldOfView: [Double]
        /// Metres.
        public var fieldOfViewCenter: [Double]
        public var order: String
        /// O x 3, metres.
        public var positions: NDArray<Double>?
        /// Metres.
        public var deltaSampleSize: [Double]?
        /// J x C x K.
        public var snr: NDArray<Double>?
        /// O x 3, T/mu0.
        public var offsetFields: NDArray<Double>?
        /// Written by MPIFiles.jl; not in the spec.
        public var isMeanderingGrid: Bool?

        public init(method: String, size: [Int], fieldOfView: [Double], fieldOfViewCenter: [Double],
                    order: String = "xyz", positions: NDArray<Double>? = nil, deltaSampleSize: [Double]? = nil,
                    snr: NDArray<Double>? = nil, offsetFields: NDArray<Double>? = nil, isMeanderingGrid: Bool? = nil) {
            self.method = method
            self.size = size
            self.fieldOfView = fieldOfView
            self.fieldOfViewCenter = fieldOfViewCenter
            self.order = order
            self.positions = positions
            self.deltaSampleSize = deltaSampleSize
            self.snr = snr
            self.offsetFields = offsetFields
            self.isMeanderingGrid = isMeanderingGrid
        }

        /// O: grid points of the calibration.
        public var numPositions: Int { size.reduce(1, *) }

        /// The product of a grid's extents, or nil where it overflows (a damaged or hostile size).
        public static func positionCount(_ size: [Int]) -> Int? {
            var product = 1
            for extent in size {
                let (next, overflow) = product.multipliedReportingOverflow(by: extent)
                if overflow { return nil }
                product = next
            }
            return product
        }
    }

    public struct Reconstruction: Sendable, Equatable {
        /// Q x P x S: frames, voxels (x fastest... as `order` says), colour channels.
        public var data: MDFData
        /// Metres.
        public var fieldOfView: [Double]
        /// Metres.
        public var fieldOfViewCenter: [Double]
        public var size: [Int]
        public var order: String
        /// P x 3, metres.
        public var positions: NDArray<Double>?
        /// P.
        public var isOverscanRegion: [Bool]?

        public init(data: MDFData, fieldOfView: [Double], fieldOfViewCenter: [Double], size: [Int],
                    order: String = "xyz", positions: NDArray<Double>? = nil, isOverscanRegion: [Bool]? = nil) {
            self.data = data
            self.fieldOfView = fieldOfView
            self.fieldOfViewCenter = fieldOfViewCenter
            self.size = size
            self.order = order
            self.positions = positions
            self.isOverscanRegion = isOverscanRegion
        }
    }
}
