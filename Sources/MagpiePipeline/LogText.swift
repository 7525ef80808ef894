/// Text from a sender (scan ids, metadata, reasons) made safe for a one-line log: control
/// characters and backslashes escaped, so a newline in a scan id cannot forge a log line.
public enum LogText {
    public static func escaped(_ text: some StringProtocol) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029:
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A scan id as it may appear in a file name: ASCII letters, digits and `-` only (others
    /// dropped), at most `limit` characters, "scan" when nothing is left.
    public static func fileSafe(_ scanID: String, limit: Int = 64) -> String {
        let kept = scanID.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") }
        let safe = String(String.UnicodeScalarView(kept.prefix(limit)))
        return safe.isEmpty ? "scan" : safe
    }
}
