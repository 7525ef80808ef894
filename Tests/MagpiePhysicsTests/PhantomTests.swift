import Foundation
import MagpieCore
import MagpiePhysics
import Testing

@Suite struct PhantomTests {
    let generator = PhantomGenerator(size: (64, 64), fieldOfView: (20, 20))

    @Test(arguments: PhantomKind.allCases)
    func everyKindIsSeededAndInRange(kind: PhantomKind) throws {
        let a = try generator.render(kind, seed: 7)
        let b = try generator.render(kind, seed: 7)
        #expect(a == b)
        #expect(a.shape == [64, 64])
        #expect(a.storage.allSatisfy { $0 >= 0 && $0 <= 1 })
        let filled = a.storage.filter { $0 > 0 }.count
        #expect(filled > 20 && filled < 64 * 64 / 2, "\(kind): \(filled) pixels filled")
        if let directory = ProcessInfo.processInfo.environment["MAGPIE_PHANTOM_PNG"] {
            try PNG.write(a.storage, width: 64, height: 64, to: "\(directory)/\(kind.rawValue).png", low: 0, high: 1)
        }
        if kind != .resolution && kind != .concentration {
            #expect(try generator.render(kind, seed: 8) != a, "\(kind) ignores its seed")
        }
    }

    /// Two tubes of 1.2 mm with a 2.2 mm gap on a 20 mm FOV: the profile across them has two
    /// plateaus whose edges are where the geometry says.
    @Test func resolutionTubesSitWhereTheGapSays() throws {
        let fine = PhantomGenerator(size: (200, 200), fieldOfView: (20, 20))   // 0.1 mm pixels
        let image = try fine.render(.resolution, seed: 1, options: PhantomOptions(gap: 2.2, tubeDiameter: 1.2))
        let row = (0..<200).map { image[100, $0] }
        let filled = row.enumerated().filter { $0.element > 0.5 }.map { Double($0.offset) * 0.1 - 10 + 0.05 }
        #expect(abs(filled.min()! - (-(1.1 + 1.2))) < 0.1)
        #expect(abs(filled.max()! - (1.1 + 1.2)) < 0.1)
        #expect(!filled.contains { abs($0) < 1.0 }, "the gap is empty")
        #expect(throws: PhantomError.self) { try fine.render(.resolution, seed: 1, options: PhantomOptions(gap: 30)) }
    }

    @Test func concentrationCubesDiluteByOnePointFive() throws {
        let image = try PhantomGenerator(size: (120, 120), fieldOfView: (24, 24)).render(.concentration, seed: 0)
        let levels = Set(image.storage.filter { $0 > 0 }.map { ($0 * 1e6).rounded() / 1e6 })
        let expected = Set((0..<8).map { (pow(1.5, -Double($0)) * 1e6).rounded() / 1e6 })
        #expect(expected.isSubset(of: levels))
    }
}
