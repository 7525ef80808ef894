import Foundation

/// The physics a learned model's input depends on, as a model's manifest entry states it
/// (`fingerprint`) and as a scan's scanner gives it, so a stage can refuse a model trained for
/// another scanner by what differs rather than by a name. Two aspects:
/// - `signals` (the signal denoiser, which sees receive-coil periods): every active drive
///   channel's axis, amplitude, frequency and phase, the signed gradient along the driven axes,
///   the sampling rate and samples per period, the receive coils' axes, the particle.
/// - `images` (deblurrers and score priors, which see x-space images or SM grids): the gradient's
///   magnitude and the field of view along the driven axes (their ratio sets the PSF in pixels),
///   the image grid, the particle. Image polarity, drive frequencies and phases leave these alone.
/// SI units as `MPIScanner`. Models made from `models/manifest.py` compute the same from a
/// dataset's recorded scanner (`CommittedModelTests` holds the two to each other).
public struct ScannerFingerprint: Codable, Equatable, Sendable {
    public enum Aspect: String, Codable, Sendable { case signals, images }

    public var aspect: Aspect
    public var driveAxes: [Int]
    /// T/m along `driveAxes`: signed for signals, magnitudes for images.
    public var gradient: [Double]
    public var particleDiameter: Double
    public var temperature: Double
    public var saturationMagnetization: Double
    // signals
    public var driveAmplitude: [Double]?
    public var driveFrequency: [Double]?
    public var drivePhase: [Double]?
    public var samplingRate: Double?
    public var samplesPerPeriod: Int?
    public var receiveAxes: [Int]?
    // images
    public var fieldOfView: [Double]?
    public var imageSize: [Int]?

    enum CodingKeys: String, CodingKey {
        case aspect, gradient, temperature
        case driveAxes = "drive_axes", particleDiameter = "particle_diameter", saturationMagnetization = "saturation_magnetization"
        case driveAmplitude = "drive_amplitude", driveFrequency = "drive_frequency", drivePhase = "drive_phase"
        case samplingRate = "sampling_rate", samplesPerPeriod = "samples_per_period", receiveAxes = "receive_axes"
        case fieldOfView = "field_of_view", imageSize = "image_size"
    }

    public init(_ scanner: MPIScanner, aspect: Aspect) {
        let drive = scanner.activeDrive
        self.aspect = aspect
        driveAxes = drive.map(\.axis)
        gradient = drive.map { aspect == .images ? abs(scanner.gradient[$0.axis]) : scanner.gradient[$0.axis] }
        particleDiameter = scanner.particle.coreDiameter
        temperature = scanner.particle.temperature
        saturationMagnetization = scanner.particle.saturationMagnetization
        switch aspect {
        case .signals:
            driveAmplitude = drive.map(\.amplitude)
            driveFrequency = drive.map(scanner.frequency)
            drivePhase = drive.map(\.phase)
            samplingRate = scanner.samplingRate
            samplesPerPeriod = scanner.samplesPerPeriod
            receiveAxes = scanner.receive.map(\.axis)
        case .images:
            let fov = scanner.fieldOfView
            fieldOfView = drive.map { fov[$0.axis] }
            imageSize = scanner.imageSize
        }
    }

    /// Values this close (relative; phases absolute, radians) are the same physics: files and
    /// streams carry them through float conversions.
    public static let tolerance = 1e-3

    /// What differs in `scan` from `self` (the model's), one phrase each ("gradient 2, 2 T/m,
    /// the model's 1, 1 T/m"); empty when they match. Compared under `self`'s aspect.
    public func differences(_ scan: ScannerFingerprint) -> [String] {
        var found: [String] = []
        func numbers(_ name: String, _ a: [Double]?, _ b: [Double]?, unit: String, scale: Double = 1, absolute: Bool = false) {
            guard let a, let b else { if (a == nil) != (b == nil) { found.append("\(name) not stated") }; return }
            let same = a.count == b.count && zip(a, b).allSatisfy { x, y in
                abs(x - y) <= Self.tolerance * (absolute ? 1 : max(abs(x), abs(y)))
            }
            if !same { found.append("\(name) \(Self.list(b, scale)) \(unit), the model's \(Self.list(a, scale)) \(unit)") }
        }
        func integers(_ name: String, _ a: [Int]?, _ b: [Int]?, separator: String = ", ") {
            func text(_ v: [Int]?) -> String { v.map { $0.map(String.init).joined(separator: separator) } ?? "not stated" }
            if a != b { found.append("\(name) \(text(b)), the model's \(text(a))") }
        }
        integers("drive axes", driveAxes, scan.driveAxes)
        // Per-channel values of other channels are no comparison: the axes say it.
        let sameChannels = driveAxes == scan.driveAxes
        if sameChannels { numbers("gradient", gradient, scan.gradient, unit: "T/m") }
        numbers("particle core diameter", [particleDiameter], [scan.particleDiameter], unit: "nm", scale: 1e9)
        numbers("particle temperature", [temperature], [scan.temperature], unit: "K")
        numbers("particle saturation magnetisation", [saturationMagnetization], [scan.saturationMagnetization], unit: "A/m")
        switch aspect {
        case .signals:
            if sameChannels {
                numbers("drive amplitude", driveAmplitude, scan.driveAmplitude, unit: "mT", scale: 1e3)
                numbers("drive frequency", driveFrequency, scan.driveFrequency, unit: "kHz", scale: 1e-3)
                numbers("drive phase", drivePhase, scan.drivePhase, unit: "rad", absolute: true)
            }
            numbers("sampling rate", samplingRate.map { [$0] }, scan.samplingRate.map { [$0] }, unit: "MHz", scale: 1e-6)
            integers("samples per period", samplesPerPeriod.map { [$0] }, scan.samplesPerPeriod.map { [$0] })
            integers("receive axes", receiveAxes, scan.receiveAxes)
        case .images:
            if sameChannels { numbers("field of view", fieldOfView, scan.fieldOfView, unit: "mm", scale: 1e3) }
            integers("image grid", imageSize, scan.imageSize, separator: " x ")
        }
        return found
    }

    private static func list(_ values: [Double], _ scale: Double) -> String {
        values.map { String(format: "%.4g", $0 * scale) }.joined(separator: ", ")
    }
}
