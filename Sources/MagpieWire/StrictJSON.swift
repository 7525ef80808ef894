import Foundation

/// Checks that bytes are one JSON text exactly as RFC 8259 defines it, before Foundation's
/// decoder (which is lenient: it takes trailing commas, a byte-order mark and UTF-16) sees them:
/// UTF-8 without a BOM, no trailing commas, comments, NaN or single quotes, no control characters
/// in strings, no duplicate keys in an object (which of two values a peer reads is undefined),
/// and at most `maximumDepth` nested arrays and objects (so deep nesting cannot exhaust the stack).
public struct StrictJSON {
    public struct Violation: Error, CustomStringConvertible, Equatable {
        public let offset: Int
        public let reason: String
        public var description: String { "\(reason) at byte \(offset)" }
    }

    private let bytes: [UInt8]
    private let maximumDepth: Int
    private var index = 0

    /// Throws a `Violation` naming the first byte that breaks the grammar.
    public static func check(_ data: Data, maximumDepth: Int = StreamLimits.maximumJSONDepth) throws {
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { throw Violation(offset: 0, reason: "a byte-order mark (JSON text is UTF-8 without one)") }
        guard String(validating: data, as: UTF8.self) != nil else { throw Violation(offset: 0, reason: "not valid UTF-8") }
        var parser = StrictJSON(bytes: [UInt8](data), maximumDepth: maximumDepth)
        parser.whitespace()
        try parser.value(depth: 0)
        parser.whitespace()
        guard parser.index == parser.bytes.count else { throw parser.violation("text after the JSON value") }
    }

    private init(bytes: [UInt8], maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private func violation(_ reason: String) -> Violation { Violation(offset: index, reason: reason) }

    private mutating func whitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    private mutating func expect(_ literal: String) throws {
        for byte in literal.utf8 {
            guard current == byte else { throw violation("expected \(literal)") }
            index += 1
        }
    }

    private mutating func value(depth: Int) throws {
        guard let byte = current else { throw violation("the text ends where a value should be") }
        switch byte {
        case UInt8(ascii: "{"): try object(depth: depth + 1)
        case UInt8(ascii: "["): try array(depth: depth + 1)
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"): try expect("true")
        case UInt8(ascii: "f"): try expect("false")
        case UInt8(ascii: "n"): try expect("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
        default: throw violation("not the start of a JSON value")
        }
    }

    private mutating func object(depth: Int) throws {
        guard depth <= maximumDepth else { throw violation("nested deeper than \(maximumDepth) levels") }
        index += 1
        whitespace()
        if current == UInt8(ascii: "}") { index += 1; return }
        var keys = Set<ArraySlice<UInt8>>()
        while true {
            whitespace()
            guard current == UInt8(ascii: "\"") else { throw violation("expected a string key") }
            let keyStart = index
            let key = try string()
            guard keys.insert(key).inserted else { throw Violation(offset: keyStart, reason: "a duplicate key") }
            whitespace()
            try expect(":")
            whitespace()
            try value(depth: depth)
            whitespace()
            if current == UInt8(ascii: ",") { index += 1; continue }
            try expect("}")
            return
        }
    }

    private mutating func array(depth: Int) throws {
        guard depth <= maximumDepth else { throw violation("nested deeper than \(maximumDepth) levels") }
        index += 1
        whitespace()
        if current == UInt8(ascii: "]") { index += 1; return }
        while true {
            whitespace()
            try value(depth: depth)
            whitespace()
            if current == UInt8(ascii: ",") { index += 1; continue }
            try expect("]")
            return
        }
    }

    /// A string; returns its raw bytes between the quotes (escapes as written), for duplicate-key checks.
    private mutating func string() throws -> ArraySlice<UInt8> {
        index += 1
        let start = index
        while let byte = current {
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return bytes[start..<(index - 1)]
            case UInt8(ascii: "\\"):
                index += 1
                switch current {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    index += 1
                    for _ in 0..<4 {
                        guard let hex = current, (hex >= 0x30 && hex <= 0x39) || (hex | 0x20 >= 0x61 && hex | 0x20 <= 0x66) else {
                            throw violation("a \\u escape needs four hex digits")
                        }
                        index += 1
                    }
                default:
                    throw violation("an invalid escape")
                }
            case 0x00..<0x20:
                throw violation("a control character inside a string")
            default:
                index += 1
            }
        }
        throw violation("an unterminated string")
    }

    private mutating func number() throws {
        if current == UInt8(ascii: "-") { index += 1 }
        func digits() throws {
            guard let byte = current, byte >= 0x30 && byte <= 0x39 else { throw violation("expected a digit") }
            while let byte = current, byte >= 0x30 && byte <= 0x39 { index += 1 }
        }
        if current == UInt8(ascii: "0") {
            index += 1
        } else {
            try digits()
        }
        if current == UInt8(ascii: ".") {
            index += 1
            try digits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            try digits()
        }
    }
}
