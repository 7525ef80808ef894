import Foundation
import MagpieCore
import MagpieMDF
import MagpiePipeline
import MagpieWire
import Testing

/// The receiver's rules from protocols/magpie-stream-v1.md, message by message.
@Suite struct StreamReceiverTests {
    func start(_ id: String, repeatIndex: Int = 0, planned: Int = 4) -> [Data] { StreamMessages.start(id, repeatIndex: repeatIndex, planned: planned) }
    func frame(_ id: String, _ index: Int, sequence: UInt64, values: [Float]? = nil, type: SampleType = .float32) -> [Data] {
        StreamMessages.frame(id, index, sequence: sequence, values: values, type: type)
    }
    func end(_ id: String, sent: Int) -> [Data] { StreamMessages.end(id, sent: sent) }

    /// Feeds messages and returns a compact trace of the events.
    func run(_ messages: [[Data]], _ receiver: StreamReceiver = StreamReceiver()) -> [String] {
        messages.flatMap { receiver.handle($0) }.map { event in
            switch event {
            case let .scanStarted(start, _): return "start \(start.scanID)"
            case let .frame(header, _, _): return "frame \(header.frame)"
            case let .scanClosed(c): return "close \(c.scanID) \(c.complete ? "complete" : "incomplete") missing [\(MissingFrames.description(c.missing))]"
            case let .rejected(reason, _): return "reject \(reason ?? "(not logged)")"
            case let .resynchronized(from, to): return "resync \(from)->\(to)"
            case let .gap(after, count): return "gap \(after)+\(count)"
            case let .dropped(count): return "dropped \(count)"
            }
        }
    }

