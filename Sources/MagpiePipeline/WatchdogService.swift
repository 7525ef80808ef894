import Foundation
import ServiceLifecycle

/// systemd's watchdog (WatchdogSec): WATCHDOG=1 at half the interval, only while the intake and
/// processing loops both went round within the last 10 s, so a hung thread gets the daemon
/// restarted. Its graceful shutdown comes first and says STOPPING=1.
final class WatchdogService: Service {
    private let notifier: SystemdNotifier
    private let beats: [Heartbeat]

    init(notifier: SystemdNotifier, watching beats: [Heartbeat]) {
        (self.notifier, self.beats) = (notifier, beats)
    }

    func run() async throws {
        defer { notifier.notify("STOPPING=1") }
        guard let interval = notifier.watchdogInterval else {
            try? await gracefulShutdown()
            return
        }
        let (notifier, beats) = (self.notifier, self.beats)
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
                if beats.allSatisfy({ $0.isRecent(within: 10) }) { notifier.notify("WATCHDOG=1") }
            }
        }
    }
}
