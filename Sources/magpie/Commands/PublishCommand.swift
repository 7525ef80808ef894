import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpiePhysics
import MagpiePipeline
import MagpieWire

extension ZeroMQSocket.Kind: ExpressibleByArgument {}
extension SampleType: ExpressibleByArgument {}

/// `--rate realtime | max | <frames per second>`.
struct StreamRate: ExpressibleByArgument {
    enum Value { case realtime, maximum, perSecond(Double) }
    let value: Value

    init?(argument: String) {
        switch argument {
        case "realtime": value = .realtime
        case "max": value = .maximum
        default:
            guard let rate = Double(argument), rate > 0, rate.isFinite else { return nil }
            value = .perSecond(rate)
        }
    }

    /// The publisher's rate, with realtime meaning one frame per drive cycle of `cycle` seconds.
    func rate(cycle: Double) -> ScanPublisher.Rate {
        switch value {
        case .realtime: return .framesPerSecond(1 / cycle)
        case .maximum: return .maximum
        case let .perSecond(rate): return .framesPerSecond(rate)
        }
    }
}

/// Options every stream sender shares (`publish`, `replay`).
struct SenderOptions: ParsableArguments {
    @Option(help: "ZeroMQ endpoint.") var endpoint = "tcp://127.0.0.1:5555"
    @Flag(exclusivity: .exclusive, help: "Bind the endpoint (default; the receiver connects) or connect to it.")
    var mode: Mode = .bind
    @Option(help: "pub (receivers subscribe; a slow one loses frames) or push (receivers pull; the sender waits).")
    var socket: ZeroMQSocket.Kind = .pub
    @Option(help: "realtime (one frame per drive cycle), max, or frames per second.") var rate = StreamRate(argument: "realtime")!
    @Option(help: "Seconds to wait after opening the socket, so that receivers that are connecting are not missed.") var warmup = 1.0
    @Option(help: "Seconds between repetitions of scan-start during a scan.") var repeatInterval = 1.0
    @Option(help: "Send-queue high-water mark, messages.") var highWaterMark: Int32 = 10000
    @Option(help: "Seconds to keep delivering queued messages after the last one is sent.") var linger = 30.0
    @Option(help: "CURVE: the receiver's public key file (its .pub from magpie keygen); needs --curve-key.") var curveServerKey: String?
    @Option(help: "CURVE: this sender's secret key file (magpie keygen's .key).") var curveKey: String?

    enum Mode: String, EnumerableFlag { case bind, connect }

    func validate() throws {
        guard socket.sends else { throw ValidationError("--socket must be pub or push for a sender") }
        guard (curveServerKey == nil) == (curveKey == nil) else { throw ValidationError("--curve-server-key and --curve-key go together") }
        guard warmup >= 0, linger >= 0, repeatInterval > 0, highWaterMark > 0 else {
            throw ValidationError("--warmup and --linger must be 0 or more, --repeat-interval and --high-water-mark positive")
        }
    }

    /// Closes the sender and waits (up to --linger) until what it queued has been delivered.
    func finish(_ publisher: ScanPublisher) {
        publisher.socket.close()
        ZeroMQ.shutdown()
    }

    func publisher() throws -> ScanPublisher {
        var curve: ZeroMQSocket.Curve?
        if let curveServerKey, let curveKey {
            curve = .client(serverKey: try CurveKey.load(publicKeyFile: curveServerKey), key: try CurveKey.load(secretKeyFile: curveKey))
        }
        let socket = try ZeroMQSocket(socket, endpoint: endpoint, bind: mode == .bind, highWaterMark: highWaterMark,
                                      lingerMilliseconds: Int32(linger * 1000), curve: curve)
        if warmup > 0 { usleep(UInt32(warmup * 1e6)) }
        return ScanPublisher(socket: socket)
    }
}

struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "The simulated scanner: stream a phantom scan as magpie-stream v1 over ZeroMQ.",
        discussion: """
            Simulates the scan with the physics model (as `magpie simulate measurement` does) and
            streams it: scan-start, background frames, foreground frames, background frames (half
            of --background-frames before the phantom, the rest after, as scanners record them),
            scan-end. Float32 payloads are volts; Int16 payloads carry the dataConversionFactor,
            and clipped frames are flagged overflow.

            Examples:
              magpie publish --preset openmpi-2d --phantom shapes --frames 1000 --rate max
              magpie publish --socket push --endpoint tcp://127.0.0.1:5556 --sample-type int16
            """
    )

    @Option(help: "Scanner preset: \(ScannerPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: ScannerPreset = .openmpi2d
    @Option(help: "Phantom: \(PhantomKind.allCases.map(\.rawValue).joined(separator: ", ")).") var phantom: PhantomKind = .resolution
    @Option(help: "Foreground frames.") var frames = 100
    @Option(help: "Background frames, half before and half after the foreground.") var backgroundFrames = 10
    @Option(help: "Gaussian noise, SNR in dB; none if omitted.") var snr: Double?
    @Option(help: "Harmonic interference, SIR in dB; none if omitted.") var sir: Double?
    @Option(help: "Tracer concentration of the phantom's brightest region, mol Fe / L.") var concentration = 0.1
    @Option(help: "Seed of every random choice.") var seed: UInt64 = 0
    @Option(help: "Payload type: float32 (volts) or int16 (scaled counts).") var sampleType: SampleType = .float32
    @OptionGroup var sender: SenderOptions

    func validate() throws {
        guard frames >= 0, backgroundFrames >= 0, frames + backgroundFrames > 0 else {
            throw ValidationError("--frames and --background-frames must be 0 or more, and not both 0")
        }
        guard sampleType != .int32 else { throw ValidationError("--sample-type must be float32 or int16") }
    }

    func run() throws {
        try reportingFailure(publish)
    }

    private func publish() throws {
        let scanner = preset.scanner
        let concentrationImage = try PhantomGenerator.concentration(phantom, for: scanner, seed: seed, peak: concentration)
        let simulator = try MeasurementSimulator(scanner: scanner, noise: NoiseModel(snr: snr, sir: sir))
        let signal = try simulator.simulator.voltages(concentration: concentrationImage)
        let before = backgroundFrames / 2
        let pattern = (0..<(frames + backgroundFrames)).map { $0 < before || $0 >= before + frames }
        let channels = scanner.receive.count, samples = scanner.samplesPerPeriod

        // Int16 counts: full scale at twice the largest value of the first block.
        let block = 256
        var cache = (range: 0..<0, frames: NDArray<Float>(repeating: 0, shape: [0, channels, samples]))
        func frameValues(_ index: Int) -> ArraySlice<Float> {
            if !cache.range.contains(index) {
                let range = index..<min(index + block, pattern.count)
                cache = (range, simulator.frames(signal: signal, isBackgroundFrame: pattern, range: range, seed: seed))
            }
            let size = channels * samples, start = (index - cache.range.lowerBound) * size
            return cache.frames.storage[start..<(start + size)]
        }
        let voltsPerCount = sampleType == .int16 ? Double(2 * (frameValues(0).map(abs).max() ?? 1)) / 32767 : 1

        var mdf = MDFFile.simulated(scanner: scanner, frames: pattern.count, experiment: "\(phantom.rawValue) phantom",
                                    description: "magpie publish, preset \(scanner.name), seed \(seed)", tracerConcentration: concentration)
        mdf.acquisition.receiver.dataConversionFactor = NDArray(shape: [channels, 2], storage: (0..<channels).flatMap { _ in [voltsPerCount, 0] })
        let start = ScanStart(scanID: MDF.newUUID(), timeNs: ScanPublisher.nanosecondsSinceEpoch(), sampleType: sampleType,
                              channels: channels, samplesPerPeriod: samples, framesPlanned: pattern.count,
                              repeatIntervalSeconds: sender.repeatInterval, metadata: ScanMetadata(mdf: mdf))
        let publisher = try sender.publisher()
        print("publishing scan \(start.scanID): \(before) + \(frames) + \(backgroundFrames - before) frames of the \(phantom.rawValue) phantom "
              + "(\(scanner.name)) to \(sender.endpoint)")
        let began = DispatchTime.now()
        try publisher.publish(start, frameCount: pattern.count, rate: sender.rate.rate(cycle: scanner.period)) { index in
            let values = frameValues(index)
            var flags = FrameFlags(background: pattern[index])
            if sampleType == .int16 {
                let counts = values.map { Float(Double($0) / voltsPerCount) }
                flags.overflow = counts.contains { abs($0) > 32767 }
                return (flags, StreamCodec.payload(counts, type: .int16))
            }
            return (flags, StreamCodec.payload(Array(values), type: .float32))
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - began.uptimeNanoseconds) / 1e9
        sender.finish(publisher)
        print(String(format: "published %d frames in %.2f s (%.0f frames/s), sequence %llu to %llu", pattern.count, elapsed,
                     Double(pattern.count) / elapsed, publisher.nextSequence - UInt64(pattern.count), publisher.nextSequence - 1))
    }
}
