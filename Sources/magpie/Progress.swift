import Foundation

/// Progress on stderr for long work, one line rewritten in place on a terminal.
enum Progress {
    static func report(_ what: String, _ done: Int, _ total: Int) {
        let line = "\(what): \(done)/\(total)"
        let terminal = isatty(STDERR_FILENO) != 0
        FileHandle.standardError.write(Data((terminal ? "\r\(line)" + (done == total ? "\n" : "") : line + "\n").utf8))
    }

    /// A step that takes a while and has no count.
    static func note(_ what: String) {
        FileHandle.standardError.write(Data("\(what)\n".utf8))
    }

    /// A bar with the time left, estimated from the rate so far: "what [#####-----] 12/40, 8 s left".
    struct Bar {
        let what: String, total: Int, start = Date()
        private var last = Date.distantPast

        init(_ what: String, total: Int) {
            (self.what, self.total) = (what, total)
        }

        mutating func update(_ done: Int) {
            let now = Date()
            guard done == total || now.timeIntervalSince(last) >= 0.2 else { return }
            last = now
            let width = 30, filled = total > 0 ? width * done / total : width
            let elapsed = now.timeIntervalSince(start)
            let left = done > 0 ? elapsed / Double(done) * Double(total - done) : .nan
            let eta = done == total ? String(format: "%.1f s", elapsed) : left.isFinite ? String(format: "%.0f s left", left.rounded(.up)) : "..."
            let line = "\(what) [" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] \(done)/\(total), \(eta)"
            let terminal = isatty(STDERR_FILENO) != 0
            guard terminal || done == total || done * 10 / max(total, 1) != (done - 1) * 10 / max(total, 1) else { return }
            FileHandle.standardError.write(Data((terminal ? "\r\(line)" + (done == total ? "\n" : "") : line + "\n").utf8))
        }
    }
}
