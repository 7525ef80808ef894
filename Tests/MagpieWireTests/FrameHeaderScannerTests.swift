import Foundation
@testable import MagpieWire
import Testing

/// The hot path's frame-header reader against the general way (`StrictJSON` + `JSONDecoder`):
/// whatever it takes, the general way takes too and reads the same; what it leaves, it leaves whole.
@Suite struct FrameHeaderScannerTests {
    static let header = FrameHeader(scanID: "scan-7", sequence: 12_345_678_901, frame: 42, periods: 1,
                                    flags: FrameFlags(background: true, overflow: false, corrupted: false),
                                    timeNs: 1_700_000_000_123_456_789, sentNs: 1_700_000_000_223_456_789, sampleType: .float32, shape: [1, 3, 817])

    static func encoded(_ header: FrameHeader = header) throws -> Data {
        try StreamCodec.encode(.frame(header, payload: Data()))[0]
    }

    /// The general way's reading, nil where it refuses.
    static func general(_ bytes: Data) -> FrameHeader? {
        guard (try? StrictJSON.check(bytes)) != nil, StreamCodec.htype(of: bytes) == FrameHeader.htype else { return nil }
        return try? JSONDecoder().decode(FrameHeader.self, from: bytes)
    }

    @Test func readsWhatSendersWrite() throws {
        let bytes = try Self.encoded()
        #expect(FrameHeaderScanner.scan(bytes) == Self.header)
        var other = Self.header
        (other.sampleType, other.flags, other.frame, other.sequence) = (.int16, FrameFlags(), 0, UInt64.max)
        #expect(FrameHeaderScanner.scan(try Self.encoded(other)) == other)
    }

    @Test func takesWhitespaceAndAnyKeyOrder() throws {
        let text = """
             { "shape" : [ 1 , 3 , 817 ] ,\n\t"flags": {"corrupted": false, "overflow": false, "background": true},
            "sample_type": "float32", "sent_ns": 1700000000223456789, "time_ns": 1700000000123456789, "periods": 1,
            "frame": 42, "sequence": 12345678901, "scan_id": "scan-7", "htype": "magpie.frame/1" }\r\n
            """
        #expect(FrameHeaderScanner.scan(Data(text.utf8)) == Self.header)
        #expect(Self.general(Data(text.utf8)) == Self.header)
    }

    @Test(arguments: [
        ("\"scan_id\":\"scan-7\"", "\"scan_id\":\"scan\\u002d7\""),   // an escape: the general way reads it
        ("\"frame\":42", "\"frame\":42.0"),                           // a fraction
        ("\"frame\":42", "\"frame\":4.2e1"),                          // an exponent
        ("\"frame\":42", "\"frame\":-42"),                            // a sign
        ("\"frame\":42", "\"frame\":042"),                            // a leading zero
        ("\"sequence\":12345678901", "\"sequence\":18446744073709551616"),   // beyond UInt64
        ("\"frame\":42", "\"frame\":42,\"frame\":43"),                // a key twice
        ("\"frame\":42", "\"frame\":42,\"extra\":1"),                 // a key it does not know
        ("\"frame\":42,", ""),                                        // a key missing
        ("\"htype\":\"magpie.frame/1\"", "\"htype\":\"magpie.frame/2\""),
        ("\"sample_type\":\"float32\"", "\"sample_type\":\"float64\""),
        ("\"background\":true", "\"background\":1"),
        ("\"scan_id\":\"scan-7\"", "\"scan_id\":\"sc\u{00E4}n-7\""),  // not ASCII
        ("[1,3,817]", "[1,3,817,]"),                                  // a trailing comma
    ])
    func leavesAnythingElseToTheGeneralWay(find: String, replace: String) throws {
        let text = String(decoding: try Self.encoded(), as: UTF8.self)
        #expect(text.contains(find))
        let changed = Data(text.replacingOccurrences(of: find, with: replace).utf8)
        #expect(FrameHeaderScanner.scan(changed) == nil)
    }

    /// Random damage to valid headers: whenever the scanner takes one, the general way reads the same.
    @Test func agreesWithTheGeneralWayOnDamagedHeaders() throws {
        let valid = [UInt8](try Self.encoded())
        let alphabet = Array("{}[],:\" 0123456789.-e\\tfalsetrue".utf8) + [0x00, 0x0A, 0xC3, 0xFF]
        var generator = SystemRandomNumberGenerator()
        var taken = 0
        for _ in 0..<20_000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[at] = alphabet.randomElement(using: &generator)!
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet.randomElement(using: &generator)!, at: at)
                }
            }
            guard let scanned = FrameHeaderScanner.scan(Data(bytes)) else { continue }
            taken += 1
            #expect(Self.general(Data(bytes)) == scanned, "\(String(decoding: bytes, as: UTF8.self))")
        }
        #expect(taken > 0)   // some damage leaves a valid header (a digit changed): those must agree
    }
}
