import Foundation
@testable import MagpieWire
import Testing

@Suite struct StreamCodecTests {
    static let metadata = ScanMetadata(
        study: .init(name: "s", number: 1, uuid: "u", description: ""),
        experiment: .init(name: "e", number: 1, uuid: "v", description: "", subject: "phantom", isSimulation: true),
        tracer: nil,
        scanner: .init(facility: "lab", manufacturer: "m", name: "n", operator: "o", topology: "FFP"),
        acquisition: .init(numAverages: 1, gradient: [[[[-1, 0, 0], [0, -1, 0], [0, 0, 2]]]],
                           drivefield: .init(baseFrequency: 2.5e6, divider: [[102], [96]], phase: [[[1.57], [1.57]]],
                                             strength: [[[0.012], [0.012]]], waveform: [["sine"], ["sine"]]),
                           receiver: .init(bandwidth: 1.25e6, numChannels: 2, numSamplingPoints: 4, unit: "V",
                                           dataConversionFactor: [[1e-4, 0], [1e-4, 0]])))
    static let start = ScanStart(scanID: "scan-1", timeNs: 1_700_000_000_000_000_000, sampleType: .int16, channels: 2,
                                 samplesPerPeriod: 4, framesPlanned: 10, metadata: metadata)
    static func frame(sequence: UInt64 = 7, type: SampleType = .int16, values: [Float] = [1, -2, 3, -4, 5, -6, 7, -8]) -> StreamMessage {
        .frame(FrameHeader(scanID: "scan-1", sequence: sequence, frame: 3, flags: FrameFlags(background: true), timeNs: 5, sentNs: 6,
                           sampleType: type, shape: [1, 2, 4]), payload: StreamCodec.payload(values, type: type))
    }

    func json(_ text: String) -> Data { Data(text.utf8) }

    @Test(arguments: [StreamMessage.scanStart(start), frame(), frame(sequence: UInt64.max, type: .float32), frame(type: .int32),
                      .scanEnd(ScanEnd(scanID: "scan-1", framesSent: 10, lastSequence: nil, status: .aborted, timeNs: 9))])
    func roundTrip(message: StreamMessage) throws {
        #expect(try StreamCodec.decode(StreamCodec.encode(message)) == message)
    }

    @Test func headersCarryHtypeAndSnakeCaseFields() throws {
        let parts = try StreamCodec.encode(Self.frame())
        let object = try JSONSerialization.jsonObject(with: parts[0]) as! [String: Any]
        #expect(object["htype"] as? String == "magpie.frame/1")
        #expect(object["scan_id"] as? String == "scan-1")
        #expect((object["flags"] as? [String: Bool])?["background"] == true)
        #expect(parts[1].count == 16)
        let end = try JSONSerialization.jsonObject(with: StreamCodec.encode(.scanEnd(ScanEnd(scanID: "a", framesSent: 0, lastSequence: nil,
                                                                                             status: .complete, timeNs: 0)))[0]) as! [String: Any]
        #expect(end.keys.contains("last_sequence"))
    }

    @Test func payloadValuesAreLittleEndian() {
        let payload = StreamCodec.payload([1, -2, 300], type: .int16)
        #expect(Array(payload) == [1, 0, 0xFE, 0xFF, 0x2C, 0x01])
        #expect(StreamCodec.values(of: payload, type: .int16) == [1, -2, 300])
        #expect(StreamCodec.values(of: StreamCodec.payload([1.5, -2.25], type: .float32), type: .float32) == [1.5, -2.25])
    }

