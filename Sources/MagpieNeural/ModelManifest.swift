import Crypto
import MagpieCore
import Foundation

/// `models/manifest.json`: every committed model with what is needed to trust it: its file's
/// sha256, the tensor it takes and gives, how it was trained, what it measured on its test split,
/// and a stored input with the output the exporter recorded.
public struct ModelManifest: Codable, Equatable, Sendable {
    public var format: Int
    public var models: [Entry]

    public init(format: Int = ModelManifest.currentFormat, models: [Entry] = []) {
        self.format = format
        self.models = models
    }

    public struct Entry: Codable, Equatable, Sendable {
        public var name: String
        /// What the model does, e.g. "signal-denoiser"; stages ask for their kind.
        public var kind: String
        /// Relative to the manifest's folder.
        public var file: String
        public var sha256: String
        public var version: Int
        public var input: TensorSpec
        public var output: TensorSpec
        /// The scanner preset or lab scanner the model was trained for, by name.
        public var scanner: String
        /// That scanner's physics as the model's input sees it; stages compare a scan's with it.
        /// Absent for kinds no stage runs on a scan (SM upscalers train on many scanners).
        public var fingerprint: ScannerFingerprint?
        public var training: JSONValue
        public var metrics: JSONValue
        public var check: Check?
    }

    /// A Float32 tensor's shape (-1: any extent, e.g. the batch) and how values are scaled.
    public struct TensorSpec: Codable, Equatable, Sendable {
        public var shape: [Int]
        public var unit: String
        public var normalisation: String

        public init(shape: [Int], unit: String, normalisation: String) {
            self.shape = shape
            self.unit = unit
            self.normalisation = normalisation
        }

        /// nil when `shape` fits, else why not.
        public func mismatch(_ shape: [Int]) -> String? {
            guard shape.count == self.shape.count else {
                return "input of rank \(shape.count) \(shape), the model takes rank \(self.shape.count) \(described)"
            }
            for (axis, (got, want)) in zip(shape, self.shape).enumerated() where want >= 0 && got != want {
                return "input extent \(got) on axis \(axis) \(shape), the model takes \(want) \(described)"
            }
            return shape.contains { $0 < 1 } ? "input shape \(shape) has an empty axis" : nil
        }

        var described: String { "[" + shape.map { $0 < 0 ? "any" : String($0) }.joined(separator: ", ") + "]" }
    }

    /// Little-endian Float32 files (relative to the manifest's folder) of one input and the output
    /// the exporter computed from it in PyTorch.
    public struct Check: Codable, Equatable, Sendable {
        public var input: String
        public var output: String
        /// The input's shape, and the output's when `outputShape` is absent.
        public var shape: [Int]
        public var outputShape: [Int]?
        public var tolerance: Double

        enum CodingKeys: String, CodingKey {
            case input, output, shape, tolerance
            case outputShape = "output_shape"
        }

        public init(input: String, output: String, shape: [Int], outputShape: [Int]? = nil, tolerance: Double) {
            self.input = input
            self.output = output
            self.shape = shape
            self.outputShape = outputShape
            self.tolerance = tolerance
        }

        /// Writes `<stem>.check-input.f32` and `<stem>.check-output.f32` into `folder`.
        public static func write(input: NDArray<Float>, output: NDArray<Float>, stem: String, in folder: URL,
                                 tolerance: Double = 1e-5) throws -> Check {
            let check = Check(input: "\(stem).check-input.f32", output: "\(stem).check-output.f32", shape: input.shape,
                              outputShape: output.shape == input.shape ? nil : output.shape, tolerance: tolerance)
            for (name, values) in [(check.input, input.storage), (check.output, output.storage)] {
                let url = folder.appendingPathComponent(name)
                let bytes = values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { Data($0) }
                do { try bytes.write(to: url, options: .atomic) } catch {
                    throw NeuralError.modelFile(path: url.path, reason: "cannot be written (\(error.localizedDescription))")
                }
            }
            return check
        }

        /// The stored input and output, read from `folder`.
        public func read(in folder: URL) throws -> (input: NDArray<Float>, output: NDArray<Float>) {
            func values(_ name: String, _ shape: [Int]) throws -> NDArray<Float> {
                let path = folder.appendingPathComponent(name).path
                guard let data = FileManager.default.contents(atPath: path) else { throw NeuralError.modelFile(path: path, reason: "cannot be read") }
                let count = NDArray<Float>.count(of: shape)
                guard data.count == count * 4 else {
                    throw NeuralError.modelFile(path: path, reason: "\(data.count) bytes, shape \(shape) needs \(count * 4)")
                }
                let values = data.withUnsafeBytes { raw in
                    (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
                }
                return NDArray(shape: shape, storage: values)
            }
            return (try values(input, shape), try values(output, outputShape ?? shape))
        }
    }

    public static let currentFormat = 1

    /// Reads and checks a manifest (format, unique names, well-formed sha256 values).
    public static func load(_ path: String) throws -> ModelManifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NeuralError.manifest(path: path, reason: "cannot be read")
        }
        let manifest: ModelManifest
        do { manifest = try JSONDecoder().decode(ModelManifest.self, from: data) } catch {
            throw NeuralError.manifest(path: path, reason: "is not a model manifest (\(describe(error)))")
        }
        guard manifest.format == currentFormat else {
            throw NeuralError.manifest(path: path, reason: "format \(manifest.format), this Magpie reads format \(currentFormat)")
        }
        var seen = Set<String>()
        for entry in manifest.models {
            guard seen.insert(entry.name).inserted else { throw NeuralError.manifest(path: path, reason: "model \(entry.name) is listed twice") }
            guard entry.sha256.count == 64, entry.sha256.allSatisfy(\.isHexDigit) else {
                throw NeuralError.manifest(path: path, reason: "model \(entry.name) has sha256 '\(entry.sha256)', not 64 hex digits")
            }
        }
        return manifest
    }

    public func entry(named name: String, manifestPath: String) throws -> Entry {
        guard let entry = models.first(where: { $0.name == name }) else {
            throw NeuralError.manifest(path: manifestPath, reason: "no model named \(name) (listed: \(models.map(\.name).joined(separator: ", ")))")
        }
        return entry
    }

    /// Adds `entry`, replacing one of the same name, and writes the manifest (sorted keys, pretty).
    public mutating func upsert(_ entry: Entry, writingTo path: String) throws {
        models.removeAll { $0.name == entry.name }
        models.append(entry)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do { try (encoder.encode(self) + Data("\n".utf8)).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw NeuralError.manifest(path: path, reason: "cannot be written (\(error.localizedDescription))")
        }
    }

    /// Hex sha256 of a file's bytes.
    public static func sha256(ofFile path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NeuralError.modelFile(path: path, reason: "cannot be read")
        }
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            "missing key '\(key.stringValue)'\(at(context))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "\(context.debugDescription)\(at(context))"
        case DecodingError.dataCorrupted(let context):
            "not valid JSON: \(context.debugDescription)"
        default:
            "\(error)"
        }
    }

    private static func at(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return path.isEmpty ? "" : " at \(path)"
    }
}
