import DequeModule
import Foundation
import MagpiePlan
import MagpieWire
import Synchronization

/// The queue from intake to processing: the live path. Processing takes the newest block of
/// `block` foreground frames (the plan's averaging) rather than the oldest, so a live image is one
/// pass through the chain behind the scanner, not a queue of stale frames: when it asks for work,
/// the foreground frames of blocks older than the newest waiting one are dropped, except the
/// block it is in the middle of. Background frames and scan boundaries are never dropped. When
/// `capacity` frames wait all the same (processing stuck on one item), the oldest waiting
/// foreground frame (else the oldest frame) makes room. Every drop is counted skipped by the
/// caller; the archive has every frame, and catch-up images them after the scan.
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
        /// The block of the foreground frame processing took last, in the open scan: kept whole.
        var current: Int?
    }

    let capacity: Int
    /// Foreground frames per block (the plan's averaging; 1 without); a reloaded plan may change it.
    private let blockFrames: Atomic<Int>
    var block: Int {
        get { blockFrames.load(ordering: .relaxed) }
        set { blockFrames.store(max(1, newValue), ordering: .relaxed) }
    }
    private let state = Mutex(State())
    /// Signalled once per push: a pop that wakes to an empty queue (its item was dropped) returns nil.
    private let pushed = DispatchSemaphore(value: 0)

    /// Whether frames are wanted at all: not while the plan makes no images (archive only), when
    /// intake neither converts nor queues them and processing sees only scan boundaries.
    private let framesWanted: Atomic<Bool>
    var takesFrames: Bool {
        get { framesWanted.load(ordering: .relaxed) }
        set { framesWanted.store(newValue, ordering: .relaxed) }
    }

    init(capacity: Int, block: Int = 1, takesFrames: Bool = true) {
        self.capacity = capacity
        blockFrames = Atomic(max(1, block))
        framesWanted = Atomic(takesFrames)
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

    /// The next work and how many waiting frames were dropped for it (newest block first), or nil
    /// after `timeout` seconds without any.
    func pop(timeout: TimeInterval) -> (work: Work, skipped: Int)? {
        guard pushed.wait(timeout: .now() + timeout) == .success else { return nil }
        return state.withLock { state in
            let skipped = dropStaleBlocks(&state)
            guard let work = state.items.popFirst() else { return nil }
            switch work {
            case let .frame(item):
                state.frames -= 1
                if let ordinal = item.foregroundOrdinal { state.current = ordinal / self.block }
            case .begin, .end, .stop:
                state.current = nil
            }
            return (work, skipped)
        }
    }

    /// Drops the waiting foreground frames of the open scan whose block is older than the newest
    /// waiting block and is not the current one; returns how many.
    private func dropStaleBlocks(_ state: inout State) -> Int {
        let block = self.block
        // The open scan's frames: up to the next scan boundary.
        let end = state.items.firstIndex { if case .frame = $0 { false } else { true } } ?? state.items.endIndex
        let blocks = state.items[..<end].compactMap { work -> Int? in
            if case let .frame(item) = work, let ordinal = item.foregroundOrdinal { ordinal / block } else { nil }
        }
        guard let newest = blocks.max(), blocks.contains(where: { $0 != newest && $0 != state.current }) else { return 0 }
        var kept = Deque<Work>()
        var dropped = 0
        for (index, work) in state.items.enumerated() {
            if index < end, case let .frame(item) = work, let ordinal = item.foregroundOrdinal,
               ordinal / block != newest, ordinal / block != state.current {
                dropped += 1
            } else {
                kept.append(work)
            }
        }
        state.items = kept
        state.frames -= dropped
        return dropped
    }

    /// Frames waiting.
    var frames: Int { state.withLock { $0.frames } }

    /// Whether anything waits (catch-up gives way to the next scan's work).
    var hasWork: Bool { state.withLock { !$0.items.isEmpty } }
}
