import Foundation

/// The sign that makes x-space images of a receive chain positive where the particles are.
///
/// Magpie's convention (docs/PHYSICS.md): a coil records u = -p d/dt (moment), the sign Faraday's
/// law gives, and x-space assumes it. A chain wired or amplified the other way (and some
/// simulators) records -u, which x-space turns into a negative image. `auto` decides from the data:
/// a particle density is non-negative, so the image's dominant mass must lie above its background.
public enum Polarity: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    case auto
    case positive = "+1"
    case negative = "-1"

    /// How the plan, the config and the command line name it; TOML integers +1 and -1 are taken too.
    public init?(name: String) {
        switch name.trimmingCharacters(in: .whitespaces) {
        case "auto": self = .auto
        case "+1", "1": self = .positive
        case "-1": self = .negative
        default: return nil
        }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let whole = try? container.decode(Int.self), let polarity = Polarity(name: String(whole)) {
            self = polarity
            return
        }
        let text = try container.decode(String.self)
        guard let polarity = Polarity(name: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "polarity \"\(text)\" is not auto, +1 or -1")
        }
        self = polarity
    }

    public var description: String { rawValue }

    /// The factor a fixed polarity applies; nil for `auto`.
    public var sign: Double? {
        switch self {
        case .auto: return nil
        case .positive: return 1
        case .negative: return -1
        }
    }

    /// +1 or -1: the sign that puts the image's dominant mass above its median (its background
    /// when the particles cover under half of the field of view). Compared about the median, not
    /// zero, because a receive filter takes a near-constant offset out of the raw image.
    public static func dominantSign(of image: [Double]) -> Double {
        guard !image.isEmpty else { return 1 }
        let sorted = image.sorted()
        let median = sorted[sorted.count / 2]
        var above = 0.0, below = 0.0
        for value in image {
            if value > median { above += value - median } else { below += median - value }
        }
        return below > above ? -1 : 1
    }
}
