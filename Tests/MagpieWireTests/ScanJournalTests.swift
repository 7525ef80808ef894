import Foundation
@testable import MagpieWire
import Testing

@Suite struct ScanJournalTests {
    func temporaryPath() -> String { NSTemporaryDirectory() + "magpie-journal-\(UUID().uuidString)" }

    func bytes(_ path: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: path)!) }

    @Test func checksumIsCRC32C() {
        #expect(CRC32C.checksum(Data("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum(Data("6789".utf8), seed: CRC32C.checksum(Data("12345".utf8))) == 0xE306_9283)
    }

    @Test func recordsComeBackAndATornLastRecordIsIgnored() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let journal = try ScanJournal(path: path, scanStart: [Data("start".utf8)], durability: .frame)
        try journal.append([Data("header".utf8), Data([1, 2, 3])])
        try journal.close()
        #expect(try ScanJournal.read(path) == [[Data("start".utf8)], [Data("header".utf8), Data([1, 2, 3])]])
        // A crash in the middle of a write leaves part of a record: it is dropped, the rest kept.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([0x4D, 0x4A, 0x52, 0x7E, 100, 0, 0, 0, 1, 2, 3, 4, 7]))
        try handle.close()
        #expect(try ScanJournal.read(path).count == 2)
    }

    @Test func aDamagedRecordIsSkippedAndEverythingAfterItKept() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let journal = try ScanJournal(path: path, scanStart: [Data("start".utf8)])
        for index in 0..<5 { try journal.append([Data("frame \(index)".utf8), Data(repeating: UInt8(index), count: 100)]) }
        try journal.close()
        var data = bytes(path)
        let size = data.count
        // Flip a byte in the body of the third record (the scan-start record is 12 + 4 + 4 + 5 bytes, each frame record 12 + 4 + 4 + 7 + 4 + 100).
        data[8 + 25 + 2 * 131 + 40] ^= 0xFF
        // And garbage appended between records is skipped too.
        data += [UInt8](repeating: 0x4D, count: 37)
        data += [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))[(8 + 25)..<(8 + 25 + 131)]
        try Data(data).write(to: URL(fileURLWithPath: path))
        let reader = try ScanJournal.Reader(path: path)
        var records: [[Data]] = []
        while let record = try reader.next() { records.append(record.parts) }
        #expect(records.map { String(decoding: $0[0], as: UTF8.self) } == ["start", "frame 0", "frame 1", "frame 3", "frame 4", "frame 0"])
        #expect(reader.damaged == 2)
        #expect(size == 8 + 25 + 5 * 131)
    }

    /// Space is reserved ahead of the records without changing the file's size, so readers see
    /// only whole records, and close gives back what the records did not fill.
    @Test func spaceIsReservedAheadAndGivenBackAtClose() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        func allocated() throws -> (size: Int, blocks: Int) {
            var info = stat()
            guard stat(path, &info) == 0 else { throw JournalError("stat \(path)") }
            return (Int(info.st_size), Int(info.st_blocks) * 512)
        }
        let journal = try ScanJournal(path: path, scanStart: [Data("start".utf8)])
        let payload = Data(repeating: 7, count: 100_000)
        for index in 0..<5 { try journal.append([Data("frame \(index)".utf8), payload]) }
        let open = try allocated()
        #expect(open.size == 8 + 25 + 5 * (12 + 4 + 4 + 7 + 4 + 100_000))
        #expect(open.blocks >= ScanJournal.reservation)
        #expect(try ScanJournal.read(path).count == 6)
        try journal.close()
        let closed = try allocated()
        #expect(closed.size == open.size)
        #expect(closed.blocks < open.size + 64 << 10)
        #expect(try ScanJournal.read(path).count == 6)
    }

    @Test func aJournalOfFormat1IsStillRead() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/journal-format1.journal").path
        let reader = try ScanJournal.Reader(path: fixture)
        #expect(reader.version == 1)
        var messages: [StreamMessage] = []
        while let record = try reader.next() { messages.append(try StreamCodec.decode(record.parts)) }
        #expect(messages.count == 94 && reader.damaged == 0)
        guard case let .scanStart(start) = messages[0] else { Issue.record("no scan-start first"); return }
        #expect(start.samplesPerPeriod == 102)
        #expect(messages.dropFirst().map { if case let .frame(header, _) = $0 { return header.frame } else { return -1 } } == Array(0..<93))
    }

    @Test func otherFilesAreRefusedByName() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        FileManager.default.createFile(atPath: path, contents: Data("not a journal".utf8))
        #expect(throws: JournalError("\(path) is not a Magpie journal")) { try ScanJournal.read(path) }
        #expect(throws: JournalError.self) { try ScanJournal.read(path + "-missing") }
        #expect(throws: JournalError.self) { try ScanJournal(path: path, scanStart: [Data()]) }   // never replaces a file
    }
}

@Suite struct CRC32CTests {
    /// The processor's instruction and slicing-by-8 against the bitwise definition, over lengths
    /// that end on every byte of a step, around the instruction's three-lane blocks (3 x 8 KiB),
    /// and split regions.
    @Test func matchesTheBitwiseDefinition() {
        func bitwise(_ bytes: [UInt8]) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            }
            return ~crc
        }
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 7, 8, 9, 15, 16, 17, 100, 1000, 3 * 8192 - 1, 3 * 8192, 3 * 8192 + 13, 7 * 8192 + 5, 646_000] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let split = length / 3
            let variants: [([UInt8].SubSequence, UInt32) -> UInt32] = CRC32C.hardware ? [CRC32C.tableChecksum, CRC32C.hardwareChecksum] : [CRC32C.tableChecksum]
            for checksum in variants {
                #expect(checksum(bytes[...], 0) == bitwise(bytes))
                #expect(checksum(bytes[split...], checksum(bytes[..<split], 0)) == bitwise(bytes))
            }
        }
    }
}
