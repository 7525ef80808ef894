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
}
