import Foundation
import Synchronization

/// When a service's loop last went round: the watchdog pings systemd only while every beat is recent.
final class Heartbeat: Sendable {
    private let last = Atomic<UInt64>(DispatchTime.now().uptimeNanoseconds)

    func beat() { last.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed) }

    func isRecent(within seconds: Double) -> Bool {
        let now = DispatchTime.now().uptimeNanoseconds, then = last.load(ordering: .relaxed)
        return now < then || Double(now - then) / 1e9 < seconds
    }
}
