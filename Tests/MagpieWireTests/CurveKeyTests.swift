import Foundation
import MagpieWire
import Testing

@Suite struct CurveKeyTests {
    /// Z85 keys may contain '#': only whole-line comments and text after the key are comments.
    @Test func keysWithHashSignsAreRead() throws {
        let directory = NSTemporaryDirectory() + "magpie-curve-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var keys: [CurveKey] = []
        while keys.count < 3 {   // until one has a '#'
            let key = try CurveKey.generate()
            if key.publicKey.contains("#") || keys.count < 2 { keys.append(key) }
        }
        let list = directory + "/allowed"
        try Data(("# scanners\n" + keys.map { "\($0.publicKey)  # bore\n" }.joined() + "\n").utf8).write(to: URL(fileURLWithPath: list))
        #expect(try CurveKey.loadList(list) == Set(keys.map(\.publicKey)))
        try keys[2].write(to: directory + "/pair")
        #expect(try CurveKey.load(secretKeyFile: directory + "/pair.key") == keys[2])
        #expect(try CurveKey.load(publicKeyFile: directory + "/pair.pub") == keys[2].publicKey)
        try Data("not-a-key\n".utf8).write(to: URL(fileURLWithPath: list))
        #expect(throws: WireError.self) { try CurveKey.loadList(list) }
    }
}
