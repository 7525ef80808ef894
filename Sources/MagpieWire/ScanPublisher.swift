import Foundation

/// The sending side of magpie-stream v1 for one scan at a time: numbers frames with the
/// process-wide sequence, repeats scan-start at its interval while the scan runs, paces frames
/// to a rate, and ends the scan. Used by `magpie publish` and `magpie replay`.
public final class ScanPublisher {
    public enum Rate: Equatable, Sendable {
        /// As fast as the socket takes them.
        case maximum
        case framesPerSecond(Double)
    }

    public let socket: ZeroMQSocket
    /// The sequence number of the next frame message.
    public private(set) var nextSequence: UInt64 = 0
    public private(set) var messagesSent = 0

    public init(socket: ZeroMQSocket) {
        self.socket = socket
    }

    public static func nanosecondsSinceEpoch() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1e9) }

    /// Streams one scan: scan-start, then `frameCount` frames from `frame(i)` (flags and raw values
    /// of frame i as the scan's sample type), then scan-end. Returns the frames sent.
    @discardableResult
    public func publish(_ start: ScanStart, frameCount: Int, rate: Rate,
                        frame: (Int) throws -> (flags: FrameFlags, payload: Data)) throws -> Int {
        var start = start
        try send(.scanStart(start))
        var lastRepeat = DispatchTime.now()
        let began = DispatchTime.now()
        for index in 0..<frameCount {
            if case let .framesPerSecond(perSecond) = rate {
                let due = began.uptimeNanoseconds + UInt64(Double(index) / perSecond * 1e9)
                let now = DispatchTime.now().uptimeNanoseconds
                if due > now { usleep(UInt32(min((due - now) / 1000, 1_000_000))) }
            }
            let now = DispatchTime.now()
            if Double(now.uptimeNanoseconds - lastRepeat.uptimeNanoseconds) / 1e9 >= start.repeatIntervalSeconds {
                start.repeatIndex += 1
                try send(.scanStart(start))
                lastRepeat = now
            }
            let (flags, payload) = try frame(index)
            let time = Self.nanosecondsSinceEpoch()
            let header = FrameHeader(scanID: start.scanID, sequence: nextSequence, frame: index, periods: start.periodsPerFrame,
                                     flags: flags, timeNs: time, sentNs: time, sampleType: start.sampleType, shape: start.frameShape)
            try send(.frame(header, payload: payload))
            nextSequence &+= 1
        }
        try send(.scanEnd(ScanEnd(scanID: start.scanID, framesSent: frameCount, lastSequence: frameCount > 0 ? nextSequence &- 1 : nil,
                                  status: .complete, timeNs: Self.nanosecondsSinceEpoch())))
        return frameCount
    }

    public func send(_ message: StreamMessage) throws {
        try socket.send(StreamCodec.encode(message))
        messagesSent += 1
    }
}
