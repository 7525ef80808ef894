import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpiePipeline
import MagpieWire

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Stream an MDF measurement as magpie-stream v1, as the scanner would have sent it.",
        discussion: """
            Reads a time-domain measurement (N x J x C x V; Int16, Int32, Float32 or Float64, as
            OpenMPIData and `magpie simulate` write them) and streams every frame in file order with
            its background flag. Int16, Int32 and Float32 samples go out unchanged with the file's
            dataConversionFactor; Float64 samples are sent as Float32. scan-start is built from the
            file's metadata groups.

            Examples:
              magpie replay m.mdf --rate max
              magpie replay m.mdf --loop 3 --socket push --endpoint tcp://127.0.0.1:5556
            """
    )

    @Argument(help: "The measurement MDF.") var file: String
    @Option(help: "Stream the file this many times, each as a new scan.") var loop = 1
    @OptionGroup var sender: SenderOptions

    func validate() throws {
        guard loop >= 1 else { throw ValidationError("--loop must be at least 1") }
    }

    func run() throws {
        try reportingFailure(replay)
    }

    private func replay() throws {
        let mdf = try MDFReader.read(file)
        guard let measurement = mdf.measurement else { throw ValidationError("\(file) has no /measurement to replay") }
        guard !measurement.isFourierTransformed, !measurement.isFastFrameAxis, measurement.data.shape.count == 4 else {
            let field = measurement.isFourierTransformed ? "isFourierTransformed = 1" : measurement.isFastFrameAxis ? "isFastFrameAxis = 1" : "data of shape \(measurement.data.shape)"
            throw ValidationError("\(file): /measurement/\(field): replay sends time-domain frames (N x J x C x V), as a scanner does; magpie reconstruct reads this file offline")
        }
        // The stream has no field for it, so the daemon could not divide it out as magpie reconstruct does.
        guard !mdf.carriesTransferFunction else {
            throw ValidationError("\(file): /acquisition/receiver/transferFunction: the stream carries no transfer function, so the daemon would image the chain's gain that magpie reconstruct divides out; reconstruct this file offline")
        }
        let shape = measurement.data.shape
        let (frames, frameSize) = (shape[0], shape[1] * shape[2] * shape[3])
        let sampleType: SampleType
        let payload: (Int) -> Data
        switch measurement.data {
        case let .int16(a):
            sampleType = .int16
            payload = { n in a.storage[(n * frameSize)..<((n + 1) * frameSize)].withUnsafeBytes { Data($0) } }
        case let .int32(a):
            sampleType = .int32
            payload = { n in a.storage[(n * frameSize)..<((n + 1) * frameSize)].withUnsafeBytes { Data($0) } }
        case let .float32(a):
            sampleType = .float32
            payload = { n in a.storage[(n * frameSize)..<((n + 1) * frameSize)].withUnsafeBytes { Data($0) } }
        case let .float64(a):
            sampleType = .float32
            payload = { n in StreamCodec.payload(a.storage[(n * frameSize)..<((n + 1) * frameSize)].map(Float.init), type: .float32) }
        default:
            throw ValidationError("\(file): measurement data must be real, not \(measurement.data.elementType.rawValue)")
        }
        // Frames go out in acquisition order, as the scanner sent them.
        let storedFrame = try measurement.storedFrames(file: file)
        precondition(UInt16(littleEndian: 1) == 1, "raw payloads are sent in host order, which must be little-endian")
        let publisher = try sender.publisher()
        let rate = sender.rate.rate(cycle: mdf.acquisition.driveField.cycle)
        for pass in 0..<loop {
            let start = ScanStart(scanID: MDF.newUUID(), timeNs: ScanPublisher.nanosecondsSinceEpoch(), sampleType: sampleType,
                                  periodsPerFrame: shape[1], channels: shape[2], samplesPerPeriod: shape[3], framesPlanned: frames,
                                  repeatIntervalSeconds: sender.repeatInterval, metadata: ScanMetadata(mdf: mdf))
            let began = DispatchTime.now()
            try publisher.publish(start, frameCount: frames, rate: rate) { n in
                let stored = storedFrame[n]
                return (FrameFlags(background: measurement.isBackgroundFrame[stored]), payload(stored))
            }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - began.uptimeNanoseconds) / 1e9
            print(String(format: "replayed %@ (%d frames, %@) as scan %@ in %.2f s%@", file, frames, sampleType.rawValue, start.scanID,
                         elapsed, loop > 1 ? " (pass \(pass + 1) of \(loop))" : ""))
        }
        sender.finish(publisher)
    }
}
