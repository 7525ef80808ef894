/// Why a reconstruction cannot run on the inputs it was given; the message names the mismatch.
public enum ReconstructionError: Error, CustomStringConvertible, Equatable {
    case systemMatrix(String)
    case measurement(String)
    case mismatch(String)
    case selection(String)
    case parameter(String)

    public var description: String {
        switch self {
        case let .systemMatrix(message): return "system matrix: \(message)"
        case let .measurement(message): return "measurement: \(message)"
        case let .mismatch(message): return "system matrix and measurement do not match: \(message)"
        case let .selection(message): return "frequency selection: \(message)"
        case let .parameter(message): return "solver settings: \(message)"
        }
    }
}
