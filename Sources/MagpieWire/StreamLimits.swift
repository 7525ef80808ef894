/// The bounds a magpie-stream v1 receiver holds every header number to (protocols/magpie-stream-v1.md,
/// "Limits"). Each is far above what any MPI scanner sends (the largest preset, openmpi-3d, has
/// 53 856 samples x 3 channels x 1 period = 646 kB per frame) and low enough that every size
/// computed from them fits in 64 bits, so no sender can make a receiver overflow, trap or
/// allocate without bound.
public enum StreamLimits {
    /// Periods per frame (J).
    public static let maximumPeriods = 65_536
    /// Receive channels (C).
    public static let maximumChannels = 1_024
    /// Samples per period (V).
    public static let maximumSamples = 1 << 24
    /// Bytes of one frame payload: J x C x V x element size. Also ZeroMQ's default maximum message size.
    public static let maximumPayloadBytes = 256 << 20
    /// Frame indices are below this; frames_planned and frames_sent are at most this (2^32: 32 days at 1532 frames/s).
    public static let maximumFrames = 1 << 32
    /// A jump of `sequence` by more than this, up or down, is not a gap or a reordering but a
    /// sender that restarted or sent a wild value: the receiver counts afresh from it.
    public static let maximumSequenceJump: UInt64 = 1 << 32
    /// Drive-field channels (D) and frequencies per channel (F).
    public static let maximumDriveChannels = 16
    public static let maximumDriveFrequencies = 64
    /// A drive-field divider (and the least common multiple of a scan's dividers).
    public static let maximumDivider: Int64 = 1 << 40
    /// Tracers in one scan.
    public static let maximumTracers = 64
    /// Nesting depth of a header's JSON (the deepest field, acquisition.gradient, is at depth 7).
    public static let maximumJSONDepth = 16
    /// Parts of one message kept; a message with more is rejected without keeping their bytes.
    public static let maximumParts = 4

    /// J x C x V x `elementSize` in bytes, or nil when it exceeds `maximumPayloadBytes` (checked arithmetic throughout).
    public static func payloadBytes(_ shape: [Int], elementSize: Int) -> Int? {
        var total = elementSize
        for extent in shape {
            guard extent >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: extent)
            guard !overflow, product <= maximumPayloadBytes else { return nil }
            total = product
        }
        return total
    }
}
