import Foundation
import MagpieWire

/// The seed corpus: a valid scan, and every kind of bad input of the hardening issues
/// (docs/RELIABILITY.md), each for the surface it attacks.
enum FuzzSeeds {
    static let metadata = ScanMetadata(
        study: .init(name: "s", number: 1, uuid: "0b5a4c1e-3c0e-4f43-9d55-1f3c7d0f2a11", description: ""),
        experiment: .init(name: "e", number: 1, uuid: "x", description: "", subject: "phantom", isSimulation: true),
        tracer: .init(batch: ["b"], name: ["n"], solute: ["Fe"], vendor: ["v"], concentration: [0.1], volume: [1e-6]),
        scanner: .init(facility: "lab", manufacturer: "m", name: "n", operator: "o", topology: "FFP"),
        acquisition: .init(numAverages: 1, gradient: [[[[-1, 0, 0], [0, -1, 0], [0, 0, 2]]]],
                           drivefield: .init(baseFrequency: 2.5e6, divider: [[102], [96]], phase: [[[1.57], [1.57]]],
                                             strength: [[[0.012], [0.012]]], waveform: [["sine"], ["sine"]]),
                           receiver: .init(bandwidth: 1.25e6, numChannels: 1, numSamplingPoints: 4, unit: "V", dataConversionFactor: [[1, 0]])))

    static func start(_ id: String = "scan", planned: Int = 3) -> [Data] {
        try! StreamCodec.encode(.scanStart(ScanStart(scanID: id, timeNs: 1, sampleType: .int16, channels: 1, samplesPerPeriod: 4,
                                                     framesPlanned: planned, metadata: metadata)))
    }

    static func frame(_ index: Int, id: String = "scan", sequence: UInt64? = nil) -> [Data] {
        try! StreamCodec.encode(.frame(FrameHeader(scanID: id, sequence: sequence ?? UInt64(index), frame: index, timeNs: 2, sentNs: 3,
                                                   sampleType: .int16, shape: [1, 1, 4]), payload: StreamCodec.payload([1, -2, 3, -4], type: .int16)))
    }

    static func end(_ id: String = "scan", sent: Int = 3) -> [Data] {
        try! StreamCodec.encode(.scanEnd(ScanEnd(scanID: id, framesSent: sent, lastSequence: UInt64(sent - 1), status: .complete, timeNs: 4)))
    }

    /// `message` with its header's JSON changed.
    static func altered(_ message: [Data], _ change: (inout [String: Any]) -> Void) -> [Data] {
        var object = try! JSONSerialization.jsonObject(with: message[0]) as! [String: Any]
        change(&object)
        return [try! JSONSerialization.data(withJSONObject: object)] + message.dropFirst()
    }

    static func drive(_ change: @escaping (inout [String: Any]) -> Void) -> (inout [String: Any]) -> Void {
        return { header in
            var metadata = header["metadata"] as! [String: Any]
            var acquisition = metadata["acquisition"] as! [String: Any]
            var drivefield = acquisition["drivefield"] as! [String: Any]
            change(&drivefield)
            acquisition["drivefield"] = drivefield
            metadata["acquisition"] = acquisition
            header["metadata"] = metadata
        }
    }

