/// Magpie's own version, recorded in every file it writes and shown by `magpie --version`.
public enum MagpieVersion {
    public static let string = "0.1.0"
}
