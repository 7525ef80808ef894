import Foundation
import Logging
import MagpieNeural
import MagpiePlan
import Prometheus
import ServiceLifecycle

/// `magpie daemon`: receives magpie-stream v1, archives every accepted frame in the scan's
/// journal before anything else happens to it, runs the reconstruction plan behind a bounded
/// queue, and turns each scan into one MDF file in the output directory. It is a group of
/// services (swift-service-lifecycle), started in this order and stopped in the reverse one:
///
/// - console: the HTTP server (page, JSON API, live streams, Prometheus metrics; stopped last, so it answers while the daemon drains);
/// - scan writer: journal + images -> MDF, retention; recovery of killed scans before the rest starts;
/// - processing: the plan, on its own thread;
/// - reload: SIGHUP reads the configuration again and hands processing the new plan;
/// - intake: socket -> journal -> queue, on its own thread;
/// - watchdog: systemd's WATCHDOG=1 while intake and processing go round (stopped first: STOPPING=1).
///
/// SIGTERM or SIGINT: intake stops and closes the open scan as incomplete, processing drains the
/// queue, the writer writes the last file, and `run` returns. SIGHUP: a reload (`ReloadService`).
public final class Daemon: Sendable {
    public let config: DaemonConfig
    public let counters: Counters
    /// Every metric the daemon exports.
    public let registry = PrometheusCollectorRegistry()
    public let writer: ScanWriter
    /// What the console shows live.
    public let live = LiveView()
    private let services: [ServiceGroupConfiguration.ServiceConfiguration]
    private let logger: Logger

    /// Checks the output directory, builds the plan (models and matrices loaded and verified) and
    /// checks the console's address and token, so that every configuration error shows before anything listens.
    /// `written` is called with each scan file's path once it is complete.
    public init(config: DaemonConfig, logger: Logger, notifier: SystemdNotifier = SystemdNotifier(),
                written: @escaping @Sendable (String) -> Void = { _ in }) throws {
        self.config = config
        self.logger = logger
        do {
            try FileManager.default.createDirectory(atPath: config.directory, withIntermediateDirectories: true)
        } catch {
            throw PipelineError.config("output directory \(config.directory) cannot be created: \(error.localizedDescription)")
        }
        guard FileManager.default.isWritableFile(atPath: config.directory) else {
            throw PipelineError.config("output directory \(config.directory) is not writable")
        }
        TorchModule.threads = config.torchThreads
        let runner = try PlanRunner(config.plan, context: PlanContext(manifest: config.models))
        let factory = PrometheusMetricsFactory(registry: registry)
        counters = Counters(factory: factory)
        let queue = WorkQueue(capacity: config.queueLength, block: config.plan.step(AverageStep.self)?.effectiveFrames ?? 1,
                              takesFrames: config.plan.method != nil)
        writer = ScanWriter(config: config, logger: logger) { [counters, live] path, closure in
            counters.scanWritten(complete: closure.complete)
            live.scanWritten(path: path, scanID: closure.scanID, complete: closure.complete, status: closure.status)
            written(path)
        }
        let processing = ProcessingService(config: config, runner: runner, queue: queue, counters: counters, writer: writer,
                                           live: live, logger: logger, factory: factory)
        let intake = IntakeService(config: config, queue: queue, counters: counters, logger: logger) {
            notifier.notify("READY=1\nSTATUS=receiving")
        }
        for note in config.notes { logger.notice("\(note)") }
        let console = try config.consoleListen.isEmpty ? nil : ConsoleService(
            settings: .init(address: ListenAddress(config.consoleListen)!, token: config.consoleTokenFile.map(Self.token), updateRate: config.consoleUpdateRate),
            sources: .init(config: config, counters: counters, live: live, registry: registry, queueFrames: { [queue] in queue.frames }),
            logger: logger)
        let watchdog = WatchdogService(notifier: notifier, watching: [intake.heartbeat, processing.heartbeat])
        let reload = ReloadService(config: config, processing: processing, queue: queue, logger: logger)
        services = ([console, writer, processing, reload, intake, watchdog] as [(any Service)?]).compactMap { $0 }.map {
            ServiceGroupConfiguration.ServiceConfiguration(service: $0)
        }
    }

    /// The console's token: the file's text without surrounding white space, 16 characters or more.
    private static func token(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError.config("[console] token_file \(path) cannot be read")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard token.count >= 16, token.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != ";" && $0 != "," && $0 != "\"" }) else {
            throw PipelineError.config("[console] token_file \(path) must hold one token of 16 or more printable ASCII characters "
                                       + "(no spaces, ';', ',' or '\"'), e.g. from: head -c 24 /dev/urandom | base64")
        }
        return token
    }

    /// The services as one group; `signals`: SIGTERM and SIGINT shut it down gracefully.
    public func serviceGroup(signals: Bool = true) -> ServiceGroup {
        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        if signals { configuration.gracefulShutdownSignals = [.sigterm, .sigint] }
        return ServiceGroup(configuration: configuration)
    }

    /// Recovers what a killed daemon left, then runs the services until a signal stops them.
    public func run() async throws {
        writer.recover()
        try await serviceGroup().run()
        logger.info("stopped; totals: \(counters.total.summary)")
    }
}
