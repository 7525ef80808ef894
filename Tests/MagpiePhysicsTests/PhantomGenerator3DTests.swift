import Foundation
import MagpieCore
import MagpiePhysics
import Testing

@Suite struct PhantomGenerator3DTests {
    /// The openmpi-3d field of view (24 x 24 x 12 mm) on a 16 x 16 x 8 grid of 1.5 mm voxels.
    let generator = PhantomGenerator3D(size: [16, 16, 8], fieldOfView: [24, 24, 12])

    @Test(arguments: PhantomKind.allCases)
    func everyKindFillsTheVolumeSeededAndInRange(kind: PhantomKind) throws {
        let a = try generator.render(kind, seed: 7)
        #expect(a == (try generator.render(kind, seed: 7)))
        #expect(a.shape == [8, 16, 16])
        #expect(a.storage.allSatisfy { $0 >= 0 && $0 <= 1 })
        let filled = a.storage.filter { $0 > 0 }.count
        #expect(filled > 20 && filled < a.count / 2, "\(kind): \(filled) of \(a.count) voxels filled")
        // Mass in more than one z slice, and slices that differ: a volume, not a plane.
        let plane = 16 * 16
        let slices = (0..<8).map { Array(a.storage[($0 * plane)..<(($0 + 1) * plane)]) }
        let occupied = slices.filter { $0.contains { $0 > 0 } }
        #expect(occupied.count >= 2, "\(kind): \(occupied.count) slices hold anything")
        if kind != .concentration && kind != .resolution {
            #expect(Set(occupied.map { $0.map { ($0 * 1e6).rounded() } }).count >= 2, "\(kind): every occupied slice is the same")
            #expect(try generator.render(kind, seed: 8) != a, "\(kind) ignores its seed")
        }
        if let directory = ProcessInfo.processInfo.environment["MAGPIE_PHANTOM_PNG"] {
            // Maximum along z, the view the console and previews show.
            let mip = (0..<plane).map { p in (0..<8).map { slices[$0][p] }.max()! }
            try PNG.write(mip, width: 16, height: 16, to: "\(directory)/\(kind.rawValue)-3d.png", low: 0, high: 1)
        }
    }

    /// Tubes of 1.2 mm with a 2.2 mm gap along y: round in x-z, where the geometry says.
    @Test func resolutionTubesAreRoundAndApart() throws {
        let fine = PhantomGenerator3D(size: [100, 3, 50], fieldOfView: [10, 3, 5])   // 0.1 mm in x and z
        let volume = try fine.render(.resolution, seed: 1, options: PhantomOptions(gap: 2.2, tubeDiameter: 1.2))
        func value(_ x: Int, _ y: Int, _ z: Int) -> Double { volume.storage[(z * 3 + y) * 100 + x] }
        let across = (0..<100).filter { value($0, 1, 25) > 0.5 }.map { Double($0) * 0.1 - 5 + 0.05 }
        #expect(abs(across.min()! - (-(1.1 + 1.2))) < 0.1 && abs(across.max()! - (1.1 + 1.2)) < 0.1)
        #expect(!across.contains { abs($0) < 1.0 }, "the gap is empty")
        let tubeCentre = Int((1.1 + 0.6 + 5) / 0.1)
        let deep = (0..<50).filter { value(tubeCentre, 1, $0) > 0.5 }.count
        #expect(abs(Double(deep) * 0.1 - 1.2) < 0.25, "the tube is \(Double(deep) * 0.1) mm deep")
        #expect(throws: PhantomError.self) { try fine.render(.resolution, seed: 1, options: PhantomOptions(tubeDiameter: 6)) }
    }

    /// A 3D scanner's phantom is drawn in its volume; a 2D scanner's stays the plane image.
    @Test func scannersGetThePhantomOfTheirDimension() throws {
        var scanner = ScannerPreset.openmpi3d.scanner
        scanner.imageSize = [12, 12, 6]
        let volume = try PhantomGenerator.concentration(.vessels, for: scanner, seed: 3, peak: 0.1)
        #expect(volume.shape == [6, 12, 12] && volume.storage.max()! <= 0.1 + 1e-12)
        let plane = try PhantomGenerator.concentration(.vessels, for: ScannerPreset.openmpi2d.scanner, seed: 3, peak: 0.1)
        #expect(plane.shape.count == 2)
    }
}
