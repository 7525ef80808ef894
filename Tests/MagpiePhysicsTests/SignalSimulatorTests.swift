import Foundation
import MagpieCore
import MagpiePhysics
import Testing

@Suite struct LangevinTests {
    @Test func limits() {
        for x in [1e-6, 1e-4, 1e-3, 5e-3] {
            // L(x) = x/3 - x^3/45 + ...
            #expect(abs(Langevin.value(x) - x / 3) <= 1.01 * x * x * x / 45)
        }
        #expect(abs(Langevin.value(50) - (1 - 1.0 / 50)) < 1e-12)
        #expect(abs(Langevin.value(1e4) - 1) < 1e-3)
        #expect(Langevin.value(-2) == -Langevin.value(2))
        #expect(abs(Langevin.derivative(0) - 1.0 / 3) < 1e-15)
        #expect(abs(Langevin.valueOverArgument(0) - 1.0 / 3) < 1e-15)
    }

    /// The series and the closed forms agree where they hand over, and L' is the derivative of L.
    @Test func continuityAndDerivative() {
        for x in [0.0099, 0.0101, 0.5, 3, 39.9, 40.1] {
            let h = 1e-5
            let numeric = (Langevin.value(x + h) - Langevin.value(x - h)) / (2 * h)
            #expect(abs(Langevin.derivative(x) - numeric) < 1e-7, "L'(\(x))")
        }
        #expect(abs(Langevin.value(0.0099) - (1 / tanh(0.0099) - 1 / 0.0099)) < 1e-9)
    }
}

@Suite struct TrajectoryTests {
    @Test func fieldFreePointAndVelocity() {
        let scanner = ScannerPreset.openmpi2d.scanner
        let amplitude = 0.012, g = -1.0
        for v in [0, 17, 400, 1000] {
            let t = scanner.time(ofSample: v)
            let (position, velocity) = scanner.fieldFreePoint(at: t)
            let omega = 2 * Double.pi * 2.5e6 / 102
            #expect(abs(position[0] - (-amplitude * sin(omega * t + Double.pi / 2) / g)) < 1e-15)
            let h = 1e-9
            let ahead = scanner.fieldFreePoint(at: t + h).position, behind = scanner.fieldFreePoint(at: t - h).position
            for axis in 0..<2 {
                #expect(abs((ahead[axis] - behind[axis]) / (2 * h) - velocity[axis]) < 1e-3 * 2 * Double.pi * 26042 * 0.012)
            }
            #expect(position[2] == 0)
        }
        // FOV = 2 A / |G|: 24 mm in x and y.
        #expect(abs(scanner.fieldOfView[0] - 0.024) < 1e-15)
    }

    @Test func everyPresetIsConsistent() throws {
        for preset in ScannerPreset.allCases {
            try preset.scanner.validate()
        }
        #expect(ScannerPreset.openmpi2d.scanner.samplesPerPeriod == 1632)
        #expect(ScannerPreset.openmpi3d.scanner.samplesPerPeriod == 53856)
        #expect(ScannerPreset.denoisePaper.scanner.samplesPerPeriod == 9900)
    }
}

@Suite struct SignalSimulatorTests {
    let scanner = ScannerPreset.openmpi1d.scanner

    /// In 1D the x-space theory is exact: u(t) / x_s'(t) = p n m beta G L'(beta G (x0 - x_s(t))).
    @Test func pointSourceFollowsTheXSpaceTheory() throws {
        let simulator = try SignalSimulator(scanner: scanner)
        let x0 = 0.003, particles = 1e9
        let u = simulator.voltages(sources: [(position: [x0, 0, 0], particles: particles)])
        let p = scanner.receive[0].sensitivity, g = scanner.gradient[0]
        let beta = scanner.particle.beta, m = scanner.particle.magneticMoment
        var checked = 0
        for v in 0..<scanner.samplesPerPeriod {
            let (position, velocity) = scanner.fieldFreePoint(at: scanner.time(ofSample: v))
            guard abs(velocity[0]) > 1 else { continue }
            let expected = p * particles * m * beta * g * Langevin.derivative(beta * g * (x0 - position[0]))
            #expect(abs(u[0, v] / velocity[0] - expected) <= 1e-9 * abs(expected) + 1e-18)
            checked += 1
        }
        #expect(checked > scanner.samplesPerPeriod / 2)
    }