    func rejects(_ parts: [Data], _ kind: StreamError.Kind, _ words: String) {
        do {
            _ = try StreamCodec.decode(parts)
            Issue.record("accepted a bad message, expected \(kind): \(words)")
        } catch let error as StreamError {
            #expect(error.kind == kind)
            #expect(error.message.contains(words), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    /// The finite check's 64-byte steps against one value at a time: every non-finite kind at
    /// every place of payloads whose length is not a multiple of 64, and the edge values that are finite.
    @Test func everyNonFiniteFloat32IsFoundWhereverItIs() {
        let edges: [Float] = [0, -0, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude, .leastNormalMagnitude, 1, -1]
        for count in [1, 15, 16, 17, 33, 100] {
            let finite = (0..<count).map { edges[$0 % edges.count] }
            #expect(StreamCodec.allFinite(float32: StreamCodec.payload(finite, type: .float32)))
            for bad in [Float.nan, -.nan, .infinity, -.infinity, Float(bitPattern: 0x7FC0_0001)] {
                for place in 0..<count {
                    var values = finite
                    values[place] = bad
                    #expect(!StreamCodec.allFinite(float32: StreamCodec.payload(values, type: .float32)), "\(bad) at \(place) of \(count)")
                }
            }
        }
    }

    @Test func badMessagesAreRejectedWithTheirReason() throws {
        let good = try StreamCodec.encode(Self.frame())
        rejects([], .badParts, "empty")
        rejects([json("{not json")], .notJSON, "RFC 8259")
        rejects([json("[1, 2]")], .notJSON, "not a JSON object")
        rejects([json("{\"scan_id\": \"a\"}")], .invalidField, "missing field htype")
        rejects([json("{\"htype\": \"magpie.frame/2\"}")], .unknownType, "magpie.frame/2")
        rejects([good[0]], .badParts, "magpie.frame/1 has 2 parts, the message 1")
        rejects([good[0], good[1].dropLast(2)], .badPayload, "payload has 14 bytes")
        let nan = try StreamCodec.encode(Self.frame(type: .float32, values: [1, 2, .nan, 4, 5, 6, 7, 8]))
        rejects(nan, .badPayload, "value 2")
        var header = try JSONSerialization.jsonObject(with: good[0]) as! [String: Any]
        header["sequence"] = "seven"
        rejects([try JSONSerialization.data(withJSONObject: header), good[1]], .invalidField, "field sequence is not")
        header["sequence"] = 7
        header["flags"] = ["background": true]
        rejects([try JSONSerialization.data(withJSONObject: header), good[1]], .invalidField, "missing field flags.overflow")
        header["flags"] = ["background": true, "overflow": false, "corrupted": false]
        header["sample_type"] = "int8"
        rejects([try JSONSerialization.data(withJSONObject: header), good[1]], .invalidField, "field sample_type has an invalid value")
        header["sample_type"] = "int16"
        header["shape"] = [2, 2, 2]
        rejects([try JSONSerialization.data(withJSONObject: header), good[1]], .invalidField, "shape [2, 2, 2]")
        header["shape"] = [1, 2, 4]
        header["scan_id"] = ""
        rejects([try JSONSerialization.data(withJSONObject: header), good[1]], .invalidField, "scan_id")
    }

    @Test func scanStartMustAgreeWithItsMetadata() throws {
        var start = Self.start
        start.channels = 3
        rejects(try StreamCodec.encode(.scanStart(start)), .invalidField, "numChannels 2 differs from channels 3")
        var header = try JSONSerialization.jsonObject(with: StreamCodec.encode(.scanStart(Self.start))[0]) as! [String: Any]
        var metadata = header["metadata"] as! [String: Any]
        metadata.removeValue(forKey: "scanner")
        header["metadata"] = metadata
        rejects([try JSONSerialization.data(withJSONObject: header)], .invalidField, "missing field metadata.scanner")
    }

    func header(_ message: StreamMessage, _ change: (inout [String: Any]) -> Void) throws -> [Data] {
        var parts = try StreamCodec.encode(message)
        var object = try JSONSerialization.jsonObject(with: parts[0]) as! [String: Any]
        change(&object)
        parts[0] = try JSONSerialization.data(withJSONObject: object)
        return parts
    }

    @Test func headersMustBeStrictJSON() throws {
        let good = try StreamCodec.encode(Self.frame())
        let text = String(decoding: good[0], as: UTF8.self)
        rejects([json(String(text.dropLast()) + ",}"), good[1]], .notJSON, "RFC 8259")
        rejects([Data([0xEF, 0xBB, 0xBF]) + good[0], good[1]], .notJSON, "byte-order mark")
        rejects([text.data(using: .utf16LittleEndian)!, good[1]], .notJSON, "RFC 8259")
        rejects([json(String(text.dropLast()) + ",\"frame\":4}"), good[1]], .notJSON, "duplicate key")
        rejects([json("{\"htype\":" + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}")], .notJSON, "nested deeper")
        rejects([json("{\"htype\":\"a\nb\"}")], .notJSON, "control character")
        rejects([json("{\"htype\":01}")], .notJSON, "RFC 8259")
        #expect(try StreamCodec.decode([json(" \n" + text + "\t "), good[1]]) == Self.frame())
    }

    @Test func hugeNumbersAreRefusedWithoutOverflow() throws {
        rejects(try header(Self.frame()) { $0["shape"] = [1, 1 << 40, 1 << 40]; $0["periods"] = 1 }, .invalidField, "exceeds")
        rejects(try header(Self.frame()) { $0["shape"] = [Int.max, Int.max, Int.max]; $0["periods"] = Int.max }, .invalidField, "exceeds")
        rejects(try header(Self.frame()) { $0["frame"] = 1 << 60 }, .invalidField, "frame must be in 0...")
        rejects(try header(.scanStart(Self.start)) { $0["frames_planned"] = 1_000_000_000_000_000 }, .invalidField, "frames_planned")
        rejects(try header(.scanStart(Self.start)) { $0["periods_per_frame"] = Int.max }, .invalidField, "periods_per_frame")
        rejects(try header(.scanStart(Self.start)) { $0["samples_per_period"] = 1 << 23; $0["periods_per_frame"] = 60_000 }, .invalidField, "exceeds")
        rejects(try header(.scanEnd(ScanEnd(scanID: "a", framesSent: 1, lastSequence: nil, status: .complete, timeNs: 0))) { $0["frames_sent"] = 1 << 62 },
                .invalidField, "frames_sent")
        #expect(StreamLimits.payloadBytes([Int.max, 2, 2], elementSize: 4) == nil)
        #expect(StreamLimits.payloadBytes([1, 3, 53_856], elementSize: 4) == 646_272)
    }

    @Test func metadataShapesAreCheckedBeforeAnythingIsBuilt() throws {
        func refused(_ words: String, _ change: (inout ScanMetadata) -> Void) throws {
            var start = Self.start
            change(&start.metadata)
            do {
                _ = try StreamCodec.decode(StreamCodec.encode(.scanStart(start)))
                Issue.record("accepted metadata that should fail with \(words)")
            } catch let error as StreamError {
                #expect(error.message.contains(words), "\(error.message)")
                #expect(error.scanID == "scan-1")
            }
        }
        try refused("divider must be D x F") { $0.acquisition.drivefield.divider = [[102], [96, 5]] }
        try refused("divider must be D x F") { $0.acquisition.drivefield.divider = [] }
        try refused("divider must be D x F") { $0.acquisition.drivefield.divider = [[]] }
        try refused("least common multiple") { $0.acquisition.drivefield.divider = [[(1 << 40) - 1], [(1 << 40) - 3]] }
        try refused("divider values") { $0.acquisition.drivefield.divider = [[0], [96]] }
        try refused("phase must be J x D x F") { $0.acquisition.drivefield.phase = [[[1.57]]] }
        try refused("strength must be J x D x F") { $0.acquisition.drivefield.strength = [[[0.012, 1], [0.012]]] }
        try refused("waveform must be D x F") { $0.acquisition.drivefield.waveform = [["sine"]] }
        try refused("gradient must be J x Y x 3 x 3") { $0.acquisition.gradient = [[[[1, 0], [0, 1, 0], [0, 0, 2]]]] }
        try refused("dataConversionFactor must be 2 x 2") { $0.acquisition.receiver.dataConversionFactor = [[1, 0]] }
        try refused("baseFrequency") { $0.acquisition.drivefield.baseFrequency = 0 }
        // Cosmetic faults pass the stream's checks (the daemon repairs them in the file).
        var start = Self.start
        start.metadata.study.uuid = "x"
        start.metadata.scanner.name = ""
        #expect(try StreamCodec.decode(StreamCodec.encode(.scanStart(start))) == .scanStart(start))
    }
}
