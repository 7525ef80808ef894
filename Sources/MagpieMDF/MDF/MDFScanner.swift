import Foundation
import MagpieCore

extension MDFFile {
    /// Metadata for a file Magpie simulated with `scanner`: every required group, the drive field
    /// and receiver as the scanner defines them, and the selection-field gradient.
    public static func simulated(scanner: MPIScanner, frames: Int, experiment: String, description: String,
                                 tracerConcentration: Double) -> MDFFile {
        let d = scanner.drive.count
        let gradient = NDArray(shape: [1, 1, 3, 3], storage: (0..<9).map { $0 % 4 == 0 ? scanner.gradient[$0 / 4] : 0 })
        let driveField = MDF.DriveField(
            baseFrequency: scanner.baseFrequency,
            cycle: scanner.period,
            divider: NDArray(shape: [d, 1], storage: scanner.drive.map { Int64($0.divider) }),
            numChannels: d,
            phase: NDArray(shape: [1, d, 1], storage: scanner.drive.map(\.phase)),
            strength: NDArray(shape: [1, d, 1], storage: scanner.drive.map(\.amplitude)),
            waveform: NDArray(repeating: "sine", shape: [d, 1]))
        let receiver = MDF.Receiver(bandwidth: scanner.samplingRate / 2, numChannels: scanner.receive.count,
                                    numSamplingPoints: scanner.samplesPerPeriod, unit: "V")
        let particle = scanner.particle
        return MDFFile(
            study: MDF.Study(name: "Magpie simulation", number: 1, description: "written by magpie simulate"),
            experiment: MDF.Experiment(name: experiment, number: 1, description: description, subject: "phantom", isSimulation: true),
            tracer: MDF.Tracer(batch: ["simulated"], name: [String(format: "magnetite, %.1f nm core", particle.coreDiameter * 1e9)],
                               solute: ["Fe"], vendor: ["magpie"], concentration: [tracerConcentration], volume: [0]),
            scanner: MDF.Scanner(facility: "Magpie", manufacturer: "Magpie", name: "simulated \(scanner.name)",
                                 operator: "magpie simulate", topology: scanner.topology),
            acquisition: MDF.Acquisition(numFrames: frames, gradient: gradient, driveField: driveField, receiver: receiver))
    }
}

extension MPIScanner {
    /// The scanner an MDF file describes, as far as the file says: the drive channels that are on
    /// (sine waves with their divider, amplitude and phase of the first period), sampling, the
    /// receive channels and the gradient's diagonal. The particle and image grid come from
    /// `defaults`, since MDF does not record them, and so do the axes: MDF stores no direction per
    /// channel, so the k-th active drive channel drives the axis of the defaults' k-th (the
    /// recorded scanner's; a preset's is k) and receive channel c takes the defaults' c-th axis and
    /// sensitivity, when the defaults have as many channels; otherwise channel d drives axis d and
    /// receive channel c lies along axis c (MPIFiles' reading: x, y, z in order).
    public init(mdf: MDFFile, defaults: MPIScanner) throws {
        let acquisition = mdf.acquisition, drive = acquisition.driveField, receiver = acquisition.receiver
        func fail(_ message: String) -> ScannerError { ScannerError(scanner: mdf.scanner.name, message: message) }
        guard drive.divider.rank == 2, drive.divider.shape[0] >= 1, drive.divider.shape[0] <= 3 else {
            throw fail("needs 1 to 3 drive-field channels, the file has divider of shape \(drive.divider.shape)")
        }
        guard let gradient = acquisition.gradient, gradient.shape.count == 4, gradient.shape[2] == 3, gradient.shape[3] == 3 else {
            throw fail("the file has no /acquisition/gradient, which x-space reconstruction needs")
        }
        // Channels that are off (strength 0) are not part of the trajectory.
        let active = drive.activeChannels
        let driveAxes = defaults.activeDrive.count == active.count ? defaults.activeDrive.map(\.axis) : active
        let channels = zip(active, driveAxes).map { d, axis in
            DriveChannel(axis: axis, amplitude: drive.strength[0, d, 0], divider: Int(drive.divider[d, 0]), phase: drive.phase[0, d, 0])
        }
        let receive = defaults.receive.count == receiver.numChannels
            ? defaults.receive : (0..<receiver.numChannels).map { ReceiveChannel(axis: min($0, 2)) }
        self.init(name: mdf.scanner.name, gradient: (0..<3).map { gradient[0, 0, $0, $0] },
                  baseFrequency: drive.baseFrequency, drive: channels, samplingRate: 2 * receiver.bandwidth,
                  samplesPerPeriod: receiver.numSamplingPoints, receive: receive,
                  particle: defaults.particle, imageSize: defaults.imageSize, sliceThickness: defaults.sliceThickness)
        try validate()
    }
}
