import MagpieCore

/// What `magpie inspect` reports about a file: its kind, its axes with the spec's letters, and
/// the metadata a user checks first. Encodable, so `--json` prints exactly this.
public struct MDFSummary: Encodable, Sendable {
    public struct Axis: Codable, Sendable {
        public let letter: String
        public let meaning: String
        public let length: Int
    }

    public struct DriveChannel: Codable, Sendable {
        public let divider: Int64
        public let frequencyHz: Double
        /// Strength of the first period, T/mu0.
        public let strength: Double
        public let waveform: String
    }

    public struct Data: Codable, Sendable {
        public let axes: [Axis]
        public let elementType: MDFElementType
        public let domain: String
    }

    public var file: String
    public var kind: MDFFile.Kind
    public var version: String
    public var time: String
    public var uuid: String
    public var study: String
    public var experiment: String
    public var isSimulation: Bool
    public var scanner: String
    public var topology: String
    public var tracers: [String]
    public var baseFrequencyHz: Double
    public var cycleSeconds: Double
    public var driveChannels: [DriveChannel]
    public var receiveChannels: Int
    public var samplesPerPeriod: Int
    public var bandwidthHz: Double
    public var unit: String
    public var dataConversionFactor: [[Double]]?
    public var frames: Int
    public var backgroundFrames: Int
    public var periodsPerFrame: Int
    public var averages: Int
    public var measurement: Data?
    public var measurementFlags: [String]
    public var calibrationGrid: [Int]?
    public var calibrationFieldOfView: [Double]?
    public var calibrationCenter: [Double]?
    public var calibrationMethod: String?
    public var reconstruction: Data?
    public var reconstructionGrid: [Int]?
    public var reconstructionFieldOfView: [Double]?
    public var deviations: [MDFDeviation]
    public var isValid: Bool

    /// Reads the file's metadata (not its data arrays) and validates it.
    public init(path: String) throws {
        let file: HDF5File
        do { file = try HDF5File.open(path) } catch let error as HDF5Error { throw MDFError.hdf5(error) }
        try self.init(file)
    }

    /// The same of a file already open (the console reads more from it).
    public init(_ file: HDF5File) throws {
        let mdf = try MDFReader.read(file, options: .init(loadData: false))
        self.init(mdf, file: file.path, deviations: MDFValidator.validate(file))
    }

    public init(_ mdf: MDFFile, file: String, deviations: [MDFDeviation]) {
        self.file = file
        kind = mdf.kind
        version = mdf.version
        time = mdf.time
        uuid = mdf.uuid
        study = "\(mdf.study.name) #\(mdf.study.number)"
        experiment = "\(mdf.experiment.name) #\(mdf.experiment.number)"
        isSimulation = mdf.experiment.isSimulation
        scanner = [mdf.scanner.facility, mdf.scanner.manufacturer, mdf.scanner.name].filter { !$0.isEmpty }.joined(separator: " / ")
        topology = mdf.scanner.topology
        tracers = mdf.tracer.map { tracer in
            tracer.name.indices.map { i in
                let solute = i < tracer.solute.count ? " (\(tracer.solute[i]))" : ""
                let concentration = i < tracer.concentration.count ? ", \(tracer.concentration[i]) mol/L" : ""
                return "\(tracer.name[i])\(solute)\(concentration)"
            }
        } ?? []
        let drive = mdf.acquisition.driveField
        baseFrequencyHz = drive.baseFrequency
        cycleSeconds = drive.cycle
        let periods = max(drive.strength.shape.first ?? 0, 0)
        driveChannels = drive.divider.rank == 2 ? (0..<drive.divider.shape[0]).flatMap { d in
            (0..<drive.divider.shape[1]).map { f in
                let divider = drive.divider[d, f]
                return DriveChannel(
                    divider: divider,
                    frequencyHz: divider > 0 ? drive.baseFrequency / Double(divider) : 0,
                    strength: periods > 0 ? drive.strength[0, d, f] : 0,
                    waveform: drive.waveform.shape == drive.divider.shape ? drive.waveform[d, f] : "")
            }
        } : []
        let receiver = mdf.acquisition.receiver
        receiveChannels = receiver.numChannels
        samplesPerPeriod = receiver.numSamplingPoints
        bandwidthHz = receiver.bandwidth
        unit = receiver.unit
        dataConversionFactor = receiver.dataConversionFactor.map { factor in
            stride(from: 0, to: factor.count, by: 2).map { Array(factor.storage[$0..<min($0 + 2, factor.count)]) }
        }
        frames = mdf.measurement?.numFrames ?? mdf.acquisition.numFrames
        backgroundFrames = mdf.measurement?.numBackgroundFrames ?? 0
        periodsPerFrame = mdf.acquisition.numPeriodsPerFrame
        averages = mdf.acquisition.numAverages

        if let measurement = mdf.measurement {
            let meanings: [Character: String] = [
                "N": "frames", "J": "periods per frame", "C": "receive channels",
                "V": "samples per period", "K": "frequencies",
            ]
            self.measurement = Data(
                axes: zip(measurement.axisLetters, measurement.data.shape).map {
                    Axis(letter: String($0), meaning: meanings[$0] ?? "", length: $1)
                },
                elementType: measurement.data.elementType,
                domain: measurement.isFourierTransformed
                    ? (measurement.isFrequencySelection ? "frequency (selected frequencies)" : "frequency") : "time")
            measurementFlags = [
                ("isBackgroundCorrected", measurement.isBackgroundCorrected), ("isFastFrameAxis", measurement.isFastFrameAxis),
                ("isFourierTransformed", measurement.isFourierTransformed), ("isFramePermutation", measurement.isFramePermutation),
                ("isFrequencySelection", measurement.isFrequencySelection), ("isSparsityTransformed", measurement.isSparsityTransformed),
                ("isSpectralLeakageCorrected", measurement.isSpectralLeakageCorrected),
                ("isTransferFunctionCorrected", measurement.isTransferFunctionCorrected),
            ].filter(\.1).map(\.0)
        } else {
            measurementFlags = []
        }
        calibrationGrid = mdf.calibration?.size
        calibrationFieldOfView = mdf.calibration?.fieldOfView
        calibrationCenter = mdf.calibration?.fieldOfViewCenter
        calibrationMethod = mdf.calibration?.method
        if let reconstruction = mdf.reconstruction {
            let meanings = ["Q": "frames", "P": "voxels", "S": "colour channels"]
            self.reconstruction = Data(
                axes: zip(["Q", "P", "S"], reconstruction.data.shape).map { Axis(letter: $0, meaning: meanings[$0]!, length: $1) },
                elementType: reconstruction.data.elementType, domain: "image")
            reconstructionGrid = reconstruction.size
            reconstructionFieldOfView = reconstruction.fieldOfView
        }
        self.deviations = deviations
        isValid = deviations.isEmpty
    }
}
