import Foundation
import MagpieCore

/// A model from the manifest, verified before use: its file exists and has the recorded sha256,
/// LibTorch loads it, and every input is checked against the manifest's input spec.
public final class LearnedModel {
    public let entry: ModelManifest.Entry
    public let file: String
    public let manifestPath: String
    /// The manifest's folder, which the entry's paths are relative to.
    public var folder: URL { URL(fileURLWithPath: manifestPath).deletingLastPathComponent() }
    public let module: TorchModule
    /// Whether LibTorch's inference optimisation took (see `init`); why not, when it did not.
    public private(set) var optimization: Result<Void, NeuralError> = .failure(.torch(model: "", message: "not asked for"))

    /// `name` from the manifest at `manifestPath`; `kind` is what the caller needs (e.g. "signal-denoiser").
    public convenience init(named name: String, manifestPath: String, kind: String, optimized: Bool = false) throws {
        let manifest = try ModelManifest.load(manifestPath)
        try self.init(entry: manifest.entry(named: name, manifestPath: manifestPath), manifestPath: manifestPath, kind: kind, optimized: optimized)
    }

    /// `optimized`: freeze the module and apply LibTorch's inference passes (forward only); where
    /// LibTorch cannot, the model runs as loaded. Off by default: measured on the committed models
    /// it saves at most 12 % and makes the MSA-transformer 1.3 x slower (docs/BENCHMARKS.md,
    /// `magpie bench models`), so the plan runs models as exported.
    public init(entry: ModelManifest.Entry, manifestPath: String, kind: String, optimized: Bool = false) throws {
        let folder = URL(fileURLWithPath: manifestPath).deletingLastPathComponent()
        let file = folder.appendingPathComponent(entry.file).path
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
        self.manifestPath = manifestPath
        module = try TorchModule(path: file)
        if optimized {
            do {
                try module.optimizeForInference()
                optimization = .success(())
            } catch let error as NeuralError {
                optimization = .failure(error)
            }
        }
    }

    public var name: String { entry.name }

    /// nil when the model was trained for `scanner`'s physics (its entry's `fingerprint`), else why not.
    public func scannerMismatch(_ scanner: MPIScanner) -> String? {
        guard let trained = entry.fingerprint else {
            return "its manifest entry states no scanner fingerprint (trained for \(entry.scanner)), so it cannot be matched to a scan"
        }
        let differences = trained.differences(ScannerFingerprint(scanner, aspect: trained.aspect))
        return differences.isEmpty ? nil : "trained for \(entry.scanner); this scan's \(differences.joined(separator: "; "))"
    }

    /// The stored input and the exporter's output (nil when the entry has none).
    public func checkData() throws -> (input: NDArray<Float>, output: NDArray<Float>)? {
        try entry.check.map { try $0.read(in: folder) }
    }

    /// forward(input) after checking `input` against the manifest's input spec; the output buffer
    /// is sized by the output spec (a model that gives more is refused by TorchBridge).
    public func run(_ input: NDArray<Float>) throws -> NDArray<Float> {
        if let reason = entry.input.mismatch(input.shape) { throw NeuralError.shape(model: name, reason: reason) }
        let output = entry.output.shape, capacity = output.count == input.rank
            ? NDArray<Float>.count(of: zip(output, input.shape).map { $0 < 0 ? $1 : $0 }) : nil
        return try module.run(input, capacity: capacity)
    }
}
