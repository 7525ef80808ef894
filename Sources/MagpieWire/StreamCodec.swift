import Foundation

/// One magpie-stream v1 message.
public enum StreamMessage: Sendable, Equatable {
    case scanStart(ScanStart)
    /// The payload: periods x channels x samples of the header's sample type, little-endian.
    case frame(FrameHeader, payload: Data)
    case scanEnd(ScanEnd)

    public var scanID: String {
        switch self {
        case let .scanStart(header): return header.scanID
        case let .frame(header, _): return header.scanID
        case let .scanEnd(header): return header.scanID
        }
    }
}

/// Why a message was rejected; `kind` is what the daemon counts, `message` what it logs.
public struct StreamError: Error, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable {
        case notJSON = "not JSON", unknownType = "unknown htype", invalidField = "invalid field"
        case badParts = "wrong parts", badPayload = "bad payload"
    }
    public let kind: Kind
    public let message: String
    /// The htype the message claimed, when its header got that far.
    public var htype: String?
    /// The scan the message named, when its header decoded but failed a check.
    public var scanID: String?

    public init(_ kind: Kind, _ message: String, htype: String? = nil, scanID: String? = nil) {
        self.kind = kind
        self.message = message
        self.htype = htype
        self.scanID = scanID
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}

/// Turns messages into ZeroMQ parts and back. Decoding validates everything a message can be
/// checked for on its own (schema, shape, payload size, finite values); checks against the
/// scan's state (sequence, scan-start) belong to the receiver.
public enum StreamCodec {
    /// Largest header accepted, bytes.
    public static let maximumHeaderSize = 1 << 20

