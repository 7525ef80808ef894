import Foundation

/// Physical constants (CODATA 2018).
public enum Physical {
    public static let mu0 = 4e-7 * Double.pi          // N/A^2 (to the precision MPI needs)
    public static let boltzmann = 1.380649e-23        // J/K
    /// Magnetite: density and iron mass fraction, molar mass of iron.
    public static let magnetiteDensity = 5170.0       // kg/m^3
    public static let magnetiteIronFraction = 0.7236  // 3 Fe / Fe3O4 by mass
    public static let ironMolarMass = 55.845e-3       // kg/mol
}

/// A single-domain magnetite particle population in the Langevin model.
public struct Particle: Sendable, Codable, Equatable {
    /// Core diameter, metres.
    public var coreDiameter: Double
    /// Saturation magnetisation, A/m. The papers print 4.77e-5 A/m, a typo for 4.77e5 A/m
    /// (0.6 T / mu0), the value of magnetite; Magpie uses the physical value.
    public var saturationMagnetization: Double
    /// Kelvin.
    public var temperature: Double

    public init(coreDiameter: Double, saturationMagnetization: Double = 0.6 / Physical.mu0, temperature: Double = 300) {
        self.coreDiameter = coreDiameter
        self.saturationMagnetization = saturationMagnetization
        self.temperature = temperature
    }

    public var coreVolume: Double { Double.pi * pow(coreDiameter, 3) / 6 }
    /// m = Ms pi d^3 / 6, A m^2.
    public var magneticMoment: Double { saturationMagnetization * coreVolume }
    /// beta = m / (kB T) in 1/T, so that the Langevin argument is beta |B| with B = mu0 H in tesla.
    public var beta: Double { magneticMoment / (Physical.boltzmann * temperature) }
    /// Moles of iron in one magnetite core, to turn a tracer concentration (mol Fe / L) into particles.
    public var ironMolesPerParticle: Double {
        coreVolume * Physical.magnetiteDensity * Physical.magnetiteIronFraction / Physical.ironMolarMass
    }
}

/// One sinusoidal drive-field channel along a coordinate axis: B(t) = amplitude * sin(2 pi f t + phase).
public struct DriveChannel: Sendable, Codable, Equatable {
    /// 0 = x, 1 = y, 2 = z.
    public var axis: Int
    /// Tesla (mu0 H; the MDF strength in T/mu0 has the same number).
    public var amplitude: Double
    /// Drive frequency = base frequency / divider.
    public var divider: Int
    /// Radians.
    public var phase: Double

    public init(axis: Int, amplitude: Double, divider: Int, phase: Double = 0) {
        self.axis = axis
        self.amplitude = amplitude
        self.divider = divider
        self.phase = phase
    }
}

/// A receive coil along a coordinate axis with sensitivity in T/A (field per unit current, by
/// reciprocity the flux per unit magnetic moment).
public struct ReceiveChannel: Sendable, Codable, Equatable {
    public var axis: Int
    public var sensitivity: Double

    public init(axis: Int, sensitivity: Double = 1e-3) {
        self.axis = axis
        self.sensitivity = sensitivity
    }
}

/// An FFP scanner: selection field, drive field, receive chain, default tracer and image grid.
public struct MPIScanner: Sendable, Codable, Equatable {
    public var name: String
    /// Selection-field gradient per axis (x, y, z), T/m; B_S(r) = gradient * r component-wise.
    public var gradient: [Double]
    public var baseFrequency: Double
    public var drive: [DriveChannel]
    /// Samples per second (the MDF bandwidth is half of it).
    public var samplingRate: Double
    /// V: samples of one drive-field cycle.
    public var samplesPerPeriod: Int
    public var receive: [ReceiveChannel]
    public var particle: Particle
    /// Pixels per axis of the phantom and image grid over the field of view (1 along undriven axes).
    public var imageSize: [Int]
    /// Thickness along undriven axes, metres.
    public var sliceThickness: Double
    /// An ideal band-stop at each drive frequency in the receive chain (drive feed-through removal).
    public var receiveFilter: Bool

    public init(name: String, gradient: [Double], baseFrequency: Double, drive: [DriveChannel], samplingRate: Double,
                samplesPerPeriod: Int, receive: [ReceiveChannel], particle: Particle, imageSize: [Int],
                sliceThickness: Double = 1e-3, receiveFilter: Bool = false) {
        self.name = name
        self.gradient = gradient
        self.baseFrequency = baseFrequency
        self.drive = drive
        self.samplingRate = samplingRate
        self.samplesPerPeriod = samplesPerPeriod
        self.receive = receive
        self.particle = particle
        self.imageSize = imageSize
        self.sliceThickness = sliceThickness
        self.receiveFilter = receiveFilter
    }

