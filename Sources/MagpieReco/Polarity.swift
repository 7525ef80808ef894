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

    /// +1 or -1: the sign that puts the image's dominant mass above its background, the mean of
    /// the field of view's border (the outer 1/16 of every axis longer than one voxel): the
    /// particles lie inside the field of view, and a blurred object may cover most of it, so the
    /// image's median is no background. Measured from the level, not from zero, because a receive
    /// filter takes a near-constant offset out of the raw image. `size` is x, y, z; x fastest.
    public static func dominantSign(of image: [Double], size: [Int]) -> Double {
        guard !image.isEmpty, size.count == 3, size.reduce(1, *) == image.count else { return 1 }
        let width = size.map { max(1, $0 / 16) }
        var border = 0.0, borderCount = 0
        for (index, value) in image.enumerated() {
            let ijk = [index % size[0], (index / size[0]) % size[1], index / (size[0] * size[1])]
            if (0..<3).contains(where: { size[$0] > 1 && (ijk[$0] < width[$0] || ijk[$0] >= size[$0] - width[$0]) }) {
                border += value
                borderCount += 1
            }
        }
        guard borderCount > 0, borderCount < image.count else { return 1 }
        let level = border / Double(borderCount)
        let mass = image.reduce(0) { $0 + ($1 - level) }   // above the level minus below it
        return mass < 0 ? -1 : 1
    }
}
