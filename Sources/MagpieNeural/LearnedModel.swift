import Foundation
import MagpieCore

/// A model from the manifest, verified before use: its file exists and has the recorded sha256,
/// LibTorch loads it, and every input is checked against the manifest's input spec.
public final class LearnedModel {
    public let entry: ModelManifest.Entry
    public let file: String
    public let module: TorchModule

    /// `name` from the manifest at `manifestPath`; `kind` is what the caller needs (e.g. "signal-denoiser").
    public convenience init(named name: String, manifestPath: String, kind: String) throws {
        let manifest = try ModelManifest.load(manifestPath)
        try self.init(entry: manifest.entry(named: name, manifestPath: manifestPath), manifestPath: manifestPath, kind: kind)
    }

    public init(entry: ModelManifest.Entry, manifestPath: String, kind: String) throws {
        let file = URL(fileURLWithPath: manifestPath).deletingLastPathComponent().appendingPathComponent(entry.file).path
        guard entry.kind == kind else {
            throw NeuralError.manifest(path: manifestPath, reason: "model \(entry.name) is a \(entry.kind), not a \(kind)")
        }
        guard FileManager.default.fileExists(atPath: file) else {
            throw NeuralError.modelFile(path: file, reason: "missing (manifest entry \(entry.name))")
        }
        let digest = try ModelManifest.sha256(ofFile: file)
        guard digest == entry.sha256 else {
            throw NeuralError.modelFile(path: file, reason: "sha256 \(digest) differs from the manifest's \(entry.sha256) for \(entry.name): the file was changed or damaged")
        }
        self.entry = entry
        self.file = file
        module = try TorchModule(path: file)
    }

    public var name: String { entry.name }

    /// forward(input) after checking `input` against the manifest's input spec.
    public func run(_ input: NDArray<Float>) throws -> NDArray<Float> {
        if let reason = entry.input.mismatch(input.shape) { throw NeuralError.shape(model: name, reason: reason) }
        return try module.run(input)
    }

    /// The stored input and the exporter's output (nil when the entry has none).
    public func checkData(manifestPath: String) throws -> (input: NDArray<Float>, output: NDArray<Float>)? {
        guard let check = entry.check else { return nil }
        let folder = URL(fileURLWithPath: manifestPath).deletingLastPathComponent()
        func read(_ name: String) throws -> NDArray<Float> {
            let path = folder.appendingPathComponent(name).path
            guard let data = FileManager.default.contents(atPath: path) else { throw NeuralError.modelFile(path: path, reason: "cannot be read") }
            let count = NDArray<Float>.count(of: check.shape)
            guard data.count == count * 4 else {
                throw NeuralError.modelFile(path: path, reason: "\(data.count) bytes, shape \(check.shape) needs \(count * 4)")
            }
            let values = data.withUnsafeBytes { raw in (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) } }
            return NDArray(shape: check.shape, storage: values)
        }
        return (try read(check.input), try read(check.output))
    }
}
