/// Why the pipeline could not do something; the message names the file or setting.
public enum PipelineError: Error, CustomStringConvertible, Equatable {
    case archive(String)
    case config(String)

    public var description: String {
        switch self {
        case let .archive(message): return "archive: \(message)"
        case let .config(message): return "configuration: \(message)"
        }
    }
}
