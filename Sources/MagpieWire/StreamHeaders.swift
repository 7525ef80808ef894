import Foundation

/// The headers of magpie-stream v1 (protocols/magpie-stream-v1.md), field for field. Unknown
/// fields are ignored when decoding, as the spec asks; `htype` is checked by `StreamCodec`.

public enum SampleType: String, Codable, Sendable, CaseIterable {
    case int16, int32, float32

    public var size: Int { self == .int16 ? 2 : 4 }
}

public struct ScanStart: Codable, Sendable, Equatable {
    public static let htype = "magpie.scan-start/1"
    public var scanID: String
    public var repeatIndex: Int
    public var timeNs: UInt64
    public var sampleType: SampleType
    public var periodsPerFrame: Int
    public var channels: Int
    public var samplesPerPeriod: Int
    public var framesPlanned: Int
    public var repeatIntervalSeconds: Double
    public var metadata: ScanMetadata

    public init(scanID: String, repeatIndex: Int = 0, timeNs: UInt64, sampleType: SampleType, periodsPerFrame: Int = 1,
                channels: Int, samplesPerPeriod: Int, framesPlanned: Int, repeatIntervalSeconds: Double = 1, metadata: ScanMetadata) {
        self.scanID = scanID
        self.repeatIndex = repeatIndex
        self.timeNs = timeNs
        self.sampleType = sampleType
        self.periodsPerFrame = periodsPerFrame
        self.channels = channels
        self.samplesPerPeriod = samplesPerPeriod
        self.framesPlanned = framesPlanned
        self.repeatIntervalSeconds = repeatIntervalSeconds
        self.metadata = metadata
    }

    /// Values per frame payload: periods x channels x samples.
    public var frameShape: [Int] { [periodsPerFrame, channels, samplesPerPeriod] }

    enum CodingKeys: String, CodingKey {
        case scanID = "scan_id", repeatIndex = "repeat", timeNs = "time_ns", sampleType = "sample_type"
        case periodsPerFrame = "periods_per_frame", channels, samplesPerPeriod = "samples_per_period"
        case framesPlanned = "frames_planned", repeatIntervalSeconds = "repeat_interval_s", metadata
    }
}

/// The MDF groups a scan's file needs, with MDF's field names (see the spec).
public struct ScanMetadata: Codable, Sendable, Equatable {
    public struct Study: Codable, Sendable, Equatable {
        public var name: String, number: Int64, uuid: String, description: String
        public init(name: String, number: Int64, uuid: String, description: String) {
            (self.name, self.number, self.uuid, self.description) = (name, number, uuid, description)
        }
    }
    public struct Experiment: Codable, Sendable, Equatable {
        public var name: String, number: Int64, uuid: String, description: String, subject: String, isSimulation: Bool
        public init(name: String, number: Int64, uuid: String, description: String, subject: String, isSimulation: Bool) {
            (self.name, self.number, self.uuid, self.description, self.subject, self.isSimulation) = (name, number, uuid, description, subject, isSimulation)
        }
    }
    public struct Tracer: Codable, Sendable, Equatable {
        public var batch: [String], name: [String], solute: [String], vendor: [String], concentration: [Double], volume: [Double]
        public init(batch: [String], name: [String], solute: [String], vendor: [String], concentration: [Double], volume: [Double]) {
            (self.batch, self.name, self.solute, self.vendor, self.concentration, self.volume) = (batch, name, solute, vendor, concentration, volume)
        }
    }
    public struct Scanner: Codable, Sendable, Equatable {
        public var facility: String, manufacturer: String, name: String, `operator`: String, topology: String
        public init(facility: String, manufacturer: String, name: String, operator: String, topology: String) {
            (self.facility, self.manufacturer, self.name, self.operator, self.topology) = (facility, manufacturer, name, `operator`, topology)
        }
    }
    public struct DriveField: Codable, Sendable, Equatable {
        public var baseFrequency: Double
        /// D x F.
        public var divider: [[Int64]]
        /// J x D x F, radians.
        public var phase: [[[Double]]]
        /// J x D x F, T/mu0.
        public var strength: [[[Double]]]
        /// D x F.
        public var waveform: [[String]]
        public init(baseFrequency: Double, divider: [[Int64]], phase: [[[Double]]], strength: [[[Double]]], waveform: [[String]]) {
            (self.baseFrequency, self.divider, self.phase, self.strength, self.waveform) = (baseFrequency, divider, phase, strength, waveform)
        }
    }
    public struct Receiver: Codable, Sendable, Equatable {
        public var bandwidth: Double, numChannels: Int, numSamplingPoints: Int, unit: String
        /// C x 2: physical = a * raw + b.
        public var dataConversionFactor: [[Double]]
        public init(bandwidth: Double, numChannels: Int, numSamplingPoints: Int, unit: String, dataConversionFactor: [[Double]]) {
            (self.bandwidth, self.numChannels, self.numSamplingPoints, self.unit, self.dataConversionFactor) = (bandwidth, numChannels, numSamplingPoints, unit, dataConversionFactor)
        }
    }
    public struct Acquisition: Codable, Sendable, Equatable {
        public var numAverages: Int
        /// J x 1 x 3 x 3, T/m.
        public var gradient: [[[[Double]]]]?
        public var drivefield: DriveField
        public var receiver: Receiver
        public init(numAverages: Int, gradient: [[[[Double]]]]?, drivefield: DriveField, receiver: Receiver) {
            (self.numAverages, self.gradient, self.drivefield, self.receiver) = (numAverages, gradient, drivefield, receiver)
        }
    }

