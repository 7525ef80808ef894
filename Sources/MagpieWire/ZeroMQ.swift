import CZeroMQ

/// Facts about the linked ZeroMQ library. The stream protocol's sockets build on this module.
public enum ZeroMQ {
    /// "4.3.4" for the library this process is linked against.
    public static var version: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }
}
