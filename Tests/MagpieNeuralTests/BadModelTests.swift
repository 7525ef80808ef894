import Foundation
import MagpieCore
import MagpieNeural
import Testing

/// Missing, damaged and mismatched models and manifests: each a clear error naming the file.
@Suite struct BadModelTests {
    /// A folder with a copy of the committed denoiser under `file` and a manifest for it.
    func scratch(_ edit: (inout ModelManifest.Entry, String) throws -> Void) throws -> (manifest: String, entry: ModelManifest.Entry) {
        let source = try ModelManifest.load(committedManifest)
        var entry = try #require(source.models.first { $0.kind == SignalDenoiser.kind })
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-neural-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let modelFolder = URL(fileURLWithPath: committedManifest).deletingLastPathComponent()
        try FileManager.default.copyItem(at: modelFolder.appendingPathComponent(entry.file), to: folder.appendingPathComponent("model.pt"))
        entry.file = "model.pt"
        entry.check = nil
        try edit(&entry, folder.appendingPathComponent("model.pt").path)
        var manifest = ModelManifest(format: ModelManifest.currentFormat, models: [])
        let path = folder.appendingPathComponent("manifest.json").path
        try manifest.upsert(entry, writingTo: path)
        return (path, entry)
    }

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    @Test func aWrongSha256IsRefusedBeforeLoading() throws {
        let (path, _) = try scratch { entry, _ in entry.sha256 = String(repeating: "0", count: 64) }
        let text = message { _ = try LearnedModel(named: "signal-denoiser-openmpi2d", manifestPath: path, kind: SignalDenoiser.kind) }
        #expect(text.contains("model.pt"), "\(text)")
        #expect(text.contains("differs from the manifest"), "\(text)")
    }

    @Test func aCorruptFileGetsLibTorchsMessage() throws {
        let (path, _) = try scratch { entry, file in
            var data = try Data(contentsOf: URL(fileURLWithPath: file))
            data.replaceSubrange(0..<min(4096, data.count), with: Data(repeating: 0x5A, count: min(4096, data.count)))
            try data.write(to: URL(fileURLWithPath: file))
            entry.sha256 = try ModelManifest.sha256(ofFile: file)  // matching digest: only LibTorch can tell
        }
        let text = message { _ = try LearnedModel(named: "signal-denoiser-openmpi2d", manifestPath: path, kind: SignalDenoiser.kind) }
        #expect(text.contains("model.pt") && text.contains("LibTorch cannot load it"), "\(text)")
    }

    @Test func aMissingFileAndAMissingModelAreNamed() throws {
        let (path, _) = try scratch { _, file in try FileManager.default.removeItem(atPath: file) }
        let missing = message { _ = try LearnedModel(named: "signal-denoiser-openmpi2d", manifestPath: path, kind: SignalDenoiser.kind) }
        #expect(missing.contains("model.pt: missing"), "\(missing)")
        let unknown = message { _ = try LearnedModel(named: "no-such-model", manifestPath: path, kind: SignalDenoiser.kind) }
        #expect(unknown.contains("no model named no-such-model"), "\(unknown)")
        let wrongKind = message { _ = try LearnedModel(named: "signal-denoiser-openmpi2d", manifestPath: path, kind: "deblurrer") }
        #expect(wrongKind.contains("not a deblurrer"), "\(wrongKind)")
    }

    @Test func aWrongInputLengthIsRefusedWithBothLengths() throws {
        let (path, entry) = try scratch { _, _ in }
        let model = try LearnedModel(named: entry.name, manifestPath: path, kind: SignalDenoiser.kind)
        let samples = entry.input.shape[2]
        let direct = message { _ = try model.run(NDArray(repeating: 0, shape: [2, 1, samples + 1])) }
        #expect(direct.contains("input extent \(samples + 1) on axis 2"), "\(direct)")
        let rank = message { _ = try model.run(NDArray(repeating: 0, shape: [samples])) }
        #expect(rank.contains("rank 1"), "\(rank)")
        let denoiser = try SignalDenoiser(model: model)
        let periods = message { _ = try denoiser.denoise(NDArray(repeating: 0, shape: [2, 100])) }
        #expect(periods.contains("periods of 100 samples, the model takes \(samples)"), "\(periods)")
    }

    @Test func checkDataOfTheWrongSizeIsNamed() throws {
        let (path, entry) = try scratch { entry, file in
            let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
            entry.check = try ModelManifest.Check.write(input: NDArray(repeating: 1, shape: [1, 1, 8]), output: NDArray(repeating: 2, shape: [1, 1, 8]),
                                                        stem: "short", in: folder)
            try Data([1, 2, 3]).write(to: folder.appendingPathComponent("short.check-output.f32"))
        }
        let model = try LearnedModel(named: entry.name, manifestPath: path, kind: SignalDenoiser.kind)
        let text = message { _ = try model.checkData() }
        #expect(text.contains("short.check-output.f32") && text.contains("3 bytes, shape [1, 1, 8] needs 32"), "\(text)")
    }

    @Test func aModelWithoutTheMethodOrWithABadTensorGetsTorchErrors() throws {
        let (path, entry) = try scratch { _, _ in }
        let model = try LearnedModel(named: entry.name, manifestPath: path, kind: SignalDenoiser.kind)
        let text = message { _ = try model.module.run(NDArray(repeating: 0, shape: [1, 1, 8]), method: "no_such_method") }
        #expect(text.contains("no method 'no_such_method'"), "\(text)")
    }

    @Test func badManifestsAreRefusedWithTheReason() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("magpie-manifest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func load(_ text: String) -> String {
            let path = folder.appendingPathComponent("manifest.json").path
            _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
            return message { _ = try ModelManifest.load(path) }
        }
        #expect(load("{not json").contains("not valid JSON"))
        #expect(load(#"{"format": 1}"#).contains("missing key 'models'"))
        #expect(load(#"{"format": 7, "models": []}"#).contains("format 7"))
        let entry = #"{"name": "a", "kind": "k", "file": "a.pt", "sha256": "xyz", "version": 1, "scanner": "s", "training": {}, "metrics": {}, "#
            + #""input": {"shape": [1], "unit": "V", "normalisation": ""}, "output": {"shape": [1], "unit": "V", "normalisation": ""}}"#
        #expect(load(#"{"format": 1, "models": [\#(entry)]}"#).contains("not 64 hex digits"))
        #expect(message { _ = try ModelManifest.load(folder.appendingPathComponent("absent.json").path) }.contains("cannot be read"))
    }
}