    @Test func signalPeaksWhereTheFieldFreePointCrossesTheSource() throws {
        let simulator = try SignalSimulator(scanner: scanner)
        let x0 = -0.002
        let u = simulator.voltages(sources: [(position: [x0, 0, 0], particles: 1e9)])
        let peak = (0..<scanner.samplesPerPeriod).max { abs(u[0, $0]) < abs(u[0, $1]) }!
        let crossing = scanner.fieldFreePoint(at: scanner.time(ofSample: peak)).position[0]
        // Within the distance the FFP travels in one sample near its fastest.
        let step = 2 * Double.pi * scanner.frequency(scanner.drive[0]) * 0.012 / abs(scanner.gradient[0]) / scanner.samplingRate
        #expect(abs(crossing - x0) < 1.5 * step)
    }

    /// The PSF L'(beta G x) narrows as 1/G: the full width at half maximum of u / x_s' halves
    /// when the gradient doubles.
    @Test func psfWidthScalesWithOneOverGradient() throws {
        func width(gradient: Double) throws -> Double {
            var s = scanner
            s.gradient[0] = gradient
            let simulator = try SignalSimulator(scanner: s)
            let u = simulator.voltages(sources: [(position: [0, 0, 0], particles: 1e9)])
            // Sample the image u / v against the FFP position on the first half-cycle.
            var points: [(x: Double, value: Double)] = []
            for v in 0..<s.samplesPerPeriod {
                let (position, velocity) = s.fieldFreePoint(at: s.time(ofSample: v))
                if velocity[0] > 0.2 * 2 * Double.pi * s.frequency(s.drive[0]) * 0.012 / gradient {
                    points.append((position[0], u[0, v] / velocity[0]))
                }
            }
            let top = points.map { abs($0.value) }.max()!
            let above = points.filter { abs($0.value) >= top / 2 }.map(\.x)
            return above.max()! - above.min()!
        }
        let ratio = try width(gradient: -1) / width(gradient: -2)
        #expect(abs(ratio - 2) < 0.15, "FWHM ratio \(ratio)")
    }

    @Test func signalIsLinearInConcentration() throws {
        let s = ScannerPreset.openmpi2d.scanner
        let simulator = try SignalSimulator(scanner: s)
        let pixels = s.imageSize.reduce(1, *)
        var a = NDArray<Double>(repeating: 0, shape: s.imageSize), b = a
        a.storage[pixels / 2 + 10] = 0.1
        b.storage[pixels / 3] = 0.05
        b.storage[pixels / 2 + 10] = 0.02
        let ua = try simulator.voltages(concentration: a)
        let ub = try simulator.voltages(concentration: b)
        let sum = try simulator.voltages(concentration: NDArray(shape: s.imageSize, storage: zip(a.storage, b.storage).map { 2 * $0 + $1 }))
        let scale = ua.storage.map(abs).max()!
        for i in 0..<sum.count {
            #expect(abs(sum.storage[i] - (2 * ua.storage[i] + ub.storage[i])) < 1e-9 * scale)
        }
    }

    @Test func receiveFilterRemovesTheDriveFrequency() throws {
        var s = ScannerPreset.openmpi1d.scanner
        s.receiveFilter = true
        let u = try SignalSimulator(scanner: s).voltages(sources: [(position: [0.001, 0, 0], particles: 1e9)])
        let spectrum = RealFFT(length: s.samplesPerPeriod).forward(u.storage.map { Float($0) })
        let fundamental = spectrum[1].length, third = spectrum[3].length
        #expect(fundamental < 1e-5 * third)
        #expect(third > 0)
    }
}

@Suite struct SignalBasisTests {
    /// The basis (every pixel's signal, one matrix product per batch) gives what the simulator
    /// gives pixel by pixel, with and without the receive filter, to float precision.
    @Test(arguments: [false, true]) func matchesTheSimulator(receiveFilter: Bool) throws {
        var scanner = ScannerPreset.deblurPaper3T.scanner
        scanner.imageSize = [12, 12, 1]
        scanner.receiveFilter = receiveFilter
        let simulator = try SignalSimulator(scanner: scanner)
        let basis = SignalBasis(simulator: simulator)
        let generator = PhantomGenerator(scanner: scanner)
        let phantoms = try [PhantomKind.digits, .tumor].enumerated().map { try generator.render($1, seed: UInt64($0)).map { $0 * 0.1 } }
        let batch = try basis.voltages(concentrations: phantoms)
        for (phantom, signal) in zip(phantoms, batch) {
            let direct = try simulator.voltages(concentration: phantom)
            #expect(signal.shape == direct.shape)
            let error = zip(signal.storage, direct.storage).map { abs($0 - $1) }.max()!
            let scale = direct.storage.map(abs).max()!
            #expect(error <= 1e-4 * scale, "max error \(error) of \(scale)")
        }
        #expect(throws: ScannerError.self) { try basis.voltages(concentrations: [NDArray(repeating: 0, shape: [5, 5])]) }
    }
}
