import ArgumentParser
import Foundation
import MagpieCore
import MagpieMDF
import MagpiePipeline

struct DaemonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Receive scans from the scanner, archive, reconstruct and write one MDF per scan.",
        discussion: """
            Subscribes (or pulls) magpie-stream v1 from [input] endpoint, writes every accepted frame
            to the scan's journal in [output] directory before processing it, runs the reconstruction
            plan of [pipeline] stages (background, average, denoise, one reconstruction, deblur; the
            plan magpie reconstruct runs too) and writes each scan as an MDF file with its raw frames,
            images, the plan and provenance, and counters. Journals left by a killed daemon become MDF
            files at the next start; one that cannot is moved to quarantine/ (magpie recover). SIGTERM
            or SIGINT: stop intake, finish the open scan as incomplete, drain, exit 0. Counters are
            served as Prometheus text on [metrics] listen. See systemd/magpie.toml for every key.

            Example:
              magpie daemon --config /etc/magpie/magpie.toml
            """
    )

    @Option(help: "The TOML configuration file.") var config: String

    func run() throws {
        // SIGTERM and SIGINT only raise a flag; the intake loop sees it within 100 ms, then drains.
        signal(SIGTERM) { _ in stopSignal = 1 }
        signal(SIGINT) { _ in stopSignal = 1 }
        let daemon: Daemon
        let metrics: MetricsServer?
        do {
            let settings = try DaemonConfig.load(config)
            daemon = try Daemon(config: settings, log: Self.log)
            daemon.recover()
            metrics = try settings.metricsListen.isEmpty ? nil
                : MetricsServer(address: MetricsAddress(settings.metricsListen)!, counters: daemon.counters)
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
        if let metrics { Self.log("metrics on http://\(metrics.address.host):\(metrics.address.port)/metrics") }

        let notifier = SystemdNotifier()
        var lastPing = DispatchTime(uptimeNanoseconds: 0)
        do {
            try daemon.run(ready: { notifier.notify("READY=1\nSTATUS=receiving") }, tick: { processingAlive in
                if stopSignal != 0 {
                    stopSignal = 0
                    Self.log("signal received: stopping")
                    daemon.stop()
                }
                guard processingAlive, let interval = notifier.watchdogInterval else { return }
                let now = DispatchTime.now()
                if Double(now.uptimeNanoseconds - lastPing.uptimeNanoseconds) / 1e9 >= interval {
                    notifier.notify("WATCHDOG=1")
                    lastPing = now
                }
            })
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
        notifier.notify("STOPPING=1")
        _ = metrics
    }

    /// One line on stderr with a UTC timestamp (the journal of systemd keeps it).
    static func log(_ message: String) {
        FileHandle.standardError.write(Data("\(MDF.timestamp()) magpie: \(message)\n".utf8))
    }
}

/// Set by the SIGTERM and SIGINT handlers (an async-signal-safe store), read by the intake loop.
nonisolated(unsafe) private var stopSignal: sig_atomic_t = 0
