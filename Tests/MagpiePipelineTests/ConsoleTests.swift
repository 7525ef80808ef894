import Foundation
import MagpieCore
import MagpiePlan
import Testing
@testable import MagpiePipeline

/// The console's parts that need no server: which names can reach a file, the token comparison,
/// the live image's planes, and the PNG previews' colour map.
struct ConsoleTests {
    @Test func onlyScanFileNamesAreAccepted() {
        for name in ["20261202T142632-2aa791d7.mdf", "a.mdf", "scan_2-3.mdf"] { #expect(ScanDirectory.isValidName(name), "\(name)") }
        for name in ["..", "../x.mdf", "a/b.mdf", ".hidden.mdf", "x.mdf.journal", "x.h5", "a b.mdf", "a%2Fb.mdf", "a\u{0}.mdf", "é.mdf",
                     String(repeating: "a", count: 300) + ".mdf", ".mdf"] {
            #expect(!ScanDirectory.isValidName(name), "\(name)")
        }
    }

    @Test func tokensCompareWhole() {
        #expect(ConsoleService.sameToken("0123456789abcdef", "0123456789abcdef"))
        #expect(!ConsoleService.sameToken("0123456789abcdef", "0123456789abcdeg"))
        #expect(!ConsoleService.sameToken("0123456789abcdef", "0123456789abcdef0"))
        #expect(!ConsoleService.sameToken("", "0123456789abcdef"))
    }

    /// A volume is sent as three slices through its brightest voxel and three maximum projections.
    @Test func liveImageOfAVolume() throws {
        let (nx, ny, nz) = (4, 3, 2)
        var values = [Float](repeating: 0, count: nx * ny * nz)
        values[(1 * ny + 2) * nx + 3] = 5   // x 3, y 2, z 1
        values[(0 * ny + 0) * nx + 1] = 2   // x 1, y 0, z 0
        let geometry = ImageGeometry(size: [nx, ny, nz], fieldOfView: [0.04, 0.03, 0.02], fieldOfViewCenter: [0, 0, 0.01],
                                     positions: NDArray(shape: [0, 3], storage: []))
        let live = LiveView()
        live.image(values, frame: 7, geometry: geometry, unit: "mol/m^3", scanID: "s")
        let json = try #require(live.imageJSON())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.text.utf8)) as? [String: Any])
        #expect(object["brightest"] as? [Int] == [3, 2, 1] && object["high"] as? Double == 5 && object["frame"] as? Int == 7)
        let planes = try #require(object["planes"] as? [[String: Any]])
        #expect(planes.count == 6)
        func floats(_ plane: [String: Any]) -> [Float] {
            let data = Data(base64Encoded: plane["values"] as! String)!
            return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        // The xy slice at z = 1 holds the brightest voxel only; the xy projection both.
        #expect(floats(planes[0]).filter { $0 != 0 } == [5])
        #expect(floats(planes[3]).reduce(0, +) == 7)
        #expect(planes[1]["extentMm"] as? [[Double]] == [[-20, 20], [0, 20]])
        #expect(live.imageJSON()?.version == json.version)   // encoded once per new image
    }

    @Test func previewsUseTheColourMapAndSizeUpSmallGrids() throws {
        #expect(ColourMap.colour(0) == (0x44, 0x01, 0x54) && ColourMap.colour(1) == (0xFD, 0xE7, 0x25) && ColourMap.colour(.nan) == ColourMap.colour(0))
        let image = (0..<(8 * 4)).map(Float.init)
        let png = Preview.png(image[...], size: [8, 4, 1], minimumSize: 256, colourBar: false)
        let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect((width, height) == (256, 128))   // 32 pixels a voxel, nearest
        #expect(png[25] == 2)   // truecolour
        let barred = Preview.png(image[...], size: [8, 4, 1], minimumSize: 256, colourBar: true)
        #expect(barred[16..<20].reduce(0) { $0 << 8 | Int($1) } > 256)
    }
}
