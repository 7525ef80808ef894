import Foundation
import MagpieCore
import MagpieNeural
import Testing

/// The repository's models/manifest.json.
let committedManifest = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../models/manifest.json").standardizedFileURL.path

@Suite struct CommittedModelTests {
    /// As exported (as the plan loads them) and frozen and optimised by LibTorch (`magpie bench
    /// models` compares the two): both reproduce the exporter's output.
    @Test(arguments: [false, true]) func everyCommittedModelReproducesItsExporterOutput(optimized: Bool) throws {
        let manifest = try ModelManifest.load(committedManifest)
        #expect(!manifest.models.isEmpty)
        for entry in manifest.models {
            let model = try LearnedModel(entry: entry, manifestPath: committedManifest, kind: entry.kind, optimized: optimized)
            if optimized { #expect(throws: Never.self, "\(entry.name) is not optimised") { try model.optimization.get() } }
            let check = try #require(try model.checkData(), "\(entry.name) has no check data")
            let output = try model.run(check.input)
            #expect(output.shape == check.output.shape)
            let scale = check.output.storage.map(abs).max() ?? 1
            let worst = zip(output.storage, check.output.storage).map { abs($0 - $1) }.max() ?? 0
            #expect(Double(worst / scale) <= entry.check!.tolerance, "\(entry.name): worst relative deviation \(worst / scale)")
        }
    }

    @Test func theDenoiserIsBatchIndependentAndKeepsShapes() throws {
        let manifest = try ModelManifest.load(committedManifest)
        let entry = try #require(manifest.models.first { $0.kind == SignalDenoiser.kind })
        let denoiser = try SignalDenoiser(model: LearnedModel(entry: entry, manifestPath: committedManifest, kind: SignalDenoiser.kind), batch: 3)
        let check = try #require(try denoiser.model.checkData())
        let periods = check.input.reshaped([check.input.shape[0], denoiser.samples])
        let batched = try denoiser.denoise(periods)
        denoiser.batch = 1
        let single = try denoiser.denoise(periods)
        #expect(batched.shape == periods.shape)
        let worst = zip(batched.storage, single.storage).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-5 * (single.storage.map(abs).max() ?? 1))
    }

    /// Every model a stage runs on a scan states its scanner's physics, and the exporter's
    /// fingerprint (models/manifest.py) is the one Swift computes from the preset it names (on the
    /// grid it states: a score prior's is its SM's, not the preset's image grid).
    @Test func everyStageModelStatesTheFingerprintOfItsPreset() throws {
        let stageKinds = [SignalDenoiser.kind, ImageDeblurrer.kind, ScoreSampler.kind]
        for entry in try ModelManifest.load(committedManifest).models where stageKinds.contains(entry.kind) {
            let stated = try #require(entry.fingerprint, "\(entry.name) states no fingerprint")
            #expect(stated.aspect == (entry.kind == SignalDenoiser.kind ? .signals : .images), "\(entry.name)")
            guard let preset = ScannerPreset(rawValue: entry.scanner) else { continue }
            var scanner = preset.scanner
            if let grid = stated.imageSize { scanner.imageSize = grid }
            #expect(stated.differences(ScannerFingerprint(scanner, aspect: stated.aspect)).isEmpty, "\(entry.name) against \(preset.rawValue)")
            if entry.kind == ImageDeblurrer.kind, let grid = stated.imageSize {
                #expect(Array(entry.input.shape.suffix(2)) == [grid[1], grid[0]], "\(entry.name): input \(entry.input.shape), grid \(grid)")
            }
        }
    }
}
