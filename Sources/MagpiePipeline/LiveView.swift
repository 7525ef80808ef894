import Foundation
import MagpieCore
import MagpieMDF
import MagpiePlan
import Synchronization

/// What the console shows live, kept newest-only: the newest image, the newest frame's receive
/// signals, the open scan, and the last scan events. Processing and the scan writer store into it
/// (a reference to arrays they made anyway, under a lock: nothing is copied or encoded on their
/// threads); the console's clients read from it at their own pace, each getting the newest state
/// when it is ready for more, never a backlog. Each kind is encoded once per new state (JSON,
/// arrays as base64 float32) and shared by every client.
public final class LiveView: Sendable {
    /// The scan processing is on.
    public struct OpenScan: Sendable, Codable, Equatable {
        public var scanID: String
        public var name: String
        public var framesPlanned: Int
        public var started: String
        public var receiveChannels: Int
        public var samplesPerPeriod: Int
        /// Hz: twice the receive bandwidth.
        public var samplingRate: Double
        /// Hz, one per drive channel: the page marks their harmonics on the spectra.
        public var driveFrequencies: [Double]
        public var signalUnit: String
    }

    /// A scan's start, end, or its file being written: what tools watching for new files want.
    public struct ScanEvent: Sendable, Codable, Equatable {
        public var sequence: Int
        /// "started", "ended" or "written".
        public var kind: String
        public var scanID: String
        public var time: String
        /// The file's name in the output directory ("written").
        public var file: String?
        public var complete: Bool?
        public var status: String?
    }

    fileprivate struct Image {
        var scanID: String
        var frame: Int
        var values: [Float]
        var geometry: ImageGeometry
        var unit: String
    }

    fileprivate struct Signal {
        var scanID: String
        var frame: Int
        var background: Bool
        var signals: NDArray<Float>
        /// The scan it belongs to (sampling rate, drive frequencies), kept with it: it outlives the scan's end.
        var scan: OpenScan?
    }

    fileprivate struct State {
        var chain = "[]"
        var open: OpenScan?
        var image: Image?
        var imageVersion = 0
        var signal: Signal?
        var signalVersion = 0
        var events: [ScanEvent] = []
        var nextSequence = 1
        var closed = false
    }

    /// Encoded payloads, by version: made by the first client that needs a new one.
    private struct Encoded {
        var image: (version: Int, text: String)?
        var signal: (version: Int, text: String)?
        var fft: RealFFT?
    }

    /// How many scan events are kept for clients that come back (`Last-Event-ID`).
    fileprivate static let eventsKept = 256

    private let state = Mutex(State())
    private let encoded = Mutex(Encoded())

    public init() {}

    // MARK: - Stored by the pipeline

    /// The plan processing runs (its JSON form), at start and after each reload it adopts.
    func setChain(_ plan: ReconstructionPlan) {
        let json = (try? plan.json()) ?? "[]"
        state.withLock { $0.chain = json }
    }

    func scanStarted(_ scan: ScanDescription, scanID: String) {
        let metadata = scan.metadata
        let drive = metadata.acquisition.driveField
        // Each drive channel's first frequency (divider D x F, validated at scan-start; read defensively all the same).
        let perChannel = max(1, drive.divider.count / max(1, drive.numChannels))
        let frequencies = stride(from: 0, to: drive.divider.count, by: perChannel).map { drive.baseFrequency / Double(max(1, drive.divider.storage[$0])) }
        let receiver = metadata.acquisition.receiver
        let open = OpenScan(scanID: scanID, name: scan.name, framesPlanned: metadata.acquisition.numFrames, started: MDF.timestamp(),
                            receiveChannels: receiver.numChannels, samplesPerPeriod: receiver.numSamplingPoints,
                            samplingRate: receiver.samplingRate, driveFrequencies: frequencies, signalUnit: receiver.unit)
        state.withLock { state in
            state.open = open
            state.append(event: "started", scanID: scanID)
        }
    }

