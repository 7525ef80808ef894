import MagpiePipeline
import MagpieWire
import Testing

@Suite struct LogTextTests {
    @Test func textFromTheStreamIsMadeSafe() {
        #expect(LogText.fileSafe("../../etc/passwd") == "etcpasswd")
        #expect(LogText.fileSafe("a\u{0}b\nc/é-1") == "abc-1")
        #expect(LogText.fileSafe("../") == "scan")
        #expect(LogText.escaped("scan\nforged line\u{0}") == "scan\\nforged line\\u{0}")
        #expect(MissingFrames.ranges(received: [3, 0, 1, 9], expected: 12) == [2...2, 4...8, 10...11])
        #expect(MissingFrames.description(Array(repeating: 1...1, count: 25)).hasSuffix("and 5 more ranges"))
    }
}