    public static func encode(_ message: StreamMessage) throws -> [Data] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        switch message {
        case let .scanStart(header): return [try encoder.encode(Envelope(htype: ScanStart.htype, header: header))]
        case let .frame(header, payload): return [try encoder.encode(Envelope(htype: FrameHeader.htype, header: header)), payload]
        case let .scanEnd(header): return [try encoder.encode(Envelope(htype: ScanEnd.htype, header: header))]
        }
    }

    public static func decode(_ parts: [Data]) throws -> StreamMessage {
        guard let header = parts.first else { throw StreamError(.badParts, "empty message") }
        guard header.count <= maximumHeaderSize else { throw StreamError(.notJSON, "header of \(header.count) bytes exceeds 1 MiB") }
        // The hot path: a frame header in the plain form senders write (strict JSON by
        // construction), read in one pass. Anything else takes the general way, which says
        // precisely what is wrong.
        if parts.count == 2, let frame = FrameHeaderScanner.scan(header), (try? validate(frame, payload: parts[1])) != nil {
            return .frame(frame, payload: parts[1])
        }
        do {
            try StrictJSON.check(header)
        } catch let violation as StrictJSON.Violation {
            throw StreamError(.notJSON, "header is not JSON as RFC 8259 defines it: \(violation)")
        }
        let type: String
        do {
            type = try JSONDecoder().decode(HType.self, from: header).htype
        } catch let error as DecodingError {
            throw describe(error, in: "header")
        }
        do {
            return try decode(parts, header: header, type: type)
        } catch var error as StreamError {
            error.htype = type
            // The scan it named, if that much decodes: a refused scan-start's frames are refused with it.
            if error.scanID == nil, let id = (try? JSONDecoder().decode(ScanIDField.self, from: header))?.scan_id, (1...128).contains(id.utf8.count) {
                error.scanID = id
            }
            throw error
        }
    }

    private static func decode(_ parts: [Data], header: Data, type: String) throws -> StreamMessage {
        switch type {
        case ScanStart.htype:
            try expectParts(parts, 1, type)
            let start: ScanStart = try decodeHeader(header, type)
            try validate(start)
            return .scanStart(start)
        case FrameHeader.htype:
            try expectParts(parts, 2, type)
            let frame: FrameHeader = try decodeHeader(header, type)
            try validate(frame, payload: parts[1])
            return .frame(frame, payload: parts[1])
        case ScanEnd.htype:
            try expectParts(parts, 1, type)
            let end: ScanEnd = try decodeHeader(header, type)
            try checkScanID(end.scanID)
            guard (0...StreamLimits.maximumFrames).contains(end.framesSent) else {
                throw StreamError(.invalidField, "frames_sent must be in 0...\(StreamLimits.maximumFrames), got \(end.framesSent)")
            }
            return .scanEnd(end)
        default:
            throw StreamError(.unknownType, "htype '\(type.prefix(80))' is not one of \(ScanStart.htype), \(FrameHeader.htype), \(ScanEnd.htype)")
        }
    }

    /// The htype a header claims, without validating anything else (nil if it has none).
    public static func htype(of header: Data) -> String? {
        guard header.count <= maximumHeaderSize, (try? StrictJSON.check(header)) != nil else { return nil }
        return try? JSONDecoder().decode(HType.self, from: header).htype
    }

    /// The payload's values as Float (raw values: the scan's dataConversionFactor is not applied).
    public static func values(of payload: Data, type: SampleType) -> [Float] {
        payload.withUnsafeBytes { raw in
            switch type {
            case .int16: return (0..<(raw.count / 2)).map { Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self))) }
            case .int32: return (0..<(raw.count / 4)).map { Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
            case .float32: return (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
        }
    }

    /// Little-endian bytes of `values` as `type` (integers rounded and clamped).
    public static func payload(_ values: [Float], type: SampleType) -> Data {
        var data = Data(capacity: values.count * type.size)
        for value in values {
            switch type {
            case .int16:
                withUnsafeBytes(of: Int16(max(-32768, min(32767, value.rounded()))).littleEndian) { data.append(contentsOf: $0) }
            case .int32:
                withUnsafeBytes(of: Int32(max(-2_147_483_648, min(2_147_483_520, value.rounded()))).littleEndian) { data.append(contentsOf: $0) }
            case .float32:
                withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
        }
        return data
    }

    // MARK: - Validation

    private static func validate(_ start: ScanStart) throws {
        try checkScanID(start.scanID)
        guard start.repeatIndex >= 0 else { throw StreamError(.invalidField, "repeat must be 0 or more, got \(start.repeatIndex)") }
        try check("frames_planned", start.framesPlanned, 0...StreamLimits.maximumFrames)
        try check("periods_per_frame", start.periodsPerFrame, 1...StreamLimits.maximumPeriods)
        try check("channels", start.channels, 1...StreamLimits.maximumChannels)
        try check("samples_per_period", start.samplesPerPeriod, 1...StreamLimits.maximumSamples)
        guard StreamLimits.payloadBytes(start.frameShape, elementSize: start.sampleType.size) != nil else {
            throw StreamError(.invalidField, "a frame of \(start.frameShape) \(start.sampleType.rawValue) exceeds \(StreamLimits.maximumPayloadBytes) bytes")
        }
        guard start.repeatIntervalSeconds.isFinite, start.repeatIntervalSeconds > 0 else {
            throw StreamError(.invalidField, "repeat_interval_s must be finite and positive")
        }
        if let fault = start.metadata.structuralFault(periods: start.periodsPerFrame, channels: start.channels, samples: start.samplesPerPeriod) {
            throw StreamError(.invalidField, fault)
        }
    }

    private static func check(_ name: String, _ value: Int, _ range: ClosedRange<Int>) throws {
        guard range.contains(value) else { throw StreamError(.invalidField, "\(name) must be in \(range.lowerBound)...\(range.upperBound), got \(value)") }
    }

    private static func validate(_ frame: FrameHeader, payload: Data) throws {
        try checkScanID(frame.scanID)
        try check("frame", frame.frame, 0...(StreamLimits.maximumFrames - 1))
        guard frame.shape.count == 3, frame.shape.allSatisfy({ $0 >= 1 }), frame.shape[0] == frame.periods else {
            throw StreamError(.invalidField, "shape \(frame.shape) must be [periods, channels, samples] with periods = \(frame.periods)")
        }
        guard let size = frame.payloadSize else {
            throw StreamError(.invalidField, "shape \(frame.shape) of \(frame.sampleType.rawValue) exceeds \(StreamLimits.maximumPayloadBytes) bytes")
        }
        guard payload.count == size else {
            throw StreamError(.badPayload, "payload has \(payload.count) bytes, shape \(frame.shape) of \(frame.sampleType.rawValue) needs \(size)")
        }
        if frame.sampleType == .float32, !allFinite(float32: payload) {
            let bad = payload.withUnsafeBytes { raw in
                (0..<(raw.count / 4)).first { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) & exponent == exponent }
            }
            throw StreamError(.badPayload, "value \(bad ?? 0) of the float32 payload is not finite")
        }
    }

    /// A float32's exponent field; all of it set is NaN or infinity.
    private static let exponent: UInt32 = 0x7F80_0000

    /// Whether every float32 of `payload` is finite: one branch-free pass (the largest exponent field).
    static func allFinite(float32 payload: Data) -> Bool {
        payload.withUnsafeBytes { raw in
            var largest: UInt32 = 0
            for offset in stride(from: 0, to: raw.count - 3, by: 4) {
                largest = max(largest, UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) & exponent)
            }
            return largest != exponent
        }
    }

    private static func checkScanID(_ id: String) throws {
        guard (1...128).contains(id.utf8.count) else { throw StreamError(.invalidField, "scan_id must have 1 to 128 bytes") }
    }

    private static func expectParts(_ parts: [Data], _ count: Int, _ type: String) throws {
        guard parts.count == count else {
            throw StreamError(.badParts, "\(type) has \(count) part\(count == 1 ? "" : "s"), the message \(parts.count)")
        }
    }

    private static func decodeHeader<H: Decodable>(_ data: Data, _ type: String) throws -> H {
        do {
            return try JSONDecoder().decode(H.self, from: data)
        } catch let error as DecodingError {
            throw describe(error, in: type)
        }
    }

    /// A decoding error as one line naming the field.
    private static func describe(_ error: DecodingError, in type: String) -> StreamError {
        func path(_ context: DecodingError.Context, _ last: CodingKey? = nil) -> String {
            (context.codingPath + (last.map { [$0] } ?? [])).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case let .keyNotFound(key, context):
            return StreamError(.invalidField, "\(type): missing field \(path(context, key))")
        case let .typeMismatch(_, context) where context.codingPath.isEmpty:
            return StreamError(.notJSON, "\(type) is not a JSON object")
        case let .typeMismatch(expected, context):
            return StreamError(.invalidField, "\(type): field \(path(context)) is not \(expected)")
        case let .valueNotFound(_, context):
            return StreamError(.invalidField, "\(type): field \(path(context)) is null")
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty { return StreamError(.notJSON, "\(type) is not a JSON object") }
            return StreamError(.invalidField, "\(type): field \(path(context)) has an invalid value")
        @unknown default:
            return StreamError(.invalidField, "\(type): \(error)")
        }
    }
}

private struct HType: Decodable {
    let htype: String
}

private struct ScanIDField: Decodable {
    let scan_id: String
}

/// A header with its htype, written as one flat JSON object.
private struct Envelope<Header: Encodable>: Encodable {
    let htype: String
    let header: Header

    enum Key: String, CodingKey { case htype }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(htype, forKey: .htype)
        try header.encode(to: encoder)
    }
}