    func frame(_ item: PlanItem, scanID: String) {
        state.withLock { state in
            state.signal = Signal(scanID: scanID, frame: item.frame, background: item.isBackground, signals: item.signals,
                                  scan: state.open?.scanID == scanID ? state.open : state.signal?.scan)
            state.signalVersion += 1
        }
    }

    func image(_ values: [Float], frame: Int, geometry: ImageGeometry, unit: String, scanID: String) {
        let image = Image(scanID: scanID, frame: frame, values: values, geometry: geometry, unit: unit)
        state.withLock { state in
            state.image = image
            state.imageVersion += 1
        }
    }

    func scanEnded(scanID: String, complete: Bool, status: String) {
        state.withLock { state in
            if state.open?.scanID == scanID { state.open = nil }
            state.append(event: "ended", scanID: scanID, complete: complete, status: status)
        }
    }

    func scanWritten(path: String, scanID: String, complete: Bool, status: String) {
        state.withLock { $0.append(event: "written", scanID: scanID, file: (path as NSString).lastPathComponent, complete: complete, status: status) }
    }

    /// Shutdown: the live streams end, so the HTTP server can stop.
    func close() { state.withLock { $0.closed = true } }

    // MARK: - Read by the console

    var isClosed: Bool { state.withLock { $0.closed } }
    public var openScan: OpenScan? { state.withLock { $0.open } }
    var chain: String { state.withLock { $0.chain } }
    var versions: (image: Int, signal: Int) { state.withLock { ($0.imageVersion, $0.signalVersion) } }

    /// The events after `sequence`, and whether some between were no longer kept.
    func events(after sequence: Int) -> (events: [ScanEvent], gap: Bool) {
        state.withLock { state in
            let newer = state.events.filter { $0.sequence > sequence }
            return (newer, (newer.first?.sequence ?? state.nextSequence) > sequence + 1 && sequence > 0)
        }
    }

    var lastSequence: Int { state.withLock { $0.nextSequence - 1 } }

    /// The newest image as JSON: its geometry (mm), value range, and planes as base64 float32 (x
    /// fastest): a 2D image itself; a volume's three orthogonal slices through its brightest
    /// voxel, then its three maximum-intensity projections.
    func imageJSON() -> (version: Int, text: String)? {
        let (image, version) = state.withLock { ($0.image, $0.imageVersion) }
        guard let image else { return nil }
        if let cached = encoded.withLock({ $0.image }), cached.version == version { return cached }
        let text = Self.encode(image)
        encoded.withLock { if ($0.image?.version ?? -1) < version { $0.image = (version, text) } }
        return (version, text)
    }

    /// The newest frame's receive signals (first period, per channel) and their magnitude spectra
    /// in dB, with the drive frequencies whose harmonics the page marks.
    func signalJSON() -> (version: Int, text: String)? {
        let (signal, version) = state.withLock { ($0.signal, $0.signalVersion) }
        guard let signal else { return nil }
        let open = signal.scan
        return encoded.withLock { encoded in
            if let cached = encoded.signal, cached.version == version { return cached }
            let (channels, samples) = (signal.signals.shape[0], signal.signals.shape[1])
            if encoded.fft?.length != samples { encoded.fft = RealFFT(length: samples) }
            var traces: [String] = [], spectra: [String] = []
            for c in 0..<channels {
                let trace = Array(signal.signals.storage[(c * samples)..<((c + 1) * samples)])
                let spectrum = encoded.fft!.forward(trace).map { 20 * log10(max(1e-30, ($0.real * $0.real + $0.imaginary * $0.imaginary).squareRoot())) }
                traces.append(Self.base64(trace))
                spectra.append(Self.base64(spectrum))
            }
            let rate = open?.samplingRate ?? 0
            let object: [String: Any] = [
                "scanID": signal.scanID, "frame": signal.frame, "background": signal.background, "channels": channels, "samples": samples,
                "samplingRate": rate, "binHz": rate / Double(samples), "unit": open?.signalUnit ?? "V",
                "driveFrequencies": open?.driveFrequencies ?? [], "signals": traces, "spectraDecibels": spectra,
            ]
            let text = Self.json(object)
            encoded.signal = (version, text)
            return (version, text)
        }
    }