    public var topology: String { "FFP" }
    /// The drive channels that are on: a channel of amplitude 0 is off (a 2D sequence on a 3-channel
    /// scanner stores its third channel so), is written to files and streams, and drives nothing.
    public var activeDrive: [DriveChannel] { drive.filter { $0.amplitude > 0 } }
    /// Seconds of one drive-field cycle.
    public var period: Double { Double(samplesPerPeriod) / samplingRate }
    public func frequency(_ channel: DriveChannel) -> Double { baseFrequency / Double(channel.divider) }

    /// Field of view per axis, metres: 2 A / |G| along driven axes, the slice thickness elsewhere.
    public var fieldOfView: [Double] {
        (0..<3).map { axis in
            activeDrive.first { $0.axis == axis }.map { 2 * $0.amplitude / abs(gradient[axis]) } ?? sliceThickness
        }
    }

    /// Pixel centres of the image grid, x fastest (MDF order "xyz"), P x 3 metres, centred on 0.
    public func pixelCenters() -> NDArray<Double> { gridPositions(imageSize, fieldOfView) }

    public var voxelVolume: Double {
        let fov = fieldOfView
        return (0..<3).reduce(1.0) { $0 * fov[$1] / Double(imageSize[$1]) }
    }

    /// Drive field (tesla) and its time derivative (T/s) per axis at time t.
    public func driveField(at t: Double) -> (field: [Double], rate: [Double]) {
        var field = [0.0, 0, 0], rate = [0.0, 0, 0]
        for channel in drive {
            let omega = 2 * Double.pi * frequency(channel)
            field[channel.axis] += channel.amplitude * sin(omega * t + channel.phase)
            rate[channel.axis] += channel.amplitude * omega * cos(omega * t + channel.phase)
        }
        return (field, rate)
    }

    /// The field-free point x_s(t) = -B_D(t) / G and its velocity, along driven axes (0 elsewhere).
    public func fieldFreePoint(at t: Double) -> (position: [Double], velocity: [Double]) {
        let (field, rate) = driveField(at: t)
        let driven = Set(activeDrive.map(\.axis))
        return ((0..<3).map { driven.contains($0) ? -field[$0] / gradient[$0] : 0 },
                (0..<3).map { driven.contains($0) ? -rate[$0] / gradient[$0] : 0 })
    }

    /// Time of sample v.
    public func time(ofSample v: Int) -> Double { Double(v) / samplingRate }

    /// Checks that the description is physically and numerically consistent.
    public func validate() throws {
        func fail(_ message: String) -> ScannerError { ScannerError(scanner: name, message: message) }
        guard gradient.count == 3, gradient.allSatisfy({ $0.isFinite }) else { throw fail("gradient needs three finite values (T/m)") }
        guard !activeDrive.isEmpty else { throw fail("no drive-field channel that is on (amplitude above 0)") }
        for channel in drive {
            guard (0..<3).contains(channel.axis) else { throw fail("drive axis \(channel.axis) is not 0, 1 or 2") }
            guard channel.divider > 0, channel.amplitude >= 0, channel.amplitude.isFinite else {
                throw fail("drive channels need a positive divider and an amplitude of 0 (off) or more")
            }
            guard channel.amplitude == 0 || gradient[channel.axis] != 0 else { throw fail("drive along axis \(channel.axis) where the gradient is 0: no field-free point") }
        }
        guard samplingRate > 0, samplesPerPeriod > 0 else { throw fail("sampling rate and samples per period must be positive") }
        // The cycle is that of the channels that are on (MDF's reading: an off channel's divider is a placeholder).
        guard let lcm = leastCommonMultiple(activeDrive.map(\.divider)) else { throw fail("the least common multiple of the dividers overflows") }
        let cycle = Double(lcm) / baseFrequency
        guard abs(cycle - period) <= 1e-9 * period else {
            throw fail("lcm(dividers) / base frequency = \(cycle) s but \(samplesPerPeriod) samples at \(samplingRate) S/s last \(period) s")
        }
        guard !receive.isEmpty, receive.allSatisfy({ (0..<3).contains($0.axis) }) else { throw fail("receive channels need axes 0, 1 or 2") }
        guard imageSize.count == 3, imageSize.allSatisfy({ $0 >= 1 }) else { throw fail("image size needs three positive extents") }
        guard particle.coreDiameter > 0, particle.temperature > 0, particle.saturationMagnetization > 0 else {
            throw fail("particle diameter, temperature and saturation magnetisation must be positive")
        }
    }
}

public struct ScannerError: Error, CustomStringConvertible, Sendable {
    public let scanner: String
    public let message: String

    public init(scanner: String, message: String) {
        self.scanner = scanner
        self.message = message
    }

    public var description: String { "scanner \(scanner): \(message)" }
}
