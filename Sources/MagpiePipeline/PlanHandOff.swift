import MagpiePlan
import Synchronization

/// A plan as processing runs it: its steps, built, and the configuration they came from.
struct ProcessingPlan {
    let runner: PlanRunner
    let config: DaemonConfig
}

/// A plan on its way to the processing thread from where it was built (the daemon's start, a
/// reload): the one thread that takes it runs it.
final class PlanHandOff: Sendable {
    private let plan: Mutex<ProcessingPlan?>

    init(_ plan: consuming sending ProcessingPlan) { self.plan = Mutex(plan) }

    func take() -> ProcessingPlan? { plan.withLock { $0.take() } }
}
