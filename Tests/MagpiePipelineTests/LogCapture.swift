import Foundation
import Logging
import MagpiePipeline
import Synchronization

/// A logger whose lines (the daemon's own format) are kept for the test to read.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var logger: Logger {
        Logger(label: "test") { _ in DaemonLogHandler { line in self.lines.withLock { $0.append(line) } } }
    }

    var all: [String] { lines.withLock { $0 } }

    /// The index of the first line containing `text`.
    func index(of text: String) -> Int? { all.firstIndex { $0.contains(text) } }
}
