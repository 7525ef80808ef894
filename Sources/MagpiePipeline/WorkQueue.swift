import DequeModule
import Foundation
import MagpiePlan
import MagpieWire
import Synchronization

/// The bounded queue from intake to processing. Scan boundaries are never dropped; when
/// `capacity` frames wait, the oldest waiting foreground frame (else the oldest frame) makes
/// room, and the caller counts it skipped: processing falls back to the newest frames, the
/// archive has them all.
final class WorkQueue: Sendable {
    enum Work: Sendable {
        case begin(ScanDescription, scanID: String)
        case frame(PlanItem)
        /// `journal`: nil when nothing of the scan could be archived.
        case end(ScanClosure, journal: String?, counters: Counters.Values)
        /// No more work: processing returns.
        case stop
    }

    private struct State {
        var items = Deque<Work>()
        var frames = 0
    }

    let capacity: Int
    private let state = Mutex(State())
    /// Signalled once per push: a pop that wakes to an empty queue (its item was dropped) returns nil.
    private let pushed = DispatchSemaphore(value: 0)

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Adds `work`; returns how many waiting frames were dropped to make room (0 or 1).
    @discardableResult
    func push(_ work: Work) -> Int {
        let dropped = state.withLock { state in
            var dropped = 0
            if case .frame = work {
                if state.frames >= capacity {
                    let victim = state.items.firstIndex { if case let .frame(item) = $0 { !item.isBackground } else { false } }
                        ?? state.items.firstIndex { if case .frame = $0 { true } else { false } }
                    if let victim {
                        state.items.remove(at: victim)
                        state.frames -= 1
                        dropped = 1
                    }
                }
                state.frames += 1
            }
            state.items.append(work)
            return dropped
        }
        pushed.signal()
        return dropped
    }

    /// The next work, or nil after `timeout` seconds without any.
    func pop(timeout: TimeInterval) -> Work? {
        guard pushed.wait(timeout: .now() + timeout) == .success else { return nil }
        return state.withLock { state in
            guard let work = state.items.popFirst() else { return nil }
            if case .frame = work { state.frames -= 1 }
            return work
        }
    }

    /// Frames waiting.
    var frames: Int { state.withLock { $0.frames } }

    /// Whether anything waits (catch-up gives way to the next scan's work).
    var hasWork: Bool { state.withLock { !$0.items.isEmpty } }
}