    // MARK: - Encoding

    static func base64(_ values: [Float]) -> String {
        values.withUnsafeBytes { Data($0).base64EncodedString() }   // little-endian: JS reads it with Float32Array
    }

    static func json(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
    }

    private static func encode(_ image: Image) -> String {
        let size = image.geometry.size + Array(repeating: 1, count: max(0, 3 - image.geometry.size.count))
        let (nx, ny, nz) = (size[0], size[1], size[2])
        let values = image.values
        let finite = values.filter(\.isFinite)
        let brightest = values.indices.max { values[$0] < values[$1] || values[$0].isNaN } ?? 0
        let (bx, by, bz) = (brightest % nx, brightest / nx % ny, brightest / (nx * ny))
        func at(_ x: Int, _ y: Int, _ z: Int) -> Float { values[(z * ny + y) * nx + x] }
        // Extent of each axis in mm (voxel edges), from the FOV (m) and its centre.
        let fov: [Double] = image.geometry.fieldOfView + [Double](repeating: 0, count: max(0, 3 - image.geometry.fieldOfView.count))
        let centre: [Double] = image.geometry.fieldOfViewCenter + [Double](repeating: 0, count: max(0, 3 - image.geometry.fieldOfViewCenter.count))
        let extent: [[Double]] = (0..<3).map { (axis: Int) -> [Double] in
            let (middle, half) = (centre[axis], fov[axis] / 2)
            return [1000 * (middle - half), 1000 * (middle + half)]
        }
        func plane(_ name: String, _ axes: [Int], _ width: Int, _ height: Int, _ value: (Int, Int) -> Float) -> [String: Any] {
            var pixels = [Float](repeating: 0, count: width * height)
            for v in 0..<height { for u in 0..<width { pixels[v * width + u] = value(u, v) } }
            let names = ["x", "y", "z"]
            return ["name": name, "axes": axes.map { names[$0] }, "extentMm": axes.map { extent[$0] }, "width": width, "height": height,
                    "values": base64(pixels)]
        }
        var planes: [[String: Any]]
        if nz == 1 {
            planes = [plane("xy", [0, 1], nx, ny) { at($0, $1, 0) }]
        } else {
            planes = [
                plane("xy slice at z = \(bz)", [0, 1], nx, ny) { at($0, $1, bz) },
                plane("xz slice at y = \(by)", [0, 2], nx, nz) { at($0, by, $1) },
                plane("yz slice at x = \(bx)", [1, 2], ny, nz) { at(bx, $0, $1) },
                plane("xy maximum along z", [0, 1], nx, ny) { x, y in (0..<nz).reduce(-.infinity) { max($0, at(x, y, $1)) } },
                plane("xz maximum along y", [0, 2], nx, nz) { x, z in (0..<ny).reduce(-.infinity) { max($0, at(x, $1, z)) } },
                plane("yz maximum along x", [1, 2], ny, nz) { y, z in (0..<nx).reduce(-.infinity) { max($0, at($1, y, z)) } },
            ]
        }
        return json([
            "scanID": image.scanID, "frame": image.frame, "size": [nx, ny, nz], "unit": image.unit,
            "low": Double(finite.min() ?? 0), "high": Double(finite.max() ?? 0), "brightest": [bx, by, bz], "planes": planes,
        ])
    }
}

private extension LiveView.State {
    mutating func append(event kind: String, scanID: String, file: String? = nil, complete: Bool? = nil, status: String? = nil) {
        events.append(LiveView.ScanEvent(sequence: nextSequence, kind: kind, scanID: scanID, time: MDF.timestamp(), file: file,
                                         complete: complete, status: status))
        nextSequence += 1
        if events.count > LiveView.eventsKept { events.removeFirst(events.count - LiveView.eventsKept) }
    }
}
