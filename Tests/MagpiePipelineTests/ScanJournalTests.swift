import Foundation
import MagpiePipeline
import Testing

@Suite struct ScanJournalTests {
    func temporaryPath() -> String { NSTemporaryDirectory() + "magpie-journal-\(UUID().uuidString)" }

    @Test func recordsComeBackAndATornLastRecordIsIgnored() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let journal = try ScanJournal(path: path, scanStart: [Data("start".utf8)])
        try journal.append([Data("header".utf8), Data([1, 2, 3])])
        try journal.close()
        #expect(try ScanJournal.read(path) == [[Data("start".utf8)], [Data("header".utf8), Data([1, 2, 3])]])
        // A crash in the middle of a write leaves part of a record: it is dropped, the rest kept.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([2, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 7]))
        try handle.close()
        #expect(try ScanJournal.read(path).count == 2)
    }

    @Test func otherFilesAreRefusedByName() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        FileManager.default.createFile(atPath: path, contents: Data("not a journal".utf8))
        #expect(throws: PipelineError.archive("\(path) is not a Magpie journal")) { try ScanJournal.read(path) }
        #expect(throws: PipelineError.self) { try ScanRecord(journal: path) }
        #expect(throws: PipelineError.self) { try ScanJournal.read(path + "-missing") }
    }
}
