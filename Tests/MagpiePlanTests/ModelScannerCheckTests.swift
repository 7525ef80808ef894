import Foundation
import MagpieCore
import MagpieMDF
import MagpieNeural
import MagpiePlan
import Testing

/// Learned stages against the scan's scanner: a model trained for other physics is refused at the
/// scan's start with what differs, and run only when the stage allows it, the file then recording why.
@Suite struct ModelScannerCheckTests {
    static let manifest = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../models/manifest.json").standardizedFileURL.path

    static func run(_ steps: [any PlanStep], recorded: MPIScanner? = nil) throws -> PlanRunner {
        let file = MDFFile.simulatedMeasurement(.openmpi2d, phantom: .shapes, foreground: 2, background: 2, seed: 4)
        let runner = try PlanRunner(try ReconstructionPlan(steps: steps), context: PlanContext(manifest: manifest))
        _ = try runner.reconstruct(file, path: "scan.mdf", recordedScanner: recorded)
        return runner
    }

    @Test func theDenoiserForTheScansScannerRunsAndOneForAnotherParticleIsRefusedUnlessAllowed() throws {
        let matched = try Self.run([BackgroundStep(mode: .interpolated), DenoiseStep(), XSpaceStep()])
        #expect(matched.provenance["denoiseScannerMismatch"] == nil)

        var other = ScannerPreset.openmpi2d.scanner
        other.particle.coreDiameter = 30e-9
        let error = #expect(throws: PlanError.self) { try Self.run([BackgroundStep(mode: .interpolated), DenoiseStep(), XSpaceStep()], recorded: other) }
        let message = error.map { "\($0)" } ?? ""
        #expect(message.contains("signal-denoiser-openmpi2d does not fit scan.mdf"), "\(message)")
        #expect(message.contains("particle core diameter 30 nm, the model's 25 nm") && message.contains("allow_other_scanner = true"), "\(message)")

        let allowed = try Self.run([BackgroundStep(mode: .interpolated), DenoiseStep(allowOtherScanner: true), XSpaceStep()], recorded: other)
        guard case let .text(recorded)? = allowed.provenance["denoiseScannerMismatch"] else { Issue.record("no mismatch recorded"); return }
        #expect(recorded.contains("trained for openmpi-2d") && recorded.contains("particle core diameter 30 nm"))
    }

    /// A manifest's fingerprint is input too: huge, ragged, NaN or absent values are a mismatch
    /// named in words, never a crash or a match.
    @Test func hostileFingerprintsAreMismatchesNamedInWords() throws {
        let manifest = try ModelManifest.load(Self.manifest)
        var entry = try manifest.entry(named: "msa-deblur-openmpi2d", manifestPath: Self.manifest)
        let scanner = ScannerPreset.openmpi2d.scanner
        #expect(try LearnedModel(entry: entry, manifestPath: Self.manifest, kind: entry.kind).scannerMismatch(scanner) == nil)

        entry.fingerprint!.gradient = [1e308, -1e308, .nan]
        entry.fingerprint!.fieldOfView = [.infinity]
        entry.fingerprint!.imageSize = [Int.max, -5]
        entry.fingerprint!.particleDiameter = .nan
        let hostile = try LearnedModel(entry: entry, manifestPath: Self.manifest, kind: entry.kind).scannerMismatch(scanner) ?? ""
        for words in ["gradient 1, 1 T/m, the model's 1e+308, -1e+308, nan T/m", "field of view 24, 24 mm, the model's inf mm",
                      "image grid 64 x 64 x 1, the model's 9223372036854775807 x -5", "particle core diameter 25 nm, the model's nan nm"] {
            #expect(hostile.contains(words), "\(hostile)")
        }
        entry.fingerprint = nil
        let absent = try LearnedModel(entry: entry, manifestPath: Self.manifest, kind: entry.kind).scannerMismatch(scanner) ?? ""
        #expect(absent.contains("states no scanner fingerprint"))
    }

    @Test func aDeblurrerForAnotherScannerIsRefusedUnlessAllowed() throws {
        let steps: (Bool?) -> [any PlanStep] = { [BackgroundStep(mode: .interpolated), XSpaceStep(), DeblurStep(method: .msa, model: "msa-deblur", allowOtherScanner: $0)] }
        let error = #expect(throws: PlanError.self) { try Self.run(steps(nil)) }
        let message = error.map { "\($0)" } ?? ""
        #expect(message.contains("[stage.deblur] model msa-deblur does not fit") && message.contains("gradient 1, 1 T/m, the model's 3, 3 T/m"), "\(message)")
        #expect(message.contains("image grid 64 x 64 x 1, the model's 120 x 120 x 1"), "\(message)")

        let allowed = try Self.run(steps(true))
        guard case let .text(recorded)? = allowed.provenance["deblurScannerMismatch"] else { Issue.record("no mismatch recorded"); return }
        #expect(recorded.hasPrefix("trained for deblur-paper-3T; this scan's gradient 1, 1 T/m"))
        // The classical methods use the scan's own PSF: the key does not apply to them.
        #expect(throws: PlanError.self) { try ReconstructionPlan(steps: [XSpaceStep(), DeblurStep(method: .rl, allowOtherScanner: true)]) }
    }
}
