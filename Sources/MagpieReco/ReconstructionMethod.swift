/// The reconstruction methods, by the one name the command line, the daemon's config, the plan
/// and every file's provenance use.
public enum ReconstructionMethod: String, Sendable, Codable, CaseIterable {
    case xspace, kaczmarz, cgnr, score

    /// Kaczmarz, CGNR and score need a system matrix; x-space needs the scanner only.
    public var usesSystemMatrix: Bool { self != .xspace }
}
