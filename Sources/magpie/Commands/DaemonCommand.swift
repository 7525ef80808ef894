import ArgumentParser
import Foundation
import Logging
import MagpiePipeline
import MagpiePlan

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Receive scans from the scanner, archive, reconstruct and write one MDF per scan.",
        discussion: """
            Subscribes (or pulls) magpie-stream v1 from [input] endpoint and writes every accepted frame to the scan's \
            journal in [output] directory before processing it. Runs the reconstruction plan of [pipeline] stages (the \
            plan magpie reconstruct runs too; stages: \(PlanSteps.names.joined(separator: ", "))) and writes each scan \
            as an MDF file with its raw frames, images, the plan and its provenance, and counters. A scan whose live \
            processing skipped frames is caught up from its journal at its end ([pipeline] catch_up_seconds).

            Journals left by a killed daemon become MDF files at the next start; one that cannot is moved to \
            quarantine/ (magpie recover). SIGTERM or SIGINT: intake stops, the open scan is finished as incomplete, \
            processing drains, the last file is written, exit 0. The console (the operator's page, a JSON API, live \
            streams and Prometheus metrics at /metrics) is served on [console] listen, 127.0.0.1:9464 by default: \
            open http://127.0.0.1:9464/ in a browser. systemd/magpie.toml documents every key.

            Example:
              magpie daemon --config /etc/magpie/magpie.toml
            """
    )

    @Option(help: "The TOML configuration file.") var config: String

    func run() async throws {
        var logger = Logger(label: "magpie") { _ in DaemonLogHandler() }
        logger.logLevel = .info
        let daemon: Daemon
        do {
            daemon = try Daemon(config: try DaemonConfig.load(config), logger: logger)
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
        do {
            try await daemon.run()
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }
}
