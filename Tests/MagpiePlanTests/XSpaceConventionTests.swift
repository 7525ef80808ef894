import Foundation
import MagpieCore
import MagpieMDF
import MagpiePhysics
import MagpiePlan
import MagpieReco
import Testing

/// x-space's conventions (docs/PHYSICS.md): the receive polarity, which `auto` detects, and the
/// axes and gradient signs of the scanner description, which place the phantom where it is.
@Suite struct XSpaceConventionTests {
    static func reconstruct(_ file: MDFFile, polarity: Polarity, recorded: MPIScanner? = nil) throws -> (PlanImages, PlanRunner) {
        let plan = try ReconstructionPlan(steps: [BackgroundStep(mode: .interpolated), XSpaceStep(polarity: polarity)])
        let runner = try PlanRunner(plan, context: PlanContext())
        return (try runner.reconstruct(file, path: "m.mdf", recordedScanner: recorded), runner)
    }

    @Test func anOppositeReceivePolarityGivesTheSameImageUnderAuto() throws {
        let file = MDFFile.simulatedMeasurement(.openmpi2d, phantom: .shapes, foreground: 2, background: 2, seed: 3)
        var flipped = file
        guard case let .float32(data)? = file.measurement?.data else { Issue.record("simulated data is not float32"); return }
        flipped.measurement!.data = .float32(data.map { -$0 })

        let (plain, plainRunner) = try Self.reconstruct(file, polarity: .auto)
        let (auto, autoRunner) = try Self.reconstruct(flipped, polarity: .auto)
        #expect(plainRunner.provenance["polarity"] == .integer(1))
        #expect(autoRunner.provenance["polarity"] == .integer(-1))
        #expect(autoRunner.provenance["polarityDecidedAtFrame"] == .integer(Int64(auto.frames[0])))
        let largest = plain.images.storage.map(abs).max()!
        #expect(zip(plain.images.storage, auto.images.storage).allSatisfy { abs($0 - $1) <= 1e-5 * largest })
        // Fixed -1 is the same; fixed +1 on the flipped data is the inverted image.
        let (fixed, _) = try Self.reconstruct(flipped, polarity: .negative)
        #expect(fixed.images.storage == auto.images.storage)
        let (wrong, wrongRunner) = try Self.reconstruct(flipped, polarity: .positive)
        #expect(wrongRunner.provenance["polarity"] == .integer(1) && wrongRunner.provenance["polarityDecidedAtFrame"] == nil)
        #expect(wrong.images.storage.indices.max { wrong.images.storage[$0] < wrong.images.storage[$1] }
            != plain.images.storage.indices.max { plain.images.storage[$0] < plain.images.storage[$1] })
    }

    /// An openmpi-2d scanner whose first drive channel and first coil are along y and whose x
    /// gradient has the opposite sign: a source at one off-centre pixel must image at that pixel.
    @Test func axisSwappedAndMirroredScannersImageThePhantomWhereItIs() throws {
        var scanner = ScannerPreset.openmpi2d.scanner
        scanner.drive = [DriveChannel(axis: 1, amplitude: 0.012, divider: 102, phase: .pi / 2),
                         DriveChannel(axis: 0, amplitude: 0.012, divider: 96, phase: .pi / 2)]
        scanner.receive = [ReceiveChannel(axis: 1), ReceiveChannel(axis: 0)]
        scanner.gradient = [1, -1, 2]
        let (nx, ny) = (scanner.imageSize[0], scanner.imageSize[1])
        let (px, py) = (46, 40)
        var phantom = NDArray<Double>(shape: [1, ny, nx], storage: [Double](repeating: 0, count: nx * ny))
        for dy in -1...1 { for dx in -1...1 { phantom.storage[(py + dy) * nx + px + dx] = 0.1 } }
        let scan = try MeasurementSimulator(scanner: scanner, noise: NoiseModel(snr: 40))
            .scan(concentration: phantom, foregroundFrames: 1, backgroundFrames: 2, seed: 5)
        var file = MDFFile.simulated(scanner: scanner, frames: 3, experiment: "conventions", description: "", tracerConcentration: 0.1)
        let shape = scan.frames.shape
        file.measurement = MDF.Measurement(data: .float32(scan.frames.reshaped([shape[0], 1, shape[1], shape[2]])), isBackgroundFrame: scan.isBackgroundFrame)

        func brightest(_ images: PlanImages) -> (x: Int, y: Int) {
            let image = images.images.storage
            let p = image.indices.max { image[$0] < image[$1] }!
            return (p % nx, p / nx)
        }
        let (images, runner) = try Self.reconstruct(file, polarity: .auto, recorded: scanner)
        let found = brightest(images)
        #expect(abs(found.x - px) <= 1 && abs(found.y - py) <= 1, "brightest pixel \(found), the source is at (\(px), \(py))")
        #expect(runner.provenance["polarity"] == .integer(1))
        // Read as MDF alone says (drive channel d along axis d, coil c along axis c), the source
        // lands elsewhere: the recorded description is what places it.
        let (unrecorded, _) = try Self.reconstruct(file, polarity: .auto)
        let elsewhere = brightest(unrecorded)
        #expect(abs(elsewhere.x - px) + abs(elsewhere.y - py) > 4, "brightest pixel \(elsewhere) without the recorded scanner")
    }
}