    public var study: Study
    public var experiment: Experiment
    public var tracer: Tracer?
    public var scanner: Scanner
    public var acquisition: Acquisition

    public init(study: Study, experiment: Experiment, tracer: Tracer?, scanner: Scanner, acquisition: Acquisition) {
        (self.study, self.experiment, self.tracer, self.scanner, self.acquisition) = (study, experiment, tracer, scanner, acquisition)
    }
}

public struct FrameFlags: Codable, Sendable, Equatable {
    public var background: Bool
    public var overflow: Bool
    public var corrupted: Bool

    public init(background: Bool = false, overflow: Bool = false, corrupted: Bool = false) {
        (self.background, self.overflow, self.corrupted) = (background, overflow, corrupted)
    }
}

public struct FrameHeader: Codable, Sendable, Equatable {
    public static let htype = "magpie.frame/1"
    public var scanID: String
    public var sequence: UInt64
    public var frame: Int
    public var periods: Int
    public var flags: FrameFlags
    public var timeNs: UInt64
    public var sentNs: UInt64
    public var sampleType: SampleType
    /// [periods, channels, samples].
    public var shape: [Int]

    public init(scanID: String, sequence: UInt64, frame: Int, periods: Int = 1, flags: FrameFlags = FrameFlags(),
                timeNs: UInt64, sentNs: UInt64, sampleType: SampleType, shape: [Int]) {
        self.scanID = scanID
        self.sequence = sequence
        self.frame = frame
        self.periods = periods
        self.flags = flags
        self.timeNs = timeNs
        self.sentNs = sentNs
        self.sampleType = sampleType
        self.shape = shape
    }

    /// Bytes the payload must have; nil when the shape exceeds `StreamLimits.maximumPayloadBytes`.
    public var payloadSize: Int? { StreamLimits.payloadBytes(shape, elementSize: sampleType.size) }

    enum CodingKeys: String, CodingKey {
        case scanID = "scan_id", sequence, frame, periods, flags, timeNs = "time_ns", sentNs = "sent_ns", sampleType = "sample_type", shape
    }
}

public struct ScanEnd: Codable, Sendable, Equatable {
    public static let htype = "magpie.scan-end/1"
    public enum Status: String, Codable, Sendable { case complete, aborted }
    public var scanID: String
    public var framesSent: Int
    public var lastSequence: UInt64?
    public var status: Status
    public var timeNs: UInt64

    public init(scanID: String, framesSent: Int, lastSequence: UInt64?, status: Status, timeNs: UInt64) {
        (self.scanID, self.framesSent, self.lastSequence, self.status, self.timeNs) = (scanID, framesSent, lastSequence, status, timeNs)
    }

    enum CodingKeys: String, CodingKey {
        case scanID = "scan_id", framesSent = "frames_sent", lastSequence = "last_sequence", status, timeNs = "time_ns"
    }

    // last_sequence is required but may be null, so it is always written.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(scanID, forKey: .scanID)
        try container.encode(framesSent, forKey: .framesSent)
        try container.encode(lastSequence, forKey: .lastSequence)
        try container.encode(status, forKey: .status)
        try container.encode(timeNs, forKey: .timeNs)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard container.contains(.lastSequence) else {
            throw DecodingError.keyNotFound(CodingKeys.lastSequence, .init(codingPath: container.codingPath, debugDescription: "required, may be null"))
        }
        scanID = try container.decode(String.self, forKey: .scanID)
        framesSent = try container.decode(Int.self, forKey: .framesSent)
        lastSequence = try container.decodeIfPresent(UInt64.self, forKey: .lastSequence)
        status = try container.decode(Status.self, forKey: .status)
        timeNs = try container.decode(UInt64.self, forKey: .timeNs)
    }
}