    static func write(to directory: String) throws -> Int {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let scan = [start()] + (0..<3).map { frame($0) } + [end()]
        let text = String(decoding: frame(0)[0], as: UTF8.self)
        var seeds: [(String, FuzzTarget.Surface, [[Data]])] = [
            ("valid-scan", .receive, scan),
            ("huge-shape", .decode, [altered(frame(0)) { $0["shape"] = [1 << 40, 1 << 40, 1 << 40]; $0["periods"] = 1 << 40 }]),
            ("overflowing-shape", .decode, [altered(frame(0)) { $0["shape"] = [1 << 62, 4, 4]; $0["periods"] = 1 << 62 }]),
            ("huge-periods", .decode, [altered(start()) { $0["periods_per_frame"] = 1 << 62 }]),
            ("huge-samples", .decode, [altered(start()) { $0["samples_per_period"] = 1 << 62 }]),
            ("lcm-overflow", .decode, [altered(start(), drive { $0["divider"] = [[(1 << 40) - 1], [(1 << 40) - 3]] })]),
            ("ragged-divider", .receive, [altered(start(), drive { $0["divider"] = [[102], [96, 5]] }), frame(0)]),
            ("empty-divider", .receive, [altered(start(), drive { $0["divider"] = [[Int]]() }), frame(0)]),
            ("ragged-phase", .decode, [altered(start(), drive { $0["phase"] = [[[1.5, 2.5]]] })]),
            ("ragged-strength", .decode, [altered(start(), drive { $0["strength"] = [[[0.01], [0.01], [0.01]]] })]),
            ("ragged-waveform", .decode, [altered(start(), drive { $0["waveform"] = [["sine"]] })]),
            ("ragged-gradient", .decode, [altered(start()) { header in
                var metadata = header["metadata"] as! [String: Any]
                var acquisition = metadata["acquisition"] as! [String: Any]
                acquisition["gradient"] = [[[[1, 0], [0, 1, 0], [0, 0, 2]]]]
                metadata["acquisition"] = acquisition
                header["metadata"] = metadata
            }]),
            ("frame-index-2e60", .receive, [start(), altered(frame(0)) { $0["frame"] = 1 << 60 }]),
            ("frames-sent-2e62", .receive, [start(), frame(0), altered(end()) { $0["frames_sent"] = 1 << 62 }]),
            ("planned-1e15-then-start", .receive, [altered(start()) { $0["frames_planned"] = 1_000_000_000_000_000 }, frame(0), start("next")]),
            ("planned-2e32-then-start", .receive, [altered(start()) { $0["frames_planned"] = 1 << 32 }, frame(0), start("next")]),
            ("invalid-uuid", .receive, scan),
            ("scan-id-dotdot", .receive, [start("../../x"), frame(0, id: "../../x"), end("../../x", sent: 1)]),
            ("scan-id-nul", .receive, [start("a\u{0}b"), frame(0, id: "a\u{0}b")]),
            ("scan-id-newline", .receive, [start("a\nmagpie: forged"), frame(0, id: "a\nmagpie: forged")]),
            ("trailing-comma", .decode, [[Data((String(text.dropLast()) + ",}").utf8), frame(0)[1]]]),
            ("byte-order-mark", .decode, [[Data([0xEF, 0xBB, 0xBF]) + frame(0)[0], frame(0)[1]]]),
            ("utf16", .decode, [[text.data(using: .utf16LittleEndian)!, frame(0)[1]]]),
            ("deep-nesting", .decode, [[Data(("{\"htype\":" + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "}").utf8)]]),
            ("unknown-htype", .receive, Array(repeating: [Data("{\"htype\":\"vendor.status/2\"}".utf8)], count: 12)),
            ("wild-sequence", .receive, [start(), frame(0, sequence: 5), frame(1, sequence: UInt64.max), frame(2, sequence: 6), end()]),
            ("lost-scan-end", .receive, [start(), frame(0), [], [], [], [], start("later")]),
            ("many-parts", .decode, [Array(repeating: Data("x".utf8), count: 4)]),
        ]
        var written = 0
        for (name, surface, messages) in seeds {
            let bytes = [surface.rawValue] + FuzzTarget.frame(messages)
            try Data(bytes).write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("\(surface)-\(name)")))
            written += 1
        }
        // Journals: whole, torn and damaged records of format 2, and a format-1 journal.
        let records = scan.map { [UInt8](ScanJournal.record($0)) }
        var damaged = records.joined().map { $0 }
        damaged[40] ^= 0xFF
        let version1: [UInt8] = scan.flatMap { parts -> [UInt8] in
            var bytes = withUnsafeBytes(of: UInt32(parts.count).littleEndian, Array.init)
            for part in parts { bytes += withUnsafeBytes(of: UInt64(part.count).littleEndian, Array.init) + part }
            return bytes
        }
        seeds = []
        for (name, bytes) in [("whole", [0] + records.joined()), ("torn", [0] + records.joined().dropLast(7)), ("damaged", [0] + damaged),
                              ("format1", [1] + version1), ("format1-torn", [1] + version1.dropLast(3))] {
            try Data([FuzzTarget.Surface.journal.rawValue] + bytes).write(
                to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("journal-\(name)")))
            written += 1
        }
        return written
    }
}
