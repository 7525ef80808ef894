import Foundation
import Logging
import MagpiePlan
import ServiceLifecycle
import UnixSignals

/// `systemctl reload` (SIGHUP): reads the configuration file again, builds its plan (models and
/// matrices loaded and verified) on a thread of its own, and hands it to processing, which runs it
/// from the next scan start on; the stream and an open scan go on undisturbed. A file that cannot
/// be read or a plan that cannot be built is logged and the running plan stays. Settings outside
/// the plan ([input], [output], [console], the queue's length) need a restart, and are said so.
final class ReloadService: Service {
    private let config: DaemonConfig
    private let processing: ProcessingService
    private let queue: WorkQueue
    private let logger: Logger

    init(config: DaemonConfig, processing: ProcessingService, queue: WorkQueue, logger: Logger) {
        (self.config, self.processing, self.queue, self.logger) = (config, processing, queue, logger)
    }

    func run() async throws {
        guard let path = config.path else {   // parsed from text (tests): nothing to read again
            try? await gracefulShutdown()
            return
        }
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            await reload(path)
        }
    }

    private func reload(_ path: String) async {
        logger.info("SIGHUP: reading \(path) again")
        do {
            let new = try DaemonConfig.load(path)
            let restart = new.restartOnlyChanges(from: config)
            if !restart.isEmpty {
                logger.warning("\(restart.joined(separator: ", ")) changed in \(path): not applied until the daemon restarts")
            }
            let plan = try await DedicatedThread.run(name: "magpie-reload") {
                PlanHandOff(ProcessingPlan(runner: try PlanRunner(new.plan, context: PlanContext(manifest: new.models)), config: new))
            }
            processing.adopt(plan)
            // Frames from now on when the new plan makes images (the open scan's come too; its old plan takes them).
            if new.plan.method != nil { queue.takesFrames = true }
            logger.info("reloaded: stages \(new.plan.steps.map(\.name).joined(separator: ", ")) from the next scan on")
        } catch {
            logger.error("reload refused, the running plan stays: \(error)")
        }
    }
}
