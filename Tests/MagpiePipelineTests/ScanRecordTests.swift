import Foundation
import MagpieMDF
import MagpiePipeline
import MagpieWire
import Testing

@Suite struct ScanRecordTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/journal-format1.journal").path

    /// A journal of format 1, made by the daemon before checksummed records, still becomes a valid file.
    @Test func aFormat1JournalBecomesAValidFile() throws {
        let record = try ScanRecord(journal: Self.fixture)
        #expect(record.frames.count == 93 && record.unusable == 0 && record.frames.map(\.index) == Array(0..<93))
        let path = NSTemporaryDirectory() + "magpie-record-\(UUID().uuidString).mdf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try record.write(to: path, missing: record.missing(expected: record.start.framesPlanned))
        #expect(try MDFValidator.validate(path).isEmpty)
        let file = try MDFReader.read(path)
        #expect(file.measurement?.data.shape == [93, 1, 1, 102])
    }

    /// Written in chunks from the journal, the samples are the journal's, frame for frame.
    @Test func chunkedWritingKeepsEverySample() throws {
        let reader = try ScanJournal.Reader(path: Self.fixture)
        var frames: [(index: Int, background: Bool, values: [Float])] = []
        while let entry = try reader.next() {
            if case let .frame(header, payload) = try StreamCodec.decode(entry.parts) {
                frames.append((header.frame, header.flags.background, StreamCodec.values(of: payload, type: .float32)))
            }
        }
        // The file's order: foreground frames, then background frames, each by index.
        let expected = (frames.filter { !$0.background } + frames.filter(\.background)).flatMap(\.values)
        #expect(frames.contains { $0.background })
        let path = NSTemporaryDirectory() + "magpie-record-\(UUID().uuidString).mdf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let record = try ScanRecord(journal: Self.fixture)
        try record.write(to: path, missing: [])
        guard case let .float32(data)? = try MDFReader.read(path).measurement?.data else { Issue.record("no float32 data"); return }
        let same = data.storage == expected
        #expect(same, "the file's samples differ from the journal's")
    }
}
