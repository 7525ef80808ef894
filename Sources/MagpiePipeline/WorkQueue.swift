import Foundation
import MagpiePlan
import MagpieWire

/// What the intake thread hands the processing thread.
enum Work {
    case begin(ScanDescription)
    case frame(PlanItem)
    /// `journal`: nil when nothing of the scan could be archived.
    case end(ScanClosure, journal: String?, counters: Counters.Values)
    /// No more work: the processing thread returns.
    case stop
}

/// The bounded queue between intake and processing. Scan boundaries are never dropped; when
/// `capacity` frames wait, the oldest waiting foreground frame (else the oldest frame) makes
/// room, and the caller counts it skipped: processing falls back to the newest frames, the
/// archive has them all.
final class WorkQueue: @unchecked Sendable {  // every access holds `condition`
    private let condition = NSCondition()
    private var items: [Work] = []
    private var frames = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Adds `work`; returns how many waiting frames were dropped to make room (0 or 1).
    @discardableResult
    func push(_ work: Work) -> Int {
        condition.lock()
        defer { condition.unlock(); condition.signal() }
        var dropped = 0
        if case .frame = work {
            if frames >= capacity {
                let victim = items.firstIndex { if case let .frame(item) = $0 { return !item.isBackground } else { return false } }
                    ?? items.firstIndex { if case .frame = $0 { return true } else { return false } }
                if let victim {
                    items.remove(at: victim)
                    frames -= 1
                    dropped = 1
                }
            }
            frames += 1
        }
        items.append(work)
        return dropped
    }

    /// The next work, or nil after `timeout` seconds without any.
    func pop(timeout: TimeInterval) -> Work? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while items.isEmpty {
            if !condition.wait(until: deadline) { return nil }
        }
        let work = items.removeFirst()
        if case .frame = work { frames -= 1 }
        return work
    }

    var isEmpty: Bool { condition.withLock { items.isEmpty } }
}
