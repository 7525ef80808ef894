/// What can go wrong with a learned model, each naming the file or model concerned.
public enum NeuralError: Error, CustomStringConvertible, Equatable {
    /// The manifest is missing, unreadable or inconsistent.
    case manifest(path: String, reason: String)
    /// A model file is missing, does not match its manifest entry, or LibTorch cannot load it.
    case modelFile(path: String, reason: String)
    /// An input that does not fit the model's input spec.
    case shape(model: String, reason: String)
    /// LibTorch failed while running or training a loaded model.
    case torch(model: String, message: String)
    /// A sampling or inference setting out of its range.
    case parameter(String)

    public var description: String {
        switch self {
        case .manifest(let path, let reason): "model manifest \(path): \(reason)"
        case .modelFile(let path, let reason): "model file \(path): \(reason)"
        case .shape(let model, let reason): "model \(model): \(reason)"
        case .torch(let model, let message): "model \(model): LibTorch: \(message)"
        case .parameter(let reason): reason
        }
    }
}
