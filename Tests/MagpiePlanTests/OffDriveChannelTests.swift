import Foundation
import MagpieCore
import MagpieMDF
import MagpiePlan
import Testing

/// A 2D Lissajous scan recorded on a 3-channel scanner stores its third drive channel as off:
/// strength 0, divider 99 (OpenMPIData's 2D measurements on the 3D scanner). Such a file is valid
/// MDF (the cycle is the lcm of the active channels' dividers) and images like the 2-channel file.
@Suite struct OffDriveChannelTests {
    /// The same file with a third drive channel that is off.
    static func withOffChannel(_ file: MDFFile) -> MDFFile {
        var file = file
        let drive = file.acquisition.driveField
        file.acquisition.driveField = MDF.DriveField(
            baseFrequency: drive.baseFrequency, cycle: drive.cycle,
            divider: NDArray(shape: [3, 1], storage: drive.divider.storage + [99]), numChannels: 3,
            phase: NDArray(shape: [1, 3, 1], storage: drive.phase.storage + [0]),
            strength: NDArray(shape: [1, 3, 1], storage: drive.strength.storage + [0]),
            waveform: NDArray(shape: [3, 1], storage: drive.waveform.storage + ["sine"]))
        return file
    }

    @Test func isValidMDFAndImagesLikeTheTwoChannelFile() throws {
        let plain = MDFFile.simulatedMeasurement(.openmpi2d, phantom: .shapes, foreground: 2, background: 2, seed: 2)
        let off = Self.withOffChannel(plain)
        #expect(off.acquisition.driveField.activeChannels == [0, 1])
        #expect(abs(off.acquisition.driveField.cycle - 652.8e-6) < 1e-12)
        let path = NSTemporaryDirectory() + "magpie-off-\(UUID().uuidString).mdf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try MDFWriter.write(off, to: path)
        #expect(try MDFValidator.validate(path).isEmpty)
        // The lcm of all three dividers (102, 96, 99) would make 21.5 ms: still a deviation.
        var wrong = off
        wrong.acquisition.driveField.cycle = 53_856 / 2.5e6
        do {
            try MDFWriter.write(wrong, to: path + "-wrong")
            Issue.record("a cycle over all three dividers was accepted")
        } catch {
            #expect("\(error)".contains("lcm(divider of the active channels)"), "\(error)")
        }

        let scanner = try MPIScanner(mdf: off, defaults: ScannerPreset.openmpi2d.scanner)
        #expect(scanner.drive.map(\.axis) == [0, 1])
        let plan = try ReconstructionPlan(steps: [BackgroundStep(mode: .interpolated), XSpaceStep()])
        let a = try PlanRunner(plan, context: PlanContext()).reconstruct(plain, path: "plain.mdf", recordedScanner: nil)
        let b = try PlanRunner(plan, context: PlanContext()).reconstruct(off, path: "off.mdf", recordedScanner: nil)
        #expect(a.geometry.size == [64, 64, 1] && b.geometry.size == [64, 64, 1])
        #expect(a.images.storage == b.images.storage)
    }
}
