import Foundation
import MagpieWire

/// The fuzzed surfaces of everything a sender controls: the stream decoder (with scan-start
/// validation and strict JSON), the receiver's state machine over a sequence of messages, and the
/// journal reader over arbitrary bytes. An input is one byte choosing the surface, then messages
/// framed as: part count (1 byte), then per part a 2-byte little-endian length and its bytes (cut
/// at the input's end). Any input decodes to something, so every mutation reaches the code.
/// Invariants are checked with `precondition`: a violation is a crash the fuzzer reports.
enum FuzzTarget {
    enum Surface: UInt8, CaseIterable { case decode, receive, journal, json }

    static func run(_ input: [UInt8]) {
        guard let first = input.first else { return }
        let body = Array(input.dropFirst())
        switch Surface(rawValue: first % UInt8(Surface.allCases.count))! {
        case .decode:
            for parts in messages(body) { decode(parts) }
        case .receive:
            receive(messages(body))
        case .journal:
            journal(body)
        case .json:
            _ = try? StrictJSON.check(Data(body))
        }
    }

    /// The framed messages of `bytes`.
    static func messages(_ bytes: [UInt8]) -> [[Data]] {
        var messages: [[Data]] = []
        var index = 0
        while index < bytes.count {
            let count = Int(bytes[index] % 5)
            index += 1
            var parts: [Data] = []
            for _ in 0..<count {
                guard index + 2 <= bytes.count else { break }
                let length = Int(bytes[index]) | Int(bytes[index + 1]) << 8
                index += 2
                let end = min(bytes.count, index + length)
                parts.append(Data(bytes[index..<end]))
                index = end
            }
            messages.append(parts)
        }
        return messages
    }

    /// The framing `messages` reads (for seeds).
    static func frame(_ messages: [[Data]]) -> [UInt8] {
        var bytes: [UInt8] = []
        for parts in messages {
            bytes.append(UInt8(parts.count))
            for part in parts {
                let length = min(part.count, 65_535)
                bytes += [UInt8(length & 0xFF), UInt8(length >> 8)]
                bytes += part.prefix(length)
            }
        }
        return bytes
    }

    /// An accepted message survives encoding and decoding unchanged.
    static func decode(_ parts: [Data]) {
        guard let message = try? StreamCodec.decode(parts) else { return }
        if case let .frame(header, payload) = message {
            precondition(header.payloadSize == payload.count, "accepted a frame whose payload does not match its shape")
        }
        let again = try? StreamCodec.decode(StreamCodec.encode(message))
        precondition(again == message, "a decoded message does not survive re-encoding")
    }

    /// The receiver never crashes, its missing-frame ranges are ordered and disjoint, and at
    /// most one scan is open.
    static func receive(_ messages: [[Data]]) {
        let receiver = StreamReceiver()
        var clock: UInt64 = 1_000_000_000
        for parts in messages {
            clock += 400_000_000
            var events = receiver.handle(parts, now: clock)
            events += receiver.closeIfSilent(now: clock, timeout: 1)
            for case let .scanClosed(closure) in events {
                for (a, b) in zip(closure.missing, closure.missing.dropFirst()) {
                    precondition(a.upperBound + 1 < b.lowerBound, "missing ranges overlap or touch: \(a), \(b)")
                }
                precondition(closure.missing.allSatisfy { $0.lowerBound >= 0 && $0.upperBound < StreamLimits.maximumFrames })
            }
        }
        _ = receiver.closeOpenScan(reason: "end of input")
    }

    /// Any bytes after a journal's magic: every record read back is whole, and reading ends.
    static func journal(_ bytes: [UInt8]) {
        let path = NSTemporaryDirectory() + "magpie-fuzz-\(getpid()).journal"
        defer { unlink(path) }
        let magic = bytes.first.map { $0 & 1 == 0 ? "MAGPIEJ2" : "MAGPIEJ1" } ?? "MAGPIEJ2"
        guard FileManager.default.createFile(atPath: path, contents: Data(magic.utf8) + Data(bytes.dropFirst())) else { return }
        guard let reader = try? ScanJournal.Reader(path: path) else { return }
        var count = 0
        while let record = try? reader.next() {
            count += 1
            precondition(count <= bytes.count + 1, "the reader does not advance")
            precondition(record.parts.count <= bytes.count, "more parts than bytes")
        }
    }
}
