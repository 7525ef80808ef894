import Foundation
import MagpieCore
import MagpieMDF
import MagpieWire

/// magpie-stream v1 messages of a small 1D scan (openmpi-1d: 1 channel, 102 samples), for the tests.
enum StreamMessages {
    static let metadata = ScanMetadata(mdf: MDFFile.simulated(scanner: ScannerPreset.openmpi1d.scanner, frames: 4, experiment: "e",
                                                              description: "d", tracerConcentration: 0.1))

    static func start(_ id: String, repeatIndex: Int = 0, planned: Int = 4) -> [Data] {
        try! StreamCodec.encode(.scanStart(ScanStart(scanID: id, repeatIndex: repeatIndex, timeNs: 0, sampleType: .float32, channels: 1,
                                                     samplesPerPeriod: 102, framesPlanned: planned, metadata: metadata)))
    }

    static func frame(_ id: String, _ index: Int, sequence: UInt64, values: [Float]? = nil, type: SampleType = .float32,
                      background: Bool = false) -> [Data] {
        let values = values ?? (0..<102).map { Float(index) + sin(Float($0) * 0.3) }
        var flags = FrameFlags()
        flags.background = background
        return try! StreamCodec.encode(.frame(FrameHeader(scanID: id, sequence: sequence, frame: index, flags: flags, timeNs: 0, sentNs: 0,
                                                          sampleType: type, shape: [1, 1, values.count]),
                                              payload: StreamCodec.payload(values, type: type)))
    }

    static func end(_ id: String, sent: Int) -> [Data] {
        try! StreamCodec.encode(.scanEnd(ScanEnd(scanID: id, framesSent: sent, lastSequence: nil, status: .complete, timeNs: 0)))
    }
}