    @Test func aCleanScan() {
        #expect(run([start("a"), frame("a", 0, sequence: 0), start("a", repeatIndex: 1), frame("a", 1, sequence: 1), frame("a", 2, sequence: 2),
                     frame("a", 3, sequence: 3), end("a", sent: 4)])
                == ["start a", "frame 0", "frame 1", "frame 2", "frame 3", "close a complete missing []"])
    }

    @Test func gapsAreLoggedAndMissingFramesListed() {
        #expect(run([start("a"), frame("a", 0, sequence: 10), frame("a", 3, sequence: 13), end("a", sent: 4)])
                == ["start a", "frame 0", "gap 10+2", "frame 3", "close a complete missing [1-2]"])
    }

    @Test func duplicatesAndOutOfOrderAreRejected() {
        let trace = run([start("a"), frame("a", 0, sequence: 0), frame("a", 1, sequence: 1), frame("a", 1, sequence: 1), frame("a", 0, sequence: 0)])
        #expect(trace.count == 5)
        #expect(trace[3].hasPrefix("reject") && trace[3].contains("duplicate or out of order"))
        #expect(trace[4].hasPrefix("reject"))
    }

    @Test func framesBeforeScanStartAreHeldThenAccepted() {
        #expect(run([frame("a", 1, sequence: 1), frame("a", 0, sequence: 0), start("a", planned: 2), end("a", sent: 2)])
                == ["start a", "frame 0", "frame 1", "close a complete missing []"])
    }

    @Test func heldFramesAreBounded() {
        let receiver = StreamReceiver()
        let trace = run((0..<(StreamReceiver.maximumHeldFrames + 3)).map { frame("never", $0, sequence: UInt64($0)) }, receiver)
        #expect(trace == ["dropped 1", "dropped 1", "dropped 1"])
    }

    @Test func aSecondScanStartClosesTheFirstAsIncomplete() {
        let trace = run([start("a"), frame("a", 0, sequence: 0), start("b", planned: 1), frame("b", 0, sequence: 1), end("b", sent: 1)])
        #expect(trace == ["start a", "frame 0", "close a incomplete missing [1-3]", "start b", "frame 0", "close b complete missing []"])
    }

    @Test func aRestartedSenderMayStartItsSequenceAgain() {
        let trace = run([start("a", planned: 1), frame("a", 0, sequence: 7), end("a", sent: 1), start("b", planned: 1), frame("b", 0, sequence: 0), end("b", sent: 1)])
        #expect(trace == ["start a", "frame 0", "close a complete missing []", "start b", "frame 0", "close b complete missing []"])
    }

    @Test func badMessagesAreRejectedAndTheScanGoesOn() {
        let trace = run([start("a", planned: 2), [Data("{".utf8)], [Data("{\"htype\":\"magpie.frame/9\"}".utf8)],
                         frame("a", 0, sequence: 0, values: [1, .nan] + Array(repeating: 0, count: 100)),
                         frame("a", 0, sequence: 0, values: [1, 2]),
                         frame("a", 0, sequence: 0, type: .int16),
                         Array(frame("a", 0, sequence: 0).prefix(1)),
                         frame("a", 0, sequence: 0), frame("a", 1, sequence: 1), end("zzz", sent: 0), end("a", sent: 2),
                         frame("a", 2, sequence: 2)])
        #expect(trace.filter { $0.hasPrefix("reject") }.count == 8)
        #expect(trace.filter { !$0.hasPrefix("reject") } == ["start a", "frame 0", "frame 1", "close a complete missing []"])
        #expect(trace.last!.contains("which has ended"))
    }

    @Test func hugeFrameCountsCloseAsRangesAtOnce() {
        let trace = run([start("a", planned: 4), frame("a", 0, sequence: 0), frame("a", 4_000_000_000, sequence: 1), end("a", sent: 1 << 32)])
        #expect(trace == ["start a", "frame 0", "frame 4000000000", "close a complete missing [1-3999999999, 4000000001-4294967295]"])
        let receiver = StreamReceiver()
        _ = run([start("b", planned: 1 << 32), frame("b", 5, sequence: 0)], receiver)
        #expect(run([start("c", planned: 1)], receiver) == ["close b incomplete missing [0-4, 6-4294967295]", "start c"])
    }

    @Test func aWildSequenceNumberDoesNotPoisonTheScan() {
        let trace = run([start("a", planned: 3), frame("a", 0, sequence: 5), frame("a", 1, sequence: UInt64.max), frame("a", 2, sequence: 6), end("a", sent: 3)])
        #expect(trace == ["start a", "frame 0", "resync 5->18446744073709551615", "frame 1", "resync 18446744073709551615->6", "frame 2",
                          "close a complete missing []"])
    }

    @Test func aRefusedScanStartRejectsItsFramesAndLogsOnce() throws {
        var bad = ScanStart(scanID: "r", timeNs: 0, sampleType: .float32, channels: 1, samplesPerPeriod: 102, framesPlanned: 2, metadata: StreamMessages.metadata)
        bad.metadata.acquisition.drivefield.divider = [[102, 5]]
        let badStart = try StreamCodec.encode(.scanStart(bad))
        let trace = run([badStart, frame("r", 0, sequence: 0), badStart, frame("r", 1, sequence: 1), start("ok", planned: 1), frame("ok", 0, sequence: 2)])
        #expect(trace.count == 6)
        #expect(trace[0].contains("scan-start of scan r refused") && trace[0].contains("divider"))
        #expect(trace[1...3] == ["reject (not logged)", "reject (not logged)", "reject (not logged)"])
        #expect(trace[4...] == ["start ok", "frame 0"])
    }

    @Test func unknownHtypesAreLoggedAtPowersOfTen() {
        let trace = run(Array(repeating: [Data("{\"htype\":\"vendor.status/3\"}".utf8)], count: 12))
        let logged = trace.filter { !$0.contains("(not logged)") }
        #expect(logged.count == 2)
        #expect(logged[0].contains("vendor.status/3") && logged[0].contains("1 message of this htype"))
        #expect(logged[1].contains("10 messages"))
    }

    @Test func aScanWhoseEndIsLostClosesAfterSilence() {
        let receiver = StreamReceiver()
        _ = receiver.handle(start("a", planned: 3), now: 1_000_000_000)
        _ = receiver.handle(frame("a", 0, sequence: 0), now: 2_000_000_000)
        #expect(receiver.closeIfSilent(now: 11_000_000_000, timeout: 10).isEmpty)
        let events = receiver.closeIfSilent(now: 12_000_000_000, timeout: 10)
        guard case let .scanClosed(closure)? = events.first else { Issue.record("not closed: \(events)"); return }
        #expect(!closure.complete && closure.status.contains("no message for 10 s") && closure.missing == [1...2])
        #expect(receiver.closeOpenScan(reason: "no scan is open").isEmpty)
    }
}
