import Foundation
import MagpieCore
import MagpiePlan
import MagpieWire
import Testing
@testable import MagpiePipeline

/// The queue from intake to processing: when full, the oldest waiting foreground frame makes room.
@Suite struct WorkQueueTests {
    func frame(_ index: Int, background: Bool = false) -> WorkQueue.Work {
        .frame(PlanItem(frame: index, foregroundOrdinal: background ? nil : index, signals: NDArray(shape: [1, 1], storage: [0])))
    }

    /// What is waiting, as "begin", "f3" (foreground frame 3), "b0" (background frame 0), "end", "stop".
    func drain(_ queue: WorkQueue) -> [String] {
        var out: [String] = []
        while let work = queue.pop(timeout: 0.01) {
            switch work {
            case .begin: out.append("begin")
            case let .frame(item): out.append("\(item.isBackground ? "b" : "f")\(item.frame)")
            case .end: out.append("end")
            case .stop: out.append("stop")
            }
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
        #expect(drain(queue) == ["b0", "f3", "f4"])
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

    @Test func aProducerAndAConsumerOnTwoThreadsLoseNothingBelowCapacity() async throws {
        let queue = WorkQueue(capacity: 10_000)
        let consumer = Task.detached { () -> Int in
            var frames = 0
            while let work = queue.pop(timeout: 1) {
                if case .stop = work { break }
                frames += 1
            }
            return frames
        }
        for index in 0..<5000 { queue.push(frame(index)) }
        queue.push(.stop)
        #expect(await consumer.value == 5000)
    }
}
