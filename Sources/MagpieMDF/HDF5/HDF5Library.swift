import CHDF5

/// Process-wide facts about the HDF5 library and its error stack.
public enum HDF5Library {
    /// "1.10.8" for the library this process is linked against.
    public static var version: String {
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        H5get_libversion(&major, &minor, &release)
        return "\(major).\(minor).\(release)"
    }

    /// HDF5 prints its error stack to stderr by default. Magpie turns the stack into Swift errors
    /// instead. In a thread-safe build the setting belongs to the calling thread, so every entry
    /// point calls this before it touches the library.
    static func silenceErrorPrinting() {
        H5Eset_auto2(mp_H5E_DEFAULT(), nil, nil)
    }

    /// The current thread's error stack as one line, outermost call first and the innermost
    /// cause last (e.g. "unable to open file: file signature not found"); the stack is cleared.
    static func takeErrorStack() -> String {
        final class Messages { var lines: [String] = [] }
        let messages = Messages()
        let context = Unmanaged.passUnretained(messages).toOpaque()
        H5Ewalk2(mp_H5E_DEFAULT(), H5E_WALK_DOWNWARD, { _, entry, context in
            guard let entry, let context, let text = entry.pointee.desc else { return 0 }
            let messages = Unmanaged<Messages>.fromOpaque(context).takeUnretainedValue()
            let line = String(cString: text)
            if !line.isEmpty && messages.lines.last != line { messages.lines.append(line) }
            return 0
        }, context)
        H5Eclear2(mp_H5E_DEFAULT())
        switch messages.lines.count {
        case 0: return "HDF5 reported a failure without a message"
        case 1: return messages.lines[0]
        default: return "\(messages.lines.first!): \(messages.lines.last!)"
        }
    }
}
