import Foundation

/// The stream's hot path: a frame header read in one pass over its bytes, at a fraction of the
/// cost of `StrictJSON` plus `JSONDecoder` (about a third of the daemon's intake time at stream
/// rate, docs/BENCHMARKS.md). It takes only the plain form every sender writes: one object of the
/// frame header's keys (each once, any order), ASCII strings without escapes, unsigned integers
/// without sign, fraction or exponent, `flags` an object of its three booleans, `shape` an array
/// of integers, JSON whitespace between tokens. Anything else gives nil and goes the general way,
/// which accepts or refuses it and says why; for what it takes the result is the general way's
/// (`FrameHeaderScannerTests` compares them).
struct FrameHeaderScanner {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    static func scan(_ header: Data) -> FrameHeader? {
        header.withUnsafeBytes { raw in
            var scanner = FrameHeaderScanner(bytes: raw)
            return scanner.header()
        }
    }

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    private enum Key: Int, CaseIterable {
        case htype, scanID, sequence, frame, periods, flags, timeNs, sentNs, sampleType, shape
        static let names: [[UInt8]] = ["htype", "scan_id", "sequence", "frame", "periods", "flags", "time_ns", "sent_ns", "sample_type", "shape"].map { Array($0.utf8) }

        init?(_ name: UnsafeRawBufferPointer) {
            guard let index = Self.names.firstIndex(where: { $0.elementsEqual(name) }) else { return nil }
            self.init(rawValue: index)
        }
    }

    private mutating func header() -> FrameHeader? {
        var seen: UInt16 = 0
        var scanID: String?, sampleType: SampleType?, flags: FrameFlags?, shape: [Int]?
        var sequence: UInt64?, frame: UInt64?, periods: UInt64?, timeNs: UInt64?, sentNs: UInt64?
        guard take(UInt8(ascii: "{")) else { return nil }
        repeat {
            guard let name = stringBytes(), let key = Key(name), seen & (1 << key.rawValue) == 0, take(UInt8(ascii: ":")) else { return nil }
            seen |= 1 << key.rawValue
            switch key {
            case .htype: guard let value = stringBytes(), value.elementsEqual(FrameHeader.htype.utf8) else { return nil }
            case .scanID: scanID = string()
            case .sampleType: sampleType = string().flatMap(SampleType.init(rawValue:))
            case .sequence: sequence = unsigned()
            case .frame: frame = unsigned()
            case .periods: periods = unsigned()
            case .timeNs: timeNs = unsigned()
            case .sentNs: sentNs = unsigned()
            case .flags: flags = frameFlags()
            case .shape: shape = integers()
            }
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")) else { return nil }
        whitespace()
        guard index == bytes.count, seen == (1 << Key.allCases.count) - 1,
              let scanID, let sampleType, let flags, let shape, let sequence, let timeNs, let sentNs,
              let frame = frame.flatMap(Int.init(exactly:)), let periods = periods.flatMap(Int.init(exactly:)) else { return nil }
        return FrameHeader(scanID: scanID, sequence: sequence, frame: frame, periods: periods, flags: flags, timeNs: timeNs, sentNs: sentNs,
                           sampleType: sampleType, shape: shape)
    }

    private mutating func whitespace() {
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D else { return }
            index += 1
        }
    }

    /// Skips whitespace, then takes `byte` if it is next.
    private mutating func take(_ byte: UInt8) -> Bool {
        whitespace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// A string of printable ASCII without escapes.
    private mutating func string() -> String? {
        stringBytes().map { String(decoding: $0, as: UTF8.self) }
    }

    /// A string's bytes (printable ASCII, no escapes).
    private mutating func stringBytes() -> UnsafeRawBufferPointer? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return UnsafeRawBufferPointer(rebasing: bytes[start..<(index - 1)])
            }
            guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else { return nil }
            index += 1
        }
        return nil
    }

    /// Digits without a leading zero (but "0"), within UInt64.
    private mutating func unsigned() -> UInt64? {
        whitespace()
        let start = index
        var value: UInt64 = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times.addingReportingOverflow(UInt64(bytes[index] - UInt8(ascii: "0")))
            guard !overflow, !carry else { return nil }
            value = sum
            index += 1
        }
        guard index > start, index - start == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
        // A fraction, an exponent or a sign: the general way decides.
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") || bytes[index] | 0x20 == UInt8(ascii: "e") { return nil }
        return value
    }

    private mutating func boolean() -> Bool? {
        whitespace()
        for (word, value) in [("true", true), ("false", false)] where bytes[index...].starts(with: word.utf8) {
            index += word.utf8.count
            return value
        }
        return nil
    }

    private mutating func integers() -> [Int]? {
        guard take(UInt8(ascii: "[")) else { return nil }
        var values: [Int] = []
        if take(UInt8(ascii: "]")) { return values }
        repeat {
            guard let value = unsigned().flatMap(Int.init(exactly:)) else { return nil }
            values.append(value)
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]")) ? values : nil
    }

    private mutating func frameFlags() -> FrameFlags? {
        guard take(UInt8(ascii: "{")) else { return nil }
        var values: [String: Bool] = [:]
        repeat {
            guard let name = string(), ["background", "overflow", "corrupted"].contains(name), values[name] == nil,
                  take(UInt8(ascii: ":")), let value = boolean() else { return nil }
            values[name] = value
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")), values.count == 3 else { return nil }
        return FrameFlags(background: values["background"]!, overflow: values["overflow"]!, corrupted: values["corrupted"]!)
    }
}
