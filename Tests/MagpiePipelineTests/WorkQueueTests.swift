import Foundation
import MagpieCore
import MagpiePlan
import MagpieWire
import Testing
@testable import MagpiePipeline

/// The queue from intake to processing: the newest block first, the current block finished, and,
/// when full, the oldest waiting foreground frame makes room.
@Suite struct WorkQueueTests {
    /// Frame `index`; a foreground frame's ordinal is its index.
    func frame(_ index: Int, background: Bool = false) -> WorkQueue.Work {
        .frame(PlanItem(frame: index, foregroundOrdinal: background ? nil : index, signals: NDArray(shape: [1, 1], storage: [0])))
    }

    func name(_ work: WorkQueue.Work) -> String {
        switch work {
        case .begin: "begin"
        case let .frame(item): "\(item.isBackground ? "b" : "f")\(item.frame)"
        case .end: "end"
        case .stop: "stop"
        }
    }

    /// What processing gets, as "begin", "f3" (foreground frame 3), "b0" (background frame 0), "end",
    /// "stop", and "-2" where two frames were dropped for it.
    func drain(_ queue: WorkQueue) -> [String] {
        var out: [String] = []
        while let (work, skipped) = queue.pop(timeout: 0.01) {
            if skipped > 0 { out.append("-\(skipped)") }
            out.append(name(work))
        }
        return out
    }

    let closure = ScanClosure(scanID: "s", complete: true, status: "complete", missing: [])

    @Test func theOldestForegroundFrameMakesRoomAndBackgroundFramesStay() {
        let queue = WorkQueue(capacity: 3)
        #expect(queue.push(frame(0, background: true)) == 0)
        #expect(queue.push(frame(1)) == 0)
        #expect(queue.push(frame(2)) == 0)
        #expect(queue.push(frame(3)) == 1)   // f1 goes
        #expect(queue.push(frame(4)) == 1)   // f2 goes
        #expect(queue.frames == 3)
        #expect(drain(queue) == ["-1", "b0", "f4"])   // and f3 for the newest, f4
    }

    @Test func processingTakesTheNewestFrameAndKeepsBackgroundFrames() {
        let queue = WorkQueue(capacity: 64)
        for index in 0..<3 { queue.push(frame(index)) }
        queue.push(frame(3, background: true))
        for index in 4..<6 { queue.push(frame(index)) }
        #expect(drain(queue) == ["-4", "b3", "f5"])
    }

    @Test func withBlocksTheCurrentBlockIsFinishedThenTheNewestTaken() {
        let queue = WorkQueue(capacity: 64, block: 3)
        for index in 0..<2 { queue.push(frame(index)) }
        #expect(queue.pop(timeout: 0.01).map { name($0.work) } == "f0")   // block 0 is current now
        for index in 2..<12 { queue.push(frame(index)) }
        // Block 0 is finished (f1, f2); blocks 1 and 2 are dropped; block 3 (f9-f11) is the newest.
        #expect(drain(queue) == ["-6", "f1", "f2", "f9", "f10", "f11"])
    }

    @Test func dropsStayInsideTheOpenScan() {
        let queue = WorkQueue(capacity: 64)
        for index in 0..<3 { queue.push(frame(index)) }
        queue.push(.end(closure, journal: nil, counters: Counters.Values()))
        for index in 0..<2 { queue.push(frame(index)) }   // the next scan's, ordinals from 0 again
        #expect(drain(queue) == ["-2", "f2", "end", "-1", "f1"])
    }

    @Test func withOnlyBackgroundFramesWaitingTheOldestGoes() {
        let queue = WorkQueue(capacity: 2)
        queue.push(frame(0, background: true))
        queue.push(frame(1, background: true))
        #expect(queue.push(frame(2, background: true)) == 1)
        #expect(drain(queue) == ["b1", "b2"])
    }

    @Test func scanBoundariesAreNeverDroppedNorCounted() {
        let queue = WorkQueue(capacity: 1)
        queue.push(frame(0))
        #expect(queue.push(.end(closure, journal: nil, counters: Counters.Values())) == 0)
        #expect(queue.push(frame(1)) == 1)
        #expect(queue.push(.stop) == 0)
        #expect(drain(queue) == ["end", "f1", "stop"])
    }

    @Test func anEmptyQueueTimesOut() {
        let queue = WorkQueue(capacity: 4)
        let began = Date()
        #expect(queue.pop(timeout: 0.05) == nil)
        #expect(Date().timeIntervalSince(began) >= 0.04)
    }

    /// Every frame is either taken or counted as dropped.
    @Test func aProducerAndAConsumerOnTwoThreadsAccountForEveryFrame() async throws {
        let queue = WorkQueue(capacity: 10_000)
        let consumer = Task.detached { () -> Int in
            var frames = 0
            while let (work, skipped) = queue.pop(timeout: 1) {
                if case .stop = work { break }
                frames += 1 + skipped
            }
            return frames
        }
        for index in 0..<5000 { queue.push(frame(index)) }
        queue.push(.stop)
        #expect(await consumer.value == 5000)
    }
}
